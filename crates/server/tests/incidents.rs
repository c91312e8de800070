//! Incidents: the store (state machine, timeline, clocks, alerts, counts,
//! tenancy) and the pages (every route, every role, CSRF), on SQLite and,
//! with PORTCULLIS_TEST_POSTGRES_URL, on PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{fresh, site_admin, two_orgs};
use portcullis_server::store::incidents::{IncidentState, NewIncident, Severity, Stage};
use portcullis_server::store::{totp_code, SessionStage};
use portcullis_server::{
    router, AppState, NewSubmission, OrgId, Role, Store, StoreError, SubmissionKind, Tenant, User,
};
use serde_json::{json, Value};
use tower::ServiceExt;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn new_incident(title: &str, aware_at: Option<i64>) -> NewIncident {
    NewIncident {
        title: title.into(),
        description: "Ransomware note found on the file server; shares encrypted.".into(),
        severity: Some(Severity::High),
        affected_service: "Patient records".into(),
        aware_at,
        detected_at: None,
        occurred_at: None,
    }
}

/// A realistic `detections` submission body (the shape `portcullis hunt`
/// reports and the ingest API validates).
fn detections_body(time: &str) -> String {
    json!({
        "detections": [
            {
                "rule_id": "0f06a3a5-6a09-413f-8743-e6cf35561297",
                "title": "Failed logon burst from one source (password spraying)",
                "level": "high",
                "summary": "42 failed logons for 17 accounts from 203.0.113.7 within 5 minutes",
                "time": time,
                "host": "dc01.trust.local",
                "user": null,
                "source": "203.0.113.7",
                "tags": ["attack.credential_access", "attack.t1110.003"],
                "attack": ["T1110.003"],
                "correlation": null,
                "events": [{"file": "Security.evtx", "record": 88211}]
            },
            {
                "rule_id": "r-low",
                "title": "Informational",
                "level": "informational",
                "summary": "nothing much"
            }
        ]
    })
    .to_string()
}

