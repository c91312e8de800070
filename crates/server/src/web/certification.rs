//! Cyber Essentials certification: the self-assessment questionnaire (data
//! in `data/ce-questions.toml`), its domain types, and the pages
//! `/certification`, `/certification/{id}` and `/certification/{id}/certificate`.
//!
//! The store functions are in `store/certification.rs` (`Store::ce_*`);
//! who sees what is decided there in one function (`CertView::of`).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};

use crate::http::AppState;
use crate::store::OrgId;
use crate::web::{csrf_field, page, CurrentUser, PageError};
use crate::{Role, StoreError};

// ------------------------------------------------------------------ types

/// Where an application is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CeState {
    /// Being filled in by the organisation.
    Draft,
    /// Waiting for an assessor.
    Submitted,
    /// The assessor asked questions; the organisation answers and resubmits.
    Clarification,
    /// Passed: a certificate was issued.
    Passed,
    /// Failed, with the assessor's reasons.
    Failed,
}

impl CeState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CeState::Draft => "draft",
            CeState::Submitted => "submitted",
            CeState::Clarification => "clarification",
            CeState::Passed => "passed",
            CeState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CeState> {
        Some(match s {
            "draft" => CeState::Draft,
            "submitted" => CeState::Submitted,
            "clarification" => CeState::Clarification,
            "passed" => CeState::Passed,
            "failed" => CeState::Failed,
            _ => return None,
        })
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            CeState::Draft => "a draft",
            CeState::Submitted => "submitted for assessment",
            CeState::Clarification => "waiting for clarification",
            CeState::Passed => "passed",
            CeState::Failed => "failed",
        }
    }

    fn badge(self) -> &'static str {
        match self {
            CeState::Draft => "grey",
            CeState::Submitted | CeState::Clarification => "amber",
            CeState::Passed => "green",
            CeState::Failed => "red",
        }
    }
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Yes or no ("yes" is always the compliant answer).
    YesNo,
    /// Free text.
    Text,
}

fn yes() -> bool {
    true
}

/// One self-assessment question.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Question {
    /// Its ID (`A4.1`).
    pub id: String,
    /// `organisation`, `scope` or one of the five controls' snake-case names.
    pub control: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// The question.
    pub text: String,
    /// The v3.3 requirement IDs it covers.
    #[serde(default)]
    pub requirements: Vec<String>,
    /// The `portcullis assess` check IDs that evidence it.
    #[serde(default)]
    pub checks: Vec<String>,
    /// A "no" is one of v3.3's automatic fails.
    #[serde(default)]
    pub auto_fail: bool,
    /// "Not applicable" is allowed.
    #[serde(default)]
    pub allow_na: bool,
    /// Must be answered before submission.
    #[serde(default = "yes")]
    pub required: bool,
}

/// The question set.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Questionnaire {
    /// The scheme these questions assess against.
    pub scheme: String,
    /// The questions, in order.
    #[serde(rename = "question")]
    pub questions: Vec<Question>,
}

impl Questionnaire {
    /// The question with this ID.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }
}

/// The groups questions are shown in, in order: (key, heading).
pub const CONTROLS: [(&str, &str); 7] = [
    ("organisation", "Your organisation"),
    ("scope", "Scope of the assessment"),
    ("firewalls", "Firewalls"),
    ("secure_configuration", "Secure configuration"),
    ("security_update_management", "Security update management"),
    ("user_access_control", "User access control"),
    ("malware_protection", "Malware protection"),
];

/// The question set in `data/ce-questions.toml` (parsed once).
pub fn questionnaire() -> Result<&'static Questionnaire, StoreError> {
    static Q: OnceLock<Result<Questionnaire, String>> = OnceLock::new();
    Q.get_or_init(|| {
        let q: Questionnaire = toml::from_str(include_str!("../../data/ce-questions.toml"))
            .map_err(|e| format!("data/ce-questions.toml: {e}"))?;
        let mut seen = std::collections::HashSet::new();
        for x in &q.questions {
            if !seen.insert(x.id.clone()) {
                return Err(format!("data/ce-questions.toml: question {} twice", x.id));
            }
            if !CONTROLS.iter().any(|(k, _)| *k == x.control) {
                return Err(format!(
                    "data/ce-questions.toml: question {} has unknown control {}",
                    x.id, x.control
                ));
            }
        }
        Ok(q)
    })
    .as_ref()
    .map_err(|e| StoreError::Corrupt(e.clone()))
}

