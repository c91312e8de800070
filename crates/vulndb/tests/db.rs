//! The vulnerability database and matcher on real OSV records.

use portcullis_model::osv::{Affected, Event, Range};
use portcullis_model::{Ecosystem, Location, Package, Severity};
use portcullis_vulndb::{evaluate_affected, match_packages, Database, MatchOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv")
}

fn fresh_db(dir: &tempfile::TempDir) -> Database {
    Database::open(&dir.path().join("osv.db")).unwrap()
}

fn imported() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = fresh_db(&dir);
    let report = db
        .import_path(&fixtures(), Some("fixtures"), &mut |_| {})
        .unwrap();
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    (dir, db)
}

fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
    Package::new(
        eco,
        name,
        version,
        Location {
            path: "test".into(),
            line: Some(1),
        },
    )
}

fn now() -> MatchOptions {
    MatchOptions {
        now: "2026-11-22T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn imports_a_directory_and_skips_withdrawn_records() {
    let (_dir, db) = imported();
    let status = db.status().unwrap();
    // 13 files: 12 stored, RUSTSEC-2019-0031 withdrawn.
    assert_eq!(status.records, 12);
    assert_eq!(status.sources.len(), 1);
    assert_eq!(status.sources[0].name, "fixtures");
    assert_eq!(status.sources[0].records, 12);
    assert_eq!(status.sources[0].withdrawn, 1);
    // The newest `modified` of the records is the data's age.
    assert!(status.sources[0]
        .data_as_of
        .as_deref()
        .unwrap()
        .starts_with("20"));
    let npm = status.ecosystems.iter().find(|(e, _)| e == "npm").unwrap();
    assert_eq!(npm.1, 4);
}

#[test]
fn reimport_keeps_the_newest_modified() {
    let (dir, mut db) = imported();
    let again = db
        .import_path(&fixtures(), Some("fixtures"), &mut |_| {})
        .unwrap();
    // All 13 are unchanged, the withdrawn one included (it is remembered as withdrawn).
    assert_eq!((again.added, again.updated, again.unchanged), (0, 0, 13));
    assert_eq!(again.withdrawn, 0);
    // A newer copy of GHSA-p6mc-m468-83gw that drops lodash-es replaces the stored one.
    let text = std::fs::read_to_string(fixtures().join("GHSA-p6mc-m468-83gw.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["modified"] = "2030-01-01T00:00:00Z".into();
    v["affected"].as_array_mut().unwrap().truncate(1);
    let newer = dir.path().join("newer.json");
    std::fs::write(&newer, v.to_string()).unwrap();
    let r = db.import_path(&newer, Some("other"), &mut |_| {}).unwrap();
    assert_eq!(r.updated, 1);
    let es = match_packages(&db, &[pkg(Ecosystem::Npm, "lodash-es", "4.17.15")], &now()).unwrap();
    assert!(
        es.findings.is_empty(),
        "lodash-es entry was dropped by the newer record"
    );
    // An older copy does not replace it.
    v["modified"] = "2001-01-01T00:00:00Z".into();
    std::fs::write(&newer, v.to_string()).unwrap();
    let r = db.import_path(&newer, Some("other"), &mut |_| {}).unwrap();
    assert_eq!(r.unchanged, 1);
    let status = db.status().unwrap();
    assert_eq!(status.records, 12);
}

#[test]
fn imports_zip_archives_and_merges_duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default();
        // The same ALSA record under two release folders, as AlmaLinux publishes it.
        let alsa = std::fs::read(fixtures().join("ALSA-2024-8127.json")).unwrap();
        for folder in ["almalinux8", "almalinux9"] {
            z.start_file(format!("advisories/{folder}/ALSA-2024:8127.json"), opts)
                .unwrap();
            z.write_all(&alsa).unwrap();
        }
        z.start_file("GO-2020-0001.json", opts).unwrap();
        z.write_all(&std::fs::read(fixtures().join("GO-2020-0001.json")).unwrap())
            .unwrap();
        z.start_file("README.txt", opts).unwrap();
        z.write_all(b"not a record").unwrap();
        z.finish().unwrap();
    }
    let mut db = fresh_db(&dir);
    let r = db.import_path(&zip_path, None, &mut |_| {}).unwrap();
    // An `all.zip` is filed under its folder's name.
    assert_eq!(r.source, dir.path().file_name().unwrap().to_string_lossy());
    assert_eq!((r.read, r.added, r.unchanged), (3, 2, 1));
    assert_eq!(db.status().unwrap().records, 2);
}

#[test]
fn a_bad_record_is_reported_with_its_position_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(
        fixtures().join("GO-2020-0001.json"),
        src.join("GO-2020-0001.json"),
    )
    .unwrap();
    std::fs::write(
        src.join("broken.json"),
        "{\n  \"id\": \"X-1\",\n  \"affected\": [\n",
    )
    .unwrap();
    std::fs::write(
        src.join("noid.json"),
        "{\"modified\": \"2020-01-01T00:00:00Z\"}",
    )
    .unwrap();
    let mut db = fresh_db(&dir);
    let r = db.import_path(&src, Some("mixed"), &mut |_| {}).unwrap();
    assert_eq!(r.added, 1);
    assert_eq!(r.diagnostics.len(), 2, "{:?}", r.diagnostics);
    let broken = r
        .diagnostics
        .iter()
        .find(|d| d.path.ends_with("broken.json"))
        .unwrap();
    assert!(broken.is_error());
    assert_eq!(broken.line, Some(4));
    assert!(
        broken.message.contains("not a valid OSV record"),
        "{}",
        broken.message
    );
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path.ends_with("noid.json") && d.message.contains("`id`")));
    // Nothing to read at all is an error, and the database is unchanged.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(db.import_path(&empty, None, &mut |_| {}).is_err());
    assert_eq!(db.status().unwrap().records, 1);
}

