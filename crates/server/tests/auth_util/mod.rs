//! Helpers for the auth, admin and route-matrix tests: requests through the
//! real router, sign-in through the real pages (with an independent TOTP
//! implementation), and raw SQL on the test database for setting up states
//! that only time would produce (expired sessions, old attempts).
#![allow(dead_code)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hmac::{Hmac, Mac};
use portcullis_server::Store;
use tower::ServiceExt;

/// The start of a page, for failure messages.
pub fn head(body: &str) -> String {
    body.chars().take(400).collect()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookie: Option<String>,
    pub body: String,
}

pub async fn send(app: &axum::Router, req: Request<Body>) -> Resp {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap();
    Resp {
        status,
        location,
        cookie,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A request with an optional cookie and source address (as axum's
/// `ConnectInfo` would set it for a real socket).
pub fn req(
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<String>,
    ip: Option<&str>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    if body.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    let mut r = b.body(Body::from(body.unwrap_or_default())).unwrap();
    if let Some(ip) = ip {
        let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
        r.extensions_mut().insert(ConnectInfo(addr));
    }
    r
}

pub async fn get(app: &axum::Router, path: &str, cookie: Option<&str>) -> Resp {
    send(app, req("GET", path, cookie, None, None)).await
}

pub async fn post(
    app: &axum::Router,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Resp {
    send(app, req("POST", path, cookie, Some(form(fields)), None)).await
}

/// TOTP (RFC 6238, SHA-1, 30 s, 6 digits), written independently of the server's.
pub fn totp(secret_base32: &str, t: i64) -> String {
    let key = data_encoding::BASE32_NOPAD
        .decode(secret_base32.as_bytes())
        .unwrap();
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key).unwrap();
    mac.update(&((t / 30) as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 15) as usize;
    let v = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{v:06}")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The value of the first `name="csrf"` field of a page.
pub fn csrf_of(body: &str) -> String {
    let i = body
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {}", head(body)));
    let rest = &body[i + 19..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The TOTP secret shown on the set-up page.
pub fn secret_of(body: &str) -> String {
    let i = body
        .find("<code class=\"secret\">")
        .unwrap_or_else(|| panic!("no secret in {}", head(body)));
    let rest = &body[i + 21..];
    rest[..rest.find('<').unwrap()].replace(' ', "")
}

/// A fully signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    /// The TOTP secret, when the user has MFA.
    pub totp: Option<String>,
}

/// Signs in through the pages. A user whose role requires MFA and has none
/// sets it up (with the current code); a user with MFA (`totp`) gives the
/// code of the *next* step (the current one may have been used at set-up).
pub async fn sign_in(
    app: &axum::Router,
    email: &str,
    pw: &str,
    totp_secret: Option<&str>,
) -> Session {
    let r = post(app, "/login", None, &[("email", email), ("password", pw)]).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "sign-in of {email}: {}",
        head(&r.body)
    );
    let cookie = r.cookie.unwrap();
    let loc = r.location.unwrap();
    let (cookie, secret) = if loc.starts_with("/mfa/setup") {
        let page = get(app, "/mfa/setup", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", head(&page.body));
        let secret = secret_of(&page.body);
        let csrf = csrf_of(&page.body);
        let r = post(
            app,
            "/mfa/setup",
            Some(&cookie),
            &[("csrf", &csrf), ("code", &totp(&secret, now()))],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", head(&r.body));
        (r.cookie.unwrap(), Some(secret))
    } else if loc.starts_with("/login/code") {
        let secret = totp_secret
            .expect("this user has MFA: pass its secret")
            .to_owned();
        let page = get(app, "/login/code", Some(&cookie)).await;
        let csrf = csrf_of(&page.body);
        let r = post(
            app,
            "/login/code",
            Some(&cookie),
            &[("csrf", &csrf), ("code", &totp(&secret, now() + 30))],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", head(&r.body));
        (r.cookie.unwrap(), Some(secret))
    } else {
        (cookie, None)
    };
    let page = get(app, "/account", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", head(&page.body));
    Session {
        csrf: csrf_of(&page.body),
        cookie,
        totp: secret,
    }
}

/// A fresh store plus raw SQL access to its database (SQLite in a temp dir,
/// or PostgreSQL in a fresh schema when PORTCULLIS_TEST_POSTGRES_URL is set).
pub struct RawEnv {
    pub store: Store,
    sqlite: Option<std::path::PathBuf>,
    pg_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub async fn fresh_raw() -> RawEnv {
    match std::env::var("PORTCULLIS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!(
                "ta_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::raw_sql(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .execute(&mut conn)
            .await
            .unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            RawEnv {
                store: Store::open(&url).await.unwrap(),
                sqlite: None,
                pg_url: Some(url),
                _dir: None,
            }
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("portcullis.db");
            RawEnv {
                store: Store::open(path.to_str().unwrap()).await.unwrap(),
                sqlite: Some(path),
                pg_url: None,
                _dir: Some(dir),
            }
        }
    }
}

impl RawEnv {
    /// Runs SQL statements directly (only for arranging test states).
    pub async fn exec(&self, sql: &str) {
        if let Some(path) = &self.sqlite {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            c.execute_batch(sql).unwrap();
        } else if let Some(url) = &self.pg_url {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
    }

    /// The single integer a query returns (only for checking test states).
    pub async fn count(&self, sql: &str) -> i64 {
        if let Some(path) = &self.sqlite {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            c.query_row(sql, [], |r| r.get(0)).unwrap()
        } else {
            let url = self.pg_url.as_ref().unwrap();
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}
