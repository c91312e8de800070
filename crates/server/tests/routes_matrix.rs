//! Every route × every role.
//!
//! `ROUTES` below is the table of every route the service has, with who may
//! use it. The test reads the router's source (`src/**/*.rs`, every
//! `.route("…", get(…).post(…))`) and FAILS when a route exists that the
//! table lacks, or the table lists a route that does not exist: adding a
//! route means adding its line here, with its roles.
//!
//! For each page route it checks, on the real router and database:
//! - without a session: a `GET` is redirected to `/login?next=…`, a `POST`
//!   gets 401;
//! - a `POST` without the CSRF token gets 403 for every role, and nothing
//!   changes (the audit log, which records every change, is unchanged);
//! - each role (member, organisation admin, assessor of A; analyst and site
//!   admin of the cyber unit) is allowed or refused as the table says
//!   (refused: 403, or 404 for an ID; for routes marked `strict`, exactly
//!   403 — and never a success);
//! - another organisation's IDs (routes with an `Id::OrgB…`) are 404 for
//!   organisation A's roles;
//! - nothing answers 5xx.
//!
//! JSON API routes (`Api`) have their own authentication (host tokens, API
//! sessions) and are tested in `tests/http.rs`; here they must refuse
//! requests without credentials.

mod auth_util;

use std::collections::BTreeSet;

use auth_util::*;
use axum::http::StatusCode;
use portcullis_server::{router, AppState, OrgId, Role, Sector, Tenant};

const PW: &str = "correct horse battery staple";

use Role::{Analyst as AN, Assessor as AS, Member as ME, OrgAdmin as OA, SiteAdmin as SA};
const ALL: &[Role] = &[ME, OA, AS, AN, SA];
const CYBER: &[Role] = &[AN, SA];
const NOT_ASSESSOR: &[Role] = &[ME, OA, AN, SA];

/// Which ID a `{id}` in the path gets.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Id {
    /// No ID in the path.
    None,
    /// An ID that exists nowhere.
    Missing,
    /// Organisation B's ID.
    OrgB,
    /// A user of organisation B.
    OrgBUser,
    /// An API token of organisation B.
    OrgBToken,
    /// A session of organisation B's user.
    OrgBSession,
}

