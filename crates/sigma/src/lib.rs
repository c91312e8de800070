//! A Sigma rule engine: rule parsing ([`RuleSet`]), compilation against a
//! caller-supplied field mapping ([`Engine`]), matching with the full Sigma
//! modifier set, and Sigma v2 correlations with bounded memory
//! ([`CorrelationEngine`]). See `crates/sigma/README.md`.
#![deny(missing_docs)]

mod cond;
mod correlation;
mod engine;
mod kwscan;
mod pred;
mod rule;
mod yaml;

pub use correlation::{CorrelationEngine, CorrelationHit, CorrelationLimits, CorrelationStats};
pub use engine::{
    Engine, FieldMapping, IdentityMapping, Match, Scratch, SourceFilter, SourceMatch,
};
pub use rule::{
    parse_timespan, CmpOp, Correlation, CorrelationType, Detection, Filter, Level, LogSource,
    Placeholders, Rule, RuleKind,
};

use portcullis_model::Diagnostic;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a rule in its [`RuleSet`].
pub type RuleIndex = usize;

/// Largest rule file read (bytes).
pub const MAX_RULE_FILE: u64 = 4 << 20;

/// Why a rule was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemKind {
    /// The file could not be read.
    Io,
    /// The YAML does not parse.
    Yaml,
    /// The document is not a valid Sigma rule.
    Malformed,
    /// A modifier the specification does not define.
    UnknownModifier,
    /// A valid Sigma feature this engine does not implement.
    Unsupported,
    /// A regular expression that does not compile.
    BadRegex,
    /// An `expand` placeholder without values.
    UnresolvedPlaceholder,
    /// A correlation or filter naming a rule that does not exist.
    UnknownReference,
    /// The mapping says the rule's logsource applies to no input.
    UnmappedLogsource,
    /// Another rule already uses this id.
    DuplicateId,
}

impl ProblemKind {
    /// A short name for counting.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Io => "io",
            ProblemKind::Yaml => "yaml",
            ProblemKind::Malformed => "malformed",
            ProblemKind::UnknownModifier => "unknown-modifier",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::BadRegex => "bad-regex",
            ProblemKind::UnresolvedPlaceholder => "unresolved-placeholder",
            ProblemKind::UnknownReference => "unknown-reference",
            ProblemKind::UnmappedLogsource => "unmapped-logsource",
            ProblemKind::DuplicateId => "duplicate-id",
        }
    }
}

/// A rule that was skipped, and why. Never fatal.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleProblem {
    /// The rule file.
    pub path: PathBuf,
    /// 1-based line (of the YAML error, or the document start).
    pub line: usize,
    /// The rule's `id`, when it could be read.
    pub rule_id: Option<String>,
    /// The rule's `title`, when it could be read.
    pub title: Option<String>,
    /// The category.
    pub kind: ProblemKind,
    /// What is wrong.
    pub message: String,
}

impl RuleProblem {
    /// As a warning diagnostic (`path:line: rule skipped: …`).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut msg = String::from("Sigma rule skipped");
        if let Some(t) = &self.title {
            msg.push_str(&format!(" ({t})"));
        }
        msg.push_str(": ");
        msg.push_str(&self.message);
        Diagnostic::warning(self.path.display().to_string(), msg)
            .at(u32::try_from(self.line).unwrap_or(u32::MAX), None)
    }
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Options for loading.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Values for `expand` placeholders (`%name%` → values).
    pub placeholders: Placeholders,
}

