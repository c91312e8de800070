//! Accepted risks: which findings a user has decided not to act on, and why.
//!
//! Three inputs give a [`Policy`]:
//! - `portcullis.toml` `[[ignore]]` entries, each with a vulnerability ID, an
//!   optional package and ecosystem, a required reason and a required
//!   `expires` date ([`Policy::from_ignore_toml`]);
//! - OpenVEX documents ([`Policy::from_openvex_json`]);
//! - CycloneDX VEX documents ([`Policy::from_cyclonedx_json`]).
//!
//! [`Policy::load`] reads a file and detects its format; [`Policy::merge`]
//! combines policies; [`apply`] marks matching findings as suppressed and
//! returns diagnostics (expired acceptances, stale rules, problems met while
//! loading).
//!
//! A file that cannot be parsed at all is a [`VexError`] (with line and
//! column). An entry or statement that is wrong is skipped with an error
//! [`Diagnostic`] and the rest is read: a skipped entry never suppresses
//! anything, so mistakes fail safe (the finding stays open).
#![deny(missing_docs)]

mod cyclonedx;
mod date;
mod ignore;
mod openvex;

use portcullis_model::finding::Suppression;
use portcullis_model::{Diagnostic, Ecosystem, Finding, Package, Purl};
use std::collections::HashMap;
use std::path::Path;

/// The largest policy file read, in bytes (64 MiB).
pub const MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// A policy file that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    /// The file could not be read.
    #[error("{path}: cannot read the file: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_SIZE`].
    #[error("{path}: the file is {size} bytes, more than the {limit}-byte limit for policy files: split it")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The TOML or JSON syntax is wrong, or a value has the wrong type.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What is wrong and what to do.
        message: String,
    },
    /// The document is well-formed but is not a format this crate reads.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl VexError {
    /// The error as an error diagnostic (for printing with the others).
    pub fn to_diagnostic(&self) -> Diagnostic {
        match self {
            VexError::Syntax { path, line, column, message } => {
                Diagnostic::error(path.clone(), message.clone()).at(*line, Some(*column))
            }
            VexError::Io { path, source } => Diagnostic::error(path.clone(), format!("cannot read the file: {source}")),
            VexError::TooLarge { path, size, limit } => Diagnostic::error(
                path.clone(),
                format!("the file is {size} bytes, more than the {limit}-byte limit for policy files: split it"),
            ),
            VexError::Format { path, message } => Diagnostic::error(path.clone(), message.clone()),
        }
    }
}

/// Where a rule came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A `[[ignore]]` entry of `portcullis.toml`.
    IgnoreFile,
    /// An OpenVEX statement.
    OpenVex,
    /// A CycloneDX VEX vulnerability analysis.
    CycloneDx,
}

/// Which packages a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every package.
    Any,
    /// Packages by name (matched against the name and, for distribution
    /// packages, the source package name) and optional OSV ecosystem (with an
    /// optional release suffix such as `Debian:12`).
    Name {
        /// Package name; `None` for any package of the ecosystem.
        name: Option<String>,
        /// Ecosystem and optional release suffix.
        ecosystem: Option<(Ecosystem, Option<String>)>,
    },
    /// Packages by package URL: type, namespace and name must match; the
    /// version must match when the rule's purl has one; qualifiers and
    /// subpath are ignored.
    Purls(Vec<Purl>),
}

/// One accepted-risk rule (or, for VEX, one status statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Vulnerability IDs: a finding matches when its ID or any alias is one of them (case-insensitive).
    pub ids: Vec<String>,
    /// The packages it applies to.
    pub target: Target,
    /// Whether it suppresses matching findings (`not_affected`/`fixed` and
    /// ignore entries do; VEX `affected`/`under_investigation` do not, but
    /// can override an older suppressing statement).
    pub suppresses: bool,
    /// The reason shown in reports.
    pub reason: String,
    /// Last day of the acceptance (`YYYY-MM-DD`), inclusive.
    pub expires: Option<String>,
    /// VEX statement time, seconds since the epoch (UTC), for "latest statement wins".
    pub timestamp: Option<i64>,
    /// The file it came from.
    pub source: String,
    /// 1-based line in that file, when known.
    pub line: Option<u32>,
    /// The kind of file.
    pub origin: Origin,
}

