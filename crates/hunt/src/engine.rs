//! The seam to `portcullis-sigma`: rule loading, compilation against the
//! mapping, per-event matching and correlation.
//!
//! Everything rule-related is delegated to `portcullis-sigma`; this module
//! adapts the mapping table to its `FieldMapping` and its results to ours.

use crate::mapping::{LogSourceKey, Mapping};
use crate::Level;
use portcullis_events::{Event, Origin};
use portcullis_sigma as sigma;
use std::path::PathBuf;

/// Where rules come from.
#[derive(Debug, Clone)]
pub enum RuleText {
    /// A file or directory tree on disk.
    Path(PathBuf),
    /// A bundled rule: (name shown in messages, YAML text).
    Inline(String, String),
}

/// A rule that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleIssue {
    /// The rule file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// The rule's id, when it got that far.
    pub rule_id: Option<String>,
    /// The rule's title, when known.
    pub title: Option<String>,
    /// The category (`unsupported`, `malformed`, `unmapped-logsource`…).
    pub kind: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What the runner needs to know of a loaded rule.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Sigma `id`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: Level,
    /// Tags (ATT&CK among them).
    pub tags: Vec<String>,
    /// The logsource (detection rules).
    pub logsource: Option<LogSourceKey>,
    /// `Some(type)` for a correlation rule.
    pub correlation: Option<String>,
    /// Whether its own hits are reported (false for the base rules of a
    /// correlation, which Sigma v2 reports only when `generate: true`).
    pub emits: bool,
    /// Whether its matches feed a correlation.
    pub feeds_correlation: bool,
    /// A correlation's timespan in microseconds (0 for detections).
    pub timespan_us: i64,
}

/// The compiled rule set.
#[derive(Debug)]
pub struct Engine {
    inner: sigma::Engine,
    rules: Vec<RuleInfo>,
}

/// A single-event match.
#[derive(Debug, Clone)]
pub struct EventMatch {
    /// Index into [`Engine::rules`].
    pub rule: usize,
    /// The event fields that matched.
    pub fields: Vec<portcullis_events::FieldName>,
}

/// Per-thread scratch space for matching.
#[derive(Debug)]
pub struct Scratch {
    inner: sigma::Scratch,
    out: Vec<sigma::Match>,
}

/// A correlation window that fired.
#[derive(Debug, Clone)]
pub struct CorrelationHit {
    /// Index into [`Engine::rules`].
    pub rule: usize,
    /// Group-by field values.
    pub group: Vec<(String, Option<String>)>,
    /// Window start and end, microseconds since the epoch.
    pub window: (i64, i64),
    /// Events (event_count) or distinct values (value_count) counted.
    pub count: u64,
    /// The distinct values (value_count).
    pub distinct: Vec<String>,
    /// The contributing events (the first N).
    pub events: Vec<Origin>,
}

/// Correlation state counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    /// Groups evicted because the state cap was reached.
    pub state_cap_hits: u64,
    /// Events that arrived older than the engine's clock.
    pub late_events: u64,
    /// Old window entries dropped at the per-group event cap.
    pub event_cap_hits: u64,
    /// Values not counted at the per-group distinct-value cap.
    pub distinct_cap_hits: u64,
    /// Matched events lacking a group-by field (not counted).
    pub missing_group_field: u64,
}

/// The mapping table as the Sigma engine's [`sigma::FieldMapping`].
struct MappingAdapter<'m>(&'m Mapping);

fn key_of(ls: &sigma::LogSource) -> LogSourceKey {
    LogSourceKey::new(
        ls.product.as_deref(),
        ls.category.as_deref(),
        ls.service.as_deref(),
    )
}

impl sigma::FieldMapping for MappingAdapter<'_> {
    fn fields(&self, logsource: &sigma::LogSource, field: &str) -> Vec<String> {
        let key = key_of(logsource);
        let mut names = self.0.field_names(&key, field);
        let aliases = self.0.aliases_for(&key, field);
        if aliases.is_empty() {
            return names;
        }
        if names.is_empty() {
            names.push(field.to_string());
        }
        for a in aliases {
            if !names.contains(&a) {
                names.push(a);
            }
        }
        names
    }

    fn source(&self, logsource: &sigma::LogSource) -> sigma::SourceMatch {
        let entries = self.0.entries(&key_of(logsource));
        if entries.is_empty() {
            return sigma::SourceMatch::Unsupported;
        }
        let mut filters = Vec::new();
        for e in entries {
            // The engine dispatches on the first condition: EventID is far
            // more selective than Channel (Sysmon's categories share one
            // channel), so it goes first when present.
            let mut when = e.when.clone();
            when.sort_by_key(|(field, _)| field != "EventID");
            let kinds = e.kind.kinds();
            if kinds.is_empty() {
                filters.push(sigma::SourceFilter {
                    kind: None,
                    conditions: when.clone(),
                });
            }
            for k in kinds {
                filters.push(sigma::SourceFilter {
                    kind: Some(*k),
                    conditions: when.clone(),
                });
            }
        }
        sigma::SourceMatch::Only(filters)
    }
}

fn level_of(l: Option<sigma::Level>) -> Level {
    match l {
        Some(sigma::Level::Informational) => Level::Informational,
        Some(sigma::Level::Low) => Level::Low,
        Some(sigma::Level::Medium) | None => Level::Medium,
        Some(sigma::Level::High) => Level::High,
        Some(sigma::Level::Critical) => Level::Critical,
    }
}

