//! Pages: sign in and sign out.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;

use crate::http::{session_cookie, session_secret, AppState};
use crate::web::{csrf_token, page, PageError};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Deserialize)]
struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only same-site paths are followed after sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn login_form(next: &str, error: Option<&str>) -> maud::Markup {
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
        },
    )
}

async fn login_page(Query(q): Query<Next>) -> maud::Markup {
    login_form(&safe_next(q.next.as_deref()), None)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(f.next.as_deref());
    let Some(user) = state.store.login(&f.email, &f.password).await? else {
        return Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            login_form(
                &next,
                Some("Wrong e-mail address or password, or the account is locked for 15 minutes after 5 failures."),
            ),
        )
            .into_response());
    };
    let secret = state.store.create_session(&user).await?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&secret, 43_200))],
        Redirect::to(&next),
    )
        .into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Some(secret) = session_secret(&headers) {
        // Only a form from this session may end it.
        if csrf_token(secret) != f.csrf {
            return Err(PageError::Csrf);
        }
        state.store.end_session(secret).await?;
    }
    Ok((
        [(header::SET_COOKIE, session_cookie("", 0))],
        Redirect::to("/login"),
    )
        .into_response())
}
