//! Risk: extraction at ingest, per-organisation summaries, projects as
//! assets, search tenancy (store level, on SQLite or PostgreSQL).
//! Bodies are real output of the `portcullis` binary (tests/fixtures/risk).

mod common;

use common::{fresh, site_admin, two_orgs};
use portcullis_server::store::{rate, AssetKind, AssetRef, Hit, Readiness, RiskLevel};
use portcullis_server::{NewSubmission, OrgId, Role, Store, StoreError, SubmissionKind, Tenant};
use serde_json::{json, Value};

const SCAN: &str = include_str!("fixtures/risk/scan-cargo.json");
const ASSESS: &str = include_str!("fixtures/risk/assess-debian12.json");
const HUNT: &str = include_str!("fixtures/risk/hunt.jsonl");

fn sub(kind: SubmissionKind, key: &str, body: &Value) -> NewSubmission {
    NewSubmission {
        kind,
        client_id: key.into(),
        body: body.to_string(),
    }
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// The hunt's 11 detections wrapped as a submission body, the first one
/// re-timed to `recent` (the fixture's times are months old).
fn detections(recent: Option<i64>) -> Value {
    let mut list: Vec<Value> = HUNT.lines().map(json).collect();
    if let (Some(t), Some(first)) = (recent, list.first_mut()) {
        first["time"] = json!(rfc3339(t));
    }
    json!({ "detections": list })
}

fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn overview_of(
    store: &Store,
    scope: &Tenant,
    org: OrgId,
) -> portcullis_server::store::OrgRisk {
    store
        .risk_overview(scope)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.org.id == org)
        .expect("organisation in the overview")
}

