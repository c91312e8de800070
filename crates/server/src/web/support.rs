//! Funded Cyber Essentials support: the public page `/support`, the public
//! application form `/support/apply` (eligibility checked by the server as
//! it is filled in), the cyber unit's tracking of applications to a decision
//! (`/support/applications`), and the site admin's editable eligibility
//! rules (`/support/rules`, seeded from `data/eligibility.toml`).
//!
//! The public form has no session, so its CSRF protection is a signed
//! double-submit cookie: a random nonce and its HMAC-SHA256 under a
//! service-wide key kept in the database; the form must echo the cookie's
//! value exactly, and the signature must verify.

use std::sync::OnceLock;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::http::AppState;
use crate::web::certification::fmt_time;
use crate::web::{csrf_field, page, CurrentUser, PageError};
use crate::{Role, StoreError};

// ------------------------------------------------------------------ types

/// Where a funded-support application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportState {
    /// Received from the public form.
    Submitted,
    /// Being looked at by the cyber unit.
    UnderReview,
    /// Support granted.
    Approved,
    /// Support refused (with a note).
    Declined,
}

impl SupportState {
    /// Every state, in order.
    pub const ALL: [SupportState; 4] = [
        SupportState::Submitted,
        SupportState::UnderReview,
        SupportState::Approved,
        SupportState::Declined,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SupportState::Submitted => "submitted",
            SupportState::UnderReview => "under_review",
            SupportState::Approved => "approved",
            SupportState::Declined => "declined",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<SupportState> {
        SupportState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            SupportState::Submitted => "submitted",
            SupportState::UnderReview => "under review",
            SupportState::Approved => "approved",
            SupportState::Declined => "declined",
        }
    }
}

/// One choice on the public form (a sector or a role).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Choice {
    /// The stored key.
    pub key: String,
    /// What people read.
    pub label: String,
}

/// An eligibility rule as entered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct RuleInput {
    /// Its name.
    pub name: String,
    /// The scheme or cohort it belongs to.
    pub scheme: String,
    /// Sector keys it covers (any of).
    pub sectors: Vec<String>,
    /// Smallest staff count.
    pub min_staff: i64,
    /// Largest staff count.
    pub max_staff: i64,
    /// Role keys required (any of); empty: any role.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Open for applications.
    #[serde(default = "yes")]
    pub active: bool,
    /// The rule in plain words.
    pub explanation: String,
}

fn yes() -> bool {
    true
}

fn bad(m: impl Into<String>) -> StoreError {
    StoreError::Invalid(m.into())
}

fn text_ok(what: &str, s: &str, min: usize, max: usize) -> Result<(), StoreError> {
    let n = s.trim().chars().count();
    if n < min
        || n > max
        || s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        Err(bad(format!(
            "{what}: give {}up to {max} characters of plain text",
            if min > 0 { "1 to " } else { "" }
        )))
    } else {
        Ok(())
    }
}

/// Largest staff count accepted (bounds arithmetic and storage).
pub const MAX_STAFF: i64 = 10_000_000;

impl RuleInput {
    /// Checks the rule: known sectors and roles, sane staff range.
    pub fn validate(&self) -> Result<(), StoreError> {
        let cat = catalogue()?;
        text_ok("Name", &self.name, 1, 200)?;
        text_ok("Scheme", &self.scheme, 1, 200)?;
        text_ok("Explanation", &self.explanation, 1, 2000)?;
        if self.sectors.is_empty() {
            return Err(bad("choose at least one sector"));
        }
        for s in &self.sectors {
            if !cat.sectors.iter().any(|c| &c.key == s) {
                return Err(bad(format!("unknown sector {s}")));
            }
        }
        for r in &self.roles {
            if !cat.roles.iter().any(|c| &c.key == r) {
                return Err(bad(format!("unknown role {r}")));
            }
        }
        if self.min_staff < 0 || self.min_staff > self.max_staff || self.max_staff > MAX_STAFF {
            return Err(bad(format!(
                "staff: the smallest must be 0 or more and not above the largest (at most {MAX_STAFF})"
            )));
        }
        Ok(())
    }

