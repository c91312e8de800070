//! Accepted risks from portcullis.toml, OpenVEX and CycloneDX VEX, applied to
//! findings built from real RustSec advisories.
use portcullis_model::{
    Diagnostic, DiagnosticLevel, Ecosystem, Finding, Fix, Location, Package, Severity,
};
use portcullis_vex::{apply, Origin, Policy, Target, VexError};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn finding(name: &str, version: &str, id: &str, aliases: &[&str]) -> Finding {
    Finding {
        package: Package::new(
            Ecosystem::CratesIo,
            name,
            version,
            Location {
                path: "Cargo.lock".into(),
                line: Some(10),
            },
        ),
        id: id.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        sources: vec![id.into()],
        summary: String::new(),
        severity: Severity::High,
        cvss_score: None,
        cvss_vector: None,
        fix: Fix::default(),
        published: None,
        modified: None,
        ce_14_day: false,
        references: Vec::new(),
        suppressed: None,
    }
}

/// The findings a scan of a vector-like Cargo.lock gives (IDs and aliases from RustSec).
fn findings() -> Vec<Finding> {
    vec![
        finding(
            "time",
            "0.1.45",
            "RUSTSEC-2020-0071",
            &["CVE-2020-26235", "GHSA-wcg3-cvx6-7396"],
        ),
        finding(
            "webpki",
            "0.22.0",
            "RUSTSEC-2023-0052",
            &["GHSA-8qv2-5vq6-g2g7"],
        ),
        finding(
            "openssl-src",
            "111.15.0+1.1.1k",
            "RUSTSEC-2021-0097",
            &["CVE-2021-3711", "GHSA-5ww6-px42-wc85"],
        ),
        finding(
            "openssl-src",
            "111.15.0+1.1.1k",
            "RUSTSEC-2021-0098",
            &["CVE-2021-3712", "GHSA-q9wj-f4qw-6vfj"],
        ),
        finding(
            "openssl",
            "0.10.45",
            "RUSTSEC-2023-0044",
            &["CVE-2023-53159", "GHSA-xcf7-rvmh-g6q4"],
        ),
        finding(
            "maligned",
            "0.2.1",
            "RUSTSEC-2023-0017",
            &["GHSA-wm8x-php5-hvq6"],
        ),
    ]
}

fn suppressed_ids(fs: &[Finding]) -> Vec<&str> {
    fs.iter()
        .filter(|f| f.suppressed.is_some())
        .map(|f| f.id.as_str())
        .collect()
}

fn messages(d: &[Diagnostic]) -> Vec<String> {
    d.iter().map(ToString::to_string).collect()
}

// ---- portcullis.toml ----

#[test]
fn ignore_file_loads() {
    let p = Policy::load(fixture("portcullis.toml")).unwrap_or_default();
    assert_eq!(p.diagnostics(), &[] as &[Diagnostic]);
    let rules = p.rules();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].ids, ["CVE-2020-26235"]);
    assert_eq!(
        rules[0].target,
        Target::Name {
            name: Some("time".into()),
            ecosystem: Some((Ecosystem::CratesIo, None))
        }
    );
    assert_eq!(rules[0].expires.as_deref(), Some("2026-12-31")); // unquoted TOML date
    assert_eq!(rules[0].line, Some(3));
    assert_eq!(rules[1].target, Target::Any);
    assert_eq!(rules[1].line, Some(11));
    assert!(rules
        .iter()
        .all(|r| r.origin == Origin::IgnoreFile && r.suppresses));
}

