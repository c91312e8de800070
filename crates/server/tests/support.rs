//! Funded support: the public page and form (signed double-submit CSRF,
//! size and rate limits, escaping), eligibility rules as data (edge cases),
//! tracking applications to a decision, and the site admin's rule editor
//! (audited). Through the real router; SQLite, and PostgreSQL when
//! PORTCULLIS_TEST_POSTGRES_URL is set.

#[path = "auth_util/mod.rs"]
mod auth_util;
mod common;

use auth_util::{get, post, req, send, sign_in, Resp};
use axum::http::StatusCode;
use common::fresh;
use portcullis_server::web::support::{evaluate, RuleInput, SupportInput, SupportRule};
use portcullis_server::{router, AppState, Role, Sector};

const PW: &str = "correct horse battery staple";

fn rule(
    id: i64,
    sectors: &[&str],
    min: i64,
    max: i64,
    roles: &[&str],
    active: bool,
) -> SupportRule {
    SupportRule {
        id,
        input: RuleInput {
            name: format!("rule {id}"),
            scheme: "test".into(),
            sectors: sectors.iter().map(|s| s.to_string()).collect(),
            min_staff: min,
            max_staff: max,
            roles: roles.iter().map(|s| s.to_string()).collect(),
            active,
            explanation: "x".into(),
        },
        updated_by: "system".into(),
        updated_at: 0,
    }
}

fn input(sector: &str, staff: i64, role: &str) -> SupportInput {
    SupportInput {
        org_name: "Riverside Surgery".into(),
        contact_name: "Sam".into(),
        email: "sam@riverside.example".into(),
        sector: sector.into(),
        staff,
        role: role.into(),
        details: String::new(),
    }
}

#[test]
fn eligibility_edge_cases() {
    let health = rule(
        1,
        &["gp_practice", "healthcare_supplier"],
        1,
        49,
        &["primary_care", "health_supply_chain"],
        true,
    );
    let charity = rule(2, &["charity"], 1, 49, &[], true);
    let closed = rule(3, &["other"], 0, 1_000_000, &[], false);
    let rules = vec![health, charity, closed];
    // Boundaries of the size band are inclusive.
    for (staff, ok) in [(0, false), (1, true), (49, true), (50, false)] {
        let v = evaluate(&rules, &input("gp_practice", staff, "primary_care"));
        assert_eq!(v.eligible_rule.is_some(), ok, "{staff} staff");
        if !ok {
            assert!(
                v.summary().contains(&format!("(you have {staff})")),
                "{}",
                v.summary()
            );
        }
    }
    // Right sector and size, wrong role: the reason names the roles needed.
    let v = evaluate(&rules, &input("gp_practice", 10, "none"));
    assert_eq!(v.eligible_rule, None);
    assert!(v.checks[0]
        .reasons
        .iter()
        .any(|r| r.contains("needs one of these roles")));
    // A rule with no roles accepts any role.
    assert_eq!(
        evaluate(&rules, &input("charity", 10, "none")).eligible_rule,
        Some(2)
    );
    // Closed rules are neither used nor shown.
    let v = evaluate(&rules, &input("other", 10, "none"));
    assert_eq!(v.eligible_rule, None);
    assert_eq!(v.checks.len(), 2);
    // Several failures are all reported.
    let v = evaluate(&rules, &input("local_authority", 5000, "none"));
    assert_eq!(v.checks[0].reasons.len(), 3);
    // No open rule at all.
    let v = evaluate(&[], &input("charity", 10, "none"));
    assert!(v.summary().contains("no funded support scheme is open"));
    // Field validation (separate from eligibility).
    assert!(input("charity", 10, "none").validate().is_ok());
    assert!(input("charity", -1, "none").validate().is_err());
    assert!(input("charity", 10, "chief").validate().is_err());
    assert!(input("pirates", 10, "none").validate().is_err());
    let mut i = input("charity", 10, "none");
    i.email = "not an address".into();
    assert!(i.validate().is_err());
    i.email = "a@b.example".into();
    i.org_name = "x".repeat(201);
    assert!(i.validate().is_err());
    i.org_name = "ok\u{0}".into();
    assert!(i.validate().is_err());
}

fn form_cookie(r: &Resp) -> String {
    r.cookie.clone().expect("the form page sets its cookie")
}

fn token_of(cookie: &str) -> &str {
    cookie.split_once('=').unwrap().1
}

fn application<'a>(
    csrf: &'a str,
    org: &'a str,
    sector: &'a str,
    staff: &'a str,
    role: &'a str,
    email: &'a str,
    action: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("org_name", org),
        ("sector", sector),
        ("staff", staff),
        ("role", role),
        ("contact_name", "Sam Patel"),
        ("email", email),
        ("details", ""),
        ("action", action),
    ]
}

