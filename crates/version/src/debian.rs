//! Debian deb-version(7): `[epoch:]upstream[-revision]`.
//!
//! Lenient: an upstream that does not start with a digit is accepted and
//! ordered by the same algorithm; only an empty string or a non-numeric
//! epoch is rejected.

use crate::util::{cmp_digits, run_len, Num, Span};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub(crate) struct Debian {
    epoch: Num,
    upstream: Span,
    /// None means no revision (compares as "0").
    revision: Option<Span>,
}

pub(crate) fn parse(raw: &str) -> Result<Debian, &'static str> {
    let lead = raw.len() - raw.trim_start().len();
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty version");
    }
    let mut start = lead;
    let end = lead + t.len();
    let mut epoch = Num::ZERO;
    if let Some(c) = t.find(':') {
        epoch = Num::parse(t.get(..c).unwrap_or("")).ok_or("epoch is not a number")?;
        start += c + 1;
    }
    let body = raw.get(start..end).unwrap_or("");
    let (upstream, revision) = match body.rfind('-') {
        Some(d) => (
            Span::new(start, start + d),
            Some(Span::new(start + d + 1, end)),
        ),
        None => (Span::new(start, end), None),
    };
    Ok(Debian {
        epoch,
        upstream,
        revision,
    })
}

/// dpkg's character order: `~` < end of part < letters < everything else.
fn weight(c: Option<u8>) -> u32 {
    match c {
        Some(b'~') => 1,
        None => 2,
        Some(c) if c.is_ascii_alphabetic() => u32::from(c),
        Some(c) => u32::from(c) + 256,
    }
}

/// dpkg verrevcmp on one part (upstream or revision).
pub(crate) fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut a, mut b) = (a, b);
    while !a.is_empty() || !b.is_empty() {
        let na = run_len(a, |c| !c.is_ascii_digit());
        let nb = run_len(b, |c| !c.is_ascii_digit());
        let (pa, pb) = (a.get(..na).unwrap_or(&[]), b.get(..nb).unwrap_or(&[]));
        if pa != pb {
            for i in 0..na.max(nb) {
                let o = weight(pa.get(i).copied()).cmp(&weight(pb.get(i).copied()));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
        a = a.get(na..).unwrap_or(&[]);
        b = b.get(nb..).unwrap_or(&[]);
        let da = run_len(a, |c| c.is_ascii_digit());
        let db = run_len(b, |c| c.is_ascii_digit());
        let o = cmp_digits(a.get(..da).unwrap_or(&[]), b.get(..db).unwrap_or(&[]));
        if o != Ordering::Equal {
            return o;
        }
        a = a.get(da..).unwrap_or(&[]);
        b = b.get(db..).unwrap_or(&[]);
    }
    Ordering::Equal
}

pub(crate) fn compare(a: &Debian, b: &Debian, ra: &str, rb: &str) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.get(ra).as_bytes(), b.upstream.get(rb).as_bytes()))
        .then_with(|| {
            let x = a.revision.map_or("0", |s| s.get(ra));
            let y = b.revision.map_or("0", |s| s.get(rb));
            verrevcmp(x.as_bytes(), y.as_bytes())
        })
}
