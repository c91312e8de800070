//! Admin pages through the real router: organisations, users, tokens and the
//! audit log, for site admins and organisation admins (the every-role
//! refusals are in tests/routes_matrix.rs).

mod auth_util;

use auth_util::*;
use axum::http::StatusCode;
use portcullis_server::{router, AppState, OrgId, Role, Sector, Tenant};

const PW: &str = "correct horse battery staple";

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let i = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {}", head(body)))
        + start.len();
    &body[i..i + body[i..].find(end).unwrap()]
}

#[tokio::test]
async fn site_and_org_admins_manage_organisations_users_and_tokens() {
    let env = fresh_raw().await;
    let s = &env.store;
    let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
    let unit = s
        .create_organisation(&all, "Cyber unit", Sector::CentralGovernment, 40)
        .await
        .unwrap();
    s.create_user(&all, unit, "site@unit.example", PW, Role::SiteAdmin)
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));
    let site = sign_in(&app, "site@unit.example", PW, None).await;

    // Organisations: created with sector and size; names are escaped.
    for (name, sector, size) in [
        ("Org A", "nhs_trust", "4000"),
        ("<b>Org B</b>", "gp_practice", "12"),
    ] {
        let r = post(
            &app,
            "/admin/orgs",
            Some(&site.cookie),
            &[
                ("csrf", &site.csrf),
                ("name", name),
                ("sector", sector),
                ("size", size),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", head(&r.body));
    }
    let r = post(
        &app,
        "/admin/orgs",
        Some(&site.cookie),
        &[
            ("csrf", &site.csrf),
            ("name", "Org C"),
            ("sector", "moon_base"),
            ("size", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(
        &app,
        "/admin/orgs",
        Some(&site.cookie),
        &[
            ("csrf", &site.csrf),
            ("name", "Org A"),
            ("sector", "other"),
            ("size", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "duplicate name");
    let page = get(&app, "/admin/orgs", Some(&site.cookie)).await;
    assert!(page.body.contains("&lt;b&gt;Org B&lt;/b&gt;") && !page.body.contains("<b>Org B"));
    assert!(page.body.contains("gp practice"));
    let orgs = s.list_organisations(&all).await.unwrap();
    let a = orgs.iter().find(|o| o.name == "Org A").unwrap().id;
    let b = orgs.iter().find(|o| o.name.contains("Org B")).unwrap().id;
    assert_eq!(orgs.iter().find(|o| o.id == a).unwrap().size, 4000);

    // Users: the site admin creates an org admin for A and a member for B;
    // the one-time password is shown once and works.
    let r = post(
        &app,
        "/admin/users",
        Some(&site.cookie),
        &[
            ("csrf", &site.csrf),
            ("email", "Admin@A.example"),
            ("role", "org_admin"),
            ("org", &a.0.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", head(&r.body));
    let admin_pw = between(&r.body, "<code class=\"secret\">", "<").to_owned();
    assert!(admin_pw.len() >= 20);
    let r = post(
        &app,
        "/admin/users",
        Some(&site.cookie),
        &[
            ("csrf", &site.csrf),
            ("email", "member@b.example"),
            ("role", "member"),
            ("org", &b.0.to_string()),
        ],
    )
    .await;
    let b_pw = between(&r.body, "<code class=\"secret\">", "<").to_owned();
    let admin = sign_in(&app, "admin@a.example", &admin_pw, None).await;
    let b_member = sign_in(&app, "member@b.example", &b_pw, None).await;

    // The org admin sees and manages only A.
    let page = get(&app, "/admin/users", Some(&admin.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("admin@a.example")
            && !page.body.contains("member@b.example")
            && !page.body.contains("site@unit.example")
    );
    assert!(
        !page.body.contains("value=\"site_admin\"") && !page.body.contains("value=\"analyst\"")
    );
    let r = post(
        &app,
        "/admin/users",
        Some(&admin.cookie),
        &[
            ("csrf", &admin.csrf),
            ("email", "x@a.example"),
            ("role", "analyst"),
        ],
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "an org admin cannot make analysts"
    );
    // An org field naming B is ignored for an org admin: the user lands in A.
    let r = post(
        &app,
        "/admin/users",
        Some(&admin.cookie),
        &[
            ("csrf", &admin.csrf),
            ("email", "member@a.example"),
            ("role", "member"),
            ("org", &b.0.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let member_pw = between(&r.body, "<code class=\"secret\">", "<").to_owned();
    let users = s.list_users(&all).await.unwrap();
    let member_a = users
        .iter()
        .find(|u| u.email == "member@a.example")
        .unwrap();
    assert_eq!(member_a.org, a);
    let b_id = users
        .iter()
        .find(|u| u.email == "member@b.example")
        .unwrap()
        .id;
    let site_id = users
        .iter()
        .find(|u| u.email == "site@unit.example")
        .unwrap()
        .id;
    for action in ["disable", "reset-mfa", "enable"] {
        let r = post(
            &app,
            &format!("/admin/users/{b_id}/{action}"),
            Some(&admin.cookie),
            &[("csrf", &admin.csrf)],
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action} on B's user");
        let r = post(
            &app,
            &format!("/admin/users/{site_id}/{action}"),
            Some(&admin.cookie),
            &[("csrf", &admin.csrf)],
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{action} on the site admin"
        );
    }
    let r = post(
        &app,
        &format!("/admin/users/{}/disable", admin_user_id(&users)),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not yourself");

    // Disabling ends the member's sessions and refuses sign-in; enabling restores it.
    let member = sign_in(&app, "member@a.example", &member_pw, None).await;
    let r = post(
        &app,
        &format!("/admin/users/{}/disable", member_a.id),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app, "/account", Some(&member.cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let r = post(
        &app,
        "/login",
        None,
        &[("email", "member@a.example"), ("password", &member_pw)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(get(&app, "/admin/users", Some(&admin.cookie))
        .await
        .body
        .contains("disabled "));
    let r = post(
        &app,
        &format!("/admin/users/{}/enable", member_a.id),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    sign_in(&app, "member@a.example", &member_pw, None).await;

    // Resetting the org admin's MFA (by the site admin) ends their sessions;
    // the next sign-in must set it up again.
    let admin_id = admin_user_id(&users);
    let r = post(
        &app,
        &format!("/admin/users/{admin_id}/reset-mfa"),
        Some(&site.cookie),
        &[("csrf", &site.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app, "/admin", Some(&admin.cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let r = post(
        &app,
        "/login",
        None,
        &[("email", "admin@a.example"), ("password", &admin_pw)],
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/mfa/setup"));
    let admin = sign_in(&app, "admin@a.example", &admin_pw, None).await;
    assert!(admin.totp.is_some(), "set up again");

    // Tokens: created (shown once), listed without the secret, revoked; B's
    // token cannot be revoked by A's admin.
    let r = post(
        &app,
        "/admin/tokens",
        Some(&admin.cookie),
        &[("csrf", &admin.csrf), ("label", "laptops <1>")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", head(&r.body));
    let secret = between(&r.body, "<code class=\"secret\">", "<").to_owned();
    assert!(secret.starts_with("pce_"));
    let (host, host_secret) = s.enrol(&secret, "web-01").await.unwrap();
    assert_eq!(host.tenant.org(), Some(a));
    let (b_token, _) = s.create_enrolment_token(&all, b, "b").await.unwrap();
    let page = get(&app, "/admin/tokens", Some(&admin.cookie)).await;
    assert!(page.body.contains("laptops &lt;1&gt;") && page.body.contains("web-01"));
    assert!(!page.body.contains(&secret) && !page.body.contains(&host_secret));
    assert!(!page
        .body
        .contains(&format!("/admin/tokens/{b_token}/revoke")));
    let r = post(
        &app,
        &format!("/admin/tokens/{b_token}/revoke"),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        &app,
        &format!("/admin/tokens/{}/revoke", host.token_id),
        Some(&admin.cookie),
        &[("csrf", &admin.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        s.authenticate_host(&host_secret).await.is_err(),
        "revoked host token refused"
    );
    // The site admin creates a token for B.
    let r = post(
        &app,
        "/admin/tokens",
        Some(&site.cookie),
        &[
            ("csrf", &site.csrf),
            ("label", "b laptops"),
            ("org", &b.0.to_string()),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // The audit log: every write above, by whom; A's admin sees only A.
    let a_log = get(&app, "/admin/audit", Some(&admin.cookie)).await;
    assert_eq!(a_log.status, StatusCode::OK);
    for action in [
        "user.create",
        "user.disable",
        "user.enable",
        "mfa.reset",
        "token.create",
        "token.revoke",
        "login.ok",
        "mfa.enable",
    ] {
        assert!(
            a_log.body.contains(&format!("<code>{action}</code>")),
            "{action}"
        );
    }
    assert!(
        a_log.body.contains("user:admin@a.example")
            && a_log.body.contains("user:site@unit.example")
    );
    assert!(!a_log.body.contains("member@b.example") && !a_log.body.contains("b laptops"));
    let all_log = get(&app, "/admin/audit", Some(&site.cookie)).await;
    assert!(all_log.body.contains("member@b.example") && all_log.body.contains("b laptops"));
    assert!(all_log.body.contains("organisation.create"));
    let _ = b_member;
}

fn admin_user_id(users: &[portcullis_server::store::UserInfo]) -> i64 {
    users
        .iter()
        .find(|u| u.email == "admin@a.example")
        .unwrap()
        .id
}
