//! Pending updates from dnf/yum repository metadata and the APKINDEX cache.

use portcullis_assess::{assess, CheckResult, CheckStatus, Host, Options, VulnScan};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const ID: &str = "linux.updates.pending_security";

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

fn pending(root: &Path) -> CheckResult {
    let host = Host::open_with(root, false);
    let a = assess(
        &host,
        &Options {
            now: portcullis_assess::now(),
            vulns: VulnScan::Findings(Vec::new()),
        },
    );
    a.check(ID).unwrap().clone()
}

fn pkg_lines(c: &CheckResult) -> Vec<&str> {
    c.evidence
        .iter()
        .filter(|e| e.source.starts_with("pkg:"))
        .map(|e| e.detail.as_str())
        .collect()
}

fn set_age(p: &Path, days: u64) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
        .unwrap();
}

const REPO: &str = "var/cache/dnf/baseos-4b1e5c2a8f7d9e01/repodata";

/// The repodata file whose name contains `kind`.
fn repo_file(root: &Path, kind: &str) -> PathBuf {
    std::fs::read_dir(root.join(REPO))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(kind))
        .unwrap()
}

fn gunzip(p: &Path) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

#[test]
fn dnf_security_advisory_older_than_14_days_auto_fails() {
    let c = pending(&fixture("dnf-pending"));
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(c.auto_fail);
    // libblkid is not installed; the bugfix advisory (45.el8_9) and the old,
    // applied security advisory (39.el8_7) do not count.
    assert_eq!(
        pkg_lines(&c),
        ["libuuid 2.32.1-42.el8_8 installed; 2.32.1-44.el8_9 fixes it in RLSA-2024:0001 (Moderate), issued 2024-01-10"]
    );
    assert_eq!(
        c.fix.as_deref(),
        Some("Install the pending updates now: dnf upgrade --security libuuid")
    );
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail == "2 security advisories read"));
    assert!(c
        .evidence
        .iter()
        .any(|e| e.source.ends_with("-primary.xml.gz") && e.detail == "5 packages available"));
}

#[test]
fn dnf_recent_advisory_is_for_attestation() {
    let d = copy("dnf-pending");
    let gz = repo_file(d.path(), "updateinfo");
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let text = gunzip(&gz).replace("2024-01-10", &today);
    std::fs::remove_file(&gz).unwrap();
    std::fs::write(d.path().join(REPO).join("updateinfo.xml"), text).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::NeedsAttestation, "{c:?}");
    assert!(c
        .fix
        .as_deref()
        .unwrap()
        .ends_with("dnf upgrade --security libuuid"));
}

#[test]
fn dnf_all_applied_passes_and_stale_metadata_is_unknown() {
    let c = pending(&fixture("dnf-current"));
    assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
    assert!(c
        .evidence
        .iter()
        .any(|e| e.detail == "1 security advisories read"));
    let d = copy("dnf-current");
    set_age(&d.path().join(REPO).join("repomd.xml"), 30);
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(
        c.reason.as_deref().unwrap().contains("`dnf makecache`"),
        "{c:?}"
    );
}

#[test]
fn dnf_without_updateinfo_counts_every_update_by_build_time() {
    let d = copy("dnf-pending");
    std::fs::remove_file(repo_file(d.path(), "updateinfo")).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert_eq!(
        pkg_lines(&c),
        ["libuuid 2.32.1-42.el8_8 installed; 2.32.1-45.el8_9 available, built 2024-01-11"]
    );
    assert_eq!(
        c.fix.as_deref(),
        Some("Install the pending updates now: dnf upgrade libuuid")
    );
}

#[test]
fn yum_layout_with_plain_files() {
    let d = copy("dnf-pending");
    let gen = d.path().join("var/cache/yum/x86_64/8/baseos/gen");
    std::fs::create_dir_all(&gen).unwrap();
    std::fs::write(
        gen.join("updateinfo.xml"),
        gunzip(&repo_file(d.path(), "updateinfo")),
    )
    .unwrap();
    std::fs::write(
        gen.join("primary.xml"),
        gunzip(&repo_file(d.path(), "primary")),
    )
    .unwrap();
    std::fs::remove_dir_all(d.path().join("var/cache/dnf")).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert_eq!(pkg_lines(&c).len(), 1);
    assert!(c
        .fix
        .as_deref()
        .unwrap()
        .ends_with("yum upgrade --security libuuid"));
}

#[test]
fn dnf_without_cache_or_in_an_unread_form_is_unknown() {
    let d = copy("dnf-pending");
    std::fs::remove_dir_all(d.path().join("var/cache")).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown);
    assert!(c
        .reason
        .as_deref()
        .unwrap()
        .contains("run `dnf updateinfo list --security`"));
    let repo = d.path().join("var/cache/dnf/fedora-0123/repodata");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("abc-primary.xml.lz4"), b"\x04\x22\x4d\x18junk").unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown);
    let r = c.reason.as_deref().unwrap();
    assert!(
        r.contains("abc-primary.xml.lz4") && r.contains("in a form not read"),
        "{r}"
    );
    // A zchunk file that is not one: read, reported, unknown (never a pass).
    std::fs::write(repo.join("abc-primary.xml.zck"), b"\0ZCK1junk").unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(
        c.evidence
            .iter()
            .any(|e| e.source.ends_with("abc-primary.xml.zck")
                && e.detail.starts_with("cannot be decompressed (zchunk)")),
        "{c:?}"
    );
}