#[derive(Clone, Copy, Debug)]
enum Access {
    /// Open without a session (sign-in, the public support pages, health).
    Public,
    /// A signed-in page for these roles.
    Roles(&'static [Role]),
    /// The JSON API (own credentials; see tests/http.rs).
    Api,
}

struct R {
    method: &'static str,
    path: &'static str,
    access: Access,
    id: Id,
    /// Refusals must be exactly 403 (this area's routes).
    strict: bool,
}

const fn r(method: &'static str, path: &'static str, access: Access, id: Id, strict: bool) -> R {
    R {
        method,
        path,
        access,
        id,
        strict,
    }
}

use Access::{Api, Public, Roles};

/// Every route. Keep in step with the router (the test checks).
#[rustfmt::skip]
const ROUTES: &[R] = &[
    // Foundation and JSON API.
    r("GET", "/healthz", Public, Id::None, true),
    r("GET", "/static/app.css", Public, Id::None, true),
    r("GET", "/api/v1/openapi.json", Public, Id::None, true),
    r("POST", "/api/v1/enrol", Api, Id::None, true),
    r("GET", "/api/v1/submissions", Api, Id::None, true),
    r("POST", "/api/v1/submissions", Api, Id::None, true),
    r("GET", "/api/v1/submissions/{id}", Api, Id::Missing, true),
    r("POST", "/api/v1/session", Api, Id::None, true),
    r("DELETE", "/api/v1/session", Api, Id::None, true),
    // Auth (area A).
    r("GET", "/login", Public, Id::None, true),
    r("POST", "/login", Public, Id::None, true),
    r("GET", "/login/code", Public, Id::None, true),
    r("POST", "/login/code", Public, Id::None, true),
    r("GET", "/login/oidc", Public, Id::None, true),
    r("GET", "/login/oidc/callback", Public, Id::None, true),
    r("GET", "/mfa/setup", Public, Id::None, true),
    r("POST", "/mfa/setup", Public, Id::None, true),
    r("POST", "/logout", Public, Id::None, true),
    r("GET", "/account", Roles(ALL), Id::None, true),
    r("POST", "/account/password", Roles(ALL), Id::None, true),
    r("POST", "/account/sessions/{id}/revoke", Roles(ALL), Id::OrgBSession, true),
    // Admin (area A).
    r("GET", "/admin", Roles(&[OA, AN, SA]), Id::None, true),
    r("GET", "/admin/orgs", Roles(&[SA]), Id::None, true),
    r("POST", "/admin/orgs", Roles(&[SA]), Id::None, true),
    r("GET", "/admin/users", Roles(&[OA, SA]), Id::None, true),
    r("POST", "/admin/users", Roles(&[OA, SA]), Id::None, true),
    r("POST", "/admin/users/{id}/reset-mfa", Roles(&[OA, SA]), Id::OrgBUser, true),
    r("POST", "/admin/users/{id}/disable", Roles(&[OA, SA]), Id::OrgBUser, true),
    r("POST", "/admin/users/{id}/enable", Roles(&[OA, SA]), Id::OrgBUser, true),
    r("GET", "/admin/tokens", Roles(&[OA, SA]), Id::None, true),
    r("POST", "/admin/tokens", Roles(&[OA, SA]), Id::None, true),
    r("POST", "/admin/tokens/{id}/revoke", Roles(&[OA, SA]), Id::OrgBToken, true),
    r("GET", "/admin/audit", Roles(&[OA, AN, SA]), Id::None, true),
    // Risk (area B).
    r("GET", "/", Roles(ALL), Id::None, false),
    r("GET", "/search", Roles(ALL), Id::None, false),
    r("GET", "/orgs/{id}", Roles(ALL), Id::OrgB, false),
    r("GET", "/orgs/{id}/packages", Roles(ALL), Id::OrgB, false),
    // Incidents (area C).
    r("GET", "/incidents", Roles(ALL), Id::None, false),
    r("POST", "/incidents", Roles(NOT_ASSESSOR), Id::None, false),
    r("GET", "/incidents/new", Roles(NOT_ASSESSOR), Id::None, false),
    r("POST", "/incidents/from-detection", Roles(NOT_ASSESSOR), Id::None, false),
    r("GET", "/incidents/{id}", Roles(ALL), Id::Missing, false),
    r("POST", "/incidents/{id}/transition", Roles(&[OA, AN, SA]), Id::Missing, false),
    r("POST", "/incidents/{id}/notes", Roles(NOT_ASSESSOR), Id::Missing, false),
    r("POST", "/incidents/{id}/sent", Roles(&[OA, AN, SA]), Id::Missing, false),
    r("POST", "/incidents/{id}/reportable", Roles(&[OA, AN, SA]), Id::Missing, false),
    r("POST", "/incidents/{id}/files", Roles(NOT_ASSESSOR), Id::Missing, false),
    r("GET", "/incidents/{id}/files/{file}", Roles(ALL), Id::Missing, false),
    r("GET", "/incidents/{id}/notification.md", Roles(ALL), Id::Missing, false),
    r("GET", "/incidents/{id}/notification.json", Roles(ALL), Id::Missing, false),
    r("GET", "/incidents/{id}/report.md", Roles(ALL), Id::Missing, false),
    r("GET", "/incidents/{id}/report.json", Roles(ALL), Id::Missing, false),
    r("GET", "/incidents/{id}/report.html", Roles(ALL), Id::Missing, false),
    // Certification and funded support (area D).
    r("GET", "/certification", Roles(ALL), Id::None, false),
    r("POST", "/certification", Roles(&[OA]), Id::None, false),
    r("GET", "/certification/{id}", Roles(ALL), Id::Missing, false),
    r("POST", "/certification/{id}/answers", Roles(&[ME, OA]), Id::Missing, false),
    r("POST", "/certification/{id}/refresh", Roles(&[ME, OA]), Id::Missing, false),
    r("POST", "/certification/{id}/submit", Roles(&[OA]), Id::Missing, false),
    r("POST", "/certification/{id}/clarify", Roles(&[AS]), Id::Missing, false),
    r("POST", "/certification/{id}/decide", Roles(&[AS]), Id::Missing, false),
    r("GET", "/certification/{id}/certificate", Roles(ALL), Id::Missing, false),
    r("GET", "/support", Public, Id::None, false),
    r("GET", "/support/apply", Public, Id::None, false),
    r("POST", "/support/apply", Public, Id::None, false),
    r("GET", "/support/applications", Roles(CYBER), Id::None, false),
    r("GET", "/support/applications/{id}", Roles(CYBER), Id::Missing, false),
    r("POST", "/support/applications/{id}", Roles(CYBER), Id::Missing, false),
    r("GET", "/support/rules", Roles(CYBER), Id::None, false),
    r("POST", "/support/rules", Roles(&[SA]), Id::None, false),
    r("POST", "/support/rules/{id}", Roles(&[SA]), Id::Missing, false),
];

/// Every `(METHOD, path)` routed in the crate's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut found = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for bad in [".nest(", ".route_service(", ".nest_service("] {
            assert!(
                !text.contains(bad),
                "{}: uses {bad}; extend routes_in_source to read it",
                f.display()
            );
        }
        let mut rest = text.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + 7..];
            let q = rest.find('"').unwrap();
            let after = &rest[q + 1..];
            let path = &after[..after.find('"').unwrap()];
            // The arguments up to the matching parenthesis.
            let mut depth = 1;
            let mut end = 0;
            for (k, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let args = &rest[..end];
            let bytes = args.as_bytes();
            let mut methods = 0;
            for m in ["get", "post", "put", "delete", "patch"] {
                let pat = format!("{m}(");
                let mut from = 0;
                while let Some(j) = args[from..].find(&pat) {
                    let at = from + j;
                    let before = if at == 0 { b' ' } else { bytes[at - 1] };
                    if !(before.is_ascii_alphanumeric() || before == b'_') {
                        found.insert((m.to_uppercase(), path.to_owned()));
                        methods += 1;
                    }
                    from = at + pat.len();
                }
            }
            assert!(
                methods > 0,
                "{}: route {path} with no method I can read",
                f.display()
            );
        }
    }
    found
}

