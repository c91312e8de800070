//! `go.mod` and `go.sum`.
//!
//! `go.mod`: `require` lines and blocks (`// indirect` marks an indirect
//! dependency), `replace` directives applied (a replacement by a local path
//! drops the module), `exclude` and `retract` ignored, plus a `stdlib`
//! package whose version comes from `toolchain go1.x.y` or else `go 1.x.y`,
//! as osv-scanner reports it.
//!
//! `go.sum`: every module listed, once (its `/go.mod` hash lines are folded
//! into the module). It is only a fallback for directories without a
//! `go.mod`: [`crate::walk`] returns only `go.mod` when both are present.
//!
//! Versions are reported as OSV's Go records write them, without the leading
//! `v` (`1.2.3`); the purl keeps Go's spelling (`pkg:golang/x@v1.2.3`).

use crate::Parsed;
use portcullis_model::package::default_purl;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
use std::collections::HashSet;

struct Require<'a> {
    path: &'a str,
    version: &'a str,
    indirect: bool,
    line: u32,
}

struct Replace<'a> {
    old: &'a str,
    old_version: Option<&'a str>,
    /// `None` for a local-path replacement.
    new: Option<(&'a str, &'a str)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Block {
    None,
    Require,
    Replace,
    Other,
}

pub(crate) fn parse_mod(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut requires: Vec<Require<'_>> = Vec::new();
    let mut replaces: Vec<Replace<'_>> = Vec::new();
    let mut go_version: Option<(&str, u32)> = None;
    let mut toolchain: Option<(&str, u32)> = None;
    let mut block = Block::None;
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let (code, comment) = match raw.find("//") {
            Some(i) => (&raw[..i], Some(&raw[i + 2..])),
            None => (raw, None),
        };
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        if block != Block::None {
            if code == ")" {
                block = Block::None;
                continue;
            }
            match block {
                Block::Require => req_line(path, code, comment, line_no, &mut requires, &mut out),
                Block::Replace => repl_line(path, code, line_no, &mut replaces, &mut out),
                _ => {}
            }
            continue;
        }
        let (verb, rest) = match code.split_once(char::is_whitespace) {
            Some((v, r)) => (v, r.trim()),
            None => (code, ""),
        };
        let opens = rest == "(";
        match verb {
            "require" if opens => block = Block::Require,
            "replace" if opens => block = Block::Replace,
            "require" => req_line(path, rest, comment, line_no, &mut requires, &mut out),
            "replace" => repl_line(path, rest, line_no, &mut replaces, &mut out),
            "go" => go_version = Some((rest, line_no)),
            "toolchain" => toolchain = Some((rest, line_no)),
            "module" | "exclude" | "retract" | "godebug" | "tool" | "ignore" if opens => {
                block = Block::Other
            }
            "module" | "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            _ => {
                if code.ends_with('(') {
                    block = Block::Other;
                }
                out.diagnostics.push(
                    Diagnostic::warning(
                        path,
                        format!("unknown go.mod directive `{}`", crate::cargo::clip(verb)),
                    )
                    .at(line_no, Some(1)),
                );
            }
        }
    }
    if block != Block::None {
        out.diagnostics.push(
            Diagnostic::error(path, "unterminated `(` block at end of file").at(line_no, None),
        );
    }

    let mut seen: HashSet<(String, String)> = HashSet::new();
    for r in &requires {
        let mut name = r.path;
        let mut version = r.version;
        let mut dropped = false;
        // A version-specific replace wins over a path-wide one.
        let rep = replaces
            .iter()
            .rev()
            .find(|p| p.old == r.path && p.old_version == Some(r.version))
            .or_else(|| {
                replaces
                    .iter()
                    .rev()
                    .find(|p| p.old == r.path && p.old_version.is_none())
            });
        if let Some(rep) = rep {
            match rep.new {
                Some((n, v)) => {
                    name = n;
                    version = v;
                }
                None => dropped = true,
            }
        }
        if dropped || !seen.insert((name.to_string(), version.to_string())) {
            continue;
        }
        let mut pkg = go_package(path, name, version, r.line);
        pkg.direct = Some(!r.indirect);
        out.packages.push(pkg);
    }
    if let Some((v, line)) = toolchain
        .and_then(|(t, l)| t.strip_prefix("go").map(|v| (v, l)))
        .or(go_version)
    {
        let v = v.split_whitespace().next().unwrap_or("");
        if !v.is_empty() {
            let loc = Location {
                path: path.to_string(),
                line: Some(line),
            };
            let mut pkg = Package::new(Ecosystem::Go, "stdlib", v, loc);
            pkg.direct = Some(true);
            out.packages.push(pkg);
        }
    }
    out
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

