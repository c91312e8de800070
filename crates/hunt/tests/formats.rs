//! Input formats beyond EVTX and evtx_dump JSON: flat Windows exports
//! (nxlog/OTRF, `Get-WinEvent | ConvertTo-Json`) and Microsoft Graph
//! sign-in pages, recognised by format detection and hunted like the rest.

use portcullis_events::{detect_path, Format};
use portcullis_hunt::{Detection, Hunt, HuntOptions, Level};
use std::path::{Path, PathBuf};

const WIN_KERBEROS: &str = "4462efc4-3c47-4cf2-a4e7-e2e5b2150955";
const WIN_BRUTE: &str = "76872b98-0b0c-4f52-8ba1-e30bce316d3a";
const ENTRA_SPRAY: &str = "607ecd0d-e94d-4032-91a8-98d008dcb379";
const T5: &str = "1d0a7c9e-0005-4000-8000-000000000005";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn hunt(paths: &[PathBuf], rules: Option<PathBuf>) -> Vec<Detection> {
    let options = HuntOptions {
        bundled: rules.is_none(),
        rule_paths: rules.into_iter().collect(),
        threads: 2,
        min_level: Level::Low,
        ..HuntOptions::default()
    };
    let (hunt, issues) = Hunt::new(options);
    assert!(issues.is_empty(), "{issues:?}");
    let mut out = Vec::new();
    let report = hunt.run(paths, &mut |d| out.push(d));
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.files_read, paths.len());
    out
}

/// (rule, user, source, count, window) of a detection.
type Summary = (String, Option<String>, Option<String>, u64, (i64, i64));

