//! OpenID Connect single sign-on (authorization code flow with PKCE), when
//! `Config::oidc` is set.
//!
//! `GET /login/oidc` stores a fresh state (hashed), PKCE verifier and nonce
//! and sends the browser to the provider; `GET /login/oidc/callback` takes
//! the state once, exchanges the code (with the verifier and the client
//! secret) at the provider's token endpoint, checks the ID token's issuer,
//! audience, expiry and nonce and that the e-mail address is verified, and
//! signs in the existing user with that address (no account is created).
//! The service's own MFA still applies: the session starts in the same
//! stage as after a password.
//!
//! The ID token comes straight from the token endpoint over TLS, so, as
//! OpenID Connect Core 1.0 §3.1.3.7 allows, the TLS server validation
//! stands in for the token's signature; the issuer must therefore be
//! `https://` (plain `http://` only on loopback, for development and tests).

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::http::{session_cookie, AppState};
use crate::store::SessionStage;
use crate::web::auth::ClientIp;
use crate::web::{page, percent_encode, PageError};
use crate::OidcConfig;

const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RESPONSE: u64 = 256 * 1024;

/// The provider's endpoints (from its discovery document).
struct Provider {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

fn issuer_allowed(issuer: &str) -> bool {
    issuer.starts_with("https://")
        || issuer.starts_with("http://127.0.0.1")
        || issuer.starts_with("http://localhost")
        || issuer.starts_with("http://[::1]")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn read_json(mut resp: ureq::http::Response<ureq::Body>) -> Result<(u16, Value), String> {
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_string()
        .map_err(|e| format!("reading the answer: {e}"))?;
    let v = serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON: {e}"))?;
    Ok((status, v))
}

async fn discover(cfg: &OidcConfig) -> Result<Provider, String> {
    let issuer = cfg.issuer.trim_end_matches('/').to_owned();
    if !issuer_allowed(&issuer) {
        return Err(format!("the issuer {issuer} must be https://"));
    }
    let url = format!("{issuer}/.well-known/openid-configuration");
    let (status, doc) = tokio::task::spawn_blocking(move || {
        let resp = agent()
            .get(&url)
            .call()
            .map_err(|e| format!("discovery: {e}"))?;
        read_json(resp)
    })
    .await
    .map_err(|e| format!("internal task failed: {e}"))??;
    if status != 200 {
        return Err(format!("discovery answered HTTP {status}"));
    }
    let field = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("discovery document without {k}"))
    };
    let p = Provider {
        issuer: field("issuer")?,
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
    };
    if p.issuer.trim_end_matches('/') != issuer {
        return Err(format!(
            "the discovery document names issuer {}, not {issuer}",
            p.issuer
        ));
    }
    for e in [&p.authorization_endpoint, &p.token_endpoint] {
        if !issuer_allowed(e) {
            return Err(format!("endpoint {e} must be https://"));
        }
    }
    Ok(p)
}

fn redirect_uri(state: &AppState) -> String {
    format!("{}/login/oidc/callback", state.config.base_url)
}

fn pkce_challenge(verifier: &str) -> String {
    data_encoding::BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()))
}

fn unavailable(detail: &str) -> Response {
    eprintln!("portcullis serve: single sign-on: {detail}");
    (
        StatusCode::BAD_GATEWAY,
        page(
            "Single sign-on unavailable",
            None,
            maud::html! {
                h1 { "Single sign-on is not available" }
                p { "The identity provider could not be reached or answered wrongly. Try again, or sign in with your password." }
                p { a href="/login" { "Back to sign-in" } }
            },
        ),
    )
        .into_response()
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        page(
            "Single sign-on refused",
            None,
            maud::html! {
                h1 { "Single sign-on did not sign you in" }
                p { "The sign-in expired or was not valid, or your verified e-mail address has no account here, or the account is disabled or locked. Ask your organisation's administrator for an account, or try again." }
                p { a href="/login" { "Back to sign-in" } }
            },
        ),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct Start {
    #[serde(default)]
    next: Option<String>,
}

/// `GET /login/oidc`: off to the provider.
pub(crate) async fn start(
    State(state): State<AppState>,
    Query(q): Query<Start>,
) -> Result<Response, PageError> {
    let Some(cfg) = state.config.oidc.clone() else {
        return Err(PageError::NotFound);
    };
    if state.config.base_url.is_empty() {
        return Ok(unavailable(
            "set --base-url: the provider needs the address to send users back to",
        ));
    }
    let provider = match discover(&cfg).await {
        Ok(p) => p,
        Err(e) => return Ok(unavailable(&e)),
    };
    let next = super::auth::safe_next(q.next.as_deref());
    let (st, verifier, nonce) = state.store.oidc_begin(&next).await?;
    let sep = if provider.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{sep}response_type=code&client_id={}&redirect_uri={}&scope=openid%20email&state={st}&nonce={nonce}&code_challenge={}&code_challenge_method=S256",
        provider.authorization_endpoint,
        percent_encode(&cfg.client_id),
        percent_encode(&redirect_uri(&state)),
        pkce_challenge(&verifier),
    );
    Ok(Redirect::to(&url).into_response())
}

#[derive(Deserialize)]
pub(crate) struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

