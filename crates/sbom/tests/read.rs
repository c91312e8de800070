//! Reading real SBOMs (fixtures copied from the shared test data; see tests/fixtures/README.md).

use portcullis_model::{DependencyScope, Ecosystem};
use portcullis_sbom::{looks_like_sbom, read, SbomRead};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn find<'a>(r: &'a SbomRead, purl: &str) -> &'a portcullis_model::Package {
    r.packages
        .iter()
        .find(|p| p.purl.to_string() == purl)
        .unwrap_or_else(|| panic!("no {purl}"))
}

#[test]
fn syft_cyclonedx_debian() {
    let text = fixture("debian12-dpkg.syft.trimmed.cdx.json");
    assert!(looks_like_sbom(&text));
    let r = read("sbom.cdx.json", &text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    // 741 components: 740 deb packages and the operating system (skipped silently).
    assert_eq!(r.packages.len(), 740);
    assert!(r.packages.iter().all(|p| p.ecosystem == Ecosystem::Debian));
    assert!(r.packages.iter().all(|p| p.distro.as_deref() == Some("12")));
    assert_eq!(
        r.packages
            .iter()
            .filter(|p| p.source_name.is_some())
            .count(),
        607
    );

    let libc = find(
        &r,
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc",
    );
    assert_eq!(libc.name, "libc6");
    assert_eq!(libc.version, "2.36-9+deb12u14");
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    assert_eq!(libc.source_version, None);
    assert_eq!(libc.osv_ecosystem(), "Debian:12");
    assert_eq!(libc.location.path, "sbom.cdx.json");
    assert!(libc.location.line.is_some_and(|l| l > 1));

    let bash = find(
        &r,
        "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
    );
    assert_eq!(bash.source_name.as_deref(), Some("bash"));
    assert_eq!(bash.source_version.as_deref(), Some("5.2.15-2"));

    let adduser = &r.packages[0];
    assert_eq!(adduser.name, "adduser");
    assert_eq!(adduser.version, "3.134");
    // The first component starts on line 26 of the pretty-printed file.
    let first_line = text
        .lines()
        .position(|l| l.contains("\"bom-ref\": \"pkg:deb/debian/adduser"))
        .unwrap() as u32;
    assert_eq!(adduser.location.line, Some(first_line));
}

#[test]
fn syft_spdx_debian() {
    let text = fixture("debian12-dpkg.syft.trimmed.spdx.json");
    assert!(looks_like_sbom(&text));
    let r = read("sbom.spdx.json", &text);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    // 741 packages: 740 with purls and the described root directory.
    assert_eq!(r.packages.len(), 740);
    let libc = find(
        &r,
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc",
    );
    assert_eq!(libc.distro.as_deref(), Some("12"));
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    // NOASSERTION licences are not licences.
    assert!(r.packages.iter().all(|p| p.licenses.is_empty()));

    // Same packages as the CycloneDX file of the same rootfs.
    let cdx = read("x", &fixture("debian12-dpkg.syft.trimmed.cdx.json"));
    let mut a: Vec<String> = r.packages.iter().map(|p| p.purl.to_string()).collect();
    let mut b: Vec<String> = cdx.packages.iter().map(|p| p.purl.to_string()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn syft_cyclonedx_cargo() {
    let r = read(
        "vector.cdx.json",
        &fixture("vector-cargo.syft.trimmed.cdx.json"),
    );
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.packages.len(), 1286);
    assert!(r
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::CratesIo && p.distro.is_none()));
    let z = find(&r, "pkg:cargo/zstd-sys@2.0.16%2Bzstd.1.5.7");
    assert_eq!(
        (z.name.as_str(), z.version.as_str()),
        ("zstd-sys", "2.0.16+zstd.1.5.7")
    );
    find(&r, "pkg:cargo/adler2@2.0.0");
}

#[test]
fn syft_cyclonedx_npm_with_licences() {
    let r = read("npm.cdx.json", &fixture("rust-analyzer-npm.syft.cdx.json"));
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    assert_eq!(r.packages.len(), 67);
    let w = find(&r, "pkg:npm/%40hpcc-js/wasm@2.22.4");
    assert_eq!(w.ecosystem, Ecosystem::Npm);
    assert_eq!(w.name, "@hpcc-js/wasm");
    assert_eq!(w.licenses, vec!["Apache-2.0".to_string()]);
    let y = find(&r, "pkg:npm/yargs-parser@21.1.1");
    assert_eq!(y.licenses, vec!["ISC".to_string()]);
    assert_eq!(y.scope, DependencyScope::Runtime);
}

#[test]
fn pip_audit_cyclonedx_14_has_no_purls() {
    // pip-audit 2.10.1 writes components with name and version only: with no
    // purl there is no ecosystem, so all 155 are skipped with one warning.
    let text = fixture("pip-audit-req-old.cdx.json");
    assert!(looks_like_sbom(&text));
    let r = read("pip-audit.cdx.json", &text);
    assert_eq!(r.packages.len(), 0);
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    let d = &r.diagnostics[0];
    assert!(!d.is_error());
    assert!(
        d.message.contains("skipped 155 component(s)"),
        "{}",
        d.message
    );
    assert!(d.message.contains("Markdown 3.4.1"), "{}", d.message);
    assert_eq!(d.line, Some(1));
}

#[test]
fn nested_components_dedupe_licences_and_scopes() {
    let text = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "metadata": {"component": {"type": "application", "name": "app", "purl": "pkg:npm/app@1.0.0"}},
  "components": [
    {"type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1",
     "licenses": [{"expression": "MIT OR Apache-2.0"}],
     "components": [
        {"type": "library", "name": "b", "purl": "pkg:pypi/Flask_Login@0.6.0", "scope": "optional",
         "components": [{"type": "library", "name": "c", "purl": "pkg:maven/org.x/c@2", "scope": "excluded",
                         "licenses": [{"license": {"name": "Custom"}}, {"license": {"id": "MIT"}}]}]}
     ]},
    {"type": "library", "name": "a", "version": "1", "purl": "pkg:npm/a@1"},
    {"type": "library", "name": "g", "purl": "pkg:generic/thing@1"},
    {"type": "library", "name": "bad", "purl": "not a purl"},
    {"type": "library", "name": 5},
    {"type": "library", "name": "nopurl", "version": "3"},
    {"type": "operating-system", "name": "alpine", "version": "3.18.4"},
    {"type": "library", "name": "musl", "purl": "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"},
    {"type": "library", "name": "libc6", "purl": "pkg:deb/ubuntu/libc6@2.35-0ubuntu3?distro=ubuntu-22.04"}
  ]
}"#;
    let r = read("x.json", text);
    let purls: Vec<String> = r.packages.iter().map(|p| p.purl.to_string()).collect();
    assert_eq!(
        purls,
        [
            "pkg:npm/a@1",
            "pkg:pypi/Flask_Login@0.6.0",
            "pkg:maven/org.x/c@2",
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4",
            "pkg:deb/ubuntu/libc6@2.35-0ubuntu3?distro=ubuntu-22.04",
        ]
    );
    assert_eq!(
        r.packages[0].licenses,
        vec!["MIT OR Apache-2.0".to_string()]
    );
    assert_eq!(r.packages[0].location.line, Some(6));
    assert_eq!(r.packages[1].name, "flask-login");
    assert_eq!(r.packages[1].scope, DependencyScope::Optional);
    assert_eq!(r.packages[2].name, "org.x:c");
    assert_eq!(r.packages[2].scope, DependencyScope::Dev);
    assert_eq!(
        r.packages[2].licenses,
        vec!["Custom".to_string(), "MIT".to_string()]
    );
    assert_eq!(r.packages[3].osv_ecosystem(), "Alpine:v3.18");
    assert_eq!(r.packages[4].osv_ecosystem(), "Ubuntu:22.04:LTS");

    let msgs: Vec<String> = r.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("x.json:15:") && m.contains("not a purl")),
        "{msgs:#?}"
    );
    // The malformed component is reported at its own line and column.
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("x.json:16:33:") && m.contains("malformed component")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("skipped 1 component(s) with no package URL")
                && m.contains("nopurl 3")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("pkg:generic/thing@1")),
        "{msgs:#?}"
    );
}

