//! End-to-end tests of `portcullis hunt` and `portcullis rules` on the
//! bundled rules and real samples (fixtures of crates/hunt/tests/fixtures).

use assert_cmd::Command;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../hunt/tests/fixtures")
        .join(name)
}

fn cmd() -> Command {
    let mut c = Command::cargo_bin("portcullis").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn jsonl(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

const SPRAY_4648: &str = "add2c4cd-368b-4d18-8c15-69e5a457c250";

#[test]
fn jsonl_detection_and_fail_level_exit() {
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--year", "2026"])
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a high detection at the default --fail-level high"
    );
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1);
    let d = &lines[0];
    assert_eq!(d["rule_id"], SPRAY_4648);
    assert_eq!(d["level"], "high");
    assert_eq!(d["attack"], serde_json::json!(["T1110.003"]));
    assert_eq!(d["correlation"]["type"], "value_count");
    assert_eq!(d["correlation"]["group"]["IpAddress"], "172.16.144.128");
    assert_eq!(d["host"], "DESKTOP-JR78RLP");
    let e = &d["events"][0];
    assert_eq!(e["record_id"], 42804);
    assert_eq!(e["time"], "2019-04-30T19:27:02.847284Z");
    assert_eq!(e["fields"]["EventID"], "4648");
    assert!(e["file"]
        .as_str()
        .unwrap()
        .ends_with("password-spray.jsonl"));

    cmd()
        .args([
            "hunt",
            "-q",
            "--format",
            "jsonl",
            "--fail-level",
            "critical",
        ])
        .arg(fixture("password-spray.jsonl"))
        .assert()
        .code(0);
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--min-level", "critical"])
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn table_and_csv() {
    let out = cmd()
        .args(["hunt", "--format", "table"])
        .arg(fixture("password-spray.jsonl"))
        .arg(fixture("kerberos-bruteforce-valid-user.evtx"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("TIME (UTC)"));
    // Sorted by time: the 2019 spray before the 2021 Kerberos brute force.
    assert!(rows[1].starts_with("2019-04-30T19:27:12Z") && rows[1].contains("DESKTOP-JR78RLP"));
    assert!(rows[2].starts_with("2021-12-02T14:54:27Z") && rows[2].contains("admin-hacker"));
    assert!(text.contains("Summary by rule:"));
    assert!(text.contains("Summary by host:"));
    assert!(text.ends_with("2 detections from 2 rules on 2 hosts.\n"));

    let out = cmd()
        .args(["hunt", "--format", "csv"])
        .arg(fixture("kerberos-bruteforce-valid-user.evtx"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "medium is below --fail-level high"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].starts_with("time,level,rule_id,title,host,user,source,attack"));
    assert!(rows[1].contains(",medium,b4a78ad1-6a14-4683-a227-6dcf903fde61,"));
    assert!(rows[1].contains(",admin-hacker,::ffff:10.23.123.11,T1110.001,"));
}

#[test]
fn standard_input() {
    let data = std::fs::read(fixture("kerberos_pwd_spray_4771.jsonl")).unwrap();
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "-"])
        .write_stdin(data)
        .output()
        .unwrap();
    let lines = jsonl(&out.stdout);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["rule_id"], "4462efc4-3c47-4cf2-a4e7-e2e5b2150955");
    assert_eq!(lines[0]["events"][0]["file"], "-");
}

#[test]
fn unreadable_inputs_exit_codes() {
    let out = cmd()
        .args(["hunt", "/nonexistent/x.evtx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/x.evtx: cannot read"), "{err}");

    let out = cmd()
        .args(["hunt", "-q", "--format", "jsonl", "/nonexistent/x.evtx"])
        .arg(fixture("kerberos-bruteforce-valid-user.evtx"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "partial: one input unreadable");
    assert_eq!(jsonl(&out.stdout).len(), 1);

    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.bin");
    std::fs::write(&junk, [0u8, 1, 2, 3, 255, 254]).unwrap();
    let out = cmd().arg("hunt").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a recognised log format"));
}

#[test]
fn settings_and_bad_options() {
    // The 41-user spray does not meet a 42-user threshold.
    let out = cmd()
        .args([
            "hunt",
            "--format",
            "jsonl",
            "--set",
            "win_spray_4648.users=42",
        ])
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let out = cmd()
        .args(["hunt", "--set", "nope=3"])
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule setting \"nope\""));

    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("thresholds.yml");
    std::fs::write(&cfg, "# stricter\nwin_spray_4648.users: 41\n").unwrap();
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--rules-config"])
        .arg(&cfg)
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(jsonl(&out.stdout).len(), 1);

    let out = cmd().args(["rules", "settings"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text
        .lines()
        .any(|l| l.starts_with("win_spray_4625.users") && l.contains(" 10 ")));
}

const T1_RULE: &str = "title: T1 spray
id: 1d0a7c9e-0001-4000-8000-000000000001
status: test
correlation:
    type: value_count
    rules:
        - t1_explicit_logon
    group-by:
        - IpAddress
    timespan: 5m
    condition:
        gte: 10
        field: TargetUserName
level: high
---
title: T1 base
id: 1d0a7c9e-0001-4000-8000-0000000000b1
name: t1_explicit_logon
status: test
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4648
    condition: selection
level: informational
";

#[test]
fn user_rules_replace_the_bundled_ones_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("t1.yml"), T1_RULE).unwrap();
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--rules"])
        .arg(tmp.path())
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    let ids: Vec<String> = jsonl(&out.stdout)
        .iter()
        .map(|d| d["rule_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["1d0a7c9e-0001-4000-8000-000000000001"]);
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--bundled", "--rules"])
        .arg(tmp.path())
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    let mut ids: Vec<String> = jsonl(&out.stdout)
        .iter()
        .map(|d| d["rule_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec!["1d0a7c9e-0001-4000-8000-000000000001", SPRAY_4648]
    );
}

#[test]
fn custom_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m.yml");
    // windows/security mapped to a channel that does not exist: nothing fires.
    std::fs::write(
        &m,
        "version: 1\nsources:\n  - {logsource: {product: windows, service: security}, kind: windows, when: {Channel: Nowhere}}\n",
    )
    .unwrap();
    let out = cmd()
        .args(["hunt", "--format", "jsonl", "--mapping"])
        .arg(&m)
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    std::fs::write(
        &m,
        "sources: [ {logsource: {product: x}, kind: martian} ]\n",
    )
    .unwrap();
    let out = cmd()
        .args(["hunt", "--mapping"])
        .arg(&m)
        .arg(fixture("password-spray.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind \"martian\""));
}

#[test]
fn rules_check_lists_unusable_rules() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("good.yml"), T1_RULE).unwrap();
    let out = cmd()
        .args(["rules", "check"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("2 rules usable, 0 skipped\n"));

    std::fs::write(
        tmp.path().join("unmapped.yml"),
        "title: Mac thing\nid: 00000000-0000-4000-8000-0000000000aa\nlogsource: {product: macos, category: process_creation}\ndetection: {sel: {Image|endswith: /x}, condition: sel}\nlevel: low\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("broken.yml"),
        "title: Broken\nid: 00000000-0000-4000-8000-0000000000bb\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID|nosuchmodifier: 1}, condition: sel}\n",
    )
    .unwrap();
    let out = cmd()
        .args(["rules", "check"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("unmapped.yml"), "{text}");
    assert!(text.contains("Mac thing"), "{text}");
    assert!(text.contains("broken.yml"), "{text}");
    assert!(text.ends_with("2 rules usable, 2 skipped\n"), "{text}");
}
