//! `pnpm-lock.yaml`, lockfile versions 5, 6 and 9.
//!
//! Read line by line rather than with a YAML library: pnpm writes the file
//! with a fixed layout (two-space indentation, one package per key under the
//! top-level `packages:` map), so a small reader of that subset is faster,
//! keeps line numbers, and avoids a dependency (`serde_yaml` is deprecated).
//!
//! Package keys by version:
//! - v5: `/name/1.2.3`, `/@scope/name/1.2.3_peer@1.0.0`
//! - v6: `/name@1.2.3`, `/@scope/name@1.2.3(peer@1.0.0)`
//! - v9: `name@1.2.3` under `packages:` (peer variants live in `snapshots:`,
//!   which is not needed for the package list).
//!
//! `dev: true` (v5, v6) gives the dev scope and `optional: true` the optional
//! one; v9 records neither in `packages`, so its packages are run time.
//! Keys whose version is not a registry version (tarballs, git, `file:`)
//! use the entry's `name:` and `version:` fields when present and are
//! skipped otherwise. Peer variants are folded: (name, version) is unique.

use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use std::collections::HashMap;

#[derive(Default)]
struct Entry<'a> {
    line: u32,
    key: &'a str,
    name: Option<&'a str>,
    version: Option<&'a str>,
    dev: bool,
    optional: bool,
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut lockfile_major: Option<u32> = None;
    let mut in_packages = false;
    let mut saw_packages = false;
    let mut current: Option<Entry<'_>> = None;
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.trim_end_matches('\r');
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent == 0 {
            if let Some(e) = current.take() {
                finish(path, lockfile_major, e, &mut index, &mut out);
            }
            in_packages = body == "packages:";
            saw_packages |= in_packages;
            if let Some(v) = body.strip_prefix("lockfileVersion:") {
                let v = unquote(v.trim());
                lockfile_major = v.split('.').next().and_then(|m| m.parse().ok());
            }
            continue;
        }
        if !in_packages {
            continue;
        }
        if indent == 2 {
            if let Some(e) = current.take() {
                finish(path, lockfile_major, e, &mut index, &mut out);
            }
            match split_key(body) {
                Some(key) => {
                    current = Some(Entry {
                        line: line_no,
                        key,
                        ..Entry::default()
                    })
                }
                None => out.diagnostics.push(
                    Diagnostic::error(
                        path,
                        format!("expected a package key, found {}", crate::cargo::clip(body)),
                    )
                    .at(line_no, Some(3)),
                ),
            }
            continue;
        }
        let Some(e) = current.as_mut() else { continue };
        if indent != 4 {
            continue;
        }
        let Some((k, v)) = body.split_once(':') else {
            continue;
        };
        let v = unquote(v.trim());
        match k {
            "name" => e.name = Some(v),
            "version" => e.version = Some(v),
            "dev" => e.dev = v == "true",
            "optional" => e.optional = v == "true",
            _ => {}
        }
    }
    if let Some(e) = current.take() {
        finish(path, lockfile_major, e, &mut index, &mut out);
    }
    if !saw_packages && lockfile_major.is_none() && !text.trim().is_empty() {
        out.diagnostics.push(Diagnostic::warning(
            path,
            "no lockfileVersion or packages found; is this a pnpm-lock.yaml?",
        ));
    }
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .unwrap_or(s)
}

/// The key of `key:` or `key: {…}`, unquoted.
fn split_key(body: &str) -> Option<&str> {
    if let Some(q) = body.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let rest = &body[1..];
        let end = rest.find(q)?;
        let after = rest[end + 1..].trim_start();
        return after.starts_with(':').then(|| &rest[..end]);
    }
    if let Some(k) = body.strip_suffix(':') {
        return Some(k);
    }
    body.rfind(": ").map(|i| &body[..i])
}

