//! Certification pages through the real router with real sessions (signed
//! in through the real pages, MFA included): every route for every role and
//! for another organisation's users, CSRF, escaping, evidence shown, and a
//! certification from draft through a clarification round to the printable
//! certificate.

#[path = "auth_util/mod.rs"]
mod auth_util;
mod common;

use auth_util::{get, post, sign_in, Session};
use axum::http::StatusCode;
use common::{fresh, two_orgs};
use portcullis_server::web::certification::{questionnaire, QuestionKind};
use portcullis_server::{router, AppState, NewSubmission, OrgId, Role, Sector, SubmissionKind};

const DEBIAN_DEFAULTS: &str = include_str!("fixtures/certification/assess-debian12-defaults.json");
const PW: &str = "correct horse battery staple";

struct People {
    a_member: Session,
    a_admin: Session,
    b_member: Session,
    assessor: Session,
    analyst: Session,
    site_admin: Session,
}

async fn people(
    app: &axum::Router,
    store: &portcullis_server::Store,
    a: OrgId,
    b: OrgId,
) -> People {
    let all = common::site_admin();
    let unit = store
        .create_organisation(&all, "Cyber unit", Sector::CentralGovernment, 20)
        .await
        .unwrap();
    for (org, email, role) in [
        (a, "member@a.example", Role::Member),
        (a, "admin@a.example", Role::OrgAdmin),
        (b, "member@b.example", Role::Member),
        (b, "assessor@b.example", Role::Assessor),
        (unit, "analyst@unit.example", Role::Analyst),
        (unit, "admin@unit.example", Role::SiteAdmin),
    ] {
        store.create_user(&all, org, email, PW, role).await.unwrap();
    }
    People {
        a_member: sign_in(app, "member@a.example", PW, None).await,
        a_admin: sign_in(app, "admin@a.example", PW, None).await,
        b_member: sign_in(app, "member@b.example", PW, None).await,
        assessor: sign_in(app, "assessor@b.example", PW, None).await,
        analyst: sign_in(app, "analyst@unit.example", PW, None).await,
        site_admin: sign_in(app, "admin@unit.example", PW, None).await,
    }
}

fn c(s: &Session) -> Option<&str> {
    Some(s.cookie.as_str())
}

