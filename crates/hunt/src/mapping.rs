//! The field-mapping table: Sigma logsources → which events a rule may see
//! (kind and preconditions) and how its field names read those events.
//!
//! The default table is `mappings/default.yml`, embedded in the binary; a
//! user's file in the same format replaces it (`--mapping FILE`).

use portcullis_events::LogKind;
use portcullis_model::Diagnostic;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The default mapping table, as shipped.
pub const DEFAULT_MAPPING: &str = include_str!("../mappings/default.yml");

/// A Sigma logsource as a rule gives it (lower-cased).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSourceKey {
    /// `product`, e.g. `windows`.
    pub product: Option<String>,
    /// `category`, e.g. `process_creation`.
    pub category: Option<String>,
    /// `service`, e.g. `security`.
    pub service: Option<String>,
}

impl LogSourceKey {
    /// A key from the three optional parts (compared case-insensitively).
    pub fn new(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> Self {
        let low = |s: Option<&str>| s.map(|v| v.trim().to_ascii_lowercase());
        LogSourceKey {
            product: low(product),
            category: low(category),
            service: low(service),
        }
    }
}

impl std::fmt::Display for LogSourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (k, v) in [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ] {
            if let Some(v) = v {
                if !first {
                    f.write_str(", ")?;
                }
                write!(f, "{k}: {v}")?;
                first = false;
            }
        }
        if first {
            f.write_str("(empty logsource)")?;
        }
        Ok(())
    }
}

/// Which events an entry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindSel {
    /// Windows events (and generic JSON events, i.e. flat exports).
    Windows,
    /// Linux authentication log lines.
    LinuxAuth,
    /// Entra ID sign-ins.
    EntraSignIn,
    /// Generic JSON events only.
    Json,
    /// Any event.
    Any,
}

impl KindSel {
    fn parse(s: &str) -> Option<KindSel> {
        Some(match s {
            "windows" => KindSel::Windows,
            "linux_auth" => KindSel::LinuxAuth,
            "entra_signin" => KindSel::EntraSignIn,
            "json" => KindSel::Json,
            "any" => KindSel::Any,
            _ => return None,
        })
    }

    /// The event kinds this selects (empty = any).
    pub fn kinds(self) -> &'static [LogKind] {
        match self {
            KindSel::Windows => &[LogKind::Windows, LogKind::Json],
            KindSel::LinuxAuth => &[LogKind::LinuxAuth],
            KindSel::EntraSignIn => &[LogKind::EntraSignIn],
            KindSel::Json => &[LogKind::Json],
            KindSel::Any => &[],
        }
    }

    /// Whether an event of `kind` is selected.
    pub fn accepts(self, kind: LogKind) -> bool {
        let ks = self.kinds();
        ks.is_empty() || ks.contains(&kind)
    }

    fn alias_key(self) -> Option<LogKind> {
        match self {
            KindSel::Windows => Some(LogKind::Windows),
            KindSel::LinuxAuth => Some(LogKind::LinuxAuth),
            KindSel::EntraSignIn => Some(LogKind::EntraSignIn),
            KindSel::Json => Some(LogKind::Json),
            KindSel::Any => None,
        }
    }
}

/// One entry of the table.
#[derive(Debug, Clone)]
pub struct SourceEntry {
    /// The logsource it is for.
    pub logsource: LogSourceKey,
    /// Which events.
    pub kind: KindSel,
    /// Preconditions: field → any of these values (text, case-insensitive).
    pub when: Vec<(String, Vec<String>)>,
    /// Renames: rule field → event field.
    pub fields: Vec<(String, String)>,
}

/// The whole table.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Entries in file order.
    pub sources: Vec<SourceEntry>,
    /// Per-kind aliases: rule field → event field.
    pub aliases: Vec<(LogKind, String, String)>,
}

#[derive(Deserialize)]
struct RawMapping {
    version: Option<u32>,
    #[serde(default)]
    sources: Vec<RawSource>,
    #[serde(default)]
    aliases: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawSource {
    logsource: BTreeMap<String, String>,
    kind: String,
    #[serde(default)]
    when: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Scalar),
    Many(Vec<Scalar>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Int(i64),
    Bool(bool),
    Str(String),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Str(s) => s,
        }
    }
}

impl Mapping {
    /// The shipped table.
    pub fn builtin() -> Mapping {
        // The shipped table is tested to parse (see the tests below); an
        // empty table is the fallback that cannot happen in a release.
        Mapping::parse(DEFAULT_MAPPING, Path::new("<builtin mapping>")).unwrap_or(Mapping {
            sources: Vec::new(),
            aliases: Vec::new(),
        })
    }