/// A self-assessment application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    /// Its ID.
    pub id: i64,
    /// The applying organisation.
    pub org: OrgId,
    /// Its name.
    pub org_name: String,
    /// The scheme version it is assessed against.
    pub scheme: String,
    /// Its state.
    pub state: CeState,
    /// Who opened it (`user:<email>`).
    pub created_by: String,
    /// When it was opened.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Last (re)submission.
    pub submitted_at: Option<i64>,
    /// The board-level person who declared the answers true.
    pub declared_by: Option<String>,
    /// When the assessor decided.
    pub decided_at: Option<i64>,
    /// Which assessor decided.
    pub decided_by: Option<String>,
    /// The assessor's reasons.
    pub decision_reason: Option<String>,
}

/// One host's part of a question's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostEvidence {
    /// The host.
    pub host: String,
    /// The assessment submission it comes from.
    pub submission_id: i64,
    /// When that submission arrived.
    pub received_at: i64,
    /// `pass`, `fail` or `undecided` (needs attestation or unknown).
    pub status: String,
    /// The checks seen.
    pub checks: Vec<CheckSeen>,
}

/// One check result seen on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSeen {
    /// The check ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: String,
}

/// What the agents showed for a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerEvidence {
    /// The answer the evidence suggests (`yes`, `no`, or empty: undecided).
    pub suggested: String,
    /// Hosts whose checks all passed.
    #[serde(default)]
    pub passed: usize,
    /// Hosts with a failed check.
    #[serde(default)]
    pub failed: usize,
    /// Hosts that could not decide (needs attestation or unknown).
    #[serde(default)]
    pub undecided: usize,
    /// Per host, failing hosts first; at most [`EVIDENCE_HOSTS_KEPT`].
    pub hosts: Vec<HostEvidence>,
}

/// Hosts kept in one answer's evidence (the counts cover all of them).
pub const EVIDENCE_HOSTS_KEPT: usize = 200;

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CeAnswer {
    /// The question.
    pub question_id: String,
    /// The answer (`yes`/`no`/`not_applicable` or text; empty: unanswered).
    pub answer: String,
    /// The organisation's note.
    pub note: String,
    /// `agent` (pre-filled from evidence) or `org` (set by a person).
    pub source: String,
    /// The agents' evidence, if any.
    pub evidence: Option<AnswerEvidence>,
    /// Who last changed it.
    pub updated_by: String,
    /// When.
    pub updated_at: i64,
}

/// An assessor's question about one answer, and the organisation's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clarification {
    /// Its ID.
    pub id: i64,
    /// The question it is about.
    pub question_id: String,
    /// What the assessor asks.
    pub request: String,
    /// The assessor.
    pub asked_by: String,
    /// When.
    pub asked_at: i64,
    /// The organisation's response.
    pub response: Option<String>,
    /// Who responded.
    pub answered_by: Option<String>,
    /// When.
    pub answered_at: Option<i64>,
}

/// A Cyber Essentials certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    /// Its ID.
    pub id: i64,
    /// The certified organisation.
    pub org: OrgId,
    /// Its name.
    pub org_name: String,
    /// The application that passed.
    pub application_id: i64,
    /// The certificate number (`PC-CE-2026-000042`).
    pub number: String,
    /// The scheme version.
    pub scheme: String,
    /// Issue date (Unix seconds).
    pub issued_at: i64,
    /// Expiry: 12 months after issue.
    pub expires_at: i64,
}

/// An application with everything shown on its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationDetail {
    /// The application.
    pub app: Application,
    /// Answers by question ID.
    pub answers: HashMap<String, CeAnswer>,
    /// Clarification requests, oldest first.
    pub clarifications: Vec<Clarification>,
    /// The certificate, once passed.
    pub certificate: Option<Certificate>,
}

// ------------------------------------------------------------------ dates

