//! Repositories built from recorded histories: one that passes each check,
//! one that fails each, a plain directory, and Portcullis itself.

mod builder;

use builder::Repo;
use portcullis_practice::{judge, render, Format, Judgement, Options, Report};
use std::path::Path;

// Planted secrets are assembled at run time so that this source file holds none.
fn aws_key() -> String {
    ["AKIA", "Z7QW3RTY5UIOP2LK"].concat()
}
fn github_token() -> String {
    ["ghp", "_R8x2LmQ9vTz4Kp7WnB3cYd6FhJ1sGa5eUo0i"].concat()
}

fn offline() -> Options {
    Options {
        db: None,
        vulnerabilities: false,
        history: true,
    }
}

fn check<'a>(r: &'a Report, id: &str) -> &'a portcullis_practice::Check {
    r.checks.iter().find(|c| c.id == id).unwrap_or_else(|| {
        panic!(
            "no check {id}: {:?}",
            r.checks.iter().map(|c| c.id).collect::<Vec<_>>()
        )
    })
}

fn claim(r: &Report, id: &str) -> Judgement {
    r.principles
        .iter()
        .flat_map(|p| &p.claims)
        .find(|c| c.id == id)
        .map(|c| c.judgement)
        .unwrap_or_else(|| panic!("no claim {id}"))
}

const SECURITY_MD: &str = "# Security Policy\n\n## Supported Versions\n\n| Version | Supported | End of support |\n|---|---|---|\n| 2.x | yes | 2027-06-30 |\n| 1.x | no | 2025-01-01 |\n\nWe give at least 12 months' notice before a version reaches end of support.\nWe release every month; security fixes ship as soon as they are ready.\n\n## Reporting a Vulnerability\n\nPlease do not open a public issue. Report privately to security@example.org.\nWe acknowledge reports within 2 business days and aim to fix within 90 days.\nWe assess severity with CVSS and prioritise critical issues.\n";

const WORKFLOW_GOOD: &str = "name: ci\non:\n  push:\n    tags: ['v*']\n  pull_request:\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11\n      - run: cargo test --locked\n  provenance:\n    permissions:\n      id-token: write\n      attestations: write\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/attest-build-provenance@1c608d11d69870c2092266b3f9a6f3abbf17002c\n        with:\n          subject-path: target/release/app\n";

const WORKFLOW_BAD: &str = "name: pr\non: pull_request_target\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          ref: ${{ github.event.pull_request.head.sha }}\n      - run: echo \"${{ github.event.pull_request.title }}\"\n";

const APACHE: &str = "                                 Apache License\n                           Version 2.0, January 2004\n                        http://www.apache.org/licenses/\n";

const CARGO_LOCK: &str = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";

fn good_repo() -> Repo {
    let r = Repo::new();
    r.signed_commit(
        &[
            ("SECURITY.md", SECURITY_MD),
            ("LICENSE", APACHE),
            ("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nlicense = \"Apache-2.0\"\n"),
            ("Cargo.lock", CARGO_LOCK),
            ("src/main.rs", "fn main() {}\n"),
            ("tests/it.rs", "#[test]\nfn t() {}\n"),
            (".github/workflows/ci.yml", WORKFLOW_GOOD),
            (".github/dependabot.yml", "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule: { interval: weekly }\n"),
            (".github/CODEOWNERS", "* @example/maintainers\n/.github/ @example/security\n"),
            ("Dockerfile", "FROM debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"),
            ("requirements.txt", "requests==2.32.3\n"),
        ],
        "Initial import",
    );
    r.merged_pr(1, &[("src/lib.rs", "pub fn a() {}\n")]);
    r.merged_pr(2, &[("src/more.rs", "pub fn b() {}\n")]);
    r.signed_commit(
        &[(
            "CHANGELOG.md",
            "# Changelog\n\n## Security\n\n- Fixed CVE-2024-0001.\n",
        )],
        "Changelog",
    );
    r.tag("v1.0.0", true);
    r
}

