//! The JSON report: schema `portcullis.scan/v1`.
mod common;
use portcullis_model::{Ecosystem, Location, Package};
use portcullis_report::{json, json_value, JsonOptions, SCAN_SCHEMA};
use serde_json::{json, Value};

#[test]
fn top_level_fields() {
    let v = json_value(&common::report(), &JsonOptions::default());
    let mut keys: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    // Key order depends on serde_json's map features; the set is what is stable.
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "data_sources",
            "diagnostics",
            "findings",
            "partial",
            "schema",
            "stale_data",
            "summary",
            "target",
            "time",
            "tool"
        ]
    );
    assert_eq!(v["schema"], SCAN_SCHEMA);
    assert_eq!(v["schema"], "portcullis.scan/v1");
    assert_eq!(v["tool"], json!({"name": "portcullis", "version": "0.1.0"}));
    assert_eq!(v["target"], "Cargo.lock");
    assert_eq!(v["time"], "2026-08-25T09:00:00Z");
    assert_eq!(v["partial"], false);
    assert_eq!(v["stale_data"], false);
    assert_eq!(
        v["summary"],
        json!({"packages": 296, "findings": 7, "critical": 1, "high": 2, "medium": 1, "low": 0,
               "unrated": 3, "ce_14_day": 5, "suppressed": 1})
    );
    assert_eq!(
        v["data_sources"],
        json!([{"name": "osv:crates.io", "records": 1206, "last_updated": "2026-08-21T00:00:00Z", "age_days": 4}])
    );
    assert_eq!(
        v["diagnostics"],
        json!([{"level": "warning", "path": "Cargo.lock", "line": 12, "column": 1,
                "message": "package `foo` has no version: skipped"}])
    );
}

#[test]
fn findings_sorted_by_severity_package_id() {
    let v = json_value(&common::report(), &JsonOptions::default());
    let order: Vec<(String, String)> = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["severity"].as_str().unwrap_or("").to_string(),
                        f["id"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let want = [
        ("critical", "RUSTSEC-2021-0097"),
        ("high", "RUSTSEC-2021-0098"),
        ("high", "RUSTSEC-2023-0052"),
        ("medium", "RUSTSEC-2020-0071"),
        ("unknown", "RUSTSEC-2023-0017"),
        ("unknown", "RUSTSEC-2023-0023"),
        ("unknown", "RUSTSEC-2023-0044"),
        ("unknown", "RUSTSEC-2025-0004"),
    ];
    let got: Vec<(&str, &str)> = order
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, want);
    // A finding keeps the model's field names.
    let f = &v["findings"][0];
    assert_eq!(f["package"]["name"], "openssl-src");
    assert_eq!(
        f["package"]["purl"],
        "pkg:cargo/openssl-src@111.15.0%2B1.1.1k"
    );
    assert_eq!(
        f["package"]["location"],
        json!({"path": "Cargo.lock", "line": 640})
    );
    assert_eq!(
        f["aliases"],
        json!(["CVE-2021-3711", "GHSA-5ww6-px42-wc85"])
    );
    assert_eq!(f["cvss_score"], 9.8);
    assert_eq!(
        f["fix"],
        json!({"upgrade_to": "111.16.0", "fixed_versions": ["111.16.0"]})
    );
    assert_eq!(f["ce_14_day"], true);
    assert!(f.get("suppressed").is_none());
    let s = &v["findings"][6];
    assert_eq!(
        s["suppressed"],
        json!({"reason": "set_host is never called with untrusted input", "expires": "2026-12-31", "source": "portcullis.toml"})
    );
}

#[test]
fn deterministic_and_packages_optional() {
    let mut r = common::report();
    let a = json(&r, &JsonOptions::default());
    r.findings.reverse();
    assert_eq!(json(&r, &JsonOptions::default()), a);
    assert!(!a.contains("\"packages\":["));
    r.packages = vec![
        Package::new(
            Ecosystem::CratesIo,
            "time",
            "0.1.45",
            Location {
                path: "Cargo.lock".into(),
                line: Some(1500),
            },
        ),
        Package::new(
            Ecosystem::CratesIo,
            "anyhow",
            "1.0.86",
            Location {
                path: "Cargo.lock".into(),
                line: Some(40),
            },
        ),
    ];
    let v = json_value(
        &r,
        &JsonOptions {
            include_packages: true,
            pretty: false,
        },
    );
    assert_eq!(v["packages"][0]["name"], "anyhow");
    assert_eq!(v["packages"][1]["purl"], "pkg:cargo/time@0.1.45");
    let pretty = json(
        &r,
        &JsonOptions {
            include_packages: true,
            pretty: true,
        },
    );
    assert!(pretty.starts_with("{\n  \"schema\": \"portcullis.scan/v1\",\n  \"tool\": {\n"));
    let back: Value = serde_json::from_str(&pretty).unwrap_or(Value::Null);
    assert_eq!(back, v);
}

#[test]
fn no_nulls_anywhere() {
    fn walk(v: &Value, path: &str) {
        match v {
            Value::Null => panic!("null at {path}"),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, &format!("{path}/{i}"))),
            Value::Object(o) => o.iter().for_each(|(k, x)| walk(x, &format!("{path}/{k}"))),
            _ => {}
        }
    }
    let mut r = common::report();
    r.packages = vec![Package::new(
        Ecosystem::Npm,
        "@babel/core",
        "",
        Location::default(),
    )];
    walk(
        &json_value(
            &r,
            &JsonOptions {
                include_packages: true,
                pretty: false,
            },
        ),
        "",
    );
}
