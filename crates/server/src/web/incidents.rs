//! Pages: incidents, their timeline, and the Bill's reporting clocks
//! (see `docs/incidents.md`).
//!
//! Who may do what is [`may`] (members open and add notes, organisation
//! admins do everything for their organisation, the cyber unit triages,
//! adds notes and records reports on any, assessors read); the tenant
//! filter is the store's. Every POST checks the CSRF token first.

use axum::extract::{Multipart, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::Deserialize;

use crate::http::AppState;
use crate::store::incidents::{
    describe_clock, format_time, may, notification_json, notification_markdown, parse_time,
    report_json, report_markdown, timeline_label, Action, Clock, Incident, IncidentState,
    NewIncident, Severity, Stage, MAX_FILE_BYTES, RECIPIENTS,
};
use crate::store::OrgId;
use crate::web::{csrf_field, page, CurrentUser, PageError};

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list).post(create))
        .route("/incidents/new", get(new_page))
        .route("/incidents/from-detection", post(from_detection))
        .route("/incidents/{id}", get(show))
        .route("/incidents/{id}/transition", post(transition))
        .route("/incidents/{id}/notes", post(add_note))
        .route("/incidents/{id}/files", post(upload_file))
        .route("/incidents/{id}/files/{file}", get(download_file))
        .route("/incidents/{id}/sent", post(mark_sent))
        .route("/incidents/{id}/reportable", post(set_reportable))
        .route("/incidents/{id}/notification.md", get(notification_md))
        .route("/incidents/{id}/notification.json", get(notification_js))
        .route("/incidents/{id}/report.md", get(report_md))
        .route("/incidents/{id}/report.json", get(report_js))
        .route("/incidents/{id}/report.html", get(report_html))
}

fn require(user: &CurrentUser, action: Action) -> Result<(), PageError> {
    if may(user.user.role, action) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// An ID from the path: anything but digits is simply not found.
fn parse_id(s: &str) -> Result<i64, PageError> {
    s.parse::<i64>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or(PageError::NotFound)
}

fn clock_class(c: Clock) -> &'static str {
    match c {
        Clock::Overdue { .. } => "red",
        Clock::DueSoon { .. } => "amber",
        Clock::Sent { on_time: true, .. } => "green",
        Clock::Sent { on_time: false, .. } => "amber",
        Clock::Running { .. } | Clock::NotRequired => "grey",
    }
}

fn clock_badge(inc: &Incident, stage: Stage, now: i64) -> Markup {
    let c = inc.clock(stage, now);
    html! { span class={"badge clock " (clock_class(c))} { (describe_clock(c)) } }
}