#[test]
fn a_repository_that_passes_each_check() {
    let repo = good_repo();
    let r = judge(repo.path(), &offline());
    assert!(r.repository.git);
    assert_eq!(
        r.repository.commits, 6,
        "2 signed, 2 branch commits, 2 merges"
    );
    assert_eq!(r.repository.tags, 1);
    for id in [
        "security-policy",
        "support-period",
        "end-of-support-notice",
        "sbom",
        "pinned-dependencies",
        "update-tool",
        "secrets",
        "ci-tests",
        "ci-pinned-actions",
        "ci-permissions",
        "ci-dangerous-workflows",
        "signing",
        "binary-artifacts",
        "licence",
        "code-review",
    ] {
        let c = check(&r, id);
        assert_eq!(
            c.judgement,
            Judgement::Met,
            "{id}: {} {:?}",
            c.summary,
            c.evidence
        );
    }
    assert_eq!(check(&r, "licence").summary, "LICENSE (Apache-2.0)");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    for id in [
        "3.2.1", "3.2.2", "4.1.1", "4.2.1", "1.2.1", "1.2.2", "1.4.3", "3.1.1", "2.1.3", "2.2.2",
        "1.3.2", "1.3.3",
    ] {
        assert_eq!(claim(&r, id), Judgement::Met, "claim {id}");
    }
    // Evidence points at the file and line.
    let sp = check(&r, "security-policy");
    assert!(sp
        .evidence
        .iter()
        .any(|e| e.file.as_deref() == Some("SECURITY.md")
            && e.line == Some(15)
            && e.detail.contains("security@example.org")));
    assert!(sp
        .evidence
        .iter()
        .any(|e| e.line == Some(16) && e.detail.contains("2 business days")));
    // Signed commits: 2 of the 4 on the first-parent line.
    assert!(
        check(&r, "signing")
            .summary
            .contains("commits signed 2/4; tags signed 1/1"),
        "{}",
        check(&r, "signing").summary
    );
    // Claims only an attestation can show are never scored.
    assert_eq!(claim(&r, "2.1.5"), Judgement::NeedsAttestation);
    assert_eq!(
        r.counts.met + r.counts.partly_met + r.counts.not_met + r.counts.needs_attestation,
        45
    );
    assert_eq!(r.principles.len(), 14);
    let p32 = r.principles.iter().find(|p| p.id == "3.2").unwrap();
    assert_eq!(p32.score, Some(100));
    assert!(r.score.unwrap() >= 90, "score {:?}", r.score);
}

fn bad_repo() -> (Repo, String, String) {
    let r = Repo::new();
    let first = r.commit(
        &[
            ("README.md", "# app\n"),
            (
                "config/settings.py",
                &format!("AWS_ACCESS_KEY_ID = \"{}\"\n", aws_key()),
            ),
            (".gitignore", "Cargo.lock\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
            ),
        ],
        "Start",
        "Mallory <m@example.org>",
    );
    // The same key on another branch: one blob, reported once.
    r.git(&["branch", "copy"]);
    r.remove("config/settings.py");
    r.commit(&[], "Remove the key", "Mallory <m@example.org>");
    let second = r.commit(
        &[
            (".env", &format!("GITHUB_TOKEN={}\n", github_token())),
            ("bin/tool", "\u{7f}ELF\u{2}\u{1}\u{1}\0\0\0\0\0\0\0\0\0"),
            (".github/workflows/pr.yml", WORKFLOW_BAD),
            ("requirements.txt", "flask\nrequests>=2\n"),
            ("Dockerfile", "FROM ubuntu:22.04\n"),
        ],
        "Add tooling",
        "Mallory <m@example.org>",
    );
    r.write("Cargo.lock", CARGO_LOCK); // present, ignored: not committed
    (r, first, second)
}

