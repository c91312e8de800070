//! `Cargo.lock` (format versions 1 to 4).
//!
//! A hand-written line-oriented reader of the `[[package]]` tables: Cargo
//! writes one `key = value` per line, so a full TOML parser is not needed and
//! would be several times slower on large lockfiles. Keys may come in any
//! order; unknown keys and multi-line arrays (`dependencies = [ … ]`) are
//! skipped. Version 1's `[metadata]` checksum table is ignored (its packages
//! are listed in `[[package]]` tables as in later versions).
//!
//! Packages without `source` are the workspace's own path crates and are not
//! reported. Git packages carry a `vcs_url` purl qualifier; packages of
//! registries other than crates.io carry `repository_url`.

use crate::Parsed;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
use std::borrow::Cow;

/// One `[[package]]` table being read.
#[derive(Default)]
struct Entry<'a> {
    line: u32,
    name: Option<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
    source: Option<Cow<'a, str>>,
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut current: Option<Entry<'_>> = None;
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            // A table header, or the `]` closing an array (which starts with ']').
            if let Some(e) = current.take() {
                finish(path, e, &mut out);
            }
            if is_header(line, "[[package]]") {
                current = Some(Entry {
                    line: line_no,
                    ..Entry::default()
                });
            }
            continue;
        }
        let Some(entry) = current.as_mut() else {
            continue;
        };
        // Only the three keys we need; anything else (array items, closing
        // brackets, checksums, dependencies) is skipped.
        let (key, rest) = match line.as_bytes().first() {
            Some(b'n') => ("name", line.strip_prefix("name")),
            Some(b'v') => ("version", line.strip_prefix("version")),
            Some(b's') => ("source", line.strip_prefix("source")),
            _ => continue,
        };
        let Some(rest) = rest else { continue };
        let rest = rest.trim_start();
        let Some(value) = rest.strip_prefix('=') else {
            continue; // another key sharing the prefix, e.g. `names_x = …`
        };
        match toml_string(value.trim()) {
            Some(v) => {
                let slot = match key {
                    "name" => &mut entry.name,
                    "version" => &mut entry.version,
                    _ => &mut entry.source,
                };
                if slot.is_some() {
                    out.diagnostics.push(
                        Diagnostic::warning(
                            path,
                            format!("duplicate key `{key}` in [[package]]; last one kept"),
                        )
                        .at(line_no, None),
                    );
                }
                *slot = Some(v);
            }
            None => out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!("`{key}` is not a TOML string: {}", clip(value.trim())),
                )
                .at(line_no, None),
            ),
        }
    }
    if let Some(e) = current.take() {
        finish(path, e, &mut out);
    }
    if out.packages.is_empty() && out.diagnostics.is_empty() && !text.contains("[[package]]") {
        let nonblank = text.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with("version")
        });
        if nonblank {
            out.diagnostics.push(Diagnostic::warning(
                path,
                "no [[package]] tables found; is this a Cargo.lock?",
            ));
        }
    }
    out
}

/// True when `line` is the header `header`, allowing spaces and a comment.
fn is_header(line: &str, header: &str) -> bool {
    if let Some(rest) = line.strip_prefix(header) {
        let rest = rest.trim_start();
        return rest.is_empty() || rest.starts_with('#');
    }
    // `[[ package ]]` with inner spaces is valid TOML.
    let compact: String = line
        .split('#')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact == header
}

fn finish(path: &str, e: Entry<'_>, out: &mut Parsed) {
    let (name, version) = match (e.name, e.version) {
        (Some(n), Some(v)) if !n.is_empty() => (n, v),
        (None, _) | (Some(_), _) => {
            out.diagnostics.push(
                Diagnostic::error(path, "[[package]] without a name and version; skipped")
                    .at(e.line, None),
            );
            return;
        }
    };
    let Some(source) = e.source else {
        return; // a workspace or path crate
    };
    let loc = Location {
        path: path.to_string(),
        line: Some(e.line),
    };
    let mut pkg = Package::new(Ecosystem::CratesIo, &name, &version, loc);
    if let Some(url) = source.strip_prefix("git+") {
        pkg.purl = pkg.purl.with_qualifier("vcs_url", &git_vcs_url(url));
    } else if !is_crates_io(&source) {
        let url = source
            .strip_prefix("registry+")
            .or_else(|| source.strip_prefix("sparse+"))
            .unwrap_or(&source);
        pkg.purl = pkg.purl.with_qualifier("repository_url", url);
    }
    out.packages.push(pkg);
}

fn is_crates_io(source: &str) -> bool {
    source == "registry+https://github.com/rust-lang/crates.io-index"
        || source == "sparse+https://index.crates.io/"
}

/// `https://host/repo.git?rev=x#sha` -> `git+https://host/repo.git@sha`.
fn git_vcs_url(url: &str) -> String {
    let (base, commit) = match url.split_once('#') {
        Some((b, c)) => (b, Some(c)),
        None => (url, None),
    };
    let base = base.split('?').next().unwrap_or(base);
    match commit {
        Some(c) if !c.is_empty() => format!("git+{base}@{c}"),
        _ => format!("git+{base}"),
    }
}

/// A TOML basic (`"…"`) or literal (`'…'`) string, with a trailing comment allowed.
fn toml_string(v: &str) -> Option<Cow<'_, str>> {
    let bytes = v.as_bytes();
    match bytes.first()? {
        b'\'' => {
            let end = v[1..].find('\'')? + 1;
            trailing_ok(&v[end + 1..]).then(|| Cow::Borrowed(&v[1..end]))
        }
        b'"' => {
            let body = &v[1..];
            let mut escaped = false;
            let mut has_escape = false;
            for (i, c) in body.char_indices() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                    has_escape = true;
                } else if c == '"' {
                    if !trailing_ok(&body[i + 1..]) {
                        return None;
                    }
                    let s = &body[..i];
                    return Some(if has_escape {
                        Cow::Owned(unescape(s)?)
                    } else {
                        Cow::Borrowed(s)
                    });
                }
            }
            None
        }
        _ => None,
    }
}

fn trailing_ok(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.is_empty() || rest.starts_with('#')
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            u @ ('u' | 'U') => {
                let n = if u == 'u' { 4 } else { 8 };
                let hex: String = chars.by_ref().take(n).collect();
                if hex.len() != n {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// At most 60 characters of `s`, for messages.
pub(crate) fn clip(s: &str) -> String {
    if s.chars().count() <= 60 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(60).collect();
        format!("{head:?}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(toml_string("\"a\\u0041\" # c").as_deref(), Some("aA"));
        assert_eq!(toml_string("'x\\y'").as_deref(), Some("x\\y"));
        assert_eq!(toml_string("\"open"), None);
        assert_eq!(toml_string("\"a\" junk"), None);
        assert_eq!(toml_string("3"), None);
    }

    #[test]
    fn vcs_url() {
        assert_eq!(
            git_vcs_url("https://h/r.git?rev=a#abc"),
            "git+https://h/r.git@abc"
        );
        assert_eq!(git_vcs_url("https://h/r.git"), "git+https://h/r.git");
    }
}
