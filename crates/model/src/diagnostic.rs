//! Diagnostics: what a parser reports instead of failing or panicking.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    /// Something odd that did not stop the work (an unknown field, a version that does not parse).
    Warning,
    /// Part of the input could not be read: results are partial.
    Error,
}

/// One problem found while reading input, tied to where it was found.
///
/// Every reader returns its results *and* its diagnostics; the CLI prints each
/// as one line: `path:line:column: level: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Warning or error.
    pub level: DiagnosticLevel,
    /// The file (or other input name) the problem is in.
    pub path: String,
    /// 1-based line, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// What is wrong, and where useful what to do about it. No trailing full stop.
    pub message: String,
}

impl Diagnostic {
    /// An error diagnostic.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level: DiagnosticLevel::Error,
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A warning diagnostic.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level: DiagnosticLevel::Warning,
            ..Self::error(path, message)
        }
    }

    /// Attach a 1-based line (and optionally column) position.
    #[must_use]
    pub fn at(mut self, line: u32, column: Option<u32>) -> Self {
        self.line = Some(line);
        self.column = column;
        self
    }

    /// True for errors (partial results), false for warnings.
    pub fn is_error(&self) -> bool {
        self.level == DiagnosticLevel::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        let level = match self.level {
            DiagnosticLevel::Warning => "warning",
            DiagnosticLevel::Error => "error",
        };
        write!(f, ": {level}: {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_path_position_and_level() {
        let d = Diagnostic::error("Cargo.lock", "expected a version").at(12, Some(3));
        assert_eq!(d.to_string(), "Cargo.lock:12:3: error: expected a version");
        let w = Diagnostic::warning("x", "odd");
        assert_eq!(w.to_string(), "x: warning: odd");
        assert!(!w.is_error());
    }
}
