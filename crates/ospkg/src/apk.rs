//! Alpine (and Wolfi, Chainguard) `lib/apk/db/installed`.

use crate::DistroContext;
use portcullis_model::{Diagnostic, Location, Package};

#[derive(Default)]
struct Entry<'a> {
    start: u32,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    license: Option<&'a str>,
    fields: u32,
}

/// Parse the text of an apk `installed` database: blank-line separated
/// records of `X:value` lines (`P` name, `V` version, `A` arch, `o` origin,
/// the source package, `L` licence).
pub fn parse_apk_installed(
    path: &str,
    text: &str,
    ctx: &DistroContext,
) -> (Vec<Package>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    let mut e = Entry::default();
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            if e.fields > 0 {
                finish(path, &e, ctx, &mut out, &mut diags);
            }
            e = Entry::default();
            continue;
        }
        let b = line.as_bytes();
        if b.len() < 2 || b[1] != b':' {
            diags.push(
                Diagnostic::warning(path, "expected a `X:value` line; ignored")
                    .at(line_no, Some(1)),
            );
            continue;
        }
        if e.fields == 0 {
            e.start = line_no;
        }
        e.fields += 1;
        let value = &line[2..];
        match b[0] {
            b'P' => e.name = Some(value),
            b'V' => e.version = Some(value),
            b'A' => e.arch = Some(value),
            b'o' => e.origin = Some(value),
            b'L' => e.license = Some(value),
            _ => {}
        }
    }
    if e.fields > 0 {
        finish(path, &e, ctx, &mut out, &mut diags);
    }
    (out, diags)
}

fn finish(
    path: &str,
    e: &Entry<'_>,
    ctx: &DistroContext,
    out: &mut Vec<Package>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(name) = e.name.filter(|n| !n.is_empty()) else {
        diags.push(
            Diagnostic::warning(path, "record without a P: (name) line; skipped").at(e.start, None),
        );
        return;
    };
    let Some(version) = e.version.filter(|v| !v.is_empty()) else {
        diags.push(
            Diagnostic::warning(
                path,
                format!("package {name} has no V: (version) line; skipped"),
            )
            .at(e.start, None),
        );
        return;
    };
    let loc = Location {
        path: path.to_string(),
        line: Some(e.start),
    };
    let mut p = ctx.package("apk", name, version, version, loc);
    if let Some(a) = e.arch {
        p.purl = p.purl.with_qualifier("arch", a);
    }
    let origin = e.origin.filter(|o| !o.is_empty()).unwrap_or(name);
    if origin != name {
        p.purl = p.purl.with_qualifier("upstream", origin);
    }
    p.source_name = Some(origin.to_string());
    if let Some(l) = e.license.map(str::trim).filter(|l| !l.is_empty()) {
        p.licenses.push(l.to_string());
    }
    out.push(p);
}
