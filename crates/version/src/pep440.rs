//! PEP 440 (PyPI), with the pre-PEP 440 "legacy" fallback of `packaging`
//! for strings that do not match: legacy versions sort before all others.

use crate::util::{cmp_ci, cmp_padded, is_digits, run_len, Num, Span};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub(crate) enum Pep440 {
    /// A non-PEP 440 string: its `packaging` legacy key, flattened.
    Legacy(Box<str>),
    /// A PEP 440 version.
    Std(Box<Std>),
}

#[derive(Debug, Clone)]
pub(crate) struct Std {
    epoch: Num,
    release: Vec<Num>,
    /// (phase: 0 = a, 1 = b, 2 = rc; number)
    pre: Option<(u8, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    local: Vec<Local>,
}

#[derive(Debug, Clone, Copy)]
enum Local {
    Num(Num),
    Text(Span),
}

fn is_sep(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'.')
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn digits_at(&self, i: usize) -> usize {
        run_len(self.s.get(i..).unwrap_or(&[]), |c| c.is_ascii_digit())
    }

    fn num_at(&self, i: usize, n: usize) -> Num {
        Num::from_digits(self.s.get(i..i + n).unwrap_or(&[]))
    }

    /// Case-insensitive match of one of `words` (tried in order) at `i`.
    fn word_at(&self, i: usize, words: &[&str]) -> Option<(usize, usize)> {
        let rest = self.s.get(i..)?;
        words.iter().enumerate().find_map(|(k, w)| {
            let w = w.as_bytes();
            (rest.len() >= w.len()
                && rest
                    .get(..w.len())
                    .is_some_and(|r| r.eq_ignore_ascii_case(w)))
            .then_some((k, w.len()))
        })
    }

    /// `[-_.]?(word)[-_.]?(\d+)?` at the current position.
    fn lettered(&mut self, words: &[&str]) -> Option<(usize, Num)> {
        let starts: [Option<usize>; 2] =
            [is_sep(self.at(self.i)).then_some(self.i + 1), Some(self.i)];
        for start in starts.into_iter().flatten() {
            if let Some((k, len)) = self.word_at(start, words) {
                let mut j = start + len;
                let num;
                if is_sep(self.at(j)) && self.at(j + 1).is_ascii_digit() {
                    let n = self.digits_at(j + 1);
                    num = self.num_at(j + 1, n);
                    j += 1 + n;
                } else if self.at(j).is_ascii_digit() {
                    let n = self.digits_at(j);
                    num = self.num_at(j, n);
                    j += n;
                } else {
                    if is_sep(self.at(j)) {
                        j += 1;
                    }
                    num = Num::ZERO;
                }
                self.i = j;
                return Some((k, num));
            }
        }
        None
    }
}

const PRE_WORDS: &[&str] = &["preview", "alpha", "beta", "pre", "rc", "a", "b", "c"];
const PRE_PHASE: &[u8] = &[2, 0, 1, 2, 2, 0, 1, 2];

