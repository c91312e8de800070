//! Server-rendered pages for people: the layout, the signed-in user, CSRF
//! protection and error pages. Each area lives in its own module and
//! contributes a `routes()` router; [`routes`] merges them.
//!
//! Invariants:
//! - Every page handler that shows tenant data takes a [`CurrentUser`] and
//!   passes `user.tenant()` to the [`crate::Store`]; no page writes SQL.
//! - Every state-changing form is a `POST` carrying the `csrf` field, checked
//!   with [`CurrentUser::check_csrf`] before anything else happens.
//! - HTML is produced with `maud`, which escapes every interpolated value;
//!   `PreEscaped` is used only for constant strings written here.

pub mod admin;
pub mod auth;
pub mod certification;
pub mod incidents;
mod oidc;
pub mod org;
pub mod overview;
pub mod search;
pub mod support;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

use crate::http::{session_secret, AppState};
use crate::store::{Tenant, User};
use crate::{Role, StoreError};

/// Every page route, merged.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .merge(auth::routes())
        .merge(admin::routes())
        .merge(overview::routes())
        .merge(org::routes())
        .merge(search::routes())
        .merge(incidents::routes())
        .merge(certification::routes())
        .merge(support::routes())
}

/// The stylesheet: the base, then each area's own file.
const CSS: &str = concat!(
    include_str!("../../static/base.css"),
    include_str!("../../static/overview.css"),
    include_str!("../../static/incidents.css"),
    include_str!("../../static/certification.css"),
    include_str!("../../static/auth.css"),
);

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// The signed-in person behind a page request (from the session cookie).
///
/// As an extractor it refuses requests without a valid session: a `GET` is
/// redirected to `/login?next=…`, anything else gets a 401 page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: User,
    /// The CSRF token to put in every form (`<input name="csrf">`).
    pub csrf: String,
}

impl CurrentUser {
    /// The scope this user acts in.
    pub fn tenant(&self) -> Tenant {
        self.user.tenant()
    }

    /// True for the cyber unit's roles (analyst, site admin).
    pub fn is_cyber_unit(&self) -> bool {
        matches!(self.user.role, Role::Analyst | Role::SiteAdmin)
    }

    /// Checks a submitted form's CSRF token (constant time).
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if constant_time_eq(self.csrf.as_bytes(), submitted.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }

    /// Refuses unless the user has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), PageError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }
}

/// The CSRF token bound to a session: SHA-256 of a fixed label and the
/// session secret. It needs no storage, changes with every session, and
/// cannot be computed without the (HttpOnly) session cookie.
pub fn csrf_token(session_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"portcullis-csrf-v1:");
    h.update(session_secret.as_bytes());
    crate::store::hex(&h.finalize())
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let not_signed_in = || PageError::NotSignedIn {
            next: next.clone(),
            get: parts.method == axum::http::Method::GET,
        };
        let Some(secret) = session_secret(&parts.headers) else {
            return Err(not_signed_in());
        };
        match state.store.session_user(secret).await {
            Ok(user) => Ok(CurrentUser {
                csrf: csrf_token(secret),
                user,
            }),
            Err(StoreError::Unauthorized) => {
                // A half-signed-in session reaches only its next step.
                match state.store.session_auth(secret).await {
                    Ok((_, crate::store::SessionStage::Code)) => Err(PageError::Redirect(format!(
                        "/login/code?next={}",
                        percent_encode(&next)
                    ))),
                    Ok((_, crate::store::SessionStage::Setup)) => Err(PageError::Redirect(
                        format!("/mfa/setup?next={}", percent_encode(&next)),
                    )),
                    _ => Err(not_signed_in()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// No valid session: `GET`s are redirected to the sign-in page.
    NotSignedIn {
        /// Where to return after signing in.
        next: String,
        /// Whether the request was a `GET`.
        get: bool,
    },
    /// The user's role does not allow this.
    Forbidden,
    /// Nothing in the user's scope has that ID.
    NotFound,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// The input is wrong: the message says what to change.
    BadRequest(String),
    /// Something failed on our side (the detail is not shown).
    Internal(String),
    /// The session is half signed in: go to this same-site path (the
    /// second factor, or MFA set-up) first; the request is redirected there.
    Redirect(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden => PageError::Forbidden,
            StoreError::NotFound => PageError::NotFound,
            StoreError::Unauthorized => PageError::NotSignedIn {
                next: "/".into(),
                get: true,
            },
            StoreError::Invalid(m) | StoreError::Conflict(m) => PageError::BadRequest(m),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            PageError::Redirect(to) => {
                return Redirect::to(&to).into_response();
            }
            PageError::NotSignedIn { next, get: true } => {
                let safe_next = if next.starts_with('/') && !next.starts_with("//") {
                    next
                } else {
                    "/".into()
                };
                let target = format!("/login?next={}", percent_encode(&safe_next));
                return Redirect::to(&target).into_response();
            }
            PageError::NotSignedIn { .. } => (
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                "Your session has ended. Sign in again and repeat what you were doing.".to_owned(),
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your role does not allow this. Ask your organisation's administrator.".to_owned(),
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here, or it belongs to another organisation.".to_owned(),
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form was out of date or did not come from this site. Go back, reload the page and try again.".to_owned(),
            ),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Please check the form", m),
            PageError::Internal(detail) => {
                eprintln!("portcullis serve: internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The service could not complete this. Try again; if it keeps failing, tell the site administrator.".to_owned(),
                )
            }
        };
        let body = page(
            title,
            None,
            html! { h1 { (title) } p { (text) } p { a href="/" { "Back to the start" } } },
        );
        (status, body).into_response()
    }
}

/// Percent-encodes a string for a query parameter value.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The hidden CSRF field for a form.
pub fn csrf_field(user: &CurrentUser) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf); }
}

/// A whole page: head, navigation for the user's role, and `body`.
pub fn page(title: &str, user: Option<&CurrentUser>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Portcullis" }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/" { (PreEscaped("&#x1F3F0;")) " Portcullis" }
                    @if let Some(u) = user {
                        nav aria-label="Main" {
                            a href="/" { "Overview" }
                            a href="/search" { "Search" }
                            a href="/incidents" { "Incidents" }
                            a href="/certification" { "Certification" }
                            a href="/support" { "Funded support" }
                            @if matches!(u.user.role, Role::OrgAdmin | Role::SiteAdmin | Role::Analyst) {
                                a href="/admin" { "Admin" }
                            }
                            a href="/account" { "Account" }
                        }
                        form class="signout" method="post" action="/logout" {
                            (csrf_field(u))
                            span class="who" { (u.user.email) " · " (u.user.role.as_str().replace('_', " ")) }
                            button type="submit" { "Sign out" }
                        }
                    } @else {
                        nav aria-label="Main" {
                            a href="/support" { "Funded support" }
                            a href="/login" { "Sign in" }
                        }
                    }
                }
                main id="main" { (body) }
                footer { "Portcullis · " a href="/api/v1/openapi.json" { "API" } }
            }
        }
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC` (the proleptic Gregorian calendar).
pub fn format_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}