#[test]
fn ignore_file_expiry_alias_and_package_filter() {
    let path = fixture("portcullis.toml");
    let p = Policy::load(&path).unwrap_or_default();
    let name = path.display().to_string();
    let mut fs = findings();
    let diags = apply(&p, &mut fs, "2026-08-25");
    // time matched through its CVE alias; webpki's acceptance expired;
    // openssl-src's names the npm ecosystem, so it matches nothing.
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2020-0071"]);
    let s = fs[0].suppressed.clone().unwrap_or_else(|| unreachable!());
    assert_eq!(s.expires.as_deref(), Some("2026-12-31"));
    assert_eq!(s.source, name);
    assert!(s.reason.starts_with("time 0.1 comes in through chrono"));
    assert_eq!(
        messages(&diags),
        [
            format!("{name}:11: warning: accepted risk for GHSA-8qv2-5vq6-g2g7 expired on 2026-01-31: review it or extend the date"),
            format!("{name}:16: warning: accepted risk for RUSTSEC-2021-0097 matched no finding: remove it if the package was upgraded or removed"),
        ]
    );
    // The expiry day itself is still covered; the day after is not.
    let mut fs = findings();
    let diags = apply(&p, &mut fs, "2026-01-31");
    assert_eq!(
        suppressed_ids(&fs),
        ["RUSTSEC-2020-0071", "RUSTSEC-2023-0052"]
    );
    assert_eq!(diags.len(), 1);
    let mut fs = findings();
    apply(&p, &mut fs, "2026-02-01T00:00:00Z");
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2020-0071"]);
    // After every date, nothing is suppressed.
    let mut fs = findings();
    let diags = apply(&p, &mut fs, "2027-07-01");
    assert!(suppressed_ids(&fs).is_empty());
    assert_eq!(
        diags
            .iter()
            .filter(|d| d.message.contains("expired on"))
            .count(),
        3
    );
}

#[test]
fn package_name_filter_and_case_insensitive_ids() {
    let text = "[[ignore]]\nid = \"rustsec-2021-0097\"\npackage = \"openssl\"\nreason = \"x\"\nexpires = \"2030-01-01\"\n\n[[ignore]]\nid = \"ghsa-q9wj-f4qw-6vfj\"\npackage = \"openssl-src\"\necosystem = \"crates.io\"\nreason = \"y\"\nexpires = \"2030-01-01\"\n";
    let p = Policy::from_ignore_toml("portcullis.toml", text).unwrap_or_default();
    let mut fs = findings();
    let d = apply(&p, &mut fs, "2026-08-25");
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2021-0098"]);
    assert_eq!(
        messages(&d),
        ["portcullis.toml:1: warning: accepted risk for rustsec-2021-0097 matched no finding: remove it if the package was upgraded or removed"]
    );
}

#[test]
fn distro_source_package_and_purl_filters() {
    let mut libssl = finding(
        "libssl3",
        "3.0.11-1~deb12u2",
        "CVE-2024-5535",
        &["DSA-5728-1"],
    );
    libssl.package = Package::new(
        Ecosystem::Debian,
        "libssl3",
        "3.0.11-1~deb12u2",
        Location::default(),
    );
    libssl.package.distro = Some("12".into());
    libssl.package.source_name = Some("openssl".into());
    let text = r#"
[[ignore]]
id = "CVE-2024-5535"
package = "openssl"
ecosystem = "Debian:12"
reason = "NPN/ALPN callbacks are not used"
expires = "2030-01-01"

[[ignore]]
id = "RUSTSEC-2023-0052"
package = "pkg:cargo/webpki"
reason = "own CA only"
expires = "2030-01-01"
"#;
    let p = Policy::from_ignore_toml("portcullis.toml", text).unwrap_or_default();
    let mut fs = findings();
    fs.push(libssl.clone());
    let d = apply(&p, &mut fs, "2026-08-25");
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2023-0052", "CVE-2024-5535"]);
    assert!(d.is_empty(), "{d:?}");
    // Another Debian release is not covered.
    libssl.package.distro = Some("11".into());
    let mut only = vec![libssl];
    apply(&p, &mut only, "2026-08-25");
    assert!(only[0].suppressed.is_none());
}

