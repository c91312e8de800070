//! RubyGems, Packagist, CRAN and the generic fallback.

use crate::util::{cmp_ci, is_digits, Num, Span};
use std::cmp::Ordering;

/// A segment that is either a number or some text (a range of the raw string).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg {
    Num(Num),
    Text(Span),
}

/// Split `raw[start..end]` at `seps` and at digit/non-digit transitions
/// (transitions involving a separator do not count).
fn split_segments(raw: &str, seps: &[u8], mut f: impl FnMut(usize, usize)) {
    let s = raw.as_bytes();
    let mut p0 = 0;
    for k in 0..=s.len() {
        let c = s.get(k).copied();
        let is_sep = c.is_some_and(|c| seps.contains(&c));
        if c.is_none() || is_sep {
            f(p0, k);
            p0 = k + 1;
            continue;
        }
        if k > p0 {
            let prev = s.get(k - 1).is_some_and(u8::is_ascii_digit);
            if prev != c.is_some_and(|c| c.is_ascii_digit()) {
                f(p0, k);
                p0 = k;
            }
        }
    }
}

// ---------------------------------------------------------------- RubyGems

#[derive(Debug, Clone)]
pub(crate) struct Gem {
    segs: Vec<Seg>,
}

pub(crate) fn parse_gem(raw: &str) -> Result<Gem, &'static str> {
    if raw.trim().is_empty() {
        return Err("empty version");
    }
    let mut segs: Vec<Seg> = Vec::with_capacity(4);
    let mut zero_flags: Vec<bool> = Vec::with_capacity(4);
    let mut first_text: Option<usize> = None;
    split_segments(raw, b".", |a, b| {
        let part = raw.get(a..b).unwrap_or("");
        if first_text.is_none() && is_digits(part) {
            segs.push(Seg::Num(Num::from_digits(part.as_bytes())));
        } else {
            if first_text.is_none() {
                first_text = Some(segs.len());
            }
            if is_digits(part) {
                segs.push(Seg::Num(Num::from_digits(part.as_bytes())));
            } else {
                segs.push(Seg::Text(Span::new(a, b)));
            }
        }
        zero_flags.push(part == "0");
    });
    // Remove trailing literal "0" segments from the number group and from
    // the build group (as Gem::Version#canonical_segments does).
    let split = first_text.unwrap_or(segs.len());
    let mut end_build = segs.len();
    while end_build > split && zero_flags.get(end_build - 1) == Some(&true) {
        end_build -= 1;
    }
    let mut end_num = split;
    while end_num > 0 && zero_flags.get(end_num - 1) == Some(&true) {
        end_num -= 1;
    }
    segs.truncate(end_build);
    segs.drain(end_num..split.min(segs.len()).max(end_num));
    Ok(Gem { segs })
}

