//! Realistic findings built from real RustSec advisories (osv/crates.io of
//! rustsec/advisory-db, CC0-1.0): IDs, aliases, summaries, CVSS vectors and
//! fixed versions are the advisories' own; installed versions and lockfile
//! lines are those of a plausible Cargo.lock.
#![allow(dead_code)]

use portcullis_model::finding::Suppression;
use portcullis_model::{Diagnostic, Ecosystem, Finding, Fix, Location, Package, Severity};
use portcullis_report::{DataSource, ScanReport};

#[allow(clippy::too_many_arguments)]
pub fn finding(
    name: &str,
    version: &str,
    line: u32,
    id: &str,
    aliases: &[&str],
    summary: &str,
    cvss: Option<(f64, &str)>,
    severity: Severity,
    fix: Option<&str>,
    ce_14_day: bool,
) -> Finding {
    let package = Package::new(
        Ecosystem::CratesIo,
        name,
        version,
        Location {
            path: "Cargo.lock".into(),
            line: Some(line),
        },
    );
    Finding {
        package,
        id: id.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        sources: vec![id.into()],
        summary: summary.into(),
        severity,
        cvss_score: cvss.map(|c| c.0),
        cvss_vector: cvss.map(|c| c.1.to_string()),
        fix: Fix {
            upgrade_to: fix.map(str::to_string),
            fixed_versions: fix.map(|f| vec![f.to_string()]).unwrap_or_default(),
        },
        published: Some("2021-08-24T12:00:00Z".into()),
        modified: None,
        ce_14_day,
        references: vec![format!("https://rustsec.org/advisories/{id}.html")],
        suppressed: None,
    }
}

pub fn findings() -> Vec<Finding> {
    let mut accepted = finding(
        "openssl",
        "0.10.45",
        630,
        "RUSTSEC-2023-0044",
        &["CVE-2023-53159", "GHSA-xcf7-rvmh-g6q4"],
        "`openssl` `X509VerifyParamRef::set_host` buffer over-read",
        None,
        Severity::Unknown,
        Some("0.10.55"),
        true,
    );
    accepted.suppressed = Some(Suppression {
        reason: "set_host is never called with untrusted input".into(),
        expires: Some("2026-12-31".into()),
        source: "portcullis.toml".into(),
    });
    vec![
        finding("time", "0.1.45", 1500, "RUSTSEC-2020-0071", &["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"],
            "Potential segfault in the time crate", Some((6.2, "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")),
            Severity::Medium, Some("0.2.23"), false),
        finding("openssl", "0.10.45", 630, "RUSTSEC-2025-0004", &["CVE-2025-24898", "GHSA-rpmj-rpgj-qmpm"],
            "ssl::select_next_proto use after free", None, Severity::Unknown, Some("0.10.70"), true),
        accepted,
        finding("openssl-src", "111.15.0+1.1.1k", 640, "RUSTSEC-2021-0098", &["CVE-2021-3712", "GHSA-q9wj-f4qw-6vfj"],
            "Read buffer overruns processing ASN.1 strings", Some((7.4, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H")),
            Severity::High, Some("111.16.0"), true),
        finding("webpki", "0.22.0", 1702, "RUSTSEC-2023-0052", &["GHSA-8qv2-5vq6-g2g7"],
            "webpki: CPU denial of service in certificate path building", Some((7.5, "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")),
            Severity::High, Some("0.22.2"), true),
        finding("openssl-src", "111.15.0+1.1.1k", 640, "RUSTSEC-2021-0097", &["CVE-2021-3711", "GHSA-5ww6-px42-wc85"],
            "SM2 Decryption Buffer Overflow", Some((9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")),
            Severity::Critical, Some("111.16.0"), true),
        finding("maligned", "0.2.1", 900, "RUSTSEC-2023-0017", &["GHSA-wm8x-php5-hvq6"],
            "`maligned::align_first` causes incorrect deallocation", None, Severity::Unknown, None, false),
        finding("openssl", "0.10.45", 630, "RUSTSEC-2023-0023", &["GHSA-9qwg-crg9-m2vc"],
            "`openssl` `SubjectAlternativeName` and `ExtendedKeyUsage::other` allow arbitrary file read", None,
            Severity::Unknown, Some("0.10.48"), true),
    ]
}

pub fn report() -> ScanReport {
    ScanReport {
        tool_version: "0.1.0".into(),
        target: "Cargo.lock".into(),
        scanned_at: "2026-08-25T09:00:00Z".into(),
        package_count: 296,
        packages: Vec::new(),
        findings: findings(),
        diagnostics: vec![Diagnostic::warning(
            "Cargo.lock",
            "package `foo` has no version: skipped",
        )
        .at(12, Some(1))],
        data_sources: vec![DataSource {
            name: "osv:crates.io".into(),
            records: 1206,
            last_updated: Some("2026-08-21T00:00:00Z".into()),
            age_days: Some(4),
        }],
        partial: false,
        stale_data: false,
    }
}
