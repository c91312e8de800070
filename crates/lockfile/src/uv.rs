//! `uv.lock`.
//!
//! Each `[[package]]` gives a PyPI package, except local ones: a source of
//! `editable`, `virtual`, `directory` or `path` is the project itself or code
//! on disk, and is skipped. `git` sources are kept with a `vcs_url` purl
//! qualifier; `registry` and `url` sources are kept as they are.
//!
//! Scope comes from the dependency graph: the local packages (workspace
//! members) are the roots. A package reached from a root's `dependencies`
//! (following `dependencies` and `optional-dependencies` of the packages
//! reached) is run-time; one reached only from a root's
//! `optional-dependencies` is optional; one reached only from a root's
//! `dev-dependencies` is development. Packages are keyed by name, so when a
//! lock holds several versions of one name they share a scope.

use crate::poetry::{name_version, package_tables, parse_toml, str_of};
use crate::requirements::LineIndex;
use crate::Parsed;
use portcullis_model::{DependencyScope, Ecosystem, Location, Package};
use std::collections::{HashMap, HashSet};
use toml::de::{DeTable, DeValue};

/// Names in a dependency list (`[{ name = "x" }, …]`).
fn dep_names<'a>(v: Option<&'a toml::Spanned<DeValue<'_>>>, out: &mut Vec<&'a str>) {
    if let Some(DeValue::Array(items)) = v.map(|v| v.get_ref()) {
        for item in items {
            if let DeValue::Table(t) = item.get_ref() {
                if let Some(n) = str_of(t, "name") {
                    out.push(n);
                }
            }
        }
    }
}

/// Names in every group of a table of groups (`{ dev = [...], docs = [...] }`).
fn group_names<'a>(v: Option<&'a toml::Spanned<DeValue<'_>>>, out: &mut Vec<&'a str>) {
    if let Some(DeValue::Table(groups)) = v.map(|v| v.get_ref()) {
        for (_, list) in groups.iter() {
            dep_names(Some(list), out);
        }
    }
}

/// Everything reachable from `start` through `edges`.
fn closure<'a>(start: &[&'a str], edges: &HashMap<String, Vec<&'a str>>) -> HashSet<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut todo: Vec<&str> = start.to_vec();
    while let Some(n) = todo.pop() {
        let key = Ecosystem::PyPI.normalize_name(n);
        if let Some(next) = edges.get(&key) {
            if seen.insert(key) {
                todo.extend(next.iter().copied());
            }
        } else {
            seen.insert(key);
        }
    }
    seen
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let doc = parse_toml(path, text, &lines, &mut out.diagnostics);
    let tables = package_tables(path, &doc, &lines, &mut out.diagnostics);

    // The graph: name -> names it depends on (run-time and extras).
    let mut edges: HashMap<String, Vec<&str>> = HashMap::new();
    let mut roots_runtime = Vec::new();
    let mut roots_optional = Vec::new();
    let mut roots_dev = Vec::new();
    let mut has_roots = false;
    for (t, _) in &tables {
        let Some(name) = str_of(t, "name") else {
            continue;
        };
        if is_local(t) {
            has_roots = true;
            dep_names(t.get("dependencies"), &mut roots_runtime);
            group_names(t.get("optional-dependencies"), &mut roots_optional);
            group_names(t.get("dev-dependencies"), &mut roots_dev);
        }
        let e = edges
            .entry(Ecosystem::PyPI.normalize_name(name))
            .or_default();
        dep_names(t.get("dependencies"), e);
        group_names(t.get("optional-dependencies"), e);
    }
    let (runtime, optional, dev) = if has_roots {
        (
            closure(&roots_runtime, &edges),
            closure(&roots_optional, &edges),
            closure(&roots_dev, &edges),
        )
    } else {
        Default::default()
    };
    let direct: HashSet<String> = roots_runtime
        .iter()
        .chain(&roots_optional)
        .chain(&roots_dev)
        .map(|n| Ecosystem::PyPI.normalize_name(n))
        .collect();

    for (t, line) in &tables {
        if is_local(t) {
            continue;
        }
        let Some((name, version)) = name_version(path, t, *line, &mut out.diagnostics) else {
            continue;
        };
        let mut p = Package::new(
            Ecosystem::PyPI,
            name,
            version,
            Location {
                path: path.to_string(),
                line: Some(*line),
            },
        );
        if let Some(DeValue::Table(src)) = t.get("source").map(|v| v.get_ref()) {
            if let Some(git) = str_of(src, "git") {
                let url = if git.starts_with("git+") {
                    git.to_string()
                } else {
                    format!("git+{git}")
                };
                p.purl = p.purl.with_qualifier("vcs_url", &url);
            }
        }
        if has_roots {
            let key = Ecosystem::PyPI.normalize_name(name);
            p.scope = if runtime.contains(&key) {
                DependencyScope::Runtime
            } else if optional.contains(&key) {
                DependencyScope::Optional
            } else if dev.contains(&key) {
                DependencyScope::Dev
            } else {
                DependencyScope::Runtime
            };
            p.direct = Some(direct.contains(&key));
        }
        out.packages.push(p);
    }
    out
}

/// True for packages whose source is local code (the project, a workspace
/// member, a path dependency).
fn is_local(t: &DeTable<'_>) -> bool {
    match t.get("source").map(|v| v.get_ref()) {
        Some(DeValue::Table(src)) => ["editable", "virtual", "directory", "path"]
            .iter()
            .any(|k| src.get(*k).is_some()),
        _ => false,
    }
}