/// Days since 1970-01-01 → (year, month 1-12, day 1-31) (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    days_from_civil(
        if m == 12 { y + 1 } else { y },
        if m == 12 { 1 } else { m + 1 },
        1,
    ) - days_from_civil(y, m, 1)
}

/// `ts` plus `months` calendar months, same time of day; a day past the end
/// of the target month becomes its last day (29 Feb + 12 months = 28 Feb).
pub fn add_months(ts: i64, months: i64) -> i64 {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let total = y * 12 + (m - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd) * 86_400 + secs
}

/// The calendar year of `ts` (UTC).
pub fn year_of(ts: i64) -> i64 {
    civil_from_days(ts.div_euclid(86_400)).0
}

/// `23 November 2026` (UTC).
pub fn fmt_date(ts: i64) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    let month = usize::try_from(m - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("?");
    format!("{d} {month} {y}")
}

/// `2026-11-23 14:05 UTC`.
pub fn fmt_time(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    let s = ts.rem_euclid(86_400);
    format!(
        "{y}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        (s % 3600) / 60
    )
}

// ------------------------------------------------------------------ pages

/// Largest form accepted on these pages.
const FORM_LIMIT: usize = 256 * 1024;
/// Hosts listed per question before "and N more".
const HOSTS_SHOWN: usize = 20;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/certification", get(list_page).post(open))
        .route("/certification/{id}", get(detail_page))
        .route("/certification/{id}/answers", post(save_answers))
        .route("/certification/{id}/refresh", post(refresh))
        .route("/certification/{id}/submit", post(submit))
        .route("/certification/{id}/clarify", post(clarify))
        .route("/certification/{id}/decide", post(decide))
        .route("/certification/{id}/certificate", get(certificate_page))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn check_csrf(user: &CurrentUser, f: &Fields) -> Result<(), PageError> {
    user.check_csrf(field(f, "csrf"))
}

fn to(id: i64) -> Response {
    Redirect::to(&format!("/certification/{id}")).into_response()
}

fn state_badge(s: CeState) -> Markup {
    html! { span class=(format!("badge {}", s.badge())) { (s.as_str().replace('_', " ")) } }
}

async fn list_page(State(state): State<AppState>, user: CurrentUser) -> Result<Markup, PageError> {
    let apps = state.store.ce_list_applications(&user.user).await?;
    let certs = state.store.ce_certificates(&user.user).await?;
    let role = user.user.role;
    let now = crate::now();
    let open = apps.iter().any(|a| {
        a.org == user.user.org
            && matches!(
                a.state,
                CeState::Draft | CeState::Submitted | CeState::Clarification
            )
    });
    let body = html! {
        h1 { "Cyber Essentials certification" }
        @match role {
            Role::Assessor => {
                p { "Applications submitted for assessment by every organisation. Drafts are private to their organisation until submitted; you cannot review your own organisation's application." }
                h2 { "Waiting for review" }
                (app_table(apps.iter().filter(|a| a.state == CeState::Submitted), true))
                h2 { "Waiting for the organisation's clarification" }
                (app_table(apps.iter().filter(|a| a.state == CeState::Clarification), true))
                h2 { "Decided" }
                (app_table(apps.iter().filter(|a| matches!(a.state, CeState::Passed | CeState::Failed)), true))
            }
            Role::Analyst | Role::SiteAdmin => {
                p { "Every organisation's applications and certificates." }
                h2 { "Applications" }
                (app_table(apps.iter(), true))
            }
            Role::Member | Role::OrgAdmin => {
                @if let Some(c) = certs.iter().find(|c| c.expires_at > now) {
                    div class="card ce-cert-summary" {
                        h2 { "Current certificate" }
                        p { "Certificate " strong { (c.number) } ", issued " (fmt_date(c.issued_at)) ", expires " strong { (fmt_date(c.expires_at)) } "." }
                        p { a href=(format!("/certification/{}/certificate", c.application_id)) { "Show the certificate" } }
                    }
                } @else {
                    p class="notice" { "Your organisation has no current Cyber Essentials certificate." }
                }
                @if !open {
                    @if role == Role::OrgAdmin {
                        form method="post" action="/certification" class="card" {
                            (csrf_field(&user))
                            p { "Start a new self-assessment. Answers your enrolled hosts can evidence (from their latest " code { "portcullis assess" } " results) are filled in for you, with the evidence attached." }
                            button type="submit" { "Start a self-assessment" }
                        }
                    } @else {
                        p class="muted" { "Your organisation's administrator can start a self-assessment; you can then help fill it in." }
                    }
                }
                h2 { "Your applications" }
                (app_table(apps.iter(), false))
            }
        }
        @if !certs.is_empty() && role != Role::Member && role != Role::OrgAdmin {
            h2 { "Certificates" }
            table {
                thead { tr { th scope="col" { "Number" } th scope="col" { "Organisation" } th scope="col" { "Issued" } th scope="col" { "Expires" } } }
                tbody {
                    @for c in &certs {
                        tr {
                            td { a href=(format!("/certification/{}/certificate", c.application_id)) { (c.number) } }
                            td { (c.org_name) }
                            td { (fmt_date(c.issued_at)) }
                            td { (fmt_date(c.expires_at)) @if c.expires_at <= now { " " span class="badge red" { "expired" } } }
                        }
                    }
                }
            }
        }
    };
    Ok(page("Certification", Some(&user), body))
}

