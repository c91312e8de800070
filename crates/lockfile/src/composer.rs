//! `composer.lock` (PHP, Packagist).
//!
//! Reads `packages` (run time) and `packages-dev` (development). A leading
//! `v` before a digit (`v1.2.3`) is dropped from the version, as OSV's
//! Packagist records write versions without it; the purl uses the same
//! version. Lines are those of each package's `"name"` key.

use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use serde_json::Value;
use std::collections::HashMap;

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.diagnostics.push(crate::npm::json_error(path, &e));
            return out;
        }
    };
    let Some(root) = root.as_object() else {
        out.diagnostics.push(Diagnostic::error(
            path,
            "expected a JSON object at the top level",
        ));
        return out;
    };
    let lines = name_lines(text);
    let mut found_any = false;
    for (field, scope) in [
        ("packages", DependencyScope::Runtime),
        ("packages-dev", DependencyScope::Dev),
    ] {
        let Some(list) = root.get(field) else {
            continue;
        };
        found_any = true;
        let Some(list) = list.as_array() else {
            out.diagnostics.push(Diagnostic::error(
                path,
                format!("`{field}` is not an array; skipped"),
            ));
            continue;
        };
        for (i, item) in list.iter().enumerate() {
            let name = item.get("name").and_then(Value::as_str);
            let version = item.get("version").and_then(Value::as_str);
            let (Some(name), Some(version)) = (name, version) else {
                out.diagnostics.push(Diagnostic::error(
                    path,
                    format!("entry {i} of `{field}` lacks a string name or version; skipped"),
                ));
                continue;
            };
            let version = strip_v(version);
            let loc = Location {
                path: path.to_string(),
                line: lines.get(name).copied(),
            };
            let mut pkg = Package::new(Ecosystem::Packagist, name, version, loc);
            pkg.scope = scope;
            out.packages.push(pkg);
        }
    }
    if !found_any {
        out.diagnostics.push(Diagnostic::warning(
            path,
            "no `packages` or `packages-dev` found; is this a composer.lock?",
        ));
    }
    out
}

/// `v1.2.3` -> `1.2.3`; anything else unchanged.
fn strip_v(v: &str) -> &str {
    match v.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => v,
    }
}

/// Lines of `"name": "…"` keys, first occurrence of each value.
fn name_lines(text: &str) -> HashMap<&str, u32> {
    let mut map = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("\"name\": \"") else {
            continue;
        };
        let Some(end) = rest.find('"') else { continue };
        map.entry(&rest[..end])
            .or_insert(u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(strip_v("v1.2.3"), "1.2.3");
        assert_eq!(strip_v("1.2.3"), "1.2.3");
        assert_eq!(strip_v("dev-main"), "dev-main");
        assert_eq!(strip_v("vendor"), "vendor");
    }
}
