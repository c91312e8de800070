//! Page: `/`, the cyber unit's overview (analysts and site admins): every
//! organisation in one table (readiness, critical and 14-day-rule
//! vulnerabilities, detections in 24 h, open incidents, overdue reports,
//! rating), sortable by any column and filterable by sector; a heat map of
//! organisations × Cyber Essentials controls; trend charts over 12 weeks.
//! An organisation's own users get their organisation's page at `/`.
//!
//! Everything here reads pre-aggregated summaries ([`Store::risk_overview`],
//! [`Store::risk_trend`]); nothing scans findings.
//!
//! [`Store::risk_overview`]: crate::Store::risk_overview
//! [`Store::risk_trend`]: crate::Store::risk_trend

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::AppState;
use crate::store::{OrgRisk, Rating, TrendPoint, CONTROLS};
use crate::web::{format_time, page, percent_encode, CurrentUser, PageError};
use crate::{now, Sector};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Debug, Default, Deserialize)]
struct OverviewQuery {
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    sector: Option<String>,
}

/// The overview's sortable columns: (key, heading).
const COLUMNS: &[(&str, &str)] = &[
    ("name", "Organisation"),
    ("sector", "Sector"),
    ("rating", "Rating"),
    ("readiness", "Cyber Essentials"),
    ("critical", "Critical vulns"),
    ("ce14", "14-day rule"),
    ("detections", "Detections 24 h"),
    ("incidents", "Open incidents"),
    ("overdue", "Overdue reports"),
    ("hosts", "Hosts"),
    ("last_seen", "Last seen"),
];

/// A sector's words.
pub fn sector_label(s: Sector) -> &'static str {
    match s {
        Sector::CentralGovernment => "Central government",
        Sector::NhsTrust => "NHS trust",
        Sector::GpPractice => "GP practice",
        Sector::HealthcareSupplier => "Healthcare supplier",
        Sector::LocalAuthority => "Local authority",
        Sector::Other => "Other",
    }
}

async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<OverviewQuery>, QueryRejection>,
) -> Result<Markup, PageError> {
    if !user.is_cyber_unit() {
        return crate::web::org::org_page(&state, &user, user.user.org).await;
    }
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let scope = user.tenant();
    let now = now();
    let sector = q.sector.as_deref().and_then(Sector::parse);
    let mut rows: Vec<(OrgRisk, Rating)> = state
        .store
        .risk_overview(&scope)
        .await?
        .into_iter()
        .filter(|r| sector.is_none_or(|s| r.org.sector == s))
        .map(|r| {
            let rating = r.rating(now);
            (r, rating)
        })
        .collect();
    let sort = q
        .sort
        .as_deref()
        .filter(|s| COLUMNS.iter().any(|(k, _)| k == s))
        .unwrap_or("rating");
    let desc = match q.dir.as_deref() {
        Some("desc") => true,
        Some("asc") => false,
        // Counts read best worst-first; names and ratings A→Z / red first.
        _ => !matches!(sort, "name" | "sector" | "rating" | "readiness"),
    };
    sort_rows(&mut rows, sort, desc);
    let trend = state.store.risk_trend(&scope, 12).await?;
    let (red, amber, green) = rows
        .iter()
        .fold((0, 0, 0), |(r, a, g), (_, rt)| match rt.level {
            crate::store::RiskLevel::Red => (r + 1, a, g),
            crate::store::RiskLevel::Amber => (r, a + 1, g),
            crate::store::RiskLevel::Green => (r, a, g + 1),
        });
    let sector_param = sector.map_or(String::new(), |s| format!("&sector={}", s.as_str()));
    let body = html! {
        h1 { "Overview" }
        p class="muted" {
            (rows.len()) " organisations"
            @if let Some(s) = sector { " in " (sector_label(s)) }
            ": " span class="badge red" { (red) " red" } " "
            span class="badge amber" { (amber) " amber" } " "
            span class="badge green" { (green) " green" }
            " · how ratings work: see any organisation's page."
        }
        form class="filters noprint" method="get" action="/" {
            label for="sector" { "Sector " }
            select id="sector" name="sector" {
                option value="" selected[sector.is_none()] { "All sectors" }
                @for s in Sector::ALL {
                    option value=(s.as_str()) selected[sector == Some(*s)] { (sector_label(*s)) }
                }
            }
            input type="hidden" name="sort" value=(sort);
            input type="hidden" name="dir" value=(if desc { "desc" } else { "asc" });
            " " button type="submit" { "Filter" }
        }
        h2 id="organisations" { "Organisations" }
        table class="overview" {
            caption class="muted" { "Sorted by " (COLUMNS.iter().find(|(k, _)| *k == sort).map_or("rating", |(_, h)| *h)) (if desc { ", highest first" } else { ", ascending" }) }
            thead { tr {
                @for (key, heading) in COLUMNS {
                    @let next_desc = if *key == sort { !desc } else { !matches!(*key, "name" | "sector" | "rating" | "readiness") };
                    th scope="col" aria-sort=(if *key == sort { if desc { "descending" } else { "ascending" } } else { "none" }) {
                        a href={ "/?sort=" (key) "&dir=" (if next_desc { "desc" } else { "asc" }) (sector_param) } { (heading) }
                    }
                }
            } }
            tbody {
                @for (r, rating) in &rows {
                    tr {
                        th scope="row" { a href={ "/orgs/" (r.org.id.0) } { (r.org.name) } }
                        td { (sector_label(r.org.sector)) }
                        td { span class={ "badge " (rating.level.as_str()) } { (rating.level.as_str()) } }
                        td { (r.readiness().label()) @if r.assessed > 0 { span class="muted" { " (" (r.assessed - r.not_ready) "/" (r.assessed) ")" } } }
                        td class="num" { (r.critical) }
                        td class="num" { (r.ce_14_day) }
                        td class="num" { (r.detections_24h) }
                        td class="num" { (r.open_incidents) }
                        td class="num" { @if r.overdue_reports > 0 { strong class="overdue" { (r.overdue_reports) } } @else { "0" } }
                        td class="num" { (r.hosts) @if r.projects > 0 { span class="muted" { " +" (r.projects) " proj." } } }
                        td { @if let Some(t) = r.last_seen { (format_time(t)) } @else { span class="muted" { "never" } } }
                    }
                }
            }
        }
        h2 id="heatmap" { "Controls heat map" }
        p class="muted" { "Share of each control's decided checks (pass or fail) that failed, across the organisation's hosts (latest assessment of each). Darker is worse; — means not assessed." }
        table class="heatmap" {
            thead { tr {
                th scope="col" { "Organisation" }
                @for (_, title) in CONTROLS { th scope="col" { (title) } }
            } }
            tbody {
                @for (r, _) in &rows {
                    tr {
                        th scope="row" { a href={ "/orgs/" (r.org.id.0) } { (r.org.name) } }
                        @for (pass, fail) in r.controls {
                            (heat_cell(pass, fail))
                        }
                    }
                }
            }
        }
        h2 id="trends" { "Trends over 12 weeks" }
        div class="trends" {
            (trend_chart("Critical and high vulnerabilities", &trend, |p| p.critical + p.high))
            (trend_chart("14-day-rule breaches", &trend, |p| p.ce_14_day))
            (trend_chart("Hosts not ready", &trend, |p| p.not_ready))
            (trend_chart("Detections (7 days to snapshot)", &trend, |p| p.detections))
        }
    };
    Ok(page("Overview", Some(&user), body))
}