fn app_table<'a>(apps: impl Iterator<Item = &'a Application>, show_org: bool) -> Markup {
    let apps: Vec<&Application> = apps.collect();
    html! {
        @if apps.is_empty() {
            p class="muted" { "None." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Application" }
                    @if show_org { th scope="col" { "Organisation" } }
                    th scope="col" { "State" } th scope="col" { "Opened" } th scope="col" { "Submitted" } th scope="col" { "Decided" }
                } }
                tbody {
                    @for a in &apps {
                        tr {
                            td { a href=(format!("/certification/{}", a.id)) { "#" (a.id) } }
                            @if show_org { td { (a.org_name) } }
                            td { (state_badge(a.state)) }
                            td { (fmt_date(a.created_at)) }
                            td { @if let Some(t) = a.submitted_at { (fmt_date(t)) } }
                            td { @if let Some(t) = a.decided_at { (fmt_date(t)) } }
                        }
                    }
                }
            }
        }
    }
}

async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::OrgAdmin])?;
    let id = state.store.ce_open_application(&user.user).await?;
    Ok(to(id))
}

fn answer_label(a: &str) -> &str {
    match a {
        "yes" => "Yes",
        "no" => "No",
        "not_applicable" => "Not applicable",
        "" => "Not answered",
        other => other,
    }
}

fn evidence_block(ev: &AnswerEvidence) -> Markup {
    let hosts: Vec<&HostEvidence> = ev.hosts.iter().collect();
    let (passed, failed, other) = (ev.passed, ev.failed, ev.undecided);
    let total = passed + failed + other;
    html! {
        details class="ce-evidence" open[failed > 0] {
            summary { "Agent evidence: " (passed) " passed, " (failed) " failed, " (other) " undecided" }
            table {
                thead { tr { th scope="col" { "Host" } th scope="col" { "Result" } th scope="col" { "Checks" } th scope="col" { "Assessed" } } }
                tbody {
                    @for h in hosts.iter().take(HOSTS_SHOWN) {
                        tr {
                            td { (h.host) }
                            td { span class=(format!("badge {}", match h.status.as_str() { "pass" => "green", "fail" => "red", _ => "grey" })) { (h.status) } }
                            td { ul class="ce-checks" { @for c in &h.checks { li { code { (c.id) } " " (c.status) } } } }
                            td { (fmt_time(h.received_at)) " (submission " (h.submission_id) ")" }
                        }
                    }
                }
            }
            @if total > HOSTS_SHOWN.min(hosts.len()) { p class="muted" { "and " (total - HOSTS_SHOWN.min(hosts.len())) " more hosts" } }
        }
    }
}