#[tokio::test]
async fn real_reports_are_extracted_and_summarised() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let host = s.authenticate_host(&t.a_host_token).await.unwrap();
    let a = Tenant::for_role(t.a, Role::Member);

    // Before anything arrives: unknown readiness, amber, nothing counted.
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.hosts, r.critical, r.ce_14_day), (0, 0, 0));
    assert_eq!(r.readiness(), Readiness::Unknown);
    assert_eq!(r.rating(now()).level, RiskLevel::Amber);

    // A scan: `portcullis scan --format json` output as it is.
    let (_, created) = s
        .submit(&host, &sub(SubmissionKind::Scan, "scan-1", &json(SCAN)))
        .await
        .unwrap();
    assert!(created);
    let r = overview_of(s, &a, t.a).await;
    assert_eq!(r.hosts, 1);
    assert_eq!((r.vulns, r.critical, r.high, r.ce_14_day), (21, 0, 4, 15));
    let rating = r.rating(now());
    assert_eq!(rating.level, RiskLevel::Red);
    assert!(
        rating.reasons[0].contains("15 vulnerabilities break the Cyber Essentials 14-day rule"),
        "{rating:?}"
    );

    let d = s.org_detail(&a, t.a).await.unwrap();
    let webpki = d
        .packages
        .iter()
        .find(|p| p.key == "rustls-webpki")
        .expect("rustls-webpki listed");
    assert_eq!((webpki.assets, webpki.vulns, webpki.ce_14_day), (1, 4, 7));
    assert_eq!(webpki.ecosystem, "crates.io");
    // Breaches first: the first package listed has a 14-day breach.
    assert!(d.packages[0].ce_14_day > 0);
    let on = s.package_assets(&a, t.a, "RSA").await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(
        (on[0].asset.as_str(), on[0].version.as_str()),
        ("a-host", "0.9.10")
    );
    assert_eq!(on[0].vulns, ["RUSTSEC-2023-0071"]);
    assert_eq!(on[0].worst.as_deref(), Some("medium"));

    // An assessment: `portcullis assess --format json` output as it is.
    s.submit(
        &host,
        &sub(SubmissionKind::Assessment, "assess-1", &json(ASSESS)),
    )
    .await
    .unwrap();
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.assessed, r.not_ready, r.checks_failed), (1, 1, 6));
    assert_eq!(r.readiness(), Readiness::NotReady);
    // Heat map: firewalls 1 fail (default_deny); malware 1 fail of 1.
    assert_eq!(r.controls[0].1, 1);
    assert_eq!(r.controls[4], (0, 1));
    let d = s.org_detail(&a, t.a).await.unwrap();
    let lockout = d
        .checks
        .iter()
        .find(|c| c.check_id == "linux.auth.lockout")
        .unwrap();
    assert_eq!(lockout.status, "fail");
    assert_eq!(lockout.assets, ["a-host"]);
    assert!(
        lockout.fix.as_deref().unwrap().contains("faillock"),
        "{:?}",
        lockout.fix
    );
    // Fails come before unknowns and attestations.
    assert_eq!(d.checks[0].status, "fail");
    assert!(d
        .checks
        .iter()
        .any(|c| c.status == "unknown" && c.check_id == "linux.updates.pending_security"));

    // Detections: `hunt --format jsonl` lines wrapped; one of them recent.
    let recent = now() - 600;
    s.submit(
        &host,
        &sub(
            SubmissionKind::Detections,
            "hunt-1",
            &detections(Some(recent)),
        ),
    )
    .await
    .unwrap();
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.detections_24h, r.high_detections_24h), (1, 1));
    let d = s.org_detail(&a, t.a).await.unwrap();
    assert_eq!(d.detections.len(), 11);
    assert_eq!(d.detections[0].at, Some(recent));
    assert_eq!(d.detections[0].source_ip.as_deref(), Some("91.197.232.109"));
    // The IPv4-mapped address is stored in its canonical form.
    assert!(d
        .detections
        .iter()
        .any(|x| x.source_ip.as_deref() == Some("::ffff:10.23.123.11")
            && x.user.as_deref() == Some("admin-hacker")));

    // Detections accumulate: the same hunt sent again under a new key (an
    // agent's resend, a full re-hunt) adds nothing; a new detection is added
    // to the ones already stored.
    s.submit(
        &host,
        &sub(
            SubmissionKind::Detections,
            "hunt-2",
            &detections(Some(recent)),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s.org_detail(&a, t.a).await.unwrap().detections.len(), 11);
    let mut one_more: Value = json(HUNT.lines().next().unwrap());
    one_more["time"] = json!(rfc3339(recent + 60));
    one_more["summary"] = json!("a later spray from the same source");
    s.submit(
        &host,
        &sub(
            SubmissionKind::Detections,
            "hunt-3",
            &json!({ "detections": [one_more] }),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s.org_detail(&a, t.a).await.unwrap().detections.len(), 12);
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.detections_24h, r.high_detections_24h), (2, 2));

    // An SBOM: its components.
    s.submit(
        &host,
        &sub(SubmissionKind::Sbom, "sbom-1", &json(common::SBOM)),
    )
    .await
    .unwrap();
    let d = s.org_detail(&a, t.a).await.unwrap();
    assert_eq!(d.assets[0].components, 67);

    // The weekly snapshot holds this week's state.
    let trend = s.risk_trend(&a, 12).await.unwrap();
    assert_eq!(trend.len(), 12);
    let last = trend.last().unwrap();
    assert_eq!((last.high, last.ce_14_day, last.not_ready), (4, 15, 1));
    assert_eq!(trend[0].high, 0);

    // Organisation B saw none of it.
    let b = Tenant::for_role(t.b, Role::Member);
    let rb = overview_of(s, &b, t.b).await;
    assert_eq!((rb.vulns, rb.assessed, rb.detections_24h), (0, 0, 0));
    assert!(s.org_detail(&b, t.b).await.unwrap().packages.is_empty());
}