    /// Read a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(
                path.display().to_string(),
                format!("cannot read the mapping file: {e}"),
            )
        })?;
        Mapping::parse(&text, path)
    }

    /// Parse a mapping table from YAML text.
    pub fn parse(text: &str, path: &Path) -> Result<Mapping, Diagnostic> {
        let shown = path.display().to_string();
        let raw: RawMapping = serde_yaml_ng::from_str(text).map_err(|e| {
            let d = Diagnostic::error(
                shown.clone(),
                format!("not a valid mapping table: {e}; see crates/hunt/README.md for the format"),
            );
            match e.location() {
                Some(l) => d.at(
                    u32::try_from(l.line()).unwrap_or(u32::MAX),
                    u32::try_from(l.column()).ok(),
                ),
                None => d,
            }
        })?;
        if let Some(v) = raw.version {
            if v != 1 {
                return Err(Diagnostic::error(
                    shown,
                    format!("mapping table version {v} is not supported; use version: 1"),
                ));
            }
        }
        let mut sources = Vec::with_capacity(raw.sources.len());
        for (i, s) in raw.sources.into_iter().enumerate() {
            let kind = KindSel::parse(&s.kind).ok_or_else(|| {
                Diagnostic::error(
                    shown.clone(),
                    format!(
                        "sources[{i}]: unknown kind {:?}; use windows, linux_auth, entra_signin, json or any",
                        s.kind
                    ),
                )
            })?;
            for k in s.logsource.keys() {
                if !matches!(k.as_str(), "product" | "category" | "service") {
                    return Err(Diagnostic::error(
                        shown.clone(),
                        format!("sources[{i}]: unknown logsource key {k:?}; use product, category or service"),
                    ));
                }
            }
            let logsource = LogSourceKey::new(
                s.logsource.get("product").map(String::as_str),
                s.logsource.get("category").map(String::as_str),
                s.logsource.get("service").map(String::as_str),
            );
            let when = s
                .when
                .into_iter()
                .map(|(k, v)| {
                    let vals = match v {
                        OneOrMany::One(x) => vec![x.text()],
                        OneOrMany::Many(xs) => xs.into_iter().map(Scalar::text).collect(),
                    };
                    (k, vals)
                })
                .collect();
            sources.push(SourceEntry {
                logsource,
                kind,
                when,
                fields: s.fields.into_iter().collect(),
            });
        }
        let mut aliases = Vec::new();
        for (kind, table) in raw.aliases {
            let sel = KindSel::parse(&kind).and_then(KindSel::alias_key).ok_or_else(|| {
                Diagnostic::error(
                    shown.clone(),
                    format!("aliases: unknown kind {kind:?}; use windows, linux_auth, entra_signin or json"),
                )
            })?;
            for (from, to) in table {
                aliases.push((sel, from, to));
            }
        }
        Ok(Mapping { sources, aliases })
    }

    /// The entries for a rule's logsource (empty: the logsource is not mapped).
    pub fn entries(&self, ls: &LogSourceKey) -> Vec<&SourceEntry> {
        self.sources.iter().filter(|e| &e.logsource == ls).collect()
    }

    /// Event field names to try, in order, for a rule field under a
    /// logsource: the entries' renames first, then the field itself, then the
    /// per-kind aliases.
    pub fn field_names(&self, ls: &LogSourceKey, field: &str) -> Vec<String> {
        let entries = self.entries(ls);
        let mut out: Vec<String> = Vec::new();
        for e in &entries {
            for (from, to) in &e.fields {
                if from == field && !out.contains(to) {
                    out.push(to.clone());
                }
            }
        }
        if out.is_empty() {
            return out;
        }
        if !out.iter().any(|f| f == field) {
            out.push(field.to_string());
        }
        out
    }

    /// Aliases for a field under a logsource's kinds (the rule's own name is
    /// tried first by the engine; these are the fallbacks).
    pub fn aliases_for(&self, ls: &LogSourceKey, field: &str) -> Vec<String> {
        let entries = self.entries(ls);
        let mut out = Vec::new();
        for (kind, from, to) in &self.aliases {
            if from == field && entries.iter().any(|e| e.kind.accepts(*kind)) && !out.contains(to) {
                out.push(to.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_maps_the_main_sources() {
        let m = Mapping::parse(DEFAULT_MAPPING, Path::new("default.yml")).unwrap();
        assert!(m.sources.len() > 80, "{}", m.sources.len());
        let sec = LogSourceKey::new(Some("windows"), None, Some("security"));
        let e = m.entries(&sec);
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].when,
            vec![("Channel".to_string(), vec!["Security".to_string()])]
        );
        let pc = LogSourceKey::new(Some("Windows"), Some("process_creation"), None);
        assert_eq!(m.entries(&pc).len(), 2);
        assert_eq!(m.field_names(&pc, "Image"), vec!["NewProcessName", "Image"]);
        assert_eq!(m.field_names(&pc, "CommandLine"), Vec::<String>::new());
        let sshd = LogSourceKey::new(Some("linux"), None, Some("sshd"));
        assert_eq!(m.entries(&sshd)[0].kind, KindSel::LinuxAuth);
        let entra = LogSourceKey::new(Some("azure"), None, Some("signinlogs"));
        assert_eq!(m.aliases_for(&entra, "userAgent"), vec!["UserAgent"]);
        assert_eq!(m.aliases_for(&entra, "IpAddress"), vec!["IPAddress"]);
        assert!(m.aliases_for(&sec, "userAgent").is_empty());
        let unknown = LogSourceKey::new(Some("macos"), Some("process_creation"), None);
        assert!(m.entries(&unknown).is_empty());
    }

    #[test]
    fn bad_tables_are_diagnostics() {
        let e = Mapping::parse(
            "sources: [ {logsource: {product: x}, kind: nope} ]",
            Path::new("m.yml"),
        )
        .unwrap_err();
        assert!(e.message.contains("unknown kind \"nope\""), "{}", e.message);
        let e = Mapping::parse("version: 2\n", Path::new("m.yml")).unwrap_err();
        assert!(e.message.contains("version 2"), "{}", e.message);
        let e = Mapping::parse("sources: {", Path::new("m.yml")).unwrap_err();
        assert!(e.line.is_some());
        let e = Mapping::parse(
            "sources: [ {logsource: {os: x}, kind: any} ]",
            Path::new("m.yml"),
        )
        .unwrap_err();
        assert!(e.message.contains("\"os\""), "{}", e.message);
    }
}