#[test]
fn invalid_entries_are_skipped_with_positions() {
    let text = r#"[[ignore]]
id = "GHSA-8qv2-5vq6-g2g7"
reason = "no expiry"

[[ignore]]
id = "RUSTSEC-2020-0071"
reason = "bad date"
expires = "2026-02-30"

[[ignore]]
id = "RUSTSEC-2023-0017"
expires = 2026-12-31

[[ignore]]
id = "RUSTSEC-2023-0044"
reasn = "typo"
reason = "ok"
expires = "2026-12-31"

[[ignore]]
id = "RUSTSEC-2021-0097"
reason = "fine"
expires = "2026-12-31"
"#;
    let p = Policy::from_ignore_toml("portcullis.toml", text).unwrap_or_default();
    assert_eq!(p.rules().len(), 1);
    assert_eq!(p.rules()[0].ids, ["RUSTSEC-2021-0097"]);
    assert_eq!(
        messages(p.diagnostics()),
        [
            "portcullis.toml:1:1: error: accepted risk for GHSA-8qv2-5vq6-g2g7 has no `expires` date: add expires = \"YYYY-MM-DD\" (every accepted risk needs a reason and an expiry date, so it is reviewed)",
            "portcullis.toml:8:11: error: `expires` = \"2026-02-30\" for RUSTSEC-2020-0071 is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31",
            "portcullis.toml:10:1: error: accepted risk for RUSTSEC-2023-0017 has no `reason`: add reason = \"…\" saying why the risk is accepted",
            "portcullis.toml:16:1: error: unknown key `reasn` in [[ignore]]: the keys are id, package, ecosystem, reason, expires",
        ]
    );
    assert!(p
        .diagnostics()
        .iter()
        .all(|d| d.level == DiagnosticLevel::Error));
    // apply() reports the load problems too, so the CLI cannot miss them.
    let mut fs = findings();
    let d = apply(&p, &mut fs, "2026-08-25");
    assert_eq!(d.len(), 4);
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2021-0097"]);
}

#[test]
fn syntax_errors_have_line_and_column() {
    let cases = [
        (
            "[[ignore]]\nid = \"X\"\nreason = \"unterminated\nexpires = \"2026-01-01\"\n",
            3,
        ),
        ("[[ignore]]\nid = \"X\"\n[ignore]\n", 3),
        ("ignore = \"not a table\"\n", 1),
        ("[[ignore]]\nid = \"X\"\nid = \"Y\"\n", 3),
    ];
    for (text, want_line) in cases {
        match Policy::from_ignore_toml("portcullis.toml", text) {
            Err(VexError::Syntax {
                path,
                line,
                column,
                message,
            }) => {
                assert_eq!(path, "portcullis.toml");
                assert_eq!(line, want_line, "{text:?}: {message}");
                assert!(column >= 1);
                assert!(
                    message.starts_with("invalid portcullis.toml: "),
                    "{message}"
                );
            }
            other => panic!("{text:?}: expected a syntax error, got {other:?}"),
        }
    }
    let e =
        Policy::from_ignore_toml("portcullis.toml", "[[ignore]]\nid = \"X\"\nid = \"Y\"\n").err();
    let d = e.map(|e| e.to_diagnostic().to_string()).unwrap_or_default();
    assert!(
        d.starts_with("portcullis.toml:3:1: error: invalid portcullis.toml: "),
        "{d}"
    );
    // A value of the wrong type only loses its entry.
    let p = Policy::from_ignore_toml(
        "portcullis.toml",
        "[[ignore]]\nid = 5\nreason = \"r\"\nexpires = \"2026-01-01\"\n",
    )
    .unwrap_or_default();
    assert!(p.is_empty());
    assert_eq!(
        messages(p.diagnostics()),
        ["portcullis.toml:2:6: error: `id` must be a string (found integer): quote it"]
    );
    // An unrelated table is fine: portcullis.toml may hold other settings.
    let p = Policy::from_ignore_toml("portcullis.toml", "[scan]\nseverity = \"high\"\n")
        .unwrap_or_default();
    assert!(p.is_empty() && p.diagnostics().is_empty());
}

#[test]
fn bad_scan_date_applies_no_expiring_rule() {
    let p = Policy::load(fixture("portcullis.toml")).unwrap_or_default();
    let mut fs = findings();
    let d = apply(&p, &mut fs, "25/08/2026");
    assert!(suppressed_ids(&fs).is_empty());
    assert_eq!(d.len(), 2);
    assert_eq!(
        d[0].to_string(),
        "<scan date>: error: scan date \"25/08/2026\" is not a YYYY-MM-DD date: accepted risks with an expiry date were not applied"
    );
    assert!(d[1]
        .message
        .starts_with("accepted risk for RUSTSEC-2021-0097 matched no finding"));
}

// ---- OpenVEX ----