fn req_line<'a>(
    path: &str,
    code: &'a str,
    comment: Option<&str>,
    line: u32,
    requires: &mut Vec<Require<'a>>,
    out: &mut Parsed,
) {
    let mut it = code.split_whitespace();
    match (it.next(), it.next(), it.next()) {
        (Some(p), Some(v), None) => requires.push(Require {
            path: unquote(p),
            version: unquote(v),
            indirect: comment.is_some_and(|c| c.split(';').any(|w| w.trim() == "indirect")),
            line,
        }),
        _ => out.diagnostics.push(
            Diagnostic::error(
                path,
                format!(
                    "expected `module/path version`, found {}",
                    crate::cargo::clip(code)
                ),
            )
            .at(line, None),
        ),
    }
}

fn repl_line<'a>(
    path: &str,
    code: &'a str,
    line: u32,
    replaces: &mut Vec<Replace<'a>>,
    out: &mut Parsed,
) {
    let parsed = code.split_once("=>").and_then(|(l, r)| {
        let mut l = l.split_whitespace();
        let old = unquote(l.next()?);
        let old_version = l.next().map(unquote);
        if l.next().is_some() {
            return None;
        }
        let mut r = r.split_whitespace();
        let new = unquote(r.next()?);
        let new_version = r.next().map(unquote);
        if r.next().is_some() {
            return None;
        }
        // No version: a directory (`./x`, `../x`, `/abs`).
        let new = new_version.map(|v| (new, v));
        Some(Replace {
            old,
            old_version,
            new,
        })
    });
    match parsed {
        Some(r) => replaces.push(r),
        None => out.diagnostics.push(
            Diagnostic::error(
                path,
                format!("malformed replace directive {}", crate::cargo::clip(code)),
            )
            .at(line, None),
        ),
    }
}

fn go_package(path: &str, name: &str, version: &str, line: u32) -> Package {
    let loc = Location {
        path: path.to_string(),
        line: Some(line),
    };
    let trimmed = version.strip_prefix('v').unwrap_or(version);
    let mut pkg = Package::new(Ecosystem::Go, name, trimmed, loc);
    pkg.purl = default_purl(&Ecosystem::Go, name, version);
    pkg
}

pub(crate) fn parse_sum(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let mut it = line.split_whitespace();
        let (Some(module), Some(version), Some(hash), None) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            out.diagnostics.push(
                Diagnostic::error(
                    path,
                    format!(
                        "expected `module version hash`, found {}",
                        crate::cargo::clip(line)
                    ),
                )
                .at(line_no, None),
            );
            continue;
        };
        if !hash.starts_with("h1:") && !hash.contains(':') {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    format!("unexpected hash {}", crate::cargo::clip(hash)),
                )
                .at(line_no, None),
            );
        }
        let version = version.strip_suffix("/go.mod").unwrap_or(version);
        if seen.insert((module, version)) {
            out.packages
                .push(go_package(path, module, version, line_no));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_and_indirect() {
        let text = "module m\n\ngo 1.21\ntoolchain go1.22.3\n\nrequire (\n\ta.com/x v1.0.0 // indirect\n\tb.com/y v2.0.0\n\tc.com/z v0.1.0\n)\nrequire d.com/w v1.1.1\n\nreplace a.com/x => e.com/x v1.0.5\nreplace (\n\tc.com/z => ../z\n)\nexclude d.com/w v1.0.0\n";
        let p = parse_mod("go.mod", text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let got: Vec<_> = p
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.direct,
                    p.location.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("e.com/x", "1.0.5", Some(false), Some(7)),
                ("b.com/y", "2.0.0", Some(true), Some(8)),
                ("d.com/w", "1.1.1", Some(true), Some(11)),
                ("stdlib", "1.22.3", Some(true), Some(4)),
            ]
        );
        assert_eq!(p.packages[0].purl.to_string(), "pkg:golang/e.com/x@v1.0.5");
    }

    #[test]
    fn bad_lines() {
        let p = parse_mod("go.mod", "require (\n  onlyone\n");
        assert_eq!(p.diagnostics.len(), 2);
        assert_eq!(p.diagnostics[0].line, Some(2));
        let s = parse_sum("go.sum", "a v1 h1:x\na v1/go.mod h1:y\nbroken\n");
        assert_eq!(s.packages.len(), 1);
        assert_eq!(s.diagnostics.len(), 1);
    }
}