impl Rule {
    fn matches_id(&self, f: &Finding) -> bool {
        self.ids.iter().any(|id| {
            id.eq_ignore_ascii_case(&f.id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
        })
    }

    /// True when the rule names this finding's vulnerability and package.
    pub fn matches(&self, f: &Finding) -> bool {
        self.matches_id(f) && self.target.matches(&f.package)
    }

    fn expired(&self, today: Option<i64>) -> bool {
        match (&self.expires, today) {
            (None, _) => false,
            (Some(e), Some(t)) => date::parse_date(e).is_none_or(|d| t > d),
            // Without a usable date, an expiring acceptance does not hold.
            (Some(_), None) => true,
        }
    }

    fn first_id(&self) -> &str {
        self.ids.first().map_or("", String::as_str)
    }
}

fn names_equal(eco: &Ecosystem, a: &str, b: &str) -> bool {
    a == b || (matches!(eco, Ecosystem::PyPI) && eco.normalize_name(a) == eco.normalize_name(b))
}

/// Compare a rule's purl with a package's: type, namespace, name; version when the rule has one.
pub fn purl_matches(rule: &Purl, pkg: &Purl) -> bool {
    if !rule.ty.eq_ignore_ascii_case(&pkg.ty) {
        return false;
    }
    let fold = matches!(
        rule.ty.as_str(),
        "deb" | "rpm" | "apk" | "pypi" | "github" | "alpm"
    );
    let eq = |a: &str, b: &str| {
        if fold {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let ns_ok = match (&rule.namespace, &pkg.namespace) {
        (None, None) => true,
        (Some(a), Some(b)) => eq(a, b),
        _ => false,
    };
    let name_ok = if rule.ty == "pypi" {
        Ecosystem::PyPI.normalize_name(&rule.name) == Ecosystem::PyPI.normalize_name(&pkg.name)
    } else {
        eq(&rule.name, &pkg.name)
    };
    let version_ok = match &rule.version {
        None => true,
        Some(v) => pkg.version.as_deref() == Some(v.as_str()),
    };
    ns_ok && name_ok && version_ok
}

impl Target {
    /// True when the package is one the target names.
    pub fn matches(&self, p: &Package) -> bool {
        match self {
            Target::Any => true,
            Target::Name { name, ecosystem } => {
                let eco_ok = match ecosystem {
                    None => true,
                    Some((e, suffix)) => {
                        *e == p.ecosystem
                            && suffix
                                .as_ref()
                                .is_none_or(|s| p.distro.as_deref() == Some(s.as_str()))
                    }
                };
                let name_ok = match name {
                    None => true,
                    Some(n) => {
                        names_equal(&p.ecosystem, n, &p.name)
                            || p.source_name
                                .as_deref()
                                .is_some_and(|s| names_equal(&p.ecosystem, n, s))
                    }
                };
                eco_ok && name_ok
            }
            Target::Purls(purls) => purls.iter().any(|r| {
                if purl_matches(r, &p.purl) {
                    return true;
                }
                // A distribution advisory or VEX may name the source package.
                match &p.source_name {
                    Some(src) if src != &p.name => {
                        let mut alt = p.purl.clone();
                        alt.name.clone_from(src);
                        if let Some(sv) = &p.source_version {
                            alt.version = Some(sv.clone());
                        }
                        purl_matches(r, &alt)
                    }
                    _ => false,
                }
            }),
        }
    }
}

/// A set of accepted-risk rules, with the problems met while reading them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
    diagnostics: Vec<Diagnostic>,
}

/// The kinds of policy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `portcullis.toml` with `[[ignore]]` entries.
    IgnoreToml,
    /// OpenVEX JSON.
    OpenVex,
    /// CycloneDX JSON with `vulnerabilities[].analysis`.
    CycloneDx,
}

/// Guess a file's format from its name and content.
pub fn detect_format(name: &str, text: &str) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if lower.ends_with(".toml") || !(trimmed.starts_with('{') || lower.ends_with(".json")) {
        return Some(Format::IgnoreToml);
    }
    // Look at the head of the document for the format's markers.
    let head: String = trimmed.chars().take(4096).collect();
    if head.contains("openvex") || lower.contains("openvex") {
        return Some(Format::OpenVex);
    }
    if head.contains("\"bomFormat\"") || lower.ends_with(".cdx.json") || lower.contains("cyclonedx")
    {
        return Some(Format::CycloneDx);
    }
    if text.contains("\"statements\"") {
        return Some(Format::OpenVex);
    }
    if text.contains("\"vulnerabilities\"") {
        return Some(Format::CycloneDx);
    }
    None
}