/// A set of parsed rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    /// Load rule files and directories (recursively: `.yml`/`.yaml`).
    pub fn load(paths: &[PathBuf]) -> (RuleSet, Vec<RuleProblem>) {
        Self::load_with(paths, &LoadOptions::default())
    }

    /// [`RuleSet::load`] with options.
    pub fn load_with(paths: &[PathBuf], options: &LoadOptions) -> (RuleSet, Vec<RuleProblem>) {
        let mut files = Vec::new();
        for p in paths {
            collect_files(p, &mut files, 0);
        }
        files.sort();
        files.dedup();
        let mut set = RuleSet::default();
        let mut problems = Vec::new();
        for f in files {
            let text = match read_limited(&f) {
                Ok(t) => t,
                Err(message) => {
                    problems.push(RuleProblem {
                        path: f.clone(),
                        line: 0,
                        rule_id: None,
                        title: None,
                        kind: ProblemKind::Io,
                        message,
                    });
                    continue;
                }
            };
            set.add_text(&text, &f, options, &mut problems);
        }
        set.check_ids(&mut problems);
        (set, problems)
    }

    /// Parse one YAML text (possibly several documents). Never panics.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, path: &Path) -> (RuleSet, Vec<RuleProblem>) {
        Self::from_str_with(text, path, &LoadOptions::default())
    }

    /// [`RuleSet::from_str`] with options.
    pub fn from_str_with(
        text: &str,
        path: &Path,
        options: &LoadOptions,
    ) -> (RuleSet, Vec<RuleProblem>) {
        let mut set = RuleSet::default();
        let mut problems = Vec::new();
        set.add_text(text, path, options, &mut problems);
        set.check_ids(&mut problems);
        (set, problems)
    }

    /// Add rules from another set.
    pub fn extend(&mut self, other: RuleSet) {
        self.rules.extend(other.rules);
    }

    fn add_text(
        &mut self,
        text: &str,
        path: &Path,
        options: &LoadOptions,
        problems: &mut Vec<RuleProblem>,
    ) {
        let arc: Arc<Path> = Arc::from(path);
        if let Some(pos) = text.find('\0') {
            let line = text[..pos].matches('\n').count() + 1;
            problems.push(RuleProblem {
                path: path.to_path_buf(),
                line,
                rule_id: None,
                title: None,
                kind: ProblemKind::Yaml,
                message: "file contains a NUL byte; not a YAML rule file".into(),
            });
            return;
        }
        let (docs, err) = yaml::load(text);
        for doc in docs {
            if matches!(doc.root, yaml::Node::Null) {
                continue; // empty document (e.g. trailing `---`)
            }
            let mut ctx = rule::Ctx {
                path: &arc,
                line: doc.line,
                id: None,
                title: None,
                placeholders: &options.placeholders,
            };
            match rule::parse_rule(&doc.root, &mut ctx) {
                Ok(r) => self.rules.push(r),
                Err(p) => problems.push(p),
            }
        }
        if let Some(e) = err {
            problems.push(RuleProblem {
                path: path.to_path_buf(),
                line: e.line,
                rule_id: None,
                title: None,
                kind: ProblemKind::Yaml,
                message: format!("YAML error at column {}: {}", e.column, e.message),
            });
        }
    }

    fn check_ids(&mut self, problems: &mut Vec<RuleProblem>) {
        let mut seen = std::collections::HashSet::new();
        let mut keep = Vec::with_capacity(self.rules.len());
        for r in std::mem::take(&mut self.rules) {
            if let Some(id) = &r.id {
                if !seen.insert(id.clone()) {
                    problems.push(RuleProblem {
                        path: r.path.to_path_buf(),
                        line: r.line,
                        rule_id: r.id.clone(),
                        title: Some(r.title.clone()),
                        kind: ProblemKind::DuplicateId,
                        message: format!("rule id {id} is used by an earlier rule; skipped"),
                    });
                    continue;
                }
            }
            keep.push(r);
        }
        self.rules = keep;
    }

    /// All rules, indexed by [`RuleIndex`].
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Find a rule by id or name.
    pub fn find(&self, id_or_name: &str) -> Option<RuleIndex> {
        self.rules
            .iter()
            .position(|r| r.id.as_deref() == Some(id_or_name))
            .or_else(|| {
                self.rules
                    .iter()
                    .position(|r| r.name.as_deref() == Some(id_or_name))
            })
    }
}

fn read_limited(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut buf = Vec::new();
    f.take(MAX_RULE_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > MAX_RULE_FILE {
        return Err(format!(
            "file larger than {MAX_RULE_FILE} bytes; not a rule file"
        ));
    }
    String::from_utf8(buf).map_err(|_| "file is not UTF-8 text".to_string())
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 {
        return;
    }
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    let path = e.path();
                    let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    if is_dir {
                        collect_files(&path, out, depth + 1);
                    } else if path.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                        out.push(path);
                    }
                }
            }
        }
        _ => out.push(p.to_path_buf()),
    }
}