#[tokio::test]
async fn certification_pages_for_every_role_from_draft_to_printed_certificate() {
    let env = fresh().await;
    let store = env.store.clone();
    let orgs = two_orgs(&store).await;
    // Org A's host reports a real `portcullis assess` run.
    let host = store.authenticate_host(&orgs.a_host_token).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(DEBIAN_DEFAULTS).unwrap();
    store
        .submit(
            &host,
            &NewSubmission {
                kind: SubmissionKind::Assessment,
                client_id: "assess-1".into(),
                body: serde_json::json!({ "results": v["checks"] }).to_string(),
            },
        )
        .await
        .unwrap();
    let app = router(AppState::new(store.clone()));
    let p = people(&app, &store, orgs.a, orgs.b).await;

    // Not signed in: pages redirect to sign-in, posts are refused.
    let r = get(&app, "/certification", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location.unwrap().starts_with("/login"));
    assert_eq!(
        post(&app, "/certification", None, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Every role sees its own list.
    for s in [
        &p.a_member,
        &p.a_admin,
        &p.b_member,
        &p.assessor,
        &p.analyst,
        &p.site_admin,
    ] {
        let r = get(&app, "/certification", c(s)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let r = get(&app, "/certification", c(&p.a_admin)).await;
    assert!(r.body.contains("Start a self-assessment"));
    let r = get(&app, "/certification", c(&p.a_member)).await;
    assert!(!r.body.contains("Start a self-assessment"));

    // Only an org admin opens, and only with the session's CSRF token.
    for s in [&p.a_member, &p.assessor, &p.analyst, &p.site_admin] {
        let r = post(&app, "/certification", c(s), &[("csrf", &s.csrf)]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let r = post(&app, "/certification", c(&p.a_admin), &[("csrf", "wrong")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &app,
        "/certification",
        c(&p.a_admin),
        &[("csrf", &p.b_member.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(get(&app, "/certification", c(&p.analyst))
        .await
        .body
        .contains("None."));
    let r = post(
        &app,
        "/certification",
        c(&p.a_admin),
        &[("csrf", &p.a_admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let url = r.location.unwrap();
    let id: i64 = url.rsplit('/').next().unwrap().parse().unwrap();

    // The draft: questions grouped by control, evidence shown, answer form.
    let r = get(&app, &url, c(&p.a_member)).await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Firewalls",
        "Malware protection",
        "a-host",
        "linux.firewall.default_deny",
        "Save answers",
        "Filled in from agent evidence",
    ] {
        assert!(r.body.contains(text), "draft page shows {text}");
    }
    assert!(
        !r.body.contains("Submit for assessment"),
        "members do not submit"
    );
    assert!(get(&app, &url, c(&p.a_admin))
        .await
        .body
        .contains("Submit for assessment"));
    // Drafts: invisible to another organisation and to assessors; the cyber unit sees them.
    assert_eq!(
        get(&app, &url, c(&p.b_member)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &url, c(&p.assessor)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!get(&app, "/certification", c(&p.assessor))
        .await
        .body
        .contains(&format!("#{id}")));
    let r = get(&app, &url, c(&p.analyst)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        !r.body.contains("Save answers"),
        "the cyber unit reads, it does not answer"
    );
    assert_eq!(
        get(&app, &url, c(&p.site_admin)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/certification/999999", c(&p.analyst))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Answers: members of A only, with CSRF; escaping of what they type.
    let answers_url = format!("{url}/answers");
    let hostile = "<script>alert(1)</script> & Co";
    let r = post(
        &app,
        &answers_url,
        c(&p.a_member),
        &[("csrf", "nope"), ("a.A1.1", hostile), ("n.A1.1", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!get(&app, &url, c(&p.a_member))
        .await
        .body
        .contains("&lt;script&gt;"));
    for s in [&p.b_member] {
        let r = post(
            &app,
            &answers_url,
            c(s),
            &[("csrf", &s.csrf), ("a.A1.1", "x"), ("n.A1.1", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    for s in [&p.assessor, &p.analyst, &p.site_admin] {
        let r = post(
            &app,
            &answers_url,
            c(s),
            &[("csrf", &s.csrf), ("a.A1.1", "x"), ("n.A1.1", "")],
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let mut fields: Vec<(String, String)> = vec![("csrf".into(), p.a_member.csrf.clone())];
    for q in &questionnaire().unwrap().questions {
        let a = match q.kind {
            QuestionKind::YesNo => "yes".to_owned(),
            QuestionKind::Text if q.id == "A1.1" => hostile.to_owned(),
            QuestionKind::Text => format!("answer {}", q.id),
        };
        fields.push((format!("a.{}", q.id), a));
        fields.push((format!("n.{}", q.id), String::new()));
    }
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = post(&app, &answers_url, c(&p.a_member), &refs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = get(&app, &url, c(&p.a_member)).await;
    assert!(r
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(!r.body.contains(hostile));
    // A person's answer that contradicts the agents is flagged.
    assert!(r.body.contains("differs from what the agents show"));
    // Refresh: members of A only.
    let r = post(
        &app,
        &format!("{url}/refresh"),
        c(&p.b_member),
        &[("csrf", &p.b_member.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        &app,
        &format!("{url}/refresh"),
        c(&p.a_member),
        &[("csrf", &p.a_member.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Submit: the org admin only.
    let submit_url = format!("{url}/submit");
    let r = post(
        &app,
        &submit_url,
        c(&p.a_member),
        &[("csrf", &p.a_member.csrf), ("declared_by", "Jo")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &app,
        &submit_url,
        c(&p.a_admin),
        &[("csrf", &p.a_admin.csrf), ("declared_by", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(
        &app,
        &submit_url,
        c(&p.a_admin),
        &[
            ("csrf", &p.a_admin.csrf),
            ("declared_by", "Jo Bloggs, director"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The assessor now sees it in the queue, with a review form; B's member still does not.
    let r = get(&app, "/certification", c(&p.assessor)).await;
    assert!(r.body.contains(&format!("#{id}")) && r.body.contains("Org A"));
    let r = get(&app, &url, c(&p.assessor)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Ask for clarification") && r.body.contains("Record the decision"));
    assert!(r.body.contains("a-host"));
    // The summary points the assessor at answers that contradict the agents.
    assert!(r.body.contains("Answers that differ from the agents"));
    assert!(r.body.contains("href=\"#q-A4.1\""));
    assert_eq!(
        get(&app, &url, c(&p.b_member)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!get(&app, &url, c(&p.a_admin))
        .await
        .body
        .contains("Record the decision"));

    // Clarification: assessors only, CSRF checked.
    let clarify_url = format!("{url}/clarify");
    let ask = [
        ("question", "A4.2"),
        ("request", "Which router? When was its password changed?"),
    ];
    for s in [&p.a_admin, &p.analyst, &p.site_admin, &p.b_member] {
        let mut f = vec![("csrf", s.csrf.as_str())];
        f.extend(ask);
        assert_eq!(
            post(&app, &clarify_url, c(s), &f).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let mut f = vec![("csrf", "bad")];
    f.extend(ask);
    assert_eq!(
        post(&app, &clarify_url, c(&p.assessor), &f).await.status,
        StatusCode::FORBIDDEN
    );
    let mut f = vec![("csrf", p.assessor.csrf.as_str())];
    f.extend(ask);
    f.extend([("question", "A5.1"), ("request", "")]); // an unused row is ignored
    let r = post(&app, &clarify_url, c(&p.assessor), &f).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let d = store
        .ce_application(
            &store
                .session_user(p.a_admin.cookie.split('=').nth(1).unwrap())
                .await
                .unwrap(),
            id,
        )
        .await
        .unwrap();
    assert_eq!(d.app.state.as_str(), "clarification");
    assert_eq!(d.clarifications.len(), 1);
    let cid = d.clarifications[0].id;

    // The organisation answers the request (and only the question asked) and resubmits.
    let r = get(&app, &url, c(&p.a_member)).await;
    assert!(r
        .body
        .contains("Which router? When was its password changed?"));
    assert!(r.body.contains(&format!("name=\"r.{cid}\"")));
    let r = post(
        &app,
        &answers_url,
        c(&p.a_member),
        &[
            ("csrf", &p.a_member.csrf),
            ("a.A4.2", "yes"),
            ("n.A4.2", "Draytek at head office"),
            (
                &format!("r.{cid}"),
                "Changed on 3 March by our IT supplier.",
            ),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = post(
        &app,
        &submit_url,
        c(&p.a_admin),
        &[
            ("csrf", &p.a_admin.csrf),
            ("declared_by", "Jo Bloggs, director"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Decision: assessors only; the certificate page appears.
    let decide_url = format!("{url}/decide");
    let pass = |s: &Session| {
        vec![
            ("csrf".to_owned(), s.csrf.clone()),
            ("outcome".into(), "pass".into()),
            ("reason".into(), "All controls evidenced.".into()),
        ]
    };
    for s in [&p.a_admin, &p.analyst, &p.site_admin] {
        let f = pass(s);
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            post(&app, &decide_url, c(s), &refs).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let r = post(
        &app,
        &decide_url,
        c(&p.assessor),
        &[
            ("csrf", &p.assessor.csrf),
            ("outcome", "maybe"),
            ("reason", "x"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let cert_url = format!("{url}/certificate");
    assert_eq!(
        get(&app, &cert_url, c(&p.a_member)).await.status,
        StatusCode::NOT_FOUND
    );
    let f = pass(&p.assessor);
    let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = post(&app, &decide_url, c(&p.assessor), &refs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let r = get(&app, &cert_url, c(&p.a_member)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Certificate of self-assessment") && r.body.contains("Org A"));
    assert!(r.body.contains("PC-CE-") && r.body.contains("Expires"));
    assert!(r.body.contains("Jo Bloggs, director"));
    for s in [&p.assessor, &p.analyst, &p.site_admin] {
        assert_eq!(get(&app, &cert_url, c(s)).await.status, StatusCode::OK);
    }
    assert_eq!(
        get(&app, &cert_url, c(&p.b_member)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &cert_url, None).await.status,
        StatusCode::SEE_OTHER
    );
    let r = get(&app, "/certification", c(&p.a_member)).await;
    assert!(r.body.contains("Current certificate"));
    let r = get(&app, "/certification", c(&p.b_member)).await;
    assert!(r.body.contains("no current Cyber Essentials certificate"));
}
