//! Writing CycloneDX 1.6 and SPDX 2.3, validated against the official JSON
//! schemas kept in tests/fixtures/schema (no network: `$ref`s resolve to the
//! local copies).

use portcullis_model::finding::Suppression;
use portcullis_model::{Ecosystem, Finding, Fix, Location, Package, Severity};
use portcullis_sbom::{read, write_cyclonedx, write_spdx, SbomSubject};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Serves the schemas the CycloneDX schema references from the local copies.
struct LocalSchemas(HashMap<String, Value>);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .get(uri.as_str())
            .cloned()
            .ok_or_else(|| format!("schema {uri} is not kept locally").into())
    }
}

fn cyclonedx_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let mut local = HashMap::new();
        // As shipped in cyclonedx-python-lib, bom-1.6 refers to its
        // neighbours by their SNAPSHOT file names, relative to its $id.
        for name in ["spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"] {
            local.insert(
                format!("http://cyclonedx.org/schema/{name}"),
                json(&format!("schema/{name}")),
            );
        }
        jsonschema::options()
            .should_validate_formats(true)
            .with_retriever(LocalSchemas(local))
            .build(&json("schema/bom-1.6.SNAPSHOT.schema.json"))
            .expect("CycloneDX 1.6 schema compiles")
    })
}

fn spdx_validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .with_retriever(LocalSchemas(HashMap::new()))
            .build(&json("schema/spdx-2.3.schema.json"))
            .expect("SPDX 2.3 schema compiles")
    })
}

fn assert_valid(v: &jsonschema::Validator, doc: &str) -> Value {
    let value: Value = serde_json::from_str(doc).expect("output is JSON");
    let errors: Vec<String> = v
        .iter_errors(&value)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    value
}

fn subject() -> SbomSubject {
    SbomSubject {
        name: "test host".into(),
        tool_version: "0.1.0".into(),
        created: "2026-11-22T21:00:00Z".into(),
    }
}

/// The 740 Debian packages and 1,286 crates of the syft fixtures.
fn real_packages() -> Vec<Package> {
    let mut p = read(
        "debian.cdx.json",
        &fixture("debian12-dpkg.syft.trimmed.cdx.json"),
    )
    .packages;
    p.extend(
        read(
            "vector.cdx.json",
            &fixture("vector-cargo.syft.trimmed.cdx.json"),
        )
        .packages,
    );
    p.extend(read("npm.cdx.json", &fixture("rust-analyzer-npm.syft.cdx.json")).packages);
    assert_eq!(p.len(), 740 + 1286 + 67);
    p
}

/// Findings built from the 48 vulnerabilities of the real pip-audit report,
/// with ratings, fixes and suppressions added to some so every field is written.
fn pip_audit_findings() -> (Vec<Package>, Vec<Finding>) {
    let doc = json("pip-audit-req-old.cdx.json");
    let mut by_ref = HashMap::new();
    for c in doc["components"].as_array().unwrap() {
        let pkg = Package::new(
            Ecosystem::PyPI,
            c["name"].as_str().unwrap(),
            c["version"].as_str().unwrap(),
            Location {
                path: "requirements.txt".into(),
                line: None,
            },
        );
        by_ref.insert(c["bom-ref"].as_str().unwrap().to_string(), pkg);
    }
    let mut packages: Vec<Package> = by_ref.values().cloned().collect();
    packages.sort();
    let mut findings = Vec::new();
    for (i, v) in doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let r = v["affects"][0]["ref"].as_str().unwrap();
        let package = by_ref[r].clone();
        let (score, vector, severity) = match i % 4 {
            0 => (
                Some(9.8),
                Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_string()),
                Severity::Critical,
            ),
            1 => (
                Some(5.0),
                Some("AV:N/AC:L/Au:N/C:N/I:N/A:P".to_string()),
                Severity::Medium,
            ),
            2 => (None, None, Severity::High),
            _ => (None, None, Severity::Unknown),
        };
        let suppressed = match i % 5 {
            1 => Some(Suppression {
                reason: "vulnerable_code_not_in_execute_path".into(),
                expires: None,
                source: "vex.json".into(),
            }),
            2 => Some(Suppression {
                reason: "accepted until the upgrade".into(),
                expires: Some("2027-01-01".into()),
                source: "portcullis.toml".into(),
            }),
            _ => None,
        };
        findings.push(Finding {
            id: v["id"].as_str().unwrap().to_string(),
            aliases: vec![
                format!("CVE-2020-{:04}", 1000 + i),
                format!("GHSA-xxxx-xxxx-{i:04}"),
            ],
            sources: vec![v["id"].as_str().unwrap().to_string()],
            summary: v["description"].as_str().unwrap().to_string(),
            severity,
            cvss_score: score,
            cvss_vector: vector,
            fix: Fix {
                upgrade_to: Some("99.0".into()),
                fixed_versions: vec!["99.0".into()],
            },
            published: Some("2020-01-01T00:00:00Z".into()),
            modified: Some("2024-06-01T12:00:00Z".into()),
            ce_14_day: false,
            references: vec![format!(
                "https://osv.dev/vulnerability/{}",
                v["id"].as_str().unwrap()
            )],
            suppressed,
            package,
        });
    }
    assert_eq!(findings.len(), 48);
    (packages, findings)
}

