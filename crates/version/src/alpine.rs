//! apk-tools versions: `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`.
//!
//! Follows the behaviour of `apk version -t` as captured by osv-scalibr's
//! vectors, including its handling of invalid strings: the parsed parts are
//! compared first; if they tie, a valid version sorts before an invalid one
//! and two invalid ones compare as plain strings.

use crate::util::{run_len, Num, Span};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub(crate) struct Alpine {
    comps: Vec<(Num, Span)>,
    letter: u8,
    suffixes: Vec<(u8, Num)>,
    build: Num,
    remainder_empty: bool,
    invalid: bool,
}

const SUFFIXES: &[&str] = &["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
const SUFFIX_WEIGHT: &[u8] = &[0, 1, 2, 3, 5, 6, 7, 8, 9];
const RELEASE_WEIGHT: u8 = 4;

pub(crate) fn parse(raw: &str) -> Result<Alpine, &'static str> {
    if raw.is_empty() {
        return Err("empty version");
    }
    let s = raw.as_bytes();
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let digits = |i: usize| run_len(s.get(i..).unwrap_or(&[]), |c| c.is_ascii_digit());
    let mut i = 0;
    let mut comps = Vec::with_capacity(4);
    loop {
        let n = digits(i);
        if n == 0 {
            break;
        }
        comps.push((
            Num::from_digits(s.get(i..i + n).unwrap_or(&[])),
            Span::new(i, i + n),
        ));
        i += n;
        if at(i) == b'.' && at(i + 1).is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    let mut letter = 0;
    if at(i).is_ascii_lowercase() {
        letter = at(i);
        i += 1;
    }
    // Suffixes: every `_word\d*` in the rest is recorded (as the reference
    // regex does); only those directly at the front are consumed.
    let mut suffixes = Vec::new();
    let mut j = i;
    while j < s.len() {
        if at(j) == b'_' {
            let rest = s.get(j + 1..).unwrap_or(&[]);
            if let Some(k) = SUFFIXES.iter().position(|w| rest.starts_with(w.as_bytes())) {
                let wl = SUFFIXES.get(k).map_or(0, |w| w.len());
                let ds = j + 1 + wl;
                let n = digits(ds);
                suffixes.push((
                    SUFFIX_WEIGHT.get(k).copied().unwrap_or(RELEASE_WEIGHT),
                    Num::from_digits(s.get(ds..ds + n).unwrap_or(&[])),
                ));
                if j == i {
                    i = ds + n;
                }
                j = ds + n;
                continue;
            }
        }
        j += 1;
    }
    // Hash.
    if at(i) == b'~' {
        let n = run_len(
            s.get(i + 1..).unwrap_or(&[]),
            |c| matches!(c, b'0'..=b'9' | b'a'..=b'f'),
        );
        if n > 0 {
            i += 1 + n;
        }
    }
    let mut build = Num::ZERO;
    let mut invalid = false;
    if i < s.len() {
        if at(i) == b'-' && at(i + 1) == b'r' {
            let n = digits(i + 2);
            build = Num::from_digits(s.get(i + 2..i + 2 + n).unwrap_or(&[]));
            i += 2 + n;
        } else {
            invalid = true;
        }
    }
    Ok(Alpine {
        comps,
        letter,
        suffixes,
        build,
        remainder_empty: i >= s.len(),
        invalid,
    })
}

fn cmp_comp(
    i: usize,
    a: Option<&(Num, Span)>,
    b: Option<&(Num, Span)>,
    ra: &str,
    rb: &str,
) -> Ordering {
    let (na, sa) = a.map_or((Num::ZERO, "0"), |(n, s)| (*n, s.get(ra)));
    let (nb, sb) = b.map_or((Num::ZERO, "0"), |(n, s)| (*n, s.get(rb)));
    if i != 0 && (sa.starts_with('0') || sb.starts_with('0')) {
        // apk compares components with a leading zero as strings
        sa.cmp(sb)
    } else {
        na.cmp(&nb)
    }
}

pub(crate) fn compare(a: &Alpine, b: &Alpine, ra: &str, rb: &str) -> Ordering {
    for i in 0..a.comps.len().max(b.comps.len()) {
        let o = cmp_comp(i, a.comps.get(i), b.comps.get(i), ra, rb);
        if o != Ordering::Equal {
            return o;
        }
    }
    let o = match (a.letter, b.letter) {
        (0, 0) => Ordering::Equal,
        (0, _) => Ordering::Less,
        (_, 0) => Ordering::Greater,
        (x, y) => x.cmp(&y),
    };
    if o != Ordering::Equal {
        return o;
    }
    let def = (RELEASE_WEIGHT, Num::ZERO);
    for i in 0..a.suffixes.len().max(b.suffixes.len()) {
        let x = a.suffixes.get(i).copied().unwrap_or(def);
        let y = b.suffixes.get(i).copied().unwrap_or(def);
        let o = x.cmp(&y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.build
        .cmp(&b.build)
        .then(a.remainder_empty.cmp(&b.remainder_empty))
        .then_with(|| match (a.invalid, b.invalid) {
            (true, true) => ra.cmp(rb),
            (x, y) => x.cmp(&y),
        })
}