pub(crate) fn cmp_gem(a: &Gem, b: &Gem, ra: &str, rb: &str) -> Ordering {
    let zero = Seg::Num(Num::ZERO);
    for i in 0..a.segs.len().max(b.segs.len()) {
        let x = a.segs.get(i).copied().unwrap_or(zero);
        let y = b.segs.get(i).copied().unwrap_or(zero);
        let o = match (x, y) {
            (Seg::Num(x), Seg::Num(y)) => x.cmp(&y),
            (Seg::Text(x), Seg::Text(y)) => x.get(ra).cmp(y.get(rb)),
            (Seg::Num(_), Seg::Text(_)) => Ordering::Greater,
            (Seg::Text(_), Seg::Num(_)) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------- Packagist

/// Weight of a component: dev/unknown < alpha < beta < RC < `#` < number < patch.
const W_HASH: u8 = 8;
const W_NUM: u8 = 9;

#[derive(Debug, Clone)]
pub(crate) struct Packagist {
    comps: Vec<(u8, Num)>,
}

fn special_weight(s: &str) -> u8 {
    if s.starts_with("RC") {
        return 6;
    }
    for (w, p) in [
        (0, "dev"),
        (2, "a"),
        (4, "b"),
        (6, "rc"),
        (W_HASH, "#"),
        (10, "p"),
    ] {
        if s.starts_with(p) {
            return w;
        }
    }
    0
}

pub(crate) fn parse_packagist(raw: &str) -> Result<Packagist, &'static str> {
    if raw.is_empty() {
        return Err("empty version");
    }
    let mut off = 0;
    if raw.starts_with('v') {
        off += 1;
    }
    if raw.get(off..).is_some_and(|r| r.starts_with('V')) {
        off += 1;
    }
    let body = raw.get(off..).unwrap_or("");
    let mut comps = Vec::with_capacity(4);
    split_segments(body, b"-_+.", |a, b| {
        let part = body.get(a..b).unwrap_or("");
        comps.push(match Num::parse(part) {
            Some(n) => (W_NUM, n),
            None => (special_weight(part), Num::ZERO),
        });
    });
    Ok(Packagist { comps })
}

pub(crate) fn cmp_packagist(a: &Packagist, b: &Packagist) -> Ordering {
    // The shorter side is padded with `#`, which sorts below numbers and
    // `p`/`patch`/`pl` and above the other special forms (PHP's rule).
    let pad = (W_HASH, Num::ZERO);
    for i in 0..a.comps.len().max(b.comps.len()) {
        let x = a.comps.get(i).copied().unwrap_or(pad);
        let y = b.comps.get(i).copied().unwrap_or(pad);
        let o = x.cmp(&y);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

// ---------------------------------------------------------------- CRAN

pub(crate) fn parse_cran(raw: &str) -> Result<Vec<Num>, &'static str> {
    if raw.is_empty() {
        return Err("empty version");
    }
    let mut out = Vec::with_capacity(4);
    for part in raw.split(['.', '-']) {
        out.push(Num::parse(part).ok_or("CRAN versions are numbers separated by '.' or '-'")?);
    }
    Ok(out)
}

// ---------------------------------------------------------------- Generic

#[derive(Debug, Clone)]
pub(crate) struct Generic {
    segs: Vec<Seg>,
}

pub(crate) fn parse_generic(raw: &str) -> Result<Generic, &'static str> {
    let mut segs = Vec::with_capacity(4);
    let s = raw.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = s.get(i).copied().unwrap_or(0);
        let f: fn(u8) -> bool = if c.is_ascii_digit() {
            |c| c.is_ascii_digit()
        } else if c.is_ascii_alphabetic() {
            |c| c.is_ascii_alphabetic()
        } else {
            i += 1;
            continue;
        };
        let n = crate::util::run_len(s.get(i..).unwrap_or(&[]), f);
        let part = s.get(i..i + n).unwrap_or(&[]);
        segs.push(if c.is_ascii_digit() {
            Seg::Num(Num::from_digits(part))
        } else {
            Seg::Text(Span::new(i, i + n))
        });
        i += n;
    }
    if segs.is_empty() {
        return Err("no digits or letters");
    }
    Ok(Generic { segs })
}

pub(crate) fn cmp_generic(a: &Generic, b: &Generic, ra: &str, rb: &str) -> Ordering {
    // Lexicographic, with "end" sorting after text (a pre-release tag) and
    // before numbers (a further release component).
    let rank = |s: Option<&Seg>| match s {
        Some(Seg::Text(_)) => 0,
        None => 1,
        Some(Seg::Num(_)) => 2,
    };
    for i in 0..a.segs.len().max(b.segs.len()) {
        let (x, y) = (a.segs.get(i), b.segs.get(i));
        let o = match (x, y) {
            (Some(Seg::Num(x)), Some(Seg::Num(y))) => x.cmp(y),
            (Some(Seg::Text(x)), Some(Seg::Text(y))) => cmp_ci(x.get(ra), y.get(rb)),
            _ => rank(x).cmp(&rank(y)),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
