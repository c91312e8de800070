//! Risk pages over HTTP through the real router: the overview, the
//! organisation page, the package view and search, for every role and for
//! another organisation's users; HTML escaping of hostile names.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{fresh, site_admin, two_orgs};
use portcullis_server::store::{totp_code, AssetKind, AssetRef, SessionStage};
use portcullis_server::{
    router, AppState, NewSubmission, OrgId, Role, Sector, Store, SubmissionKind, User,
};
use serde_json::{json, Value};
use tower::ServiceExt;

const SCAN: &str = include_str!("fixtures/risk/scan-cargo.json");
const ASSESS: &str = include_str!("fixtures/risk/assess-debian12.json");

const HOSTILE: &str = "<script>alert(1)</script>";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A full session cookie for a new user of `role` in `org` (MFA set up
/// where the role requires it).
async fn session(store: &Store, org: OrgId, email: &str, role: Role) -> String {
    let id = store
        .create_user(&site_admin(), org, email, "correct horse battery", role)
        .await
        .unwrap();
    let u = User {
        id,
        org,
        email: email.into(),
        role,
    };
    let (mut secret, stage) = store.start_session(&u, None).await.unwrap();
    if stage == SessionStage::Setup {
        let totp = store.totp_setup_secret(&u).await.unwrap().unwrap();
        let code = totp_code(&totp, now()).unwrap();
        secret = store
            .confirm_totp(&secret, &code, None)
            .await
            .unwrap()
            .unwrap()
            .0;
    }
    format!("portcullis_session={secret}")
}

async fn get(app: &axum::Router, cookie: Option<&str>, path: &str) -> (StatusCode, String, String) {
    let mut req = Request::get(path);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .unwrap();
    (status, location, String::from_utf8(body.to_vec()).unwrap())
}

fn sub(kind: SubmissionKind, key: &str, body: &Value) -> NewSubmission {
    NewSubmission {
        kind,
        client_id: key.into(),
        body: body.to_string(),
    }
}

/// The position of `needle` in `hay`, or a failure naming it.
fn pos(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not on the page"))
}

#[tokio::test]
async fn pages_by_role_tenancy_and_escaping() {
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let cyber = s
        .create_organisation(&site_admin(), "Cyber Unit", Sector::CentralGovernment, 40)
        .await
        .unwrap();

    // A: a real scan, a real assessment, a recent high detection.
    let ha = s.authenticate_host(&t.a_host_token).await.unwrap();
    let scan: Value = serde_json::from_str(SCAN).unwrap();
    s.submit(&ha, &sub(SubmissionKind::Scan, "a-scan", &scan))
        .await
        .unwrap();
    let assess: Value = serde_json::from_str(ASSESS).unwrap();
    s.submit(&ha, &sub(SubmissionKind::Assessment, "a-assess", &assess))
        .await
        .unwrap();
    let det = json!({"detections": [{"rule_id": "r1", "title": "Password spray", "level": "high",
        "summary": "spray", "time": null, "host": "a-host", "user": null, "source": "203.0.113.9"}]});
    s.submit(&ha, &sub(SubmissionKind::Detections, "a-hunt", &det))
        .await
        .unwrap();

    // B: a host enrolled with a hostile name, a hostile package, a hostile project.
    let (_, enrol) = s
        .create_enrolment_token(&site_admin(), t.b, "x")
        .await
        .unwrap();
    let (hb, _) = s.enrol(&enrol, &format!("host-{HOSTILE}")).await.unwrap();
    let mut evil = scan.clone();
    let mut f = evil["findings"][4].clone();
    f["package"]["name"] = json!(format!("pkg{HOSTILE}"));
    f["summary"] = json!(HOSTILE);
    evil["findings"] = json!([f]);
    s.submit(&hb, &sub(SubmissionKind::Scan, "b-scan", &evil))
        .await
        .unwrap();
    let project = AssetRef {
        kind: AssetKind::Project,
        name: format!("github.com/{HOSTILE}"),
    };
    let practice = json!({"schema": "portcullis.practice/v1", "score": 80, "principles": []});
    s.submit_for(
        &hb,
        &project,
        &sub(SubmissionKind::Practice, "b-prac", &practice),
    )
    .await
    .unwrap();

    let analyst = session(s, cyber, "analyst@cyber.example", Role::Analyst).await;
    let admin = session(s, cyber, "admin@cyber.example", Role::SiteAdmin).await;
    let member_a = session(s, t.a, "member@a.example", Role::Member).await;
    let assessor_a = session(s, t.a, "assessor@a.example", Role::Assessor).await;
    let org_admin_b = session(s, t.b, "admin@b.example", Role::OrgAdmin).await;
    let app = router(AppState::new(s.clone()));
    let (a, b) = (t.a.0, t.b.0);

    // Not signed in: every page redirects to sign-in.
    for path in [
        "/",
        &format!("/orgs/{a}"),
        "/search?q=rsa",
        &format!("/orgs/{a}/packages?name=rsa"),
    ] {
        let (st, loc, _) = get(&app, None, path).await;
        assert!(st.is_redirection(), "{path}: {st}");
        assert!(loc.starts_with("/login"), "{path}: {loc}");
    }

    // The cyber unit's overview: every organisation, heat map, trends.
    for cookie in [&analyst, &admin] {
        let (st, _, page) = get(&app, Some(cookie), "/").await;
        assert_eq!(st, StatusCode::OK);
        pos(&page, "<h1>Overview</h1>");
        pos(&page, "Org A");
        pos(&page, "Org B");
        pos(&page, "Controls heat map");
        pos(&page, "<svg");
        pos(&page, "14-day-rule breaches");
    }
    let (_, _, page) = get(&app, Some(&analyst), "/").await;
    // A's row: red, not ready, 0 critical, 15 breaches, 1 detection in 24 h.
    let row_a = &page[pos(&page, &format!("href=\"/orgs/{a}\""))..];
    let row_a = &row_a[..pos(row_a, "</tr>")];
    assert!(row_a.contains("badge red"), "{row_a}");
    assert!(row_a.contains("Not ready"), "{row_a}");
    let cells: Vec<&str> = row_a
        .match_indices("<td class=\"num\">")
        .map(|(i, _)| &row_a[i + 16..])
        .map(|c| &c[..c.find('<').unwrap()])
        .collect();
    assert_eq!(&cells[..4], ["0", "15", "1", "0"], "{row_a}");
    // Heat map: malware protection 100% failed for A.
    pos(&page, "class=\"heat heat-4\">100%");

    // Sorting by 14-day breaches, both ways.
    let (_, _, desc) = get(&app, Some(&analyst), "/?sort=ce14&dir=desc").await;
    let table = &desc[..pos(&desc, "Controls heat map")];
    assert!(pos(table, "Org A") < pos(table, "Org B"));
    let (_, _, asc) = get(&app, Some(&analyst), "/?sort=ce14&dir=asc").await;
    let table = &asc[..pos(&asc, "Controls heat map")];
    assert!(pos(table, "Org B") < pos(table, "Org A"));
    pos(&asc, "aria-sort=\"ascending\"");
    // Filtering by sector: B is a GP practice.
    let (st, _, gp) = get(&app, Some(&analyst), "/?sector=gp_practice").await;
    assert_eq!(st, StatusCode::OK);
    pos(&gp, "Org B");
    assert!(!gp.contains("Org A"));
    // Junk parameters are ignored, not errors.
    let (st, _, _) = get(&app, Some(&analyst), "/?sort=%3Cx%3E&dir=up&sector=nope").await;
    assert_eq!(st, StatusCode::OK);

    // The organisation page: why red, failing controls with fixes, packages, detections.
    let (st, _, org_a) = get(&app, Some(&analyst), &format!("/orgs/{a}")).await;
    assert_eq!(st, StatusCode::OK);
    pos(&org_a, "Why this organisation is red");
    pos(
        &org_a,
        "15 vulnerabilities break the Cyber Essentials 14-day rule",
    );
    pos(&org_a, "1 high or critical detection in the last 24 hours.");
    pos(&org_a, "linux.auth.lockout");
    pos(&org_a, "faillock");
    pos(
        &org_a,
        &format!("href=\"/orgs/{a}/packages?name=rustls-webpki\""),
    );
    pos(&org_a, "Password spray");
    pos(&org_a, "href=\"/search?q=203.0.113.9\"");
    pos(&org_a, "href=\"/incidents\"");
    pos(&org_a, "href=\"/certification\"");

    // Hostile names come out escaped everywhere.
    let (st, _, org_b) = get(&app, Some(&analyst), &format!("/orgs/{b}")).await;
    assert_eq!(st, StatusCode::OK);
    let (_, _, pkg_b) = get(
        &app,
        Some(&analyst),
        &format!("/orgs/{b}/packages?name=pkg%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    )
    .await;
    let (_, _, search_b) = get(
        &app,
        Some(&analyst),
        "/search?q=pkg%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    )
    .await;
    for page in [&org_b, &pkg_b, &search_b] {
        assert!(!page.contains("<script>"), "unescaped: {page}");
        pos(page, "pkg&lt;script&gt;alert(1)&lt;/script&gt;");
    }
    pos(&org_b, "host-&lt;script&gt;");
    pos(&org_b, "github.com/&lt;script&gt;");
    pos(&search_b, "host-&lt;script&gt;alert(1)&lt;/script&gt;");

    // The package view: which of A's machines run rsa.
    let (st, _, view) = get(
        &app,
        Some(&member_a),
        &format!("/orgs/{a}/packages?name=rsa"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    pos(&view, "a-host");
    pos(&view, "0.9.10");
    pos(&view, "RUSTSEC-2023-0071");

    // An organisation's users: `/` is their organisation's page; another's is 404.
    for cookie in [&member_a, &assessor_a] {
        let (st, _, home) = get(&app, Some(cookie), "/").await;
        assert_eq!(st, StatusCode::OK);
        pos(&home, "Why this organisation is red");
        pos(&home, "Org A");
        assert!(!home.contains("Org B"));
        assert!(!home.contains("Controls heat map"));
        let (st, _, _) = get(&app, Some(cookie), &format!("/orgs/{a}")).await;
        assert_eq!(st, StatusCode::OK);
        for path in [
            format!("/orgs/{b}"),
            format!("/orgs/{b}/packages?name=rsa"),
            format!("/orgs/{}", cyber.0),
            "/orgs/999999".to_owned(),
            "/orgs/not-a-number".to_owned(),
        ] {
            let (st, _, body) = get(&app, Some(cookie), &path).await;
            assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
            assert!(!body.contains("Org B"));
        }
    }
    let (_, _, home_b) = get(&app, Some(&org_admin_b), "/").await;
    pos(&home_b, "Org B");
    assert!(!home_b.contains("Org A"));
    let (st, _, _) = get(&app, Some(&org_admin_b), &format!("/orgs/{a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The package view needs a name.
    let (st, _, _) = get(&app, Some(&member_a), &format!("/orgs/{a}/packages")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Search tenancy: RUSTSEC-2023-0071 (alias CVE-2023-49092) is in both organisations.
    let (st, _, all) = get(&app, Some(&analyst), "/search?q=CVE-2023-49092").await;
    assert_eq!(st, StatusCode::OK);
    pos(&all, "Org A");
    pos(&all, "Org B");
    pos(&all, "in 2 organisations");
    for (cookie, mine, theirs) in [
        (&member_a, "Org A", "Org B"),
        (&assessor_a, "Org A", "Org B"),
        (&org_admin_b, "Org B", "Org A"),
    ] {
        let (st, _, found) = get(&app, Some(cookie), "/search?q=rustsec-2023-0071").await;
        assert_eq!(st, StatusCode::OK);
        pos(&found, mine);
        assert!(!found.contains(theirs), "{found}");
    }
    // By IP: A's detection, not visible to B.
    let (_, _, ip) = get(&app, Some(&admin), "/search?q=203.0.113.9").await;
    pos(&ip, "Password spray");
    let (_, _, ip_b) = get(&app, Some(&org_admin_b), "/search?q=203.0.113.9").await;
    assert!(!ip_b.contains("Password spray"));
    pos(&ip_b, "0 results");
    // The query is echoed escaped; an empty query shows the form only.
    let (st, _, echo) = get(&app, Some(&member_a), "/search?q=%3Cscript%3E").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!echo.contains("<script>"));
    pos(&echo, "value=\"&lt;script&gt;\"");
    let (st, _, empty) = get(&app, Some(&member_a), "/search").await;
    assert_eq!(st, StatusCode::OK);
    pos(&empty, "<label for=\"q\">");
    let long = "x".repeat(201);
    let (st, _, _) = get(&app, Some(&member_a), &format!("/search?q={long}")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}
