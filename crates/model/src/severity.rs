//! Severity ratings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A qualitative severity, ordered from least to most severe.
///
/// `Unknown` sorts lowest, but the Cyber Essentials 14-day rule treats an
/// unrated flaw with a fix as high risk (see [`crate::Finding::ce_14_day`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No rating could be found or computed.
    #[default]
    Unknown,
    /// CVSS 0.0.
    None,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// The CVSS qualitative rating of a base score (v3.x and v4.0 share the bands).
    pub fn from_score(score: f64) -> Self {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::None
        }
    }

    /// Lower-case name, as used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Read an ecosystem's own word for severity: GHSA `MODERATE`, Ubuntu
    /// priorities (`negligible`, `untriaged`), Debian urgencies, RPM
    /// `Important`. Unknown words give `None` (the Rust value).
    pub fn from_word(word: &str) -> Option<Self> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "critical" | "urgent" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" | "end-of-life" => Severity::Low,
            "none" => Severity::None,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("unknown") {
            return Ok(Severity::Unknown);
        }
        Severity::from_word(s).ok_or_else(|| {
            format!("unknown severity {s:?}: use one of critical, high, medium, low, none, unknown")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::None);
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
        assert_eq!("MODERATE".parse::<Severity>().unwrap(), Severity::Medium);
        assert!("bad".parse::<Severity>().is_err());
    }
}