#[test]
fn spdx_package_manager_spellings_and_licences() {
    let text = r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "documentDescribes": ["SPDXRef-root"],
      "packages": [
        {"SPDXID": "SPDXRef-root", "name": "root"},
        {"SPDXID": "SPDXRef-a", "name": "serde", "versionInfo": "1.0.0", "licenseConcluded": "MIT OR Apache-2.0",
         "licenseDeclared": "NOASSERTION",
         "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:cargo/serde@1.0.0"}]},
        {"SPDXID": "SPDXRef-b", "name": "x", "versionInfo": "2",
         "externalRefs": [{"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:a:x:x:2"}]}
      ]}"#;
    let r = read("s.json", text);
    assert_eq!(r.packages.len(), 1);
    assert_eq!(r.packages[0].name, "serde");
    assert_eq!(
        r.packages[0].licenses,
        vec!["MIT OR Apache-2.0".to_string()]
    );
    assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
    assert!(r.diagnostics[0].message.contains("x 2"));
}

#[test]
fn malformed_documents_give_positioned_diagnostics() {
    let r = read(
        "t.json",
        "{\n  \"bomFormat\": \"CycloneDX\",\n  \"components\": [ {\"purl\": ",
    );
    assert!(r.packages.is_empty());
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0].is_error());
    assert_eq!(r.diagnostics[0].line, Some(3));
    assert!(r.diagnostics[0].column.is_some());

    let r = read("t.json", "not json at all");
    assert_eq!((r.diagnostics.len(), r.diagnostics[0].line), (1, Some(1)));

    let r = read("t.json", "[1, 2]");
    assert!(r.diagnostics[0]
        .message
        .ends_with("the top level is not a JSON object"));
    let r = read("t.json", "5");
    assert_eq!(r.diagnostics[0].line, Some(1));
    assert!(r.diagnostics[0]
        .message
        .ends_with("the top level is not a JSON object"));

    let r = read("t.json", r#"{"name": "x"}"#);
    assert!(r.diagnostics[0].message.contains("not a CycloneDX or SPDX"));

    let r = read("t.json", r#"{"spdxVersion": "SPDX-3.0", "packages": []}"#);
    assert!(r.diagnostics[0].message.contains("SPDX-3.0"));

    let r = read(
        "t.json",
        r#"{"bomFormat": "CycloneDX", "components": {"a": 1}}"#,
    );
    assert!(
        r.diagnostics[0].message.contains("not a JSON array"),
        "{:?}",
        r.diagnostics
    );

    // Truncating a real file anywhere never panics and always reports something.
    let text = fixture("rust-analyzer-npm.syft.cdx.json");
    for cut in (0..text.len()).step_by(997) {
        let r = read("t", &text[..cut]);
        assert!(!r.diagnostics.is_empty(), "cut at {cut}");
    }
}

#[test]
fn detection() {
    assert!(looks_like_sbom(
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6"}"#
    ));
    assert!(looks_like_sbom("\u{feff}{ \"spdxVersion\": \"SPDX-2.3\" }"));
    assert!(!looks_like_sbom(r#"{"bomFormat":"Other"}"#));
    assert!(!looks_like_sbom("[Cargo.lock] \"spdxVersion\""));
    assert!(!looks_like_sbom(""));
    assert!(!looks_like_sbom(&fixture(
        "schema/jsf-0.82.SNAPSHOT.schema.json"
    )));
}