#[tokio::test]
async fn lifecycle_state_machine_timeline_and_tenancy() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let a = Tenant::for_role(o.a, Role::OrgAdmin);
    let b = Tenant::for_role(o.b, Role::OrgAdmin);

    // Refusals change nothing.
    let mut bad = new_incident("  ", None);
    assert!(
        matches!(s.create_incident(&a, o.a, "x@a", &bad).await, Err(StoreError::Invalid(m)) if m.contains("title"))
    );
    bad = new_incident("ok", Some(now() + 86_400));
    assert!(
        matches!(s.create_incident(&a, o.a, "x@a", &bad).await, Err(StoreError::Invalid(m)) if m.contains("aware"))
    );
    bad = new_incident("ok", None);
    bad.severity = None;
    assert!(s.create_incident(&a, o.a, "x@a", &bad).await.is_err());
    // A scope cannot open an incident in another organisation.
    assert!(matches!(
        s.create_incident(&b, o.a, "x@b", &new_incident("t", None))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .list_incidents(&site_admin(), None)
        .await
        .unwrap()
        .is_empty());

    let t0 = now();
    let id = s
        .create_incident(&a, o.a, "admin@a", &new_incident("Ransomware on FS1", None))
        .await
        .unwrap();
    let inc = s.get_incident(&a, id).await.unwrap();
    assert_eq!(inc.state, IncidentState::Reported);
    assert!(
        (t0..=t0 + 5).contains(&inc.aware_at),
        "aware_at defaults to now"
    );
    assert_eq!(inc.due(Stage::Notification), inc.aware_at + 24 * 3600);
    assert_eq!(inc.due(Stage::Report), inc.aware_at + 72 * 3600);
    assert_eq!(inc.org_name, "Org A");

    // Not allowed: reported -> resolved; the message says what is.
    let err = s
        .transition_incident(&a, id, "admin@a", IncidentState::Resolved, "")
        .await
        .unwrap_err();
    match err {
        StoreError::Invalid(m) => {
            assert!(m.contains("cannot move to resolved"), "{m}");
            assert!(m.contains("triaged, closed"), "{m}");
        }
        other => panic!("{other:?}"),
    }
    // Another organisation: not found, for reads and writes.
    assert!(matches!(
        s.get_incident(&b, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.incident_timeline(&b, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.transition_incident(&b, id, "x@b", IncidentState::Triaged, "")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.add_incident_note(&b, id, "x@b", false, "hi").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.mark_incident_sent(&b, id, "x@b", Stage::Notification)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.set_incident_reportable(&b, id, "x@b", false, "no").await,
        Err(StoreError::NotFound)
    ));
    assert!(s.list_incidents(&b, None).await.unwrap().is_empty());
    assert!(s.incident_counts(&b).await.unwrap().is_empty());

    for (to, note) in [
        (IncidentState::Triaged, "Confirmed: real."),
        (IncidentState::Contained, "FS1 isolated."),
        (IncidentState::Resolved, "Restored from backup."),
        (IncidentState::Closed, ""),
    ] {
        s.transition_incident(&a, id, "admin@a", to, note)
            .await
            .unwrap();
    }
    s.add_incident_note(&a, id, "member@a", true, "IOC: 203.0.113.7")
        .await
        .unwrap();
    assert!(matches!(
        s.transition_incident(&a, id, "admin@a", IncidentState::Triaged, "").await,
        Err(StoreError::Invalid(m)) if m.contains("closed incident cannot change")
    ));
    assert_eq!(
        s.list_incidents(&a, Some(IncidentState::Closed))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s
        .list_incidents(&a, Some(IncidentState::Reported))
        .await
        .unwrap()
        .is_empty());

    let tl = s.incident_timeline(&a, id).await.unwrap();
    let kinds: Vec<&str> = tl.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["created", "state", "state", "state", "state", "evidence"]
    );
    assert_eq!(tl[1].from_state.as_deref(), Some("reported"));
    assert_eq!(tl[1].to_state.as_deref(), Some("triaged"));
    assert_eq!(tl[1].body, "Confirmed: real.");
    assert_eq!(tl[5].actor, "member@a");

    // The cyber unit sees it; the outbox got the opening and each change.
    assert_eq!(
        s.list_incidents(&site_admin(), None).await.unwrap().len(),
        1
    );
    let outbox = s.list_outbox(&site_admin(), 100).await.unwrap();
    let topics: Vec<&str> = outbox
        .iter()
        .map(|e| e.notification.topic.as_str())
        .collect();
    assert_eq!(
        topics.iter().filter(|t| **t == "incident.opened").count(),
        1
    );
    assert_eq!(topics.iter().filter(|t| **t == "incident.state").count(), 4);
    assert!(matches!(
        s.list_outbox(&a, 10).await,
        Err(StoreError::Forbidden)
    ));
}

#[tokio::test]
async fn clocks_alerts_once_per_deadline_and_counts() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let a = Tenant::for_role(o.a, Role::OrgAdmin);
    let t = now();
    // Aware 23 h 30 min ago: the notification is due within the hour.
    let aware = t - 23 * 3600 - 1800;
    let id = s
        .create_incident(&a, o.a, "admin@a", &new_incident("Phishing", Some(aware)))
        .await
        .unwrap();
    // A second, not reportable: no clocks, no alerts.
    let quiet = s
        .create_incident(
            &a,
            o.a,
            "admin@a",
            &new_incident("False alarm", Some(t - 100 * 3600)),
        )
        .await
        .unwrap();
    assert!(matches!(
        s.set_incident_reportable(&a, quiet, "admin@a", false, "  ").await,
        Err(StoreError::Invalid(m)) if m.contains("reason")
    ));
    s.set_incident_reportable(&a, quiet, "admin@a", false, "Test alert by the SOC")
        .await
        .unwrap();

    let inc = s.get_incident(&a, id).await.unwrap();
    assert!(matches!(
        inc.clock(Stage::Notification, t),
        portcullis_server::store::incidents::Clock::DueSoon { .. }
    ));
    assert!(matches!(
        inc.clock(Stage::Report, t),
        portcullis_server::store::incidents::Clock::Running { .. }
    ));

    let alerts = |s: &Store| {
        let s = s.clone();
        async move {
            s.list_outbox(&site_admin(), 1000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| {
                    e.notification.topic.starts_with("incident.notification.")
                        || e.notification.topic.starts_with("incident.report.")
                })
                .map(|e| e.notification.topic)
                .collect::<Vec<_>>()
        }
    };

    // Two processes at once raise it once.
    let (r1, r2) = tokio::join!(s.raise_deadline_alerts_at(t), s.raise_deadline_alerts_at(t));
    assert_eq!(r1.unwrap() + r2.unwrap(), 1);
    assert_eq!(alerts(s).await, ["incident.notification.due_soon"]);
    assert_eq!(s.raise_deadline_alerts_at(t + 60).await.unwrap(), 0);
    // Past the deadline: the overdue alert, once.
    let t2 = aware + 24 * 3600 + 10;
    assert_eq!(s.raise_deadline_alerts_at(t2).await.unwrap(), 1);
    assert_eq!(s.raise_deadline_alerts_at(t2 + 600).await.unwrap(), 0);
    let counts = s.incident_counts_at(&a, t2).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].org, counts[0].open, counts[0].overdue),
        (o.a, 2, 1)
    );
    // Sent late: the overdue count drops, the record says late.
    s.mark_incident_sent(&a, id, "admin@a", Stage::Notification)
        .await
        .unwrap();
    assert!(matches!(
        s.mark_incident_sent(&a, id, "admin@a", Stage::Notification).await,
        Err(StoreError::Conflict(m)) if m.contains("already recorded")
    ));
    let inc = s.get_incident(&a, id).await.unwrap();
    let sent = inc.notification_sent.clone().unwrap();
    assert_eq!(sent.by, "admin@a");
    // Sent now, before the simulated t2: on time as the clock sees it.
    assert!(matches!(
        inc.clock(Stage::Notification, t2),
        portcullis_server::store::incidents::Clock::Sent { on_time: true, .. }
    ));
    assert_eq!(s.incident_counts_at(&a, t2).await.unwrap()[0].overdue, 0);
    let tl = s.incident_timeline(&a, id).await.unwrap();
    let sent_ev = tl.iter().find(|e| e.kind == "sent").unwrap();
    assert!(
        sent_ev
            .body
            .contains("# Initial incident notification: INC-"),
        "{}",
        sent_ev.body
    );

    // The report: due soon at 71 h, overdue at 72 h; then nothing more.
    assert_eq!(
        s.raise_deadline_alerts_at(aware + 71 * 3600 + 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.raise_deadline_alerts_at(aware + 72 * 3600).await.unwrap(),
        1
    );
    assert_eq!(
        s.raise_deadline_alerts_at(aware + 200 * 3600)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        alerts(s).await,
        [
            "incident.report.overdue",
            "incident.report.due_soon",
            "incident.notification.overdue",
            "incident.notification.due_soon"
        ]
    );
    let c = s
        .incident_counts_at(&site_admin(), aware + 72 * 3600)
        .await
        .unwrap();
    assert_eq!((c[0].open, c[0].overdue), (2, 1));
    // Closing does not stop a missed clock; sending the report does.
    s.mark_incident_sent(&a, id, "admin@a", Stage::Report)
        .await
        .unwrap();
    let c = s
        .incident_counts_at(&site_admin(), aware + 72 * 3600)
        .await
        .unwrap();
    assert_eq!((c[0].open, c[0].overdue), (2, 0));
}