async fn detail_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Markup, PageError> {
    let d = state.store.ce_application(&user.user, id).await?;
    let qs = questionnaire()?;
    let app = &d.app;
    let role = user.user.role;
    let own = app.org == user.user.org && matches!(role, Role::Member | Role::OrgAdmin);
    let editing_draft = own && app.state == CeState::Draft;
    let open_clar: Vec<&Clarification> = d
        .clarifications
        .iter()
        .filter(|c| c.response.is_none())
        .collect();
    let editing_clar = own && app.state == CeState::Clarification;
    let reviewing =
        role == Role::Assessor && app.state == CeState::Submitted && app.org != user.user.org;
    let auto_fails: Vec<&Question> = qs
        .questions
        .iter()
        .filter(|q| q.auto_fail && d.answers.get(&q.id).is_some_and(|a| a.answer == "no"))
        .collect();
    let unanswered = qs
        .questions
        .iter()
        .filter(|q| {
            q.required
                && d.answers
                    .get(&q.id)
                    .is_none_or(|a| a.answer.trim().is_empty())
        })
        .count();
    let answered_no: Vec<&str> = qs
        .questions
        .iter()
        .filter(|q| d.answers.get(&q.id).is_some_and(|a| a.answer == "no"))
        .map(|q| q.id.as_str())
        .collect();
    let differs: Vec<&str> = qs
        .questions
        .iter()
        .filter(|q| {
            d.answers.get(&q.id).is_some_and(|a| {
                a.evidence
                    .as_ref()
                    .is_some_and(|e| !e.suggested.is_empty() && e.suggested != a.answer)
            })
        })
        .map(|q| q.id.as_str())
        .collect();
    let editable = |q: &Question| {
        editing_draft || (editing_clar && open_clar.iter().any(|c| c.question_id == q.id))
    };
    let answer_form = editing_draft || (editing_clar && !open_clar.is_empty());
    let body = html! {
        p { a href="/certification" { "← Certification" } }
        h1 { "Self-assessment #" (app.id) ": " (app.org_name) }
        p { (state_badge(app.state)) " " (app.scheme) ". Opened " (fmt_date(app.created_at)) " by " (app.created_by.trim_start_matches("user:")) "."
            @if let Some(t) = app.submitted_at { " Submitted " (fmt_time(t)) @if let Some(who) = &app.declared_by { ", declared true by " (who) } "." }
        }
        @if let (Some(t), Some(who)) = (app.decided_at, &app.decided_by) {
            div class=(if app.state == CeState::Passed { "notice" } else { "error" }) {
                p { strong { "Decision: " (app.state.as_str()) } " on " (fmt_time(t)) " by " (who) "." }
                @if let Some(r) = &app.decision_reason { p { (r) } }
                @if let Some(c) = &d.certificate {
                    p { "Certificate " strong { (c.number) } " expires " (fmt_date(c.expires_at)) ". " a href=(format!("/certification/{}/certificate", app.id)) { "Show the certificate" } }
                }
            }
        }
        @if !answered_no.is_empty() || !differs.is_empty() {
            div class="card ce-summary" {
                h2 { "Summary" }
                @if !answered_no.is_empty() {
                    p { "Answered no: " @for (i, q) in answered_no.iter().enumerate() { @if i > 0 { ", " } a href=(format!("#q-{q}")) { (q) } } "." }
                }
                @if !differs.is_empty() {
                    p { "Answers that differ from the agents' evidence: " @for (i, q) in differs.iter().enumerate() { @if i > 0 { ", " } a href=(format!("#q-{q}")) { (q) } } "." }
                }
            }
        }
        @if !auto_fails.is_empty() {
            div class="error" role="alert" {
                p { strong { "Automatic fail. " } "Under v3.3 a \"no\" to these questions fails the application outright: "
                    @for (i, q) in auto_fails.iter().enumerate() { @if i > 0 { ", " } (q.id) } ". Fix them before submitting." }
            }
        }
        @if !d.clarifications.is_empty() {
            h2 { "Clarification" }
            table {
                thead { tr { th scope="col" { "Question" } th scope="col" { "Assessor asks" } th scope="col" { "Response" } } }
                tbody {
                    @for c in &d.clarifications {
                        tr {
                            td { a href=(format!("#q-{}", c.question_id)) { (c.question_id) } }
                            td { (c.request) br; span class="muted" { (c.asked_by) ", " (fmt_time(c.asked_at)) } }
                            td {
                                @if let Some(r) = &c.response { (r) br; span class="muted" { (c.answered_by.as_deref().unwrap_or("")) } }
                                @else if editing_clar { span class="badge amber" { "awaiting your response (below)" } }
                                @else { span class="badge amber" { "awaiting the organisation" } }
                            }
                        }
                    }
                }
            }
        }
        @if answer_form {
            form method="post" action=(format!("/certification/{}/answers", app.id)) class="ce-form" {
                (csrf_field(&user))
                (questions(qs, &d, &editable, &open_clar))
                p class="ce-actions" { button type="submit" { "Save answers" } }
            }
        } @else {
            (questions(qs, &d, &|_| false, &[]))
        }
        @if editing_draft {
            form method="post" action=(format!("/certification/{}/refresh", app.id)) class="card noprint" {
                (csrf_field(&user))
                p { "Re-read your hosts' latest assessments. Answers filled in from evidence follow it; answers you changed keep your value." }
                button type="submit" class="secondary" { "Refresh agent evidence" }
            }
        }
        @if own && matches!(app.state, CeState::Draft | CeState::Clarification) {
            @if role == Role::OrgAdmin {
                form method="post" action=(format!("/certification/{}/submit", app.id)) class="card stack noprint" {
                    (csrf_field(&user))
                    h2 { "Submit for assessment" }
                    @if unanswered > 0 { p class="error" { (unanswered) " required questions are not answered yet." } }
                    @if !open_clar.is_empty() && app.state == CeState::Clarification { p class="error" { (open_clar.len()) " clarification requests still need a response." } }
                    label for="declared_by" { "Board-level person declaring these answers true (name and role)" }
                    input id="declared_by" name="declared_by" required maxlength="200";
                    p { button type="submit" { "Submit for assessment" } }
                }
            } @else {
                p class="muted" { "Your organisation's administrator submits the application." }
            }
        }
        @if reviewing {
            form method="post" action=(format!("/certification/{}/clarify", app.id)) class="card stack noprint" {
                (csrf_field(&user))
                h2 { "Ask for clarification" }
                p { "Choose up to three questions and write what you need to know; leave unused rows empty. The organisation answers and resubmits." }
                @for i in 1..=3 {
                    label for=(format!("clar_q{i}")) { "Question " (i) }
                    select id=(format!("clar_q{i}")) name="question" {
                        @for q in &qs.questions { option value=(q.id) { (q.id) " — " (q.text.chars().take(70).collect::<String>()) } }
                    }
                    label for=(format!("clar_text{i}")) { "What do you need to know?" }
                    textarea id=(format!("clar_text{i}")) name="request" rows="2" maxlength="4000" {}
                }
                p { button type="submit" class="secondary" { "Ask for clarification" } }
            }
            form method="post" action=(format!("/certification/{}/decide", app.id)) class="card stack noprint" {
                (csrf_field(&user))
                h2 { "Decision" }
                fieldset {
                    legend { "Outcome" }
                    label { input type="radio" name="outcome" value="pass" required; " Pass: issue the certificate (12 months)" }
                    label { input type="radio" name="outcome" value="fail"; " Fail" }
                }
                label for="reason" { "Reasons" }
                textarea id="reason" name="reason" rows="4" required maxlength="4000" {}
                p { button type="submit" { "Record the decision" } }
            }
        }
    };
    Ok(page(
        &format!("Self-assessment #{}", app.id),
        Some(&user),
        body,
    ))
}