#[tokio::test]
async fn public_form_checks_eligibility_and_applications_are_tracked_to_a_decision() {
    let env = fresh().await;
    let store = env.store.clone();
    let app = router(AppState::new(store.clone()));

    // The public page needs no sign-in and says who is eligible.
    let r = get(&app, "/support", None).await;
    assert_eq!(r.status, StatusCode::OK);
    for text in [
        "Who can get funded support",
        "How to apply",
        "Small healthcare suppliers and primary care",
        "1 to 49 staff",
        "/support/apply",
    ] {
        assert!(r.body.contains(text), "support page shows {text}");
    }

    // The form sets a signed cookie and echoes it in the form.
    let r = get(&app, "/support/apply", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = form_cookie(&r);
    let token = token_of(&cookie).to_owned();
    assert!(r.body.contains(&format!("value=\"{token}\"")));
    assert!(r.body.contains("Who is eligible"));
    // The same cookie is kept on the next visit.
    let again = get(&app, "/support/apply", Some(&cookie)).await;
    assert!(again.cookie.is_none());

    // CSRF: no cookie, mismatched field, forged (unsigned) pair: all refused.
    let ok = application(
        &token,
        "Riverside Surgery",
        "gp_practice",
        "12",
        "primary_care",
        "sam@riverside.example",
        "apply",
    );
    assert_eq!(
        post(&app, "/support/apply", None, &ok).await.status,
        StatusCode::FORBIDDEN
    );
    let other = get(&app, "/support/apply", None).await;
    let other_cookie = form_cookie(&other);
    assert_eq!(
        post(&app, "/support/apply", Some(&other_cookie), &ok)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let forged = format!("{}.{}", "ab".repeat(16), "cd".repeat(32));
    let forged_form = application(
        &forged,
        "Riverside Surgery",
        "gp_practice",
        "12",
        "primary_care",
        "sam@riverside.example",
        "apply",
    );
    let r = post(
        &app,
        "/support/apply",
        Some(&format!("portcullis_form={forged}")),
        &forged_form,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // "Check eligibility" answers as the form is filled in, storing nothing.
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            "Riverside Surgery",
            "gp_practice",
            "12",
            "primary_care",
            "sam@riverside.example",
            "check",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("You are eligible."));
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            "Big Surgery",
            "gp_practice",
            "50",
            "primary_care",
            "big@surgery.example",
            "check",
        ),
    )
    .await;
    assert!(r.body.contains("You are not eligible"));
    assert!(r.body.contains("1 to 49 staff (you have 50)"));
    // Bad numbers are explained, not stored.
    for staff in ["-1", "12abc", "", "99999999999999999999"] {
        let r = post(
            &app,
            "/support/apply",
            Some(&cookie),
            &application(
                &token,
                "X",
                "gp_practice",
                staff,
                "primary_care",
                "x@x.example",
                "apply",
            ),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "staff {staff:?}"
        );
        assert!(r.body.contains("whole number"));
    }
    // An ineligible application is refused with the reasons.
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            "Big Surgery",
            "gp_practice",
            "50",
            "primary_care",
            "big@surgery.example",
            "apply",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("you have 50"));

    // An eligible one is stored; what the applicant typed is escaped later.
    let hostile = "<img src=x onerror=alert(1)> Surgery";
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            hostile,
            "gp_practice",
            "12",
            "primary_care",
            "sam@riverside.example",
            "apply",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Application received") && r.body.contains("FS-"));

    // Rate limit: three a day per address.
    for i in 0..2 {
        let r = post(
            &app,
            "/support/apply",
            Some(&cookie),
            &application(
                &token,
                &format!("Surgery {i}"),
                "gp_practice",
                "12",
                "primary_care",
                "sam@riverside.example",
                "apply",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            "Surgery 4",
            "gp_practice",
            "12",
            "primary_care",
            "SAM@riverside.example",
            "apply",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Size limit.
    let big = "x".repeat(20 * 1024);
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            &big,
            "gp_practice",
            "12",
            "primary_care",
            "z@z.example",
            "apply",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Tracking: analysts and site admins only.
    let all = common::site_admin();
    let unit = store
        .create_organisation(&all, "Cyber unit", Sector::CentralGovernment, 20)
        .await
        .unwrap();
    let org = store
        .create_organisation(&all, "Org A", Sector::GpPractice, 12)
        .await
        .unwrap();
    store
        .create_user(&all, unit, "analyst@unit.example", PW, Role::Analyst)
        .await
        .unwrap();
    store
        .create_user(&all, unit, "admin@unit.example", PW, Role::SiteAdmin)
        .await
        .unwrap();
    store
        .create_user(&all, org, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    let analyst = sign_in(&app, "analyst@unit.example", PW, None).await;
    let site_admin = sign_in(&app, "admin@unit.example", PW, None).await;
    let member = sign_in(&app, "member@a.example", PW, None).await;

    assert_eq!(
        get(&app, "/support/applications", None).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        get(&app, "/support/applications", Some(&member.cookie))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, "/support/applications", Some(&site_admin.cookie))
            .await
            .status,
        StatusCode::OK
    );
    let r = get(&app, "/support/applications", Some(&analyst.cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .body
        .contains("&lt;img src=x onerror=alert(1)&gt; Surgery"));
    assert!(!r.body.contains("<img src=x"));
    let first = r
        .body
        .find("/support/applications/")
        .map(|i| &r.body[i..])
        .unwrap();
    let app_url = first[..first.find('"').unwrap()].to_owned();
    assert_eq!(
        get(&app, &app_url, Some(&member.cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = get(&app, &app_url, Some(&analyst.cookie)).await;
    assert!(r.body.contains("Eligible under"));

    // submitted → under review → declined (note required) / approved.
    let r = post(
        &app,
        &app_url,
        Some(&analyst.cookie),
        &[("csrf", &analyst.csrf), ("to", "approved")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "no skipping review");
    let r = post(
        &app,
        &app_url,
        Some(&member.cookie),
        &[("csrf", &member.csrf), ("to", "under_review")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &app,
        &app_url,
        Some(&analyst.cookie),
        &[("csrf", "bad"), ("to", "under_review")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &app,
        &app_url,
        Some(&analyst.cookie),
        &[("csrf", &analyst.csrf), ("to", "under_review")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = post(
        &app,
        &app_url,
        Some(&analyst.cookie),
        &[("csrf", &analyst.csrf), ("to", "declined"), ("note", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(
        &app,
        &app_url,
        Some(&site_admin.cookie),
        &[
            ("csrf", &site_admin.csrf),
            ("to", "approved"),
            ("note", "Adviser assigned"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = get(&app, &app_url, Some(&analyst.cookie)).await;
    assert!(r.body.contains("approved") && r.body.contains("Adviser assigned"));
    let r = post(
        &app,
        &app_url,
        Some(&analyst.cookie),
        &[("csrf", &analyst.csrf), ("to", "declined"), ("note", "x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a decision is final");
    let audit = store.list_audit(&all, 200).await.unwrap();
    let moves: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == "support.transition")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(moves.len(), 2, "{moves:?}");
    assert!(audit.iter().any(|e| e.action == "support.apply"));

    // Rules: analysts read, only site admins change, each change audited.
    assert_eq!(
        get(&app, "/support/rules", Some(&member.cookie))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = get(&app, "/support/rules", Some(&analyst.cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("Save rule"));
    let r = get(&app, "/support/rules", Some(&site_admin.cookie)).await;
    assert!(r.body.contains("Save rule"));
    let rules = store.support_rules().await.unwrap();
    let health = rules
        .iter()
        .find(|r| r.input.sectors.contains(&"gp_practice".to_owned()))
        .unwrap();
    let rule_url = format!("/support/rules/{}", health.id);
    let edit = |csrf: &str, max: &str| -> Vec<(String, String)> {
        vec![
            ("csrf".into(), csrf.into()),
            ("name".into(), health.input.name.clone()),
            ("scheme".into(), health.input.scheme.clone()),
            ("sector".into(), "gp_practice".into()),
            ("sector".into(), "healthcare_supplier".into()),
            ("min_staff".into(), "1".into()),
            ("max_staff".into(), max.into()),
            ("role".into(), "primary_care".into()),
            ("role".into(), "health_supply_chain".into()),
            ("explanation".into(), "Up to 60 staff now.".into()),
            ("active".into(), "1".into()),
        ]
    };
    let send_edit = |cookie: String, f: Vec<(String, String)>| {
        let app = app.clone();
        let url = rule_url.clone();
        async move {
            let body = auth_util::form(
                &f.iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect::<Vec<_>>(),
            );
            send(&app, req("POST", &url, Some(&cookie), Some(body), None)).await
        }
    };
    assert_eq!(
        send_edit(analyst.cookie.clone(), edit(&analyst.csrf, "60"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send_edit(site_admin.cookie.clone(), edit("bad", "60"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send_edit(site_admin.cookie.clone(), edit(&site_admin.csrf, "0"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        store.support_rules().await.unwrap(),
        rules,
        "refused edits change nothing"
    );
    let r = send_edit(site_admin.cookie.clone(), edit(&site_admin.csrf, "60")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The public page and the check follow the rule at once.
    assert!(get(&app, "/support", None)
        .await
        .body
        .contains("1 to 60 staff"));
    let r = post(
        &app,
        "/support/apply",
        Some(&cookie),
        &application(
            &token,
            "Big Surgery",
            "gp_practice",
            "50",
            "primary_care",
            "big@surgery.example",
            "check",
        ),
    )
    .await;
    assert!(r.body.contains("You are eligible."));
    let audit = store.list_audit(&all, 200).await.unwrap();
    let change = audit
        .iter()
        .find(|e| e.action == "support.rule.update")
        .unwrap();
    assert!(
        change.detail.contains("staff=1-49") && change.detail.contains("staff=1-60"),
        "{}",
        change.detail
    );
    assert_eq!(change.actor, "user:admin@unit.example");
    // A new rule, and closing one.
    let mut f = edit(&site_admin.csrf, "9");
    f.retain(|(k, _)| k != "active");
    let body = auth_util::form(
        &f.iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let r = send(
        &app,
        req(
            "POST",
            "/support/rules",
            Some(&site_admin.cookie),
            Some(body),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = store.support_rules().await.unwrap();
    assert_eq!(after.len(), rules.len() + 1);
    assert!(!after.last().unwrap().input.active);
    assert!(store
        .list_audit(&all, 200)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "support.rule.create"));
}
