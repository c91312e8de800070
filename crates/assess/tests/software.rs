//! `linux.updates.unsupported_software` on root-directory fixtures built
//! from a real Debian 12 dpkg status (see fixtures/README.md).

use portcullis_assess::{assess, CheckResult, CheckStatus, Host, Options, VulnScan};
use std::path::{Path, PathBuf};

const ID: &str = "linux.updates.unsupported_software";
/// 2026-11-23T00:00:00Z.
const NOW: i64 = 1_795_392_000;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

fn copy(case: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_tree(&fixture(case), d.path());
    d
}

fn check_at(root: &Path, now: i64) -> CheckResult {
    let host = Host::open_with(root, false);
    let a = assess(
        &host,
        &Options {
            now,
            vulns: VulnScan::Findings(Vec::new()),
        },
    );
    a.check(ID).unwrap().clone()
}

fn details(c: &CheckResult) -> Vec<(String, String)> {
    c.evidence
        .iter()
        .map(|e| (e.source.clone(), e.detail.clone()))
        .collect()
}

#[test]
fn table_is_valid() {
    assert_eq!(portcullis_assess::validate_software_eol().unwrap(), 11);
}

#[test]
fn plain_debian12_passes() {
    // OpenSSL 3.0 is past its upstream end (2026-09-07) but Debian 12
    // maintains its own: supported.
    let c = check_at(&fixture("software-clean"), NOW);
    assert_eq!(c.status, CheckStatus::Pass, "{:#?}", c);
    assert_eq!(c.requirements, ["E3-002", "E3-003"]);
    let d = details(&c);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(d[0].0, "data/software-eol.toml");
    assert!(
        d[0].1.starts_with("4 packages of listed runtimes"),
        "{}",
        d[0].1
    );
    assert_eq!(
        d[1].1,
        "1 package lists read; 0 installed packages are provided by no repository"
    );
}

