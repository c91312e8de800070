//! pip requirements files (`requirements.txt` and friends).
//!
//! What is read:
//! - `name==version` and `name===version` pins give the version; extras
//!   (`name[a,b]==1.0`), environment markers (`; python_version < "3.9"`,
//!   kept without evaluating them), per-requirement options (`--hash=…`),
//!   backslash continuations and comments are handled.
//! - Any other specifier (`>=`, `~=`, `<`, `==1.*`, none at all, `name @ url`)
//!   gives the package with an empty (unknown) version, unless a constraints
//!   file (`-c`) pins it exactly.
//! - `-r`/`--requirement` includes add their packages; `-c`/`--constraint`
//!   files only supply versions for packages named elsewhere (pip installs
//!   nothing because of a constraint alone). Both are followed only by
//!   [`parse_file`], relative to the including file, never outside the
//!   directory of the first file, with cycle and depth limits.
//! - Editable (`-e`) lines and bare paths or URLs name no package by a PyPI
//!   name: they are skipped without a diagnostic (they are usually the
//!   project itself). Other option lines (`--index-url`…) are ignored.

use crate::Parsed;
use portcullis_model::{Diagnostic, Ecosystem, Location, Package};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// How deep `-r`/`-c` includes may nest.
const MAX_DEPTH: usize = 16;
/// How many files one top-level file may pull in, in all.
const MAX_FILES: usize = 256;

/// True for file names pip users give requirements files:
/// `requirements.txt`, `requirements-*.txt`, `requirements_*.txt`,
/// `*-requirements.txt`, `*_requirements.txt`, `*.requirements.txt`
/// (ASCII case-insensitive). `requirements.in` (unpinned pip-compile input)
/// does not count.
pub(crate) fn is_requirements_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.len() < 16 || !b[b.len() - 4..].eq_ignore_ascii_case(b".txt") {
        return false;
    }
    let stem = &b[..b.len() - 4];
    const R: &[u8] = b"requirements";
    if stem.eq_ignore_ascii_case(R) {
        return true;
    }
    if stem.len() > R.len() + 1 {
        let (head, rest) = stem.split_at(R.len());
        if head.eq_ignore_ascii_case(R) && matches!(rest[0], b'-' | b'_') {
            return true;
        }
        let (rest, tail) = stem.split_at(stem.len() - R.len());
        if tail.eq_ignore_ascii_case(R) && matches!(rest[rest.len() - 1], b'-' | b'_' | b'.') {
            return true;
        }
    }
    false
}

/// Byte offsets of line starts, to turn offsets into 1-based line numbers.
pub(crate) struct LineIndex(Vec<usize>);

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex(starts)
    }

    /// The 1-based line holding byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> u32 {
        let i = match self.0.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }
}

/// Kind of an include line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IncludeKind {
    Requirement,
    Constraint,
}

struct Include<'a> {
    kind: IncludeKind,
    target: Cow<'a, str>,
    line: u32,
}

/// One requirement read from a line.
struct Req<'a> {
    name: Cow<'a, str>,
    /// Empty when not pinned exactly.
    version: Cow<'a, str>,
    line: u32,
}

/// Read one file's text, without following includes (they give a warning).
pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut reqs = Vec::new();
    let mut includes = Vec::new();
    scan(path, text, &mut reqs, &mut includes, &mut out.diagnostics);
    for inc in includes {
        out.diagnostics.push(
            Diagnostic::warning(
                path,
                format!(
                    "include of {:?} not followed (only files read from disk follow includes)",
                    inc.target
                ),
            )
            .at(inc.line, None),
        );
    }
    out.packages = reqs.iter().map(|r| to_package(path, r)).collect();
    out
}

fn to_package(path: &str, r: &Req<'_>) -> Package {
    Package::new(
        Ecosystem::PyPI,
        &r.name,
        &r.version,
        Location {
            path: path.to_string(),
            line: Some(r.line),
        },
    )
}

/// State of one `parse_file` call.
struct Walk {
    root: PathBuf,
    seen: HashSet<PathBuf>,
    stack: Vec<PathBuf>,
    files: usize,
    out: Parsed,
    /// Exact pins from constraint files: normalised name, version.
    constraints: HashMap<String, String>,
}

