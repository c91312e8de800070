//! `poetry.lock`, and the `[[package]]` reader shared with `uv.lock`.
//!
//! Each `[[package]]` gives a PyPI package. Scope: `category = "dev"` (Poetry
//! before 1.5) or `groups` without `main` (Poetry 1.5+) give
//! [`DependencyScope::Dev`]; `optional = true` (an extra) gives
//! [`DependencyScope::Optional`]. `[package.source]`: `directory` and `file`
//! sources are local code (often the project itself) and are skipped; `git`
//! sources are kept with a `vcs_url` purl qualifier; `url` and `legacy`
//! (another index) sources are kept as they are.
//!
//! Reading: lockfiles are machine-written TOML, so a fast scanner that knows
//! their shape reads them (about 20 times faster than a general TOML
//! parser). Whenever it meets anything it does not expect, the whole file is
//! read again with the `toml` crate, which handles any valid TOML and reports
//! syntax errors with their lines.

use crate::requirements::LineIndex;
use crate::Parsed;
use portcullis_model::{DependencyScope, Diagnostic, Ecosystem, Location, Package};
use std::borrow::Cow;
use toml::de::{DeTable, DeValue};

/// What the Python lock readers need of one `[[package]]` table.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rec<'a> {
    /// Line of `name = …` (or of the table when it has no name).
    pub line: u32,
    pub name: Option<Cow<'a, str>>,
    pub version: Option<Cow<'a, str>>,
    pub category: Option<Cow<'a, str>>,
    pub optional: bool,
    pub groups: Option<Vec<Cow<'a, str>>>,
    /// String entries of the source: poetry's `[package.source]` table or
    /// uv's inline `source = { … }`.
    pub source: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// uv: names in `dependencies`.
    pub deps: Vec<Cow<'a, str>>,
    /// uv: names in every group of `[package.optional-dependencies]`.
    pub optional_deps: Vec<Cow<'a, str>>,
    /// uv: names in every group of `[package.dev-dependencies]`.
    pub dev_deps: Vec<Cow<'a, str>>,
}

impl Rec<'_> {
    pub(crate) fn source(&self, key: &str) -> Option<&str> {
        self.source
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }
}

/// Every `[[package]]` of a lock, by the fast scanner or else the `toml` crate.
pub(crate) fn records<'a>(
    path: &str,
    text: &'a str,
    lines: &LineIndex,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Rec<'a>> {
    match fast::scan(text, lines) {
        Some(recs) => recs,
        None => slow(path, text, lines, diags),
    }
}

/// Name and version of a record, or a diagnostic.
pub(crate) fn name_version<'r>(
    path: &str,
    r: &'r Rec<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(&'r str, &'r str)> {
    match r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some((n, r.version.as_deref().map_or("", str::trim))),
        None => {
            diags.push(Diagnostic::error(path, "package without a name; skipped").at(r.line, None));
            None
        }
    }
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let lines = LineIndex::new(text);
    let recs = records(path, text, &lines, &mut out.diagnostics);
    for r in &recs {
        let Some((name, version)) = name_version(path, r, &mut out.diagnostics) else {
            continue;
        };
        if version.is_empty() {
            out.diagnostics.push(
                Diagnostic::warning(
                    path,
                    format!("package {name} has no version; version taken as unknown"),
                )
                .at(r.line, None),
            );
        }
        let mut vcs = None;
        match r.source("type") {
            Some("directory" | "file") => continue,
            Some("git") => {
                if let Some(url) = r.source("url") {
                    let rev = r
                        .source("resolved_reference")
                        .or_else(|| r.source("reference"))
                        .unwrap_or("");
                    vcs = Some(if rev.is_empty() {
                        format!("git+{url}")
                    } else {
                        format!("git+{url}@{rev}")
                    });
                }
            }
            _ => {}
        }
        let mut p = Package::new(
            Ecosystem::PyPI,
            name,
            version,
            Location {
                path: path.to_string(),
                line: Some(r.line),
            },
        );
        if let Some(v) = vcs {
            p.purl = p.purl.with_qualifier("vcs_url", &v);
        }
        p.scope = scope_of(r);
        out.packages.push(p);
    }
    out
}