/// Name and version from a package key, for the lockfile's major version.
fn parse_key(key: &str, major: Option<u32>) -> Option<(&str, &str)> {
    // Before v9, registry packages' keys start with `/`; others
    // (`github.com/…`, `registry.example/…`) are read from their fields.
    let key = match key.strip_prefix('/') {
        Some(k) => k,
        None if major.is_some_and(|m| m < 9) => return None,
        None => key,
    };
    // Peer suffixes: `(peer@1)` from v6 on.
    let key = key.split('(').next().unwrap_or(key);
    let at_format = match major {
        Some(m) => m >= 6,
        None => key.get(1..).is_some_and(|k| k.contains('@')),
    };
    if at_format {
        // The first `@` after a scope: a URL version may hold more.
        let i = key.get(1..)?.find('@')? + 1;
        Some((&key[..i], &key[i + 1..]))
    } else {
        let i = key.rfind('/')?;
        let version = &key[i + 1..];
        // v5 peer suffix: `1.2.3_react@17.0.2`.
        let version = version.split('_').next().unwrap_or(version);
        Some((&key[..i], version))
    }
}

fn finish(
    path: &str,
    major: Option<u32>,
    e: Entry<'_>,
    index: &mut HashMap<(String, String), usize>,
    out: &mut Parsed,
) {
    let parsed = parse_key(e.key, major);
    let registry = |v: &str| {
        v.starts_with(|c: char| c.is_ascii_digit()) && v.contains('.') && !v.contains(':')
    };
    // The name from the key (unless it is a URL or path), else the `name:` field.
    let key_name = parsed
        .map(|(n, _)| n)
        .filter(|n| !n.is_empty() && !n.contains(':'));
    let Some(name) = key_name.or(e.name) else {
        return; // a tarball, git or local package without a name
    };
    // The version from the key when it is a registry version, else `version:`.
    let version = match parsed.map(|(_, v)| v).filter(|v| registry(v)) {
        Some(v) => v,
        None => match e.version {
            Some(v) if !v.is_empty() => v,
            _ => return, // a local package (`file:`, `link:`) without a version
        },
    };
    let scope = if e.dev {
        DependencyScope::Dev
    } else if e.optional {
        DependencyScope::Optional
    } else {
        DependencyScope::Runtime
    };
    let key = (name.to_string(), version.to_string());
    if let Some(&i) = index.get(&key) {
        if let Some(p) = out.packages.get_mut(i) {
            p.scope = p.scope.min(scope);
        }
        return;
    }
    let loc = Location {
        path: path.to_string(),
        line: Some(e.line),
    };
    let mut pkg = Package::new(Ecosystem::Npm, name, version, loc);
    pkg.scope = scope;
    index.insert(key, out.packages.len());
    out.packages.push(pkg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v9_non_registry_entries() {
        let text = "lockfileVersion: '9.0'\n\npackages:\n\n  g@git+https://git@h/x.git#abc:\n    resolution: {commit: abc, repo: x, type: git}\n    version: 1.0.0\n\n  t@https://h/t.tgz:\n    resolution: {tarball: https://h/t.tgz}\n    version: 2.0.0\n\n  l@file:../l:\n    resolution: {directory: ../l, type: directory}\n\n  ok@3.0.0:\n    resolution: {integrity: x}\n";
        let p = parse("pnpm-lock.yaml", text);
        let got: Vec<_> = p
            .packages
            .iter()
            .map(|k| (k.name.as_str(), k.version.as_str(), k.location.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("g", "1.0.0", Some(5)),
                ("t", "2.0.0", Some(9)),
                ("ok", "3.0.0", Some(16))
            ]
        );
        assert!(p.diagnostics.is_empty());
    }

    #[test]
    fn keys() {
        assert_eq!(
            parse_key("/@a/b/1.2.3_react@17.0.2", Some(5)),
            Some(("@a/b", "1.2.3"))
        );
        assert_eq!(parse_key("/a/1.0.0", None), Some(("a", "1.0.0")));
        assert_eq!(
            parse_key("/@a/b@1.2.3(react@17.0.2)", Some(6)),
            Some(("@a/b", "1.2.3"))
        );
        assert_eq!(parse_key("@a/b@1.2.3", Some(9)), Some(("@a/b", "1.2.3")));
        assert_eq!(parse_key("a@1.2.3(b@1)(c@2)", None), Some(("a", "1.2.3")));
        assert_eq!(split_key("'@a/b@1': {}"), Some("@a/b@1"));
        assert_eq!(split_key("/a/1.0.0:"), Some("/a/1.0.0"));
        assert_eq!(
            parse_key("g@git+https://git@h/x.git#abc", Some(9)),
            Some(("g", "git+https://git@h/x.git#abc"))
        );
    }
}