#[test]
fn npm_ranges_aliases_severity_and_the_14_day_rule() {
    let (_d, db) = imported();
    let out = match_packages(
        &db,
        &[
            pkg(Ecosystem::Npm, "lodash", "4.17.15"),
            pkg(Ecosystem::Npm, "lodash", "4.17.21"),
            pkg(Ecosystem::Npm, "minimist", "1.2.0"),
        ],
        &now(),
    )
    .unwrap();
    let lodash: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.package.name == "lodash")
        .collect();
    assert_eq!(lodash.len(), 1, "{:#?}", out.findings);
    let f = lodash[0];
    assert_eq!(f.package.version, "4.17.15");
    assert_eq!(f.id, "GHSA-p6mc-m468-83gw");
    assert!(f.aliases.contains(&"CVE-2020-8203".to_string()));
    assert_eq!(f.fix.upgrade_to.as_deref(), Some("4.17.20"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.cvss_score, Some(7.4));
    assert!(f.ce_14_day, "high, fixed, published in 2020");
    assert!(out.findings.iter().any(|f| f.package.name == "minimist"));
}

#[test]
fn last_affected_is_inclusive() {
    let (_d, db) = imported();
    let hit = match_packages(&db, &[pkg(Ecosystem::PyPI, "py", "1.11.0")], &now()).unwrap();
    assert_eq!(hit.findings.len(), 1);
    assert_eq!(hit.findings[0].id, "PYSEC-2022-42969");
    assert_eq!(hit.findings[0].fix.upgrade_to, None);
    assert!(!hit.findings[0].ce_14_day, "no fix, so not a 14-day breach");
    let miss = match_packages(&db, &[pkg(Ecosystem::PyPI, "py", "1.11.1")], &now()).unwrap();
    assert!(miss.findings.is_empty());
}

#[test]
fn aliases_merge_so_one_flaw_is_one_finding() {
    let (dir, mut db) = imported();
    // A GHSA copy of PYSEC-2014-13 (same CVE), as GitHub publishes its own record.
    let ghsa = serde_json::json!({
        "id": "GHSA-cfj3-7x9c-4p3h", "modified": "2023-01-01T00:00:00Z", "published": "2022-05-14T00:00:00Z",
        "aliases": ["CVE-2014-1829"], "summary": "Requests leaks credentials on redirect",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.0"}]}]}]
    });
    let p = dir.path().join("ghsa.json");
    std::fs::write(&p, ghsa.to_string()).unwrap();
    db.import_path(&p, Some("ghsa"), &mut |_| {}).unwrap();
    let out = match_packages(&db, &[pkg(Ecosystem::PyPI, "requests", "2.2.1")], &now()).unwrap();
    assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(f.id, "GHSA-cfj3-7x9c-4p3h");
    assert_eq!(f.sources, vec!["GHSA-cfj3-7x9c-4p3h", "PYSEC-2014-13"]);
    assert!(f.aliases.contains(&"CVE-2014-1829".to_string()));
    assert!(f.aliases.contains(&"PYSEC-2014-13".to_string()));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.fix.upgrade_to.as_deref(), Some("2.3.0"));
}

#[test]
fn debian_matches_source_names_in_the_right_release_and_respects_backports() {
    let (_d, db) = imported();
    let deb = |name: &str, version: &str, release: &str| {
        let mut p = pkg(Ecosystem::Debian, name, version);
        p.distro = Some(release.into());
        p.source_name = Some("nginx".into());
        p
    };
    let out = match_packages(
        &db,
        &[
            deb("nginx-full", "1.2.1-2.2+wheezy2", "7"),
            deb("nginx-light", "1.2.1-2.2+wheezy3", "7"),
            deb("nginx-full", "1.6.2-1~bpo70+1", "7"),
            deb("nginx-full", "1.2.1-2.2+wheezy2", "12"),
        ],
        &now(),
    )
    .unwrap();
    assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
    let f = &out.findings[0];
    assert_eq!(f.id, "DSA-3029-1");
    assert_eq!(f.package.name, "nginx-full");
    assert_eq!(f.package.version, "1.2.1-2.2+wheezy2");
    assert_eq!(f.fix.upgrade_to.as_deref(), Some("1.2.1-2.2+wheezy3"));
}

