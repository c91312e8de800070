//! Calendar dates and RFC 3339 times, without a clock.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse `YYYY-MM-DD` (exactly) into days since the epoch; `None` when it is
/// not a real calendar date.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let y = i64::from(digits(s.get(0..4)?)?);
    let m = digits(s.get(5..7)?)?;
    let d = digits(s.get(8..10)?)?;
    let max = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => return None,
    };
    (1..=max).contains(&d).then(|| days_from_civil(y, m, d))
}

/// Parse an RFC 3339 date-time (`2023-01-16T19:07:16.853479631-06:00`,
/// `…Z`) into seconds since the epoch, UTC. A bare date counts as midnight UTC.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = parse_date(s.get(0..10)?)?;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return Some(date * 86_400);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let hh = digits(rest.get(0..2)?)?;
    let mm = digits(rest.get(3..5)?)?;
    let ss = digits(rest.get(6..8)?)?;
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut tail = rest.get(8..)?;
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        tail = frac.get(n..)?;
    }
    let offset = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let oh = digits(tail.get(1..3)?)?;
            let om = digits(tail.get(4..6)?)?;
            if tail.get(3..4)? != ":" || tail.len() != 6 || oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 3600 + om * 60)
        }
    };
    Some(date * 86_400 + i64::from(hh * 3600 + mm * 60 + ss) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("26-01-2026"), None);
        assert_eq!(parse_date("2026-01-3x"), None);
        assert!(parse_date("2026-01-31") < parse_date("2026-02-01"));
    }

    #[test]
    fn times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2023-01-16T19:07:16.853479631-06:00"),
            parse_rfc3339("2023-01-17T01:07:16Z")
        );
        assert_eq!(
            parse_rfc3339("2023-01-16"),
            Some(parse_date("2023-01-16").unwrap_or(0) * 86_400)
        );
        for bad in [
            "",
            "2023-01-16T",
            "2023-01-16T25:00:00Z",
            "2023-01-16T10:00:00",
            "2023-01-16T10:00:00+0100",
            "é",
            "2023-01-16T10:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
