//! Findings: a package matched to a vulnerability.

use crate::{Package, Severity};
use serde::{Deserialize, Serialize};

/// The fix for a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Fix {
    /// The lowest fixed version above the installed one, when there is one:
    /// the version to upgrade to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_to: Option<String>,
    /// Every fixed version the advisories name for this package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
}

/// One vulnerability in one package: aliases merged, so that one flaw is one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The affected package.
    pub package: Package,
    /// The primary ID (the first source record's ID, preferring ecosystem
    /// databases such as GHSA and RUSTSEC over bare CVE IDs).
    pub id: String,
    /// Every other ID of the same flaw: aliases and the IDs of merged records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The IDs of the OSV records this finding rests on.
    pub sources: Vec<String>,
    /// One-line summary.
    pub summary: String,
    /// Severity, from the highest CVSS base score found, else an ecosystem rating.
    pub severity: Severity,
    /// The CVSS base score used for the severity, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_score: Option<f64>,
    /// The CVSS vector the score came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_vector: Option<String>,
    /// What to upgrade to.
    pub fix: Fix,
    /// RFC 3339 publication time of the earliest source record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339 time of the latest change to any source record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// True when this finding breaks the Cyber Essentials 14-day rule: rated
    /// critical or high (CVSS ≥ 7) or unrated, with a fix published more than
    /// 14 days before the scan.
    pub ce_14_day: bool,
    /// Advisory links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Set when the finding was accepted by an ignore rule or VEX statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

/// Why a finding is accepted rather than reported as open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The reason given.
    pub reason: String,
    /// The date the acceptance ends (YYYY-MM-DD), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Where it came from: `portcullis.toml`, or the VEX file.
    pub source: String,
}

/// Counts of a scan, for summaries and exit codes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// Packages looked at.
    pub packages: usize,
    /// Open findings (not suppressed).
    pub findings: usize,
    /// Open findings per severity: critical, high, medium, low, none/unknown.
    pub critical: usize,
    /// High.
    pub high: usize,
    /// Medium.
    pub medium: usize,
    /// Low.
    pub low: usize,
    /// None or unknown.
    pub unrated: usize,
    /// Open findings breaking the Cyber Essentials 14-day rule.
    pub ce_14_day: usize,
    /// Suppressed findings.
    pub suppressed: usize,
}

impl ScanSummary {
    /// Count a list of findings.
    pub fn of(packages: usize, findings: &[Finding]) -> Self {
        let mut s = ScanSummary {
            packages,
            ..Default::default()
        };
        for f in findings {
            if f.suppressed.is_some() {
                s.suppressed += 1;
                continue;
            }
            s.findings += 1;
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::High => s.high += 1,
                Severity::Medium => s.medium += 1,
                Severity::Low => s.low += 1,
                Severity::None | Severity::Unknown => s.unrated += 1,
            }
            if f.ce_14_day {
                s.ce_14_day += 1;
            }
        }
        s
    }
}