#[tokio::test]
async fn a_new_submission_replaces_the_assets_rows_of_its_kind_only() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let host = s.authenticate_host(&t.a_host_token).await.unwrap();
    let a = Tenant::for_role(t.a, Role::OrgAdmin);
    s.submit(&host, &sub(SubmissionKind::Scan, "s1", &json(SCAN)))
        .await
        .unwrap();
    s.submit(&host, &sub(SubmissionKind::Assessment, "a1", &json(ASSESS)))
        .await
        .unwrap();
    // A later scan with one finding replaces the 21.
    let mut one = json(SCAN);
    let first = one["findings"][4].clone(); // rsa, medium, not breaching
    one["findings"] = json!([first]);
    s.submit(&host, &sub(SubmissionKind::Scan, "s2", &one))
        .await
        .unwrap();
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.vulns, r.high, r.ce_14_day), (1, 0, 0));
    // The assessment is untouched.
    assert_eq!((r.assessed, r.checks_failed), (1, 6));
    let d = s.org_detail(&a, t.a).await.unwrap();
    assert_eq!(d.packages.len(), 1);
    assert_eq!(d.packages[0].package, "rsa");
    // History stays: both scans are still submissions.
    let subs = s.list_submissions(&a, 100).await.unwrap();
    assert_eq!(
        subs.iter()
            .filter(|r| r.kind == SubmissionKind::Scan)
            .count(),
        2
    );
    // A resend of the first scan is idempotent and does not re-extract.
    let (_, created) = s
        .submit(&host, &sub(SubmissionKind::Scan, "s1", &json(SCAN)))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(overview_of(s, &a, t.a).await.vulns, 1);
    // An assessment with everything passing makes the host ready.
    let mut ok = json(ASSESS);
    for c in ok["checks"].as_array_mut().unwrap() {
        c["status"] = json!("pass");
    }
    ok["verdict"] = json!("ready");
    s.submit(&host, &sub(SubmissionKind::Assessment, "a2", &ok))
        .await
        .unwrap();
    let r = overview_of(s, &a, t.a).await;
    assert_eq!(r.readiness(), Readiness::Ready);
    assert_eq!(r.checks_failed, 0);
    assert!(s.org_detail(&a, t.a).await.unwrap().checks.is_empty());
}

#[tokio::test]
async fn projects_are_assets_and_a_host_token_cannot_speak_for_another_host() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let ci = s.authenticate_host(&t.a_host_token).await.unwrap();
    let a = Tenant::for_role(t.a, Role::Member);
    let project = AssetRef {
        kind: AssetKind::Project,
        name: "github.com/example/app".into(),
    };
    let practice = json!({"schema": "portcullis.practice/v1", "score": 42, "principles": []});
    s.submit_for(
        &ci,
        &project,
        &sub(SubmissionKind::Practice, "p1", &practice),
    )
    .await
    .unwrap();
    s.submit_for(&ci, &project, &sub(SubmissionKind::Scan, "p2", &json(SCAN)))
        .await
        .unwrap();
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.hosts, r.projects, r.practice_min), (0, 1, Some(42)));
    assert_eq!(r.ce_14_day, 15);
    assert!(rate(&r, now())
        .reasons
        .iter()
        .any(|m| m.contains("scores 42 of 100")));
    let d = s.org_detail(&a, t.a).await.unwrap();
    assert_eq!(d.assets.len(), 1);
    assert_eq!(d.assets[0].kind, AssetKind::Project);
    assert_eq!(d.assets[0].practice_score, Some(42));
    assert_eq!(d.assets[0].vulns, 21);

    // Naming another host is refused and stores nothing.
    let other = AssetRef {
        kind: AssetKind::Host,
        name: "someone-else".into(),
    };
    let err = s
        .submit_for(&ci, &other, &sub(SubmissionKind::Scan, "x1", &json(SCAN)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden), "{err:?}");
    // A project named like an existing host is a conflict, and rolls back.
    s.submit(&ci, &sub(SubmissionKind::Practice, "h1", &practice))
        .await
        .unwrap();
    let clash = AssetRef {
        kind: AssetKind::Project,
        name: "a-host".into(),
    };
    let err = s
        .submit_for(&ci, &clash, &sub(SubmissionKind::Scan, "x2", &json(SCAN)))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let subs = s.list_submissions(&a, 100).await.unwrap();
    assert!(subs
        .iter()
        .all(|r| r.client_id != "x1" && r.client_id != "x2"));
    let r = overview_of(s, &a, t.a).await;
    assert_eq!((r.hosts, r.projects), (1, 1));
}

