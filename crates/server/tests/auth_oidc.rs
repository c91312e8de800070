//! OpenID Connect single sign-on against a small identity provider served
//! on a real loopback socket by this test (discovery and token endpoint;
//! the test plays the browser and the provider's authorisation step).

mod auth_util;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth_util::*;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get as route_get, post as route_post};
use axum::{Form, Json, Router};
use portcullis_server::{router, AppState, Config, OidcConfig, OrgId, Role, Sector, Tenant};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PW: &str = "correct horse battery staple";
const SECRET: &str = "client-secret-for-tests";

/// What the provider knows about an issued code.
#[derive(Clone)]
struct Grant {
    challenge: String,
    nonce: String,
    email: String,
    verified: bool,
}

#[derive(Clone)]
struct Idp {
    base: String,
    grants: Arc<Mutex<HashMap<String, Grant>>>,
}

async fn discovery(State(idp): State<Idp>) -> Json<Value> {
    Json(json!({
        "issuer": idp.base,
        "authorization_endpoint": format!("{}/authorize", idp.base),
        "token_endpoint": format!("{}/token", idp.base),
    }))
}

async fn token(
    State(idp): State<Idp>,
    Form(f): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let bad = (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_grant"})),
    );
    let Some(grant) = idp
        .grants
        .lock()
        .unwrap()
        .remove(f.get("code").map_or("", String::as_str))
    else {
        return bad;
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let challenge = data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge
        || f.get("client_secret").map(String::as_str) != Some(SECRET)
        || f.get("client_id").map(String::as_str) != Some("portcullis")
        || f.get("redirect_uri").map(String::as_str)
            != Some("https://portcullis.test/login/oidc/callback")
        || f.get("grant_type").map(String::as_str) != Some("authorization_code")
    {
        return bad;
    }
    let enc = |v: Value| data_encoding::BASE64URL_NOPAD.encode(v.to_string().as_bytes());
    let id_token = format!(
        "{}.{}.unsigned",
        enc(json!({"alg": "RS256", "kid": "test"})),
        enc(json!({
            "iss": idp.base, "aud": "portcullis", "sub": "123", "exp": now() + 300, "iat": now(),
            "nonce": grant.nonce, "email": grant.email, "email_verified": grant.verified,
        }))
    );
    (
        StatusCode::OK,
        Json(json!({"access_token": "x", "token_type": "Bearer", "id_token": id_token})),
    )
}

fn query_param(url: &str, name: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} not in {url}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_signs_in_existing_users_by_verified_email_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let idp = Idp {
        base: base.clone(),
        grants: Arc::new(Mutex::new(HashMap::new())),
    };
    let idp_app = Router::new()
        .route("/.well-known/openid-configuration", route_get(discovery))
        .route("/token", route_post(token))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, idp_app).await.unwrap() });

    let env = fresh_raw().await;
    let s = &env.store;
    let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
    let a = s
        .create_organisation(&all, "Org A", Sector::NhsTrust, 10)
        .await
        .unwrap();
    s.create_user(&all, a, "member@a.example", PW, Role::Member)
        .await
        .unwrap();
    s.create_user(&all, a, "admin@a.example", PW, Role::OrgAdmin)
        .await
        .unwrap();
    let plain = router(AppState::new(s.clone()));
    assert_eq!(
        get(&plain, "/login/oidc", None).await.status,
        StatusCode::NOT_FOUND,
        "off unless configured"
    );
    assert!(!get(&plain, "/login", None)
        .await
        .body
        .contains("single sign-on"));
    let app = router(AppState::with_config(
        s.clone(),
        Config {
            base_url: "https://portcullis.test".into(),
            oidc: Some(OidcConfig {
                issuer: base.clone(),
                client_id: "portcullis".into(),
                client_secret: SECRET.into(),
            }),
            ..Config::default()
        },
    ));
    assert!(get(&app, "/login?next=/account", None)
        .await
        .body
        .contains("href=\"/login/oidc?next=/account\""));

    // The browser goes to the provider; the provider sends it back with a code.
    let flow = |email: &'static str, verified: bool, tamper: bool| {
        let app = app.clone();
        let idp = idp.clone();
        async move {
            let r = get(&app, "/login/oidc?next=/account", None).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", head(&r.body));
            let to = r.location.unwrap();
            assert!(
                to.starts_with(&format!(
                    "{}/authorize?response_type=code&client_id=portcullis",
                    idp.base
                )),
                "{to}"
            );
            assert_eq!(query_param(&to, "code_challenge_method"), "S256");
            assert_eq!(
                query_param(&to, "redirect_uri"),
                "https%3A//portcullis.test/login/oidc/callback"
            );
            let state = query_param(&to, "state");
            let code = format!("code-{email}-{state}");
            let challenge = if tamper {
                "wrong".to_owned()
            } else {
                query_param(&to, "code_challenge")
            };
            idp.grants.lock().unwrap().insert(
                code.clone(),
                Grant {
                    challenge,
                    nonce: query_param(&to, "nonce"),
                    email: email.into(),
                    verified,
                },
            );
            let back = format!("/login/oidc/callback?code={code}&state={state}");
            (get(&app, &back, None).await, back)
        }
    };

    // A member with a verified address: signed in, to where they were going.
    let (r, back) = flow("member@a.example", true, false).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", head(&r.body));
    assert_eq!(r.location.as_deref(), Some("/account"));
    let cookie = r.cookie.unwrap();
    assert_eq!(
        get(&app, "/account", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // The state is used once.
    assert_eq!(
        get(&app, &back, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An org admin still needs the service's own MFA.
    let (r, _) = flow("admin@a.example", true, false).await;
    assert_eq!(r.location.as_deref(), Some("/mfa/setup?next=/account"));
    // Refused: an address without an account (none is created), an
    // unverified address, a code exchanged with the wrong PKCE verifier,
    // a made-up state.
    for (email, verified, tamper) in [
        ("stranger@a.example", true, false),
        ("member@a.example", false, false),
        ("member@a.example", true, true),
    ] {
        let (r, _) = flow(email, verified, tamper).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{email} {verified} {tamper}"
        );
        assert!(r.cookie.is_none());
    }
    let r = get(&app, "/login/oidc/callback?code=x&state=made-up", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.list_users(&all).await.unwrap().len(),
        2,
        "no account created"
    );
    let audit: Vec<String> = s
        .list_audit(&all, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(audit.iter().filter(|a| *a == "login.oidc_ok").count(), 2);
    assert!(audit.iter().any(|a| a == "login.oidc_unknown"));
    assert_eq!(
        env.count("SELECT COUNT(*) FROM oidc_logins").await,
        0,
        "every state was used or refused"
    );
}
