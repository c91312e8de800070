//! RPM `rpmvercmp` on `[epoch:]version[-release]`, with `~` and `^`.

use crate::util::{cmp_digits, run_len, Span};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub(crate) struct Rpm {
    /// Empty span means epoch 0.
    epoch: Span,
    version: Span,
    /// Includes the leading `-`; empty when there is no release.
    release: Span,
}

pub(crate) fn parse(raw: &str) -> Result<Rpm, &'static str> {
    if raw.is_empty() {
        return Err("empty version");
    }
    let (epoch, vstart) = match raw.find(':') {
        Some(c)
            if raw
                .get(..c)
                .is_some_and(|e| e.bytes().all(|b| b.is_ascii_digit())) =>
        {
            (Span::new(0, c), c + 1)
        }
        _ => (Span::new(0, 0), 0),
    };
    let vr = raw.get(vstart..).unwrap_or("");
    let (version, release) = match vr.find('-') {
        Some(d) => (
            Span::new(vstart, vstart + d),
            Span::new(vstart + d, raw.len()),
        ),
        None => (
            Span::new(vstart, raw.len()),
            Span::new(raw.len(), raw.len()),
        ),
    };
    Ok(Rpm {
        epoch,
        version,
        release,
    })
}

fn trimmed(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

/// rpmvercmp.
pub(crate) fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() && !b.is_empty() {
        return Ordering::Less;
    }
    if !a.is_empty() && b.is_empty() {
        return Ordering::Greater;
    }
    let (mut a, mut b) = (a, b);
    loop {
        a = a.get(run_len(a, trimmed)..).unwrap_or(&[]);
        b = b.get(run_len(b, trimmed)..).unwrap_or(&[]);
        let (fa, fb) = (a.first().copied(), b.first().copied());
        match (fa == Some(b'~'), fb == Some(b'~')) {
            (true, true) => {
                a = a.get(1..).unwrap_or(&[]);
                b = b.get(1..).unwrap_or(&[]);
                continue;
            }
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        match (fa == Some(b'^'), fb == Some(b'^')) {
            (true, true) => {
                a = a.get(1..).unwrap_or(&[]);
                b = b.get(1..).unwrap_or(&[]);
                continue;
            }
            (true, false) => {
                return if b.is_empty() {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                return if a.is_empty() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => {}
        }
        let Some(first) = fa else { break };
        if b.is_empty() {
            break;
        }
        let digit = first.is_ascii_digit();
        let kind = |c: u8| {
            if digit {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let na = run_len(a, kind);
        let nb = run_len(b, kind);
        let (sa, sb) = (a.get(..na).unwrap_or(&[]), b.get(..nb).unwrap_or(&[]));
        a = a.get(na..).unwrap_or(&[]);
        b = b.get(nb..).unwrap_or(&[]);
        if sb.is_empty() {
            return if digit {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let o = if digit {
            cmp_digits(sa, sb)
        } else {
            sa.cmp(sb)
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

pub(crate) fn compare(a: &Rpm, b: &Rpm, ra: &str, rb: &str) -> Ordering {
    let ea = if a.epoch.is_empty() {
        "0"
    } else {
        a.epoch.get(ra)
    };
    let eb = if b.epoch.is_empty() {
        "0"
    } else {
        b.epoch.get(rb)
    };
    rpmvercmp(ea.as_bytes(), eb.as_bytes())
        .then_with(|| rpmvercmp(a.version.get(ra).as_bytes(), b.version.get(rb).as_bytes()))
        .then_with(|| rpmvercmp(a.release.get(ra).as_bytes(), b.release.get(rb).as_bytes()))
}
