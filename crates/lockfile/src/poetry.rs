//! `poetry.lock`.
//!
//! Each `[[package]]` gives a PyPI package. Scope: `category = "dev"` (Poetry
//! before 1.5) or `groups` without `main` (Poetry 1.5+) give
//! [`DependencyScope::Dev`]; `optional = true` (an extra) gives
//! [`DependencyScope::Optional`]. `[package.source]`: `directory` and `file`
//! sources are local code (often the project itself) and are skipped; `git`
//! sources are kept with a `vcs_url` purl qualifier; `url` and `legacy`
//! (another index) sources are kept as they are.

use crate::requirements::LineIndex;
use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use toml::de::{DeTable, DeValue};

/// A string value of a TOML table.
pub(crate) fn str_of<'a>(t: &'a DeTable<'_>, key: &str) -> Option<&'a str> {
    match t.get(key).map(|v| v.get_ref()) {
        Some(DeValue::String(s)) => Some(s),
        _ => None,
    }
}

/// Parse a TOML document, reporting syntax errors as diagnostics.
/// On errors, what could be read is still returned.
pub(crate) fn parse_toml<'i>(
    path: &str,
    text: &'i str,
    lines: &LineIndex,
    diags: &mut Vec<Diagnostic>,
) -> DeTable<'i> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in errors.iter().take(20) {
        let mut d = Diagnostic::error(path, format!("invalid TOML: {}", e.message()));
        if let Some(span) = e.span() {
            d = d.at(lines.line(span.start), None);
        }
        diags.push(d);
    }
    if errors.len() > 20 {
        diags.push(Diagnostic::error(
            path,
            format!("{} more TOML errors not shown", errors.len() - 20),
        ));
    }
    doc.into_inner()
}

/// The `[[package]]` tables of a lock document, with diagnostics for
/// entries that are not tables.
pub(crate) fn package_tables<'a, 'i>(
    path: &str,
    doc: &'a DeTable<'i>,
    lines: &LineIndex,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(&'a DeTable<'i>, u32)> {
    let mut out = Vec::new();
    match doc.get("package").map(|v| (v.get_ref(), v.span())) {
        Some((DeValue::Array(items), _)) => {
            for item in items {
                let line = lines.line(item.span().start);
                match item.get_ref() {
                    DeValue::Table(t) => {
                        // Prefer the line of `name = …`.
                        let line = t.get("name").map_or(line, |n| lines.line(n.span().start));
                        out.push((t, line));
                    }
                    _ => diags.push(
                        Diagnostic::error(path, "`package` entry is not a table; skipped")
                            .at(line, None),
                    ),
                }
            }
        }
        Some((_, span)) => diags.push(
            Diagnostic::error(path, "`package` is not an array of tables")
                .at(lines.line(span.start), None),
        ),
        None => {}
    }
    out
}

/// Name and version of a package table, or a diagnostic.
pub(crate) fn name_version<'a>(
    path: &str,
    t: &'a DeTable<'_>,
    line: u32,
    diags: &mut Vec<Diagnostic>,
) -> Option<(&'a str, &'a str)> {
    let name = str_of(t, "name").filter(|n| !n.trim().is_empty());
    let version = str_of(t, "version");
    match (name, version) {
        (Some(n), Some(v)) => Some((n.trim(), v.trim())),
        (Some(n), None) => Some((n.trim(), "")),
        (None, _) => {
            diags.push(Diagnostic::error(path, "package without a name; skipped").at(line, None));
            None
        }
    }
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let doc = parse_toml(path, text, &lines, &mut out.diagnostics);
    for (t, line) in package_tables(path, &doc, &lines, &mut out.diagnostics) {
        let Some((name, version)) = name_version(path, t, line, &mut out.diagnostics) else {
            continue;
        };
        if version.is_empty() {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    format!("package {name} has no version; version taken as unknown"),
                )
                .at(line, None),
            );
        }
        let mut vcs = None;
        if let Some(DeValue::Table(src)) = t.get("source").map(|v| v.get_ref()) {
            match str_of(src, "type") {
                Some("directory" | "file") => continue,
                Some("git") => {
                    if let Some(url) = str_of(src, "url") {
                        let rev = str_of(src, "resolved_reference")
                            .or_else(|| str_of(src, "reference"))
                            .unwrap_or("");
                        vcs = Some(if rev.is_empty() {
                            format!("git+{url}")
                        } else {
                            format!("git+{url}@{rev}")
                        });
                    }
                }
                _ => {}
            }
        }
        let mut p = Package::new(
            Ecosystem::PyPI,
            name,
            version,
            Location {
                path: path.to_string(),
                line: Some(line),
            },
        );
        if let Some(v) = vcs {
            p.purl = p.purl.with_qualifier("vcs_url", &v);
        }
        p.scope = scope_of(t);
        out.packages.push(p);
    }
    out
}

fn scope_of(t: &DeTable<'_>) -> DependencyScope {
    if str_of(t, "category") == Some("dev") {
        return DependencyScope::Dev;
    }
    if let Some(DeValue::Array(groups)) = t.get("groups").map(|v| v.get_ref()) {
        let main = groups
            .iter()
            .any(|g| matches!(g.get_ref(), DeValue::String(s) if s == "main"));
        if !groups.is_empty() && !main {
            return DependencyScope::Dev;
        }
    }
    if let Some(DeValue::Boolean(true)) = t.get("optional").map(|v| v.get_ref()) {
        return DependencyScope::Optional;
    }
    DependencyScope::Runtime
}