#[test]
fn openvex_statuses_subcomponents_and_latest_statement() {
    let path = fixture("openvex.json");
    let p = Policy::load(&path).unwrap_or_default();
    let name = path.display().to_string();
    assert_eq!(p.rules().len(), 6);
    assert!(p
        .rules()
        .iter()
        .all(|r| r.origin == Origin::OpenVex && r.expires.is_none()));
    assert_eq!(
        p.rules()[0].ids,
        ["RUSTSEC-2021-0097", "CVE-2021-3711", "GHSA-5ww6-px42-wc85"]
    );
    assert_eq!(
        messages(p.diagnostics()),
        [format!("{name}: warning: statements[6]: 1 product(s) for CVE-2021-3712 have no package URL (pkg:…) in @id or identifiers.purl: they cannot be matched")]
    );
    let mut fs = findings();
    let d = apply(&p, &mut fs, "2026-08-25");
    // openssl-src 0097: not_affected via the image's subcomponent purl;
    // openssl (alias CVE-2023-53159): fixed, product purl without version;
    // webpki: not_affected on 03-01 but affected on 05-01, the latest wins;
    // maligned: under_investigation, then not_affected later: suppressed.
    assert_eq!(
        suppressed_ids(&fs),
        [
            "RUSTSEC-2021-0097",
            "RUSTSEC-2023-0044",
            "RUSTSEC-2023-0017"
        ]
    );
    assert_eq!(
        fs[2].suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("OpenVEX not_affected: vulnerable_code_not_in_execute_path: SM2 decryption is never called: the service only uses TLS with RSA and ECDSA keys")
    );
    assert_eq!(
        fs[4].suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("OpenVEX fixed: patched in our vendored fork")
    );
    // VEX statements that match nothing are normal (a document covers many products): no stale warnings.
    assert_eq!(d.len(), 1);
}

#[test]
fn openvex_latest_wins_whatever_the_order() {
    let doc = |first: (&str, &str), second: (&str, &str)| {
        format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
            "statements": [
              {{"vulnerability": {{"name": "CVE-2020-26235"}}, "timestamp": "{}", "products": [{{"@id": "pkg:cargo/time@0.1.45"}}], "status": "{}", "justification": "component_not_present"}},
              {{"vulnerability": {{"name": "CVE-2020-26235"}}, "timestamp": "{}", "products": [{{"@id": "pkg:cargo/time"}}], "status": "{}", "action_statement": "upgrade"}}
            ]}}"#,
            first.0, first.1, second.0, second.1
        )
    };
    let run = |text: String| {
        let p = Policy::from_openvex_json("vex.json", &text).unwrap_or_default();
        let mut fs = findings();
        apply(&p, &mut fs, "2026-08-25");
        fs[0].suppressed.is_some()
    };
    assert!(!run(doc(
        ("2026-01-01T00:00:00Z", "not_affected"),
        ("2026-02-01T00:00:00Z", "affected")
    )));
    assert!(run(doc(
        ("2026-03-01T00:00:00Z", "not_affected"),
        ("2026-02-01T00:00:00Z", "affected")
    )));
    // Offsets count: 01:00+02:00 is 23:00 the day before.
    assert!(!run(doc(
        ("2026-02-02T01:00:00+02:00", "not_affected"),
        ("2026-02-02T00:00:00Z", "affected")
    )));
    // Same time: the later statement in the document wins.
    assert!(!run(doc(
        ("2026-02-01T00:00:00Z", "not_affected"),
        ("2026-02-01T00:00:00Z", "affected")
    )));
}

#[test]
fn openvex_versioned_product_and_old_string_form() {
    let text = r#"{"@context": "https://openvex.dev/ns", "@id": "x", "author": "a", "timestamp": "2023-01-16T19:07:16.853479631-06:00", "version": "1",
      "statements": [
        {"vulnerability": "GHSA-wcg3-cvx6-7396", "products": [{"@id": "pkg:cargo/time@0.2.0"}], "status": "not_affected", "justification": "component_not_present"},
        {"vulnerability": "GHSA-8qv2-5vq6-g2g7", "products": [{"@id": "pkg:cargo/webpki@0.22.0?repository_url=https://example.invalid"}], "status": "not_affected", "impact_statement": "x"}
      ]}"#;
    let p = Policy::from_openvex_json("v.json", text).unwrap_or_default();
    let mut fs = findings();
    apply(&p, &mut fs, "2026-08-25");
    // time 0.1.45 is not time 0.2.0; webpki matches ignoring qualifiers.
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2023-0052"]);
}

