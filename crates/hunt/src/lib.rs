//! `portcullis hunt`: Sigma rules (bundled or given) over Windows, Linux and
//! cloud sign-in logs, in parallel, with correlations in event time.
//!
//! - [`Mapping`]: the logsource/field mapping table (`mappings/default.yml`,
//!   embedded; `--mapping FILE` replaces it).
//! - [`bundled`]: the shipped rules and their tunable thresholds.
//! - [`Hunt::new`] loads and compiles the rules; [`Hunt::run`] reads the
//!   inputs and streams [`Detection`]s to a callback, returning a
//!   [`HuntReport`].
//! - [`output`]: JSONL, CSV and the timeline table with its summaries.
//! - [`check_rules`]: the rules that cannot be used, with the reason.
#![deny(missing_docs)]

pub mod bundled;
pub mod engine;
pub mod mapping;
pub mod output;
mod runner;

pub use engine::{RuleIssue, RuleText};
pub use mapping::{LogSourceKey, Mapping};
pub use runner::{HuntReport, InputProblem};

use engine::Engine;
use portcullis_model::Diagnostic;
use std::path::PathBuf;

/// A Sigma rule level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational`.
    Informational,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Level {
    /// Parse a Sigma level name (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The Sigma name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event a detection rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRef {
    /// The file (as given, `-` for standard input).
    pub file: String,
    /// EVTX `EventRecordID`.
    pub record_id: Option<u64>,
    /// 1-based line number (line formats).
    pub line: Option<u64>,
    /// Event time, microseconds since the epoch (UTC), when known.
    pub time: Option<i64>,
    /// Fields that matched (name, value as text).
    pub fields: Vec<(String, String)>,
}

/// Correlation details of a detection.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationInfo {
    /// `event_count`, `value_count`, `temporal` or `temporal_ordered`.
    pub kind: String,
    /// Group-by values.
    pub group: Vec<(String, Option<String>)>,
    /// Window start and end (µs since the epoch).
    pub window: (i64, i64),
    /// The count that met the condition.
    pub count: u64,
    /// The distinct values counted (value_count).
    pub distinct: Vec<String>,
}

/// One detection: a single-event hit, or a correlation window that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Sigma `id`.
    pub rule_id: String,
    /// Rule title.
    pub title: String,
    /// Rule level.
    pub level: Level,
    /// Rule tags (ATT&CK tags among them).
    pub tags: Vec<String>,
    /// When (the event's time, or the end of the correlation window).
    pub time: Option<i64>,
    /// Host, when known.
    pub host: Option<String>,
    /// User, when known.
    pub user: Option<String>,
    /// Source address (or workstation), when known.
    pub source: Option<String>,
    /// A one-line summary.
    pub summary: String,
    /// Correlation details (None for single-event rules).
    pub correlation: Option<CorrelationInfo>,
    /// The events it rests on.
    pub events: Vec<EventRef>,
}

impl Detection {
    /// ATT&CK technique ids from the tags (`attack.t1110.003` → `T1110.003`).
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter_map(|t| {
                let rest = t.strip_prefix("attack.")?;
                let tail = rest.strip_prefix('t')?;
                tail.bytes()
                    .next()
                    .filter(u8::is_ascii_digit)
                    .map(|_| format!("T{}", tail.to_ascii_uppercase()))
            })
            .collect()
    }
}

/// Options of a hunt.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// Rule trees given with `--rules`.
    pub rule_paths: Vec<PathBuf>,
    /// Whether the bundled rules run (default: only when no `--rules`).
    pub bundled: bool,
    /// Tunable settings (see [`bundled::parse_settings`]).
    pub settings: Vec<(String, String)>,
    /// The mapping table.
    pub mapping: Mapping,
    /// Lowest level reported.
    pub min_level: Level,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Year for syslog lines without one.
    pub year: Option<i32>,
    /// Read and count events without matching (for benchmarks).
    pub parse_only: bool,
    /// Most correlation groups held at once.
    pub correlation_state_cap: usize,
    /// Most matched events buffered for time ordering before they are fed
    /// to the correlation engine (later, older events are then counted late).
    pub correlation_buffer_cap: usize,
    /// Plain syslog and JSONL files at least this large are read in byte
    /// ranges on all workers (0: never; default 64 MiB).
    pub split_bytes: u64,
    /// The size of those ranges (default 16 MiB).
    pub range_bytes: u64,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            rule_paths: Vec::new(),
            bundled: true,
            settings: Vec::new(),
            mapping: Mapping::builtin(),
            min_level: Level::Low,
            threads: 0,
            year: None,
            parse_only: false,
            correlation_state_cap: 100_000,
            correlation_buffer_cap: 20_000,
            split_bytes: 64 << 20,
            range_bytes: 16 << 20,
        }
    }
}