impl Policy {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read a policy file, detecting its format from its name and content.
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, VexError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io = |source| VexError::Io {
            path: name.clone(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_FILE_SIZE {
            return Err(VexError::TooLarge {
                path: name,
                size,
                limit: MAX_FILE_SIZE,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let (line, column) = line_col(
                &String::from_utf8_lossy(e.as_bytes()),
                e.utf8_error().valid_up_to(),
            );
            VexError::Syntax {
                path: name.clone(),
                line,
                column,
                message: "the file is not valid UTF-8: save it as UTF-8".into(),
            }
        })?;
        Self::parse(&name, &text)
    }

    /// Parse policy text named `name` (used for format detection and in messages).
    pub fn parse(name: &str, text: &str) -> Result<Policy, VexError> {
        match detect_format(name, text) {
            Some(Format::IgnoreToml) => Self::from_ignore_toml(name, text),
            Some(Format::OpenVex) => Self::from_openvex_json(name, text),
            Some(Format::CycloneDx) => Self::from_cyclonedx_json(name, text),
            None => Err(VexError::Format {
                path: name.to_string(),
                message: "not a policy file Portcullis reads: expected portcullis.toml ([[ignore]] entries), an OpenVEX document or a CycloneDX VEX document".into(),
            }),
        }
    }

    /// Parse `portcullis.toml` text.
    pub fn from_ignore_toml(name: &str, text: &str) -> Result<Policy, VexError> {
        ignore::parse(name, text)
    }

    /// Parse an OpenVEX JSON document.
    pub fn from_openvex_json(name: &str, text: &str) -> Result<Policy, VexError> {
        openvex::parse(name, text)
    }

    /// Parse a CycloneDX VEX JSON document.
    pub fn from_cyclonedx_json(name: &str, text: &str) -> Result<Policy, VexError> {
        cyclonedx::parse(name, text)
    }

    /// Add another policy's rules and diagnostics after this one's.
    pub fn merge(&mut self, other: Policy) {
        self.rules.extend(other.rules);
        self.diagnostics.extend(other.diagnostics);
    }

    /// Add one rule.
    pub fn push(&mut self, rule: Rule) {
        self.rules.push(rule);
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Problems met while loading (skipped entries, unknown fields…).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Mark findings accepted by the policy as suppressed.
///
/// `today` is the scan date, `YYYY-MM-DD` (an RFC 3339 time is accepted and
/// its date part used). Rules:
/// - findings already suppressed are left alone;
/// - `portcullis.toml` entries come first, in file order; an entry whose
///   `expires` date is before `today` does not suppress;
/// - otherwise, among the VEX statements naming the finding, the latest
///   (by timestamp, then by load order) decides: `not_affected`/`fixed`
///   suppress, `affected`/`under_investigation` do not.
///
/// Returns the policy's load diagnostics followed by warnings for expired
/// acceptances and for `portcullis.toml` entries that matched no finding.
pub fn apply(policy: &Policy, findings: &mut [Finding], today: &str) -> Vec<Diagnostic> {
    let mut diags = policy.diagnostics.clone();
    let today_days = today.get(0..10).and_then(date::parse_date);
    if today_days.is_none() {
        diags.push(Diagnostic::error(
            "<scan date>",
            format!("scan date {today:?} is not a YYYY-MM-DD date: accepted risks with an expiry date were not applied"),
        ));
    }
    let mut used = vec![false; policy.rules.len()];
    // Index rules by lower-case ID so each finding only looks at rules that
    // can match it (VEX documents may hold thousands of statements).
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in policy.rules.iter().enumerate() {
        for id in &r.ids {
            by_id.entry(id.to_ascii_lowercase()).or_default().push(i);
        }
    }
    let mut candidates: Vec<usize> = Vec::new();
    for f in findings.iter_mut() {
        if f.suppressed.is_some() {
            continue;
        }
        candidates.clear();
        for id in std::iter::once(&f.id).chain(&f.aliases) {
            if let Some(v) = by_id.get(&id.to_ascii_lowercase()) {
                candidates.extend_from_slice(v);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let rules = candidates
            .iter()
            .filter_map(|&i| policy.rules.get(i).map(|r| (i, r)));
        let mut chosen: Option<&Rule> = None;
        for (i, r) in rules.clone() {
            if r.origin != Origin::IgnoreFile || !r.matches(f) {
                continue;
            }
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            if r.expired(today_days) {
                continue;
            }
            chosen = Some(r);
            break;
        }
        if chosen.is_none() {
            let mut best: Option<(usize, &Rule)> = None;
            for (i, r) in rules {
                if r.origin == Origin::IgnoreFile || !r.matches(f) {
                    continue;
                }
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                let newer = match best {
                    None => true,
                    Some((_, b)) => {
                        r.timestamp.unwrap_or(i64::MIN) >= b.timestamp.unwrap_or(i64::MIN)
                    }
                };
                if newer {
                    best = Some((i, r));
                }
            }
            chosen = best
                .map(|(_, r)| r)
                .filter(|r| r.suppresses && !r.expired(today_days));
        }
        if let Some(r) = chosen {
            f.suppressed = Some(Suppression {
                reason: r.reason.clone(),
                expires: r.expires.clone(),
                source: r.source.clone(),
            });
        }
    }
    for (r, used) in policy.rules.iter().zip(&used) {
        if r.origin != Origin::IgnoreFile {
            continue;
        }
        let at = |d: Diagnostic| match r.line {
            Some(l) => d.at(l, None),
            None => d,
        };
        match &r.expires {
            Some(e) if today_days.is_some() && r.expired(today_days) => diags.push(at(Diagnostic::warning(
                r.source.clone(),
                format!("accepted risk for {} expired on {e}: review it or extend the date", r.first_id()),
            ))),
            _ if !used => diags.push(at(Diagnostic::warning(
                r.source.clone(),
                format!(
                    "accepted risk for {} matched no finding: remove it if the package was upgraded or removed",
                    r.first_id()
                ),
            ))),
            _ => {}
        }
    }
    diags
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut off = offset.min(text.len());
    while off > 0 && !text.is_char_boundary(off) {
        off -= 1;
    }
    let before = text.get(..off).unwrap_or("");
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

/// Parse JSON text into a value, turning syntax errors into [`VexError::Syntax`].
pub(crate) fn parse_json(name: &str, text: &str) -> Result<serde_json::Value, VexError> {
    let text = text.trim_start_matches('\u{feff}');
    serde_json::from_str(text).map_err(|e| VexError::Syntax {
        path: name.to_string(),
        line: u32::try_from(e.line()).unwrap_or(u32::MAX),
        // serde_json gives column 0 at the start of a line (at end of input).
        column: u32::try_from(e.column().max(1)).unwrap_or(u32::MAX),
        message: format!("invalid JSON: {e}: fix the syntax (a JSON validator shows where)")
            .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })
}

/// Percent-decode (for bom-link fragments and purl-like refs).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if let (Some(b'%'), Some(h), Some(l)) = (b.get(i), b.get(i + 1), b.get(i + 2)) {
            if let (Some(h), Some(l)) = ((*h as char).to_digit(16), (*l as char).to_digit(16)) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        if let Some(c) = b.get(i) {
            out.push(*c);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        assert_eq!(line_col("ab\ncé d", 7), (2, 4));
        assert_eq!(line_col("", 5), (1, 1));
        assert_eq!(line_col("é", 1), (1, 1));
    }

    #[test]
    fn purls_ignore_qualifiers_and_missing_versions() {
        let pkg =
            Purl::parse("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12")
                .unwrap_or_default();
        for (rule, want) in [
            ("pkg:deb/debian/openssl", true),
            ("pkg:deb/debian/openssl@3.0.11-1~deb12u2", true),
            ("pkg:deb/Debian/openssl?arch=arm64", true),
            ("pkg:deb/debian/openssl@3.0.15-1~deb12u1", false),
            ("pkg:deb/ubuntu/openssl", false),
            ("pkg:rpm/debian/openssl", false),
        ] {
            let r = Purl::parse(rule).unwrap_or_default();
            assert_eq!(purl_matches(&r, &pkg), want, "{rule}");
        }
    }

    #[test]
    fn detects_formats() {
        assert_eq!(
            detect_format("portcullis.toml", "[[ignore]]"),
            Some(Format::IgnoreToml)
        );
        assert_eq!(
            detect_format("x.json", r#"{"@context": "https://openvex.dev/ns/v0.2.0"}"#),
            Some(Format::OpenVex)
        );
        assert_eq!(
            detect_format("x.json", r#"{"bomFormat": "CycloneDX"}"#),
            Some(Format::CycloneDx)
        );
        assert_eq!(detect_format("x.json", r#"{"a": 1}"#), None);
        assert_eq!(
            percent_decode("pkg:npm/%40babel/core%4"),
            "pkg:npm/@babel/core%4"
        );
    }
}
