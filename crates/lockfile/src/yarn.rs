//! `yarn.lock`: classic (v1) and Berry (v2 and later).
//!
//! Both are read line by line; no YAML library is needed for what a lockfile
//! holds. An entry starts at a line with no indentation ending in `:` (its
//! comma-separated specifiers, e.g. `"@babel/core@^7.0.0", "@babel/core@^7.1.0":`),
//! and its fields follow indented by two spaces.
//!
//! - v1: the name comes from the first specifier, the version from the
//!   `version "1.2.3"` field; `file:` and `link:` specifiers are skipped.
//! - Berry (recognised by a `__metadata:` entry): the name and version come
//!   from `resolution: "name@npm:1.2.3"`; `workspace:`, `link:`, `portal:`
//!   and `file:` resolutions are skipped; `patch:` resolutions are reported
//!   as the npm version they patch; other protocols (git, http) use the
//!   `version:` field.
//!
//! Identical (name, version) pairs are reported once.

use crate::Parsed;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
use std::borrow::Cow;
use std::collections::HashSet;

#[derive(Default)]
struct Entry<'a> {
    line: u32,
    header: &'a str,
    version: Option<&'a str>,
    resolution: Option<&'a str>,
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let berry = text.lines().any(|l| l.starts_with("__metadata:"));
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut current: Option<Entry<'_>> = None;
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.trim_end_matches('\r');
        let body = line.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(e) = current.take() {
                finish(path, berry, e, &mut seen, &mut out);
            }
            match body.strip_suffix(':') {
                Some(header) => {
                    current = Some(Entry {
                        line: line_no,
                        header,
                        ..Entry::default()
                    })
                }
                None => out.diagnostics.push(
                    Diagnostic::error(
                        path,
                        format!(
                            "expected an entry header ending in `:`, found {}",
                            crate::cargo::clip(body)
                        ),
                    )
                    .at(line_no, Some(1)),
                ),
            }
            continue;
        }
        let Some(e) = current.as_mut() else { continue };
        // Only direct fields (indented by exactly two spaces).
        if line.starts_with("   ") || !line.starts_with("  ") {
            continue;
        }
        let (key, value) = if berry {
            match body.split_once(':') {
                Some((k, v)) => (k, v.trim()),
                None => continue,
            }
        } else {
            match body.split_once(' ') {
                Some((k, v)) => (k, v.trim()),
                None => continue,
            }
        };
        match key {
            "version" => e.version = Some(unquote(value)),
            "resolution" => e.resolution = Some(unquote(value)),
            _ => {}
        }
    }
    if let Some(e) = current.take() {
        finish(path, berry, e, &mut seen, &mut out);
    }
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(s)
}

/// Split `name@range` at the `@` after the name (`@scope/n@1` -> `@scope/n`, `1`).
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let i = spec.get(1..)?.find('@')? + 1;
    Some((&spec[..i], &spec[i + 1..]))
}

fn finish(
    path: &str,
    berry: bool,
    e: Entry<'_>,
    seen: &mut HashSet<(String, String)>,
    out: &mut Parsed,
) {
    let first = unquote(e.header.split(',').next().unwrap_or("").trim());
    if berry && first == "__metadata" {
        return;
    }
    let resolved: Option<(Cow<'_, str>, Cow<'_, str>)> = if berry {
        let Some(res) = e.resolution else {
            out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!(
                        "entry {} has no resolution; skipped",
                        crate::cargo::clip(first)
                    ),
                )
                .at(e.line, None),
            );
            return;
        };
        match berry_resolution(res, e.version) {
            Resolution::Package(n, v) => Some((n, v)),
            Resolution::Skip => return,
            Resolution::Bad => None,
        }
    } else {
        split_spec(first).and_then(|(name, range)| {
            if range.starts_with("file:") || range.starts_with("link:") {
                return None;
            }
            // `alias@npm:real@^1` installs `real`.
            let name = match range.strip_prefix("npm:").and_then(split_spec) {
                Some((real, _)) => real,
                None => name,
            };
            Some((Cow::Borrowed(name), Cow::Borrowed(e.version?)))
        })
    };
    let Some((name, version)) = resolved else {
        let local = !berry
            && split_spec(first)
                .is_some_and(|(_, r)| r.starts_with("file:") || r.starts_with("link:"));
        if !local {
            out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!(
                        "entry {} has no name and version; skipped",
                        crate::cargo::clip(e.header)
                    ),
                )
                .at(e.line, None),
            );
        }
        return;
    };
    if name.is_empty()
        || version.is_empty()
        || !seen.insert((name.to_string(), version.to_string()))
    {
        return;
    }
    let loc = Location {
        path: path.to_string(),
        line: Some(e.line),
    };
    out.packages
        .push(Package::new(Ecosystem::Npm, &name, &version, loc));
}

enum Resolution<'a> {
    Package(Cow<'a, str>, Cow<'a, str>),
    Skip,
    Bad,
}

fn berry_resolution<'a>(res: &'a str, version_field: Option<&'a str>) -> Resolution<'a> {
    let Some((name, rest)) = split_spec(res) else {
        return Resolution::Bad;
    };
    let Some((protocol, body)) = rest.split_once(':') else {
        return Resolution::Bad;
    };
    match protocol {
        "npm" => Resolution::Package(Cow::Borrowed(name), Cow::Borrowed(body)),
        "workspace" | "link" | "portal" | "file" => Resolution::Skip,
        "patch" => {
            // `patch:name@npm%3A1.2.3#./patch::version=1.2.3&hash=…`
            let inner = body.split('#').next().unwrap_or("");
            let inner = inner
                .replace("%3A", ":")
                .replace("%40", "@")
                .replace("%2F", "/");
            match split_spec(&inner).and_then(|(_, r)| r.strip_prefix("npm:")) {
                Some(v) if !v.is_empty() => {
                    Resolution::Package(Cow::Borrowed(name), Cow::Owned(v.to_string()))
                }
                _ => Resolution::Skip, // a patch of a non-registry package
            }
        }
        _ => match version_field {
            Some(v) if !v.is_empty() && !v.starts_with("0.0.0-use.local") => {
                Resolution::Package(Cow::Borrowed(name), Cow::Borrowed(v))
            }
            _ => Resolution::Skip,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berry_protocols() {
        let get = |r| match berry_resolution(r, Some("9.9.9")) {
            Resolution::Package(n, v) => Some((n.into_owned(), v.into_owned())),
            _ => None,
        };
        assert_eq!(get("@a/b@npm:1.2.3"), Some(("@a/b".into(), "1.2.3".into())));
        assert_eq!(
            get("resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b"),
            Some(("resolve".into(), "1.22.1".into()))
        );
        assert_eq!(get("w@workspace:."), None);
        assert_eq!(get("x@https://h/x.tgz"), Some(("x".into(), "9.9.9".into())));
    }
}
