//! Small helpers: line numbers, content hashes, timestamps.

/// Byte offsets of line starts, for turning an offset into a 1-based line and column.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = Vec::with_capacity(text.len() / 64 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Self { starts }
    }

    /// 1-based (line, column) of a byte offset; the column counts bytes.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        (sat_u32(line), sat_u32(offset.saturating_sub(start) + 1))
    }
}

pub(crate) fn sat_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The byte offset of `part` inside `whole`, when `part` is a sub-slice of it.
pub(crate) fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let start = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    let off = p.checked_sub(start)?;
    (off <= whole.len()).then_some(off)
}

/// A 128-bit FNV-1a hash, fed piece by piece; used to make document
/// identifiers (serial numbers, namespaces) reproducible from content.
pub(crate) struct ContentHash {
    a: u64,
    b: u64,
}

impl ContentHash {
    pub(crate) fn new() -> Self {
        Self {
            a: 0xcbf2_9ce4_8422_2325,
            b: 0x6c62_272e_07bb_0142,
        }
    }

    pub(crate) fn add(&mut self, s: &str) {
        for &byte in s.as_bytes().iter().chain(std::iter::once(&0xff)) {
            self.a = (self.a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            self.b = (self.b ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    /// Add a formatted value (no intermediate string).
    pub(crate) fn add_display(&mut self, v: &dyn std::fmt::Display) {
        use std::fmt::Write;
        let _ = write!(self, "{v}");
        self.add("");
    }

    /// An RFC 9562 version-8 (custom) UUID from the hash.
    pub(crate) fn uuid(&self) -> String {
        let a = self.a;
        // Version 8 in bits 48..52, variant 10 in bits 64..66.
        let b = (self.b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_8000;
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

impl std::fmt::Write for ContentHash {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &byte in s.as_bytes() {
            self.a = (self.a ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            self.b = (self.b ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        Ok(())
    }
}

/// The current UTC time as `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(i64::try_from(secs).unwrap_or(0))
}

/// Seconds since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ`.
fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// An RFC 3339 time in the strict UTC form SPDX 2.3 requires
/// (`YYYY-MM-DDThh:mm:ssZ`): fractions dropped, offsets applied.
pub(crate) fn to_utc_seconds(s: &str) -> Option<String> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se.min(59) - offset;
    Some(format_utc(secs))
}

/// True for `YYYY-MM-DDThh:mm:ss…` (what JSON Schema's `date-time` needs,
/// checked loosely: the offset part is left to the writer of the value).
pub(crate) fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b.iter().take(4).all(u8::is_ascii_digit)
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b'T' | b't'))
        && b.get(13) == Some(&b':')
        && (s.ends_with('Z')
            || s.ends_with('z')
            || s.get(s.len() - 6..)
                .is_some_and(|t| t.starts_with(['+', '-'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let idx = LineIndex::new("ab\ncd\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        assert_eq!(idx.position(7), (4, 1));
        assert_eq!(idx.position(1000), (4, 994));
    }

    #[test]
    fn uuid_shape_and_determinism() {
        let mut h = ContentHash::new();
        h.add("x");
        let u = h.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        let mut h2 = ContentHash::new();
        h2.add("x");
        assert_eq!(h2.uuid(), u);
        h2.add("y");
        assert_ne!(h2.uuid(), u);
    }

    #[test]
    fn time_format() {
        let t = now_rfc3339();
        assert!(looks_like_datetime(&t), "{t}");
        assert!(t.starts_with("20"));
        assert!(looks_like_datetime("2024-01-02T03:04:05+01:00"));
        assert!(!looks_like_datetime("2024-01-02"));
        assert_eq!(
            to_utc_seconds("2024-01-02T03:04:05Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            to_utc_seconds("2024-03-01T00:30:00.123+01:00").as_deref(),
            Some("2024-02-29T23:30:00Z")
        );
        assert_eq!(
            to_utc_seconds("1999-12-31T23:00:00-02:00").as_deref(),
            Some("2000-01-01T01:00:00Z")
        );
        assert_eq!(to_utc_seconds("2024-01-02"), None);
        assert_eq!(to_utc_seconds("2024-13-02T03:04:05Z"), None);
        assert_eq!(to_utc_seconds("2024-01-02T03:04:05+0100"), None);
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
    }
}
