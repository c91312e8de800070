//! `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1 to 3.
//!
//! Versions 2 and 3 list packages under `packages`, keyed by install path
//! (`node_modules/a/node_modules/@s/b`); the name is the `name` field or the
//! part after the last `node_modules/`. The root (`""`), links and workspace
//! folders (keys without `node_modules/`) are skipped. Version 1 nests
//! `dependencies` objects; it is read with an explicit stack. `dev`,
//! `optional` and `devOptional` set the scope; identical (name, version)
//! pairs are reported once, with the most necessary scope. Aliases
//! (`npm:real@1.0.0`) are reported under the real name.

use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let root: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            out.diagnostics.push(json_error(path, &e));
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
    let mut acc = Acc {
        path,
        index: HashMap::new(),
        out,
    };
    if let Some(packages) = root.get("packages").and_then(Value::as_object) {
        read_packages(packages, text, &mut acc);
    } else if let Some(deps) = root.get("dependencies").and_then(Value::as_object) {
        read_v1(deps, &mut acc);
    } else if !root.contains_key("lockfileVersion") {
        acc.out.diagnostics.push(Diagnostic::warning(
            path,
            "neither `packages` nor `dependencies` found; is this a package-lock.json?",
        ));
    }
    acc.out
}

/// A serde_json error as a diagnostic with its position.
pub(crate) fn json_error(path: &str, e: &serde_json::Error) -> Diagnostic {
    let line = u32::try_from(e.line()).unwrap_or(u32::MAX);
    let col = u32::try_from(e.column()).unwrap_or(u32::MAX);
    Diagnostic::error(path, format!("invalid JSON: {e}; nothing read"))
        .at(line.max(1), Some(col.max(1)))
}

/// Lines of object keys that open an object (`"key": {`), first occurrence
/// wins. Cheap stand-in for positions, which serde_json does not keep.
pub(crate) fn object_key_lines(text: &str) -> HashMap<&str, u32> {
    let mut map = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if !t.ends_with('{') {
            continue;
        }
        let Some(rest) = t.strip_prefix('"') else {
            continue;
        };
        let Some(end) = rest.find("\":") else {
            continue;
        };
        map.entry(&rest[..end])
            .or_insert(u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    map
}

struct Acc<'p> {
    path: &'p str,
    index: HashMap<(String, String), usize>,
    out: Parsed,
}

impl Acc<'_> {
    fn add(
        &mut self,
        name: &str,
        version: &str,
        scope: DependencyScope,
        line: Option<u32>,
        direct: Option<bool>,
    ) {
        // `npm:real@1.0.0` aliases.
        let (name, version) = match version.strip_prefix("npm:") {
            Some(spec) => match spec.rfind('@') {
                Some(i) if i > 0 => (&spec[..i], &spec[i + 1..]),
                _ => (name, version),
            },
            None => (name, version),
        };
        if name.is_empty() {
            return;
        }
        let key = (name.to_string(), version.to_string());
        if let Some(&i) = self.index.get(&key) {
            if let Some(p) = self.out.packages.get_mut(i) {
                p.scope = p.scope.min(scope);
                if direct == Some(true) {
                    p.direct = Some(true);
                }
            }
            return;
        }
        let loc = Location {
            path: self.path.to_string(),
            line,
        };
        let mut pkg = Package::new(Ecosystem::Npm, name, version, loc);
        pkg.scope = scope;
        pkg.direct = direct;
        self.index.insert(key, self.out.packages.len());
        self.out.packages.push(pkg);
    }
}

fn flag(obj: &Map<String, Value>, key: &str) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn scope_of(obj: &Map<String, Value>) -> DependencyScope {
    if flag(obj, "dev") || flag(obj, "devOptional") {
        DependencyScope::Dev
    } else if flag(obj, "optional") {
        DependencyScope::Optional
    } else {
        DependencyScope::Runtime
    }
}

/// Versions that do not name a registry release.
fn local_version(v: &str) -> bool {
    v.starts_with("file:") || v.starts_with("link:")
}

