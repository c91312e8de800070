//! The `portcullis` binary, run as a user runs it.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A database built once from the bundled snapshot, copied for each test.
fn shared_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = DB.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("osv.db");
        // The first scan builds the database from the bundled snapshot.
        let out = Command::cargo_bin("portcullis")
            .unwrap()
            .env("PORTCULLIS_DB", &path)
            .args(["scan", "--format", "json"])
            .arg(fixtures().join("project/rust"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("first run"), "{stderr}");
        (dir, path)
    });
    path
}

fn portcullis(dir: &tempfile::TempDir) -> Command {
    let db = dir.path().join("osv.db");
    if !db.exists() {
        std::fs::copy(shared_db(), &db).unwrap();
    }
    let mut c = Command::cargo_bin("portcullis").unwrap();
    c.env("PORTCULLIS_DB", &db)
        .env("NO_COLOR", "1")
        .current_dir(dir.path());
    c
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn scan_finds_vulnerable_crates_and_python_packages() {
    let dir = tempfile::tempdir().unwrap();
    let out = portcullis(&dir)
        .args(["scan", "--format", "json"])
        .arg(fixtures().join("project"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["schema"], "portcullis.scan/v1");
    let findings = v["findings"].as_array().unwrap();
    let has = |id: &str, pkg: &str| {
        findings
            .iter()
            .any(|f| f["id"] == id && f["package"]["name"] == pkg)
    };
    assert!(has("RUSTSEC-2021-0153", "encoding"), "{findings:#?}");
    assert!(has("RUSTSEC-2026-0186", "memmap2"));
    assert!(has("PYSEC-2023-192", "urllib3"));
    // 296 crates (less the workspace's own) and 155 pins.
    let packages = v["summary"]["packages"].as_u64().unwrap();
    assert!(packages > 400, "{packages}");
    // Every finding says where the package was found.
    for f in findings {
        assert!(
            f["package"]["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("Cargo.lock")
                || f["package"]["location"]["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("requirements.txt")
        );
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("days old"), "stale data warning: {stderr}");
}

#[test]
fn fail_on_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let rust = fixtures().join("project/rust");
    // hayabusa's lockfile has no critical findings in the snapshot.
    portcullis(&dir)
        .args(["-q", "scan", "--fail-on", "critical"])
        .arg(&rust)
        .assert()
        .code(0);
    portcullis(&dir)
        .args(["-q", "scan"])
        .arg(&rust)
        .assert()
        .code(1);
}

#[test]
fn table_output_tells_people_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = portcullis(&dir)
        .args(["scan"])
        .arg(fixtures().join("project/python"))
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Upgrade urllib3 from 1.24.1 to"), "{table}");
    assert!(!table.contains("\x1b["), "no colour when not a terminal");
}

#[test]
fn a_broken_lockfile_gives_one_clear_line_and_a_partial_exit() {
    let dir = tempfile::tempdir().unwrap();
    let out = portcullis(&dir)
        .args(["scan", "--format", "json"])
        .arg(fixtures().join("broken"))
        .arg(fixtures().join("project/rust"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("package-lock.json") && l.contains("error"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(line.contains("package-lock.json:"), "{line}");
    // The rest of the scan went on.
    let v = json_of(&out);
    assert_eq!(v["partial"], true);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["package"]["name"] == "encoding"));
}

#[test]
fn nothing_readable_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = portcullis(&dir)
        .args(["scan", "does-not-exist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does-not-exist"), "{stderr}");
    portcullis(&dir)
        .args(["scan", "--no-such-flag"])
        .assert()
        .code(2);
    portcullis(&dir)
        .args(["scan", "--fail-on", "severe"])
        .assert()
        .code(2);
}

#[test]
fn accepted_risks_in_portcullis_toml_are_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let out = portcullis(&dir)
        .args(["scan", "--format", "json", "p"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let ids: Vec<String> = json_of(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"RUSTSEC-2021-0003".to_string()), "{ids:?}");
    let mut toml = String::new();
    for id in &ids {
        toml.push_str(&format!(
            "[[ignore]]\nid = \"{id}\"\nreason = \"not reachable from our code\"\nexpires = \"2099-01-01\"\n\n"
        ));
    }
    std::fs::write(project.join("portcullis.toml"), toml).unwrap();
    let out = portcullis(&dir)
        .args(["scan", "--format", "json", "p"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["summary"]["findings"], 0);
    assert_eq!(
        v["summary"]["suppressed"].as_u64().unwrap() as usize,
        ids.len()
    );
}

#[test]
fn sarif_and_cyclonedx_reports() {
    let dir = tempfile::tempdir().unwrap();
    let rust = fixtures().join("project/rust");
    let out = portcullis(&dir)
        .args(["scan", "--format", "sarif"])
        .arg(&rust)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert_eq!(v["version"], "2.1.0");
    assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
    let out = portcullis(&dir)
        .args(["scan", "--format", "cyclonedx", "-o", "bom.json"])
        .arg(&rust)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let bom: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("bom.json")).unwrap())
            .unwrap();
    assert_eq!(bom["specVersion"], "1.6");
    assert!(bom["components"].as_array().unwrap().len() > 250);
    assert!(!bom["vulnerabilities"].as_array().unwrap().is_empty());
}

#[test]
fn sbom_writes_spdx_and_cyclonedx() {
    let dir = tempfile::tempdir().unwrap();
    let rust = fixtures().join("project/rust");
    let out = portcullis(&dir)
        .args(["sbom", "--format", "spdx"])
        .arg(&rust)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = json_of(&out);
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
    let out = portcullis(&dir).args(["sbom"]).arg(&rust).output().unwrap();
    let v = json_of(&out);
    assert_eq!(v["bomFormat"], "CycloneDX");
    // An SBOM read back in is scanned like the lockfile it came from.
    std::fs::write(dir.path().join("app.cdx.json"), &out.stdout).unwrap();
    let out = portcullis(&dir)
        .args(["scan", "--format", "json", "app.cdx.json"])
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["package"]["name"] == "encoding"));
}

#[test]
fn db_import_status_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("fresh.db");
    let osv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/fixtures/osv");
    let run = |args: &[&str]| {
        Command::cargo_bin("portcullis")
            .unwrap()
            .env("PORTCULLIS_DB", &db)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["db", "import", "--name", "fixtures", osv.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A new database gets the bundled snapshot first, so importing one
    // source never leaves the other ecosystems empty.
    assert!(String::from_utf8_lossy(&out.stderr).contains("bundled snapshot first"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("13 records read"), "{text}");
    let v = json_of(&run(&["db", "status", "--format", "json"]));
    assert!(v["status"]["records"].as_u64().unwrap() > 9000);
    let names: Vec<&str> = v["status"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bundled", "fixtures"]);
    // A second import into the same database does not add the snapshot again.
    let out = run(&["db", "import", "--name", "fixtures", osv.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bundled snapshot first"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 added"));
    assert_eq!(
        json_of(&run(&["db", "show", "CVE-2014-3616"]))["id"],
        "DSA-3029-1"
    );
}