fn scope_of(r: &Rec<'_>) -> DependencyScope {
    if r.category.as_deref() == Some("dev") {
        return DependencyScope::Dev;
    }
    if let Some(groups) = &r.groups {
        if !groups.is_empty() && !groups.iter().any(|g| g == "main") {
            return DependencyScope::Dev;
        }
    }
    if r.optional {
        return DependencyScope::Optional;
    }
    DependencyScope::Runtime
}

// ------------------------------------------------------------ slow path

fn str_of<'a>(t: &DeTable<'a>, key: &str) -> Option<Cow<'a, str>> {
    match t.get(key).map(|v| v.get_ref()) {
        Some(DeValue::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Names in a dependency list (`[{ name = "x" }, …]`).
fn dep_names<'a>(v: Option<&toml::Spanned<DeValue<'a>>>, out: &mut Vec<Cow<'a, str>>) {
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
fn group_names<'a>(v: Option<&toml::Spanned<DeValue<'a>>>, out: &mut Vec<Cow<'a, str>>) {
    if let Some(DeValue::Table(groups)) = v.map(|v| v.get_ref()) {
        for (_, list) in groups.iter() {
            dep_names(Some(list), out);
        }
    }
}

/// Read with the `toml` crate: any valid TOML, with syntax errors reported.
fn slow<'a>(
    path: &str,
    text: &'a str,
    lines: &LineIndex,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Rec<'a>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in errors.iter().take(20) {
        let mut d = Diagnostic::error(path, format!("invalid TOML: {}", e.message().trim()));
        if let Some(span) = e.span() {
            d = d.at(lines.line(span.start), None);
        }
        diags.push(d);
    }
    if errors.len() > 20 {
        diags.push(Diagnostic::error(
            path,
            format!("{} more TOML errors not shown", errors.len() - 20),
        ));
    }
    let doc = doc.into_inner();
    let mut out = Vec::new();
    let items = match doc.get("package").map(|v| (v.get_ref(), v.span())) {
        Some((DeValue::Array(items), _)) => items,
        Some((_, span)) => {
            diags.push(
                Diagnostic::error(path, "`package` is not an array of tables")
                    .at(lines.line(span.start), None),
            );
            return out;
        }
        None => return out,
    };
    for item in items {
        let line = lines.line(item.span().start);
        let DeValue::Table(t) = item.get_ref() else {
            diags.push(
                Diagnostic::error(path, "`package` entry is not a table; skipped").at(line, None),
            );
            continue;
        };
        let mut r = Rec {
            line: t.get("name").map_or(line, |n| lines.line(n.span().start)),
            name: str_of(t, "name"),
            version: str_of(t, "version"),
            category: str_of(t, "category"),
            optional: matches!(
                t.get("optional").map(|v| v.get_ref()),
                Some(DeValue::Boolean(true))
            ),
            ..Rec::default()
        };
        if let Some(DeValue::Array(groups)) = t.get("groups").map(|v| v.get_ref()) {
            r.groups = Some(
                groups
                    .iter()
                    .filter_map(|g| match g.get_ref() {
                        DeValue::String(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
            );
        }
        if let Some(DeValue::Table(src)) = t.get("source").map(|v| v.get_ref()) {
            for (k, v) in src.iter() {
                if let DeValue::String(s) = v.get_ref() {
                    r.source.push((k.get_ref().clone(), s.clone()));
                }
            }
        }
        dep_names(t.get("dependencies"), &mut r.deps);
        group_names(t.get("optional-dependencies"), &mut r.optional_deps);
        group_names(t.get("dev-dependencies"), &mut r.dev_deps);
        out.push(r);
    }
    out
}

// ------------------------------------------------------------ fast path

/// A scanner for machine-written lock TOML. It returns `None` on anything
/// unexpected, and the caller then uses the `toml` crate instead.
mod fast {
    use super::Rec;
    use crate::requirements::LineIndex;
    use std::borrow::Cow;

    const MAX_NESTING: usize = 32;

    #[derive(Clone, Copy, PartialEq)]
    enum Section {
        Package,
        Source,
        OptionalDeps,
        DevDeps,
        Other,
    }

    /// A value, built only when asked for.
    enum V<'a> {
        Str(Cow<'a, str>),
        Bool(bool),
        Arr(Vec<V<'a>>),
        Tab(Vec<(Cow<'a, str>, V<'a>)>),
        Skipped,
    }

    struct S<'a> {
        s: &'a str,
        b: &'a [u8],
        i: usize,
    }

    pub(super) fn scan<'a>(text: &'a str, lines: &LineIndex) -> Option<Vec<Rec<'a>>> {
        let mut sc = S {
            s: text,
            b: text.as_bytes(),
            i: 0,
        };
        let mut recs: Vec<Rec<'a>> = Vec::new();
        let mut section = Section::Other;
        loop {
            sc.skip_blank(true);
            let Some(&c) = sc.b.get(sc.i) else { break };
            if c == b'[' {
                let start = sc.i;
                let double = sc.b.get(sc.i + 1) == Some(&b'[');
                let open = if double { 2 } else { 1 };
                let end = sc.s[start..].find('\n').map_or(sc.b.len(), |e| start + e);
                let line = &sc.s[start..end];
                let close = if double { "]]" } else { "]" };
                let name_end = line.find(close)?;
                let name = line.get(open..name_end)?.trim();
                if name.contains(['"', '\'', '[', ']']) {
                    return None;
                }
                sc.i = start + name_end + close.len();
                sc.end_of_line()?;
                section = match (double, name) {
                    (true, "package") => {
                        recs.push(Rec {
                            line: lines.line(start),
                            ..Rec::default()
                        });
                        Section::Package
                    }
                    (false, "package.source") if !recs.is_empty() => Section::Source,
                    (false, "package.optional-dependencies") if !recs.is_empty() => {
                        Section::OptionalDeps
                    }
                    (false, "package.dev-dependencies") if !recs.is_empty() => Section::DevDeps,
                    (false, "package") => return None,
                    (_, n) if n.starts_with("package.") && recs.is_empty() => return None,
                    _ => Section::Other,
                };
                continue;
            }
            let key = sc.key()?;
            sc.skip_blank(false);
            if sc.b.get(sc.i) != Some(&b'=') {
                return None;
            }
            sc.i += 1;
            sc.skip_blank(false);
            let at = sc.i;
            let want = match section {
                Section::Package => matches!(
                    key.as_ref(),
                    "name"
                        | "version"
                        | "category"
                        | "optional"
                        | "groups"
                        | "source"
                        | "dependencies"
                ),
                Section::Source | Section::OptionalDeps | Section::DevDeps => true,
                Section::Other => false,
            };
            let v = sc.value(want, 0)?;
            sc.end_of_line()?;
            if !want {
                continue;
            }
            let rec = recs.last_mut()?;
            match (section, key.as_ref(), v) {
                (Section::Package, "name", V::Str(s)) => {
                    rec.name = Some(s);
                    rec.line = lines.line(at);
                }
                (Section::Package, "version", V::Str(s)) => rec.version = Some(s),
                (Section::Package, "category", V::Str(s)) => rec.category = Some(s),
                (Section::Package, "optional", V::Bool(b)) => rec.optional = b,
                (Section::Package, "groups", V::Arr(items)) => {
                    rec.groups = Some(
                        items
                            .into_iter()
                            .filter_map(|v| match v {
                                V::Str(s) => Some(s),
                                _ => None,
                            })
                            .collect(),
                    );
                }
                (Section::Package, "source", V::Tab(entries)) => {
                    for (k, v) in entries {
                        if let V::Str(s) = v {
                            rec.source.push((k, s));
                        }
                    }
                }
                (Section::Package, "dependencies", v) => names(v, &mut rec.deps),
                (Section::Source, _, V::Str(s)) => rec.source.push((key, s)),
                (Section::OptionalDeps, _, v) => names(v, &mut rec.optional_deps),
                (Section::DevDeps, _, v) => names(v, &mut rec.dev_deps),
                // A wanted key with a value of another type: the toml
                // crate decides what that means.
                (Section::Source, _, _) => {}
                _ => return None,
            }
        }
        Some(recs)
    }

    /// The `name` of each inline table of an array.
    fn names<'a>(v: V<'a>, out: &mut Vec<Cow<'a, str>>) {
        if let V::Arr(items) = v {
            for item in items {
                if let V::Tab(entries) = item {
                    for (k, v) in entries {
                        if let (true, V::Str(s)) = (k == "name", v) {
                            out.push(s);
                        }
                    }
                }
            }
        }
    }

    impl<'a> S<'a> {
        /// Skip spaces and tabs, and with `newlines` also newlines and comments.
        fn skip_blank(&mut self, newlines: bool) {
            while let Some(&c) = self.b.get(self.i) {
                match c {
                    b' ' | b'\t' => self.i += 1,
                    b'\r' | b'\n' if newlines => self.i += 1,
                    b'#' if newlines => {
                        while self.b.get(self.i).is_some_and(|&c| c != b'\n') {
                            self.i += 1;
                        }
                    }
                    _ => break,
                }
            }
        }

        /// After a value or header: spaces, an optional comment, then a newline or the end.
        fn end_of_line(&mut self) -> Option<()> {
            self.skip_blank(false);
            match self.b.get(self.i) {
                None | Some(b'\n') => Some(()),
                Some(b'\r') if self.b.get(self.i + 1) == Some(&b'\n') => Some(()),
                Some(b'#') => {
                    while self.b.get(self.i).is_some_and(|&c| c != b'\n') {
                        self.i += 1;
                    }
                    Some(())
                }
                _ => None,
            }
        }

        /// A bare or quoted key (dotted keys are not expected in locks).
        fn key(&mut self) -> Option<Cow<'a, str>> {
            match self.b.get(self.i)? {
                b'"' | b'\'' => {
                    let k = self.string()?;
                    Some(k)
                }
                _ => {
                    let start = self.i;
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
                    {
                        self.i += 1;
                    }
                    if self.i == start || self.b.get(self.i) == Some(&b'.') {
                        return None;
                    }
                    Some(Cow::Borrowed(&self.s[start..self.i]))
                }
            }
        }

        fn value(&mut self, build: bool, depth: usize) -> Option<V<'a>> {
            if depth > MAX_NESTING {
                return None;
            }
            match *self.b.get(self.i)? {
                b'"' | b'\'' => {
                    let s = self.string()?;
                    Some(if build { V::Str(s) } else { V::Skipped })
                }
                b'[' => {
                    self.i += 1;
                    let mut items = Vec::new();
                    loop {
                        self.skip_blank(true);
                        if self.b.get(self.i) == Some(&b']') {
                            self.i += 1;
                            break;
                        }
                        let v = self.value(build, depth + 1)?;
                        if build {
                            items.push(v);
                        }
                        self.skip_blank(true);
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    Some(if build { V::Arr(items) } else { V::Skipped })
                }
                b'{' => {
                    self.i += 1;
                    let mut entries = Vec::new();
                    self.skip_blank(false);
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Some(if build { V::Tab(entries) } else { V::Skipped });
                    }
                    loop {
                        self.skip_blank(false);
                        let k = self.key()?;
                        self.skip_blank(false);
                        if self.b.get(self.i) != Some(&b'=') {
                            return None;
                        }
                        self.i += 1;
                        self.skip_blank(false);
                        let v = self.value(build, depth + 1)?;
                        if build {
                            entries.push((k, v));
                        }
                        self.skip_blank(false);
                        match self.b.get(self.i)? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    Some(if build { V::Tab(entries) } else { V::Skipped })
                }
                _ => {
                    // A scalar: true/false, a number or a date.
                    let start = self.i;
                    while self.b.get(self.i).is_some_and(|&c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'+' | b'_' | b':')
                    }) {
                        self.i += 1;
                    }
                    match &self.s[start..self.i] {
                        "" => None,
                        "true" => Some(V::Bool(true)),
                        "false" => Some(V::Bool(false)),
                        _ => Some(V::Skipped),
                    }
                }
            }
        }

        /// A string of any of the four kinds; the scanner stands on its quote.
        fn string(&mut self) -> Option<Cow<'a, str>> {
            let q = *self.b.get(self.i)?;
            let triple = self.b.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
            if triple {
                // Multi-line strings are not expected in locks' wanted
                // values; find the end only (escapes matter in basic ones).
                self.i += 3;
                let start = self.i;
                loop {
                    let c = *self.b.get(self.i)?;
                    if c == b'\\' && q == b'"' {
                        self.i += 2;
                        continue;
                    }
                    if self.b.get(self.i..self.i + 3) == Some(&[q, q, q][..]) {
                        // Up to two more quotes may belong to the content.
                        let mut end = self.i;
                        while self.b.get(end + 3) == Some(&q) && end - self.i < 2 {
                            end += 1;
                        }
                        self.i = end + 3;
                        let raw = self.s.get(start..end)?;
                        // Content with escapes is left to the toml crate.
                        if q == b'"' && raw.contains('\\') {
                            return None;
                        }
                        let raw = raw
                            .strip_prefix('\n')
                            .or_else(|| raw.strip_prefix("\r\n"))
                            .unwrap_or(raw);
                        return Some(Cow::Borrowed(raw));
                    }
                    self.i += 1;
                }
            }
            self.i += 1;
            let start = self.i;
            let mut escaped = false;
            loop {
                // Jump to the next quote, backslash or newline.
                let rest = self.b.get(self.i..)?;
                let off = if q == b'"' {
                    memchr::memchr3(b'"', b'\\', b'\n', rest)?
                } else {
                    memchr::memchr2(b'\'', b'\n', rest)?
                };
                self.i += off;
                match self.b.get(self.i)? {
                    b'\n' => return None,
                    b'\\' => {
                        escaped = true;
                        self.i += 2;
                    }
                    _ => break,
                }
            }
            let raw = self.s.get(start..self.i)?;
            self.i += 1;
            if !escaped {
                return Some(Cow::Borrowed(raw));
            }
            unescape(raw).map(Cow::Owned)
        }
    }

    /// Resolve the escapes of a basic string.
    fn unescape(raw: &str) -> Option<String> {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next()? {
                'b' => out.push('\u{8}'),
                't' => out.push('\t'),
                'n' => out.push('\n'),
                'f' => out.push('\u{c}'),
                'r' => out.push('\r'),
                'e' => out.push('\u{1b}'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'u' => out.push(hex(&mut chars, 4)?),
                'U' => out.push(hex(&mut chars, 8)?),
                'x' => out.push(hex(&mut chars, 2)?),
                _ => return None,
            }
        }
        Some(out)
    }

    fn hex(chars: &mut std::str::Chars<'_>, n: usize) -> Option<char> {
        let mut v = 0u32;
        for _ in 0..n {
            v = v.checked_mul(16)? + chars.next()?.to_digit(16)?;
        }
        char::from_u32(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast scanner and the toml crate agree.
    fn same(text: &str) {
        let lines = LineIndex::new(text);
        let fast = fast::scan(text, &lines).expect("fast path taken");
        let mut d = Vec::new();
        let slow = slow("x", text, &lines, &mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(fast, slow);
    }

    #[test]
    fn fast_and_slow_agree() {
        same(
            "# c\n[[package]]\nname = \"a\\u00e9\" # note\nversion = '1.0'\noptional = true\n\
             groups = [\n  \"main\", # x\n  \"dev\",\n]\ndescription = \"\"\"x\ny\"\"\"\n\
             files = [{file = \"a\", hash = \"b\"}]\nsize = 12\n\n[package.source]\ntype = \"git\"\n\
             url = \"u\"\n\n[package.dependencies]\nb = {version = \">=1\", markers = \"m\"}\n\n\
             [[package]]\nname = \"b\"\nsource = { registry = \"r\" }\n\
             dependencies = [\n    { name = \"c\", marker = \"x\" },\n]\n\
             [package.optional-dependencies]\nx = [{ name = \"d\" }]\n\
             [package.dev-dependencies]\ndev = [\n  { name = \"e\" },\n]\n\n[metadata]\nlock-version = \"2.0\"\n",
        );
    }

    #[test]
    fn fast_and_slow_agree_on_real_locks() {
        for f in [
            "poetry/osv.dev-website.poetry.lock",
            "poetry/dependency-check-test.poetry.lock",
            "uv/kanidm-pykanidm.uv.lock",
        ] {
            let path = format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
            same(&std::fs::read_to_string(path).unwrap());
        }
    }

    #[test]
    fn unexpected_shapes_fall_back() {
        let lines = LineIndex::new("");
        for t in [
            "[[package]]\nname.x = \"a\"\n",
            "[[package]]\nname = \"a\" junk\n",
            "[\"package\"]\n",
            "[[package]]\nname = \"unterminated\n",
            "[[package]]\nname = 1\n",
        ] {
            assert!(fast::scan(t, &lines).is_none(), "{t:?}");
        }
    }
}
