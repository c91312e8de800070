//! Pages: sign in (password, then a TOTP or recovery code), MFA set-up,
//! the user's own account (sessions, password) and sign out.
//!
//! Sign-in is two steps for users with MFA: the password starts a session
//! in the `code` stage, and only a valid code turns it into a new, full
//! session. Users whose role requires MFA and who have none get a session in
//! the `setup` stage, which reaches only `/mfa/setup` (and `/logout`).

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::{session_cookie, session_secret, AppState};
use crate::store::{otpauth_uri, SessionStage, User};
use crate::web::{
    constant_time_eq, csrf_field, csrf_token, format_time, page, percent_encode, CurrentUser,
    PageError,
};
use crate::StoreError;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/code", get(code_page).post(code_submit))
        .route("/login/oidc", get(super::oidc::start))
        .route("/login/oidc/callback", get(super::oidc::callback))
        .route("/mfa/setup", get(setup_page).post(setup_submit))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/revoke", post(revoke_session))
        .route("/logout", post(logout))
}

/// The full session's lifetime, for the cookie.
const FULL_COOKIE_SECONDS: u32 = 43_200;
/// A half-signed-in session's lifetime, for the cookie.
const PENDING_COOKIE_SECONDS: u32 = 900;

/// The one answer to every refused sign-in.
const REFUSED: &str = "Wrong e-mail address or password, or sign-in is paused for this account or network after repeated failures. Check and try again, or wait 15 minutes.";

/// The client's address for the sign-in limits: the socket's peer (from
/// axum's `ConnectInfo`), or, when the service is configured to trust a
/// reverse proxy (`--trust-proxy`), the last address in `X-Forwarded-For`.
/// IPv6 addresses are reduced to their /64 network (one customer's
/// allocation), so an attacker cannot escape the limits by rotating
/// addresses within it. `None` when unknown (then only the per-account and
/// service-wide defences apply).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state.config.trust_proxy)))
    }
}

fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip_key(ip));
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| ip_key(c.0.ip()))
}

fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// A session in any stage (for the sign-in steps and MFA set-up).
struct AnySession {
    user: User,
    stage: SessionStage,
    secret: String,
    csrf: String,
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(secret) = session_secret(&parts.headers) else {
            return Err(PageError::Redirect("/login".into()));
        };
        match state.store.session_auth(secret).await {
            Ok((user, stage)) => Ok(AnySession {
                user,
                stage,
                csrf: csrf_token(secret),
                secret: secret.to_owned(),
            }),
            Err(StoreError::Unauthorized) => Err(PageError::Redirect("/login".into())),
            Err(e) => Err(e.into()),
        }
    }
}

impl AnySession {
    fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only same-site paths are followed after sign-in.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub(crate) fn with_next(path: &str, next: &str) -> String {
    if next == "/" {
        path.to_owned()
    } else {
        format!("{path}?next={}", percent_encode(next))
    }
}

fn cookie_redirect(secret: &str, max_age: u32, to: &str) -> Response {
    (
        [(header::SET_COOKIE, session_cookie(secret, max_age))],
        Redirect::to(to),
    )
        .into_response()
}

fn login_form(next: &str, error: Option<&str>, sso: bool) -> Markup {
    page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            form class="stack card" method="post" action="/login" {
                input type="hidden" name="next" value=(next);
                label for="email" { "E-mail address" }
                input id="email" name="email" type="email" autocomplete="username" required;
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                p { button type="submit" { "Sign in" } }
            }
            @if sso {
                p { a class="button" href=(with_next("/login/oidc", next)) { "Sign in with single sign-on" } }
            }
        },
    )
}

async fn login_page(State(state): State<AppState>, Query(q): Query<Next>) -> Markup {
    login_form(
        &safe_next(q.next.as_deref()),
        None,
        state.config.oidc.is_some(),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(f.next.as_deref());
    let Some(user) = state
        .store
        .login_from(&f.email, &f.password, ip.as_deref())
        .await?
    else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            login_form(&next, Some(REFUSED), state.config.oidc.is_some()),
        )
            .into_response());
    };
    let (secret, stage) = state.store.start_session(&user, ip.as_deref()).await?;
    Ok(match stage {
        SessionStage::Full => cookie_redirect(&secret, FULL_COOKIE_SECONDS, &next),
        SessionStage::Code => cookie_redirect(
            &secret,
            PENDING_COOKIE_SECONDS,
            &with_next("/login/code", &next),
        ),
        SessionStage::Setup => cookie_redirect(
            &secret,
            PENDING_COOKIE_SECONDS,
            &with_next("/mfa/setup", &next),
        ),
    })
}