#[test]
fn a_repository_that_fails_each_check() {
    let (repo, first, second) = bad_repo();
    let r = judge(repo.path(), &offline());
    for id in [
        "security-policy",
        "support-period",
        "end-of-support-notice",
        "update-tool",
        "secrets",
        "ci-dangerous-workflows",
        "ci-pinned-actions",
        "ci-permissions",
        "signing",
        "licence",
        "code-review",
    ] {
        assert_eq!(
            check(&r, id).judgement,
            Judgement::NotMet,
            "{id}: {}",
            check(&r, id).summary
        );
    }
    assert_eq!(
        check(&r, "sbom").judgement,
        Judgement::PartlyMet,
        "{}",
        check(&r, "sbom").summary
    );
    assert_eq!(
        check(&r, "pinned-dependencies").judgement,
        Judgement::NotMet
    );
    assert_eq!(
        check(&r, "binary-artifacts").judgement,
        Judgement::PartlyMet
    );

    let secrets: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "secret-committed")
        .collect();
    assert_eq!(secrets.len(), 2, "{secrets:?}");
    let aws = secrets
        .iter()
        .find(|f| f.file == "config/settings.py")
        .unwrap();
    assert_eq!(aws.commit.as_deref(), Some(first.as_str()));
    assert_eq!((aws.line, aws.column), (Some(1), Some(22)));
    assert!(aws.message.contains("only in history"));
    let gh = secrets.iter().find(|f| f.file == ".env").unwrap();
    assert_eq!(gh.commit.as_deref(), Some(second.as_str()));
    assert_eq!(gh.level, portcullis_practice::Level::Error);
    // 1.4.3: a secret in the current tree.
    assert_eq!(claim(&r, "1.4.3"), Judgement::NotMet);

    let rules = |rule: &str| r.findings.iter().filter(|f| f.rule == rule).count();
    assert_eq!(rules("ci-dangerous-trigger"), 1);
    assert_eq!(rules("ci-script-injection"), 1);
    assert_eq!(rules("ci-action-unpinned"), 1);
    assert_eq!(rules("ci-permissions-missing"), 1);
    assert_eq!(rules("binary-artifact"), 1);
    assert_eq!(rules("docker-image-unpinned"), 1);
    assert_eq!(rules("dependency-unpinned"), 2);
    assert_eq!(rules("lockfile-not-committed"), 1);
    let trig = r
        .findings
        .iter()
        .find(|f| f.rule == "ci-dangerous-trigger")
        .unwrap();
    assert_eq!(
        (trig.file.as_str(), trig.line),
        (".github/workflows/pr.yml", Some(9))
    );

    // No output format prints a secret whole.
    for format in [Format::Table, Format::Json, Format::Sarif, Format::Markdown] {
        let text = render(&r, format, false);
        assert!(!text.contains(&aws_key()), "{format:?} leaks the AWS key");
        assert!(
            !text.contains(&github_token()),
            "{format:?} leaks the token"
        );
        assert!(
            text.contains("AKIA…(20 chars)") || format == Format::Markdown && text.contains("AKIA")
        );
    }
    assert!(r.score.unwrap() < 30, "score {:?}", r.score);
}

#[test]
fn sarif_has_located_results() {
    let (repo, _, _) = bad_repo();
    let r = judge(repo.path(), &offline());
    let v: serde_json::Value = serde_json::from_str(&render(&r, Format::Sarif, false)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len());
    let sec = results
        .iter()
        .find(|x| {
            x["ruleId"] == "secret-committed"
                && x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".env"
        })
        .unwrap();
    assert_eq!(
        sec["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
    }
}

#[test]
fn a_plain_directory_is_judged_without_history() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.env"),
        format!("token: {}\n", github_token()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("SECURITY.md"),
        "Report to security@example.org.\n",
    )
    .unwrap();
    let r = judge(dir.path(), &offline());
    assert!(!r.repository.git);
    assert!(r.unknown.iter().any(|u| u.contains("not a git repository")));
    assert!(r
        .unknown
        .iter()
        .any(|u| u.starts_with("signed commits and tags: unknown")));
    assert_eq!(check(&r, "security-policy").judgement, Judgement::PartlyMet);
    let s: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "secret-committed")
        .collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].file, "app.env");
    assert!(r
        .principles
        .iter()
        .all(|p| p.claims.iter().all(|c| c.judgement != Judgement::Met
            || !c.evidence.is_empty()
            || c.checks.contains(&"secrets"))));
}

#[test]
fn history_scan_skips_binary_and_huge_blobs() {
    let r = Repo::new();
    let mut big = "x".repeat(3 * 1024 * 1024);
    big.push_str(&format!("\nkey = {}\n", aws_key()));
    let mut bin = vec![0u8; 100];
    bin.extend_from_slice(aws_key().as_bytes());
    r.write("big.txt", &big);
    r.write("blob.bin", &bin);
    r.commit(&[], "big and binary", "A <a@example.org>");
    let rep = judge(r.path(), &offline());
    assert_eq!(rep.repository.blobs_large, 1);
    assert_eq!(rep.repository.blobs_binary, 1);
    assert_eq!(
        rep.findings
            .iter()
            .filter(|f| f.rule == "secret-committed")
            .count(),
        0
    );
}