fn purls(packages: &[Package]) -> Vec<String> {
    let mut v: Vec<String> = packages.iter().map(|p| p.purl.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn validators_reject_invalid_documents() {
    // The validators are real: a document missing required fields fails.
    let bad = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "x"}]}"#;
    assert!(!cyclonedx_validator().is_valid(&serde_json::from_str(bad).unwrap()));
    let bad = r#"{"spdxVersion": "SPDX-2.3", "packages": []}"#;
    assert!(!spdx_validator().is_valid(&serde_json::from_str(bad).unwrap()));
    // And the syft fixtures are valid.
    assert_valid(
        cyclonedx_validator(),
        &fixture("debian12-dpkg.syft.trimmed.cdx.json"),
    );
    assert_valid(
        spdx_validator(),
        &fixture("debian12-dpkg.syft.trimmed.spdx.json"),
    );
}

#[test]
fn cyclonedx_without_findings_validates_and_round_trips() {
    let packages = real_packages();
    let out = write_cyclonedx(&subject(), &packages, &[]);
    let v = assert_valid(cyclonedx_validator(), &out);
    assert_eq!(v["specVersion"], "1.6");
    assert_eq!(v["components"].as_array().unwrap().len(), packages.len());
    assert!(v.get("vulnerabilities").is_none());
    assert_eq!(v["metadata"]["component"]["type"], "application");
    assert_eq!(
        v["metadata"]["tools"]["components"][0]["name"],
        "portcullis"
    );
    let w = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "wasm")
        .unwrap();
    assert_eq!(w["group"], "@hpcc-js");
    assert_eq!(w["licenses"][0]["license"]["id"], "Apache-2.0");

    let back = read("out.cdx.json", &out);
    assert!(back.diagnostics.is_empty(), "{:?}", back.diagnostics);
    assert_eq!(purls(&back.packages), purls(&packages));
    let libc = back.packages.iter().find(|p| p.name == "libc6").unwrap();
    assert_eq!(libc.distro.as_deref(), Some("12"));
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));

    // Reproducible, and the serial number follows the content.
    assert_eq!(out, write_cyclonedx(&subject(), &packages, &[]));
    let other = write_cyclonedx(&subject(), &packages[1..], &[]);
    let serial = |s: &str| {
        serde_json::from_str::<Value>(s).unwrap()["serialNumber"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(serial(&out), serial(&other));
}

#[test]
fn cyclonedx_with_findings_validates() {
    let (packages, findings) = pip_audit_findings();
    let out = write_cyclonedx(&subject(), &packages, &findings);
    let v = assert_valid(cyclonedx_validator(), &out);
    let vulns = v["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 48);
    let refs: Vec<&str> = v["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for vu in vulns {
        assert!(refs.contains(&vu["affects"][0]["ref"].as_str().unwrap()));
    }
    let first = &vulns[0];
    assert_eq!(first["id"], findings[0].id);
    assert_eq!(first["ratings"][0]["method"], "CVSSv31");
    assert_eq!(first["ratings"][0]["severity"], "critical");
    assert_eq!(first["ratings"][0]["score"], 9.8);
    assert_eq!(first["references"][0]["source"]["name"], "NVD");
    assert_eq!(
        first["recommendation"],
        format!("Upgrade {} to 99.0", findings[0].package.name)
    );
    assert_eq!(vulns[1]["ratings"][0]["method"], "CVSSv2");
    assert_eq!(vulns[1]["analysis"]["state"], "not_affected");
    assert_eq!(vulns[1]["analysis"]["justification"], "code_not_reachable");
    assert_eq!(vulns[2]["analysis"]["state"], "exploitable");
    assert_eq!(vulns[2]["analysis"]["response"][0], "will_not_fix");
    assert!(vulns[2]["analysis"]["detail"]
        .as_str()
        .unwrap()
        .contains("until 2027-01-01"));
    assert!(vulns[3].get("ratings").is_none());

    // A finding whose package is not in the list adds a component.
    let mut lone = findings[0].clone();
    lone.package = Package::new(Ecosystem::Npm, "@scope/lone", "1.0.0", Location::default());
    let out = write_cyclonedx(&subject(), &packages, &[lone]);
    let v = assert_valid(cyclonedx_validator(), &out);
    assert_eq!(
        v["components"].as_array().unwrap().len(),
        packages.len() + 1
    );
    assert_eq!(
        v["vulnerabilities"][0]["affects"][0]["ref"],
        "pkg:npm/%40scope/lone@1.0.0"
    );
}

#[test]
fn spdx_validates_and_round_trips() {
    let packages = real_packages();
    let out = write_spdx(&subject(), &packages);
    let v = assert_valid(spdx_validator(), &out);
    let pk = v["packages"].as_array().unwrap();
    assert_eq!(pk.len(), packages.len() + 1);
    let mut ids: Vec<&str> = pk.iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
    assert!(ids.iter().all(|id| id.starts_with("SPDXRef-")
        && id["SPDXRef-".len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), pk.len(), "SPDXIDs are unique");
    let rels = v["relationships"].as_array().unwrap();
    assert_eq!(rels.len(), packages.len() + 1);
    assert_eq!(rels[0]["relationshipType"], "DESCRIBES");
    assert!(v["documentNamespace"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    assert_eq!(v["creationInfo"]["creators"][0], "Tool: portcullis-0.1.0");
    assert_eq!(v["creationInfo"]["created"], "2026-11-22T21:00:00Z");
    let wasm = pk.iter().find(|p| p["name"] == "@hpcc-js/wasm").unwrap();
    assert_eq!(wasm["licenseDeclared"], "Apache-2.0");

    let back = read("out.spdx.json", &out);
    assert!(back.diagnostics.is_empty(), "{:?}", back.diagnostics);
    assert_eq!(purls(&back.packages), purls(&packages));
    assert_eq!(out, write_spdx(&subject(), &packages));

    // Duplicate names and odd characters still give unique, valid SPDXIDs.
    let mut dup = packages[..3].to_vec();
    dup.push(packages[0].clone());
    dup.push(Package::new(
        Ecosystem::Go,
        "example.com/a b/ü",
        "v1.0.0+incompatible",
        Location::default(),
    ));
    let odd = SbomSubject {
        name: "a/b c".into(),
        tool_version: String::new(),
        created: "2026-11-22T22:30:00.5+01:30".into(),
    };
    let v = assert_valid(spdx_validator(), &write_spdx(&odd, &dup));
    // The SPDX 2.3.1 schema's pattern for `created` (UTC, whole seconds, `Z`).
    assert_eq!(v["creationInfo"]["created"], "2026-11-22T21:00:00Z");
    assert!(v["documentNamespace"]
        .as_str()
        .unwrap()
        .starts_with("https://spdx.org/spdxdocs/portcullis-a-b-c-"));
    assert_eq!(
        v["packages"][4]["SPDXID"],
        format!("{}-2", v["packages"][1]["SPDXID"].as_str().unwrap())
    );
}

#[test]
fn empty_inputs_validate() {
    assert_valid(
        cyclonedx_validator(),
        &write_cyclonedx(&SbomSubject::default(), &[], &[]),
    );
    assert_valid(spdx_validator(), &write_spdx(&SbomSubject::default(), &[]));
}

#[test]
fn writing_two_thousand_packages_is_fast() {
    let packages = real_packages();
    let start = std::time::Instant::now();
    let a = write_cyclonedx(&subject(), &packages, &[]);
    let b = write_spdx(&subject(), &packages);
    let took = start.elapsed();
    eprintln!(
        "wrote {} + {} bytes for {} packages in {took:?}",
        a.len(),
        b.len(),
        packages.len()
    );
    // Release builds take a few milliseconds; this bound allows for debug builds.
    assert!(took.as_millis() < 1500, "{took:?}");
}