#[tokio::test]
async fn from_a_detection_attaches_rule_host_time_and_evidence() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let host = s.authenticate_host(&o.a_host_token).await.unwrap();
    let when = 1_763_800_000_i64; // 2025-11-22
    let (receipt, _) = s
        .submit(
            &host,
            &NewSubmission {
                kind: SubmissionKind::Detections,
                client_id: "hunt-1".into(),
                body: detections_body("2025-11-22T08:26:40.123456Z"),
            },
        )
        .await
        .unwrap();
    let (scan, _) = s
        .submit(
            &host,
            &NewSubmission {
                kind: SubmissionKind::Scan,
                client_id: "scan-1".into(),
                body: r#"{"findings":[]}"#.into(),
            },
        )
        .await
        .unwrap();
    let a = Tenant::for_role(o.a, Role::Member);
    let b = Tenant::for_role(o.b, Role::OrgAdmin);

    let recent = s.recent_detections(&a).await.unwrap();
    let high = recent
        .iter()
        .find(|d| d.level == "high")
        .expect("the high detection is listed");
    assert_eq!(high.host, "dc01.trust.local");
    assert_eq!(high.at, Some(when));
    assert_eq!(high.org, o.a);
    assert!(s.recent_detections(&b).await.unwrap().is_empty());

    // Out of range, another kind, another organisation: not found.
    for (scope, sub, idx) in [
        (&a, receipt.id, 2),
        (&a, receipt.id, -1),
        (&a, scan.id, 0),
        (&b, receipt.id, 0),
    ] {
        assert!(matches!(
            s.create_incident_from_detection(scope, "m@a", sub, idx, None)
                .await,
            Err(StoreError::NotFound)
        ));
    }
    let id = s
        .create_incident_from_detection(&a, "m@a", receipt.id, 0, None)
        .await
        .unwrap();
    let inc = s.get_incident(&a, id).await.unwrap();
    assert_eq!(
        inc.title,
        "Detection: Failed logon burst from one source (password spraying)"
    );
    assert_eq!(inc.severity, Severity::High);
    assert_eq!(inc.detected_at, Some(when));
    assert_eq!(inc.source, Some((receipt.id, 0)));
    let d = inc.detection.as_ref().unwrap();
    assert_eq!(d["host"], "dc01.trust.local");
    assert_eq!(d["rule_id"], "0f06a3a5-6a09-413f-8743-e6cf35561297");
    assert_eq!(d["events"][0]["record"], 88211);
    assert!(inc.description.contains("203.0.113.7"));
    // From the extracted `detections` table (the organisation page's
    // button): the first row of a fresh database is the first detection.
    assert!(matches!(
        s.create_incident_from_detection_row(&b, "x@b", 1, None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.create_incident_from_detection_row(&a, "m@a", 999_999, None)
            .await,
        Err(StoreError::NotFound)
    ));
    let row = s
        .create_incident_from_detection_row(&a, "m@a", 1, None)
        .await
        .unwrap();
    let row = s.get_incident(&a, row).await.unwrap();
    assert_eq!(row.severity, Severity::High);
    assert_eq!(row.detected_at, Some(when));
    let d = row.detection.as_ref().unwrap();
    assert_eq!(d["rule_id"], "0f06a3a5-6a09-413f-8743-e6cf35561297");
    assert_eq!(d["host"], "dc01.trust.local");
    assert_eq!(d["source"], "203.0.113.7");
    let low = s
        .create_incident_from_detection(&a, "m@a", receipt.id, 1, None)
        .await
        .unwrap();
    let low = s.get_incident(&a, low).await.unwrap();
    assert_eq!(low.severity, Severity::Low);
    // No time in the detection: the submission's receipt time.
    assert_eq!(low.detected_at, Some(receipt.received_at));
    assert_eq!(low.detection.as_ref().unwrap()["host"], "a-host");
}