#[test]
fn withdrawn_unknown_and_git_sourced_packages_are_not_matched() {
    let (_d, db) = imported();
    let mut git = pkg(Ecosystem::Npm, "lodash", "4.17.15");
    git.purl = git
        .purl
        .clone()
        .with_qualifier("vcs_url", "git+https://example.invalid/lodash");
    let out = match_packages(
        &db,
        &[
            pkg(Ecosystem::CratesIo, "spin", "0.0.0-1"),
            pkg(Ecosystem::Npm, "lodash", ""),
            git,
        ],
        &now(),
    )
    .unwrap();
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    assert_eq!(out.unknown_versions, 1);
    assert_eq!(out.unmatched_sources, 1);
}

#[test]
fn git_only_records_without_versions_match_nothing() {
    let (_d, db) = imported();
    // OSV-2016-1 has only a GIT range and an empty versions list: commits
    // cannot be compared with a release version, so it cannot match.
    let out = match_packages(&db, &[pkg(Ecosystem::OssFuzz, "file", "5.26")], &now()).unwrap();
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}

fn ev(intro: Option<&str>, fixed: Option<&str>, last: Option<&str>, limit: Option<&str>) -> Event {
    Event {
        introduced: intro.map(Into::into),
        fixed: fixed.map(Into::into),
        last_affected: last.map(Into::into),
        limit: limit.map(Into::into),
    }
}

fn range(kind: &str, events: Vec<Event>) -> Range {
    Range {
        kind: kind.into(),
        repo: (kind == "GIT").then(|| "https://example.invalid/repo".into()),
        events,
        database_specific: None,
    }
}

#[test]
fn evaluation_follows_the_osv_rules() {
    let eco = Ecosystem::CratesIo;
    let entry = Affected {
        ranges: vec![
            // A GIT range first must not hide the ranges after it.
            range(
                "GIT",
                vec![
                    ev(Some("0"), None, None, None),
                    ev(None, Some("abc123"), None, None),
                ],
            ),
            range(
                "SEMVER",
                vec![
                    ev(Some("1.0.0"), None, None, None),
                    ev(None, Some("1.2.0"), None, None),
                    ev(Some("2.0.0"), None, None, None),
                    ev(None, None, Some("2.1.0"), None),
                ],
            ),
        ],
        ..Default::default()
    };
    let at = |v: &str| evaluate_affected(&entry, &eco, v).unwrap();
    assert!(!at("0.9.0").affected);
    assert!(at("1.0.0").affected);
    assert_eq!(at("1.1.9").upgrade_to.as_deref(), Some("1.2.0"));
    assert!(!at("1.2.0").affected);
    assert!(at("2.0.5").affected);
    assert!(at("2.1.0").affected, "last_affected is inclusive");
    assert!(!at("2.1.1").affected);
    assert!(evaluate_affected(&entry, &eco, "not a version").is_err());

    // limit: versions at or above the limit are outside the range.
    let limited = Affected {
        ranges: vec![range(
            "SEMVER",
            vec![
                ev(Some("0"), None, None, None),
                ev(None, None, None, Some("3.0.0")),
            ],
        )],
        ..Default::default()
    };
    assert!(evaluate_affected(&limited, &eco, "2.9.9").unwrap().affected);
    assert!(!evaluate_affected(&limited, &eco, "3.0.0").unwrap().affected);
    // An explicit versions list.
    let listed = Affected {
        versions: vec!["1.0.0".into(), "1.0.1".into()],
        ..Default::default()
    };
    assert!(evaluate_affected(&listed, &eco, "1.0.1").unwrap().affected);
    assert!(!evaluate_affected(&listed, &eco, "1.0.2").unwrap().affected);
    // Event order in the record does not matter.
    let unordered = Affected {
        ranges: vec![range(
            "SEMVER",
            vec![
                ev(None, Some("1.5.0"), None, None),
                ev(Some("1.0.0"), None, None, None),
            ],
        )],
        ..Default::default()
    };
    assert!(
        evaluate_affected(&unordered, &eco, "1.4.0")
            .unwrap()
            .affected
    );
    assert!(
        !evaluate_affected(&unordered, &eco, "0.4.0")
            .unwrap()
            .affected
    );
}

#[test]
fn record_lookup_by_id_and_alias() {
    let (_d, db) = imported();
    assert_eq!(db.record("DSA-3029-1").unwrap().unwrap().id, "DSA-3029-1");
    assert_eq!(
        db.record("CVE-2014-3616").unwrap().unwrap().id,
        "DSA-3029-1"
    );
    assert!(db.record("CVE-0000-0000").unwrap().is_none());
}

#[test]
fn the_bundled_snapshot_imports_and_finds_real_advisories() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = fresh_db(&dir);
    let r = db.import_bundled(&mut |_| {}).unwrap();
    assert!(r.added > 9000, "{}", r.added);
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let out = match_packages(
        &db,
        &[pkg(Ecosystem::CratesIo, "smallvec", "1.6.0")],
        &now(),
    )
    .unwrap();
    assert!(
        out.findings.iter().any(|f| f.id == "RUSTSEC-2021-0003"),
        "{:#?}",
        out.findings
    );
}
