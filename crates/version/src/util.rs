//! Small allocation-free helpers shared by the schemes.

use std::cmp::Ordering;

/// An arbitrarily long non-negative decimal number, compared by value.
///
/// Stores the count of significant digits and the value of the first 38
/// significant digits, so numbers of up to 38 digits compare exactly and
/// longer ones compare by length, then by their leading 38 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Num {
    len: u32,
    head: u128,
}

impl Num {
    pub(crate) const ZERO: Num = Num { len: 0, head: 0 };

    /// Read a run of ASCII digits (the caller guarantees only digits).
    pub(crate) fn from_digits(digits: &[u8]) -> Num {
        let first = digits
            .iter()
            .position(|&c| c != b'0')
            .unwrap_or(digits.len());
        let sig = digits.get(first..).unwrap_or(&[]);
        let mut head: u128 = 0;
        for &c in sig.iter().take(38) {
            head = head * 10 + u128::from(c.wrapping_sub(b'0') % 10);
        }
        Num {
            len: u32::try_from(sig.len()).unwrap_or(u32::MAX),
            head,
        }
    }

    /// Parse a string that must be a non-empty run of ASCII digits.
    pub(crate) fn parse(s: &str) -> Option<Num> {
        if is_digits(s) {
            Some(Num::from_digits(s.as_bytes()))
        } else {
            None
        }
    }

    pub(crate) fn is_zero(self) -> bool {
        self.len == 0
    }
}

/// A byte range into the raw version string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    pub(crate) fn get(self, raw: &str) -> &str {
        raw.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }

    pub(crate) fn is_empty(self) -> bool {
        self.end <= self.start
    }
}

/// True when `s` is a non-empty run of ASCII digits.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// Compare ASCII-case-insensitively (non-ASCII bytes compare as is).
pub(crate) fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Compare two digit runs by numeric value (leading zeros ignored).
pub(crate) fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = trim_zeros(a);
    let b = trim_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let first = s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    s.get(first..).unwrap_or(&[])
}

/// Compare component lists, padding the shorter with zeros.
pub(crate) fn cmp_padded(a: &[Num], b: &[Num]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(Num::ZERO);
        let y = b.get(i).copied().unwrap_or(Num::ZERO);
        match x.cmp(&y) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

/// Length of the run of bytes at the start of `s` matching `f`.
pub(crate) fn run_len(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&c| !f(c)).unwrap_or(s.len())
}