fn b64url_json(part: &str) -> Option<Value> {
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(part.trim_end_matches('=').as_bytes())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The verified e-mail address from an ID token, after checking issuer,
/// audience, expiry and nonce.
fn verified_email(
    id_token: &str,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: i64,
) -> Option<String> {
    let mut parts = id_token.split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    let claims = b64url_json(payload)?;
    let iss = claims.get("iss")?.as_str()?;
    if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return None;
    }
    let aud_ok = match claims.get("aud")? {
        Value::String(a) => a == client_id,
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return None;
    }
    if let Some(azp) = claims.get("azp").and_then(Value::as_str) {
        if azp != client_id {
            return None;
        }
    }
    if claims.get("exp")?.as_i64()? <= now {
        return None;
    }
    if claims.get("nonce")?.as_str()? != nonce {
        return None;
    }
    let verified = match claims.get("email_verified")? {
        Value::Bool(b) => *b,
        Value::String(s) => s == "true",
        _ => false,
    };
    if !verified {
        return None;
    }
    claims.get("email")?.as_str().map(str::to_owned)
}

/// `GET /login/oidc/callback`: back from the provider.
pub(crate) async fn callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(q): Query<Callback>,
) -> Result<Response, PageError> {
    let Some(cfg) = state.config.oidc.clone() else {
        return Err(PageError::NotFound);
    };
    let (Some(code), Some(st)) = (q.code, q.state) else {
        return Ok(refused());
    };
    let Some((verifier, nonce, next)) = state.store.oidc_take(&st).await? else {
        return Ok(refused());
    };
    let provider = match discover(&cfg).await {
        Ok(p) => p,
        Err(e) => return Ok(unavailable(&e)),
    };
    let token_endpoint = provider.token_endpoint.clone();
    let form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".to_owned(), code),
        ("redirect_uri".to_owned(), redirect_uri(&state)),
        ("code_verifier".to_owned(), verifier),
        ("client_id".to_owned(), cfg.client_id.clone()),
        ("client_secret".to_owned(), cfg.client_secret.clone()),
    ];
    let answer = tokio::task::spawn_blocking(move || {
        let resp = agent()
            .post(&token_endpoint)
            .header("accept", "application/json")
            .send_form(form)
            .map_err(|e| format!("token endpoint: {e}"))?;
        read_json(resp)
    })
    .await
    .map_err(|e| PageError::Internal(format!("internal task failed: {e}")))?;
    let (status, body) = match answer {
        Ok(a) => a,
        Err(e) => return Ok(unavailable(&e)),
    };
    if status != 200 {
        // The code was refused (expired, used, wrong verifier): not an outage.
        return Ok(refused());
    }
    let Some(id_token) = body.get("id_token").and_then(Value::as_str) else {
        return Ok(unavailable("the token answer has no id_token"));
    };
    let Some(email) = verified_email(
        id_token,
        &provider.issuer,
        &cfg.client_id,
        &nonce,
        crate::now(),
    ) else {
        return Ok(refused());
    };
    let Some(user) = state
        .store
        .oidc_login(&email, &provider.issuer, ip.as_deref())
        .await?
    else {
        return Ok(refused());
    };
    let (secret, stage) = state.store.start_session(&user, ip.as_deref()).await?;
    let next = super::auth::safe_next(Some(&next));
    let (to, age) = match stage {
        SessionStage::Full => (next, 43_200),
        SessionStage::Code => (super::auth::with_next("/login/code", &next), 900),
        SessionStage::Setup => (super::auth::with_next("/mfa/setup", &next), 900),
    };
    Ok((
        [(header::SET_COOKIE, session_cookie(&secret, age))],
        Redirect::to(&to),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &Value) -> String {
        let enc = |v: &Value| data_encoding::BASE64URL_NOPAD.encode(v.to_string().as_bytes());
        format!(
            "{}.{}.sig",
            enc(&serde_json::json!({"alg": "RS256"})),
            enc(claims)
        )
    }

    #[test]
    fn id_token_claims_are_all_checked() {
        let good = serde_json::json!({"iss": "https://idp.example", "aud": "portcullis", "exp": 2000, "nonce": "n1", "email": "a@b.example", "email_verified": true});
        let check =
            |c: &Value| verified_email(&token(c), "https://idp.example/", "portcullis", "n1", 1000);
        assert_eq!(check(&good).as_deref(), Some("a@b.example"));
        for (k, v) in [
            ("iss", serde_json::json!("https://evil.example")),
            ("aud", serde_json::json!("someone-else")),
            ("exp", serde_json::json!(999)),
            ("nonce", serde_json::json!("n2")),
            ("email_verified", serde_json::json!(false)),
            ("azp", serde_json::json!("someone-else")),
        ] {
            let mut bad = good.clone();
            bad[k] = v;
            assert_eq!(check(&bad), None, "{k}");
        }
        let mut multi = good.clone();
        multi["aud"] = serde_json::json!(["x", "portcullis"]);
        assert!(check(&multi).is_some());
        assert_eq!(
            verified_email("garbage", "https://idp.example", "p", "n", 0),
            None
        );
        assert!(!issuer_allowed("http://idp.example"));
        assert!(issuer_allowed("http://127.0.0.1:8080"));
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