fn sort_rows(rows: &mut [(OrgRisk, Rating)], sort: &str, desc: bool) {
    rows.sort_by(|(a, ra), (b, rb)| {
        let ord = match sort {
            "name" => a.org.name.to_lowercase().cmp(&b.org.name.to_lowercase()),
            "sector" => sector_label(a.org.sector).cmp(sector_label(b.org.sector)),
            "readiness" => a.readiness().cmp(&b.readiness()),
            "critical" => a.critical.cmp(&b.critical),
            "ce14" => a.ce_14_day.cmp(&b.ce_14_day),
            "detections" => a.detections_24h.cmp(&b.detections_24h),
            "incidents" => a.open_incidents.cmp(&b.open_incidents),
            "overdue" => a.overdue_reports.cmp(&b.overdue_reports),
            "hosts" => a.hosts.cmp(&b.hosts),
            "last_seen" => a.last_seen.cmp(&b.last_seen),
            // Rating: red first, then by the number of reasons and breaches.
            _ => ra
                .level
                .cmp(&rb.level)
                .then(rb.reasons.len().cmp(&ra.reasons.len()))
                .then(b.ce_14_day.cmp(&a.ce_14_day)),
        };
        let ord = if desc { ord.reverse() } else { ord };
        ord.then_with(|| a.org.name.cmp(&b.org.name))
    });
}

fn heat_cell(pass: i64, fail: i64) -> Markup {
    let decided = pass + fail;
    if decided == 0 {
        return html! { td class="heat heat-none" { "—" } };
    }
    let pct = fail * 100 / decided;
    let level = match pct {
        0 => 0,
        1..=10 => 1,
        11..=25 => 2,
        26..=50 => 3,
        _ => 4,
    };
    html! { td class={ "heat heat-" (level) } { (pct) "%" } }
}

/// A small line chart (inline SVG, no script) with its numbers in a table
/// for screen readers and print.
pub fn trend_chart(
    title: &str,
    points: &[TrendPoint],
    value: impl Fn(&TrendPoint) -> i64,
) -> Markup {
    let values: Vec<i64> = points.iter().map(&value).collect();
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, pad) = (300i64, 100i64, 8i64);
    let n = i64::try_from(values.len()).unwrap_or(1).max(2) - 1;
    let coords: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let i = i64::try_from(i).unwrap_or(0);
            let x = pad + i * (w - 2 * pad) / n;
            let y = h - pad - v * (h - 2 * pad) / max;
            format!("{x},{y}")
        })
        .collect();
    let last = values.last().copied().unwrap_or(0);
    html! {
        figure class="trend" {
            figcaption { strong { (title) } " — now " (last) ", peak " (values.iter().copied().max().unwrap_or(0)) }
            svg viewBox={ "0 0 " (w) " " (h) } width=(w) height=(h) role="img" aria-label={ (title) ", weekly, latest " (last) } {
                line x1=(pad) y1=(h - pad) x2=(w - pad) y2=(h - pad) class="axis" {}
                polyline points=(coords.join(" ")) class="line" {}
            }
            details {
                summary { "Numbers" }
                table {
                    thead { tr { th scope="col" { "Week from" } th scope="col" { (title) } } }
                    tbody {
                        @for (p, v) in points.iter().zip(&values) {
                            tr { td { (format_time(p.week_start).get(..10).unwrap_or("")) } td class="num" { (v) } }
                        }
                    }
                }
            }
        }
    }
}

/// A link to the search page for `q` (used by other pages).
pub fn search_link(q: &str) -> String {
    format!("/search?q={}", percent_encode(q))
}