fn parse_std(raw: &str) -> Option<Std> {
    let mut p = P {
        s: raw.as_bytes(),
        i: 0,
    };
    while is_ws(p.at(p.i)) {
        p.i += 1;
    }
    if p.at(p.i).eq_ignore_ascii_case(&b'v') {
        p.i += 1;
    }
    let mut epoch = Num::ZERO;
    let n = p.digits_at(p.i);
    if n == 0 {
        return None;
    }
    if p.at(p.i + n) == b'!' {
        epoch = p.num_at(p.i, n);
        p.i += n + 1;
    }
    let mut release = Vec::with_capacity(4);
    loop {
        let n = p.digits_at(p.i);
        if n == 0 {
            return None;
        }
        release.push(p.num_at(p.i, n));
        p.i += n;
        if p.at(p.i) == b'.' && p.at(p.i + 1).is_ascii_digit() {
            p.i += 1;
        } else {
            break;
        }
    }
    let pre = p
        .lettered(PRE_WORDS)
        .map(|(k, n)| (PRE_PHASE.get(k).copied().unwrap_or(2), n));
    let post = if p.at(p.i) == b'-' && p.at(p.i + 1).is_ascii_digit() {
        let n = p.digits_at(p.i + 1);
        let v = p.num_at(p.i + 1, n);
        p.i += 1 + n;
        Some(v)
    } else {
        p.lettered(&["post", "rev", "r"]).map(|(_, n)| n)
    };
    let dev = p.lettered(&["dev"]).map(|(_, n)| n);
    let mut local = Vec::new();
    if p.at(p.i) == b'+' {
        p.i += 1;
        loop {
            let n = run_len(p.s.get(p.i..).unwrap_or(&[]), |c| c.is_ascii_alphanumeric());
            if n == 0 {
                return None;
            }
            let part = raw.get(p.i..p.i + n).unwrap_or("");
            local.push(if is_digits(part) {
                Local::Num(Num::from_digits(part.as_bytes()))
            } else {
                Local::Text(Span::new(p.i, p.i + n))
            });
            p.i += n;
            if is_sep(p.at(p.i)) && p.at(p.i + 1).is_ascii_alphanumeric() {
                p.i += 1;
            } else {
                break;
            }
        }
    }
    while is_ws(p.at(p.i)) {
        p.i += 1;
    }
    if p.i != p.s.len() {
        return None;
    }
    Some(Std {
        epoch,
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// The `packaging.version.LegacyVersion` key, flattened to one string.
fn legacy_key(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut parts: Vec<String> = Vec::new();
    let push = |part: &str, parts: &mut Vec<String>| {
        let norm: String = match part {
            "." => return,
            "pre" | "preview" | "rc" => "*c".into(),
            "-" => "*final-".into(),
            "dev" => "*@".into(),
            p if p.as_bytes().first().is_some_and(u8::is_ascii_digit) => format!("{p:0>8}"),
            p => format!("*{p}"),
        };
        if norm.starts_with('*') {
            if norm.as_str() < "*final" {
                while parts.last().is_some_and(|l| l == "*final-") {
                    parts.pop();
                }
            }
            while parts.last().is_some_and(|l| l == "00000000") {
                parts.pop();
            }
        }
        parts.push(norm);
    };
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        let rest = b.get(i..).unwrap_or(&[]);
        let n = if c.is_ascii_digit() {
            run_len(rest, |c| c.is_ascii_digit())
        } else if c.is_ascii_lowercase() {
            run_len(rest, |c| c.is_ascii_lowercase())
        } else if c == b'.' || c == b'-' {
            1
        } else {
            i += 1;
            continue;
        };
        push(lower.get(i..i + n).unwrap_or(""), &mut parts);
        i += n;
    }
    push("final", &mut parts);
    parts.concat()
}

pub(crate) fn parse(raw: &str) -> Result<Pep440, &'static str> {
    if raw.trim().is_empty() {
        return Err("empty version");
    }
    Ok(match parse_std(raw) {
        Some(s) => Pep440::Std(Box::new(s)),
        None => Pep440::Legacy(legacy_key(raw).into_boxed_str()),
    })
}

fn pre_key(v: &Std) -> (u8, u8, Num) {
    // dev-only releases sort before any pre-release; no pre sorts after.
    match v.pre {
        None if v.post.is_none() && v.dev.is_some() => (0, 0, Num::ZERO),
        None => (2, 0, Num::ZERO),
        Some((phase, n)) => (1, phase, n),
    }
}

fn cmp_local(a: &[Local], b: &[Local], ra: &str, rb: &str) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Local::Num(x), Local::Num(y)) => x.cmp(y),
            (Local::Num(_), Local::Text(_)) => Ordering::Greater,
            (Local::Text(_), Local::Num(_)) => Ordering::Less,
            (Local::Text(x), Local::Text(y)) => cmp_ci(x.get(ra), y.get(rb)),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

pub(crate) fn compare(a: &Pep440, b: &Pep440, ra: &str, rb: &str) -> Ordering {
    match (a, b) {
        (Pep440::Legacy(x), Pep440::Legacy(y)) => x.cmp(y),
        (Pep440::Legacy(_), Pep440::Std(_)) => Ordering::Less,
        (Pep440::Std(_), Pep440::Legacy(_)) => Ordering::Greater,
        (Pep440::Std(x), Pep440::Std(y)) => x
            .epoch
            .cmp(&y.epoch)
            .then_with(|| cmp_padded(&x.release, &y.release))
            .then_with(|| pre_key(x).cmp(&pre_key(y)))
            // no post sorts before any post (None < Some)
            .then_with(|| x.post.cmp(&y.post))
            // no dev sorts after any dev
            .then_with(|| match (x.dev, y.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(p), Some(q)) => p.cmp(&q),
            })
            .then_with(|| cmp_local(&x.local, &y.local, ra, rb)),
    }
}