/// Read a requirements file from disk, following `-r` and `-c` includes.
pub(crate) fn parse_file(path: &Path, display: &str) -> Parsed {
    let canon = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) => {
            return Parsed {
                packages: Vec::new(),
                diagnostics: vec![Diagnostic::error(display, format!("cannot read: {e}"))],
            }
        }
    };
    let root = canon.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut w = Walk {
        root,
        seen: HashSet::new(),
        stack: Vec::new(),
        files: 0,
        out: Parsed::default(),
        constraints: HashMap::new(),
    };
    visit(&mut w, &canon, display, IncludeKind::Requirement);
    let mut out = w.out;
    if !w.constraints.is_empty() {
        for p in out.packages.iter_mut().filter(|p| p.version.is_empty()) {
            if let Some(v) = w.constraints.get(&Ecosystem::PyPI.normalize_name(&p.name)) {
                *p = Package::new(Ecosystem::PyPI, &p.name, v, p.location.clone());
            }
        }
    }
    out
}

fn visit(w: &mut Walk, canon: &Path, display: &str, kind: IncludeKind) {
    w.files += 1;
    w.seen.insert(canon.to_path_buf());
    let text = match crate::read_text(canon, display) {
        Ok(t) => t,
        Err(d) => {
            w.out.diagnostics.push(d);
            return;
        }
    };
    let mut reqs = Vec::new();
    let mut includes = Vec::new();
    scan(
        display,
        &text,
        &mut reqs,
        &mut includes,
        &mut w.out.diagnostics,
    );
    match kind {
        IncludeKind::Requirement => w
            .out
            .packages
            .extend(reqs.iter().map(|r| to_package(display, r))),
        IncludeKind::Constraint => {
            for r in reqs.iter().filter(|r| !r.version.is_empty()) {
                w.constraints
                    .entry(Ecosystem::PyPI.normalize_name(&r.name))
                    .or_insert_with(|| r.version.to_string());
            }
        }
    }
    if includes.is_empty() {
        return;
    }
    w.stack.push(canon.to_path_buf());
    for inc in includes {
        // Anything read from a constraints file is a constraint.
        let kind = if kind == IncludeKind::Constraint {
            IncludeKind::Constraint
        } else {
            inc.kind
        };
        follow(w, canon, display, &inc, kind);
    }
    w.stack.pop();
}

fn follow(w: &mut Walk, from: &Path, display: &str, inc: &Include<'_>, kind: IncludeKind) {
    let warn = |w: &mut Walk, msg: String| {
        w.out
            .diagnostics
            .push(Diagnostic::warning(display, msg).at(inc.line, None));
    };
    let target: &str = &inc.target;
    if target.contains("://") {
        return warn(w, format!("include {target:?} is a URL; not followed"));
    }
    let rel = Path::new(target);
    if rel.is_absolute() || target.starts_with('/') || target.starts_with('\\') {
        return warn(
            w,
            format!("include {target:?} is an absolute path; not followed"),
        );
    }
    if w.stack.len() >= MAX_DEPTH {
        return warn(
            w,
            format!("include {target:?} nests deeper than {MAX_DEPTH} files; not followed"),
        );
    }
    if w.files >= MAX_FILES {
        return warn(
            w,
            format!("more than {MAX_FILES} included files; {target:?} not followed"),
        );
    }
    let dir = from.parent().unwrap_or(Path::new(""));
    let canon = match std::fs::canonicalize(dir.join(rel)) {
        Ok(c) => c,
        Err(e) => return warn(w, format!("cannot read included file {target:?}: {e}")),
    };
    if !canon.starts_with(&w.root) {
        return warn(
            w,
            format!(
                "include {target:?} leads outside the directory of the first file; not followed"
            ),
        );
    }
    if w.stack.contains(&canon) || canon == from {
        return warn(
            w,
            format!("include {target:?} makes a cycle; not followed again"),
        );
    }
    if w.seen.contains(&canon) {
        // Already read through another include: nothing new.
        return;
    }
    let shown = display_join(display, target);
    visit(w, &canon, &shown, kind);
}

/// The display path of `target` included from the file shown as `display`,
/// with `.` and `..` folded where possible.
fn display_join(display: &str, target: &str) -> String {
    let base = Path::new(display).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for c in base.join(target).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(parts.last().map(String::as_str), None | Some("..")) {
                    parts.push("..".into());
                } else {
                    parts.pop();
                }
            }
            other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    parts.join("/")
}

