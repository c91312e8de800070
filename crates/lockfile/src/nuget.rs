//! `packages.lock.json` (NuGet).
//!
//! Reads `dependencies` of every target framework. `Project` entries (other
//! projects of the solution) are skipped; `Direct` entries are direct, and
//! `Transitive` and `CentralTransitive` ones are not. The version is the
//! `resolved` one. A package locked for several frameworks is reported once.

use crate::Parsed;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
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
    let Some(frameworks) = root.get("dependencies").and_then(Value::as_object) else {
        out.diagnostics.push(Diagnostic::error(
            path,
            "no `dependencies` object found; is this a packages.lock.json?",
        ));
        return out;
    };
    let lines = crate::npm::object_key_lines(text);
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for (framework, deps) in frameworks {
        let Some(deps) = deps.as_object() else {
            out.diagnostics.push(Diagnostic::error(
                path,
                format!(
                    "framework {} is not an object; skipped",
                    crate::cargo::clip(framework)
                ),
            ));
            continue;
        };
        for (name, dep) in deps {
            let kind = dep.get("type").and_then(Value::as_str).unwrap_or("");
            if kind.eq_ignore_ascii_case("project") {
                continue;
            }
            let Some(version) = dep.get("resolved").and_then(Value::as_str) else {
                out.diagnostics.push(Diagnostic::warning(
                    path,
                    format!(
                        "{} has no resolved version; skipped",
                        crate::cargo::clip(name)
                    ),
                ));
                continue;
            };
            let direct = kind.eq_ignore_ascii_case("direct");
            if let Some(&i) = index.get(&(name.as_str(), version)) {
                if let Some(p) = out.packages.get_mut(i) {
                    p.direct = Some(p.direct == Some(true) || direct);
                }
                continue;
            }
            let loc = Location {
                path: path.to_string(),
                line: lines.get(name.as_str()).copied(),
            };
            let mut pkg = Package::new(Ecosystem::NuGet, name, version, loc);
            pkg.direct = Some(direct);
            index.insert((name.as_str(), version), out.packages.len());
            out.packages.push(pkg);
        }
    }
    out
}