// ---------------------------------------------------------------------------
// Pages.

struct Who {
    cookie: String,
    csrf: String,
}

/// A full session for a new user of `role` in `org` (MFA set up where the
/// role requires it), and the CSRF token the pages put in forms.
async fn user(store: &Store, org: OrgId, email: &str, role: Role) -> Who {
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
    assert_eq!(store.session_user(&secret).await.unwrap().id, id);
    Who {
        cookie: format!("portcullis_session={secret}"),
        csrf: portcullis_server::web::csrf_token(&secret),
    }
}

async fn get(app: &axum::Router, who: &Who, path: &str) -> (StatusCode, String, String) {
    let resp = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, &who.cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    (status, ct, String::from_utf8_lossy(&body).into_owned())
}

fn enc(s: &str) -> String {
    portcullis_server::web::percent_encode(s)
}

async fn post(
    app: &axum::Router,
    who: &Who,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let resp = app
        .clone()
        .oneshot(
            Request::post(path)
                .header(header::COOKIE, &who.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.join("&")))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let loc = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    (status, if loc.is_empty() { text } else { loc })
}

#[tokio::test]
async fn pages_every_route_every_role_and_csrf() {
    let env = fresh().await;
    let s = env.store.clone();
    let o = two_orgs(&s).await;
    let app = router(AppState::new(s.clone()));
    let member = user(&s, o.a, "member@a.example", Role::Member).await;
    let admin = user(&s, o.a, "admin@a.example", Role::OrgAdmin).await;
    let assessor = user(&s, o.a, "assessor@a.example", Role::Assessor).await;
    let analyst = user(&s, o.b, "analyst@unit.example", Role::Analyst).await;
    let other = user(&s, o.b, "admin@b.example", Role::OrgAdmin).await;
    let siteadm = user(&s, o.b, "site@unit.example", Role::SiteAdmin).await;

    // Not signed in: sent to sign in.
    let anon = Who {
        cookie: String::new(),
        csrf: String::new(),
    };
    let (st, _, _) = get(&app, &anon, "/incidents").await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // A member opens one, with hostile text (escaped everywhere).
    let evil = "<script>alert(1)</script> [x](javascript:alert(1))";
    let (st, loc) = post(
        &app,
        &member,
        "/incidents",
        &[
            ("csrf", &member.csrf),
            ("title", evil),
            ("severity", "critical"),
            ("affected_service", "Email"),
            (
                "description",
                "Mailbox rules forwarding to an outside address.",
            ),
            ("aware_at", ""),
            ("detected_at", "2025-11-20T08:00"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    let id: i64 = loc.trim_start_matches("/incidents/").parse().unwrap();
    let inc_path = format!("/incidents/{id}");
    let scope = Tenant::for_role(o.a, Role::Member);
    let inc = s.get_incident(&scope, id).await.unwrap();
    assert_eq!(inc.detected_at, Some(1_763_625_600));
    assert_eq!(inc.created_by, "member@a.example");

    // Bad input: a clear message, nothing stored.
    let (st, body) = post(
        &app,
        &member,
        "/incidents",
        &[
            ("csrf", &member.csrf),
            ("title", "x"),
            ("severity", "urgent"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("choose low, medium, high or critical"));
    let (st, body) = post(
        &app,
        &member,
        "/incidents",
        &[
            ("csrf", &member.csrf),
            ("title", "x"),
            ("severity", "low"),
            ("aware_at", "yesterday"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("2026-11-23T09:30"));
    assert_eq!(s.list_incidents(&scope, None).await.unwrap().len(), 1);

    // Reads: everyone in A and the analyst; B's admin gets 404.
    let docs = [
        inc_path.clone(),
        format!("{inc_path}/notification.md"),
        format!("{inc_path}/notification.json"),
        format!("{inc_path}/report.md"),
        format!("{inc_path}/report.json"),
        format!("{inc_path}/report.html"),
    ];
    for who in [&member, &admin, &assessor, &analyst, &siteadm] {
        for p in &docs {
            let (st, ct, body) = get(&app, who, p).await;
            assert_eq!(st, StatusCode::OK, "{p}");
            if !p.ends_with(".json") {
                assert!(!body.contains("<script>alert"), "{p} must escape");
            }
            if p.ends_with(".json") {
                assert!(ct.starts_with("application/json"));
                let v: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(v["entity"]["name"], "Org A");
                assert_eq!(v["title"], evil);
                assert_eq!(v["affected_service"], "Email");
            } else if p.ends_with(".md") {
                assert!(ct.starts_with("text/markdown"));
                assert!(body.contains("\\<script\\>"), "{body}");
                assert!(body.contains("| Entity | Org A |"));
                assert!(body.contains("| Affected service | Email |"));
            } else {
                assert!(body.contains("&lt;script&gt;"));
            }
        }
        let (st, _, body) = get(&app, who, "/incidents").await;
        assert_eq!(st, StatusCode::OK);
        assert!(body.contains(&format!("INC-{id}")));
    }
    let (_, _, body) = get(&app, &member, &format!("{inc_path}/report.md")).await;
    assert!(body.contains("# Full incident report: INC-"));
    assert!(body.contains("## Timeline"));
    let (_, _, body) = get(&app, &analyst, &format!("{inc_path}/notification.json")).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["schema"], "portcullis.incident-notification/v1");
    assert_eq!(v["detected_at"], "2025-11-20T08:00:00Z");
    for p in &docs {
        let (st, _, body) = get(&app, &other, p).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
        assert!(!body.contains("Org A"));
    }
    let (_, _, body) = get(&app, &other, "/incidents").await;
    assert!(!body.contains(&format!("INC-{id}")));
    let (st, _, _) = get(&app, &member, "/incidents/abc").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, body) = get(&app, &member, "/incidents?state=bogus").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("not one of"));
    let (st, _, body) = get(&app, &member, "/incidents?state=closed").await;
    assert_eq!(st, StatusCode::OK);
    assert!(body.contains("No incidents in this state"));

    // The new-incident page: open for all but assessors.
    for who in [&member, &admin, &analyst, &siteadm] {
        assert_eq!(get(&app, who, "/incidents/new").await.0, StatusCode::OK);
    }
    assert_eq!(
        get(&app, &assessor, "/incidents/new").await.0,
        StatusCode::FORBIDDEN
    );
    let (st, _) = post(
        &app,
        &assessor,
        "/incidents",
        &[
            ("csrf", &assessor.csrf),
            ("title", "x"),
            ("severity", "low"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // CSRF: wrong or missing token changes nothing, for every POST.
    let before = s.incident_timeline(&scope, id).await.unwrap().len();
    for (path, fields) in [
        (
            "/incidents".to_owned(),
            vec![("title", "x"), ("severity", "low")],
        ),
        (
            "/incidents/from-detection".to_owned(),
            vec![("submission", "1"), ("index", "0")],
        ),
        (format!("{inc_path}/transition"), vec![("to", "triaged")]),
        (format!("{inc_path}/notes"), vec![("text", "hello")]),
        (format!("{inc_path}/sent"), vec![("stage", "notification")]),
        (
            format!("{inc_path}/reportable"),
            vec![("reportable", "no"), ("reason", "x")],
        ),
    ] {
        for csrf in ["", "0000", member.csrf.as_str()] {
            let mut f = fields.clone();
            f.push(("csrf", csrf));
            // The admin's form with someone else's (the member's) token, or none.
            let (st, _) = post(&app, &admin, &path, &f).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{path} with csrf {csrf:?}");
        }
    }
    assert_eq!(s.incident_timeline(&scope, id).await.unwrap().len(), before);
    assert_eq!(
        s.list_incidents(&site_admin(), None).await.unwrap().len(),
        1
    );

    // Notes: members, admins, analysts; not assessors; not B.
    for who in [&member, &admin, &analyst, &siteadm] {
        let (st, loc) = post(
            &app,
            who,
            &format!("{inc_path}/notes"),
            &[("csrf", &who.csrf), ("kind", "note"), ("text", "seen")],
        )
        .await;
        assert_eq!(st, StatusCode::SEE_OTHER, "{loc}");
    }
    let (st, _) = post(
        &app,
        &assessor,
        &format!("{inc_path}/notes"),
        &[("csrf", &assessor.csrf), ("text", "x")],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = post(
        &app,
        &other,
        &format!("{inc_path}/notes"),
        &[("csrf", &other.csrf), ("text", "x")],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, body) = post(
        &app,
        &member,
        &format!("{inc_path}/notes"),
        &[("csrf", &member.csrf), ("text", "  ")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("required"));

    // Transitions: members may not; the analyst may triage only; the
    // admin may do the rest; B's admin gets 404; bad moves are explained.
    let t = format!("{inc_path}/transition");
    assert_eq!(
        post(
            &app,
            &member,
            &t,
            &[("csrf", &member.csrf), ("to", "triaged")]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &assessor,
            &t,
            &[("csrf", &assessor.csrf), ("to", "triaged")]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &other,
            &t,
            &[("csrf", &other.csrf), ("to", "triaged")]
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (st, body) = post(
        &app,
        &admin,
        &t,
        &[("csrf", &admin.csrf), ("to", "resolved")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("cannot move to resolved"), "{body}");
    assert_eq!(
        post(
            &app,
            &analyst,
            &t,
            &[("csrf", &analyst.csrf), ("to", "contained")]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    for to in ["contained", "closed"] {
        let (st, _) = post(&app, &siteadm, &t, &[("csrf", &siteadm.csrf), ("to", to)]).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "site admin to {to}");
    }
    assert_eq!(
        post(
            &app,
            &analyst,
            &t,
            &[
                ("csrf", &analyst.csrf),
                ("to", "triaged"),
                ("note", "Looks real")
            ]
        )
        .await
        .0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post(
            &app,
            &admin,
            &t,
            &[("csrf", &admin.csrf), ("to", "contained")]
        )
        .await
        .0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        s.get_incident(&scope, id).await.unwrap().state,
        IncidentState::Contained
    );

    // Recording as sent: admins and analysts; not members.
    let sent = format!("{inc_path}/sent");
    assert_eq!(
        post(
            &app,
            &member,
            &sent,
            &[("csrf", &member.csrf), ("stage", "notification")]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &other,
            &sent,
            &[("csrf", &other.csrf), ("stage", "notification")]
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &app,
            &admin,
            &sent,
            &[("csrf", &admin.csrf), ("stage", "notification")]
        )
        .await
        .0,
        StatusCode::SEE_OTHER
    );
    let (st, body) = post(
        &app,
        &analyst,
        &sent,
        &[("csrf", &analyst.csrf), ("stage", "notification")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("already recorded as sent"));
    let (_, _, page) = get(&app, &member, &inc_path).await;
    assert!(page.contains("Recorded as sent"));
    assert!(page.contains("admin@a.example"));
    assert!(page.contains("state triaged → contained"));
    // The member sees no transition or record buttons; the admin does.
    assert!(!page.contains("Move to resolved"));
    let (_, _, page) = get(&app, &admin, &inc_path).await;
    assert!(page.contains("Move to resolved"));
    assert!(page.contains("Record the full incident report as sent now"));

    // Reportable flag.
    let rp = format!("{inc_path}/reportable");
    assert_eq!(
        post(
            &app,
            &member,
            &rp,
            &[
                ("csrf", &member.csrf),
                ("reportable", "no"),
                ("reason", "x")
            ]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &admin,
            &rp,
            &[
                ("csrf", &admin.csrf),
                ("reportable", "no"),
                ("reason", "Internal test")
            ]
        )
        .await
        .0,
        StatusCode::SEE_OTHER
    );
    assert!(!s.get_incident(&scope, id).await.unwrap().reportable);

    // From a detection, by button.
    let host = s.authenticate_host(&o.a_host_token).await.unwrap();
    let (receipt, _) = s
        .submit(
            &host,
            &NewSubmission {
                kind: SubmissionKind::Detections,
                client_id: "h".into(),
                body: detections_body("2025-11-22T08:26:40Z"),
            },
        )
        .await
        .unwrap();
    let (_, _, newpage) = get(&app, &member, "/incidents/new").await;
    assert!(newpage.contains("password spraying"));
    let sid = receipt.id.to_string();
    assert_eq!(
        post(
            &app,
            &other,
            "/incidents/from-detection",
            &[("csrf", &other.csrf), ("submission", &sid), ("index", "0")]
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &app,
            &assessor,
            "/incidents/from-detection",
            &[
                ("csrf", &assessor.csrf),
                ("submission", &sid),
                ("index", "0")
            ]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (st, loc) = post(
        &app,
        &member,
        "/incidents/from-detection",
        &[("csrf", &member.csrf), ("submission", &sid), ("index", "0")],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, _, page) = get(&app, &analyst, &loc).await;
    assert!(page.contains("dc01.trust.local"));
    assert!(page.contains("Detection: Failed logon burst"));
    // The new-incident page's button posts the detection's ID.
    let det = s.recent_detections(&scope).await.unwrap();
    let det = det
        .iter()
        .find(|d| d.level == "high")
        .unwrap()
        .detection_id
        .to_string();
    assert!(newpage.contains(&format!("name=\"detection\" value=\"{det}\"")));
    assert_eq!(
        post(
            &app,
            &other,
            "/incidents/from-detection",
            &[("csrf", &other.csrf), ("detection", &det)]
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (st, loc) = post(
        &app,
        &admin,
        "/incidents/from-detection",
        &[("csrf", &admin.csrf), ("detection", &det)],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, _, page) = get(&app, &member, &loc).await;
    assert!(page.contains("203.0.113.7"));

    // The analyst opens one for organisation B; B's admin sees it, A does not.
    let (st, loc) = post(
        &app,
        &analyst,
        "/incidents",
        &[
            ("csrf", &analyst.csrf),
            ("org", &o.b.0.to_string()),
            ("title", "DDoS"),
            ("severity", "medium"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(get(&app, &other, &loc).await.0, StatusCode::OK);
    assert_eq!(get(&app, &admin, &loc).await.0, StatusCode::NOT_FOUND);
    // A member cannot place one in another organisation by editing the form.
    let (st, loc) = post(
        &app,
        &member,
        "/incidents",
        &[
            ("csrf", &member.csrf),
            ("org", &o.b.0.to_string()),
            ("title", "mine"),
            ("severity", "low"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let mine: i64 = loc.trim_start_matches("/incidents/").parse().unwrap();
    assert_eq!(s.get_incident(&site_admin(), mine).await.unwrap().org, o.a);
}

fn multipart(csrf: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----portcullis-test-7d91";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/html\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &axum::Router,
    who: &Who,
    path: &str,
    csrf: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, String) {
    let (ct, body) = multipart(csrf, name, bytes);
    let resp = app
        .clone()
        .oneshot(
            Request::post(path)
                .header(header::COOKIE, &who.cookie)
                .header(header::CONTENT_TYPE, ct)
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let st = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    (st, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn evidence_files_live_in_the_database_and_download_as_attachments() {
    let env = fresh().await;
    let s = env.store.clone();
    let o = two_orgs(&s).await;
    let app = router(AppState::new(s.clone()));
    let member = user(&s, o.a, "m@a.example", Role::Member).await;
    let assessor = user(&s, o.a, "as@a.example", Role::Assessor).await;
    let other = user(&s, o.b, "admin@b.example", Role::OrgAdmin).await;
    let scope = Tenant::for_role(o.a, Role::Member);
    let id = s
        .create_incident(&scope, o.a, "m@a.example", &new_incident("Phishing", None))
        .await
        .unwrap();
    let files = format!("/incidents/{id}/files");
    let content = b"<script>alert(1)</script>\nReceived: from mail.evil.example\x00\xff";

    // Wrong CSRF, assessor, another organisation, too large: nothing stored.
    assert_eq!(
        upload(&app, &member, &files, "nope", "x.eml", content)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&app, &assessor, &files, &assessor.csrf, "x.eml", content)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&app, &other, &files, &other.csrf, "x.eml", content)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let big = vec![b'a'; portcullis_server::store::incidents::MAX_FILE_BYTES + 1];
    let (st, body) = upload(&app, &member, &files, &member.csrf, "big.log", &big).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(body.contains("over the limit"), "{body}");
    assert!(s.list_incident_files(&scope, id).await.unwrap().is_empty());

    // A member attaches a file; its name cannot point anywhere on disk.
    let (st, _) = upload(
        &app,
        &member,
        &files,
        &member.csrf,
        "../../etc/headers.eml",
        content,
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let list = s.list_incident_files(&scope, id).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "headers.eml");
    assert_eq!(list[0].size, content.len() as i64);
    let tl = s.incident_timeline(&scope, id).await.unwrap();
    assert!(tl.last().unwrap().body.contains(&list[0].sha256));

    // Everyone in A may download it, as opaque bytes; B gets 404.
    let path = format!("/incidents/{id}/files/{}", list[0].id);
    for who in [&member, &assessor] {
        let resp = app
            .clone()
            .oneshot(
                Request::get(&path)
                    .header(header::COOKIE, &who.cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/octet-stream"
        );
        assert_eq!(
            resp.headers()[header::CONTENT_DISPOSITION],
            "attachment; filename=\"headers.eml\""
        );
        assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let got = axum::body::to_bytes(resp.into_body(), 4 << 20)
            .await
            .unwrap();
        assert_eq!(&got[..], &content[..]);
    }
    assert_eq!(get(&app, &other, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &member, &format!("/incidents/{id}/files/999"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, _, page) = get(&app, &assessor, &format!("/incidents/{id}")).await;
    assert!(page.contains("headers.eml"));
    assert!(!page.contains("Attach a file"), "assessors read only");

    // With PORTCULLIS_TEST_DUMP_HTML=DIR, the pages are written there (with
    // the stylesheet) for a look in a browser or for screenshots.
    if let Ok(dir) = std::env::var("PORTCULLIS_TEST_DUMP_HTML") {
        s.add_incident_note(
            &scope,
            id,
            "m@a.example",
            false,
            "Blocked the sender domain.",
        )
        .await
        .unwrap();
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        let (_, _, css) = get(&app, &member, "/static/app.css").await;
        std::fs::write(dir.join("app.css"), css).unwrap();
        for (file, path) in [
            ("incidents.html", "/incidents".to_owned()),
            ("incident.html", format!("/incidents/{id}")),
            ("report.html", format!("/incidents/{id}/report.html")),
            ("new.html", "/incidents/new".to_owned()),
        ] {
            let (_, _, html) = get(&app, &member, &path).await;
            std::fs::write(dir.join(file), html.replace("/static/app.css", "app.css")).unwrap();
        }
    }
}
