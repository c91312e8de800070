//! End-of-life data (data/eol.toml).

use serde::Deserialize;

/// The embedded table.
pub const EOL_TOML: &str = include_str!("../data/eol.toml");

/// One release.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub id: String,
    pub version: String,
    pub name: String,
    /// YYYY-MM-DD, the last supported day.
    pub end: String,
    /// Where the date comes from.
    #[serde(default)]
    pub source: String,
}

#[derive(Deserialize)]
struct Table {
    releases: Vec<Release>,
}

pub fn table() -> Vec<Release> {
    toml::from_str::<Table>(EOL_TOML)
        .map(|t| t.releases)
        .unwrap_or_default()
}

/// The release entry for os-release ID and VERSION_ID (longest prefix).
pub fn lookup(id: &str, version_id: &str) -> Option<Release> {
    table()
        .into_iter()
        .filter(|r| {
            r.id == id
                && (version_id == r.version || version_id.starts_with(&format!("{}.", r.version)))
        })
        .max_by_key(|r| r.version.len())
}

/// Unix seconds at the end (23:59:59 UTC) of a YYYY-MM-DD day.
pub fn day_end(d: &str) -> Option<i64> {
    let date: jiff::civil::Date = d.parse().ok()?;
    let ts = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_second() + 86_399)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_is_sourced_and_sorted() {
        let t = table();
        let lines = EOL_TOML
            .lines()
            .filter(|l| l.trim_start().starts_with("{ id"))
            .count();
        assert_eq!(t.len(), lines, "every entry parses");
        assert!(t.len() >= 45);
        let num = |v: &str| -> Vec<u64> { v.split('.').map(|x| x.parse().unwrap()).collect() };
        let mut seen_ids: Vec<&str> = Vec::new();
        for (i, r) in t.iter().enumerate() {
            assert!(day_end(&r.end).is_some(), "{r:?}");
            assert!(r.source.len() > 10, "no source: {r:?}");
            assert!(!r.name.is_empty());
            match t.get(i.wrapping_sub(1)).filter(|p| p.id == r.id) {
                Some(p) => assert!(num(&p.version) < num(&r.version), "{p:?} before {r:?}"),
                None => {
                    assert!(
                        !seen_ids.contains(&r.id.as_str()),
                        "{} is not grouped",
                        r.id
                    );
                    seen_ids.push(&r.id);
                }
            }
        }
        // Spot checks against the cited sources.
        let end = |id: &str, v: &str| lookup(id, v).map(|r| r.end);
        assert_eq!(end("debian", "12").as_deref(), Some("2028-06-30"));
        assert_eq!(end("debian", "11").as_deref(), Some("2026-08-31"));
        assert_eq!(end("alpine", "3.21.3").as_deref(), Some("2026-11-01"));
        assert_eq!(end("fedora", "42").as_deref(), Some("2026-05-28"));
        assert_eq!(end("ol", "8.10").as_deref(), Some("2029-07-01"));
        assert_eq!(end("ubuntu", "22.04").as_deref(), Some("2027-04-01"));
        assert_eq!(end("rhel", "9.4").as_deref(), Some("2032-05-31"));
        assert_eq!(end("almalinux", "8.10").as_deref(), Some("2029-03-01"));
    }
}
