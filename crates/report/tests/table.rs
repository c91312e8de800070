//! The table for people, colour off: exact text.
mod common;
use portcullis_model::Severity;
use portcullis_report::{table, ScanReport, TableOptions};

const EXPECTED: &str = "\
portcullis 0.1.0 scan of Cargo.lock at 2026-08-25T09:00:00Z
Data: osv:crates.io (1206 records, updated 2026-08-21T00:00:00Z, 4 days old)

openssl-src 111.15.0+1.1.1k (crates.io) Cargo.lock:640
  RUSTSEC-2021-0097 (CVE-2021-3711)  critical  fix 111.16.0  14d  SM2 Decryption Buffer Overflow
  RUSTSEC-2021-0098 (CVE-2021-3712)  high      fix 111.16.0  14d  Read buffer overruns processing ASN.1 strings
  -> Upgrade openssl-src from 111.15.0+1.1.1k to 111.16.0 (fixes 2 vulnerabilities, 1 critical, 1 high)

webpki 0.22.0 (crates.io) Cargo.lock:1702
  RUSTSEC-2023-0052 (GHSA-8qv2-5vq6-g2g7)  high      fix 0.22.2  14d  webpki: CPU denial of service in certificate path building
  -> Upgrade webpki from 0.22.0 to 0.22.2 (fixes 1 vulnerability, 1 high)

time 0.1.45 (crates.io) Cargo.lock:1500
  RUSTSEC-2020-0071 (CVE-2020-26235)  medium    fix 0.2.23  Potential segfault in the time crate
  -> Upgrade time from 0.1.45 to 0.2.23 (fixes 1 vulnerability)

maligned 0.2.1 (crates.io) Cargo.lock:900
  RUSTSEC-2023-0017 (GHSA-wm8x-php5-hvq6)  unknown   no fix  `maligned::align_first` causes incorrect deallocation
  -> No fix released yet: consider removing or replacing maligned, or accept the risk in portcullis.toml

openssl 0.10.45 (crates.io) Cargo.lock:630
  RUSTSEC-2023-0023 (GHSA-9qwg-crg9-m2vc)  unknown   fix 0.10.48  14d  `openssl` `SubjectAlternativeName` and `ExtendedKeyUsage::other` allow arbitrary file read
  RUSTSEC-2025-0004 (CVE-2025-24898)       unknown   fix 0.10.70  14d  ssl::select_next_proto use after free
  -> Upgrade openssl from 0.10.45 to 0.10.70 (fixes 2 vulnerabilities)

Accepted risks (1):
  RUSTSEC-2023-0044 in openssl 0.10.45: set_host is never called with untrusted input (until 2026-12-31, portcullis.toml)

7 vulnerabilities in 5 of 296 packages scanned: 1 critical, 2 high, 1 medium, 0 low, 3 unrated
14d: 5 findings break the Cyber Essentials 14-day rule (high, critical or unrated, fixed more than 14 days ago)
Accepted risks: 1 suppressed
Input problems: 0 errors, 1 warning
";

#[test]
fn full_table_is_exact() {
    let out = table(&common::report(), &TableOptions::default());
    assert_eq!(out, EXPECTED);
    assert!(out.is_ascii());
}

#[test]
fn input_order_does_not_matter() {
    let mut r = common::report();
    r.findings.reverse();
    assert_eq!(table(&r, &TableOptions::default()), EXPECTED);
}

#[test]
fn width_truncates_summaries_and_wraps_advice() {
    let out = table(
        &common::report(),
        &TableOptions {
            width: Some(80),
            ..Default::default()
        },
    );
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "too long: {line:?}");
    }
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(
        &"  RUSTSEC-2021-0097 (CVE-2021-3711)  critical  fix 111.16.0  14d  SM2 Decrypt..."
    ));
    assert!(lines.contains(&"  -> Upgrade openssl-src from 111.15.0+1.1.1k to 111.16.0 (fixes 2"));
    assert!(lines.contains(&"     vulnerabilities, 1 critical, 1 high)"));
    assert!(lines.contains(
        &"  RUSTSEC-2023-0044 in openssl 0.10.45: set_host is never called with untrust..."
    ));
    assert!(lines.contains(
        &"7 vulnerabilities in 5 of 296 packages scanned: 1 critical, 2 high, 1 medium, 0"
    ));
    // A width too small for a summary drops it rather than printing a stub.
    let narrow = table(
        &common::report(),
        &TableOptions {
            width: Some(40),
            ..Default::default()
        },
    );
    assert!(narrow
        .lines()
        .any(|l| l == "  RUSTSEC-2021-0097 (CVE-2021-3711)  critical  fix 111.16.0  14d"));
}

#[test]
fn colour_only_when_asked() {
    let plain = table(&common::report(), &TableOptions::default());
    assert!(!plain.contains('\x1b'));
    let colour = table(
        &common::report(),
        &TableOptions {
            color: true,
            ..Default::default()
        },
    );
    assert!(
        colour.contains("\x1b[1mopenssl-src 111.15.0+1.1.1k\x1b[0m (crates.io) Cargo.lock:640\n")
    );
    assert!(colour.contains("  RUSTSEC-2021-0097 (CVE-2021-3711)  \x1b[1;31mcritical\x1b[0m  fix 111.16.0  \x1b[1;31m14d\x1b[0m  SM2"));
    assert!(colour.contains("\x1b[33mmedium  \x1b[0m"));
    // Stripping the escapes gives the plain table back.
    let mut stripped = String::new();
    let mut rest = colour.as_str();
    while let Some(i) = rest.find('\x1b') {
        stripped.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('m').map_or(after.len(), |e| e + 1);
        rest = &after[end..];
    }
    stripped.push_str(rest);
    assert_eq!(stripped, plain);
}