fn questions(
    qs: &Questionnaire,
    d: &ApplicationDetail,
    editable: &dyn Fn(&Question) -> bool,
    open_clar: &[&Clarification],
) -> Markup {
    html! {
        @for (key, heading) in CONTROLS {
            @let group: Vec<&Question> = qs.questions.iter().filter(|q| q.control == key).collect();
            @if !group.is_empty() {
                section class="ce-group" aria-labelledby=(format!("g-{key}")) {
                    h2 id=(format!("g-{key}")) { (heading) }
                    @for q in group {
                        @let a = d.answers.get(&q.id);
                        @let value = a.map_or("", |a| a.answer.as_str());
                        @let can = editable(q);
                        div class="ce-q card" id=(format!("q-{}", q.id)) {
                            p class="ce-qtext" { strong { (q.id) } " " (q.text)
                                @if q.auto_fail { " " span class="badge red" title="A no fails the application outright" { "auto-fail" } } }
                            @if !q.requirements.is_empty() || !q.checks.is_empty() {
                                p class="muted ce-refs" {
                                    @if !q.requirements.is_empty() { "Requirements " (q.requirements.join(", ")) ". " }
                                    @if !q.checks.is_empty() { "Evidenced by " @for (i, c) in q.checks.iter().enumerate() { @if i > 0 { ", " } code { (c) } } "." }
                                }
                            }
                            @if let Some(ev) = a.and_then(|a| a.evidence.as_ref()) {
                                (evidence_block(ev))
                                @if a.is_some_and(|a| a.source == "org" && !ev.suggested.is_empty() && ev.suggested != a.answer) {
                                    p class="error" { "The answer differs from what the agents show (" (answer_label(&ev.suggested)) ")." }
                                }
                            }
                            @for c in open_clar.iter().filter(|c| c.question_id == q.id) {
                                div class="stack ce-clar" {
                                    label for=(format!("r-{}", c.id)) { "Your response to the assessor: " (c.request) }
                                    textarea id=(format!("r-{}", c.id)) name=(format!("r.{}", c.id)) rows="3" maxlength="4000" {}
                                }
                            }
                            @if can {
                                @match q.kind {
                                    QuestionKind::YesNo => {
                                        fieldset class="ce-yesno" {
                                            legend class="visually-hidden" { "Answer to " (q.id) }
                                            label { input type="radio" name=(format!("a.{}", q.id)) value="yes" checked[value == "yes"]; " Yes" }
                                            label { input type="radio" name=(format!("a.{}", q.id)) value="no" checked[value == "no"]; " No" }
                                            @if q.allow_na { label { input type="radio" name=(format!("a.{}", q.id)) value="not_applicable" checked[value == "not_applicable"]; " Not applicable" } }
                                        }
                                    }
                                    QuestionKind::Text => {
                                        label class="visually-hidden" for=(format!("a-{}", q.id)) { "Answer to " (q.id) }
                                        textarea id=(format!("a-{}", q.id)) name=(format!("a.{}", q.id)) rows="2" maxlength="4000" { (value) }
                                    }
                                }
                                label class="ce-note" for=(format!("n-{}", q.id)) { "Note (optional)" }
                                textarea id=(format!("n-{}", q.id)) name=(format!("n.{}", q.id)) rows="1" maxlength="4000" { (a.map_or("", |a| a.note.as_str())) }
                                @if a.is_some_and(|a| a.source == "agent" && !a.answer.is_empty()) { p class="muted" { "Filled in from agent evidence." } }
                            } @else {
                                p class="ce-answer" { "Answer: " strong { (answer_label(value)) }
                                    @if a.is_some_and(|a| a.source == "agent" && !a.answer.is_empty()) { " " span class="muted" { "(from agent evidence)" } } }
                                @if let Some(n) = a.map(|a| a.note.as_str()).filter(|n| !n.is_empty()) { p { "Note: " (n) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn save_answers(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::Member, Role::OrgAdmin])?;
    let mut answers: Vec<(String, String, String)> = Vec::new();
    let mut responses: Vec<(i64, String)> = Vec::new();
    for (k, v) in &f {
        if let Some(qid) = k.strip_prefix("n.") {
            answers.push((
                qid.to_owned(),
                field(&f, &format!("a.{qid}")).to_owned(),
                v.clone(),
            ));
        } else if let Some(cid) = k.strip_prefix("r.") {
            let cid: i64 = cid.parse().map_err(|_| {
                PageError::BadRequest("the form has a bad field: reload the page".into())
            })?;
            responses.push((cid, v.clone()));
        }
    }
    // Answers first: while clarification is requested, the questions asked
    // about can change only until they are responded to.
    state
        .store
        .ce_save_answers(&user.user, id, &answers)
        .await?;
    if !responses.is_empty() {
        state.store.ce_respond(&user.user, id, &responses).await?;
    }
    Ok(to(id))
}

async fn refresh(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::Member, Role::OrgAdmin])?;
    state.store.ce_refresh_evidence(&user.user, id).await?;
    Ok(to(id))
}

async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::OrgAdmin])?;
    state
        .store
        .ce_submit(&user.user, id, field(&f, "declared_by"))
        .await?;
    Ok(to(id))
}

async fn clarify(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::Assessor])?;
    // One request per (question, request) pair, in form order.
    let qids: Vec<&String> = f
        .iter()
        .filter(|(k, _)| k == "question")
        .map(|(_, v)| v)
        .collect();
    let texts: Vec<&String> = f
        .iter()
        .filter(|(k, _)| k == "request")
        .map(|(_, v)| v)
        .collect();
    let requests: Vec<(String, String)> = qids
        .into_iter()
        .zip(texts)
        .map(|(q, t)| (q.clone(), t.clone()))
        .collect();
    state
        .store
        .ce_request_clarification(&user.user, id, &requests)
        .await?;
    Ok(to(id))
}

async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    check_csrf(&user, &f)?;
    user.require_role(&[Role::Assessor])?;
    let pass = match field(&f, "outcome") {
        "pass" => true,
        "fail" => false,
        _ => return Err(PageError::BadRequest("choose pass or fail".into())),
    };
    state
        .store
        .ce_decide(&user.user, id, pass, field(&f, "reason"))
        .await?;
    Ok(to(id))
}