/// Loaded, compiled rules ready to run over inputs.
#[derive(Debug)]
pub struct Hunt {
    engine: Engine,
    options: HuntOptions,
}

fn rule_texts(options: &HuntOptions) -> Vec<RuleText> {
    let mut out = Vec::new();
    if options.bundled {
        for (name, text) in bundled::BUNDLED_RULES {
            out.push(RuleText::Inline(
                format!("<bundled>/{name}"),
                bundled::apply_settings(text, &options.settings),
            ));
        }
    }
    for p in &options.rule_paths {
        out.push(RuleText::Path(p.clone()));
    }
    out
}

impl Hunt {
    /// Load and compile the rules. The issues list the rules skipped.
    pub fn new(options: HuntOptions) -> (Hunt, Vec<RuleIssue>) {
        let (engine, issues) = Engine::build(&rule_texts(&options), &options.mapping);
        (Hunt { engine, options }, issues)
    }

    /// Number of rules loaded (detection and correlation).
    pub fn rule_count(&self) -> usize {
        self.engine.active()
    }

    /// Run over the inputs, streaming detections at or above the minimum
    /// level to `sink` (single-event hits as files are read; correlation
    /// hits in event-time order once the inputs are read).
    pub fn run(&self, inputs: &[PathBuf], sink: &mut dyn FnMut(Detection)) -> HuntReport {
        runner::run(&self.engine, &self.options, inputs, sink)
    }
}

/// Load rule trees and list the rules that cannot be used.
/// Returns (rules loaded, issues).
pub fn check_rules(paths: &[PathBuf], mapping: &Mapping) -> (usize, Vec<RuleIssue>) {
    let texts: Vec<RuleText> = paths.iter().cloned().map(RuleText::Path).collect();
    let (engine, issues) = Engine::build(&texts, mapping);
    (engine.active(), issues)
}

/// A rule issue as one line of `rules check` output:
/// `path:line: kind: title (id): reason`.
pub fn issue_line(i: &RuleIssue) -> String {
    let mut s = i.path.clone();
    if let Some(l) = i.line {
        s.push_str(&format!(":{l}"));
    }
    s.push_str(&format!(": {}: ", i.kind));
    if let Some(t) = &i.title {
        s.push_str(t);
        if let Some(id) = &i.rule_id {
            s.push_str(&format!(" ({id})"));
        }
        s.push_str(": ");
    }
    s.push_str(&i.reason);
    s
}

/// A rule issue as a one-line diagnostic.
pub fn issue_diagnostic(i: &RuleIssue) -> Diagnostic {
    let mut msg = String::new();
    if let Some(t) = &i.title {
        msg.push_str(&format!("rule {t:?}"));
        if let Some(id) = &i.rule_id {
            msg.push_str(&format!(" ({id})"));
        }
        msg.push_str(" skipped: ");
    } else {
        msg.push_str("rule skipped: ");
    }
    msg.push_str(&i.reason);
    let d = Diagnostic::warning(i.path.clone(), msg);
    match i.line {
        Some(l) => d.at(l, None),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_and_parse() {
        assert!(Level::Critical > Level::High && Level::Low > Level::Informational);
        assert_eq!(Level::parse(" HIGH"), Some(Level::High));
        assert_eq!(Level::parse("severe"), None);
        assert_eq!(Level::Medium.to_string(), "medium");
    }

    #[test]
    fn attack_techniques_from_tags() {
        let d = Detection {
            rule_id: "x".into(),
            title: "t".into(),
            level: Level::High,
            tags: vec![
                "attack.credential-access".into(),
                "attack.t1110.003".into(),
                "attack.t1078".into(),
                "cve.2021-1".into(),
            ],
            time: None,
            host: None,
            user: None,
            source: None,
            summary: String::new(),
            correlation: None,
            events: vec![],
        };
        assert_eq!(d.attack_techniques(), vec!["T1110.003", "T1078"]);
    }
}