#[test]
fn eol_third_party_php_fails() {
    let c = check_at(&fixture("software-eol"), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{:#?}", c);
    let d = details(&c);
    let failed: Vec<&(String, String)> = d
        .iter()
        .filter(|(_, t)| t.contains("upstream support ended"))
        .collect();
    let names: Vec<&str> = failed
        .iter()
        .map(|(_, t)| t.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["php7.4-cli", "php7.4-common", "php7.4-opcache"]);
    for (src, t) in &failed {
        assert!(src.starts_with("pkg:deb/debian/php7.4-"), "{src}");
        assert!(
            t.contains("PHP 7.4 upstream support ended on 2022-11-28"),
            "{t}"
        );
    }
    // Two by the version marker, one by the repository's Origin.
    assert!(failed[0]
        .1
        .ends_with("a third-party build (version contains `deb.sury.org`)"));
    assert!(failed[2]
        .1
        .ends_with("only a third-party repository provides it (Origin deb.sury.org)"));
    // The local package is listed too.
    assert!(d.iter().any(|(s, t)| s.starts_with("pkg:deb/debian/acme-agent@2.3-1")
        && t == "acme-agent 2.3-1: no configured repository provides it (obsolete or installed locally)"));
    assert!(d
        .iter()
        .any(|(_, t)| t
            == "2 package lists read; 1 installed packages are provided by no repository"));
    let fix = c.fix.unwrap();
    assert!(
        fix.contains("(PHP 8.2 or later, e.g. `apt install php8.2`)"),
        "{fix}"
    );
    assert!(
        fix.contains("apt purge php7.4-cli php7.4-common php7.4-opcache"),
        "{fix}"
    );
}

#[test]
fn before_the_end_date_third_party_php_is_not_failed() {
    // 2022-11-01: PHP 7.4 still supported upstream; acme-agent remains.
    let c = check_at(&fixture("software-eol"), 1_667_260_800);
    assert_eq!(c.status, CheckStatus::NeedsAttestation, "{:#?}", c);
    assert!(c.fix.unwrap().contains("apt purge acme-agent"));
}

#[test]
fn obsolete_local_package_needs_attestation() {
    let d = copy("software-clean");
    let status = d.path().join("var/lib/dpkg/status");
    let mut s = std::fs::read_to_string(&status).unwrap();
    s.push_str("\nPackage: acme-agent\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.3-1\nDescription: in-house agent\n");
    std::fs::write(&status, s).unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::NeedsAttestation, "{:#?}", c);
    let obsolete: Vec<_> = c
        .evidence
        .iter()
        .filter(|e| e.detail.contains("no configured repository provides it"))
        .collect();
    assert_eq!(obsolete.len(), 1);
    assert!(obsolete[0].detail.starts_with("acme-agent 2.3-1"));
    assert!(c
        .attestation
        .unwrap()
        .contains("confirm each is still supported by its supplier, or remove it"));
}

#[test]
fn without_lists_the_obsolete_part_is_skipped_and_said() {
    let d = copy("software-eol");
    std::fs::remove_dir_all(d.path().join("var/lib/apt/lists")).unwrap();
    let c = check_at(d.path(), NOW);
    // The sury markers still fail; opcache (Origin only) is now unknown to us.
    assert_eq!(c.status, CheckStatus::Fail);
    let failed = c
        .evidence
        .iter()
        .filter(|e| e.detail.contains("upstream support ended"))
        .count();
    assert_eq!(failed, 2);
    assert!(c.evidence.iter().any(|e| e.source == "/var/lib/apt/lists"
        && e.detail.starts_with("no complete APT package lists")));
    assert!(!c
        .evidence
        .iter()
        .any(|e| e.detail.contains("no configured repository provides it")));

    let clean = copy("software-clean");
    std::fs::remove_dir_all(clean.path().join("var/lib/apt/lists")).unwrap();
    assert_eq!(check_at(clean.path(), NOW).status, CheckStatus::Pass);
}

#[test]
fn eol_release_packages_fail() {
    // Alpine 3.16 (support ended 2024-05-23) with OpenSSL 1.1 (ended 2023-09-11).
    let c = check_at(&fixture("apk-pending"), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{:#?}", c);
    let names: Vec<&str> = c
        .evidence
        .iter()
        .filter(|e| e.detail.contains("upstream support ended"))
        .map(|e| e.detail.split(' ').next().unwrap())
        .collect();
    assert_eq!(names, ["libcrypto1.1", "libssl1.1"]);
    assert!(c.evidence[0]
        .detail
        .ends_with("the distribution release Alpine 3.16 (support ended 2024-05-23)"));
    let fix = c.fix.unwrap();
    assert!(fix.contains("apk del libcrypto1.1 libssl1.1"), "{fix}");
    assert!(fix.contains("(OpenSSL 3.5 or later)"), "{fix}");
}

#[test]
fn damaged_lists_and_status_do_not_panic() {
    let d = copy("software-eol");
    let lists = d.path().join("var/lib/apt/lists");
    std::fs::write(
        lists.join("packages.sury.org_php_dists_bookworm_main_binary-amd64_Packages.gz"),
        b"\x1f\x8b\x08garbage",
    )
    .unwrap();
    std::fs::write(
        lists.join("packages.sury.org_php_dists_bookworm_InRelease"),
        [0xffu8, 0xfe, b'O', b'r', b'i', b'g', b'i', b'n', b':'],
    )
    .unwrap();
    let c = check_at(d.path(), NOW);
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail == "could not be decompressed"));
    // The damaged InRelease gives no Origin: opcache is no longer known to be
    // third-party, the two marked builds still fail.
    assert_eq!(c.status, CheckStatus::Fail);
    std::fs::write(
        d.path().join("var/lib/dpkg/status"),
        "Package: php7.4-cli\nVersion: 1:\nPackage: php\nVersion: ::..-\n\nPackage: python3\n\nPackage: php7\nStatus: install ok installed\nVersion: 1:.7-+deb.sury.org\n",
    )
    .unwrap();
    let c = check_at(d.path(), NOW);
    assert!(matches!(
        c.status,
        CheckStatus::Unknown | CheckStatus::NeedsAttestation | CheckStatus::Pass
    ));
}

#[test]
fn the_installed_version_decides_who_supplies_it() {
    let d = copy("software-eol");
    let list = d
        .path()
        .join("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages");
    let mut l = std::fs::read_to_string(&list).unwrap();
    l.push_str("\nPackage: php7.4-opcache\nVersion: 7.4.33-1+deb11u8\nArchitecture: amd64\n");
    std::fs::write(&list, l).unwrap();
    let failed = |c: &CheckResult| -> Vec<String> {
        c.evidence
            .iter()
            .filter(|e| e.detail.contains("upstream support ended"))
            .map(|e| e.detail.split(' ').next().unwrap().to_string())
            .collect()
    };
    // Debian lists the name too, but the installed build is only sury's.
    let c = check_at(d.path(), NOW);
    assert_eq!(
        failed(&c),
        ["php7.4-cli", "php7.4-common", "php7.4-opcache"]
    );
    // With Debian's own build installed, it is the distribution's.
    let status = d.path().join("var/lib/dpkg/status");
    let s = std::fs::read_to_string(&status).unwrap().replace(
        "Version: 7.4.33-24+0~20250311.96+debian12~1.gbp8ea2e0",
        "Version: 7.4.33-1+deb11u8",
    );
    std::fs::write(&status, s).unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(failed(&c), ["php7.4-cli", "php7.4-common"]);
}

#[test]
fn third_party_lists_alone_do_not_make_packages_obsolete() {
    let d = copy("software-eol");
    std::fs::remove_file(
        d.path().join(
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
        ),
    )
    .unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(!c
        .evidence
        .iter()
        .any(|e| e.detail.contains("no configured repository provides it")));
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail.starts_with("no complete APT package lists")));
}
