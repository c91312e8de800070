//! `portcullis practice`, run as a user runs it, on repositories built here.

use assert_cmd::Command;
use std::path::Path;

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "1700000000 +0000")
        .env("GIT_COMMITTER_DATE", "1700000000 +0000")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small repository: a disclosure policy, a lockfile, one unpinned workflow.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.name", "Ada"]);
    git(p, &["config", "user.email", "ada@example.org"]);
    git(p, &["config", "commit.gpgsign", "false"]);
    std::fs::write(
        p.join("SECURITY.md"),
        "# Security\n\nEmail security@example.org; we reply within 3 days.\n",
    )
    .unwrap();
    std::fs::write(p.join("Cargo.lock"), "version = 3\n").unwrap();
    std::fs::create_dir_all(p.join(".github/workflows")).unwrap();
    std::fs::write(
        p.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test\n",
    )
    .unwrap();
    git(p, &["add", "-A"]);
    git(p, &["commit", "-q", "-m", "Initial"]);
    dir
}

fn practice() -> Command {
    let mut c = Command::cargo_bin("portcullis").unwrap();
    c.env("NO_COLOR", "1").arg("practice").arg("--no-vulns");
    c
}

#[test]
fn json_report_is_documented_shape() {
    let dir = repo();
    let out = practice()
        .arg(dir.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "portcullis.practice/v1");
    assert_eq!(v["repository"]["git"], true);
    assert_eq!(v["repository"]["commits"], 1);
    assert_eq!(v["principles"].as_array().unwrap().len(), 14);
    let sp = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "security-policy")
        .unwrap();
    assert_eq!(sp["judgement"], "met");
    let unpinned = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "ci-action-unpinned")
        .unwrap();
    assert_eq!(unpinned["file"], ".github/workflows/ci.yml");
    assert_eq!(unpinned["line"], 6);
    assert!(v["score"].as_u64().unwrap() <= 100);
}

#[test]
fn fail_under_sets_the_exit_code() {
    let dir = repo();
    practice()
        .arg(dir.path())
        .args(["--fail-under", "100"])
        .assert()
        .code(1);
    practice()
        .arg(dir.path())
        .args(["--fail-under", "0"])
        .assert()
        .code(0);
    practice()
        .arg(dir.path())
        .args(["--fail-under", "101"])
        .assert()
        .code(2);
}

#[test]
fn sarif_markdown_and_table() {
    let dir = repo();
    let out = practice()
        .arg(dir.path())
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "ci-action-unpinned"
        && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 6));
    let md = practice()
        .arg(dir.path())
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("## Software Security Code of Practice: "));
    assert!(md.contains("| 3.2 Implement and publish an effective vulnerability disclosure"));
    let table = practice().arg(dir.path()).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.contains("Vulnerability disclosure policy"));
    assert!(!table.contains('\x1b'), "no colour when NO_COLOR is set");
}

#[test]
fn output_file_and_bad_path() {
    let dir = repo();
    let file = dir.path().join("report.json");
    practice()
        .arg(dir.path())
        .args(["--format", "json", "-o"])
        .arg(&file)
        .assert()
        .code(0);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("\"schema\""));
    let out = practice().arg(dir.path().join("missing")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a directory"), "{err}");
}