#[test]
fn openvex_malformed() {
    match Policy::from_openvex_json("v.json", "{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",\n  \"statements\": [\n    {\"status\": \"fixed\"\n") {
        Err(VexError::Syntax { line, column, message, .. }) => {
            assert_eq!((line, column), (5, 1));
            assert!(message.starts_with("invalid JSON: EOF while parsing"), "{message}");
            assert!(!message.contains(" at line "), "{message}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        Policy::from_openvex_json("v.json", "[1, 2]"),
        Err(VexError::Format { .. })
    ));
    assert!(matches!(
        Policy::from_openvex_json("v.json", "{\"@context\": \"https://openvex.dev/ns\"}"),
        Err(VexError::Format { .. })
    ));
    let text = r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
        {"vulnerability": {}, "status": "fixed", "products": [{"@id": "pkg:cargo/time"}]},
        {"vulnerability": {"name": "CVE-1"}, "status": "maybe", "products": [{"@id": "pkg:cargo/time"}]},
        {"vulnerability": {"name": "CVE-2"}, "status": "fixed"},
        {"vulnerability": {"name": "CVE-3"}, "status": "not_affected", "products": [{"@id": "pkg:cargo/time"}], "timestamp": "yesterday"},
        "garbage", 5, null
      ]}"#;
    let p = Policy::from_openvex_json("v.json", text).unwrap_or_default();
    assert_eq!(p.rules().len(), 1);
    assert_eq!(
        messages(p.diagnostics()),
        [
            "v.json: error: statements[0]: statement has no vulnerability name: skipped; add vulnerability.name",
            "v.json: error: statements[1]: unknown status \"maybe\" for CVE-1: skipped; use not_affected, affected, fixed or under_investigation",
            "v.json: warning: statements[2]: statement for CVE-2 names no products: skipped; list the affected packages as products",
            "v.json: warning: statements[3]: timestamp \"yesterday\" is not an RFC 3339 time: the statement counts as the oldest",
            "v.json: warning: statements[3]: not_affected statement for CVE-3 has neither justification nor impact_statement, as OpenVEX requires",
            "v.json: error: statements[4]: statement has no vulnerability name: skipped; add vulnerability.name",
            "v.json: error: statements[5]: statement has no vulnerability name: skipped; add vulnerability.name",
            "v.json: error: statements[6]: statement has no vulnerability name: skipped; add vulnerability.name",
        ]
    );
}

// ---- CycloneDX VEX ----

#[test]
fn cyclonedx_states_and_refs() {
    let path = fixture("cyclonedx-vex.json");
    let p = Policy::load(&path).unwrap_or_default();
    let name = path.display().to_string();
    assert_eq!(p.rules().len(), 3);
    assert_eq!(p.rules()[0].ids, ["CVE-2021-3712", "RUSTSEC-2021-0098"]);
    assert!(p.rules().iter().all(|r| r.origin == Origin::CycloneDx));
    assert_eq!(
        messages(p.diagnostics()),
        [
            format!("{name}: warning: vulnerabilities[3]: affects ref(s) vector-app, unknown-ref for RUSTSEC-2020-0071 are neither package URLs nor bom-refs of components with a purl: they cannot be matched"),
            format!("{name}: error: vulnerabilities[4]: unknown analysis.state \"wontfix\" for RUSTSEC-2025-0004: skipped; use not_affected, false_positive, resolved, resolved_with_pedigree, exploitable or in_triage"),
        ]
    );
    let mut fs = findings();
    apply(&p, &mut fs, "2026-08-25");
    // 0098 via its RustSec reference and a BOM-Link to a purl; webpki is
    // exploitable (no suppression); maligned a false positive via a purl ref.
    assert_eq!(
        suppressed_ids(&fs),
        ["RUSTSEC-2021-0098", "RUSTSEC-2023-0017"]
    );
    assert_eq!(
        fs[3].suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("CycloneDX VEX not_affected: code_not_reachable: ASN.1 strings from peers are never printed.")
    );
    assert_eq!(
        fs[5].suppressed.as_ref().map(|s| s.reason.as_str()),
        Some("CycloneDX VEX false_positive: align_first is never called")
    );
}

#[test]
fn cyclonedx_bom_ref_to_component_purl() {
    let text = r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
      "components": [{"type": "library", "name": "x", "components": [
          {"bom-ref": "nested-webpki", "type": "library", "name": "webpki", "purl": "pkg:cargo/webpki@0.22.0"}]}],
      "vulnerabilities": [{"id": "RUSTSEC-2023-0052", "analysis": {"state": "resolved_with_pedigree"}, "affects": [{"ref": "nested-webpki"}]},
                          {"id": "RUSTSEC-2020-0071"}]}"#;
    let p = Policy::from_cyclonedx_json("bom.json", text).unwrap_or_default();
    assert_eq!(p.rules().len(), 1);
    let mut fs = findings();
    apply(&p, &mut fs, "2026-08-25");
    assert_eq!(suppressed_ids(&fs), ["RUSTSEC-2023-0052"]);
}

