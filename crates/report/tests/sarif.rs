//! SARIF 2.1.0: validated against the OASIS schema, and exact fields.
mod common;
use portcullis_report::{sarif, sarif_value, ScanReport};
use serde_json::{json, Value};

/// The schema's `language` pattern (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`)
/// has a stray `]` that the validator's regex engine rejects; it is replaced in
/// memory by the pattern it evidently means (see fixtures/README.md).
const BAD_PATTERN: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
const FIXED_PATTERN: &str = r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#;

fn schema() -> Value {
    let text = include_str!("fixtures/sarif-schema-2.1.0.json");
    assert_eq!(
        text.matches(BAD_PATTERN).count(),
        2,
        "the schema fixture changed: review the pattern fix"
    );
    serde_json::from_str(&text.replace(BAD_PATTERN, FIXED_PATTERN)).unwrap_or(Value::Null)
}

fn errors(instance: &Value) -> Vec<String> {
    let validator = match jsonschema::validator_for(&schema()) {
        Ok(v) => v,
        Err(e) => return vec![format!("schema does not compile: {e}")],
    };
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn schema_rejects_broken_logs() {
    // The validator really checks: a result with a bad level and a run without a tool fail.
    assert!(jsonschema::validator_for(&schema()).is_ok());
    let mut v = sarif_value(&common::report());
    v["runs"][0]["results"][0]["level"] = json!("fatal");
    let e = errors(&v);
    assert!(
        e.iter()
            .any(|e| e.contains("fatal") && e.contains("/runs/0/results/0/level")),
        "{e:?}"
    );
    let mut v = sarif_value(&common::report());
    if let Some(run) = v["runs"][0].as_object_mut() {
        run.remove("tool");
    }
    let e = errors(&v);
    assert!(e.iter().any(|e| e.contains("tool")), "{e:?}");
    let mut v = sarif_value(&common::report());
    v["runs"][0]["results"][0]["suppressions"] = json!([{"kind": "ignored"}]);
    assert!(!errors(&v).is_empty());
}

#[test]
fn valid_against_sarif_2_1_0_schema() {
    let v = sarif_value(&common::report());
    assert_eq!(errors(&v), Vec::<String>::new());
    let clean = ScanReport {
        tool_version: "0.1.0".into(),
        target: ".".into(),
        ..Default::default()
    };
    assert_eq!(errors(&sarif_value(&clean)), Vec::<String>::new());
    let mut partial = common::report();
    partial.partial = true;
    partial.findings[0].package.location.line = None;
    partial.findings[0].package.location.path = String::new();
    assert_eq!(errors(&sarif_value(&partial)), Vec::<String>::new());
    // Text output is the same document.
    let text: Value = serde_json::from_str(&sarif(&common::report())).unwrap_or(Value::Null);
    assert_eq!(text, v);
}

#[test]
fn driver_and_rules() {
    let v = sarif_value(&common::report());
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["$schema"], "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json");
    let runs = v["runs"].as_array().map_or(0, Vec::len);
    assert_eq!(runs, 1);
    let driver = &v["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "portcullis");
    assert_eq!(driver["version"], "0.1.0");
    assert!(driver["informationUri"]
        .as_str()
        .is_some_and(|s| s.starts_with("https://")));
    let rules = driver["rules"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "RUSTSEC-2020-0071",
            "RUSTSEC-2021-0097",
            "RUSTSEC-2021-0098",
            "RUSTSEC-2023-0017",
            "RUSTSEC-2023-0023",
            "RUSTSEC-2023-0044",
            "RUSTSEC-2023-0052",
            "RUSTSEC-2025-0004"
        ]
    );
    let r = &rules[1];
    assert_eq!(
        r["shortDescription"]["text"],
        "SM2 Decryption Buffer Overflow"
    );
    assert_eq!(
        r["fullDescription"]["text"],
        "SM2 Decryption Buffer Overflow (IDs: RUSTSEC-2021-0097, CVE-2021-3711, GHSA-5ww6-px42-wc85)"
    );
    assert_eq!(
        r["helpUri"],
        "https://rustsec.org/advisories/RUSTSEC-2021-0097.html"
    );
    assert_eq!(
        r["help"]["text"],
        "SM2 Decryption Buffer Overflow (IDs: RUSTSEC-2021-0097, CVE-2021-3711, GHSA-5ww6-px42-wc85)\nUpgrade openssl-src to 111.16.0 or later.\nDetails: https://rustsec.org/advisories/RUSTSEC-2021-0097.html"
    );
    assert_eq!(r["properties"]["security-severity"], "9.8");
    assert_eq!(
        r["properties"]["tags"],
        json!(["security", "vulnerability", "crates.io", "critical"])
    );
    assert_eq!(r["defaultConfiguration"]["level"], "error");
    // Unrated: no security-severity; medium from its CVSS score.
    assert!(rules[3]["properties"].get("security-severity").is_none());
    assert_eq!(rules[0]["properties"]["security-severity"], "6.2");
    assert_eq!(
        rules[3]["help"]["text"],
        "`maligned::align_first` causes incorrect deallocation (IDs: RUSTSEC-2023-0017, GHSA-wm8x-php5-hvq6)\nNo fix has been released: consider removing or replacing maligned, or accept the risk in portcullis.toml.\nDetails: https://rustsec.org/advisories/RUSTSEC-2023-0017.html"
    );
}