#[test]
fn clean_scan_says_so() {
    let r = ScanReport {
        tool_version: "0.1.0".into(),
        target: "Cargo.lock".into(),
        scanned_at: "2026-08-25T09:00:00Z".into(),
        package_count: 296,
        ..Default::default()
    };
    assert_eq!(
        table(&r, &TableOptions::default()),
        "portcullis 0.1.0 scan of Cargo.lock at 2026-08-25T09:00:00Z\n\nNo known vulnerabilities in 296 packages\n"
    );
    // Everything suppressed is clean too, with the accepted risks listed.
    let mut r2 = common::report();
    r2.findings.retain(|f| f.suppressed.is_some());
    r2.diagnostics.clear();
    let out = table(&r2, &TableOptions::default());
    assert!(out.contains("\nAccepted risks (1):\n  RUSTSEC-2023-0044 in openssl 0.10.45: "));
    assert!(
        out.ends_with("\nNo known vulnerabilities in 296 packages\nAccepted risks: 1 suppressed\n"),
        "{out}"
    );
}

#[test]
fn warnings_and_diagnostics() {
    let mut r = common::report();
    r.partial = true;
    r.stale_data = true;
    let out = table(
        &r,
        &TableOptions {
            diagnostics: true,
            ..Default::default()
        },
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[2],
        "WARNING: the vulnerability data is stale: update it before relying on this report"
    );
    assert_eq!(
        lines[3],
        "WARNING: some input could not be read: the results are partial"
    );
    assert!(out.contains("\nProblems reading input (1):\n  Cargo.lock:12:1: warning: package `foo` has no version: skipped\n"));
}

#[test]
fn partly_fixed_package_names_the_unfixed() {
    let mut r = common::report();
    let mut unfixed = common::finding(
        "time",
        "0.1.45",
        1500,
        "GHSA-0000-0000-0000",
        &[],
        "made-up unfixed flaw for the test",
        None,
        Severity::Critical,
        None,
        false,
    );
    unfixed.fix.fixed_versions.clear();
    r.findings.push(unfixed);
    let out = table(&r, &TableOptions::default());
    assert!(out.contains(
        "  -> Upgrade time from 0.1.45 to 0.2.23 (fixes 1 of 2 vulnerabilities); no fix released yet for GHSA-0000-0000-0000\n"
    ), "{out}");
    // The critical lifts the time group above webpki (high); equal worst
    // severities keep name order, so openssl-src stays first.
    assert!(out.contains("1 critical, 1 high)\n\ntime 0.1.45 (crates.io) Cargo.lock:1500\n  GHSA-0000-0000-0000                 critical  no fix      made-up"), "{out}");
}

/// Debian bookworm's openssl: the advice names the highest fixed version,
/// compared with Debian ordering, and the ecosystem shows the release.
/// CVE IDs are real OpenSSL CVEs; the fixed versions are bookworm's
/// security-update versions, paired with the CVEs for illustration.
#[test]
fn debian_advice_uses_the_highest_fix() {
    use portcullis_model::{Ecosystem, Location, Package};
    let mut pkg = Package::new(
        Ecosystem::Debian,
        "openssl",
        "3.0.11-1~deb12u2",
        Location {
            path: "var/lib/dpkg/status".into(),
            line: Some(20411),
        },
    );
    pkg.distro = Some("12".into());
    let mk = |id: &str, sev: Severity, fix: &str| {
        let mut f = common::finding("openssl", "", 1, id, &[], "", None, sev, Some(fix), false);
        f.package = pkg.clone();
        f
    };
    let r = ScanReport {
        tool_version: "0.1.0".into(),
        target: "/".into(),
        package_count: 740,
        findings: vec![
            mk("CVE-2023-5678", Severity::Medium, "3.0.13-1~deb12u1"),
            mk("CVE-2024-5535", Severity::Critical, "3.0.14-1~deb12u1"),
            mk("CVE-2024-9143", Severity::Medium, "3.0.15-1~deb12u1"),
            mk("CVE-2024-6119", Severity::High, "3.0.14-1~deb12u1"),
        ],
        ..Default::default()
    };
    let out = table(&r, &TableOptions::default());
    assert!(
        out.contains("\nopenssl 3.0.11-1~deb12u2 (Debian:12) var/lib/dpkg/status:20411\n"),
        "{out}"
    );
    assert!(
        out.contains("\n  -> Upgrade openssl from 3.0.11-1~deb12u2 to 3.0.15-1~deb12u1 (fixes 4 vulnerabilities, 1 critical, 1 high)\n"),
        "{out}"
    );
    assert!(out.ends_with("\n4 vulnerabilities in 1 of 740 packages scanned: 1 critical, 1 high, 2 medium, 0 low, 0 unrated\n14d: no finding breaks the Cyber Essentials 14-day rule\n"), "{out}");
}

/// Versions are compared by the ecosystem's rules, not as strings.
#[test]
fn advice_compares_versions_not_strings() {
    let mut r = common::report();
    r.findings = vec![
        common::finding(
            "h2",
            "0.3.0",
            5,
            "A-1",
            &[],
            "",
            None,
            Severity::High,
            Some("0.10.0"),
            false,
        ),
        common::finding(
            "h2",
            "0.3.0",
            5,
            "A-2",
            &[],
            "",
            None,
            Severity::High,
            Some("0.9.0"),
            false,
        ),
    ];
    let out = table(&r, &TableOptions::default());
    assert!(
        out.contains("  -> Upgrade h2 from 0.3.0 to 0.10.0 (fixes 2 vulnerabilities, 2 high)\n"),
        "{out}"
    );
}