#[tokio::test]
async fn search_finds_packages_ids_and_addresses_within_scope_only() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let ha = s.authenticate_host(&t.a_host_token).await.unwrap();
    let hb = s.authenticate_host(&t.b_host_token).await.unwrap();
    for (h, k) in [(&ha, "a"), (&hb, "b")] {
        s.submit(
            h,
            &sub(SubmissionKind::Scan, &format!("{k}-scan"), &json(SCAN)),
        )
        .await
        .unwrap();
    }
    s.submit(
        &hb,
        &sub(SubmissionKind::Detections, "b-hunt", &detections(None)),
    )
    .await
    .unwrap();
    s.submit(
        &ha,
        &sub(SubmissionKind::Sbom, "a-sbom", &json(common::SBOM)),
    )
    .await
    .unwrap();

    let all = site_admin();
    let member_a = Tenant::for_role(t.a, Role::Member);
    let member_b = Tenant::for_role(t.b, Role::Assessor);

    // By alias (case-insensitive), across organisations for the cyber unit.
    let g = s.search(&all, "cve-2023-49092").await.unwrap();
    assert_eq!(g.iter().map(|g| g.org).collect::<Vec<_>>(), [t.a, t.b]);
    assert!(
        matches!(&g[0].hits[0], Hit::Finding { vuln_id, package, .. } if vuln_id == "RUSTSEC-2023-0071" && package == "rsa")
    );
    // A member sees only their own organisation.
    let g = s.search(&member_a, "CVE-2023-49092").await.unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].org, t.a);
    // By package name.
    let g = s.search(&member_b, "Rustls-Webpki").await.unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].org, t.b);
    assert_eq!(g[0].hits.len(), 7);
    // SBOM components are found by name too (A's only).
    let comp = s.search(&all, "D3-Array").await.unwrap();
    assert_eq!(comp.len(), 1, "{comp:?}");
    assert!(matches!(&comp[0].hits[0], Hit::Component { .. }));
    assert!(s.search(&member_b, "D3-Array").await.unwrap().is_empty());
    // By IP address: B's detections; A's member finds nothing.
    let g = s.search(&all, "91.197.232.109").await.unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].org, t.b);
    assert_eq!(g[0].hits.len(), 2);
    assert!(s
        .search(&member_a, "91.197.232.109")
        .await
        .unwrap()
        .is_empty());
    // The canonical form of a mapped IPv6 address matches.
    assert_eq!(
        s.search(&all, "::FFFF:10.23.123.11").await.unwrap()[0]
            .hits
            .len(),
        2
    );
    // Nothing, and nonsense, find nothing.
    assert!(s.search(&all, "").await.unwrap().is_empty());
    assert!(s.search(&all, "' OR 1=1 --").await.unwrap().is_empty());
    // Another organisation's detail and package view are NotFound.
    assert!(matches!(
        s.org_detail(&member_a, t.b).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.package_assets(&member_a, t.b, "rsa").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.organisation(&member_a, t.b).await,
        Err(StoreError::NotFound)
    ));
}

/// "Which of our machines run the vulnerable OpenSSL?": a distribution's
/// binary package (libssl3) is found by its source package's name.
#[tokio::test]
async fn a_source_package_name_finds_its_binary_packages() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let host = s.authenticate_host(&t.a_host_token).await.unwrap();
    let mut scan = json(SCAN);
    let mut f = scan["findings"][0].clone();
    f["package"]["ecosystem"] = json!("Debian");
    f["package"]["distro"] = json!("12");
    f["package"]["name"] = json!("libssl3");
    f["package"]["source_name"] = json!("openssl");
    f["package"]["version"] = json!("3.0.11-1~deb12u1");
    f["id"] = json!("DSA-5532-1");
    f["aliases"] = json!(["CVE-2023-5363"]);
    scan["findings"] = json!([f]);
    s.submit(&host, &sub(SubmissionKind::Scan, "deb", &scan))
        .await
        .unwrap();
    let a = Tenant::for_role(t.a, Role::Member);
    let on = s.package_assets(&a, t.a, "OpenSSL").await.unwrap();
    assert_eq!(on.len(), 1);
    assert_eq!(
        (on[0].package.as_str(), on[0].asset.as_str()),
        ("libssl3", "a-host")
    );
    assert_eq!(on[0].upgrade_to.as_deref(), Some("0.41.0"));
    let g = s.search(&a, "openssl").await.unwrap();
    assert!(
        matches!(&g[0].hits[0], Hit::Finding { package, vuln_id, .. } if package == "libssl3" && vuln_id == "DSA-5532-1")
    );
    // Its own name finds it once, not twice.
    assert_eq!(s.search(&a, "libssl3").await.unwrap()[0].hits.len(), 1);
    assert_eq!(
        s.search(&a, "cve-2023-5363").await.unwrap()[0].hits.len(),
        1
    );
}