/// The summaries of detections: what must agree between export shapes of
/// the same events.
fn summary(ds: &[Detection]) -> Vec<Summary> {
    let mut v: Vec<_> = ds
        .iter()
        .map(|d| {
            let c = d.correlation.as_ref().expect("a correlation detection");
            (
                d.rule_id.clone(),
                d.user.clone(),
                d.source.clone(),
                c.count,
                c.window,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn flat_windows_exports_are_detected_and_hunted_like_evtx_dump() {
    for name in [
        "kerberos_pwd_spray_4771-nxlog.jsonl",
        "kerberos_pwd_spray_4771-get-winevent.jsonl",
        "smb-password-guessing-first200-nxlog.jsonl",
        "smb-password-guessing-first200-get-winevent.jsonl",
        "aliases_same_ip.jsonl",
    ] {
        assert_eq!(
            detect_path(&fixture(name)).unwrap(),
            Some(Format::WindowsJson),
            "{name}"
        );
    }
    // Kerberos spray: the same detection from all three shapes (nxlog has
    // whole seconds only, so compare the rule, source and count).
    let nested = hunt(&[fixture("kerberos_pwd_spray_4771.jsonl")], None);
    let ps = hunt(
        &[fixture("kerberos_pwd_spray_4771-get-winevent.jsonl")],
        None,
    );
    let nx = hunt(&[fixture("kerberos_pwd_spray_4771-nxlog.jsonl")], None);
    assert_eq!(summary(&nested).len(), 1);
    assert_eq!(summary(&nested)[0].0, WIN_KERBEROS);
    // Get-WinEvent keeps milliseconds: the windows agree to the millisecond.
    let ms = |s: Vec<Summary>| {
        s.into_iter()
            .map(|(r, u, src, n, (a, b))| (r, u, src, n, (a / 1000, b / 1000)))
            .collect::<Vec<_>>()
    };
    assert_eq!(ms(summary(&ps)), ms(summary(&nested)));
    let secs = |s: Vec<Summary>| {
        s.into_iter()
            .map(|(r, u, src, n, _)| (r, u, src, n))
            .collect::<Vec<_>>()
    };
    assert_eq!(secs(summary(&nx)), secs(summary(&nested)));
    assert_eq!(nx[0].source.as_deref(), Some("172.16.66.1"));

    // SMB password guessing (4625): brute force against Administrator.
    for name in [
        "smb-password-guessing-first200-nxlog.jsonl",
        "smb-password-guessing-first200-get-winevent.jsonl",
    ] {
        let d = hunt(&[fixture(name)], None);
        assert_eq!(d.len(), 1, "{name}");
        assert_eq!(d[0].rule_id, WIN_BRUTE, "{name}");
        assert_eq!(d[0].user.as_deref(), Some("Administrator"), "{name}");
        assert_eq!(d[0].source.as_deref(), Some("192.168.198.149"), "{name}");
        // Each event cites its record number.
        assert!(d[0].events.iter().all(|e| e.record_id.is_some()), "{name}");
    }
}

#[test]
fn otrf_style_flat_events_take_correlation_aliases() {
    // EXPECTED.md T5: 4768 then 4771 10 s apart; with the alias `src` on
    // IpAddress the temporal rule fires for one IP and not for two.
    let rule = Some(fixture("t5_temporal_aliases.yml"));
    let same = hunt(&[fixture("aliases_same_ip.jsonl")], rule.clone());
    assert_eq!(same.len(), 1, "{same:?}");
    assert_eq!(same[0].rule_id, T5);
    let two = hunt(&[fixture("aliases_two_ips.jsonl")], rule);
    assert!(two.is_empty(), "{two:?}");
}

/// One minified Graph page a line (a paging script's output), with
/// `@odata.nextLink` on every page but the last.
fn graph_pages(dir: &Path, users: u32) -> PathBuf {
    let mut lines = Vec::new();
    let per_page = 4;
    let base = 1_793_607_300i64; // 2026-11-02T08:15:00Z
    let pages = users.div_ceil(per_page);
    for page in 0..pages {
        let records: Vec<serde_json::Value> = (page * per_page..((page + 1) * per_page).min(users))
            .map(|i| {
                let t = jiff::Timestamp::from_second(base + i64::from(i) * 20).unwrap();
                serde_json::json!({
                    "id": format!("66ea54eb-6301-4ee5-be62-ff5a759b{i:04}"),
                    "createdDateTime": t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    "userDisplayName": format!("User {i}"),
                    "userPrincipalName": format!("user{i}@contoso.example"),
                    "appDisplayName": "Azure Active Directory PowerShell",
                    "ipAddress": "203.0.113.50",
                    "clientAppUsed": "Mobile Apps and Desktop clients",
                    "userAgent": "python-requests/2.31.0",
                    "isInteractive": true,
                    "status": {"errorCode": 50126, "failureReason": "Error validating credentials due to invalid username or password.", "additionalDetails": null},
                    "location": {"city": "Amsterdam", "countryOrRegion": "NL"}
                })
            })
            .collect();
        let mut page_obj = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            "value": records,
        });
        if page + 1 < pages {
            page_obj["@odata.nextLink"] = serde_json::json!(format!(
                "https://graph.microsoft.com/v1.0/auditLogs/signIns?$top={per_page}&$skiptoken=p{page}"
            ));
        }
        lines.push(page_obj.to_string());
    }
    let p = dir.join("signins-pages.json");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

#[test]
fn graph_signin_pages_are_detected_and_a_spray_found() {
    let dir = tempfile::tempdir().unwrap();
    let spray = graph_pages(dir.path(), 12);
    assert_eq!(detect_path(&spray).unwrap(), Some(Format::EntraJson));
    let d = hunt(std::slice::from_ref(&spray), None);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule_id, ENTRA_SPRAY);
    assert_eq!(d[0].source.as_deref(), Some("203.0.113.50"));
    // Every event of the detection cites its page's line.
    assert!(d[0].events.iter().all(|e| matches!(e.line, Some(1..=3))));
    // Below the threshold (9 users): nothing.
    let quiet = graph_pages(dir.path(), 9);
    assert!(hunt(&[quiet], None).is_empty());
}

/// Keyword searches read a Linux log line's own text (host, program, pid,
/// message), not the fields parsed out of it: a keyword found in the
/// message fires, a keyword that is only one of our labels does not.
#[test]
fn linux_keywords_search_the_line_not_our_labels() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(
        &log,
        "2026-01-05T10:00:00+00:00 web1 sshd[42]: Failed password for root from 198.51.100.7 port 50022 ssh2\n",
    )
    .unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let rule = |id: &str, keyword: &str| {
        format!(
            "title: kw {keyword}\nid: {id}\nstatus: test\nlevel: high\nlogsource:\n    product: linux\ndetection:\n    keywords:\n        - '{keyword}'\n    condition: keywords\n"
        )
    };
    let cases = [
        (
            "00000000-0000-4000-8000-000000000001",
            "password for ROOT",
            true,
        ),
        (
            "00000000-0000-4000-8000-000000000002",
            "198.51.100.7 port",
            true,
        ),
        ("00000000-0000-4000-8000-000000000003", "web1", true),
        ("00000000-0000-4000-8000-000000000004", "sshd", true),
        // `action` and `outcome` are labels of ours, not in the line.
        ("00000000-0000-4000-8000-000000000005", "ssh_failed", false),
        ("00000000-0000-4000-8000-000000000006", "failure", false),
    ];
    for (id, kw, _) in cases {
        std::fs::write(rules.join(format!("{id}.yml")), rule(id, kw)).unwrap();
    }
    let fired: Vec<String> = hunt(&[log], Some(rules))
        .into_iter()
        .map(|d| d.rule_id)
        .collect();
    for (id, kw, want) in cases {
        assert_eq!(
            fired.contains(&id.to_string()),
            want,
            "keyword {kw:?}: {fired:?}"
        );
    }
}
