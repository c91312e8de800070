//! Pages: an organisation (`/orgs/{id}`): its rating and why, its hosts and
//! projects, the controls failing with the fix for each, the vulnerable
//! packages across its estate, its detections, links to its incidents and
//! certificate; and the package view (`/orgs/{id}/packages?name=…`: which
//! of its machines run a package). An organisation's own users see only
//! theirs (another organisation's ID is 404); the cyber unit sees all.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::AppState;
use crate::now;
use crate::store::{AssetKind, OrgId, CONTROLS};
use crate::web::overview::{search_link, sector_label};
use crate::web::{format_time, page, percent_encode, CurrentUser, PageError};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs/{id}", get(show))
        .route("/orgs/{id}/packages", get(package_view))
}

fn org_id(id: Result<Path<i64>, PathRejection>) -> Result<OrgId, PageError> {
    id.map(|Path(id)| OrgId(id))
        .map_err(|_| PageError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Markup, PageError> {
    let org = org_id(id)?;
    org_page(&state, &user, org).await
}

fn control_title(control: &str) -> &str {
    CONTROLS
        .iter()
        .find(|(c, _)| *c == control)
        .map_or(control, |(_, t)| t)
}

/// The rules behind the rating, for the page (kept next to
/// [`crate::store::rate`]'s documentation: change both together).
const RATING_RULES: &[&str] = &[
    "Red when an incident report is overdue (24-hour notification, 72-hour full report), a vulnerability breaks the Cyber Essentials 14-day rule, an automatic-fail check fails, or a high or critical detection arrived in the last 24 hours.",
    "Amber when none of those, but a critical or high vulnerability is open, an assessed host is not ready, an incident is open, any detection arrived in the last 24 hours, no host has been assessed or nothing was received for 7 days, or a project scores under 50 on the Code of Practice.",
    "Green otherwise.",
];

/// The organisation page (also `/` for an organisation's own users).
pub async fn org_page(
    state: &AppState,
    user: &CurrentUser,
    org: OrgId,
) -> Result<Markup, PageError> {
    let d = state.store.org_detail(&user.tenant(), org).await?;
    let r = &d.risk;
    let rating = r.rating(now());
    let level = rating.level.as_str();
    let hosts: Vec<_> = d
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Host)
        .collect();
    let projects: Vec<_> = d
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::Project)
        .collect();
    let body = html! {
        h1 { (r.org.name) " " span class={ "badge " (level) } { (level) } }
        p class="muted" { (sector_label(r.org.sector)) " · " (r.org.size) " staff"
            @if let Some(t) = r.last_seen { " · last submission " (format_time(t)) } }
        section class={ "card why " (level) "-edge" } aria-labelledby="why" {
            h2 id="why" { "Why this organisation is " (level) }
            ul { @for reason in &rating.reasons { li { (reason) } } }
            details {
                summary { "How the rating works" }
                ul { @for rule in RATING_RULES { li { (rule) } } }
            }
        }
        div class="tiles" {
            div class="tile" { span class="big" { (r.readiness().label()) } span { "Cyber Essentials (" (r.assessed - r.not_ready) " of " (r.assessed) " assessed hosts ready)" } }
            div class="tile" { span class="big" { (r.critical) } span { "critical vulnerabilities" } }
            div class="tile" { span class="big" { (r.high) } span { "high vulnerabilities" } }
            div class="tile" { span class="big" { (r.ce_14_day) } span { "break the 14-day rule" } }
            div class="tile" { span class="big" { (r.detections_24h) } span { "detections in 24 h" } }
            div class="tile" { span class="big" { (r.open_incidents) } span { "open incidents (" (r.overdue_reports) " overdue)" } }
        }
        p class="noprint" {
            a href="/incidents" { "Incidents" } " · "
            a href="/certification" { "Cyber Essentials certification and certificate" } " · "
            a href="#packages" { "Vulnerable packages" } " · "
            a href="#detections" { "Detections" }
        }
        h2 id="hosts" { "Hosts (" (hosts.len()) ")" }
        @if hosts.is_empty() { p class="muted" { "No host has submitted anything yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Host" } th scope="col" { "Cyber Essentials" } th scope="col" { "Failed checks" }
                    th scope="col" { "Vulns (critical/high)" } th scope="col" { "14-day rule" } th scope="col" { "Detections" }
                    th scope="col" { "SBOM components" } th scope="col" { "Last seen" }
                } }
                tbody { @for a in &hosts { tr {
                    th scope="row" { (a.name) }
                    td { (match a.verdict.as_deref() { Some("ready") => "Ready", Some(_) => "Not ready", None => "Not assessed" }) }
                    td class="num" { (a.checks_failed) }
                    td class="num" { (a.vulns) " (" (a.critical) "/" (a.high) ")" }
                    td class="num" { (a.ce_14_day) }
                    td class="num" { (a.detections) }
                    td class="num" { (a.components) }
                    td { (format_time(a.last_seen)) }
                } } }
            }
        }
        h2 id="projects" { "Projects (" (projects.len()) ")" }
        @if projects.is_empty() { p class="muted" { "No project has been submitted (CI jobs submit with \"asset\": {\"kind\": \"project\", …})." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Project" } th scope="col" { "Code of Practice score" }
                    th scope="col" { "Vulns (critical/high)" } th scope="col" { "14-day rule" } th scope="col" { "Last seen" }
                } }
                tbody { @for a in &projects { tr {
                    th scope="row" { (a.name) }
                    td class="num" { @if let Some(s) = a.practice_score { (s) " / 100" } @else { "—" } }
                    td class="num" { (a.vulns) " (" (a.critical) "/" (a.high) ")" }
                    td class="num" { (a.ce_14_day) }
                    td { (format_time(a.last_seen)) }
                } } }
            }
        }
        h2 id="controls" { "Failing controls and how to fix them" }
        @if d.checks.is_empty() { p class="muted" { "No failing or undecided check in the latest assessments." } } @else {
            table {
                thead { tr { th scope="col" { "Control" } th scope="col" { "Check" } th scope="col" { "Status" } th scope="col" { "Where" } th scope="col" { "Fix" } } }
                tbody { @for c in &d.checks { tr {
                    td { (control_title(&c.control)) }
                    td { (c.title) br; span class="muted" { code { (c.check_id) } } }
                    td { (c.status.replace('_', " ")) @if c.auto_fail && c.status == "fail" { br; strong { "automatic fail" } } }
                    td { (c.assets.len()) " " (if c.assets.len() == 1 { "asset" } else { "assets" }) ": "
                        (c.assets.iter().take(8).map(String::as_str).collect::<Vec<_>>().join(", "))
                        @if c.assets.len() > 8 { " and " (c.assets.len() - 8) " more" } }
                    td { @if let Some(f) = &c.fix { (f) } @else { span class="muted" { "—" } } }
                } } }
            }
        }
        h2 id="packages" { "Vulnerable packages across the estate" }
        @if d.packages.is_empty() { p class="muted" { "No open vulnerability in the latest scans." } } @else {
            table {
                thead { tr { th scope="col" { "Package" } th scope="col" { "Ecosystem" } th scope="col" { "Worst" } th scope="col" { "Vulnerabilities" } th scope="col" { "14-day rule" } th scope="col" { "Assets" } } }
                tbody { @for p in &d.packages { tr {
                    th scope="row" { a href={ "/orgs/" (org.0) "/packages?name=" (percent_encode(&p.key)) } { (p.package) } }
                    td { (p.ecosystem) }
                    td { span class={ "sev sev-" (p.worst) } { (p.worst) } }
                    td class="num" { (p.vulns) }
                    td class="num" { (p.ce_14_day) }
                    td class="num" { (p.assets) }
                } } }
            }
        }
        h2 id="detections" { "Detections" }
        @if d.detections.is_empty() { p class="muted" { "No detection in the latest hunts." } } @else {
            table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Level" } th scope="col" { "Rule" } th scope="col" { "Reported by" } th scope="col" { "Host" } th scope="col" { "Source" } th scope="col" { "User" } } }
                tbody { @for det in &d.detections { tr {
                    td { @if let Some(t) = det.at { (format_time(t)) } }
                    td { span class={ "sev sev-" (det.level) } { (det.level) } }
                    td { (det.title) }
                    td { (det.asset) }
                    td { (det.host.as_deref().unwrap_or("")) }
                    td { @if let Some(ip) = &det.source_ip { a href=(search_link(ip)) { (ip) } } }
                    td { (det.user.as_deref().unwrap_or("")) }
                } } }
            }
        }
    };
    Ok(page(&r.org.name, Some(user), body))
}

