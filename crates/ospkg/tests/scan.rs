//! Scans of real package databases laid out as root trees (see fixtures/README.md).

use portcullis_model::{DiagnosticLevel, Ecosystem, Package};
use portcullis_ospkg::{scan_root, OsInventory};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn find<'a>(inv: &'a OsInventory, name: &str) -> &'a Package {
    inv.packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn debian12_dpkg_status() {
    let inv = scan_root(&fixture("debian12"));
    let os = inv.os.as_ref().expect("os-release");
    assert_eq!(os.id, "debian");
    assert_eq!(os.version_id.as_deref(), Some("12"));
    assert_eq!(os.version_codename.as_deref(), Some("bookworm"));
    assert_eq!(os.osv_ecosystem().as_deref(), Some("Debian:12"));
    assert_eq!(inv.packages.len(), 740);
    assert_eq!(inv.sources, vec!["var/lib/dpkg/status"]);
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    for p in &inv.packages {
        assert_eq!(p.ecosystem, Ecosystem::Debian);
        assert_eq!(p.distro.as_deref(), Some("12"));
        assert_eq!(p.osv_ecosystem(), "Debian:12");
        assert!(p.source_name.is_some());
        assert!(p.licenses.is_empty());
    }

    let first = &inv.packages[0];
    assert_eq!(first.name, "adduser");
    assert_eq!(first.location.path, "var/lib/dpkg/status");
    assert_eq!(first.location.line, Some(1));
    assert_eq!(
        first.purl.to_string(),
        "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12"
    );

    let bash = find(&inv, "bash");
    assert_eq!(bash.version, "5.2.15-2+b8");
    assert_eq!(bash.source_name.as_deref(), Some("bash"));
    assert_eq!(bash.source_version.as_deref(), Some("5.2.15-2"));
    assert_eq!(bash.location.line, Some(257));
    assert_eq!(
        bash.purl.to_string(),
        "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
    );

    let libc = find(&inv, "libc6");
    assert_eq!(libc.version, "2.36-9+deb12u14");
    assert_eq!(libc.source_name.as_deref(), Some("glibc"));
    assert_eq!(libc.source_version, None);
    assert_eq!(
        libc.purl.to_string(),
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc"
    );

    // An epoch stays in the version; the source version has none.
    let bsd = find(&inv, "bsdutils");
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsd.source_name.as_deref(), Some("util-linux"));
    assert_eq!(bsd.source_version.as_deref(), Some("2.38.1-5+deb12u3"));
    assert_eq!(bsd.location.line, Some(389));
    assert_eq!(bsd.purl.version.as_deref(), Some("1:2.38.1-5+deb12u3"));
}

#[test]
fn mariner_sqlite_rpmdb_read_only() {
    let root = fixture("mariner2");
    let dir = root.join("var/lib/rpm");
    let listing = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        v.sort();
        v
    };
    let before = listing(&dir);
    let db = dir.join("rpmdb.sqlite");
    let bytes_before = std::fs::read(&db).unwrap();
    let inv = scan_root(&root);
    // Nothing was created next to the database, and it is unchanged.
    assert_eq!(listing(&dir), before);
    assert_eq!(std::fs::read(&db).unwrap(), bytes_before);

    assert_eq!(inv.packages.len(), 129);
    assert_eq!(inv.sources, vec!["var/lib/rpm/rpmdb.sqlite"]);
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    assert_eq!(
        inv.os.as_ref().unwrap().osv_ecosystem().as_deref(),
        Some("Azure Linux:2.0")
    );
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::AzureLinux && p.distro.as_deref() == Some("2.0")));
    assert!(inv.packages.iter().all(|p| p.name != "gpg-pubkey"));

    let glibc = find(&inv, "glibc");
    assert_eq!(glibc.version, "2.34-2.cm2");
    assert_eq!(glibc.source_name.as_deref(), Some("glibc"));
    assert_eq!(glibc.source_version, None);
    assert_eq!(glibc.location.path, "var/lib/rpm/rpmdb.sqlite");
    assert_eq!(
        glibc.licenses,
        vec!["BSD AND GPLv2+ AND Inner-Net AND ISC AND LGPLv2+ AND MIT"]
    );
    assert_eq!(
        glibc.purl.to_string(),
        "pkg:rpm/mariner/glibc@2.34-2.cm2?arch=x86_64&distro=mariner-2.0&upstream=glibc-2.34-2.cm2.src.rpm"
    );
    // Epoch 1: in the OSV version and as a purl qualifier, not in the purl version.
    let tools = find(&inv, "ca-certificates-tools");
    assert_eq!(tools.version, "1:2.0.0-1.cm2");
    assert_eq!(tools.source_name.as_deref(), Some("ca-certificates"));
    assert_eq!(tools.source_version, None);
    assert_eq!(
        tools.purl.to_string(),
        "pkg:rpm/mariner/ca-certificates-tools@2.0.0-1.cm2?arch=noarch&distro=mariner-2.0&epoch=1&upstream=ca-certificates-2.0.0-1.cm2.src.rpm"
    );
    let release = find(&inv, "mariner-release");
    assert_eq!(release.version, "2.0-4.cm2");
    assert_eq!(
        release.purl.qualifiers.get("arch").map(String::as_str),
        Some("noarch")
    );
}

