//! `portcullis assess` and `portcullis check`, end to end.

use assert_cmd::Command;
use std::path::PathBuf;
use std::sync::OnceLock;

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assess/tests/fixtures")
        .join(case)
}

/// A database built once from the bundled snapshot, copied where a test needs one.
fn shared_db() -> &'static std::path::Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("osv.db");
        let out = Command::cargo_bin("portcullis")
            .unwrap()
            .env("PORTCULLIS_DB", &path)
            .args(["assess", "--format", "json", "--root"])
            .arg(fixture("hardened"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&out.stderr).contains("first run"));
        (dir, path)
    });
    path
}

fn cmd(db: &std::path::Path) -> Command {
    if !db.exists() && db.file_name().is_some_and(|n| n == "fresh.db") {
        std::fs::copy(shared_db(), db).unwrap();
    }
    let mut c = Command::cargo_bin("portcullis").unwrap();
    c.env("PORTCULLIS_DB", db).env("NO_COLOR", "1");
    c
}

#[test]
fn assess_json_of_a_fixture_root() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("x.db"))
        .args(["assess", "--no-vulns", "--format", "json", "--root"])
        .arg(fixture("bad-accounts"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["schema"], "portcullis.assess/v1");
    assert_eq!(j["verdict"], "not_ready");
    assert_eq!(j["live"], false);
    let checks = j["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 27);
    let uid0 = checks
        .iter()
        .find(|c| c["id"] == "linux.users.uid0")
        .unwrap();
    assert_eq!(uid0["status"], "fail");
    assert_eq!(uid0["control"], "user_access_control");
    assert_eq!(uid0["evidence"][0]["source"], "/etc/passwd");
    assert_eq!(uid0["evidence"][0]["line"], 6);
    let vul = checks
        .iter()
        .find(|c| c["id"] == "linux.updates.vulnerable_packages")
        .unwrap();
    assert_eq!(vul["status"], "unknown");
    assert_eq!(vul["auto_fail"], true);
}

#[test]
fn assess_table_and_html() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("x.db"))
        .args(["assess", "--no-vulns", "--root"])
        .arg(fixture("debian12-defaults"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("NOT READY for Cyber Essentials (v3.3)"));
    assert!(t.contains("Fix these first:"));
    assert!(t.contains("ufw default deny incoming && ufw enable"));
    assert!(!t.contains('\x1b'));
    let html = d.path().join("r.html");
    let st = cmd(&d.path().join("x.db"))
        .args(["assess", "--no-vulns", "--format", "html", "--root"])
        .arg(fixture("debian12-defaults"))
        .arg("-o")
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
    assert!(st.stdout.is_empty());
    let h = std::fs::read_to_string(&html).unwrap();
    assert!(h.starts_with("<!DOCTYPE html>") && h.contains("What to fix first"));
}

#[test]
fn assess_with_vulnerability_database() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("fresh.db"))
        .args(["assess", "--format", "json", "--root"])
        .arg(fixture("hardened"))
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(1) | Some(0) | Some(3)));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vul = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "linux.updates.vulnerable_packages")
        .unwrap()
        .clone();
    assert_ne!(vul["status"], "unknown", "{vul}");
}

#[test]
fn assess_bad_root_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("x.db"))
        .args(["assess", "--root"])
        .arg(d.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("nope: cannot read the root directory"), "{e}");
}

#[test]
fn windows_evidence_archive() {
    // The evidence fixture of portcullis-winevidence (see its tests/fixtures/README.md).
    let ev =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../winevidence/tests/fixtures/failing");
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("x.db"))
        .args(["assess", "--format", "json", "--windows-evidence"])
        .arg(&ev)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["verdict"], "not_ready");
    let checks = j["checks"].as_array().unwrap();
    assert!(checks
        .iter()
        .all(|c| c["id"].as_str().unwrap().starts_with("windows.")));
    assert!(j["auto_fail_count"].as_u64().unwrap() >= 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bitlocker.json"));
    // Not evidence at all: a usage error.
    std::fs::write(d.path().join("junk.bin"), b"not a zip").unwrap();
    let out = cmd(&d.path().join("x.db"))
        .args(["assess", "--windows-evidence"])
        .arg(d.path().join("junk.bin"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.bin"));
}

#[test]
fn check_this_machine() {
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("fresh.db"))
        .arg("check")
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!(
        [0, 1, 3].contains(&code),
        "{code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("for Cyber Essentials") || t.contains("NOT READY YET"),
        "{t}"
    );
    assert!(t.contains("\nSign-in attacks:\n"), "{t}");
    assert!(t.contains("portcullis assess --format html"));
    assert!(t.contains("Nothing was changed on this machine."));
}

#[test]
fn check_with_a_project() {
    // The scan fixture of the CLI (tests/fixtures/README.md): vulnerable crates and Python packages.
    let project = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/project");
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("fresh.db"))
        .arg("check")
        .arg(&project)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8(out.stdout).unwrap();
    let line = t
        .lines()
        .find(|l| l.starts_with("Projects ("))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(line.contains("past the 14-day rule"), "{line}");
    assert!(!line.contains(" 0 known vulnerabilities"), "{line}");
    // Late application fixes are an automatic fail (A6.5) and come first.
    assert!(t.contains("of them automatic fails"), "{t}");
    assert!(t.contains("1. No project dependency has a high or critical vulnerability with a fix older than 14 days (automatic fail)"), "{t}");
}

#[test]
fn check_hunts_sign_in_attacks_in_the_auth_logs() {
    // The real Ubuntu auth.log of the hunt fixtures (crates/hunt/tests/fixtures/README.md).
    let logs = tempfile::tempdir().unwrap();
    std::fs::copy(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hunt/tests/fixtures/elastic-auth.log"),
        logs.path().join("auth.log"),
    )
    .unwrap();
    let d = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("fresh.db"))
        .args(["check", "--log-dir"])
        .arg(logs.path())
        .output()
        .unwrap();
    // A high detection (the SSH password spray) makes check exit 1 whatever the machine.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = String::from_utf8(out.stdout).unwrap();
    let section = t
        .split("\nSign-in attacks:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        section.starts_with("  1 of 1 log files read, 7446 events"),
        "{section}"
    );
    assert!(
        section.contains("high or critical detections:"),
        "{section}"
    );
    assert!(
        section.contains("Password Spray - SSH Failures for Many Users From One Address [high]"),
        "{section}"
    );

    // No logs: said plainly.
    let empty = tempfile::tempdir().unwrap();
    let out = cmd(&d.path().join("fresh.db"))
        .args(["check", "--log-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("Sign-in attacks:\n  no authentication logs found"),
        "{t}"
    );
}