fn read_packages(packages: &Map<String, Value>, text: &str, acc: &mut Acc<'_>) {
    let lines = object_key_lines(text);
    let mut root_deps: HashSet<&str> = HashSet::new();
    if let Some(root) = packages.get("").and_then(Value::as_object) {
        for field in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            if let Some(d) = root.get(field).and_then(Value::as_object) {
                root_deps.extend(d.keys().map(String::as_str));
            }
        }
    }
    for (key, value) in packages {
        if key.is_empty() {
            continue;
        }
        let line = lines.get(key.as_str()).copied();
        let Some(obj) = value.as_object() else {
            acc.out.diagnostics.push(with_line(
                Diagnostic::error(
                    acc.path,
                    format!(
                        "package {} is not an object; skipped",
                        crate::cargo::clip(key)
                    ),
                ),
                line,
            ));
            continue;
        };
        if flag(obj, "link") {
            continue;
        }
        let Some(i) = key.rfind("node_modules/") else {
            continue; // a workspace folder
        };
        let path_name = &key[i + "node_modules/".len()..];
        let name = obj.get("name").and_then(Value::as_str).unwrap_or(path_name);
        let Some(version) = obj.get("version").and_then(Value::as_str) else {
            acc.out.diagnostics.push(with_line(
                Diagnostic::warning(
                    acc.path,
                    format!(
                        "package {} has no version; skipped",
                        crate::cargo::clip(key)
                    ),
                ),
                line,
            ));
            continue;
        };
        if local_version(version) {
            continue;
        }
        let top = i == 0;
        let direct = Some(top && root_deps.contains(path_name));
        acc.add(name, version, scope_of(obj), line, direct);
    }
}

fn with_line(d: Diagnostic, line: Option<u32>) -> Diagnostic {
    match line {
        Some(l) => d.at(l, None),
        None => d,
    }
}

fn read_v1(deps: &Map<String, Value>, acc: &mut Acc<'_>) {
    // An explicit stack of nested `dependencies` objects: no recursion.
    let mut stack: Vec<&Map<String, Value>> = vec![deps];
    while let Some(map) = stack.pop() {
        for (name, value) in map {
            let Some(obj) = value.as_object() else {
                acc.out.diagnostics.push(Diagnostic::error(
                    acc.path,
                    format!(
                        "dependency {} is not an object; skipped",
                        crate::cargo::clip(name)
                    ),
                ));
                continue;
            };
            if let Some(nested) = obj.get("dependencies").and_then(Value::as_object) {
                stack.push(nested);
            }
            match obj.get("version").and_then(Value::as_str) {
                Some(v) if !local_version(v) => acc.add(name, v, scope_of(obj), None, None),
                Some(_) => {}
                None => acc.out.diagnostics.push(Diagnostic::warning(
                    acc.path,
                    format!(
                        "dependency {} has no version; skipped",
                        crate::cargo::clip(name)
                    ),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines() {
        let m = object_key_lines("{\n  \"a\": {\n    \"b\": 1\n  },\n  \"c/d\": {}\n}");
        assert_eq!(m.get("a"), Some(&2));
        assert_eq!(m.get("c/d"), None);
    }

    #[test]
    fn alias_and_dedup() {
        let text = r#"{"lockfileVersion":3,"packages":{"":{"dependencies":{"x":"1"}},
"node_modules/x":{"version":"npm:real@1.0.0"},
"node_modules/a/node_modules/real":{"version":"1.0.0","dev":true},
"node_modules/l":{"link":true},
"packages/w":{"version":"1.0.0"},
"node_modules/f":{"version":"file:../f"}}}"#;
        let p = parse("package-lock.json", text);
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.packages.len(), 1);
        assert_eq!(p.packages[0].name, "real");
        assert_eq!(p.packages[0].scope, DependencyScope::Runtime);
        assert_eq!(p.packages[0].direct, Some(true));
    }
}
