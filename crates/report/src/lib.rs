//! Report writers shared by every Portcullis command.
//!
//! A scan's results go into a [`ScanReport`]; the writers turn it into
//! - a table for people ([`table`], options in [`TableOptions`]),
//! - a stable, versioned JSON document ([`json`], schema `portcullis.scan/v1`,
//!   documented in `docs/formats/scan-json.md`),
//! - SARIF 2.1.0 for code-scanning services ([`sarif`]).
//!
//! The crate reads no clock, no files and no environment: the scan time, the
//! colour choice and the width are passed in, so output is reproducible.
#![deny(missing_docs)]

mod json;
mod sarif;
mod table;
mod text;

pub use json::{json, json_value, JsonOptions, SCAN_SCHEMA};
pub use sarif::{sarif, sarif_value, INFORMATION_URI, SARIF_SCHEMA};
pub use table::{table, TableOptions};

use portcullis_model::{Diagnostic, Finding, Package, ScanSummary};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// The tool name written into every report.
pub const TOOL_NAME: &str = "portcullis";

/// One vulnerability data source used by a scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSource {
    /// Name of the database or feed (`osv:crates.io`, `RustSec`…).
    pub name: String,
    /// How many advisory records it holds (or were loaded from it).
    pub records: u64,
    /// RFC 3339 time of its last update, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// Age in whole days at scan time, when known (computed by the caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u64>,
}

/// Everything a vulnerability-scan report shows.
///
/// Fields are plain data so the CLI can move its results in without copies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanReport {
    /// Version of the tool that made the scan (`env!("CARGO_PKG_VERSION")` of the CLI).
    pub tool_version: String,
    /// What was scanned: a path, an image, a host description.
    pub target: String,
    /// RFC 3339 time of the scan, passed in by the caller.
    pub scanned_at: String,
    /// How many packages were looked at.
    pub package_count: usize,
    /// The packages themselves, when the caller wants them in the JSON
    /// report (see [`JsonOptions::include_packages`]); may be empty.
    pub packages: Vec<Package>,
    /// Every finding, suppressed ones included (they carry [`Finding::suppressed`]).
    pub findings: Vec<Finding>,
    /// Problems met while reading input.
    pub diagnostics: Vec<Diagnostic>,
    /// The vulnerability data used.
    pub data_sources: Vec<DataSource>,
    /// Some input could not be read: the results are partial.
    pub partial: bool,
    /// The vulnerability data is older than the freshness limit.
    pub stale_data: bool,
}

impl ScanReport {
    /// The counts of the scan.
    pub fn summary(&self) -> ScanSummary {
        ScanSummary::of(self.package_count, &self.findings)
    }

    /// The findings in report order: severity (most severe first), then
    /// package name, version, ecosystem and location, then ID.
    pub fn sorted_findings(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self.findings.iter().collect();
        v.sort_by(|a, b| report_order(a, b));
        v
    }
}

/// The deterministic order of findings in every report.
pub fn report_order(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.package.name.cmp(&b.package.name))
        .then_with(|| a.package.version.cmp(&b.package.version))
        .then_with(|| a.package.ecosystem.cmp(&b.package.ecosystem))
        .then_with(|| a.package.distro.cmp(&b.package.distro))
        .then_with(|| a.package.location.cmp(&b.package.location))
        .then_with(|| a.id.cmp(&b.id))
}

/// The alias shown next to a finding's ID: the first CVE alias when the ID
/// is not a CVE, else (or when there is no CVE alias) the first other alias.
pub fn main_alias(f: &Finding) -> Option<&str> {
    let is_cve = |s: &str| s.starts_with("CVE-");
    let other = || f.aliases.iter().map(String::as_str).find(|a| *a != f.id);
    if is_cve(&f.id) {
        f.aliases
            .iter()
            .map(String::as_str)
            .find(|a| !is_cve(a))
            .or_else(other)
    } else {
        f.aliases
            .iter()
            .map(String::as_str)
            .find(|a| is_cve(a))
            .or_else(other)
    }
}