fn severity_badge(s: Severity) -> Markup {
    let class = match s {
        Severity::Critical | Severity::High => "red",
        Severity::Medium => "amber",
        Severity::Low => "grey",
    };
    html! { span class={"badge " (class)} { (s.as_str()) } }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    state: String,
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Markup, PageError> {
    let filter = match q.state.as_str() {
        "" | "all" => None,
        s => Some(IncidentState::parse(s).ok_or_else(|| {
            PageError::BadRequest(format!(
                "state `{s}` is not one of reported, triaged, contained, resolved, closed"
            ))
        })?),
    };
    let incidents = state.store.list_incidents(&user.tenant(), filter).await?;
    let now = crate::now();
    let overdue = incidents.iter().filter(|i| i.overdue(now)).count();
    let cyber = user.is_cyber_unit();
    Ok(page(
        "Incidents",
        Some(&user),
        html! {
            h1 { "Incidents" }
            p class="muted" {
                "Under the Cyber Security and Resilience Bill an initial notification is due "
                (Stage::Notification.hours()) " hours, and a full report " (Stage::Report.hours())
                " hours, after the organisation became aware of an incident. Times are UTC."
            }
            @if overdue > 0 {
                p class="error" role="alert" { (overdue) " incident(s) listed here have an overdue notification or report." }
            }
            div class="incident-bar" {
                form method="get" action="/incidents" class="inline" {
                    label for="state" { "State " }
                    select id="state" name="state" {
                        option value="all" selected[filter.is_none()] { "All" }
                        @for s in IncidentState::ALL {
                            option value=(s.as_str()) selected[filter == Some(s)] { (s.as_str()) }
                        }
                    }
                    " "
                    button type="submit" class="secondary" { "Filter" }
                }
                @if may(user.user.role, Action::Open) {
                    a class="button" href="/incidents/new" { "Open an incident" }
                }
            }
            @if incidents.is_empty() {
                p { "No incidents" @if filter.is_some() { " in this state" } "." }
            } @else {
                table class="incidents" {
                    caption class="muted" { (incidents.len()) " incident(s), newest first" }
                    thead { tr {
                        th scope="col" { "Ref" }
                        @if cyber { th scope="col" { "Organisation" } }
                        th scope="col" { "Title" }
                        th scope="col" { "Severity" }
                        th scope="col" { "State" }
                        th scope="col" { "Became aware" }
                        th scope="col" { "Notification (" (Stage::Notification.hours()) " h)" }
                        th scope="col" { "Report (" (Stage::Report.hours()) " h)" }
                    } }
                    tbody {
                        @for i in &incidents {
                            tr {
                                td { a href={"/incidents/" (i.id)} { (i.reference()) } }
                                @if cyber { td { (i.org_name) } }
                                td { a href={"/incidents/" (i.id)} { (i.title) } }
                                td { (severity_badge(i.severity)) }
                                td { (i.state.as_str()) }
                                td { (format_time(i.aware_at)) }
                                td { (clock_badge(i, Stage::Notification, now)) }
                                td { (clock_badge(i, Stage::Report, now)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn new_page(State(state): State<AppState>, user: CurrentUser) -> Result<Markup, PageError> {
    require(&user, Action::Open)?;
    let scope = user.tenant();
    let orgs = if user.is_cyber_unit() {
        state.store.list_organisations(&scope).await?
    } else {
        Vec::new()
    };
    let detections = state.store.recent_detections(&scope).await?;
    Ok(page(
        "Open an incident",
        Some(&user),
        html! {
            h1 { "Open an incident" }
            form class="stack card" method="post" action="/incidents" {
                (csrf_field(&user))
                @if user.is_cyber_unit() {
                    label for="org" { "Organisation" }
                    select id="org" name="org" required {
                        @for o in &orgs { option value=(o.id.0) { (o.name) } }
                    }
                }
                label for="title" { "Title (one line)" }
                input id="title" name="title" required maxlength="200";
                label for="severity" { "Severity" }
                select id="severity" name="severity" {
                    @for s in Severity::ALL { option value=(s.as_str()) selected[s == Severity::Medium] { (s.as_str()) } }
                }
                label for="affected_service" { "Affected service" }
                input id="affected_service" name="affected_service" maxlength="200";
                label for="description" { "What happened, as far as known" }
                textarea id="description" name="description" rows="6" {}
                label for="aware_at" { "When the organisation became aware (UTC; leave empty for now)" }
                input id="aware_at" name="aware_at" type="datetime-local";
                label for="detected_at" { "When it was detected (UTC, optional)" }
                input id="detected_at" name="detected_at" type="datetime-local";
                label for="occurred_at" { "When it happened (UTC, optional)" }
                input id="occurred_at" name="occurred_at" type="datetime-local";
                p class="muted" { "The clocks start when the organisation became aware: initial notification within "
                    (Stage::Notification.hours()) " hours, full report within " (Stage::Report.hours()) " hours." }
                p { button type="submit" { "Open incident" } }
            }
            h2 { "Or open one from a recent detection" }
            @if detections.is_empty() {
                p class="muted" { "No detections have been submitted in your scope." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "When" } th scope="col" { "Host" } th scope="col" { "Level" }
                        th scope="col" { "Rule" } th scope="col" { "Summary" } th scope="col" { span class="visually-hidden" { "Action" } }
                    } }
                    tbody {
                        @for d in &detections {
                            tr {
                                td { (d.at.map_or_else(|| "not known".into(), format_time)) }
                                td { (d.host) }
                                td { (d.level) }
                                td { (d.title) br; span class="muted" { (d.rule_id) } }
                                td { (d.summary) }
                                td {
                                    form method="post" action="/incidents/from-detection" {
                                        (csrf_field(&user))
                                        input type="hidden" name="detection" value=(d.detection_id);
                                        button type="submit" { "Open incident" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateForm {
    csrf: String,
    org: String,
    title: String,
    description: String,
    severity: String,
    affected_service: String,
    aware_at: String,
    detected_at: String,
    occurred_at: String,
}

fn form_time(field: &str, v: &str) -> Result<Option<i64>, PageError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    parse_time(v).map(Some).ok_or_else(|| {
        PageError::BadRequest(format!(
            "{field}: `{}` is not a date and time; write it like 2026-11-23T09:30 (UTC)",
            v.chars().take(40).collect::<String>()
        ))
    })
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<CreateForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    require(&user, Action::Open)?;
    let org = if user.is_cyber_unit() {
        OrgId(f.org.trim().parse::<i64>().map_err(|_| {
            PageError::BadRequest(
                "organisation: choose the organisation the incident belongs to".into(),
            )
        })?)
    } else {
        user.user.org
    };
    let new = NewIncident {
        title: f.title,
        description: f.description,
        severity: Some(Severity::parse(f.severity.trim()).ok_or_else(|| {
            PageError::BadRequest("severity: choose low, medium, high or critical".into())
        })?),
        affected_service: f.affected_service,
        aware_at: form_time("when you became aware", &f.aware_at)?,
        detected_at: form_time("detected", &f.detected_at)?,
        occurred_at: form_time("occurred", &f.occurred_at)?,
    };
    let id = state
        .store
        .create_incident(&user.tenant(), org, &user.user.email, &new)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FromDetectionForm {
    csrf: String,
    /// A row of the `detections` table (the organisation page's button),
    detection: String,
    /// or a detection by submission and index (this area's pages).
    submission: String,
    index: String,
    aware_at: String,
}

async fn from_detection(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<FromDetectionForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    require(&user, Action::Open)?;
    let aware = form_time("when you became aware", &f.aware_at)?;
    let num = |v: &str| v.trim().parse::<i64>().map_err(|_| PageError::NotFound);
    let id = if f.detection.trim().is_empty() {
        let (sub, index) = (num(&f.submission)?, num(&f.index)?);
        state
            .store
            .create_incident_from_detection(&user.tenant(), &user.user.email, sub, index, aware)
            .await?
    } else {
        state
            .store
            .create_incident_from_detection_row(
                &user.tenant(),
                &user.user.email,
                num(&f.detection)?,
                aware,
            )
            .await?
    };
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let id = parse_id(&id)?;
    let scope = user.tenant();
    let inc = state.store.get_incident(&scope, id).await?;
    let timeline = state.store.incident_timeline(&scope, id).await?;
    let files = state.store.list_incident_files(&scope, id).await?;
    let now = crate::now();
    let role = user.user.role;
    let moves: Vec<IncidentState> = inc
        .state
        .next()
        .iter()
        .copied()
        .filter(|to| may(role, Action::Transition(*to)))
        .collect();
    let title = format!("{}: {}", inc.reference(), inc.title);
    Ok(page(
        &title,
        Some(&user),
        html! {
            p { a href="/incidents" { "← All incidents" } }
            h1 { (inc.reference()) ": " (inc.title) }
            div class="incident-grid" {
                section class="card" aria-labelledby="facts" {
                    h2 id="facts" { "Facts" }
                    dl class="facts" {
                        dt { "Organisation" } dd { (inc.org_name) " (" (inc.sector.as_str().replace('_', " ")) ")" }
                        dt { "State" } dd { strong { (inc.state.as_str()) } }
                        dt { "Severity" } dd { (severity_badge(inc.severity)) }
                        dt { "Affected service" } dd { @if inc.affected_service.is_empty() { span class="muted" { "not stated" } } @else { (inc.affected_service) } }
                        dt { "Became aware" } dd { (format_time(inc.aware_at)) }
                        dt { "Detected" } dd { (inc.detected_at.map_or_else(|| "not known".into(), format_time)) }
                        dt { "Occurred" } dd { (inc.occurred_at.map_or_else(|| "not known".into(), format_time)) }
                        dt { "Opened" } dd { (format_time(inc.created_at)) " by " (inc.created_by) }
                        dt { "Reportable under the Bill" } dd { @if inc.reportable { "yes" } @else { "no" } }
                    }
                    h3 { "Description" }
                    p class="prewrap" { @if inc.description.is_empty() { span class="muted" { "No description yet." } } @else { (inc.description) } }
                    @if let Some(d) = &inc.detection {
                        h3 { "Detection" }
                        dl class="facts" {
                            @for (k, label) in [("rule_id", "Rule"), ("title", "Rule title"), ("level", "Level"), ("host", "Host"), ("user", "User"), ("source", "Source"), ("time", "Time"), ("summary", "Summary")] {
                                @if let Some(v) = d.get(k).filter(|v| !v.is_null()) {
                                    dt { (label) } dd { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) }
                                }
                            }
                        }
                        @if let Some(ev) = d.get("events").filter(|v| !v.is_null()) {
                            details { summary { "Evidence (events)" } pre { (serde_json::to_string_pretty(ev).unwrap_or_default()) } }
                        }
                    }
                }
                section class="card" aria-labelledby="clocks" {
                    h2 id="clocks" { "Reporting clocks" }
                    @for stage in Stage::ALL {
                        div class="clockrow" {
                            h3 { (capital(stage.label())) " (" (stage.hours()) " h)" }
                            p { "Due " (format_time(inc.due(stage))) ": " (clock_badge(&inc, stage, now)) }
                            @if let Some(s) = inc.sent(stage) {
                                p class="muted" { "Recorded as sent " (format_time(s.at)) " by " (s.by) "." }
                            }
                            p {
                                "Generated: "
                                @match stage {
                                    Stage::Notification => {
                                        a href={"/incidents/" (inc.id) "/notification.md"} { "Markdown" } " · "
                                        a href={"/incidents/" (inc.id) "/notification.json"} { "JSON" }
                                    }
                                    Stage::Report => {
                                        a href={"/incidents/" (inc.id) "/report.md"} { "Markdown" } " · "
                                        a href={"/incidents/" (inc.id) "/report.json"} { "JSON" } " · "
                                        a href={"/incidents/" (inc.id) "/report.html"} { "Printable page" }
                                    }
                                }
                            }
                            @if inc.sent(stage).is_none() && may(role, Action::Report) {
                                form method="post" action={"/incidents/" (inc.id) "/sent"} class="inline noprint" {
                                    (csrf_field(&user))
                                    input type="hidden" name="stage" value=(stage.as_str());
                                    button type="submit" { "Record the " (stage.label()) " as sent now" }
                                }
                            }
                        }
                    }
                    p class="muted" { "Send to: " @for (n, r) in RECIPIENTS.iter().enumerate() { @if n > 0 { "; " } (r) } "." }
                    @if may(role, Action::Report) {
                        form method="post" action={"/incidents/" (inc.id) "/reportable"} class="stack noprint" {
                            (csrf_field(&user))
                            input type="hidden" name="reportable" value=(if inc.reportable { "no" } else { "yes" });
                            @if inc.reportable {
                                label for="reason" { "Not reportable? Say why (stops the clocks)" }
                                input id="reason" name="reason" maxlength="2000";
                                p { button type="submit" class="secondary" { "Mark not reportable" } }
                            } @else {
                                p { button type="submit" class="secondary" { "Mark reportable again" } }
                            }
                        }
                    }
                }
            }
            @if !moves.is_empty() {
                section class="card noprint" aria-labelledby="move" {
                    h2 id="move" { "Change state" }
                    form method="post" action={"/incidents/" (inc.id) "/transition"} class="stack" {
                        (csrf_field(&user))
                        label for="tnote" { "Note (optional)" }
                        textarea id="tnote" name="note" rows="2" {}
                        p {
                            @for to in &moves {
                                button type="submit" name="to" value=(to.as_str()) { "Move to " (to.as_str()) } " "
                            }
                        }
                    }
                }
            }
            section aria-labelledby="timeline" {
                h2 id="timeline" { "Timeline" }
                ol class="timeline" {
                    @for e in &timeline {
                        li class={"ev-" (e.kind)} {
                            span class="when" { (format_time(e.at)) } " · " span class="who" { (e.actor) } " · "
                            strong { (timeline_label(e)) }
                            @if !e.body.is_empty() {
                                @if e.kind == "sent" {
                                    details { summary { "What was generated" } pre { (e.body) } }
                                } @else {
                                    p class="prewrap" { (e.body) }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="files" {
                h2 id="files" { "Evidence files" }
                @if files.is_empty() {
                    p class="muted" { "No files attached." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "File" } th scope="col" { "Size" } th scope="col" { "SHA-256" } th scope="col" { "Attached" } } }
                        tbody {
                            @for f in &files {
                                tr {
                                    td { a href={"/incidents/" (inc.id) "/files/" (f.id)} download { (f.name) } }
                                    td { (f.size) " bytes" }
                                    td { code class="hash" { (f.sha256) } }
                                    td { (format_time(f.uploaded_at)) " by " (f.uploaded_by) }
                                }
                            }
                        }
                    }
                }
                @if may(role, Action::Note) {
                    form method="post" action={"/incidents/" (inc.id) "/files"} enctype="multipart/form-data" class="stack card noprint" {
                        (csrf_field(&user))
                        label for="file" { "Attach a file (at most " (MAX_FILE_BYTES / 1024 / 1024) " MiB; kept in the database)" }
                        input id="file" name="file" type="file" required;
                        p { button type="submit" { "Attach" } }
                    }
                }
            }
            @if may(role, Action::Note) {
                section class="card noprint" aria-labelledby="addnote" {
                    h2 id="addnote" { "Add to the timeline" }
                    form method="post" action={"/incidents/" (inc.id) "/notes"} class="stack" {
                        (csrf_field(&user))
                        label for="kind" { "Kind" }
                        select id="kind" name="kind" {
                            option value="note" { "Note" }
                            option value="evidence" { "Evidence (log extract, indicator, …)" }
                        }
                        label for="text" { "Text" }
                        textarea id="text" name="text" rows="4" required {}
                        p { button type="submit" { "Add" } }
                    }
                }
            }
        },
    ))
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TransitionForm {
    csrf: String,
    to: String,
    note: String,
}

async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<TransitionForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    let id = parse_id(&id)?;
    let to = IncidentState::parse(f.to.trim()).ok_or_else(|| {
        PageError::BadRequest(format!(
            "`{}` is not a state; choose reported, triaged, contained, resolved or closed",
            f.to.chars().take(40).collect::<String>()
        ))
    })?;
    require(&user, Action::Transition(to))?;
    state
        .store
        .transition_incident(&user.tenant(), id, &user.user.email, to, &f.note)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoteForm {
    csrf: String,
    kind: String,
    text: String,
}

async fn add_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    let id = parse_id(&id)?;
    require(&user, Action::Note)?;
    let evidence = match f.kind.as_str() {
        "" | "note" => false,
        "evidence" => true,
        _ => {
            return Err(PageError::BadRequest(
                "kind: choose note or evidence".into(),
            ))
        }
    };
    state
        .store
        .add_incident_note(&user.tenant(), id, &user.user.email, evidence, &f.text)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}#timeline")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SentForm {
    csrf: String,
    stage: String,
}

async fn mark_sent(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<SentForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    let id = parse_id(&id)?;
    require(&user, Action::Report)?;
    let stage = Stage::parse(f.stage.trim())
        .ok_or_else(|| PageError::BadRequest("stage: choose notification or report".into()))?;
    state
        .store
        .mark_incident_sent(&user.tenant(), id, &user.user.email, stage)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportableForm {
    csrf: String,
    reportable: String,
    reason: String,
}

async fn set_reportable(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(f): Form<ReportableForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&f.csrf)?;
    let id = parse_id(&id)?;
    require(&user, Action::Report)?;
    let reportable = match f.reportable.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(PageError::BadRequest("reportable: choose yes or no".into())),
    };
    state
        .store
        .set_incident_reportable(&user.tenant(), id, &user.user.email, reportable, &f.reason)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}")).into_response())
}

async fn load(state: &AppState, user: &CurrentUser, id: &str) -> Result<Incident, PageError> {
    let id = parse_id(id)?;
    Ok(state.store.get_incident(&user.tenant(), id).await?)
}

fn markdown(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

fn json_doc(v: serde_json::Value) -> Response {
    ([(header::X_CONTENT_TYPE_OPTIONS, "nosniff")], axum::Json(v)).into_response()
}

async fn notification_md(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let inc = load(&state, &user, &id).await?;
    Ok(markdown(notification_markdown(&inc, crate::now())))
}

async fn notification_js(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let inc = load(&state, &user, &id).await?;
    Ok(json_doc(notification_json(&inc, crate::now())))
}

async fn report_md(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let inc = load(&state, &user, &id).await?;
    let timeline = state
        .store
        .incident_timeline(&user.tenant(), inc.id)
        .await?;
    Ok(markdown(report_markdown(&inc, &timeline, crate::now())))
}

async fn report_js(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let inc = load(&state, &user, &id).await?;
    let timeline = state
        .store
        .incident_timeline(&user.tenant(), inc.id)
        .await?;
    Ok(json_doc(report_json(&inc, &timeline, crate::now())))
}

async fn report_html(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let inc = load(&state, &user, &id).await?;
    let timeline = state
        .store
        .incident_timeline(&user.tenant(), inc.id)
        .await?;
    let now = crate::now();
    let title = format!("Full incident report {}", inc.reference());
    Ok(page(
        &title,
        Some(&user),
        html! {
            article class="report" {
                p class="noprint" { a href={"/incidents/" (inc.id)} { "← Back to the incident" } " · Print this page (Ctrl+P) to file or send it." }
                h1 { "Full incident report: " (inc.reference()) }
                p { "Under the Cyber Security and Resilience Bill: full report due within " (Stage::Report.hours())
                    " hours of becoming aware, to the organisation's regulator and, at the same time, the NCSC." }
                table class="facts" {
                    tbody {
                        tr { th scope="row" { "Entity" } td { (inc.org_name) } }
                        tr { th scope="row" { "Sector" } td { (inc.sector.as_str().replace('_', " ")) } }
                        tr { th scope="row" { "Affected service" } td { @if inc.affected_service.is_empty() { "not stated" } @else { (inc.affected_service) } } }
                        tr { th scope="row" { "Title" } td { (inc.title) } }
                        tr { th scope="row" { "Severity" } td { (inc.severity.as_str()) } }
                        tr { th scope="row" { "Current state" } td { (inc.state.as_str()) } }
                        tr { th scope="row" { "Reportable under the Bill" } td { @if inc.reportable { "yes" } @else { "no" } } }
                        tr { th scope="row" { "Occurred" } td { (inc.occurred_at.map_or_else(|| "not known".into(), format_time)) } }
                        tr { th scope="row" { "Detected" } td { (inc.detected_at.map_or_else(|| "not known".into(), format_time)) } }
                        tr { th scope="row" { "Became aware" } td { (format_time(inc.aware_at)) } }
                        tr { th scope="row" { "Opened here" } td { (format_time(inc.created_at)) " by " (inc.created_by) } }
                        tr { th scope="row" { "Initial notification" } td { (describe_clock(inc.clock(Stage::Notification, now))) } }
                        tr { th scope="row" { "Full report" } td { "due " (format_time(inc.due(Stage::Report))) "; " (describe_clock(inc.clock(Stage::Report, now))) } }
                        tr { th scope="row" { "Generated" } td { (format_time(now)) } }
                    }
                }
                h2 { "Description" }
                p class="prewrap" { @if inc.description.is_empty() { "No description yet." } @else { (inc.description) } }
                @if let Some(d) = &inc.detection {
                    h2 { "Detection" }
                    dl class="facts" {
                        @for (k, label) in [("rule_id", "Rule"), ("title", "Rule title"), ("level", "Level"), ("host", "Host"), ("user", "User"), ("source", "Source"), ("time", "Time"), ("summary", "Summary")] {
                            @if let Some(v) = d.get(k).filter(|v| !v.is_null()) {
                                dt { (label) } dd { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) }
                            }
                        }
                    }
                }
                h2 { "Timeline" }
                table {
                    thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Detail" } } }
                    tbody {
                        @for e in timeline.iter().filter(|e| e.kind != "sent") {
                            tr { td { (format_time(e.at)) } td { (e.actor) } td { (timeline_label(e)) } td class="prewrap" { (e.body) } }
                        }
                    }
                }
                h2 { "Recipients" }
                ul { @for r in RECIPIENTS { li { (r) } } }
            }
        },
    ))
}

async fn upload_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Response, PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        PageError::BadRequest(format!("the upload could not be read ({e}); try again"))
    };
    let mut csrf = None;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(bad)?),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                let ctype = field.content_type().unwrap_or("").to_owned();
                // Refuse before reading past the limit.
                let mut field = field;
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if bytes.len() + chunk.len() > MAX_FILE_BYTES {
                        user.check_csrf(csrf.as_deref().unwrap_or(""))?;
                        return Err(PageError::BadRequest(format!(
                            "file: over the limit of {MAX_FILE_BYTES} bytes (2 MiB); attach an extract or compress it"
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((name, ctype, bytes));
            }
            _ => {}
        }
    }
    user.check_csrf(csrf.as_deref().unwrap_or(""))?;
    let id = parse_id(&id)?;
    require(&user, Action::Note)?;
    let (name, ctype, bytes) =
        file.ok_or_else(|| PageError::BadRequest("file: choose a file to attach".into()))?;
    state
        .store
        .add_incident_file(&user.tenant(), id, &user.user.email, &name, &ctype, &bytes)
        .await?;
    Ok(Redirect::to(&format!("/incidents/{id}#files")).into_response())
}

async fn download_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (id, file) = (parse_id(&id)?, parse_id(&file)?);
    let (meta, bytes) = state
        .store
        .get_incident_file(&user.tenant(), id, file)
        .await?;
    // Never rendered by the browser: an attachment of opaque bytes, with a
    // name reduced to safe characters.
    let safe: String = meta
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