    /// One line for the audit log.
    pub fn summary(&self) -> String {
        format!(
            "{} [{}] sectors={} staff={}-{} roles={} {}",
            self.name,
            self.scheme,
            self.sectors.join(","),
            self.min_staff,
            self.max_staff,
            if self.roles.is_empty() {
                "any".to_owned()
            } else {
                self.roles.join(",")
            },
            if self.active { "open" } else { "closed" }
        )
    }
}

/// A stored eligibility rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportRule {
    /// Its ID.
    pub id: i64,
    /// The rule.
    pub input: RuleInput,
    /// Who last changed it.
    pub updated_by: String,
    /// When.
    pub updated_at: i64,
}

/// What the public form sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SupportInput {
    /// The organisation.
    pub org_name: String,
    /// Who to contact.
    pub contact_name: String,
    /// Their e-mail address.
    pub email: String,
    /// Sector key.
    pub sector: String,
    /// Staff count.
    pub staff: i64,
    /// Role-in-public-services key.
    pub role: String,
    /// Anything else.
    pub details: String,
}

impl SupportInput {
    /// Checks the fields (not eligibility).
    pub fn validate(&self) -> Result<(), StoreError> {
        let cat = catalogue()?;
        text_ok("Organisation name", &self.org_name, 1, 200)?;
        text_ok("Your name", &self.contact_name, 1, 200)?;
        text_ok("More about you", &self.details, 0, 4000)?;
        let e = self.email.trim();
        if e.len() > 254 || e.chars().any(char::is_whitespace) || {
            let mut parts = e.splitn(2, '@');
            let local = parts.next().unwrap_or("");
            let domain = parts.next().unwrap_or("");
            local.is_empty() || !domain.contains('.') || domain.contains('@')
        } {
            return Err(bad("E-mail address: give an address like name@example.org"));
        }
        if !cat.sectors.iter().any(|c| c.key == self.sector) {
            return Err(bad("Sector: choose one from the list"));
        }
        if !cat.roles.iter().any(|c| c.key == self.role) {
            return Err(bad("Role in public services: choose one from the list"));
        }
        if !(0..=MAX_STAFF).contains(&self.staff) {
            return Err(bad("Staff: give a whole number of people, 0 or more"));
        }
        Ok(())
    }
}

/// A funded-support application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportApplication {
    /// Its ID.
    pub id: i64,
    /// The organisation.
    pub org_name: String,
    /// Who to contact.
    pub contact_name: String,
    /// Their e-mail address.
    pub email: String,
    /// Sector key.
    pub sector: String,
    /// Staff count.
    pub staff: i64,
    /// Role key.
    pub role: String,
    /// Anything else they said.
    pub details: String,
    /// The rule it was eligible under.
    pub eligible_rule: Option<i64>,
    /// The eligibility check as it was when they applied.
    pub eligibility: String,
    /// Where it is.
    pub state: SupportState,
    /// Received.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Who last moved it on.
    pub decided_by: Option<String>,
    /// Their note.
    pub decision_note: Option<String>,
}

/// One rule's verdict on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    /// The rule.
    pub rule_id: i64,
    /// Its name.
    pub name: String,
    /// True when every condition is met.
    pub ok: bool,
    /// Why not, in plain words (empty when ok).
    pub reasons: Vec<String>,
}

/// The verdict on an application: eligible under the first rule whose
/// every condition is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The rule it is eligible under.
    pub eligible_rule: Option<i64>,
    /// Every open rule's verdict.
    pub checks: Vec<RuleCheck>,
}

impl Verdict {
    /// In one paragraph.
    pub fn summary(&self) -> String {
        match self.eligible_rule {
            Some(id) => {
                let name = self
                    .checks
                    .iter()
                    .find(|c| c.rule_id == id)
                    .map_or("", |c| c.name.as_str());
                format!("Eligible under \"{name}\".")
            }
            None if self.checks.is_empty() => {
                "Not eligible: no funded support scheme is open at the moment.".to_owned()
            }
            None => {
                let mut s = "Not eligible for any open scheme.".to_owned();
                for c in &self.checks {
                    s.push_str(&format!(" {}: {}", c.name, c.reasons.join("; ")));
                    if !s.ends_with('.') {
                        s.push('.');
                    }
                }
                s
            }
        }
    }
}