// ------------------------------------------------ Fedora 43: zchunk and the other forms

const F43_UPDATES: &str = "var/cache/libdnf5/updates-2f4d85bb0a1c9e37/repodata";
const F43_KERNEL: &str = "kernel-core 6.17.1-300.fc43 installed; 6.17.8-300.fc43 fixes it in FEDORA-2025-3c4f1e7a92 (Moderate), issued 2025-11-17";

fn forms(name: &str) -> PathBuf {
    fixture("dnf-forms").join(name)
}

/// fedora43-dnf with the updates repository's zchunk files replaced by `files`
/// (fixture file in dnf-forms, name in the cache).
fn f43_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = copy("fedora43-dnf");
    let repo = d.path().join(F43_UPDATES);
    for e in std::fs::read_dir(&repo).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".zck") {
            std::fs::remove_file(p).unwrap();
        }
    }
    for (from, to) in files {
        std::fs::copy(forms(from), repo.join(to)).unwrap();
    }
    d
}

#[test]
fn fedora_zchunk_metadata_with_a_dictionary_is_read() {
    let c = pending(&fixture("fedora43-dnf"));
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(c.auto_fail);
    // make and cmake are current; the cmake advisory is a bugfix.
    assert_eq!(pkg_lines(&c), [F43_KERNEL]);
    assert_eq!(
        c.fix.as_deref(),
        Some("Install the pending updates now: dnf upgrade --security kernel-core")
    );
    let ev = |end: &str| {
        c.evidence
            .iter()
            .find(|e| e.source.ends_with(end))
            .map(|e| e.detail.as_str())
    };
    assert_eq!(ev("-updateinfo.xml.zck"), Some("2 advisories"));
    assert!(c.evidence.iter().any(
        |e| e.source == "/var/cache/libdnf5" && e.detail.starts_with("the cached metadata is")
    ));
    assert!(c.evidence.iter().any(|e| e.source.contains("updates-")
        && e.source.ends_with("-primary.xml.zck")
        && e.detail == "1 packages available"));
    assert!(c.evidence.iter().any(|e| e.source.contains("fedora-")
        && e.source.ends_with("-primary.xml.zck")
        && e.detail == "3 packages available"));
}

#[test]
fn fedora_metadata_in_xz_zstd_bzip2_and_plain_zchunk_forms() {
    for files in [
        [
            ("primary.xml.xz", "a1-primary.xml.xz"),
            ("updateinfo.xml.xz", "b2-updateinfo.xml.xz"),
        ],
        [
            ("primary.xml.zst", "a1-primary.xml.zst"),
            ("updateinfo.xml.zst", "b2-updateinfo.xml.zst"),
        ],
        [
            ("primary.xml.bz2", "a1-primary.xml.bz2"),
            ("updateinfo-nodict.xml.zck", "b2-updateinfo.xml.zck"),
        ],
        [
            ("primary.xml.gz", "a1-primary.xml.gz"),
            ("updateinfo.xml.zst", "b2-updateinfo.xml.zst"),
        ],
    ] {
        let d = f43_with(&files);
        let c = pending(d.path());
        assert_eq!(c.status, CheckStatus::Fail, "{files:?}: {c:?}");
        assert_eq!(pkg_lines(&c), [F43_KERNEL], "{files:?}");
        assert!(
            c.evidence
                .iter()
                .any(|e| e.source.ends_with(files[0].1) && e.detail == "1 packages available"),
            "{files:?}: {c:?}"
        );
    }
}

#[test]
fn fedora_sqlite_primary_without_updateinfo_counts_by_build_time() {
    let d = f43_with(&[("primary.sqlite.bz2", "c3-primary.sqlite.bz2")]);
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert_eq!(
        pkg_lines(&c),
        ["kernel-core 6.17.1-300.fc43 installed; 6.17.8-300.fc43 available, built 2025-11-17"]
    );
    assert!(
        c.evidence
            .iter()
            .any(|e| e.source.ends_with("c3-primary.sqlite.bz2")
                && e.detail == "1 packages available")
    );
    // The root is not written to (the database is opened in memory).
    let names: Vec<String> = std::fs::read_dir(d.path().join(F43_UPDATES))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains("journal") || n.ends_with("-wal")),
        "{names:?}"
    );
}

