//! Calendar dates as days since 1970-01-01 (no time zones: evidence dates are
//! whole days, and a day's error does not change any verdict here).

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day count.
pub fn format_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today, from the system clock.
pub fn today() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs() / 86_400).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Parses the date forms PowerShell writes: ISO 8601 (`2026-11-03`,
/// `2026-11-03T10:00:00.000Z`), .NET JSON (`/Date(1700000000000)/`) and,
/// as a last resort, `M/D/YYYY` (en-US `ToString()`).
pub fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        let digits: &str = ms
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(ms, |(i, _)| ms.get(..i).unwrap_or(ms));
        let ms: i64 = digits.parse().ok()?;
        return Some(ms.div_euclid(86_400_000));
    }
    let b = s.as_bytes();
    if b.len() >= 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        let y: i64 = s.get(0..4)?.parse().ok()?;
        let m: u32 = s.get(5..7)?.parse().ok()?;
        let d: u32 = s.get(8..10)?.parse().ok()?;
        return valid(y, m, d);
    }
    let date = s.split(' ').next()?;
    let mut it = date.split('/');
    let (m, d, y) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 {
        return None;
    }
    valid(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

fn valid(y: i64, m: u32, d: u32) -> Option<i64> {
    ((1900..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| days_from_civil(y, m, d))
}

/// The second Tuesday ("Patch Tuesday") of a month.
pub fn patch_tuesday(y: i64, m: u32) -> i64 {
    let first = days_from_civil(y, m, 1);
    // 1970-01-01 was a Thursday; weekday 0 = Monday.
    let weekday = (first + 3).rem_euclid(7);
    let to_tuesday = (1 - weekday).rem_euclid(7);
    first + to_tuesday + 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_day(days_from_civil(2026, 11, 22)), "2026-11-22");
        assert_eq!(
            parse_date("2026-11-10T00:00:00"),
            Some(days_from_civil(2026, 11, 10))
        );
        assert_eq!(parse_date("/Date(1700000000000)/"), Some(19675));
        assert_eq!(
            parse_date("11/14/2023 00:00:00"),
            Some(days_from_civil(2023, 11, 14))
        );
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("/Date(x)/"), None);
        assert_eq!(format_day(patch_tuesday(2026, 11)), "2026-11-10");
        assert_eq!(format_day(patch_tuesday(2026, 10)), "2026-10-13");
        assert_eq!(format_day(patch_tuesday(2024, 10)), "2024-10-08");
    }
}
