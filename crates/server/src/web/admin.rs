//! Pages: administration. Site admins manage organisations and the users of
//! every organisation; organisation admins manage their own organisation's
//! users (not analysts or site admins), enrolment tokens and host tokens;
//! the audit log is open to organisation admins (their organisation),
//! analysts and site admins (everything).
//!
//! Every write is a `POST` whose CSRF token is checked first, then the role;
//! the store checks the tenant scope again and audits the change with the
//! acting user.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::AppState;
use crate::store::OrgId;
use crate::web::{csrf_field, format_time, page, CurrentUser, PageError};
use crate::{Role, Sector};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/orgs", get(orgs_page).post(create_org))
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}/reset-mfa", post(reset_mfa))
        .route("/admin/users/{id}/disable", post(disable_user))
        .route("/admin/users/{id}/enable", post(enable_user))
        .route("/admin/tokens", get(tokens_page).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/audit", get(audit_page))
}

/// Who may manage users and tokens.
const ADMINS: &[Role] = &[Role::OrgAdmin, Role::SiteAdmin];
/// Who may read the audit log.
const AUDITORS: &[Role] = &[Role::OrgAdmin, Role::SiteAdmin, Role::Analyst];

fn actor(user: &CurrentUser) -> String {
    format!("user:{}", user.user.email)
}

fn role_name(r: Role) -> String {
    r.as_str().replace('_', " ")
}

fn sector_name(s: Sector) -> String {
    s.as_str().replace('_', " ")
}

/// The roles `user` may give.
fn grantable(user: &CurrentUser) -> &'static [Role] {
    if user.user.role == Role::SiteAdmin {
        Role::ALL
    } else {
        &[Role::Member, Role::OrgAdmin, Role::Assessor]
    }
}

fn id_of(id: Result<Path<i64>, PathRejection>) -> Result<i64, PageError> {
    id.map(|Path(i)| i).map_err(|_| PageError::NotFound)
}

async fn org_names(
    state: &AppState,
    user: &CurrentUser,
) -> Result<HashMap<i64, String>, PageError> {
    Ok(state
        .store
        .list_organisations(&user.tenant())
        .await?
        .into_iter()
        .map(|o| (o.id.0, o.name))
        .collect())
}

async fn index(user: CurrentUser) -> Result<Markup, PageError> {
    user.require_role(AUDITORS)?;
    let role = user.user.role;
    Ok(page(
        "Administration",
        Some(&user),
        html! {
            h1 { "Administration" }
            ul class="admin-links" {
                @if role == Role::SiteAdmin {
                    li { a href="/admin/orgs" { "Organisations" } " — create and list organisations" }
                }
                @if ADMINS.contains(&role) {
                    li { a href="/admin/users" { "Users" } " — create users, reset two-factor authentication, disable accounts" }
                    li { a href="/admin/tokens" { "Tokens" } " — enrolment tokens for agents, and the hosts' tokens" }
                }
                li { a href="/admin/audit" { "Audit log" } " — every change and every sign-in" }
            }
        },
    ))
}

async fn orgs_page(State(state): State<AppState>, user: CurrentUser) -> Result<Markup, PageError> {
    user.require_role(&[Role::SiteAdmin])?;
    let orgs = state.store.list_organisations(&user.tenant()).await?;
    Ok(page(
        "Organisations",
        Some(&user),
        html! {
            h1 { "Organisations" }
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Sector" } th scope="col" class="num" { "Staff" } } }
                tbody {
                    @for o in &orgs {
                        tr { td { (o.name) } td { (sector_name(o.sector)) } td class="num" { (o.size) } }
                    }
                }
            }
            h2 { "Add an organisation" }
            form class="stack card" method="post" action="/admin/orgs" {
                (csrf_field(&user))
                label for="name" { "Name" }
                input id="name" name="name" required maxlength="200";
                label for="sector" { "Sector" }
                select id="sector" name="sector" {
                    @for s in Sector::ALL { option value=(s.as_str()) { (sector_name(*s)) } }
                }
                label for="size" { "Staff (a number)" }
                input id="size" name="size" type="number" min="0" required;
                p { button type="submit" { "Add organisation" } }
            }
        },
    ))
}

#[derive(Deserialize)]
struct OrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    size: String,
}

async fn create_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<OrgForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    user.require_role(&[Role::SiteAdmin])?;
    let name = f.name.trim();
    if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(PageError::BadRequest(
            "The name must be 1 to 200 printable characters.".into(),
        ));
    }
    let sector = Sector::parse(&f.sector)
        .ok_or_else(|| PageError::BadRequest("Choose a sector from the list.".into()))?;
    let size = f
        .size
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (0..=10_000_000).contains(s))
        .ok_or_else(|| {
            PageError::BadRequest(
                "The size is the number of staff: a whole number, 0 or more.".into(),
            )
        })?;
    state
        .store
        .create_organisation_as(&user.tenant(), &actor(&user), name, sector, size)
        .await?;
    Ok(Redirect::to("/admin/orgs").into_response())
}