#[test]
fn known_vulnerable_dependencies_are_listed() {
    let r = Repo::new();
    r.commit(
        &[("requirements.txt", "Werkzeug==2.2.2\n")],
        "deps",
        "A <a@example.org>",
    );
    let db_dir = tempfile::tempdir().unwrap();
    let opts = Options {
        db: Some(db_dir.path().join("absent.db")),
        vulnerabilities: true,
        history: true,
    };
    let rep = judge(r.path(), &opts);
    assert!(
        rep.vulnerabilities.iter().any(|v| v.package == "Werkzeug"
            && v.version == "2.2.2"
            && v.id == "PYSEC-2023-221"
            && v.file == "requirements.txt"
            && v.line == Some(1)),
        "{:?}",
        rep.vulnerabilities
    );
    assert_eq!(
        check(&rep, "vulnerable-dependencies").judgement,
        Judgement::NotMet
    );
    assert_eq!(claim(&rep, "3.3.1"), Judgement::NotMet);
}

#[test]
fn portcullis_itself_is_judged_with_evidence() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let r = judge(
        &root,
        &Options {
            vulnerabilities: false,
            ..Options::default()
        },
    );
    assert_eq!(r.principles.len(), 14);
    assert_eq!(
        r.principles.iter().map(|p| p.claims.len()).sum::<usize>(),
        45
    );
    if r.repository.git {
        assert!(r.repository.commits > 0);
        assert!(r.repository.blobs_scanned > 100);
    }
    assert!(r.score.is_some());
    assert!(check(&r, "sbom")
        .evidence
        .iter()
        .any(|e| e.file.as_deref() == Some("Cargo.lock")));
    for c in &r.checks {
        assert!(
            !c.evidence.is_empty() || c.id == "secrets",
            "{} has no evidence",
            c.id
        );
    }
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, false)).unwrap();
    assert_eq!(json["schema"], "portcullis.practice/v1");
}

#[test]
fn garbage_repository_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "garbage\n").unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(
        dir.path().join(".github/workflows/x.yml"),
        "on: [push\n  jobs: {{{",
    )
    .unwrap();
    let r = judge(dir.path(), &offline());
    assert_eq!(r.principles.len(), 14);
    assert!(r
        .diagnostics
        .iter()
        .any(|d| d.path.ends_with("x.yml") && d.message.contains("does not parse")));
}

/// What the history scan reported, to compare a loose and a packed copy.
fn history_view(r: &Report) -> (Vec<String>, [usize; 3]) {
    let mut s: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.rule == "secret-committed")
        .map(|f| {
            format!(
                "{} {:?} {:?} {:?} {}",
                f.file, f.line, f.column, f.commit, f.message
            )
        })
        .collect();
    s.sort();
    let info = &r.repository;
    (s, [info.blobs_scanned, info.blobs_binary, info.blobs_large])
}

#[test]
fn packed_history_is_scanned_like_loose_objects() {
    // Loose objects go through one lookup per blob; packs through the pack
    // traversal. Both must report the same secrets, commits and counts.
    let (repo, first, second) = bad_repo();
    let mut big = "x".repeat(3 * 1024 * 1024);
    big.push_str(&format!("\nkey = {}\n", aws_key()));
    repo.write("big.txt", &big);
    repo.commit(&[], "big", "A <a@example.org>");
    let loose = history_view(&judge(repo.path(), &offline()));
    assert_eq!(loose.0.len(), 2, "{loose:?}");
    // README, settings.py, .gitignore, Cargo.toml, .env, pr.yml,
    // requirements.txt, Dockerfile; bin/tool is binary, big.txt too large.
    assert_eq!(loose.1, [8, 1, 1]);

    // Everything packed (and the loose copies gone).
    repo.git(&["repack", "-a", "-d", "-q"]);
    repo.git(&["prune-packed"]);
    assert!(repo.git(&["count-objects", "-v"]).contains("count: 0"));
    let packed = history_view(&judge(repo.path(), &offline()));
    assert_eq!(packed, loose);
    assert!(packed.0.iter().any(|l| l.contains(&first)));
    assert!(packed.0.iter().any(|l| l.contains(&second)));

    // Half packed: a later commit re-adds the key (the same blob, already
    // in the pack) next to a new loose secret-free blob.
    repo.commit(
        &[(
            "again/settings.py",
            &format!("AWS_ACCESS_KEY_ID = \"{}\"\n", aws_key()),
        )],
        "Again",
        "A <a@example.org>",
    );
    let mixed = judge(repo.path(), &offline());
    let (s, counts) = history_view(&mixed);
    assert_eq!(s.len(), 2, "the re-added key is the same blob: one finding");
    let aws = s
        .iter()
        .find(|l| l.starts_with("config/settings.py "))
        .unwrap();
    assert!(aws.contains(&first), "still at its first commit: {aws}");
    assert!(!aws.contains("only in history"), "now in HEAD again: {aws}");
    assert_eq!(counts, [8, 1, 1]);
}