fn label_of<'a>(list: &'a [Choice], key: &'a str) -> &'a str {
    list.iter()
        .find(|c| c.key == key)
        .map_or(key, |c| c.label.as_str())
}

/// Judges `input` against the open rules (pure: the server's decision).
pub fn evaluate(rules: &[SupportRule], input: &SupportInput) -> Verdict {
    let cat = catalogue().ok();
    let sectors: &[Choice] = cat.map_or(&[], |c| c.sectors.as_slice());
    let roles: &[Choice] = cat.map_or(&[], |c| c.roles.as_slice());
    let mut checks = Vec::new();
    for r in rules.iter().filter(|r| r.input.active) {
        let i = &r.input;
        let mut reasons = Vec::new();
        if !i.sectors.iter().any(|s| s == &input.sector) {
            reasons.push(format!(
                "it is for {} (you chose \"{}\")",
                i.sectors
                    .iter()
                    .map(|s| label_of(sectors, s).to_lowercase())
                    .collect::<Vec<_>>()
                    .join(" or "),
                label_of(sectors, &input.sector)
            ));
        }
        if input.staff < i.min_staff || input.staff > i.max_staff {
            reasons.push(format!(
                "it is for organisations with {} to {} staff (you have {})",
                i.min_staff, i.max_staff, input.staff
            ));
        }
        if !i.roles.is_empty() && !i.roles.iter().any(|x| x == &input.role) {
            reasons.push(format!(
                "it needs one of these roles: {}",
                i.roles
                    .iter()
                    .map(|x| format!("\"{}\"", label_of(roles, x)))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        checks.push(RuleCheck {
            rule_id: r.id,
            name: i.name.clone(),
            ok: reasons.is_empty(),
            reasons,
        });
    }
    Verdict {
        eligible_rule: checks.iter().find(|c| c.ok).map(|c| c.rule_id),
        checks,
    }
}

/// The choices on the public form and the seed rules.
#[derive(Debug, Clone, Deserialize)]
pub struct Catalogue {
    /// Sectors.
    #[serde(rename = "sector")]
    pub sectors: Vec<Choice>,
    /// Roles in public services.
    #[serde(rename = "role")]
    pub roles: Vec<Choice>,
    /// The rules seeded on first start.
    #[serde(rename = "rule", default)]
    pub rules: Vec<RuleInput>,
}

/// `data/eligibility.toml`, parsed once.
pub fn catalogue() -> Result<&'static Catalogue, StoreError> {
    static C: OnceLock<Result<Catalogue, String>> = OnceLock::new();
    C.get_or_init(|| {
        toml::from_str::<Catalogue>(include_str!("../../data/eligibility.toml"))
            .map_err(|e| format!("data/eligibility.toml: {e}"))
    })
    .as_ref()
    .map_err(|e| StoreError::Corrupt(e.clone()))
}

/// The seed rules, each validated.
pub fn seed_rules() -> Result<Vec<RuleInput>, StoreError> {
    let c = catalogue()?;
    for r in &c.rules {
        r.validate().map_err(|e| {
            StoreError::Corrupt(format!("data/eligibility.toml rule {}: {e}", r.name))
        })?;
    }
    Ok(c.rules.clone())
}

// ------------------------------------------------------------ form CSRF

/// The anonymous form's cookie.
pub const FORM_COOKIE: &str = "portcullis_form";

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        let d = Sha256::digest(key);
        k[..32].copy_from_slice(&d);
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().to_vec()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A fresh signed token `nonce.signature`.
fn new_form_token(key: &str) -> Result<String, PageError> {
    let mut n = [0u8; 16];
    getrandom::fill(&mut n).map_err(|e| PageError::Internal(format!("no randomness: {e}")))?;
    let nonce = hexs(&n);
    let sig = hexs(&hmac_sha256(key.as_bytes(), nonce.as_bytes()));
    Ok(format!("{nonce}.{sig}"))
}

fn token_valid(key: &str, token: &str) -> bool {
    let Some((nonce, sig)) = token.split_once('.') else {
        return false;
    };
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    let want = hexs(&hmac_sha256(key.as_bytes(), nonce.as_bytes()));
    want.len() == sig.len()
        && want
            .bytes()
            .zip(sig.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn form_cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == FORM_COOKIE)
        .map(|(_, v)| v)
}

fn set_form_cookie(token: &str) -> String {
    format!("{FORM_COOKIE}={token}; Path=/support; HttpOnly; Secure; SameSite=Strict; Max-Age=7200")
}

// ------------------------------------------------------------------ pages

/// Largest form accepted on the public pages.
pub const PUBLIC_FORM_LIMIT: usize = 16 * 1024;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/support", get(support_page))
        .route("/support/apply", get(apply_page).post(apply))
        .route("/support/applications", get(applications_page))
        .route(
            "/support/applications/{id}",
            get(application_page).post(transition),
        )
        .route("/support/rules", get(rules_page).post(create_rule))
        .route("/support/rules/{id}", post(update_rule))
        .layer(DefaultBodyLimit::max(PUBLIC_FORM_LIMIT))
}

type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn rules_in_words(rules: &[SupportRule]) -> Markup {
    let cat = catalogue().ok();
    let sectors: &[Choice] = cat.map_or(&[], |c| c.sectors.as_slice());
    let roles: &[Choice] = cat.map_or(&[], |c| c.roles.as_slice());
    let open: Vec<&SupportRule> = rules.iter().filter(|r| r.input.active).collect();
    html! {
        @if open.is_empty() {
            p { "No funded support scheme is open at the moment." }
        } @else {
            ul class="support-rules" {
                @for r in open {
                    li {
                        strong { (r.input.name) } " (" (r.input.scheme) "). " (r.input.explanation)
                        ul {
                            li { "Sector: " (r.input.sectors.iter().map(|s| label_of(sectors, s)).collect::<Vec<_>>().join("; ")) "." }
                            li { "Size: " (r.input.min_staff) " to " (r.input.max_staff) " staff." }
                            @if !r.input.roles.is_empty() {
                                li { "Role in public services: " (r.input.roles.iter().map(|s| label_of(roles, s)).collect::<Vec<_>>().join("; or ")) "." }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn support_page(State(state): State<AppState>) -> Result<Markup, PageError> {
    let rules = state.store.support_rules().await?;
    Ok(page(
        "Funded Cyber Essentials support",
        None,
        html! {
            h1 { "Funded Cyber Essentials support" }
            p { "Cyber Essentials is a government-backed scheme that protects an organisation against the most common attacks on the internet. Some small organisations that matter to public services can get help to reach it, paid for by a public scheme." }
            h2 { "Who can get funded support" }
            p { "You can apply if your organisation matches " strong { "all" } " the conditions of " strong { "one" } " of these schemes:" }
            (rules_in_words(&rules))
            p { "If you do not match, you can still get Cyber Essentials on your own: the rules are the same, only the funding differs." }
            h2 { "How to apply" }
            ol {
                li { "Fill in the " a href="/support/apply" { "application form" } ". It takes about five minutes; you do not need an account." }
                li { "The form tells you straight away whether you are eligible, and why not if you are not." }
                li { "The cyber unit reviews your application and writes to you with its decision." }
                li { "If you are approved, an adviser helps you through the self-assessment; the certificate lasts 12 months." }
            }
            p { a class="button" href="/support/apply" { "Apply for funded support" } }
        },
    ))
}

#[derive(Default)]
struct FormState {
    input: SupportInput,
    staff_raw: String,
    error: Option<String>,
    verdict: Option<Verdict>,
}

fn apply_form(token: &str, rules: &[SupportRule], st: &FormState) -> Result<Markup, PageError> {
    let cat = catalogue()?;
    let i = &st.input;
    Ok(page(
        "Apply for funded support",
        None,
        html! {
            h1 { "Apply for funded Cyber Essentials support" }
            div class="support-layout" {
                form class="stack card" method="post" action="/support/apply" id="support-form" {
                    input type="hidden" name="csrf" value=(token);
                    @if let Some(e) = &st.error { p class="error" role="alert" { (e) } }
                    @if let Some(v) = &st.verdict {
                        div class=(if v.eligible_rule.is_some() { "notice" } else { "error" }) role="status" id="verdict" {
                            p { strong { (if v.eligible_rule.is_some() { "You are eligible." } else { "You are not eligible for any open scheme." }) } }
                            ul {
                                @for c in &v.checks {
                                    li { (c.name) ": " @if c.ok { "all conditions met." } @else { (c.reasons.join("; ")) "." } }
                                }
                            }
                        }
                    }
                    label for="org_name" { "Organisation name" }
                    input id="org_name" name="org_name" required maxlength="200" value=(i.org_name);
                    label for="sector" { "Sector" }
                    select id="sector" name="sector" required {
                        option value="" { "Choose…" }
                        @for c in &cat.sectors { option value=(c.key) selected[c.key == i.sector] { (c.label) } }
                    }
                    label for="staff" { "Number of staff (people, including part-time)" }
                    input id="staff" name="staff" inputmode="numeric" pattern="[0-9]*" required maxlength="9" value=(st.staff_raw);
                    fieldset {
                        legend { "Your role in public services" }
                        @for c in &cat.roles {
                            label class="inline" { input type="radio" name="role" value=(c.key) checked[c.key == i.role]; " " (c.label) }
                        }
                    }
                    label for="contact_name" { "Your name" }
                    input id="contact_name" name="contact_name" required maxlength="200" value=(i.contact_name);
                    label for="email" { "Your e-mail address" }
                    input id="email" name="email" type="email" required maxlength="254" value=(i.email);
                    label for="details" { "Anything else we should know (optional)" }
                    textarea id="details" name="details" rows="4" maxlength="4000" { (i.details) }
                    p {
                        button type="submit" name="action" value="check" class="secondary" { "Check eligibility" }
                        " "
                        button type="submit" name="action" value="apply" { "Send application" }
                    }
                }
                // Progressive enhancement only: the server decides. As the
                // form changes, ask the server ("Check eligibility") and show
                // its verdict in place; without JavaScript the button does it.
                script { (maud::PreEscaped(LIVE_CHECK_JS)) }
                aside class="card" aria-labelledby="who" {
                    h2 id="who" { "Who is eligible" }
                    p { "You need to meet every condition of one scheme:" }
                    (rules_in_words(rules))
                }
            }
        },
    ))
}

/// The optional live check (a constant: no data is interpolated).
const LIVE_CHECK_JS: &str = r#"(function(){var f=document.getElementById('support-form');if(!f||!window.fetch||!window.DOMParser)return;var t;function check(){var d=new FormData(f);d.set('action','check');fetch('/support/apply',{method:'POST',body:new URLSearchParams(d),credentials:'same-origin'}).then(function(r){return r.text();}).then(function(h){var n=new DOMParser().parseFromString(h,'text/html').getElementById('verdict');var o=document.getElementById('verdict');if(o)o.remove();if(n){var e=f.querySelector('label');f.insertBefore(document.importNode(n,true),e);}}).catch(function(){});}f.addEventListener('change',function(ev){if(ev.target.name==='sector'||ev.target.name==='staff'||ev.target.name==='role'){clearTimeout(t);t=setTimeout(check,300);}});})();"#;

async fn form_token(state: &AppState, headers: &HeaderMap) -> Result<(String, bool), PageError> {
    let key = state.store.form_signing_key().await?;
    match form_cookie_value(headers) {
        Some(t) if token_valid(&key, t) => Ok((t.to_owned(), false)),
        _ => Ok((new_form_token(&key)?, true)),
    }
}

fn with_cookie(status: StatusCode, token: &str, fresh: bool, body: Markup) -> Response {
    if fresh {
        (status, [(header::SET_COOKIE, set_form_cookie(token))], body).into_response()
    } else {
        (status, body).into_response()
    }
}

async fn apply_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (token, fresh) = form_token(&state, &headers).await?;
    let rules = state.store.support_rules().await?;
    let body = apply_form(&token, &rules, &FormState::default())?;
    Ok(with_cookie(StatusCode::OK, &token, fresh, body))
}

async fn apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    // Signed double-submit: the cookie must be ours and the form must echo it.
    let key = state.store.form_signing_key().await?;
    let cookie = form_cookie_value(&headers).unwrap_or("");
    let sent = field(&f, "csrf");
    if !token_valid(&key, cookie)
        || cookie.len() != sent.len()
        || !token_valid(&key, sent)
        || cookie != sent
    {
        return Err(PageError::Csrf);
    }
    let staff_raw = field(&f, "staff").trim().to_owned();
    let mut st = FormState {
        input: SupportInput {
            org_name: field(&f, "org_name").to_owned(),
            contact_name: field(&f, "contact_name").to_owned(),
            email: field(&f, "email").to_owned(),
            sector: field(&f, "sector").to_owned(),
            staff: 0,
            role: field(&f, "role").to_owned(),
            details: field(&f, "details").to_owned(),
        },
        staff_raw: staff_raw.chars().take(20).collect(),
        ..FormState::default()
    };
    let rules = state.store.support_rules().await?;
    match staff_raw.parse::<i64>() {
        Ok(n) if (0..=MAX_STAFF).contains(&n) => st.input.staff = n,
        _ => {
            st.error = Some("Number of staff: give a whole number of people, such as 12.".into());
            let body = apply_form(cookie, &rules, &st)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
        }
    }
    let checkable = catalogue()?
        .sectors
        .iter()
        .any(|c| c.key == st.input.sector)
        && catalogue()?.roles.iter().any(|c| c.key == st.input.role);
    if checkable {
        st.verdict = Some(evaluate(&rules, &st.input));
    }
    if field(&f, "action") != "apply" {
        if !checkable {
            st.error = Some("Choose a sector and a role to see whether you are eligible.".into());
        }
        return Ok((StatusCode::OK, apply_form(cookie, &rules, &st)?).into_response());
    }
    match state.store.support_apply(&st.input).await {
        Ok(id) => Ok(page(
            "Application received",
            None,
            html! {
                h1 { "Application received" }
                p class="notice" { "Thank you. Your reference is " strong { "FS-" (id) } ". The cyber unit will write to " (st.input.email.trim()) " with its decision." }
                p { a href="/support" { "Back to funded support" } }
            },
        )
        .into_response()),
        Err(StoreError::Invalid(m)) => {
            st.error = Some(m);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, apply_form(cookie, &rules, &st)?).into_response())
        }
        Err(StoreError::Conflict(m)) => {
            st.error = Some(m);
            Ok((StatusCode::TOO_MANY_REQUESTS, apply_form(cookie, &rules, &st)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

fn sector_label(key: &str) -> String {
    catalogue().map_or(key.to_owned(), |c| label_of(&c.sectors, key).to_owned())
}

fn role_label(key: &str) -> String {
    catalogue().map_or(key.to_owned(), |c| label_of(&c.roles, key).to_owned())
}

async fn applications_page(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Markup, PageError> {
    user.require_role(&[Role::Analyst, Role::SiteAdmin])?;
    let apps = state.store.support_applications(&user.user).await?;
    Ok(page(
        "Funded support applications",
        Some(&user),
        html! {
            h1 { "Funded support applications" }
            p { a href="/support/rules" { "Eligibility rules" } " · " a href="/support" { "Public page" } }
            @if apps.is_empty() { p class="muted" { "No applications yet." } } @else {
                table {
                    thead { tr { th scope="col" { "Ref" } th scope="col" { "Organisation" } th scope="col" { "Sector" } th scope="col" { "Staff" } th scope="col" { "State" } th scope="col" { "Received" } } }
                    tbody {
                        @for a in &apps {
                            tr {
                                td { a href=(format!("/support/applications/{}", a.id)) { "FS-" (a.id) } }
                                td { (a.org_name) }
                                td { (sector_label(&a.sector)) }
                                td { (a.staff) }
                                td { (a.state.label()) }
                                td { (fmt_time(a.created_at)) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

async fn application_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Markup, PageError> {
    user.require_role(&[Role::Analyst, Role::SiteAdmin])?;
    let a = state.store.support_application(&user.user, id).await?;
    let next: &[SupportState] = match a.state {
        SupportState::Submitted => &[SupportState::UnderReview],
        SupportState::UnderReview => &[SupportState::Approved, SupportState::Declined],
        _ => &[],
    };
    Ok(page(
        &format!("Application FS-{id}"),
        Some(&user),
        html! {
            p { a href="/support/applications" { "← Applications" } }
            h1 { "Funded support application FS-" (a.id) }
            dl class="support-detail" {
                dt { "Organisation" } dd { (a.org_name) }
                dt { "Sector" } dd { (sector_label(&a.sector)) }
                dt { "Staff" } dd { (a.staff) }
                dt { "Role in public services" } dd { (role_label(&a.role)) }
                dt { "Contact" } dd { (a.contact_name) " <" (a.email) ">" }
                dt { "Details" } dd { (a.details) }
                dt { "Eligibility when received" } dd { (a.eligibility) }
                dt { "State" } dd { (a.state.label()) }
                @if let Some(who) = &a.decided_by { dt { "Last changed by" } dd { (who) ", " (fmt_time(a.updated_at)) } }
                @if let Some(n) = a.decision_note.as_deref().filter(|n| !n.is_empty()) { dt { "Note" } dd { (n) } }
            }
            @if !next.is_empty() {
                form method="post" action=(format!("/support/applications/{id}")) class="stack card" {
                    (csrf_field(&user))
                    fieldset {
                        legend { "Move to" }
                        @for s in next { label class="inline" { input type="radio" name="to" value=(s.as_str()) required; " " (s.label()) } }
                    }
                    label for="note" { "Note (required to decline)" }
                    textarea id="note" name="note" rows="3" maxlength="4000" {}
                    p { button type="submit" { "Save" } }
                }
            }
        },
    ))
}

async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    user.check_csrf(field(&f, "csrf"))?;
    user.require_role(&[Role::Analyst, Role::SiteAdmin])?;
    let to = SupportState::parse(field(&f, "to"))
        .ok_or_else(|| PageError::BadRequest("choose the new state".into()))?;
    state
        .store
        .support_transition(&user.user, id, to, field(&f, "note"))
        .await?;
    Ok(Redirect::to(&format!("/support/applications/{id}")).into_response())
}

fn rule_form(user: &CurrentUser, action: &str, r: Option<&RuleInput>) -> Result<Markup, PageError> {
    let cat = catalogue()?;
    let blank = RuleInput {
        name: String::new(),
        scheme: String::new(),
        sectors: Vec::new(),
        min_staff: 1,
        max_staff: 49,
        roles: Vec::new(),
        active: true,
        explanation: String::new(),
    };
    let r = r.unwrap_or(&blank);
    let p = action.replace('/', "-");
    Ok(html! {
        form method="post" action=(action) class="stack card support-rule" {
            (csrf_field(user))
            label for=(format!("{p}-name")) { "Name" }
            input id=(format!("{p}-name")) name="name" required maxlength="200" value=(r.name);
            label for=(format!("{p}-scheme")) { "Scheme or cohort" }
            input id=(format!("{p}-scheme")) name="scheme" required maxlength="200" value=(r.scheme);
            fieldset {
                legend { "Sectors (any of)" }
                @for c in &cat.sectors { label class="inline" { input type="checkbox" name="sector" value=(c.key) checked[r.sectors.contains(&c.key)]; " " (c.label) } }
            }
            label for=(format!("{p}-min")) { "Smallest staff count" }
            input id=(format!("{p}-min")) name="min_staff" inputmode="numeric" required value=(r.min_staff);
            label for=(format!("{p}-max")) { "Largest staff count" }
            input id=(format!("{p}-max")) name="max_staff" inputmode="numeric" required value=(r.max_staff);
            fieldset {
                legend { "Roles in public services (any of; none ticked: any role)" }
                @for c in &cat.roles { label class="inline" { input type="checkbox" name="role" value=(c.key) checked[r.roles.contains(&c.key)]; " " (c.label) } }
            }
            label for=(format!("{p}-expl")) { "In plain words" }
            textarea id=(format!("{p}-expl")) name="explanation" rows="2" required maxlength="2000" { (r.explanation) }
            label class="inline" { input type="checkbox" name="active" value="1" checked[r.active]; " Open for applications" }
            p { button type="submit" { "Save rule" } }
        }
    })
}

async fn rules_page(State(state): State<AppState>, user: CurrentUser) -> Result<Markup, PageError> {
    user.require_role(&[Role::Analyst, Role::SiteAdmin])?;
    let rules = state.store.support_rules().await?;
    let admin = user.user.role == Role::SiteAdmin;
    let body = html! {
        h1 { "Eligibility rules for funded support" }
        p { "An application is eligible when it meets every condition of at least one open rule. The public page and form show these rules as they are saved here. Every change is recorded in the audit log." }
        @for r in &rules {
            section class="card" {
                h2 { (r.input.name) " " @if !r.input.active { span class="badge grey" { "closed" } } }
                p class="muted" { "Last changed by " (r.updated_by) ", " (fmt_time(r.updated_at)) "." }
                @if admin { (rule_form(&user, &format!("/support/rules/{}", r.id), Some(&r.input))?) }
                @else { p { (r.input.summary()) } }
            }
        }
        @if admin {
            h2 { "Add a rule" }
            (rule_form(&user, "/support/rules", None)?)
        }
    };
    Ok(page("Eligibility rules", Some(&user), body))
}

fn rule_from_form(f: &Fields) -> Result<RuleInput, PageError> {
    let num = |name: &str| -> Result<i64, PageError> {
        field(f, name).trim().parse::<i64>().map_err(|_| {
            PageError::BadRequest(format!("{}: give a whole number", name.replace('_', " ")))
        })
    };
    Ok(RuleInput {
        name: field(f, "name").trim().to_owned(),
        scheme: field(f, "scheme").trim().to_owned(),
        sectors: f
            .iter()
            .filter(|(k, _)| k == "sector")
            .map(|(_, v)| v.clone())
            .collect(),
        min_staff: num("min_staff")?,
        max_staff: num("max_staff")?,
        roles: f
            .iter()
            .filter(|(k, _)| k == "role")
            .map(|(_, v)| v.clone())
            .collect(),
        active: field(f, "active") == "1",
        explanation: field(f, "explanation").trim().to_owned(),
    })
}

async fn create_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    user.check_csrf(field(&f, "csrf"))?;
    user.require_role(&[Role::SiteAdmin])?;
    let input = rule_from_form(&f)?;
    state
        .store
        .support_save_rule(&user.user, None, &input)
        .await?;
    Ok(Redirect::to("/support/rules").into_response())
}

async fn update_rule(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    user.check_csrf(field(&f, "csrf"))?;
    user.require_role(&[Role::SiteAdmin])?;
    let input = rule_from_form(&f)?;
    state
        .store
        .support_save_rule(&user.user, Some(id), &input)
        .await?;
    Ok(Redirect::to("/support/rules").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hexs(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn form_tokens_verify_only_with_their_key() {
        let t = new_form_token("k1").expect("token");
        assert!(token_valid("k1", &t));
        assert!(!token_valid("k2", &t));
        assert!(!token_valid("k1", "0123.abcd"));
        assert!(!token_valid("k1", ""));
        let (nonce, _) = t.split_once('.').expect("dot");
        assert!(!token_valid("k1", &format!("{nonce}.{}", "0".repeat(64))));
    }

    #[test]
    fn the_seed_rules_are_valid() {
        let r = seed_rules().expect("seed rules");
        assert!(r.len() >= 2);
    }
}