fn issue_of(p: sigma::RuleProblem) -> RuleIssue {
    RuleIssue {
        path: p.path.display().to_string(),
        line: u32::try_from(p.line).ok().filter(|l| *l > 0),
        rule_id: p.rule_id,
        title: p.title,
        kind: p.kind.as_str().to_string(),
        reason: p.message,
    }
}

impl Engine {
    /// Load and compile rules against a mapping.
    pub fn build(sources: &[RuleText], mapping: &Mapping) -> (Engine, Vec<RuleIssue>) {
        let mut problems = Vec::new();
        let paths: Vec<PathBuf> = sources
            .iter()
            .filter_map(|s| match s {
                RuleText::Path(p) => Some(p.clone()),
                RuleText::Inline(..) => None,
            })
            .collect();
        let mut set = sigma::RuleSet::default();
        if !paths.is_empty() {
            let (s, p) = sigma::RuleSet::load(&paths);
            set.extend(s);
            problems.extend(p);
        }
        for s in sources {
            if let RuleText::Inline(name, text) = s {
                let (s, p) = sigma::RuleSet::from_str(text, std::path::Path::new(name));
                set.extend(s);
                problems.extend(p);
            }
        }
        let (inner, p) = sigma::Engine::compile(set, &MappingAdapter(mapping));
        problems.extend(p);
        let rules = inner
            .rule_set()
            .rules()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (correlation, logsource, timespan_us) = match &r.kind {
                    sigma::RuleKind::Correlation(c) => (
                        Some(c.kind.as_str().to_string()),
                        None,
                        c.timespan_secs.saturating_mul(1_000_000),
                    ),
                    _ => (None, Some(key_of(&r.logsource)), 0),
                };
                RuleInfo {
                    id: r
                        .id
                        .clone()
                        .or_else(|| r.name.clone())
                        .unwrap_or_else(|| r.title.clone()),
                    title: r.title.clone(),
                    level: level_of(r.level),
                    tags: r.tags.clone(),
                    logsource,
                    correlation,
                    emits: inner.reports_alone(i),
                    feeds_correlation: inner.feeds_correlation(i),
                    timespan_us,
                }
            })
            .collect();
        (
            Engine { inner, rules },
            problems.into_iter().map(issue_of).collect(),
        )
    }

    /// The loaded rules.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// The event fields the correlations fed by rule `rule` read.
    pub fn correlation_fields(&self, rule: usize) -> Vec<&str> {
        self.inner.correlation_fields(rule)
    }

    /// Number of rules that can fire (detections compiled plus correlations).
    pub fn active(&self) -> usize {
        self.inner.active_detections() + self.inner.active_correlations()
    }

    /// New per-thread scratch space.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            inner: self.inner.scratch(),
            out: Vec::new(),
        }
    }

    /// The rules an event matches.
    pub fn matches(&self, event: &Event, scratch: &mut Scratch, out: &mut Vec<EventMatch>) {
        scratch.out.clear();
        self.inner
            .matches(event, &mut scratch.inner, &mut scratch.out);
        out.extend(scratch.out.drain(..).map(|m| EventMatch {
            rule: m.rule,
            fields: m.fields,
        }));
    }
}

/// Correlation state (the Sigma engine's, with hits converted).
#[derive(Debug)]
pub struct Correlator<'e> {
    inner: sigma::CorrelationEngine<'e>,
    hits: Vec<sigma::CorrelationHit>,
}

fn hit_of(h: sigma::CorrelationHit) -> CorrelationHit {
    CorrelationHit {
        rule: h.rule,
        group: h.group.into_iter().map(|(k, v)| (k, Some(v))).collect(),
        window: (h.window_start, h.window_end),
        count: h.count,
        distinct: h.distinct,
        events: h.events,
    }
}

impl<'e> Correlator<'e> {
    /// New state for an engine, holding at most `cap` groups.
    pub fn new(engine: &'e Engine, cap: usize) -> Self {
        let limits = sigma::CorrelationLimits {
            max_groups: cap.max(1),
            max_origins: 100,
            ..sigma::CorrelationLimits::default()
        };
        Correlator {
            inner: sigma::CorrelationEngine::new(&engine.inner, limits),
            hits: Vec::new(),
        }
    }

    /// Feed one matched event (in non-decreasing time).
    pub fn observe(&mut self, rule: usize, event: &Event, hits: &mut Vec<CorrelationHit>) {
        self.inner.observe(rule, event, &mut self.hits);
        hits.extend(self.hits.drain(..).map(hit_of));
    }

    /// Close the open windows at end of input.
    pub fn finish(&mut self, hits: &mut Vec<CorrelationHit>) {
        self.inner.finish(&mut self.hits);
        hits.extend(self.hits.drain(..).map(hit_of));
    }

    /// Counters.
    pub fn stats(&self) -> CorrelationStats {
        let s = self.inner.stats();
        CorrelationStats {
            state_cap_hits: s.group_cap_hits,
            late_events: s.late_events,
            event_cap_hits: s.event_cap_hits,
            distinct_cap_hits: s.distinct_cap_hits,
            missing_group_field: s.missing_group_field,
        }
    }
}
