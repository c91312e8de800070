//! `Pipfile.lock` (JSON).
//!
//! `default` entries are run-time packages, `develop` entries development
//! ones (a package in both is reported once, as run-time). The version is
//! `==1.2.3`. Entries without a version (git, path or editable
//! dependencies) name no PyPI release and are skipped without a diagnostic.
//! Lines come from a single pass over the text that finds where each
//! entry's key is.

use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const SECTIONS: [(&str, DependencyScope); 2] = [
    ("default", DependencyScope::Runtime),
    ("develop", DependencyScope::Dev),
];

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
            let col = u32::try_from(e.column()).unwrap_or(u32::MAX);
            out.diagnostics.push(
                Diagnostic::error(path, format!("invalid JSON: {e}")).at(line.max(1), Some(col)),
            );
            return out;
        }
    };
    let Some(root) = root.as_object() else {
        out.diagnostics
            .push(Diagnostic::error(path, "Pipfile.lock is not a JSON object"));
        return out;
    };
    let lines = entry_lines(text);
    let mut seen: HashSet<&str> = HashSet::new();
    for (si, (section, scope)) in SECTIONS.iter().enumerate() {
        let Some(entries) = root.get(*section) else {
            continue;
        };
        let Some(entries) = entries.as_object() else {
            out.diagnostics.push(Diagnostic::error(
                path,
                format!("`{section}` is not an object; skipped"),
            ));
            continue;
        };
        for (name, entry) in entries {
            let line = lines.get(&(si, name.as_str())).copied();
            let at = |d: Diagnostic| match line {
                Some(l) => d.at(l, None),
                None => d,
            };
            let Some(entry) = entry.as_object() else {
                out.diagnostics.push(at(Diagnostic::error(
                    path,
                    format!("entry {name:?} in `{section}` is not an object; skipped"),
                )));
                continue;
            };
            let version = match entry.get("version") {
                None => continue, // git, path or editable: no PyPI release.
                Some(Value::String(v)) => v.trim(),
                Some(_) => {
                    out.diagnostics.push(at(Diagnostic::error(
                        path,
                        format!("version of {name:?} is not a string; skipped"),
                    )));
                    continue;
                }
            };
            let version = match version
                .strip_prefix("===")
                .or_else(|| version.strip_prefix("=="))
            {
                Some(v) if !v.trim().is_empty() && !v.contains('*') => v.trim(),
                _ => {
                    if version != "*" {
                        out.diagnostics.push(at(Diagnostic::warning(
                            path,
                            format!("version {version:?} of {name:?} is not an exact pin; version taken as unknown"),
                        )));
                    }
                    ""
                }
            };
            if !seen.insert(name.as_str()) {
                continue;
            }
            let mut p = Package::new(
                Ecosystem::PyPI,
                name,
                version,
                Location {
                    path: path.to_string(),
                    line,
                },
            );
            p.scope = *scope;
            out.packages.push(p);
        }
    }
    out
}

/// The line of each `"name": {` entry directly inside the `default` and
/// `develop` objects, keyed by (section index, name). One pass over the
/// text, tracking strings and nesting depth; names with escapes are left out.
fn entry_lines(text: &str) -> HashMap<(usize, &str), u32> {
    let b = text.as_bytes();
    let mut map = HashMap::new();
    let mut depth = 0usize;
    let mut line = 1u32;
    let mut section: Option<usize> = None;
    // The last string seen and the line it started on, and whether it was
    // followed by a colon (i.e. it is a key).
    let mut last_key: Option<(&str, u32)> = None;
    let mut last_str: Option<(&str, u32)> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => line = line.saturating_add(1),
            b'"' => {
                let start = i + 1;
                let mut j = start;
                let mut escaped = false;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        escaped = true;
                        j += 1;
                    } else if b[j] == b'\n' {
                        line = line.saturating_add(1);
                    }
                    j += 1;
                }
                last_str = if escaped {
                    None
                } else {
                    text.get(start..j.min(b.len())).map(|s| (s, line))
                };
                i = j;
            }
            b':' => last_key = last_str.take(),
            b',' => {
                last_key = None;
                last_str = None;
            }
            b'{' | b'[' => {
                depth += 1;
                if b[i] == b'{' {
                    match (depth, last_key) {
                        (2, Some((k, _))) => {
                            section = SECTIONS.iter().position(|(s, _)| *s == k);
                        }
                        (3, Some((k, l))) => {
                            if let Some(s) = section {
                                map.entry((s, k)).or_insert(l);
                            }
                        }
                        _ => {}
                    }
                }
                last_key = None;
                last_str = None;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth < 2 {
                    section = None;
                }
            }
            _ => {}
        }
        i += 1;
    }
    map
}
