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