#[derive(Debug, Default, Deserialize)]
struct PackageQuery {
    #[serde(default)]
    name: String,
}

async fn package_view(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
    query: Result<Query<PackageQuery>, QueryRejection>,
) -> Result<Markup, PageError> {
    let org = org_id(id)?;
    let q = query.map(|Query(q)| q).unwrap_or_default();
    // The organisation must be in scope (404 otherwise), even for an empty name.
    let detail_name = state.store.organisation(&user.tenant(), org).await?.name;
    let name = q.name.trim();
    if name.is_empty() || name.len() > 500 {
        return Err(PageError::BadRequest(
            "Give a package name (?name=openssl), up to 500 characters.".into(),
        ));
    }
    let list = state
        .store
        .package_assets(&user.tenant(), org, name)
        .await?;
    let body = html! {
        p { a href={ "/orgs/" (org.0) } { "← " (detail_name) } }
        h1 { "Which assets run " code { (name) } }
        @if list.is_empty() { p { "No asset of this organisation has " code { (name) } " in its latest scan or SBOM." } } @else {
            table {
                thead { tr { th scope="col" { "Asset" } th scope="col" { "Package" } th scope="col" { "Version" } th scope="col" { "Vulnerabilities" } th scope="col" { "Worst" } th scope="col" { "Upgrade to" } th scope="col" { "14-day rule" } } }
                tbody { @for p in &list { tr {
                    th scope="row" { (p.asset) }
                    td { (p.package) }
                    td { (p.version) }
                    td { @if p.vulns.is_empty() { span class="muted" { "none known (from SBOM)" } } @else {
                        @for (i, v) in p.vulns.iter().enumerate() { @if i > 0 { ", " } a href=(search_link(v)) { (v) } } } }
                    td { @if let Some(w) = &p.worst { span class={ "sev sev-" (w) } { (w) } } }
                    td { (p.upgrade_to.as_deref().unwrap_or("")) }
                    td { @if p.ce_14_day { strong { "breached" } } }
                } } }
            }
        }
    };
    Ok(page(&format!("{name} · {detail_name}"), Some(&user), body))
}