async fn certificate_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Markup, PageError> {
    let d = state.store.ce_application(&user.user, id).await?;
    let c = d.certificate.ok_or(PageError::NotFound)?;
    let body = html! {
        p class="noprint" { a href=(format!("/certification/{id}")) { "← Application" } " · Use your browser's Print to print or save as PDF." }
        article class="ce-certificate" {
            p class="ce-cert-scheme" { (c.scheme) }
            h1 { "Certificate of self-assessment" }
            p { "This certifies that" }
            p class="ce-cert-org" { (c.org_name) }
            p { "completed the Cyber Essentials self-assessment, which was reviewed and passed by an assessor." }
            dl {
                dt { "Certificate number" } dd { (c.number) }
                dt { "Issued" } dd { (fmt_date(c.issued_at)) }
                dt { "Expires" } dd { (fmt_date(c.expires_at)) }
                @if let Some(who) = &d.app.decided_by { dt { "Assessor" } dd { (who.trim_start_matches("user:")) } }
                @if let Some(who) = &d.app.declared_by { dt { "Declared by" } dd { (who) } }
            }
            p class="muted" { "Valid for 12 months from the date of issue. Issued through Portcullis." }
        }
    };
    Ok(page(
        &format!("Certificate {}", c.number),
        Some(&user),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_is_calendar_months() {
        // 2026-11-23 10:00:00 UTC → 2027-11-23 10:00:00 UTC.
        let t = days_from_civil(2026, 11, 23) * 86_400 + 36_000;
        assert_eq!(
            add_months(t, 12),
            days_from_civil(2027, 11, 23) * 86_400 + 36_000
        );
        // 29 February + 12 months = 28 February.
        let leap = days_from_civil(2028, 2, 29) * 86_400;
        assert_eq!(add_months(leap, 12), days_from_civil(2029, 2, 28) * 86_400);
        assert_eq!(fmt_date(t), "23 November 2026");
        assert_eq!(year_of(t), 2026);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn the_question_set_parses_and_ties_questions_to_requirements() {
        let q = questionnaire().expect("questions parse");
        assert!(q.questions.len() >= 40);
        for c in ["A6.4", "A6.5", "A7.14"] {
            assert!(
                q.question(c).is_some_and(|x| x.auto_fail),
                "{c} is auto-fail"
            );
        }
        for x in &q.questions {
            if x.kind == QuestionKind::YesNo && !matches!(x.control.as_str(), "scope") {
                assert!(!x.requirements.is_empty(), "{} has requirements", x.id);
            }
        }
    }
}
