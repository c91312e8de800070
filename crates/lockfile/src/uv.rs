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

use crate::poetry::{name_version, records, Rec};
use crate::requirements::LineIndex;
use crate::Parsed;
use portcullis_model::{DependencyScope, Ecosystem, Location, Package};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Everything reachable from `start` through `edges` (names normalised).
fn closure(start: &[Cow<'_, str>], edges: &HashMap<String, Vec<&str>>) -> HashSet<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut todo: Vec<&str> = start.iter().map(|s| s.as_ref()).collect();
    while let Some(n) = todo.pop() {
        let key = Ecosystem::PyPI.normalize_name(n);
        if seen.contains(&key) {
            continue;
        }
        if let Some(next) = edges.get(&key) {
            todo.extend(next.iter().copied());
        }
        seen.insert(key);
    }
    seen
}

/// True for packages whose source is local code (the project, a workspace
/// member, a path dependency).
fn is_local(r: &Rec<'_>) -> bool {
    ["editable", "virtual", "directory", "path"]
        .iter()
        .any(|k| r.source(k).is_some())
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let recs = records(path, text, &lines, &mut out.diagnostics);

    // The graph: name -> names it depends on (run-time and extras).
    let mut edges: HashMap<String, Vec<&str>> = HashMap::new();
    let mut roots_runtime: Vec<Cow<'_, str>> = Vec::new();
    let mut roots_optional = Vec::new();
    let mut roots_dev = Vec::new();
    let mut has_roots = false;
    for r in &recs {
        let Some(name) = r.name.as_deref() else {
            continue;
        };
        if is_local(r) {
            has_roots = true;
            roots_runtime.extend(r.deps.iter().cloned());
            roots_optional.extend(r.optional_deps.iter().cloned());
            roots_dev.extend(r.dev_deps.iter().cloned());
        }
        edges
            .entry(Ecosystem::PyPI.normalize_name(name))
            .or_default()
            .extend(r.deps.iter().chain(&r.optional_deps).map(|s| s.as_ref()));
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

    for r in &recs {
        if is_local(r) {
            continue;
        }
        let Some((name, version)) = name_version(path, r, &mut out.diagnostics) else {
            continue;
        };
        let mut p = Package::new(
            Ecosystem::PyPI,
            name,
            version,
            Location {
                path: path.to_string(),
                line: Some(r.line),
            },
        );
        if let Some(git) = r.source("git") {
            let url = if git.starts_with("git+") {
                git.to_string()
            } else {
                format!("git+{git}")
            };
            p.purl = p.purl.with_qualifier("vcs_url", &url);
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