#[test]
fn sle15_ndb_rpmdb() {
    let inv = scan_root(&fixture("sle15-bci"));
    assert_eq!(inv.packages.len(), 35);
    assert_eq!(inv.sources, vec!["var/lib/rpm/Packages.db"]);
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    let suffix = "SUSE Linux Enterprise Server 15 SP3";
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem == Ecosystem::Suse && p.distro.as_deref() == Some(suffix)));
    let pcre = find(&inv, "libpcre1");
    assert_eq!(pcre.version, "8.45-20.10.1");
    assert_eq!(pcre.source_name.as_deref(), Some("pcre"));
    assert_eq!(pcre.licenses, vec!["BSD-3-Clause"]);
    assert_eq!(
        pcre.purl.to_string(),
        "pkg:rpm/suse/libpcre1@8.45-20.10.1?arch=x86_64&distro=sles-15.3&upstream=pcre-8.45-20.10.1.src.rpm"
    );
    assert_eq!(find(&inv, "sles-release").version, "15.3-55.4.1");
    // A binary whose source has another version.
    let readline = find(&inv, "libreadline7");
    assert_eq!(readline.version, "7.0-19.6.1");
    assert_eq!(readline.source_name.as_deref(), Some("bash"));
    assert_eq!(readline.source_version.as_deref(), Some("4.4-19.6.1"));
    assert_eq!(find(&inv, "glibc").version, "2.31-9.3.2");
}

#[test]
fn bdb_rpmdb_without_os_release() {
    let inv = scan_root(&fixture("bdb-libuuid"));
    assert!(inv.os.is_none());
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(inv.sources, vec!["var/lib/rpm/Packages"]);
    let p = &inv.packages[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str()),
        ("libuuid", "2.32.1-42.el8_8")
    );
    assert_eq!(p.source_name.as_deref(), Some("util-linux"));
    assert_eq!(
        (p.ecosystem.clone(), p.distro.clone()),
        (Ecosystem::RedHat, None)
    );
    assert_eq!(
        p.purl.to_string(),
        "pkg:rpm/redhat/libuuid@2.32.1-42.el8_8?arch=x86_64&upstream=util-linux-2.32.1-42.el8_8.src.rpm"
    );
    // One warning: no os-release, so no release to match against.
    assert_eq!(inv.diagnostics.len(), 1);
    assert_eq!(inv.diagnostics[0].level, DiagnosticLevel::Warning);
    assert!(inv.diagnostics[0].message.contains("no os-release"));
}

#[test]
fn alpine_installed_databases() {
    let inv = scan_root(&fixture("alpine-syft"));
    assert_eq!(inv.packages.len(), 14);
    assert!(inv.diagnostics.is_empty(), "{:?}", inv.diagnostics);
    assert!(inv
        .packages
        .iter()
        .all(|p| p.osv_ecosystem() == "Alpine:v3.16"));
    let data = find(&inv, "alpine-baselayout-data");
    assert_eq!(data.version, "3.2.0-r22");
    assert_eq!(data.source_name.as_deref(), Some("alpine-baselayout"));
    assert_eq!(data.licenses, vec!["GPL-2.0-only"]);
    assert_eq!(data.location.line, Some(1));
    assert_eq!(
        data.purl.to_string(),
        "pkg:apk/alpine/alpine-baselayout-data@3.2.0-r22?arch=x86_64&distro=alpine-3.16.2&upstream=alpine-baselayout"
    );

    // trivy's file has 16 records, one without a version.
    let inv = scan_root(&fixture("alpine-trivy"));
    assert_eq!(inv.packages.len(), 15);
    let musl = find(&inv, "musl");
    assert_eq!(
        (musl.version.as_str(), musl.source_name.as_deref()),
        ("1.1.14-r10", Some("musl"))
    );
    assert_eq!(
        (musl.ecosystem.clone(), musl.distro.clone()),
        (Ecosystem::Alpine, None)
    );
    let bad: Vec<_> = inv
        .diagnostics
        .iter()
        .filter(|d| d.path == "lib/apk/db/installed")
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, Some(23));
    assert!(bad[0].message.contains("invalidPackageWithoutAVersion"));
}

#[test]
fn empty_root_has_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = scan_root(tmp.path());
    assert!(inv.os.is_none() && inv.packages.is_empty() && inv.sources.is_empty());
    assert!(inv.diagnostics.is_empty());
    let inv = scan_root(Path::new("/nonexistent/portcullis/root"));
    assert!(inv.packages.is_empty());
}

/// Timing of the Debian 12 status (740 packages); run with
/// `cargo test --release -p portcullis-ospkg --test scan -- --ignored --nocapture`.
#[test]
#[ignore]
fn debian12_timing() {
    let root = fixture("debian12");
    let _ = scan_root(&root);
    let n = 50;
    let t = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(scan_root(&root).packages.len(), 740);
    }
    println!("debian12 scan_root: {:?} per run", t.elapsed() / n);
    let root = fixture("mariner2");
    let t = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(scan_root(&root).packages.len(), 129);
    }
    println!("mariner2 scan_root: {:?} per run", t.elapsed() / n);
}