async fn users_page(State(state): State<AppState>, user: CurrentUser) -> Result<Markup, PageError> {
    user.require_role(ADMINS)?;
    let users = state.store.list_users(&user.tenant()).await?;
    let orgs = org_names(&state, &user).await?;
    let site = user.user.role == Role::SiteAdmin;
    Ok(page(
        "Users",
        Some(&user),
        html! {
            h1 { "Users" }
            table {
                thead { tr {
                    th scope="col" { "E-mail" }
                    @if site { th scope="col" { "Organisation" } }
                    th scope="col" { "Role" } th scope="col" { "Two-factor" } th scope="col" { "State" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for u in &users {
                        @let manageable = site || !matches!(u.role, Role::Analyst | Role::SiteAdmin);
                        tr {
                            td { (u.email) }
                            @if site { td { (orgs.get(&u.org.0).map_or("?", String::as_str)) } }
                            td { (role_name(u.role)) }
                            td { @if u.mfa { "on" } @else { "off" } }
                            td {
                                @if let Some(at) = u.disabled_at { "disabled " (format_time(at)) }
                                @else if u.locked { "locked (failed sign-ins)" }
                                @else { "active" }
                            }
                            td class="actions" {
                                @if manageable && u.id != user.user.id {
                                    @if u.mfa {
                                        form method="post" action=(format!("/admin/users/{}/reset-mfa", u.id)) {
                                            (csrf_field(&user)) button type="submit" { "Reset two-factor" }
                                        }
                                    }
                                    @if u.disabled_at.is_some() {
                                        form method="post" action=(format!("/admin/users/{}/enable", u.id)) {
                                            (csrf_field(&user)) button type="submit" { "Enable" }
                                        }
                                    } @else {
                                        form method="post" action=(format!("/admin/users/{}/disable", u.id)) {
                                            (csrf_field(&user)) button type="submit" { "Disable" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Add a user" }
            p { "The user gets a one-time password shown on the next page; give it to them privately. They sign in with it, set up two-factor authentication if their role needs it, and should change it under Account." }
            form class="stack card" method="post" action="/admin/users" {
                (csrf_field(&user))
                label for="email" { "E-mail address" }
                input id="email" name="email" type="email" required maxlength="320";
                label for="role" { "Role" }
                select id="role" name="role" {
                    @for r in grantable(&user) { option value=(r.as_str()) { (role_name(*r)) } }
                }
                @if site {
                    label for="org" { "Organisation" }
                    select id="org" name="org" {
                        @for (id, name) in sorted(&orgs) { option value=(id) { (name) } }
                    }
                }
                p { button type="submit" { "Add user" } }
            }
        },
    ))
}

fn sorted(orgs: &HashMap<i64, String>) -> Vec<(i64, &str)> {
    let mut v: Vec<(i64, &str)> = orgs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    v.sort_by(|a, b| a.1.cmp(b.1));
    v
}

#[derive(Deserialize)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    org: Option<String>,
}

fn one_time_password() -> Result<String, PageError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| PageError::Internal(format!("no randomness: {e}")))?;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(bytes
        .iter()
        .filter_map(|b| ALPHABET.get(usize::from(*b) % ALPHABET.len()))
        .map(|b| char::from(*b))
        .collect())
}

async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<UserForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    user.require_role(ADMINS)?;
    let role = Role::parse(&f.role)
        .filter(|r| grantable(&user).contains(r))
        .ok_or_else(|| PageError::BadRequest("Choose a role from the list.".into()))?;
    let org = if user.user.role == Role::SiteAdmin {
        OrgId(
            f.org
                .as_deref()
                .and_then(|o| o.trim().parse::<i64>().ok())
                .ok_or_else(|| PageError::BadRequest("Choose an organisation.".into()))?,
        )
    } else {
        user.user.org
    };
    // An organisation outside the scope is "not found", like any other ID.
    if !user.tenant().covers(org)
        || !state
            .store
            .list_organisations(&user.tenant())
            .await?
            .iter()
            .any(|o| o.id == org)
    {
        return Err(PageError::NotFound);
    }
    let password = one_time_password()?;
    state
        .store
        .create_user_as(
            &user.tenant(),
            &actor(&user),
            org,
            &f.email,
            &password,
            role,
        )
        .await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        page(
            "User added",
            Some(&user),
            html! {
                h1 { "User added" }
                p { strong { (f.email.trim().to_ascii_lowercase()) } " (" (role_name(role)) ") can now sign in with this one-time password. It is shown only now:" }
                p { code class="secret" { (password) } }
                p { a href="/admin/users" { "Back to users" } }
            },
        ),
    )
        .into_response())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn reset_mfa(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    user.require_role(ADMINS)?;
    let id = id_of(id)?;
    state
        .store
        .reset_mfa(&user.tenant(), &actor(&user), id)
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

async fn set_disabled(
    state: &AppState,
    user: &CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    csrf: &str,
    disabled: bool,
) -> Result<Response, PageError> {
    user.check_csrf(csrf)?;
    user.require_role(ADMINS)?;
    let id = id_of(id)?;
    if id == user.user.id {
        return Err(PageError::BadRequest(
            "You cannot disable or enable your own account; ask another administrator.".into(),
        ));
    }
    state
        .store
        .set_user_disabled(&user.tenant(), &actor(user), id, disabled)
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

async fn disable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    set_disabled(&state, &user, id, &f.csrf, true).await
}

async fn enable_user(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    set_disabled(&state, &user, id, &f.csrf, false).await
}

async fn tokens_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Markup, PageError> {
    user.require_role(ADMINS)?;
    let tokens = state.store.list_tokens(&user.tenant()).await?;
    let orgs = org_names(&state, &user).await?;
    let site = user.user.role == Role::SiteAdmin;
    Ok(page(
        "Tokens",
        Some(&user),
        html! {
            h1 { "Tokens" }
            p { "An agent enrols with an enrolment token and receives its own host token. Revoking an enrolment token stops new enrolments; revoking a host token stops that host's submissions." }
            table {
                thead { tr {
                    th scope="col" { "ID" }
                    @if site { th scope="col" { "Organisation" } }
                    th scope="col" { "Kind" } th scope="col" { "Host" } th scope="col" { "Label" } th scope="col" { "State" }
                } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (t.id) }
                            @if site { td { (orgs.get(&t.org.0).map_or("?", String::as_str)) } }
                            td { (t.kind) }
                            td { (t.host.as_deref().unwrap_or("")) }
                            td { (t.label) }
                            td {
                                @if let Some(at) = t.revoked_at { "revoked " (format_time(at)) }
                                @else {
                                    form method="post" action=(format!("/admin/tokens/{}/revoke", t.id)) {
                                        (csrf_field(&user)) button type="submit" { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Create an enrolment token" }
            form class="stack card" method="post" action="/admin/tokens" {
                (csrf_field(&user))
                label for="label" { "Label (what it is for, e.g. \"laptops\")" }
                input id="label" name="label" required maxlength="200";
                @if site {
                    label for="org" { "Organisation" }
                    select id="org" name="org" {
                        @for (id, name) in sorted(&orgs) { option value=(id) { (name) } }
                    }
                }
                p { button type="submit" { "Create token" } }
            }
        },
    ))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    org: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<TokenForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    user.require_role(ADMINS)?;
    let org = if user.user.role == Role::SiteAdmin {
        OrgId(
            f.org
                .as_deref()
                .and_then(|o| o.trim().parse::<i64>().ok())
                .ok_or_else(|| PageError::BadRequest("Choose an organisation.".into()))?,
        )
    } else {
        user.user.org
    };
    if !state
        .store
        .list_organisations(&user.tenant())
        .await?
        .iter()
        .any(|o| o.id == org)
    {
        return Err(PageError::NotFound);
    }
    let (id, secret) = state
        .store
        .create_enrolment_token_as(&user.tenant(), &actor(&user), org, f.label.trim())
        .await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        page(
            "Enrolment token created",
            Some(&user),
            html! {
                h1 { "Enrolment token " (id) " created" }
                p { "Give it to the agents that should enrol (" code { "portcullis agent enrol" } "). It is shown only now; only its hash is kept." }
                p { code class="secret" { (secret) } }
                p { a href="/admin/tokens" { "Back to tokens" } }
            },
        ),
    )
        .into_response())
}

async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    user.require_role(ADMINS)?;
    let id = id_of(id)?;
    state
        .store
        .revoke_token_as(&user.tenant(), &actor(&user), id)
        .await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    limit: Option<i64>,
}

async fn audit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Markup, PageError> {
    user.require_role(AUDITORS)?;
    let limit = q
        .ok()
        .and_then(|Query(q)| q.limit)
        .unwrap_or(200)
        .clamp(1, 1000);
    let entries = state.store.list_audit(&user.tenant(), limit).await?;
    let orgs = org_names(&state, &user).await?;
    Ok(page(
        "Audit log",
        Some(&user),
        html! {
            h1 { "Audit log" }
            p { "The newest " (entries.len()) " entries" @if user.is_cyber_unit() { " across every organisation" } @else { " of your organisation" } ". "
                a href="/admin/audit?limit=1000" { "Show 1000" } }
            table class="audit" {
                thead { tr { th scope="col" { "When" } th scope="col" { "Organisation" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Details" } } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (format_time(e.at)) }
                            td { (e.org.and_then(|o| orgs.get(&o.0)).map_or("—", String::as_str)) }
                            td { (e.actor) }
                            td { code { (e.action) } }
                            td { (e.detail) }
                        }
                    }
                }
            }
        },
    ))
}