fn code_form(s: &AnySession, next: &str, error: Option<&str>) -> Markup {
    page(
        "Enter your code",
        None,
        html! {
            h1 { "Enter your code" }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            p { "Signing in as " strong { (s.user.email) } ". Enter the 6-digit code from your authenticator app, or one of your recovery codes." }
            form class="stack card" method="post" action="/login/code" {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="next" value=(next);
                label for="code" { "Code" }
                input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required;
                p { button type="submit" { "Continue" } }
            }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(s.csrf);
                button class="link" type="submit" { "Cancel and sign out" }
            }
        },
    )
}

/// Where a session of `stage` belongs, if not on the page asked for.
fn elsewhere(stage: SessionStage, here: SessionStage, next: &str) -> Option<Response> {
    if stage == here {
        return None;
    }
    Some(
        Redirect::to(&match stage {
            SessionStage::Full => next.to_owned(),
            SessionStage::Code => with_next("/login/code", next),
            SessionStage::Setup => with_next("/mfa/setup", next),
        })
        .into_response(),
    )
}

async fn code_page(s: AnySession, Query(q): Query<Next>) -> Response {
    let next = safe_next(q.next.as_deref());
    if let Some(r) = elsewhere(s.stage, SessionStage::Code, &next) {
        return r;
    }
    code_form(&s, &next, None).into_response()
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: Option<String>,
}

async fn code_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    s: AnySession,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    s.check_csrf(&f.csrf)?;
    let next = safe_next(f.next.as_deref());
    if let Some(r) = elsewhere(s.stage, SessionStage::Code, &next) {
        return Ok(r);
    }
    match state
        .store
        .verify_second_factor(&s.secret, &f.code, ip.as_deref())
        .await
    {
        Ok(Some((_, secret))) => Ok(cookie_redirect(&secret, FULL_COOKIE_SECONDS, &next)),
        Ok(None) => {
            // Still waiting for a code, or ended after too many wrong ones.
            if state.store.session_auth(&s.secret).await.is_ok() {
                Ok((
                    StatusCode::UNAUTHORIZED,
                    code_form(&s, &next, Some("That code is wrong, already used or expired. Wait for the next code and try again.")),
                )
                    .into_response())
            } else {
                Ok((
                    StatusCode::UNAUTHORIZED,
                    [(header::SET_COOKIE, session_cookie("", 0))],
                    login_form(&next, Some(REFUSED), state.config.oidc.is_some()),
                )
                    .into_response())
            }
        }
        Err(StoreError::Unauthorized) => Err(PageError::Redirect("/login".into())),
        Err(e) => Err(e.into()),
    }
}

/// The otpauth URI as a QR code, an SVG image in a `data:` URI (so no
/// generated markup is ever inserted into the page unescaped).
fn qr_data_uri(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        data_encoding::BASE64.encode(svg.as_bytes())
    ))
}

fn setup_form(s: &AnySession, secret: &str, next: &str, error: Option<&str>) -> Markup {
    let uri = otpauth_uri(&s.user.email, secret);
    let grouped: Vec<&str> = secret
        .as_bytes()
        .chunks(4)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    page(
        "Set up two-factor authentication",
        None,
        html! {
            h1 { "Set up two-factor authentication" }
            @if let Some(e) = error { p class="error" role="alert" { (e) } }
            @if s.stage == SessionStage::Setup {
                p { "Your role (" (s.user.role.as_str().replace('_', " ")) ") must sign in with a second factor. Set it up now to continue." }
            }
            ol class="stack" {
                li { "Open an authenticator app (any that supports TOTP, RFC 6238)." }
                li {
                    "Scan this code, or enter the secret by hand."
                    div class="mfa-setup" {
                        @if let Some(src) = qr_data_uri(&uri) {
                            img class="qr" src=(src) width="200" height="200" alt="QR code of the set-up link below";
                        }
                        dl {
                            dt { "Secret" }
                            dd { code class="secret" { (grouped.join(" ")) } }
                            dt { "Set-up link" }
                            dd { code class="uri" { (uri) } }
                            dt { "Settings" }
                            dd { "time-based, SHA-1, 6 digits, 30 seconds" }
                        }
                    }
                }
                li { "Enter the 6-digit code the app shows." }
            }
            form class="stack card" method="post" action="/mfa/setup" {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="next" value=(next);
                label for="code" { "Code from the app" }
                input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required;
                p { button type="submit" { "Turn on two-factor authentication" } }
            }
        },
    )
}

async fn setup_page(
    State(state): State<AppState>,
    s: AnySession,
    Query(q): Query<Next>,
) -> Result<Response, PageError> {
    let next = safe_next(q.next.as_deref());
    if s.stage == SessionStage::Code {
        return Ok(Redirect::to(&with_next("/login/code", &next)).into_response());
    }
    match state.store.totp_setup_secret(&s.user).await? {
        Some(secret) => Ok(setup_form(&s, &secret, &next, None).into_response()),
        None => Ok(page(
            "Two-factor authentication",
            None,
            html! {
                h1 { "Two-factor authentication is on" }
                p { "Your account already has two-factor authentication. If you lost your authenticator, use a recovery code when you sign in, or ask an administrator to reset it." }
                p { a href="/account" { "Back to your account" } }
            },
        )
        .into_response()),
    }
}