#[test]
fn the_table_lists_exactly_the_routes_of_the_router() {
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(table.len(), ROUTES.len(), "a route is listed twice");
    let source = routes_in_source();
    let missing: Vec<_> = source.difference(&table).collect();
    let stale: Vec<_> = table.difference(&source).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes missing from ROUTES in tests/routes_matrix.rs (add them with their roles): {missing:?}; \
         listed but not routed: {stale:?}"
    );
}

struct World {
    org_b: OrgId,
    b_user: i64,
    b_token: i64,
    b_session: i64,
}

fn path_for(r: &R, w: &World) -> String {
    let id = match r.id {
        Id::None => return r.path.to_owned(),
        Id::Missing => 987_654_321,
        Id::OrgB => w.org_b.0,
        Id::OrgBUser => w.b_user,
        Id::OrgBToken => w.b_token,
        Id::OrgBSession => w.b_session,
    };
    let mut p = r
        .path
        .replace("{id}", &id.to_string())
        .replace("{file}", "1");
    // Query parameters a page needs to show anything.
    if r.path == "/orgs/{id}/packages" {
        p.push_str("?name=openssl");
    }
    p
}

fn is_server_error(s: StatusCode) -> bool {
    s.is_server_error()
}

#[tokio::test]
async fn every_route_for_every_role() {
    let env = fresh_raw().await;
    let s = &env.store;
    let all = Tenant::for_role(OrgId(0), SA);
    let unit = s
        .create_organisation(&all, "Cyber unit", Sector::CentralGovernment, 40)
        .await
        .unwrap();
    let a = s
        .create_organisation(&all, "Org A", Sector::NhsTrust, 4000)
        .await
        .unwrap();
    let org_b = s
        .create_organisation(&all, "Org B", Sector::GpPractice, 12)
        .await
        .unwrap();
    let people = [
        (ME, a, "member@a.example"),
        (OA, a, "admin@a.example"),
        (AS, a, "assessor@a.example"),
        (AN, unit, "analyst@unit.example"),
        (SA, unit, "site@unit.example"),
    ];
    for (role, org, email) in people {
        s.create_user(&all, org, email, PW, role).await.unwrap();
    }
    let b_user = s
        .create_user(&all, org_b, "member@b.example", PW, ME)
        .await
        .unwrap();
    let (b_token, _) = s.create_enrolment_token(&all, org_b, "b").await.unwrap();
    let app = router(AppState::new(s.clone()));
    let _b = sign_in(&app, "member@b.example", PW, None).await;
    let b_session = env
        .count(&format!(
            "SELECT MAX(id) FROM sessions WHERE user_id = {b_user}"
        ))
        .await;
    let w = World {
        org_b,
        b_user,
        b_token,
        b_session,
    };
    let mut sessions = Vec::new();
    for (role, _, email) in people {
        sessions.push((role, sign_in(&app, email, PW, None).await));
    }
    let audit_len = || async { s.list_audit(&all, 1000).await.unwrap().len() };

    // 1. Without a session.
    for r in ROUTES {
        let path = path_for(r, &w);
        let body = (r.method != "GET").then(String::new);
        let resp = send(&app, req(r.method, &path, None, body, None)).await;
        assert!(
            !is_server_error(resp.status),
            "{} {path}: {}",
            r.method,
            resp.status
        );
        match r.access {
            Public => assert!(
                resp.status.is_success()
                    || resp.status.is_redirection()
                    || resp.status.is_client_error(),
                "{} {path}",
                r.method
            ),
            Api => assert!(
                r.path == "/healthz"
                    || matches!(
                        resp.status,
                        StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST | StatusCode::NO_CONTENT
                    ),
                "{} {path}: {}",
                r.method,
                resp.status
            ),
            Roles(_) if r.method == "GET" => {
                assert_eq!(resp.status, StatusCode::SEE_OTHER, "{path}");
                let to = resp.location.unwrap_or_default();
                assert!(to.starts_with("/login?next="), "{path} → {to}");
            }
            Roles(_) => assert!(
                resp.status == StatusCode::UNAUTHORIZED
                    || resp
                        .location
                        .as_deref()
                        .is_some_and(|l| l.starts_with("/login")),
                "{} {path}: {}",
                r.method,
                resp.status
            ),
        }
    }
    // Public pages answer 200 without a session.
    for p in [
        "/login",
        "/healthz",
        "/static/app.css",
        "/support",
        "/support/apply",
    ] {
        assert_eq!(get(&app, p, None).await.status, StatusCode::OK, "{p}");
    }

    // 2. POST without the CSRF token: 403 for every role, and nothing changes.
    let before = audit_len().await;
    for r in ROUTES
        .iter()
        .filter(|r| r.method == "POST" && matches!(r.access, Roles(_)))
    {
        for (role, sess) in &sessions {
            let path = path_for(r, &w);
            let resp = post(&app, &path, Some(&sess.cookie), &[("csrf", "forged")]).await;
            assert!(
                resp.status == StatusCode::FORBIDDEN
                    || (!r.strict && resp.status.is_client_error()),
                "{role:?} POST {path} with a forged token: {}",
                resp.status
            );
            let resp = post(&app, &path, Some(&sess.cookie), &[]).await;
            assert!(
                resp.status == StatusCode::FORBIDDEN
                    || (!r.strict && resp.status.is_client_error()),
                "{role:?} POST {path} without a token: {}",
                resp.status
            );
        }
    }
    assert_eq!(
        audit_len().await,
        before,
        "a refused POST changed something"
    );

    // 3. Each role, with a valid CSRF token and an empty form: allowed or refused.
    for r in ROUTES {
        let Roles(allowed) = r.access else { continue };
        for (role, sess) in &sessions {
            let cyber = matches!(role, AN | SA);
            let other_org_id = !matches!(r.id, Id::None | Id::Missing);
            if r.method == "POST" && cyber && other_org_id {
                // The cyber unit may act on every organisation: not probed
                // here (it would change organisation B).
                continue;
            }
            let path = path_for(r, &w);
            let resp = if r.method == "GET" {
                get(&app, &path, Some(&sess.cookie)).await
            } else {
                post(&app, &path, Some(&sess.cookie), &[("csrf", &sess.csrf)]).await
            };
            let st = resp.status;
            assert!(!is_server_error(st), "{role:?} {} {path}: {st}", r.method);
            assert_ne!(st, StatusCode::UNAUTHORIZED, "{role:?} {} {path}", r.method);
            if allowed.contains(role) {
                if other_org_id && !cyber {
                    assert_eq!(
                        st,
                        StatusCode::NOT_FOUND,
                        "{role:?} {} {path}: another organisation's ID",
                        r.method
                    );
                } else if r.id == Id::Missing {
                    assert!(
                        st == StatusCode::NOT_FOUND || st.is_client_error(),
                        "{role:?} {} {path}: {st}",
                        r.method
                    );
                } else {
                    assert_ne!(
                        st,
                        StatusCode::FORBIDDEN,
                        "{role:?} {} {path} should be allowed",
                        r.method
                    );
                    if r.method == "GET" {
                        assert!(
                            st == StatusCode::OK || st.is_redirection(),
                            "{role:?} GET {path}: {st}"
                        );
                    }
                }
            } else if r.strict {
                assert_eq!(
                    st,
                    StatusCode::FORBIDDEN,
                    "{role:?} {} {path} should be refused",
                    r.method
                );
            } else {
                assert!(
                    st == StatusCode::FORBIDDEN
                        || (r.id != Id::None && st == StatusCode::NOT_FOUND)
                        || (r.method == "POST" && st.is_client_error()),
                    "{role:?} {} {path} should be refused: {st}",
                    r.method
                );
            }
        }
    }

    // Organisation B's user, token and session are untouched.
    let b = s.list_users(&all).await.unwrap();
    let bu = b.iter().find(|u| u.id == b_user).unwrap();
    assert!(bu.disabled_at.is_none());
    assert!(s
        .list_tokens(&all)
        .await
        .unwrap()
        .iter()
        .any(|t| t.id == b_token && t.revoked_at.is_none()));
    assert_eq!(
        env.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE id = {b_session}"
        ))
        .await,
        1
    );
}
