//! dpkg databases: `var/lib/dpkg/status` and the per-package files of
//! `var/lib/dpkg/status.d/` (distroless images).

use crate::DistroContext;
use portcullis_model::{Diagnostic, Location, Package};

/// One paragraph's fields of interest, borrowed from the text.
#[derive(Default)]
struct Para<'a> {
    start: u32,
    package: Option<&'a str>,
    status: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    source: Option<&'a str>,
    fields: u32,
}

/// Parse the text of a dpkg status file (or one `status.d` file).
///
/// `path` names the file in diagnostics and locations. Only packages whose
/// `Status` says `installed` are returned; a paragraph without `Status` is
/// kept when `require_status` is false (the `status.d` files of distroless
/// images have none).
pub fn parse_dpkg_status(
    path: &str,
    text: &str,
    ctx: &DistroContext,
    require_status: bool,
) -> (Vec<Package>, Vec<Diagnostic>) {
    let mut out = Vec::with_capacity(text.len() / 900 + 1);
    let mut diags = Vec::new();
    let mut para = Para::default();
    let mut line_no: u32 = 0;
    for raw in text.split('\n') {
        line_no = line_no.saturating_add(1);
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if para.fields > 0 {
                finish(path, &para, ctx, require_status, &mut out, &mut diags);
            }
            para = Para::default();
            continue;
        }
        let first = line.as_bytes().first().copied();
        if matches!(first, Some(b' ' | b'\t')) {
            // A continuation line of a multi-line field.
            if para.fields == 0 {
                diags.push(
                    Diagnostic::warning(path, "continuation line outside any field; ignored")
                        .at(line_no, Some(1)),
                );
            }
            continue;
        }
        if first == Some(b'#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            diags.push(
                Diagnostic::warning(
                    path,
                    format!("expected `Field: value`, found {:?}; ignored", clip(line)),
                )
                .at(line_no, Some(1)),
            );
            continue;
        };
        if para.fields == 0 {
            para.start = line_no;
        }
        para.fields += 1;
        let value = value.trim();
        let slot = match key.len() {
            7 if key.eq_ignore_ascii_case("Package") => &mut para.package,
            6 if key.eq_ignore_ascii_case("Status") => &mut para.status,
            7 if key.eq_ignore_ascii_case("Version") => &mut para.version,
            12 if key.eq_ignore_ascii_case("Architecture") => &mut para.arch,
            6 if key.eq_ignore_ascii_case("Source") => &mut para.source,
            _ => continue,
        };
        *slot = Some(value);
    }
    if para.fields > 0 {
        finish(path, &para, ctx, require_status, &mut out, &mut diags);
    }
    (out, diags)
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn finish(
    path: &str,
    para: &Para<'_>,
    ctx: &DistroContext,
    require_status: bool,
    out: &mut Vec<Package>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(name) = para.package.filter(|n| !n.is_empty()) else {
        diags.push(
            Diagnostic::warning(path, "paragraph without a Package field; skipped")
                .at(para.start, None),
        );
        return;
    };
    match para.status {
        // `want flag state`: only the state matters.
        Some(status) if status.split_whitespace().nth(2) != Some("installed") => return,
        Some(_) => {}
        None if require_status => {
            diags.push(
                Diagnostic::warning(path, format!("package {name} has no Status field; skipped"))
                    .at(para.start, None),
            );
            return;
        }
        None => {}
    }
    let Some(version) = para.version.filter(|v| !v.is_empty()) else {
        diags.push(
            Diagnostic::warning(
                path,
                format!("installed package {name} has no Version field; skipped"),
            )
            .at(para.start, None),
        );
        return;
    };
    let (src_name, src_version) = match para.source {
        Some(src) => match src.split_once('(') {
            Some((n, rest)) => {
                let v = rest.trim_end().trim_end_matches(')').trim();
                (n.trim(), Some(v).filter(|v| !v.is_empty()))
            }
            None => (src.trim(), None),
        },
        None => (name, None),
    };
    let src_name = if src_name.is_empty() { name } else { src_name };
    let loc = Location {
        path: path.to_string(),
        line: Some(para.start),
    };
    let mut p = ctx.package("deb", name, version, version, loc);
    if let Some(arch) = para.arch {
        p.purl = p.purl.with_qualifier("arch", arch);
    }
    // The upstream qualifier as syft writes it: `src` when only the name
    // differs, `src@version` when the source version is given.
    match src_version {
        Some(sv) => {
            p.purl = p
                .purl
                .with_qualifier("upstream", &format!("{src_name}@{sv}"))
        }
        None if src_name != name => p.purl = p.purl.with_qualifier("upstream", src_name),
        None => {}
    }
    p.source_name = Some(src_name.to_string());
    p.source_version = src_version.filter(|v| *v != version).map(str::to_string);
    out.push(p);
}
