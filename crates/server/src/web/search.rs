//! Page: `/search?q=…` across the organisations in the user's scope, for a
//! package name, a vulnerability ID (CVE, GHSA, OSV, RUSTSEC…; aliases
//! match too) or an IP address (detections' source addresses). Results are
//! grouped by organisation. The tenant filter is the store's: an
//! organisation's user finds only their own organisation's assets.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::AppState;
use crate::store::{Hit, SEARCH_LIMIT};
use crate::web::overview::search_link;
use crate::web::{format_time, page, percent_encode, CurrentUser, PageError};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Markup, PageError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let q = q.q.trim();
    if q.len() > 200 {
        return Err(PageError::BadRequest(
            "The search is too long: give a package name, a vulnerability ID or an IP address (at most 200 characters).".into(),
        ));
    }
    let groups = if q.is_empty() {
        Vec::new()
    } else {
        state.store.search(&user.tenant(), q).await?
    };
    let total: usize = groups.iter().map(|g| g.hits.len()).sum();
    let body = html! {
        h1 { "Search" }
        form class="search noprint" method="get" action="/search" role="search" {
            label for="q" { "Package name, vulnerability ID (CVE, GHSA, OSV…) or IP address" }
            " "
            input id="q" name="q" type="search" value=(q) maxlength="200" required;
            " " button type="submit" { "Search" }
        }
        @if !q.is_empty() {
            p { (total) " results for " code { (q) } " in " (groups.len()) " organisations"
                @if total as i64 >= SEARCH_LIMIT { " (the first " (SEARCH_LIMIT) " of each kind)" } "." }
        }
        @for g in &groups {
            section class="card" {
                h2 { a href={ "/orgs/" (g.org.0) } { (g.org_name) } " " span class="muted" { "(" (g.hits.len()) ")" } }
                table {
                    thead { tr { th scope="col" { "Asset" } th scope="col" { "What" } th scope="col" { "Detail" } } }
                    tbody { @for h in &g.hits { (hit_row(g.org.0, h)) } }
                }
            }
        }
    };
    Ok(page("Search", Some(&user), body))
}

fn hit_row(org: i64, h: &Hit) -> Markup {
    match h {
        Hit::Finding {
            asset,
            package,
            version,
            vuln_id,
            severity,
        } => html! { tr {
            td { (asset) }
            td { a href={ "/orgs/" (org) "/packages?name=" (percent_encode(&package.to_lowercase())) } { (package) } " " (version) }
            td { a href=(search_link(vuln_id)) { (vuln_id) } " " span class={ "sev sev-" (severity) } { (severity) } }
        } },
        Hit::Component {
            asset,
            package,
            version,
        } => html! { tr {
            td { (asset) }
            td { a href={ "/orgs/" (org) "/packages?name=" (percent_encode(&package.to_lowercase())) } { (package) } " " (version) }
            td { span class="muted" { "in the SBOM; no known vulnerability" } }
        } },
        Hit::Detection(d) => html! { tr {
            td { (d.asset) }
            td { span class={ "sev sev-" (d.level) } { (d.level) } " " (d.title) }
            td { @if let Some(t) = d.at { (format_time(t)) " · " }
                 "source " (d.source_ip.as_deref().unwrap_or("?"))
                 @if let Some(u) = &d.user { " · user " (u) }
                 @if let Some(hst) = &d.host { " · host " (hst) } }
        } },
    }
}