#[test]
fn results() {
    let v = sarif_value(&common::report());
    let results = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(results.len(), 8);
    let levels: Vec<&str> = results.iter().filter_map(|r| r["level"].as_str()).collect();
    assert_eq!(
        levels,
        ["error", "error", "error", "warning", "note", "note", "note", "note"]
    );
    let first = &results[0];
    assert_eq!(first["ruleId"], "RUSTSEC-2021-0097");
    assert_eq!(first["ruleIndex"], 1);
    assert_eq!(
        first["message"]["text"],
        "openssl-src 111.15.0+1.1.1k (crates.io) is affected by RUSTSEC-2021-0097 (CVE-2021-3711): SM2 Decryption Buffer Overflow; upgrade to 111.16.0"
    );
    assert_eq!(
        first["locations"],
        json!([{"physicalLocation": {"artifactLocation": {"uri": "Cargo.lock"}, "region": {"startLine": 640}}}])
    );
    let fp = first["partialFingerprints"]["portcullisFinding/v1"]
        .as_str()
        .unwrap_or("");
    assert_eq!(fp.len(), 16);
    // Stable across runs and independent of the line (a lockfile edit above
    // the entry must not make a new alert).
    let mut moved = common::report();
    for f in &mut moved.findings {
        f.package.location.line = Some(1);
    }
    let v2 = sarif_value(&moved);
    assert_eq!(
        v2["runs"][0]["results"][0]["partialFingerprints"],
        first["partialFingerprints"]
    );
    assert_ne!(
        results[1]["partialFingerprints"],
        first["partialFingerprints"]
    );
    assert!(first.get("suppressions").is_none());
    let unfixed = results
        .iter()
        .find(|r| r["ruleId"] == "RUSTSEC-2023-0017")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(unfixed["message"]["text"]
        .as_str()
        .is_some_and(|t| t.ends_with("; no fix released yet")));
    let accepted = results
        .iter()
        .find(|r| r["ruleId"] == "RUSTSEC-2023-0044")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(
        accepted["suppressions"],
        json!([{"kind": "external", "status": "accepted",
                "justification": "set_host is never called with untrusted input (accepted until 2026-12-31) [portcullis.toml]"}])
    );
    let inv = &v["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    assert_eq!(inv["endTimeUtc"], "2026-08-25T09:00:00Z");
    assert_eq!(
        inv["toolExecutionNotifications"][0]["message"]["text"],
        "package `foo` has no version: skipped"
    );
    assert_eq!(
        inv["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["region"],
        json!({"startLine": 12, "startColumn": 1})
    );
}