/// Scan a file's text into requirements and includes.
fn scan<'a>(
    path: &str,
    text: &'a str,
    reqs: &mut Vec<Req<'a>>,
    includes: &mut Vec<Include<'a>>,
    diags: &mut Vec<Diagnostic>,
) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines().enumerate();
    while let Some((i, first)) = lines.next() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        // Join backslash continuations into one logical line.
        let logical: Cow<'a, str> = if first.trim_end().ends_with('\\') {
            let mut joined = String::new();
            let mut cur = first;
            loop {
                let t = cur.trim_end();
                match t.strip_suffix('\\') {
                    Some(body) => {
                        joined.push_str(body);
                        joined.push(' ');
                        match lines.next() {
                            Some((_, next)) => cur = next,
                            None => break,
                        }
                    }
                    None => {
                        joined.push_str(cur);
                        break;
                    }
                }
            }
            Cow::Owned(joined)
        } else {
            Cow::Borrowed(first)
        };
        match logical {
            Cow::Borrowed(s) => read_line(path, s, line_no, reqs, includes, diags),
            Cow::Owned(s) => {
                // Owned text cannot be borrowed by `reqs`: read it, then own the parts.
                let mut tmp_reqs = Vec::new();
                let mut tmp_inc = Vec::new();
                read_line(path, &s, line_no, &mut tmp_reqs, &mut tmp_inc, diags);
                reqs.extend(tmp_reqs.into_iter().map(|r| Req {
                    name: Cow::Owned(r.name.into_owned()),
                    version: Cow::Owned(r.version.into_owned()),
                    line: r.line,
                }));
                includes.extend(tmp_inc.into_iter().map(|inc| Include {
                    kind: inc.kind,
                    target: Cow::Owned(inc.target.into_owned()),
                    line: inc.line,
                }));
            }
        }
    }
}

/// Strip a comment: `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let b = line.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

/// The argument of an option: `-r x`, `-rx`, `--requirement x`, `--requirement=x`.
fn option_arg<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let arg = if let Some(rest) = line.strip_prefix(long) {
        if let Some(r) = rest.strip_prefix('=') {
            r
        } else if rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            rest
        } else {
            return None;
        }
    } else if let Some(rest) = line.strip_prefix(short) {
        rest.strip_prefix('=').unwrap_or(rest)
    } else {
        return None;
    };
    let arg = arg.trim();
    // A quoted file name.
    let arg = arg
        .strip_prefix('"')
        .and_then(|a| a.strip_suffix('"'))
        .or_else(|| arg.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')))
        .unwrap_or(arg);
    Some(arg)
}

fn read_line<'a>(
    path: &str,
    raw: &'a str,
    line: u32,
    reqs: &mut Vec<Req<'a>>,
    includes: &mut Vec<Include<'a>>,
    diags: &mut Vec<Diagnostic>,
) {
    let s = strip_comment(raw).trim();
    if s.is_empty() {
        return;
    }
    if s.starts_with('-') {
        for (short, long, kind) in [
            ("-r", "--requirement", IncludeKind::Requirement),
            ("-c", "--constraint", IncludeKind::Constraint),
        ] {
            if let Some(target) = option_arg(s, short, long) {
                if target.is_empty() {
                    diags.push(
                        Diagnostic::warning(path, format!("{long} without a file name"))
                            .at(line, None),
                    );
                } else {
                    includes.push(Include {
                        kind,
                        target: Cow::Borrowed(target),
                        line,
                    });
                }
                return;
            }
        }
        // -e/--editable, --index-url, --hash on its own line…: nothing to read.
        return;
    }
    // Per-requirement options start at the first whitespace followed by `--`.
    let req = match s.find(" --").or_else(|| s.find("\t--")) {
        Some(i) => &s[..i],
        None => s,
    };
    // Markers.
    let req = match req.find(';') {
        Some(i) => &req[..i],
        None => req,
    }
    .trim();
    if req.is_empty() {
        return;
    }
    // Name: letters, digits, `.`, `_`, `-`, starting and ending alphanumeric.
    let name_end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(req.len());
    let name = &req[..name_end];
    let rest = req[name_end..].trim_start();
    let looks_like_path = (req.contains("://") && !rest.starts_with('@'))
        || rest.starts_with(['/', '\\', ':', '+'])
        || name.starts_with('.')
        || name.ends_with(".whl")
        || name.ends_with(".zip")
        || name.ends_with(".tar.gz");
    if name.is_empty() || looks_like_path {
        if !name.is_empty() || req.starts_with(['/', '.', '\\']) {
            // A local path or URL: no PyPI name to report.
            return;
        }
        diags.push(
            Diagnostic::warning(path, format!("cannot read requirement {req:?}; skipped"))
                .at(line, None),
        );
        return;
    }
    if !name.as_bytes()[0].is_ascii_alphanumeric()
        || !name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
    {
        diags.push(
            Diagnostic::warning(path, format!("invalid package name {name:?}; skipped"))
                .at(line, None),
        );
        return;
    }
    // Extras.
    let rest = match rest.strip_prefix('[') {
        Some(r) => match r.find(']') {
            Some(i) => r[i + 1..].trim_start(),
            None => {
                diags.push(
                    Diagnostic::warning(path, format!("unclosed extras in {req:?}; skipped"))
                        .at(line, None),
                );
                return;
            }
        },
        None => rest,
    };
    let version = if rest.starts_with('@') {
        // A direct URL reference: the name is known, the version is not.
        ""
    } else {
        let specs = rest
            .strip_prefix('(')
            .map_or(rest, |r| r.strip_suffix(')').unwrap_or(r));
        match exact_pin(specs) {
            Ok(v) => v,
            Err(()) => {
                diags.push(
                    Diagnostic::warning(
                        path,
                        format!("cannot read version specifier {rest:?} of {name}; version taken as unknown"),
                    )
                    .at(line, None),
                );
                ""
            }
        }
    };
    reqs.push(Req {
        name: Cow::Borrowed(name),
        version: Cow::Borrowed(version),
        line,
    });
}

