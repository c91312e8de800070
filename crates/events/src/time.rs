//! Calendar arithmetic and timestamp parsing (no allocation, no panics).

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of a unix time in seconds.
pub(crate) fn year_month_of(secs: i64) -> (i32, u32) {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        i32::try_from(y).unwrap_or(1970),
        u32::try_from(m).unwrap_or(1),
    )
}

/// A unix time in microseconds as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
pub(crate) fn format_rfc3339_micros(t: i64) -> String {
    let secs = t.div_euclid(1_000_000);
    let micros = t.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

/// Microseconds since the epoch of a civil UTC date and time, validated.
pub(crate) fn civil_to_micros(
    y: i64,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    micros: u32,
) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    secs.checked_mul(1_000_000)?.checked_add(i64::from(micros))
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Parse an RFC 3339 / ISO 8601 timestamp (`2021-05-20T12:49:31.8631818Z`,
/// `2019-03-12T16:02:15.5522137+00:00`, `2015-04-16 18:02:50`, no zone = UTC)
/// into unix microseconds. Returns the value and the number of bytes used.
pub(crate) fn parse_rfc3339_prefix(s: &[u8]) -> Option<(i64, usize)> {
    let y = digits(s, 0, 4)?;
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return None;
    }
    let mo = digits(s, 5, 2)?;
    let d = digits(s, 8, 2)?;
    if !matches!(s.get(10), Some(b'T' | b't' | b' ')) || s.get(13) != Some(&b':') {
        return None;
    }
    let h = digits(s, 11, 2)?;
    let mi = digits(s, 14, 2)?;
    let (sec, mut i) = if s.get(16) == Some(&b':') {
        (digits(s, 17, 2)?, 19)
    } else {
        (0, 16)
    };
    let mut micros = 0u32;
    if matches!(s.get(i), Some(b'.' | b',')) {
        i += 1;
        let mut n = 0;
        while let Some(c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            if n < 6 {
                micros = micros * 10 + u32::from(c - b'0');
            }
            n += 1;
            i += 1;
        }
        if n == 0 {
            return None;
        }
        for _ in n..6 {
            micros *= 10;
        }
    }
    let mut offset_secs = 0i64;
    match s.get(i) {
        Some(b'Z' | b'z') => i += 1,
        Some(&c @ (b'+' | b'-')) => {
            let oh = digits(s, i + 1, 2)?;
            let (om, used) = if s.get(i + 3) == Some(&b':') {
                (digits(s, i + 4, 2)?, 6)
            } else {
                (
                    digits(s, i + 3, 2).unwrap_or(0),
                    if digits(s, i + 3, 2).is_some() { 5 } else { 3 },
                )
            };
            if oh > 23 || om > 59 {
                return None;
            }
            offset_secs = i64::from(oh * 3600 + om * 60);
            if c == b'-' {
                offset_secs = -offset_secs;
            }
            i += used;
        }
        _ => {}
    }
    let t = civil_to_micros(i64::from(y), mo, d, h, mi, sec, micros)?;
    Some((t - offset_secs * 1_000_000, i))
}

/// Parse a whole RFC 3339 timestamp string (trailing text is refused).
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    match parse_rfc3339_prefix(s.as_bytes()) {
        Some((t, n)) if n == s.len() => Some(t),
        _ => None,
    }
}

/// `Jan`..`Dec` to 1..12.
pub(crate) fn month_of(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// A BSD syslog stamp `Mmm dd HH:MM:SS` (day space- or zero-padded,
/// optional fraction), without year. Returns (month, day, h, m, s, micros, bytes used).
pub(crate) fn parse_bsd_stamp(s: &[u8]) -> Option<(u32, u32, u32, u32, u32, u32, usize)> {
    let mo = month_of(s.get(0..3)?)?;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let (d, i) = match (s.get(4), s.get(5)) {
        (Some(b' '), Some(c)) if c.is_ascii_digit() => (u32::from(c - b'0'), 6),
        (Some(a), Some(b' ')) if a.is_ascii_digit() => (u32::from(a - b'0'), 5),
        _ => (digits(s, 4, 2)?, 6),
    };
    if s.get(i) != Some(&b' ') || s.get(i + 3) != Some(&b':') || s.get(i + 6) != Some(&b':') {
        return None;
    }
    let h = digits(s, i + 1, 2)?;
    let mi = digits(s, i + 4, 2)?;
    let sec = digits(s, i + 7, 2)?;
    let mut j = i + 9;
    let mut micros = 0;
    if s.get(j) == Some(&b'.') {
        j += 1;
        let mut n = 0;
        while let Some(c) = s.get(j).filter(|c| c.is_ascii_digit()) {
            if n < 6 {
                micros = micros * 10 + u32::from(c - b'0');
            }
            n += 1;
            j += 1;
        }
        for _ in n.min(6)..6 {
            micros *= 10;
        }
    }
    if d == 0 || d > 31 || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    Some((mo, d, h, mi, sec, micros, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_round_trips() {
        for t in [
            0i64,
            1_621_514_971_863_181,
            951_782_400_000_001, // 2000-02-29
            -86_400_000_000,
            4_102_444_799_999_999, // 2099-12-31T23:59:59.999999
        ] {
            let s = format_rfc3339_micros(t);
            assert_eq!(parse_rfc3339(&s), Some(t), "{s}");
        }
        assert_eq!(
            format_rfc3339_micros(1_621_514_971_863_181),
            "2021-05-20T12:49:31.863181Z"
        );
    }

    #[test]
    fn rfc3339_variants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2021-05-20T12:49:31.8631818Z"),
            Some(1_621_514_971_863_181)
        );
        assert_eq!(
            parse_rfc3339("2019-07-08T17:40:16.954167-04:00"),
            Some(1_562_622_016_954_167)
        );
        assert_eq!(
            parse_rfc3339("2019-03-12T16:02:15.5522137+00:00"),
            parse_rfc3339("2019-03-12T16:02:15.5522137Z")
        );
        assert_eq!(parse_rfc3339("2021-02-30T00:00:00Z"), None);
        assert_eq!(
            parse_rfc3339("2021-05-20T12:49"),
            Some(1_621_514_940_000_000)
        );
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000_000)
        );
    }

    #[test]
    fn year_month() {
        assert_eq!(year_month_of(0), (1970, 1));
        assert_eq!(year_month_of(1_709_164_800), (2024, 2));
        assert_eq!(year_month_of(1_735_689_599), (2024, 12));
    }

    #[test]
    fn bsd_stamps() {
        assert_eq!(
            parse_bsd_stamp(b"Jun  6 01:02:03 x"),
            Some((6, 6, 1, 2, 3, 0, 15))
        );
        assert_eq!(
            parse_bsd_stamp(b"Dec 10 06:55:46 x"),
            Some((12, 10, 6, 55, 46, 0, 15))
        );
        assert_eq!(parse_bsd_stamp(b"Foo 10 06:55:46"), None);
        assert_eq!(parse_bsd_stamp(b"Dec 10 26:55:46"), None);
    }
}