#[test]
fn cyclonedx_malformed() {
    match Policy::from_cyclonedx_json(
        "bom.json",
        "{\"bomFormat\": \"CycloneDX\",\n \"vulnerabilities\": [ }",
    ) {
        Err(VexError::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 23)),
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert!(matches!(
        Policy::from_cyclonedx_json(
            "bom.json",
            "{\"bomFormat\": \"CycloneDX\", \"components\": []}"
        ),
        Err(VexError::Format { .. })
    ));
}

// ---- loading, merging, robustness ----

#[test]
fn merge_ignore_file_and_vex() {
    let mut p = Policy::load(fixture("portcullis.toml")).unwrap_or_default();
    p.merge(Policy::load(fixture("openvex.json")).unwrap_or_default());
    p.merge(Policy::load(fixture("cyclonedx-vex.json")).unwrap_or_default());
    assert_eq!(p.rules().len(), 3 + 6 + 3);
    assert_eq!(p.diagnostics().len(), 3);
    let mut fs = findings();
    let d = apply(&p, &mut fs, "2026-08-25");
    assert_eq!(
        suppressed_ids(&fs),
        [
            "RUSTSEC-2020-0071",
            "RUSTSEC-2021-0097",
            "RUSTSEC-2021-0098",
            "RUSTSEC-2023-0044",
            "RUSTSEC-2023-0017"
        ]
    );
    // portcullis.toml wins over VEX for time (reason and expiry from the file).
    assert_eq!(
        fs[0].suppressed.as_ref().and_then(|s| s.expires.as_deref()),
        Some("2026-12-31")
    );
    // 3 load diagnostics + expired webpki + stale openssl-src rule.
    assert_eq!(d.len(), 5);
    // A finding that is already suppressed is left as it is.
    let before = fs.clone();
    apply(&p, &mut fs, "2026-08-25");
    assert_eq!(fs, before);
}

#[test]
fn load_errors() {
    match Policy::load(fixture("does-not-exist.toml")) {
        Err(e @ VexError::Io { .. }) => assert!(e
            .to_string()
            .contains("does-not-exist.toml: cannot read the file")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let unknown = dir.path().join("other.json");
    std::fs::write(&unknown, "{\"name\": \"not a policy\"}").unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        Policy::load(&unknown),
        Err(VexError::Format { .. })
    ));
    let latin1 = dir.path().join("portcullis.toml");
    std::fs::write(&latin1, b"[[ignore]]\nid = \"caf\xe9\"\n").unwrap_or_else(|e| panic!("{e}"));
    match Policy::load(&latin1) {
        Err(VexError::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 10)),
        other => panic!("expected a UTF-8 error, got {other:?}"),
    }
}

#[test]
fn garbage_and_truncations_never_panic() {
    let inputs = [
        std::fs::read_to_string(fixture("portcullis.toml")).unwrap_or_default(),
        std::fs::read_to_string(fixture("openvex.json")).unwrap_or_default(),
        std::fs::read_to_string(fixture("cyclonedx-vex.json")).unwrap_or_default(),
    ];
    let names = ["portcullis.toml", "vex.openvex.json", "bom.cdx.json"];
    for (text, name) in inputs.iter().zip(names) {
        assert!(text.len() > 500);
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                if let Ok(p) = Policy::parse(name, &text[..cut]) {
                    let mut fs = findings();
                    let _ = apply(&p, &mut fs, "2026-08-25");
                }
            }
            cut += 7;
        }
    }
    for junk in [
        "",
        "\u{feff}",
        "{",
        "[[ignore]",
        "\0\0\0",
        "{\"statements\": [[[[[]]]]]}",
        "{\"vulnerabilities\": {}}",
    ] {
        let _ = Policy::parse("x.json", junk);
        let _ = Policy::parse("x.toml", junk);
    }
    let deep = format!(
        "{{\"statements\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(Policy::parse("deep.json", &deep).is_err());
}
