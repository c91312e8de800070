//! Sign-in, MFA, login defences and sessions, through the real router and
//! the real database (SQLite; PostgreSQL with PORTCULLIS_TEST_POSTGRES_URL).

mod auth_util;

use auth_util::*;
use axum::http::StatusCode;
use portcullis_server::{router, AppState, Config, OrgId, Role, Sector, Store, Tenant};

const PW: &str = "correct horse battery staple";

fn all() -> Tenant {
    Tenant::for_role(OrgId(0), Role::SiteAdmin)
}

async fn org(store: &Store, name: &str) -> OrgId {
    store
        .create_organisation(&all(), name, Sector::NhsTrust, 100)
        .await
        .unwrap()
}

async fn actions(store: &Store) -> Vec<(String, String)> {
    store
        .list_audit(&all(), 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.action, e.detail))
        .collect()
}

#[tokio::test]
async fn admin_must_set_up_mfa_and_then_signs_in_in_two_steps() {
    let env = fresh_raw().await;
    let s = &env.store;
    let unit = org(s, "Cyber unit").await;
    s.create_user(&all(), unit, "admin@unit.example", PW, Role::SiteAdmin)
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));

    // Password accepted: the session may only set up MFA.
    let r = post(
        &app,
        "/login",
        None,
        &[
            ("email", "admin@unit.example"),
            ("password", PW),
            ("next", "/admin/users"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/mfa/setup?next=/admin/users"));
    let setup_cookie = r.cookie.unwrap();
    for path in ["/", "/admin", "/admin/users", "/account"] {
        let r = get(&app, path, Some(&setup_cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(r.location.unwrap().starts_with("/mfa/setup"), "{path}");
    }
    // The JSON API does not accept it either.
    let r = get(&app, "/api/v1/submissions", Some(&setup_cookie)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let page = get(&app, "/mfa/setup", Some(&setup_cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let secret = secret_of(&page.body);
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    assert!(page.body.contains(&format!(
        "otpauth://totp/Portcullis%3Aadmin%40unit.example?secret={secret}&amp;issuer=Portcullis"
    )));
    assert!(page.body.contains("src=\"data:image/svg+xml;base64,"));
    // The same secret until confirmed.
    assert_eq!(
        secret_of(&get(&app, "/mfa/setup", Some(&setup_cookie)).await.body),
        secret
    );
    let csrf = csrf_of(&page.body);
    // No CSRF token: refused, nothing changes.
    let r = post(
        &app,
        "/mfa/setup",
        Some(&setup_cookie),
        &[("code", &totp(&secret, now()))],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        &app,
        "/mfa/setup",
        Some(&setup_cookie),
        &[("csrf", &csrf), ("code", "000000x")],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let code = totp(&secret, now());
    let r = post(
        &app,
        "/mfa/setup",
        Some(&setup_cookie),
        &[("csrf", &csrf), ("code", &code), ("next", "/admin")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", head(&r.body));
    let full = r.cookie.unwrap();
    assert_ne!(full, setup_cookie, "a new session after the second factor");
    let recovery: Vec<String> = r
        .body
        .split("<li><code>")
        .skip(1)
        .map(|p| p[..p.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert!(recovery.iter().all(|c| c.len() == 19), "{recovery:?}");
    // The half-signed-in session is gone; the new one reaches the pages.
    let r = get(&app, "/admin", Some(&setup_cookie)).await;
    assert!(r.location.unwrap().starts_with("/login"));
    assert_eq!(
        get(&app, "/admin", Some(&full)).await.status,
        StatusCode::OK
    );
    let r = get(&app, "/mfa/setup", Some(&full)).await;
    assert!(r.body.contains("already has two-factor"));

    // Sign out, then sign in again: password, then a code.
    let csrf = csrf_of(&get(&app, "/account", Some(&full)).await.body);
    let r = post(&app, "/logout", Some(&full), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app, "/admin", Some(&full)).await.status,
        StatusCode::SEE_OTHER
    );
    let r = post(
        &app,
        "/login",
        None,
        &[("email", "admin@unit.example"), ("password", PW)],
    )
    .await;
    assert_eq!(r.location.as_deref(), Some("/login/code"));
    let pending = r.cookie.unwrap();
    let r = get(&app, "/admin", Some(&pending)).await;
    assert!(r.location.unwrap().starts_with("/login/code"));
    assert_eq!(
        get(&app, "/mfa/setup", Some(&pending)).await.status,
        StatusCode::SEE_OTHER
    );
    let page = get(&app, "/login/code", Some(&pending)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    // The code used at set-up is refused (replay within its window).
    let r = post(
        &app,
        "/login/code",
        Some(&pending),
        &[("csrf", &csrf), ("code", &code)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("wrong, already used or expired"));
    let next = totp(&secret, now() + 30);
    let r = post(
        &app,
        "/login/code",
        Some(&pending),
        &[("csrf", &csrf), ("code", &next)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", head(&r.body));
    let full2 = r.cookie.unwrap();
    assert_eq!(
        get(&app, "/admin/users", Some(&full2)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, "/admin", Some(&pending)).await.status,
        StatusCode::SEE_OTHER
    );

    // A third sign-in with a recovery code; the same code cannot be used twice.
    for (i, expect) in [(0, StatusCode::SEE_OTHER), (0, StatusCode::UNAUTHORIZED)] {
        let r = post(
            &app,
            "/login",
            None,
            &[("email", "admin@unit.example"), ("password", PW)],
        )
        .await;
        let pending = r.cookie.unwrap();
        let csrf = csrf_of(&get(&app, "/login/code", Some(&pending)).await.body);
        let r = post(
            &app,
            "/login/code",
            Some(&pending),
            &[("csrf", &csrf), ("code", &recovery[i].to_uppercase())],
        )
        .await;
        assert_eq!(r.status, expect);
    }

    // The API signs in with a code too, and never without one.
    let user = s
        .sign_in("admin@unit.example", PW, None, None)
        .await
        .unwrap();
    assert!(user.is_none());
    let audit = actions(s).await;
    let names: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    for a in ["login.ok", "mfa.enable", "login.mfa_ok", "login.mfa_failed"] {
        assert!(names.contains(&a), "{a} in {names:?}");
    }
    assert!(audit
        .iter()
        .any(|(a, d)| a == "login.mfa_ok" && d.contains("recovery code (9 left)")));
    // Never a password or a code in the audit log.
    assert!(!audit
        .iter()
        .any(|(_, d)| d.contains(PW) || d.contains(&code) || d.contains(&secret)));
}

#[tokio::test]
async fn members_sign_in_with_a_password_and_wrong_codes_lock_the_account() {
    let env = fresh_raw().await;
    let s = &env.store;
    let a = org(s, "Org A").await;
    s.create_user(&all(), a, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    s.create_user(&all(), a, "admin@a.example", PW, Role::OrgAdmin)
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));
    // A member needs no MFA.
    let r = post(
        &app,
        "/login",
        None,
        &[
            ("email", "member@a.example"),
            ("password", PW),
            ("next", "//evil.example"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/"), "off-site next refused");
    assert_eq!(
        get(&app, "/account", r.cookie.as_deref()).await.status,
        StatusCode::OK
    );

    let admin = sign_in(&app, "admin@a.example", PW, None).await;
    let secret = admin.totp.clone().unwrap();
    let r = post(
        &app,
        "/login",
        None,
        &[("email", "admin@a.example"), ("password", PW)],
    )
    .await;
    let pending = r.cookie.unwrap();
    let csrf = csrf_of(&get(&app, "/login/code", Some(&pending)).await.body);
    for i in 0..5 {
        let r = post(
            &app,
            "/login/code",
            Some(&pending),
            &[("csrf", &csrf), ("code", "123456")],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Five wrong codes end the half-signed-in session…
    let r = post(
        &app,
        "/login/code",
        Some(&pending),
        &[("csrf", &csrf), ("code", &totp(&secret, now() + 30))],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/login"));
    // …and lock the account: the right password gets the same refusal.
    let r = post(
        &app,
        "/login",
        None,
        &[("email", "admin@a.example"), ("password", PW)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let users = s.list_users(&all()).await.unwrap();
    assert!(users
        .iter()
        .any(|u| u.email == "admin@a.example" && u.locked));
    // The full session from before is unaffected.
    assert_eq!(
        get(&app, "/account", Some(&admin.cookie)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn source_addresses_are_limited_and_the_answer_never_differs() {
    let env = fresh_raw().await;
    let s = &env.store;
    let a = org(s, "Org A").await;
    s.create_user(&all(), a, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));
    let attempt =
        |email: &'static str, pw: &'static str, ip: &'static str, xff: Option<&'static str>| {
            let app = app.clone();
            async move {
                let mut r = req(
                    "POST",
                    "/login",
                    None,
                    Some(form(&[("email", email), ("password", pw)])),
                    Some(ip),
                );
                if let Some(x) = xff {
                    r.headers_mut()
                        .insert("x-forwarded-for", x.parse().unwrap());
                }
                send(&app, r).await
            }
        };
    let wrong = attempt("member@a.example", "wrong password 1", "192.0.2.7", None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // Spraying: one password against many (here unknown) accounts from one address.
    let emails = [
        "a1@x.example",
        "a2@x.example",
        "a3@x.example",
        "a4@x.example",
        "a5@x.example",
        "a6@x.example",
        "a7@x.example",
        "a8@x.example",
        "a9@x.example",
    ];
    for e in emails {
        let r = attempt(e, "Winter2026!", "192.0.2.7", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body, wrong.body, "one answer for every refusal");
    }
    // Ten distinct accounts have failed from 192.0.2.7: it is refused, even
    // with the right password, with the same answer…
    let r = attempt("member@a.example", PW, "192.0.2.7", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, wrong.body);
    // …and a forwarded-for header is not believed by default…
    let r = attempt("member@a.example", PW, "192.0.2.7", Some("198.51.100.1")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // …while another address signs in (the account is not locked).
    let r = attempt("member@a.example", PW, "192.0.2.8", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let audit = actions(s).await;
    assert!(
        audit.iter().any(|(a, d)| a == "login.ip_blocked"
            && d.contains("192.0.2.7")
            && d.contains("spraying")),
        "{audit:?}"
    );
    assert!(audit
        .iter()
        .any(|(a, d)| a == "login.refused" && d.contains("192.0.2.7")));
    assert!(audit
        .iter()
        .any(|(a, d)| a == "login.ok" && d.contains("192.0.2.8")));
    assert!(!audit.iter().any(|(_, d)| d.contains("Winter2026!")));

    // Behind a trusted proxy, the last X-Forwarded-For address counts.
    let proxied = router(AppState::with_config(
        s.clone(),
        Config {
            trust_proxy: true,
            ..Config::default()
        },
    ));
    let mut r = req(
        "POST",
        "/login",
        None,
        Some(form(&[("email", "member@a.example"), ("password", PW)])),
        Some("192.0.2.7"),
    );
    r.headers_mut().insert(
        "x-forwarded-for",
        "192.0.2.7, 198.51.100.1".parse().unwrap(),
    );
    assert_eq!(send(&proxied, r).await.status, StatusCode::SEE_OTHER);
    let mut r = req(
        "POST",
        "/login",
        None,
        Some(form(&[("email", "member@a.example"), ("password", PW)])),
        Some("198.51.100.1"),
    );
    r.headers_mut().insert(
        "x-forwarded-for",
        "198.51.100.1, 192.0.2.7".parse().unwrap(),
    );
    assert_eq!(send(&proxied, r).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn twenty_failures_refuse_an_address_and_a_service_wide_spray_raises_an_alert() {
    let env = fresh_raw().await;
    let s = &env.store;
    let a = org(s, "Org A").await;
    s.create_user(&all(), a, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    let t = now();
    // Nineteen recent failures from one address, and 49 accounts failing
    // service-wide (arranged directly: real attempts cost an Argon2 each).
    let mut sql = String::new();
    for i in 0..19 {
        sql.push_str(&format!(
            "INSERT INTO login_attempts (at, ip, email, ok) VALUES ({}, '203.0.113.9', 'member@a.example', 0);\n",
            t - 60 - i
        ));
    }
    for i in 0..48 {
        sql.push_str(&format!(
            "INSERT INTO login_attempts (at, ip, email, ok) VALUES ({}, '198.18.{}.1', 'user{i}@b.example', 0);\n",
            t - 30,
            i % 250
        ));
    }
    // Old failures (outside the 15-minute window) do not count.
    sql.push_str(&format!(
        "INSERT INTO login_attempts (at, ip, email, ok) VALUES ({}, '203.0.113.9', 'old@b.example', 0);",
        t - 3600
    ));
    env.exec(&sql).await;
    assert!(s
        .login_from("member@a.example", PW, Some("203.0.113.9"))
        .await
        .unwrap()
        .is_some());
    // The 20th failure refuses the address; 50 distinct accounts raise the alert once.
    assert!(s
        .login_from("other@b.example", "nope nope nope", Some("203.0.113.9"))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .login_from("member@a.example", PW, Some("203.0.113.9"))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .login_from("member@a.example", PW, Some("203.0.113.10"))
        .await
        .unwrap()
        .is_some());
    assert!(s
        .login_from("more@b.example", "nope nope nope", Some("203.0.113.11"))
        .await
        .unwrap()
        .is_none());
    let audit = actions(s).await;
    assert_eq!(
        audit
            .iter()
            .filter(|(a, _)| a == "login.spray_alert")
            .count(),
        1,
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|(a, d)| a == "login.ip_blocked"
                && d.contains("20 failed sign-ins from 203.0.113.9"))
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM outbox WHERE topic = 'login.spray'")
            .await,
        1,
        "the cyber unit is notified once"
    );
    // Sweeping removes attempts older than a day, not recent ones.
    env.exec(&format!(
        "INSERT INTO login_attempts (at, ip, email, ok) VALUES ({}, '203.0.113.9', 'ancient@b.example', 0);",
        t - 100_000
    ))
    .await;
    s.sweep_expired_sessions().await.unwrap();
    assert_eq!(
        env.count("SELECT COUNT(*) FROM login_attempts WHERE email = 'ancient@b.example'")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT COUNT(*) FROM login_attempts WHERE email = 'old@b.example'")
            .await,
        1
    );
    // The address stays refused after the sweep (its refusal has not lapsed).
    assert!(s
        .login_from("member@a.example", PW, Some("203.0.113.9"))
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn sessions_are_listed_revoked_swept_and_ended_by_a_password_change() {
    let env = fresh_raw().await;
    let s = &env.store;
    let a = org(s, "Org A").await;
    s.create_user(&all(), a, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    let other = s
        .create_user(&all(), a, "other@a.example", PW, Role::Member)
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));
    let one = sign_in(&app, "member@a.example", PW, None).await;
    let two = sign_in(&app, "member@a.example", PW, None).await;
    let page = get(&app, "/account", Some(&one.cookie)).await;
    assert_eq!(page.body.matches("Sign out this session").count(), 2);
    assert_eq!(page.body.matches("(this one)").count(), 1);
    // Ending another user's session is "not found"; ending my second one works.
    env.exec(&format!(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at, stage) VALUES ({other}, 'x', 1, 4102444800, 'full')"
    ))
    .await;
    let ids: Vec<i64> = page
        .body
        .split("/account/sessions/")
        .skip(1)
        .map(|p| p[..p.find('/').unwrap()].parse().unwrap())
        .collect();
    let max = *ids.iter().max().unwrap();
    let r = post(
        &app,
        &format!("/account/sessions/{}/revoke", max + 1),
        Some(&one.cookie),
        &[("csrf", &one.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        &app,
        &format!("/account/sessions/{max}/revoke",),
        Some(&one.cookie),
        &[],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(
        get(&app, "/account", Some(&two.cookie)).await.status,
        StatusCode::OK
    );
    let r = post(
        &app,
        &format!("/account/sessions/{max}/revoke"),
        Some(&one.cookie),
        &[("csrf", &one.csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&app, "/account", Some(&two.cookie)).await.status,
        StatusCode::SEE_OTHER
    );

    // Expired sessions are swept (by the background job).
    env.exec(&format!("INSERT INTO sessions (user_id, token_hash, created_at, expires_at, stage) VALUES ({other}, 'expired1', 1, 2, 'full'); \
              INSERT INTO sessions (user_id, token_hash, created_at, expires_at, stage) VALUES ({other}, 'expired2', 1, 2, 'code');"))
        .await;
    assert_eq!(
        env.count("SELECT COUNT(*) FROM sessions WHERE token_hash LIKE 'expired%'")
            .await,
        2
    );
    let report = portcullis_server::background::run_due_jobs(&AppState::new(s.clone())).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        env.count("SELECT COUNT(*) FROM sessions WHERE token_hash LIKE 'expired%'")
            .await,
        0,
        "the job swept both"
    );
    assert_eq!(s.sweep_expired_sessions().await.unwrap(), 0);

    // A password change needs the current password and ends every session.
    let three = sign_in(&app, "member@a.example", PW, None).await;
    let r = post(
        &app,
        "/account/password",
        Some(&one.cookie),
        &[
            ("csrf", &one.csrf),
            ("current", "not it at all"),
            ("new", "a brand new passphrase"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&app, "/account", Some(&three.cookie)).await.status,
        StatusCode::OK
    );
    let r = post(
        &app,
        "/account/password",
        Some(&one.cookie),
        &[
            ("csrf", &one.csrf),
            ("current", PW),
            ("new", "a brand new passphrase"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some("/login"));
    for c in [&one.cookie, &three.cookie] {
        assert_eq!(
            get(&app, "/account", Some(c)).await.status,
            StatusCode::SEE_OTHER
        );
    }
    assert!(s.login("member@a.example", PW).await.unwrap().is_none());
    assert!(s
        .login("member@a.example", "a brand new passphrase")
        .await
        .unwrap()
        .is_some());
    let audit = actions(s).await;
    assert!(
        audit
            .iter()
            .any(|(a, d)| a == "user.password_change" && d == "2 sessions ended"),
        "{audit:?}"
    );
    assert!(audit
        .iter()
        .any(|(a, _)| a == "user.password_change_failed"));
    assert!(audit.iter().any(|(a, _)| a == "session.revoke"));
}