/// The exact version pinned by a specifier list (`==1.0`, `===1.0`,
/// `>=1,==1.2`), or `""` when none pins one. `Err` for text that is not a
/// specifier list at all.
fn exact_pin(specs: &str) -> Result<&str, ()> {
    let mut pin = "";
    for spec in specs.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue;
        }
        let op_len = spec
            .find(|c: char| !matches!(c, '=' | '<' | '>' | '!' | '~'))
            .unwrap_or(spec.len());
        let (op, v) = spec.split_at(op_len);
        let v = v.trim();
        if v.is_empty() || v.contains(char::is_whitespace) {
            return Err(());
        }
        match op {
            "==" if !v.ends_with('*') => pin = v,
            "===" => pin = v,
            "==" | "!=" | ">=" | "<=" | ">" | "<" | "~=" => {}
            _ => return Err(()),
        }
    }
    Ok(pin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "requirements.txt",
            "requirements-dev.txt",
            "requirements_test.txt",
            "dev-requirements.txt",
            "dev_requirements.txt",
            "base.requirements.txt",
            "Requirements.TXT",
        ] {
            assert!(is_requirements_name(n), "{n}");
        }
        for n in [
            "requirements.in",
            "requirements",
            "requirements-.txt",
            "myrequirements.txt",
            "requirements.txt.bak",
            "-requirements.txt",
            "x.txt",
        ] {
            assert!(!is_requirements_name(n), "{n}");
        }
    }

    #[test]
    fn specifiers() {
        assert_eq!(exact_pin("==1.0"), Ok("1.0"));
        assert_eq!(exact_pin("===1.0+local"), Ok("1.0+local"));
        assert_eq!(exact_pin(">=1, ==1.2"), Ok("1.2"));
        assert_eq!(exact_pin("==1.*"), Ok(""));
        assert_eq!(exact_pin("~=1.4"), Ok(""));
        assert_eq!(exact_pin(""), Ok(""));
        assert_eq!(exact_pin("=1"), Err(()));
        assert_eq!(exact_pin("foo"), Err(()));
    }

    #[test]
    fn display_paths() {
        assert_eq!(display_join("a/requirements.txt", "b.txt"), "a/b.txt");
        assert_eq!(
            display_join("a/requirements.txt", "./b/../c.txt"),
            "a/c.txt"
        );
        assert_eq!(display_join("requirements.txt", "sub/x.txt"), "sub/x.txt");
    }

    #[test]
    fn line_index() {
        let li = LineIndex::new("a\nbb\n\nc");
        assert_eq!(li.line(0), 1);
        assert_eq!(li.line(2), 2);
        assert_eq!(li.line(5), 3);
        assert_eq!(li.line(6), 4);
    }
}