async fn setup_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    s: AnySession,
    Form(f): Form<CodeForm>,
) -> Result<Response, PageError> {
    s.check_csrf(&f.csrf)?;
    let next = safe_next(f.next.as_deref());
    if s.stage == SessionStage::Code {
        return Ok(Redirect::to(&with_next("/login/code", &next)).into_response());
    }
    match state
        .store
        .confirm_totp(&s.secret, &f.code, ip.as_deref())
        .await?
    {
        Some((secret, codes)) => Ok((
            [
                (header::SET_COOKIE, session_cookie(&secret, FULL_COOKIE_SECONDS)),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            page(
                "Recovery codes",
                None,
                html! {
                    h1 { "Two-factor authentication is on" }
                    p { "Keep these recovery codes somewhere safe (a password manager, or printed). Each signs you in once if you lose your authenticator. " strong { "They are shown only now." } }
                    ul class="recovery-codes" {
                        @for c in &codes { li { code { (c) } } }
                    }
                    p { a class="button" href=(next) { "Continue" } }
                },
            ),
        )
            .into_response()),
        None => {
            let secret = state
                .store
                .totp_setup_secret(&s.user)
                .await?
                .unwrap_or_default();
            if state.store.session_auth(&s.secret).await.is_err() {
                return Ok((
                    StatusCode::UNAUTHORIZED,
                    [(header::SET_COOKIE, session_cookie("", 0))],
                    login_form(&next, Some(REFUSED), state.config.oidc.is_some()),
                )
                    .into_response());
            }
            Ok((
                StatusCode::BAD_REQUEST,
                setup_form(&s, &secret, &next, Some("That code does not match. Check the app's clock and enter the newest code.")),
            )
                .into_response())
        }
    }
}

async fn account_page(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<Markup, PageError> {
    let secret = session_secret(&headers).unwrap_or_default();
    let sessions = state.store.list_own_sessions(&user.user, secret).await?;
    let mfa = state.store.has_mfa(&user.user).await?;
    Ok(page(
        "Your account",
        Some(&user),
        html! {
            h1 { "Your account" }
            dl class="facts" {
                dt { "E-mail" } dd { (user.user.email) }
                dt { "Role" } dd { (user.user.role.as_str().replace('_', " ")) }
                dt { "Two-factor authentication" }
                dd {
                    @if mfa { "on" } @else { "off " a href="/mfa/setup" { "(set it up)" } }
                }
            }
            h2 { "Signed-in sessions" }
            table {
                thead { tr { th scope="col" { "Started" } th scope="col" { "Ends" } th scope="col" { "From" } th scope="col" { span class="visually-hidden" { "Action" } } } }
                tbody {
                    @for s in &sessions {
                        tr {
                            td { (format_time(s.created_at)) @if s.current { " (this one)" } }
                            td { (format_time(s.expires_at)) }
                            td { @if s.ip.is_empty() { "unknown" } @else { (s.ip) } }
                            td {
                                form method="post" action=(format!("/account/sessions/{}/revoke", s.id)) {
                                    (csrf_field(&user))
                                    button type="submit" { "Sign out this session" }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Change your password" }
            p { "Changing it signs out every session, this one included." }
            form class="stack card" method="post" action="/account/password" {
                (csrf_field(&user))
                label for="current" { "Current password" }
                input id="current" name="current" type="password" autocomplete="current-password" required;
                label for="new" { "New password (12 characters or more)" }
                input id="new" name="new" type="password" autocomplete="new-password" minlength="12" required;
                p { button type="submit" { "Change password" } }
            }
        },
    ))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    if state
        .store
        .change_password(&user.user, &f.current, &f.new)
        .await?
    {
        Ok(cookie_redirect("", 0, "/login"))
    } else {
        Err(PageError::BadRequest(
            "The current password is wrong. Nothing was changed.".into(),
        ))
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn revoke_session(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    let Ok(Path(id)) = id else {
        return Err(PageError::NotFound);
    };
    state.store.end_own_session(&user.user, id).await?;
    Ok(Redirect::to("/account").into_response())
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Some(secret) = session_secret(&headers) {
        // Only a form from this session may end it.
        if !constant_time_eq(csrf_token(secret).as_bytes(), f.csrf.as_bytes()) {
            return Err(PageError::Csrf);
        }
        state.store.end_session(secret).await?;
    }
    Ok(cookie_redirect("", 0, "/login"))
}
