//! Maven `ComparableVersion` (the POM "Version Order Specification").
//!
//! Tokens are split at `.`, `-` and digit/letter transitions; each token
//! remembers its separator; trailing "null" tokens (`0`, ``, `final`, `ga`,
//! `release`) are trimmed before each `-`; the shorter version is padded with
//! null tokens that take the other side's separator.

use crate::util::{cmp_ci, Num, Span};
use std::cmp::Ordering;

const KNOWN: &[&str] = &["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const EMPTY: u8 = 5;
const UNKNOWN: u8 = 7;

#[derive(Debug, Clone, Copy)]
enum Val {
    Num(Num),
    Known(u8),
    Unknown(Span),
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    /// 0 = none (first token), 1 = '.', 2 = '-'
    prefix: u8,
    val: Val,
    null: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Maven {
    toks: Vec<Tok>,
}

fn classify(raw: &str, start: usize, end: usize, last_piece: bool) -> Val {
    let piece = raw.get(start..end).unwrap_or("");
    if piece.is_empty() {
        return Val::Num(Num::ZERO);
    }
    if let Some(n) = Num::parse(piece) {
        return Val::Num(n);
    }
    let eq = |w: &str| piece.eq_ignore_ascii_case(w);
    if eq("cr") {
        return Val::Known(3);
    }
    if eq("ga") || eq("final") || eq("release") {
        return Val::Known(EMPTY);
    }
    if !last_piece {
        if eq("a") {
            return Val::Known(0);
        }
        if eq("b") {
            return Val::Known(1);
        }
        if eq("m") {
            return Val::Known(2);
        }
    }
    match KNOWN.iter().position(|k| eq(k)) {
        Some(k) => Val::Known(k as u8),
        None => Val::Unknown(Span::new(start, end)),
    }
}

pub(crate) fn parse(raw: &str) -> Result<Maven, &'static str> {
    if raw.is_empty() {
        return Err("empty version");
    }
    let s = raw.as_bytes();
    let mut toks = Vec::with_capacity(6);
    let mut start = 0;
    let mut prefix = 0u8;
    loop {
        let end = s
            .get(start..)
            .and_then(|r| r.iter().position(|&c| c == b'.' || c == b'-'))
            .map_or(s.len(), |p| start + p);
        // Split the raw token at digit/non-digit transitions.
        let mut p0 = start;
        let mut pre = prefix;
        for k in start + 1..=end {
            let boundary = k == end
                || s.get(k - 1).is_some_and(u8::is_ascii_digit)
                    != s.get(k).is_some_and(u8::is_ascii_digit);
            if boundary {
                toks.push(Tok {
                    prefix: pre,
                    val: classify(raw, p0, k, k == end),
                    null: false,
                });
                pre = 2;
                p0 = k;
            }
        }
        if start == end {
            toks.push(Tok {
                prefix: pre,
                val: Val::Num(Num::ZERO),
                null: false,
            });
        }
        match s.get(end) {
            Some(b'.') => prefix = 1,
            Some(_) => prefix = 2,
            None => break,
        }
        start = end + 1;
    }
    // Trim trailing nulls, then repeat before each remaining '-'.
    let mut i = toks.len() as isize - 1;
    while i > 0 {
        let idx = i as usize;
        if toks.get(idx).is_some_and(should_trim) {
            toks.remove(idx);
            i -= 1;
            continue;
        }
        while i >= 0 && toks.get(i as usize).is_some_and(|t| t.prefix != 2) {
            i -= 1;
        }
        i -= 1;
    }
    Ok(Maven { toks })
}

fn should_trim(t: &Tok) -> bool {
    match t.val {
        Val::Num(n) => n.is_zero(),
        Val::Known(k) => k == EMPTY,
        Val::Unknown(_) => false,
    }
}

fn null_of(t: &Tok) -> Tok {
    if t.prefix == 2 {
        Tok {
            prefix: 2,
            val: Val::Known(EMPTY),
            null: true,
        }
    } else if matches!(t.val, Val::Known(6)) {
        Tok {
            prefix: 1,
            val: Val::Known(EMPTY),
            null: true,
        }
    } else {
        Tok {
            prefix: 1,
            val: Val::Num(Num::ZERO),
            null: true,
        }
    }
}

fn val_str<'a>(v: &Val, raw: &'a str) -> &'a str {
    match v {
        Val::Num(_) => "0",
        Val::Known(_) => "",
        Val::Unknown(s) => s.get(raw),
    }
}

fn kw(v: &Val) -> u8 {
    match v {
        Val::Known(k) => *k,
        _ => UNKNOWN,
    }
}

/// Order of tokens with different separators: `.qualifier` < `-qualifier`
/// < `-number` < `.number`.
fn class(t: &Tok) -> u8 {
    match (matches!(t.val, Val::Num(_)), t.prefix) {
        (false, 2) => 1,
        (false, _) => 0,
        (true, 2) => 2,
        (true, _) => 3,
    }
}

/// Which side of a release a qualifier sorts on: 0 before (alpha..snapshot),
/// 1 the release itself (""), 2 after (sp, unknown qualifiers).
fn side(v: &Val) -> u8 {
    match kw(v) {
        k if k < EMPTY => 0,
        EMPTY => 1,
        _ => 2,
    }
}

fn cmp_tok(a: &Tok, b: &Tok, ra: &str, rb: &str) -> Ordering {
    if a.prefix != b.prefix {
        let (ca, cb) = (class(a), class(b));
        if ca <= 1 && cb <= 1 {
            // Two qualifiers with different separators: a pre-release one is
            // always below a post-release one (keeps the order transitive:
            // `1-alpha` < `1` < `1.a`), otherwise `.` sorts before `-`.
            return side(&a.val).cmp(&side(&b.val)).then(ca.cmp(&cb));
        }
        return ca.cmp(&cb);
    }
    match (a.val, b.val) {
        (Val::Num(x), Val::Num(y)) => return x.cmp(&y),
        (Val::Num(_), _) if !a.null => return Ordering::Greater,
        (_, Val::Num(_)) if !b.null => return Ordering::Less,
        _ => {}
    }
    let (ka, kb) = (kw(&a.val), kw(&b.val));
    if ka == UNKNOWN && kb == UNKNOWN {
        return cmp_ci(val_str(&a.val, ra), val_str(&b.val, rb));
    }
    ka.cmp(&kb)
}

pub(crate) fn compare(a: &Maven, b: &Maven, ra: &str, rb: &str) -> Ordering {
    for i in 0..a.toks.len().max(b.toks.len()) {
        let (l, r) = match (a.toks.get(i), b.toks.get(i)) {
            (Some(l), Some(r)) => (*l, *r),
            (Some(l), None) => (*l, null_of(l)),
            (None, Some(r)) => (null_of(r), *r),
            (None, None) => break,
        };
        let o = cmp_tok(&l, &r, ra, rb);
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
