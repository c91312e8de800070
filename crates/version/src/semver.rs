//! SemVer-like schemes: SemVer, Go, NuGet, Pub and Hackage.
//!
//! The parser reads numeric components separated by dots, then treats the
//! rest (from the first other character) as `-prerelease+build`. Components
//! beyond the scheme's maximum (3 for SemVer, 4 for NuGet) become extra
//! prerelease identifiers, as osv-scalibr does, so `1.1.3.4` sorts as a
//! pre-release of `1.1.3`.

use crate::util::{cmp_ci, cmp_padded, is_digits, Num, Span};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ident {
    Num(Num),
    Text(Span),
}

#[derive(Debug, Clone)]
pub(crate) struct SemverLike {
    comps: Vec<Num>,
    pre: Vec<Ident>,
    build: Option<Vec<Ident>>,
}

/// Which flavour of comparison to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// SemVer / Go: case-sensitive prerelease, build ignored.
    SemVer,
    /// NuGet: case-insensitive prerelease, build ignored.
    NuGet,
    /// Pub: build metadata orders after the prerelease.
    Pub,
    /// Hackage: numbers only, lexicographic.
    Hackage,
}

fn push_idents(raw: &str, start: usize, end: usize, out: &mut Vec<Ident>) {
    let s = raw.get(start..end).unwrap_or("");
    let mut pos = start;
    for part in s.split('.') {
        let span = Span::new(pos, pos + part.len());
        pos += part.len() + 1;
        if is_digits(part) {
            out.push(Ident::Num(Num::from_digits(part.as_bytes())));
        } else {
            out.push(Ident::Text(span));
        }
    }
}

/// Parse; `max` is the number of numeric components kept (None = all).
pub(crate) fn parse(raw: &str, max: Option<usize>) -> Result<SemverLike, &'static str> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'v') {
        i = 1;
    }
    if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
        return Err("expected a digit at the start");
    }
    let mut comps = Vec::with_capacity(4);
    let mut build_start = bytes.len();
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(0);
        if c.is_ascii_digit() {
            let n = crate::util::run_len(bytes.get(i..).unwrap_or(&[]), |c| c.is_ascii_digit());
            comps.push(Num::from_digits(bytes.get(i..i + n).unwrap_or(&[])));
            i += n;
        } else if c == b'.' {
            i += 1;
        } else {
            build_start = i;
            break;
        }
    }
    let extra: Vec<Num> = match max {
        Some(m) if comps.len() > m => comps.split_off(m),
        _ => Vec::new(),
    };
    // The build string: [build_start, len).
    let tail = raw.get(build_start..).unwrap_or("");
    let (pre_end, build) = match tail.find('+') {
        Some(p) => {
            let mut ids = Vec::new();
            push_idents(raw, build_start + p + 1, raw.len(), &mut ids);
            (build_start + p, Some(ids))
        }
        None => (raw.len(), None),
    };
    let mut pre_start = build_start;
    if bytes.get(pre_start) == Some(&b'-') {
        pre_start += 1;
    }
    let mut pre = Vec::new();
    let pre_empty = pre_start >= pre_end;
    if !pre_empty {
        push_idents(raw, pre_start, pre_end, &mut pre);
    }
    if !extra.is_empty() && build.is_none() {
        if pre_empty {
            pre.push(Ident::Text(Span::new(pre_end, pre_end)));
        }
        pre.extend(extra.into_iter().map(Ident::Num));
    }
    Ok(SemverLike { comps, pre, build })
}

/// Parse a Hackage (Cabal) version: dotted numbers only.
pub(crate) fn parse_hackage(raw: &str) -> Result<SemverLike, &'static str> {
    let v = parse(raw, None)?;
    if !v.pre.is_empty() || v.build.is_some() {
        return Err("Hackage versions are dot-separated numbers only");
    }
    Ok(v)
}

fn cmp_ident(a: &Ident, b: &Ident, ra: &str, rb: &str, ci: bool) -> Ordering {
    match (a, b) {
        (Ident::Num(x), Ident::Num(y)) => x.cmp(y),
        (Ident::Num(_), Ident::Text(_)) => Ordering::Less,
        (Ident::Text(_), Ident::Num(_)) => Ordering::Greater,
        (Ident::Text(x), Ident::Text(y)) => {
            if ci {
                cmp_ci(x.get(ra), y.get(rb))
            } else {
                x.get(ra).cmp(y.get(rb))
            }
        }
    }
}

fn cmp_idents(a: &[Ident], b: &[Ident], ra: &str, rb: &str, ci: bool) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        match cmp_ident(x, y, ra, rb, ci) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    a.len().cmp(&b.len())
}

pub(crate) fn compare(
    a: &SemverLike,
    b: &SemverLike,
    ra: &str,
    rb: &str,
    flavor: Flavor,
) -> Ordering {
    if flavor == Flavor::Hackage {
        return a.comps.cmp(&b.comps);
    }
    let o = cmp_padded(&a.comps, &b.comps);
    if o != Ordering::Equal {
        return o;
    }
    let ci = flavor == Flavor::NuGet;
    let o = match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => cmp_idents(&a.pre, &b.pre, ra, rb, ci),
    };
    if o != Ordering::Equal || flavor != Flavor::Pub {
        return o;
    }
    match (&a.build, &b.build) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => cmp_idents(x, y, ra, rb, false),
    }
}