#[test]
fn yum_sqlite_cache_in_xz_and_plain_forms() {
    let d = copy("dnf-pending");
    std::fs::remove_dir_all(d.path().join("var/cache/dnf")).unwrap();
    let repo = d.path().join("var/cache/yum/x86_64/8/baseos");
    std::fs::create_dir_all(repo.join("gen")).unwrap();
    std::fs::copy(
        forms("rocky8-primary.sqlite.xz"),
        repo.join("d4-primary.sqlite.xz"),
    )
    .unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert_eq!(
        pkg_lines(&c),
        ["libuuid 2.32.1-42.el8_8 installed; 2.32.1-44.el8_9 available, built 2024-01-02"]
    );
    assert!(c.fix.as_deref().unwrap().ends_with("yum upgrade libuuid"));
    // yum's own unpacked copy, gen/primary_db.sqlite.
    let mut plain = Vec::new();
    lzma_rs::xz_decompress(
        &mut std::io::BufReader::new(
            std::fs::File::open(forms("rocky8-primary.sqlite.xz")).unwrap(),
        ),
        &mut plain,
    )
    .unwrap();
    std::fs::remove_file(repo.join("d4-primary.sqlite.xz")).unwrap();
    std::fs::write(repo.join("gen/primary_db.sqlite"), plain).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert_eq!(pkg_lines(&c).len(), 1);
    // A damaged database is reported, not fatal: unknown.
    std::fs::write(
        repo.join("gen/primary_db.sqlite"),
        b"SQLite format 3\0garbage",
    )
    .unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(c.evidence.iter().any(|e| e
        .detail
        .starts_with("not a readable SQLite primary database")));
}

#[test]
fn dnf_damaged_metadata_is_reported_not_fatal() {
    let d = copy("dnf-pending");
    let info = repo_file(d.path(), "updateinfo");
    let bytes = std::fs::read(&info).unwrap();
    std::fs::write(&info, &bytes[..bytes.len() / 2]).unwrap();
    let primary = repo_file(d.path(), "primary");
    std::fs::remove_file(&primary).unwrap();
    std::fs::write(
        d.path().join(REPO).join("x-primary.xml"),
        "<metadata><package><name>libuuid</name><version ver=\"9\" rel=\"1\"/></package><package><name>a</b></metadata>",
    )
    .unwrap();
    let c = pending(d.path());
    let notes: Vec<&str> = c
        .evidence
        .iter()
        .filter(|e| e.source.contains("repodata/"))
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("cannot be decompressed")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("invalid XML at byte")),
        "{notes:?}"
    );
    // Nothing pending in the readable part of a damaged updateinfo is not a pass.
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(c.reason.as_deref().unwrap().contains("damaged"));
    // Without updateinfo, the package read before the damage still counts
    // (undated: for attestation).
    std::fs::remove_file(&info).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::NeedsAttestation, "{c:?}");
    assert_eq!(
        pkg_lines(&c),
        ["libuuid 2.32.1-42.el8_8 installed; 9-1 available, built ?"]
    );
}

const APKINDEX: &str = "var/cache/apk/APKINDEX.d8b2a6f4.tar.gz";

#[test]
fn apk_pending_updates_built_long_ago_auto_fail() {
    let c = pending(&fixture("apk-pending"));
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(c.auto_fail);
    assert_eq!(
        pkg_lines(&c),
        [
            "libcrypto1.1 1.1.1q-r0 installed; 1.1.1t-r2 available, built 2023-02-01",
            "libssl1.1 1.1.1q-r0 installed; 1.1.1t-r2 available, built 2023-02-01"
        ]
    );
    assert_eq!(
        c.fix.as_deref(),
        Some("Install the pending updates now: apk update && apk add --upgrade libcrypto1.1 libssl1.1")
    );
    assert!(c
        .evidence
        .iter()
        .any(|e| e.source == format!("/{APKINDEX}") && e.detail == "7 packages available"));
}

#[test]
fn apk_current_passes_and_stale_index_is_unknown() {
    let c = pending(&fixture("apk-current"));
    assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
    let d = copy("apk-current");
    set_age(&d.path().join(APKINDEX), 30);
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(c.reason.as_deref().unwrap().contains("`apk update`"));
}

#[test]
fn apk_without_or_with_damaged_index() {
    let d = copy("apk-pending");
    let idx = d.path().join(APKINDEX);
    let bytes = std::fs::read(&idx).unwrap();
    std::fs::write(&idx, &bytes[..bytes.len() - 200]).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown, "{c:?}");
    assert!(c
        .reason
        .as_deref()
        .unwrap()
        .starts_with("no cached APKINDEX could be read"));
    std::fs::write(&idx, b"garbage").unwrap();
    assert_eq!(pending(d.path()).status, CheckStatus::Unknown);
    std::fs::remove_file(&idx).unwrap();
    let c = pending(d.path());
    assert_eq!(c.status, CheckStatus::Unknown);
    assert_eq!(
        c.reason.as_deref(),
        Some("no APKINDEX is cached in /var/cache/apk: run `apk update && apk upgrade --simulate` and apply what it lists (`apk upgrade`)")
    );
}
