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
        .any(|e| e.detail
            == "could not be decompressed to the end; the part before the damage is read"));
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

// ------------------------------------------------ RPM vendor, module streams, apk pins

#[test]
fn rpm_from_a_third_party_vendor_is_judged_by_the_upstream_date() {
    // Rocky Linux 9.4 (supported) with Oracle's MySQL 5.7 community RPM: no
    // marker in its version; its Vendor tag says who built it.
    let c = check_at(&fixture("rocky9-thirdparty"), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    let d = details(&c);
    assert!(
        d.iter().any(
            |(s, t)| s.starts_with("pkg:rpm/rocky/mysql-community-server@5.7.44-1.el7")
                && t.contains("MySQL 5.7 upstream support ended on 2023-10-31")
                && t.contains("installed from the repository `mysql57-community` (per /var/lib/dnf/history.sqlite)")
        ),
        "{d:#?}"
    );
    let fix = c.fix.as_deref().unwrap();
    assert!(fix.contains("dnf remove mysql-community-server"), "{fix}");
    // Rocky's own bash and nodejs are not judged by upstream dates.
    assert!(!d.iter().any(|(s, _)| s.contains("/bash@")), "{d:#?}");
    // The enabled nodejs:18 stream is named with its listed retirement.
    assert!(
        d.iter()
            .any(|(s, t)| s == "/etc/dnf/modules.d/nodejs.module"
                && t.contains("nodejs:18 enabled")
                && t.contains("2025-04-30")),
        "{d:#?}"
    );
}

#[test]
fn retired_application_stream_is_listed_for_attestation_until_its_date_is_verified() {
    let c = check_at(&fixture("rocky9-streams"), NOW);
    assert_eq!(c.status, CheckStatus::NeedsAttestation, "{c:?}");
    assert!(
        c.attestation.as_deref().unwrap().contains("nodejs:18"),
        "{c:?}"
    );
    // Before the date the stream is supported: pass.
    // 2025-04-01T00:00:00Z
    let c = check_at(&fixture("rocky9-streams"), 1_743_465_600);
    assert_eq!(c.status, CheckStatus::Pass, "{c:?}");
    assert!(details(&c)
        .iter()
        .any(|(_, t)| t.contains("nodejs:18 enabled; supported until 2025-04-30")));
    // A stream the table does not list, or a disabled one, is not judged.
    let d = copy("rocky9-streams");
    std::fs::write(
        d.path().join("etc/dnf/modules.d/nodejs.module"),
        "[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=disabled\n",
    )
    .unwrap();
    assert_eq!(check_at(d.path(), NOW).status, CheckStatus::Pass);
}

#[test]
fn apk_package_pinned_to_another_branch_is_judged_by_the_upstream_date() {
    // Alpine 3.22 (supported) whose libssl1.1/libcrypto1.1 (OpenSSL 1.1,
    // ended 2023-09-11) are pinned to the old v3.14 branch.
    let d = copy("apk-pending");
    std::fs::write(
        d.path().join("etc/os-release"),
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.22.2\nPRETTY_NAME=\"Alpine Linux v3.22\"\n",
    )
    .unwrap();
    let apk = d.path().join("etc/apk");
    std::fs::create_dir_all(&apk).unwrap();
    std::fs::write(
        apk.join("repositories"),
        "https://dl-cdn.alpinelinux.org/alpine/v3.22/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.22/community\n@old https://dl-cdn.alpinelinux.org/alpine/v3.14/main\n",
    )
    .unwrap();
    std::fs::write(apk.join("world"), "alpine-base\nlibssl1.1@old\n").unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    let d2 = details(&c);
    assert!(
        d2.iter().any(|(s, t)| s.starts_with("pkg:apk/alpine/libssl1.1@")
            && t.contains("OpenSSL 1.1 upstream support ended on 2023-09-11")
            && t.contains("pinned to the repository @old (https://dl-cdn.alpinelinux.org/alpine/v3.14/main)")),
        "{d2:#?}"
    );
    // libcrypto1.1 is not pinned: the distribution's own.
    assert!(
        !d2.iter().any(|(s, _)| s.contains("libcrypto1.1@")),
        "{d2:#?}"
    );
    assert!(c.fix.as_deref().unwrap().contains("apk del libssl1.1"));
    // Pinned to this release's own branch: the distribution's, supported.
    std::fs::write(apk.join("world"), "alpine-base\nlibssl1.1@main\n").unwrap();
    std::fs::write(
        apk.join("repositories"),
        "@main https://dl-cdn.alpinelinux.org/alpine/v3.22/main\n",
    )
    .unwrap();
    assert_eq!(check_at(d.path(), NOW).status, CheckStatus::Pass);
}

#[test]
fn without_dnf_history_the_rpm_vendor_decides() {
    let d = copy("rocky9-thirdparty");
    std::fs::remove_file(d.path().join("var/lib/dnf/history.sqlite")).unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(
        details(&c)
            .iter()
            .any(|(s, t)| s.contains("/mysql-community-server@")
                && t.contains("a third-party build (RPM vendor `Oracle and/or its affiliates`)")),
        "{c:?}"
    );
}

/// A dnf4 history database with the newer `state` column (1 = done),
/// recording nodejs from appstream, then reinstalled from `repo` in a
/// transaction item whose state is `state`.
fn dnf4_history_with_state(root: &Path, repo: &str, state: i64) {
    let dir = root.join("var/lib/dnf");
    std::fs::create_dir_all(&dir).unwrap();
    let db = rusqlite::Connection::open(dir.join("history.sqlite")).unwrap();
    db.execute_batch(&format!(
        "CREATE TABLE repo (id INTEGER PRIMARY KEY, repoid TEXT NOT NULL);
         CREATE TABLE item (id INTEGER PRIMARY KEY, item_type INTEGER NOT NULL);
         CREATE TABLE trans_item (id INTEGER PRIMARY KEY AUTOINCREMENT, trans_id INTEGER, item_id INTEGER, repo_id INTEGER, action INTEGER NOT NULL, reason INTEGER NOT NULL, state INTEGER NOT NULL);
         CREATE TABLE rpm (item_id INTEGER UNIQUE NOT NULL, name TEXT NOT NULL, epoch INTEGER NOT NULL, version TEXT NOT NULL, release TEXT NOT NULL, arch TEXT NOT NULL);
         INSERT INTO repo VALUES (1, 'appstream'), (2, '{repo}');
         INSERT INTO item VALUES (1, 1);
         INSERT INTO rpm VALUES (1, 'nodejs', 1, '18.20.4', '1.module+el9.4.0+24', 'x86_64');
         INSERT INTO trans_item VALUES (1, 1, 1, 1, 1, 2, 1);
         INSERT INTO trans_item VALUES (2, 2, 1, 2, 9, 2, {state});"
    ))
    .unwrap();
}

#[test]
fn dnf4_history_naming_a_local_file_or_another_repository() {
    let d = copy("rocky9-streams");
    dnf4_history_with_state(d.path(), "@commandline", 1);
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(
        details(&c).iter().any(|(s, t)| s.contains("/nodejs@")
            && t.contains("Node.js 18 upstream support ended on 2025-04-30")
            && t.contains(
                "installed from a local file (`@commandline` in /var/lib/dnf/history.sqlite)"
            )),
        "{c:?}"
    );
    // A reinstall that did not complete does not count: appstream stands.
    let d = copy("rocky9-streams");
    dnf4_history_with_state(d.path(), "epel", 2);
    assert_eq!(
        check_at(d.path(), NOW).status,
        CheckStatus::NeedsAttestation
    );
    // EPEL is not the distribution.
    let d = copy("rocky9-streams");
    dnf4_history_with_state(d.path(), "epel", 1);
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    assert!(details(&c)
        .iter()
        .any(|(_, t)| t.contains("installed from the repository `epel`")));
    // Nothing is written next to the database.
    let names: Vec<String> = std::fs::read_dir(d.path().join("var/lib/dnf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["history.sqlite"]);
}

#[test]
fn dnf5_system_state_repositories_and_module_streams() {
    let d = copy("rocky9-streams");
    std::fs::remove_dir_all(d.path().join("etc/dnf/modules.d")).unwrap();
    let state = d.path().join("usr/lib/sysimage/libdnf5");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("modules.toml"),
        "version = \"1.0\"\n\n[modules.nodejs]\nenabled_stream = \"18\"\ninstalled_profiles = []\nstate = \"Enabled\"\n",
    )
    .unwrap();
    std::fs::write(
        state.join("nevras.toml"),
        "version = \"1.0\"\n\n[nevras]\n\"bash-5.1.8-9.el9.x86_64\" = {from_repo = \"baseos\"}\n\"nodejs-1:18.20.4-1.module+el9.4.0+24.x86_64\" = {from_repo = \"nodesource\"}\n",
    )
    .unwrap();
    let c = check_at(d.path(), NOW);
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    let d2 = details(&c);
    assert!(
        d2.iter().any(|(s, t)| s.contains("/nodejs@")
            && t.contains(
                "installed from the repository `nodesource` (per /usr/lib/sysimage/libdnf5/nevras.toml)"
            )),
        "{d2:#?}"
    );
    assert!(
        d2.iter()
            .any(|(s, t)| s == "/usr/lib/sysimage/libdnf5/modules.toml"
                && t.contains("nodejs:18 enabled")),
        "{d2:#?}"
    );
    // The distribution's own repository: back to the stream attestation.
    std::fs::write(
        state.join("nevras.toml"),
        "version = \"1.0\"\n[nevras]\n\"nodejs-1:18.20.4-1.module+el9.4.0+24.x86_64\" = {from_repo = \"appstream\"}\n",
    )
    .unwrap();
    assert_eq!(
        check_at(d.path(), NOW).status,
        CheckStatus::NeedsAttestation
    );
    // Damaged state files are ignored, not fatal.
    std::fs::write(state.join("nevras.toml"), "[nevras\n= {").unwrap();
    std::fs::write(state.join("modules.toml"), "\0\0").unwrap();
    assert_eq!(check_at(d.path(), NOW).status, CheckStatus::Pass);
}

#[test]
fn a_damaged_distribution_list_makes_nothing_obsolete() {
    // software-eol lists acme-agent as provided by no repository; with the
    // Debian list stored gzip-compressed and cut short, absence proves
    // nothing and it is not listed.
    use std::io::Write;
    let d = copy("software-eol");
    let lists = d.path().join("var/lib/apt/lists");
    let main = lists.join("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages");
    let text = std::fs::read(&main).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::remove_file(&main).unwrap();
    let damaged = lists.join("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.gz");
    std::fs::write(&damaged, &gz[..gz.len() / 2]).unwrap();
    let c = check_at(d.path(), NOW);
    let d2 = details(&c);
    assert!(
        d2.iter()
            .any(|(_, t)| t.starts_with("a distribution package list is damaged")),
        "{d2:#?}"
    );
    assert!(
        !d2.iter().any(|(s, _)| s.contains("/acme-agent@")),
        "{d2:#?}"
    );
    // The marked PHP builds still fail.
    assert_eq!(c.status, CheckStatus::Fail, "{c:?}");
    // Whole, the same gzip list is read as before: acme-agent is listed.
    std::fs::write(&damaged, &gz).unwrap();
    let c = check_at(d.path(), NOW);
    assert!(
        details(&c).iter().any(|(s, _)| s.contains("/acme-agent@")),
        "{c:?}"
    );
}
