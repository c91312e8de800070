//! Store functions: incidents, their timeline, and the Cyber Security and
//! Resilience Bill's reporting clocks (initial notification 24 h and full
//! report 72 h after the organisation became aware).
//!
//! Every function that touches an organisation's incidents takes a
//! [`Tenant`] and filters by it; another organisation's incident is
//! `NotFound`. Roles (who may transition, who may only read) are checked by
//! the pages in `web/incidents.rs` with [`may`].

use serde::Serialize;
use serde_json::{json, Value as Json};
use sha2::Digest;

use super::{audit, outbox, OrgId, Store, Tenant};
use crate::db::{Row, Tx, Value};
use crate::{now, Role, Sector, StoreError};

/// A reporting stage of the Bill and its clock, kept as data so that the
/// secondary legislation changes a number, not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// The light-touch initial notification.
    Notification,
    /// The full incident report.
    Report,
}

impl Stage {
    /// Both stages, in order.
    pub const ALL: [Stage; 2] = [Stage::Notification, Stage::Report];

    /// Hours after becoming aware by which this stage is due.
    pub fn hours(self) -> i64 {
        match self {
            Stage::Notification => 24,
            Stage::Report => 72,
        }
    }

    /// Seconds after becoming aware by which this stage is due.
    pub fn seconds(self) -> i64 {
        self.hours() * 3600
    }

    /// The stored and URL name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Notification => "notification",
            Stage::Report => "report",
        }
    }

    /// Parses a stored or URL name.
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "notification" => Some(Stage::Notification),
            "report" => Some(Stage::Report),
            _ => None,
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Notification => "initial notification",
            Stage::Report => "full incident report",
        }
    }
}

/// How long before a deadline it is "due soon" (and an alert goes out).
pub const DUE_SOON_SECONDS: i64 = 3600;

/// An incident's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every value, least severe first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// From a Sigma rule level (`informational` and unknown levels are low).
    pub fn from_level(level: &str) -> Severity {
        match level.to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// Opened; nobody has looked yet.
    Reported,
    /// Assessed: real, with a severity and an owner.
    Triaged,
    /// The attacker's reach is cut off.
    Contained,
    /// Systems are restored.
    Resolved,
    /// Finished, lessons recorded.
    Closed,
}

impl IncidentState {
    /// Every state, in life order.
    pub const ALL: [IncidentState; 5] = [
        IncidentState::Reported,
        IncidentState::Triaged,
        IncidentState::Contained,
        IncidentState::Resolved,
        IncidentState::Closed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Reported => "reported",
            IncidentState::Triaged => "triaged",
            IncidentState::Contained => "contained",
            IncidentState::Resolved => "resolved",
            IncidentState::Closed => "closed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<IncidentState> {
        IncidentState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The states this one may move to. Reported may be closed directly (a
    /// false alarm); a resolved incident may be reopened (back to triaged);
    /// closed is final.
    pub fn next(self) -> &'static [IncidentState] {
        match self {
            IncidentState::Reported => &[IncidentState::Triaged, IncidentState::Closed],
            IncidentState::Triaged => &[IncidentState::Contained, IncidentState::Resolved],
            IncidentState::Contained => &[IncidentState::Resolved],
            IncidentState::Resolved => &[IncidentState::Closed, IncidentState::Triaged],
            IncidentState::Closed => &[],
        }
    }

    /// Whether moving to `to` is allowed.
    pub fn can_move_to(self, to: IncidentState) -> bool {
        self.next().contains(&to)
    }
}

/// What a user may do with incidents, by role (the pages check this; the
/// store checks the tenant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open an incident (by hand or from a detection).
    Open,
    /// Add a note or evidence to the timeline.
    Note,
    /// Move the incident to this state.
    Transition(IncidentState),
    /// Record a notification or report as sent, or mark the incident (not)
    /// reportable.
    Report,
}

/// The role policy: members open and add notes; organisation admins do
/// everything for their organisation; the cyber unit (analysts and site
/// admins) sees all, opens, adds notes, triages and records reports on any;
/// assessors only read.
pub fn may(role: Role, action: Action) -> bool {
    match (role, action) {
        (Role::Assessor, _) => false,
        (_, Action::Open | Action::Note) => true,
        (Role::OrgAdmin, _) => true,
        (Role::Analyst | Role::SiteAdmin, Action::Transition(to)) => to == IncidentState::Triaged,
        (Role::Analyst | Role::SiteAdmin, Action::Report) => true,
        (Role::Member, _) => false,
    }
}

/// Who did something and when it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// When it was recorded as sent (Unix seconds).
    pub at: i64,
    /// Who recorded it.
    pub by: String,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Its ID (shown as `INC-<id>`).
    pub id: i64,
    /// Its organisation.
    pub org: OrgId,
    /// The organisation's name.
    pub org_name: String,
    /// The organisation's sector.
    pub sector: Sector,
    /// One line.
    pub title: String,
    /// What happened, as known.
    pub description: String,
    /// Its severity.
    pub severity: Severity,
    /// The service affected (for the notification).
    pub affected_service: String,
    /// Its state.
    pub state: IncidentState,
    /// When the organisation became aware (starts the clocks).
    pub aware_at: i64,
    /// When it was detected, if known.
    pub detected_at: Option<i64>,
    /// When it happened, if known.
    pub occurred_at: Option<i64>,
    /// When it was opened here.
    pub created_at: i64,
    /// Who opened it.
    pub created_by: String,
    /// Last change.
    pub updated_at: i64,
    /// The detection it was opened from: submission ID and index.
    pub source: Option<(i64, i64)>,
    /// That detection (rule, host, time, evidence).
    pub detection: Option<Json>,
    /// Whether the Bill's reporting duty applies (the clocks run).
    pub reportable: bool,
    /// The initial notification, once recorded as sent.
    pub notification_sent: Option<Sent>,
    /// The full report, once recorded as sent.
    pub report_sent: Option<Sent>,
}

/// Where one of an incident's clocks stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Clock {
    /// Not reportable: no clock.
    NotRequired,
    /// Sent at `at`; `on_time` if by the deadline.
    Sent {
        /// When.
        at: i64,
        /// Whether by the deadline.
        on_time: bool,
    },
    /// Due in `seconds` (more than an hour).
    Running {
        /// Seconds left.
        seconds: i64,
    },
    /// Due within the hour.
    DueSoon {
        /// Seconds left.
        seconds: i64,
    },
    /// Past the deadline by `seconds`.
    Overdue {
        /// Seconds past.
        seconds: i64,
    },
}

impl Incident {
    /// The reference shown to people: `INC-<id>`.
    pub fn reference(&self) -> String {
        format!("INC-{}", self.id)
    }

    /// When `stage` is due.
    pub fn due(&self, stage: Stage) -> i64 {
        self.aware_at.saturating_add(stage.seconds())
    }

    /// The record of `stage` having been sent.
    pub fn sent(&self, stage: Stage) -> Option<&Sent> {
        match stage {
            Stage::Notification => self.notification_sent.as_ref(),
            Stage::Report => self.report_sent.as_ref(),
        }
    }

    /// Where `stage`'s clock stands at `now`.
    pub fn clock(&self, stage: Stage, now: i64) -> Clock {
        let due = self.due(stage);
        if let Some(s) = self.sent(stage) {
            return Clock::Sent {
                at: s.at,
                on_time: s.at <= due,
            };
        }
        if !self.reportable {
            return Clock::NotRequired;
        }
        let left = due.saturating_sub(now);
        if left <= 0 {
            Clock::Overdue {
                seconds: now.saturating_sub(due),
            }
        } else if left <= DUE_SOON_SECONDS {
            Clock::DueSoon { seconds: left }
        } else {
            Clock::Running { seconds: left }
        }
    }

    /// True when any clock is overdue at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        Stage::ALL
            .iter()
            .any(|s| matches!(self.clock(*s, now), Clock::Overdue { .. }))
    }
}

/// A new incident typed in by hand.
#[derive(Debug, Clone, Default)]
pub struct NewIncident {
    /// One line (required, up to 200 characters).
    pub title: String,
    /// What happened (up to 20,000 characters).
    pub description: String,
    /// Severity.
    pub severity: Option<Severity>,
    /// The service affected (up to 200 characters).
    pub affected_service: String,
    /// When the organisation became aware; `None` means now.
    pub aware_at: Option<i64>,
    /// When it was detected, if known.
    pub detected_at: Option<i64>,
    /// When it happened, if known.
    pub occurred_at: Option<i64>,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// When (Unix seconds).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `created`, `note`, `evidence`, `state`, `sent` or `reportable`.
    pub kind: String,
    /// For state changes: from.
    pub from_state: Option<String>,
    /// For state changes: to.
    pub to_state: Option<String>,
    /// The text.
    pub body: String,
}

/// A detection that an incident can be opened from (a row of the
/// `detections` table extracted from submissions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectionRef {
    /// Its ID in the `detections` table.
    pub detection_id: i64,
    /// The organisation.
    pub org: OrgId,
    /// The host in the event, or the asset that reported it.
    pub host: String,
    /// When it happened (Unix seconds), if known.
    pub at: Option<i64>,
    /// The Sigma rule ID.
    pub rule_id: String,
    /// The rule title.
    pub title: String,
    /// The rule level.
    pub level: String,
    /// One line.
    pub summary: String,
}

/// An evidence file attached to an incident (the bytes are in the database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentFile {
    /// Its ID.
    pub id: i64,
    /// The incident.
    pub incident: i64,
    /// The file name given at upload (sanitised; never used on disk).
    pub name: String,
    /// The content type given at upload (recorded; downloads are served as
    /// `application/octet-stream` attachments whatever it says).
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// When.
    pub uploaded_at: i64,
    /// Who.
    pub uploaded_by: String,
}

/// The largest evidence file accepted.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// Open incidents and incidents with an overdue report, for one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IncidentCounts {
    /// The organisation.
    pub org: OrgId,
    /// Incidents not closed.
    pub open: i64,
    /// Reportable incidents with a notification or report past its deadline and not sent.
    pub overdue: i64,
}

const MAX_TITLE: usize = 200;
const MAX_TEXT: usize = 20_000;
const MAX_DETECTION_JSON: usize = 64 * 1024;

macro_rules! incident_select {
    ($rest:literal) => {
        concat!(
            "SELECT i.id, i.org_id, o.name, o.sector, i.title, i.description, i.severity, i.affected_service, ",
            "i.state, i.aware_at, i.detected_at, i.occurred_at, i.created_at, i.created_by, i.updated_at, ",
            "i.source_submission_id, i.source_index, i.detection, i.reportable, i.notification_sent_at, ",
            "i.notification_sent_by, i.report_sent_at, i.report_sent_by ",
            "FROM incidents i JOIN organisations o ON o.id = i.org_id ",
            $rest
        )
    };
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("incident: bad {what}"))
}

fn incident_from_row(r: &Row) -> Result<Incident, StoreError> {
    let sent = |at: Option<i64>, by: Option<String>| {
        at.map(|at| Sent {
            at,
            by: by.unwrap_or_default(),
        })
    };
    let source = match (r.opt_int(15)?, r.opt_int(16)?) {
        (Some(s), Some(i)) => Some((s, i)),
        _ => None,
    };
    Ok(Incident {
        id: r.int(0)?,
        org: OrgId(r.int(1)?),
        org_name: r.text(2)?,
        sector: Sector::parse(&r.text(3)?).ok_or_else(|| corrupt("sector"))?,
        title: r.text(4)?,
        description: r.text(5)?,
        severity: Severity::parse(&r.text(6)?).ok_or_else(|| corrupt("severity"))?,
        affected_service: r.text(7)?,
        state: IncidentState::parse(&r.text(8)?).ok_or_else(|| corrupt("state"))?,
        aware_at: r.int(9)?,
        detected_at: r.opt_int(10)?,
        occurred_at: r.opt_int(11)?,
        created_at: r.int(12)?,
        created_by: r.text(13)?,
        updated_at: r.int(14)?,
        source,
        detection: r.opt_text(17)?.and_then(|t| serde_json::from_str(&t).ok()),
        reportable: r.int(18)? != 0,
        notification_sent: sent(r.opt_int(19)?, r.opt_text(20)?),
        report_sent: sent(r.opt_int(21)?, r.opt_text(22)?),
    })
}

fn file_from_row(r: &Row) -> Result<IncidentFile, StoreError> {
    Ok(IncidentFile {
        id: r.int(0)?,
        incident: r.int(1)?,
        name: r.text(2)?,
        content_type: r.text(3)?,
        size: r.int(4)?,
        sha256: r.text(5)?,
        uploaded_at: r.int(6)?,
        uploaded_by: r.text(7)?,
    })
}

/// Checks a free-text field: trimmed, bounded, no control characters other
/// than line breaks and tabs.
fn clean(field: &str, value: &str, max: usize, required: bool) -> Result<String, StoreError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(StoreError::Invalid(format!("{field}: required; write one")));
    }
    if v.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{field}: too long ({} characters); shorten it to {max} or fewer",
            v.chars().count()
        )));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(StoreError::Invalid(format!(
            "{field}: contains control characters; remove them"
        )));
    }
    Ok(v.replace("\r\n", "\n"))
}

/// Checks a time: after 2000-01-01 and not more than 5 minutes in the future.
fn check_time(field: &str, t: i64, now: i64) -> Result<i64, StoreError> {
    if !(946_684_800..=now.saturating_add(300)).contains(&t) {
        return Err(StoreError::Invalid(format!(
            "{field}: must be a time between 2000-01-01 and now (times are UTC)"
        )));
    }
    Ok(t)
}

#[allow(clippy::too_many_arguments)]
async fn add_event(
    tx: &mut Tx,
    incident: i64,
    org: OrgId,
    at: i64,
    actor: &str,
    kind: &str,
    from_to: Option<(IncidentState, IncidentState)>,
    body: &str,
) -> Result<(), StoreError> {
    tx.query(
        "INSERT INTO incident_events (incident_id, org_id, at, actor, kind, from_state, to_state, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            incident.into(),
            org.0.into(),
            at.into(),
            actor.into(),
            kind.into(),
            from_to.map(|(f, _)| f.as_str()).into(),
            from_to.map(|(_, t)| t.as_str()).into(),
            body.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// Reads an incident inside a transaction (scoped).
async fn load(tx: &mut Tx, scope: &Tenant, id: i64) -> Result<Incident, StoreError> {
    let rows = tx
        .query(
            incident_select!("WHERE i.id = $1 AND ($2 IS NULL OR i.org_id = $2)"),
            vec![id.into(), scope.filter()],
        )
        .await?;
    incident_from_row(rows.first().ok_or(StoreError::NotFound)?)
}

/// Unix seconds of a detection's `time`: seconds, milliseconds or
/// microseconds since the epoch (judged by magnitude), as a number or a
/// string of digits. Anything else is `None`.
fn detection_time(v: Option<&Json>) -> Option<i64> {
    let n = match v? {
        Json::Number(n) => n.as_i64()?,
        Json::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => n,
            Err(_) => return super::parse_rfc3339(s.trim()),
        },
        _ => return None,
    };
    let secs = if n > 100_000_000_000_000 {
        n / 1_000_000
    } else if n > 100_000_000_000 {
        n / 1000
    } else {
        n
    };
    (secs > 0).then_some(secs)
}

fn json_text(v: Option<&Json>) -> String {
    match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The detections in a stored `detections` submission body.
fn detections_of(body: &str) -> Vec<Json> {
    serde_json::from_str::<Json>(body)
        .ok()
        .and_then(|v| match v.get("detections") {
            Some(Json::Array(a)) => Some(a.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Store {
    /// Opens an incident in `org` by hand. `actor` is who (an e-mail address).
    pub async fn create_incident(
        &self,
        scope: &Tenant,
        org: OrgId,
        actor: &str,
        new: &NewIncident,
    ) -> Result<i64, StoreError> {
        scope.require(org).map_err(|_| StoreError::NotFound)?;
        let at = now();
        let title = clean("title", &new.title, MAX_TITLE, true)?;
        let description = clean("description", &new.description, MAX_TEXT, false)?;
        let service = clean("affected service", &new.affected_service, MAX_TITLE, false)?;
        let severity = new.severity.ok_or_else(|| {
            StoreError::Invalid("severity: choose low, medium, high or critical".into())
        })?;
        let aware_at = check_time("when you became aware", new.aware_at.unwrap_or(at), at)?;
        let detected_at = new
            .detected_at
            .map(|t| check_time("detected", t, at))
            .transpose()?;
        let occurred_at = new
            .occurred_at
            .map(|t| check_time("occurred", t, at))
            .transpose()?;
        self.insert_incident(InsertIncident {
            org,
            actor,
            at,
            title: &title,
            description: &description,
            severity,
            service: &service,
            aware_at,
            detected_at,
            occurred_at,
            source: None,
            detection: None,
        })
        .await
    }

    /// Opens an incident from detection `index` of `detections` submission
    /// `submission_id` (in scope): its rule, host, time and evidence are
    /// attached. `aware_at` defaults to now.
    pub async fn create_incident_from_detection(
        &self,
        scope: &Tenant,
        actor: &str,
        submission_id: i64,
        index: i64,
        aware_at: Option<i64>,
    ) -> Result<i64, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT org_id, host, received_at, body FROM submissions WHERE id = $1 AND ($2 IS NULL OR org_id = $2) AND kind = 'detections'",
                vec![submission_id.into(), scope.filter()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let (org, host, received_at, body) = (OrgId(r.int(0)?), r.text(1)?, r.int(2)?, r.text(3)?);
        let d = usize::try_from(index)
            .ok()
            .and_then(|i| detections_of(&body).into_iter().nth(i))
            .ok_or(StoreError::NotFound)?;
        let at = now();
        let aware_at = check_time("when you became aware", aware_at.unwrap_or(at), at)?;
        let title = json_text(d.get("title"));
        let rule_id = json_text(d.get("rule_id"));
        let level = json_text(d.get("level"));
        let summary = json_text(d.get("summary"));
        let det_host = match json_text(d.get("host")) {
            h if h.is_empty() => host.clone(),
            h => h,
        };
        let detected_at = detection_time(d.get("time"))
            .filter(|t| (946_684_800..=at.saturating_add(300)).contains(t))
            .unwrap_or(received_at);
        let mut d = d;
        if let Json::Object(m) = &mut d {
            if json_text(m.get("host")).is_empty() {
                m.insert("host".into(), Json::String(det_host.clone()));
            }
        }
        let mut stored = d.to_string();
        if stored.len() > MAX_DETECTION_JSON {
            // Keep the essentials of an oversized detection.
            stored = json!({
                "rule_id": rule_id, "title": title, "level": level, "summary": summary,
                "host": det_host, "time": d.get("time"), "truncated": true,
            })
            .to_string();
        }
        let description = truncate_chars(
            &format!(
                "{summary}\n\nDetected by rule {rule_id} ({level}) on host {det_host}; submitted by {host} in submission {submission_id}."
            ),
            MAX_TEXT,
        );
        let title = truncate_chars(
            &format!(
                "Detection: {}",
                if title.is_empty() { &rule_id } else { &title }
            ),
            MAX_TITLE,
        );
        self.insert_incident(InsertIncident {
            org,
            actor,
            at,
            title: &title,
            description: &description,
            severity: Severity::from_level(&level),
            service: "",
            aware_at,
            detected_at: Some(detected_at),
            occurred_at: None,
            source: Some((submission_id, index)),
            detection: Some(&stored),
        })
        .await
    }

    /// Opens an incident from a row of the `detections` table (the
    /// detections extracted from submissions, shown on the organisation
    /// page): its rule, host, time, source and user are attached.
    pub async fn create_incident_from_detection_row(
        &self,
        scope: &Tenant,
        actor: &str,
        detection_id: i64,
        aware_at: Option<i64>,
    ) -> Result<i64, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT d.org_id, a.name, d.rule_id, d.title, d.level, d.at, d.host, d.source_ip, d.user_name, d.summary \
                 FROM detections d LEFT JOIN assets a ON a.id = d.asset_id \
                 WHERE d.id = $1 AND ($2 IS NULL OR d.org_id = $2)",
                vec![detection_id.into(), scope.filter()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let org = OrgId(r.int(0)?);
        let asset = r.opt_text(1)?.unwrap_or_default();
        let (rule_id, title, level) = (r.text(2)?, r.text(3)?, r.text(4)?);
        let at_time = r.opt_int(5)?;
        let host = r
            .opt_text(6)?
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| asset.clone());
        let (source, user, summary) = (r.opt_text(7)?, r.opt_text(8)?, r.text(9)?);
        let at = now();
        let aware_at = check_time("when you became aware", aware_at.unwrap_or(at), at)?;
        let detection = json!({
            "detection_id": detection_id, "rule_id": rule_id, "title": title, "level": level,
            "time": at_time, "host": host, "source": source, "user": user, "summary": summary,
            "asset": asset,
        })
        .to_string();
        let description = truncate_chars(
            &format!("{summary}\n\nDetected by rule {rule_id} ({level}) on host {host}; reported by asset {asset}."),
            MAX_TEXT,
        );
        let title = truncate_chars(
            &format!(
                "Detection: {}",
                if title.is_empty() { &rule_id } else { &title }
            ),
            MAX_TITLE,
        );
        self.insert_incident(InsertIncident {
            org,
            actor,
            at,
            title: &title,
            description: &description,
            severity: Severity::from_level(&level),
            service: "",
            aware_at,
            detected_at: at_time.filter(|t| (946_684_800..=at.saturating_add(300)).contains(t)),
            occurred_at: None,
            source: None,
            detection: Some(&detection),
        })
        .await
    }

    async fn insert_incident(&self, n: InsertIncident<'_>) -> Result<i64, StoreError> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO incidents (org_id, title, description, severity, affected_service, state, aware_at, detected_at, occurred_at, \
                 created_at, created_by, updated_at, source_submission_id, source_index, detection, reportable) \
                 VALUES ($1, $2, $3, $4, $5, 'reported', $6, $7, $8, $9, $10, $9, $11, $12, $13, 1) RETURNING id",
                vec![
                    n.org.0.into(),
                    n.title.into(),
                    n.description.into(),
                    n.severity.as_str().into(),
                    n.service.into(),
                    n.aware_at.into(),
                    n.detected_at.into(),
                    n.occurred_at.into(),
                    n.at.into(),
                    n.actor.into(),
                    n.source.map(|s| s.0).into(),
                    n.source.map(|s| s.1).into(),
                    n.detection.into(),
                ],
            )
            .await?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        let what = match n.source {
            Some((s, i)) => format!("Opened from detection {i} of submission {s}."),
            None => "Opened by hand.".to_owned(),
        };
        add_event(&mut tx, id, n.org, n.at, n.actor, "created", None, &what).await?;
        audit(
            &mut tx,
            Some(n.org),
            n.actor,
            "incident.create",
            &format!("INC-{id}: {}", n.title),
        )
        .await?;
        outbox::enqueue_with_link(
            &mut tx,
            Some(n.org),
            "incident.opened",
            &format!("INC-{id} opened ({}): {}", n.severity.as_str(), n.title),
            &format!(
                "A {} incident was opened by {}.\n\nInitial notification due {}; full report due {}.",
                n.severity.as_str(),
                n.actor,
                format_time(n.aware_at + Stage::Notification.seconds()),
                format_time(n.aware_at + Stage::Report.seconds()),
            ),
            &format!("/incidents/{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The incidents in scope, newest first (at most 1,000), optionally only
    /// those in `state`.
    pub async fn list_incidents(
        &self,
        scope: &Tenant,
        state: Option<IncidentState>,
    ) -> Result<Vec<Incident>, StoreError> {
        let rows = self
            .db
            .query(
                incident_select!(
                    "WHERE ($1 IS NULL OR i.org_id = $1) AND ($2 IS NULL OR i.state = $2) ORDER BY i.id DESC LIMIT 1000"
                ),
                vec![scope.filter(), state.map(IncidentState::as_str).into()],
            )
            .await?;
        rows.iter().map(incident_from_row).collect()
    }

    /// One incident in scope.
    pub async fn get_incident(&self, scope: &Tenant, id: i64) -> Result<Incident, StoreError> {
        let rows = self
            .db
            .query(
                incident_select!("WHERE i.id = $1 AND ($2 IS NULL OR i.org_id = $2)"),
                vec![id.into(), scope.filter()],
            )
            .await?;
        incident_from_row(rows.first().ok_or(StoreError::NotFound)?)
    }

    /// An incident's timeline, oldest first.
    pub async fn incident_timeline(
        &self,
        scope: &Tenant,
        id: i64,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        // Existence in scope first, so another organisation's ID is NotFound.
        self.get_incident(scope, id).await?;
        let rows = self
            .db
            .query(
                "SELECT at, actor, kind, from_state, to_state, body FROM incident_events \
                 WHERE incident_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY id",
                vec![id.into(), scope.filter()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TimelineEntry {
                    at: r.int(0)?,
                    actor: r.text(1)?,
                    kind: r.text(2)?,
                    from_state: r.opt_text(3)?,
                    to_state: r.opt_text(4)?,
                    body: r.text(5)?,
                })
            })
            .collect()
    }

    /// Moves an incident to `to`, if the state machine allows it from its
    /// current state; `note` (optional) goes on the timeline with the change.
    pub async fn transition_incident(
        &self,
        scope: &Tenant,
        id: i64,
        actor: &str,
        to: IncidentState,
        note: &str,
    ) -> Result<(), StoreError> {
        let note = clean("note", note, MAX_TEXT, false)?;
        let at = now();
        let mut tx = self.db.begin().await?;
        let inc = load(&mut tx, scope, id).await?;
        if !inc.state.can_move_to(to) {
            let allowed: Vec<&str> = inc.state.next().iter().map(|s| s.as_str()).collect();
            return Err(StoreError::Invalid(if allowed.is_empty() {
                format!(
                    "INC-{id} is {}; a closed incident cannot change state",
                    inc.state.as_str()
                )
            } else {
                format!(
                    "INC-{id} is {} and cannot move to {}; from {} it may move to: {}",
                    inc.state.as_str(),
                    to.as_str(),
                    inc.state.as_str(),
                    allowed.join(", ")
                )
            }));
        }
        let changed = tx
            .query(
                "UPDATE incidents SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4 RETURNING id",
                vec![to.as_str().into(), at.into(), id.into(), inc.state.as_str().into()],
            )
            .await?;
        if changed.is_empty() {
            return Err(StoreError::Conflict(
                "the incident changed meanwhile; reload the page and try again".into(),
            ));
        }
        add_event(
            &mut tx,
            id,
            inc.org,
            at,
            actor,
            "state",
            Some((inc.state, to)),
            &note,
        )
        .await?;
        audit(
            &mut tx,
            Some(inc.org),
            actor,
            "incident.transition",
            &format!("INC-{id}: {} -> {}", inc.state.as_str(), to.as_str()),
        )
        .await?;
        outbox::enqueue_with_link(
            &mut tx,
            Some(inc.org),
            "incident.state",
            &format!("INC-{id} is now {}: {}", to.as_str(), inc.title),
            &format!(
                "{} moved INC-{id} ({}) from {} to {}.{}",
                actor,
                inc.org_name,
                inc.state.as_str(),
                to.as_str(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("\n\n{note}")
                }
            ),
            &format!("/incidents/{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a note (`evidence == false`) or a piece of evidence (text) to
    /// the timeline.
    pub async fn add_incident_note(
        &self,
        scope: &Tenant,
        id: i64,
        actor: &str,
        evidence: bool,
        text: &str,
    ) -> Result<(), StoreError> {
        let text = clean(
            if evidence { "evidence" } else { "note" },
            text,
            MAX_TEXT,
            true,
        )?;
        let at = now();
        let mut tx = self.db.begin().await?;
        let inc = load(&mut tx, scope, id).await?;
        let kind = if evidence { "evidence" } else { "note" };
        add_event(&mut tx, id, inc.org, at, actor, kind, None, &text).await?;
        tx.query(
            "UPDATE incidents SET updated_at = $1 WHERE id = $2",
            vec![at.into(), id.into()],
        )
        .await?;
        audit(
            &mut tx,
            Some(inc.org),
            actor,
            &format!("incident.{kind}"),
            &format!("INC-{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `stage` as sent now by `actor`. The generated Markdown of what
    /// was sent is kept on the timeline. Recording twice is a `Conflict`.
    pub async fn mark_incident_sent(
        &self,
        scope: &Tenant,
        id: i64,
        actor: &str,
        stage: Stage,
    ) -> Result<(), StoreError> {
        let at = now();
        let mut tx = self.db.begin().await?;
        let inc = load(&mut tx, scope, id).await?;
        if let Some(s) = inc.sent(stage) {
            return Err(StoreError::Conflict(format!(
                "the {} of INC-{id} was already recorded as sent at {} by {}",
                stage.label(),
                format_time(s.at),
                s.by
            )));
        }
        let sql: &'static str = match stage {
            Stage::Notification => "UPDATE incidents SET notification_sent_at = $1, notification_sent_by = $2, updated_at = $1 WHERE id = $3 AND notification_sent_at IS NULL RETURNING id",
            Stage::Report => "UPDATE incidents SET report_sent_at = $1, report_sent_by = $2, updated_at = $1 WHERE id = $3 AND report_sent_at IS NULL RETURNING id",
        };
        let changed = tx
            .query(sql, vec![at.into(), actor.into(), id.into()])
            .await?;
        if changed.is_empty() {
            return Err(StoreError::Conflict(
                "the incident changed meanwhile; reload the page".into(),
            ));
        }
        let on_time = at <= inc.due(stage);
        let timeline = read_timeline(&mut tx, id).await?;
        let doc = match stage {
            Stage::Notification => notification_markdown(&inc, at),
            Stage::Report => report_markdown(&inc, &timeline, at),
        };
        add_event(
            &mut tx,
            id,
            inc.org,
            at,
            actor,
            "sent",
            None,
            &format!(
                "{} recorded as sent ({}). What was generated:\n\n{doc}",
                capitalise(stage.label()),
                if on_time { "on time" } else { "late" }
            ),
        )
        .await?;
        audit(
            &mut tx,
            Some(inc.org),
            actor,
            &format!("incident.{}_sent", stage.as_str()),
            &format!("INC-{id}"),
        )
        .await?;
        outbox::enqueue_with_link(
            &mut tx,
            Some(inc.org),
            &format!("incident.{}_sent", stage.as_str()),
            &format!("INC-{id}: {} sent", stage.label()),
            &format!(
                "{actor} recorded the {} of INC-{id} ({}) as sent at {} ({}).",
                stage.label(),
                inc.org_name,
                format_time(at),
                if on_time { "on time" } else { "late" }
            ),
            &format!("/incidents/{id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks whether the Bill's reporting duty applies to the incident (the
    /// clocks run only for reportable ones); `reason` goes on the timeline
    /// and is required when marking it not reportable.
    pub async fn set_incident_reportable(
        &self,
        scope: &Tenant,
        id: i64,
        actor: &str,
        reportable: bool,
        reason: &str,
    ) -> Result<(), StoreError> {
        let reason = clean("reason", reason, MAX_TEXT, !reportable)?;
        let at = now();
        let mut tx = self.db.begin().await?;
        let inc = load(&mut tx, scope, id).await?;
        if inc.reportable == reportable {
            return Err(StoreError::Invalid(format!(
                "INC-{id} is already marked {}",
                if reportable {
                    "reportable"
                } else {
                    "not reportable"
                }
            )));
        }
        tx.query(
            "UPDATE incidents SET reportable = $1, updated_at = $2 WHERE id = $3",
            vec![i64::from(reportable).into(), at.into(), id.into()],
        )
        .await?;
        let text = format!(
            "Marked {} under the Bill.{}",
            if reportable {
                "reportable"
            } else {
                "not reportable"
            },
            if reason.is_empty() {
                String::new()
            } else {
                format!(" Reason: {reason}")
            }
        );
        add_event(&mut tx, id, inc.org, at, actor, "reportable", None, &text).await?;
        audit(
            &mut tx,
            Some(inc.org),
            actor,
            "incident.reportable",
            &format!("INC-{id}: {reportable}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attaches an evidence file (at most [`MAX_FILE_BYTES`]) to an
    /// incident; the timeline records its name, size and SHA-256.
    pub async fn add_incident_file(
        &self,
        scope: &Tenant,
        id: i64,
        actor: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<i64, StoreError> {
        if bytes.is_empty() {
            return Err(StoreError::Invalid(
                "file: the file is empty; choose a file".into(),
            ));
        }
        if bytes.len() > MAX_FILE_BYTES {
            return Err(StoreError::Invalid(format!(
                "file: {} bytes is over the limit of {MAX_FILE_BYTES} bytes (2 MiB); attach an extract or compress it",
                bytes.len()
            )));
        }
        // Only the last path component, printable, bounded.
        let base = name.rsplit(['/', '\\']).next().unwrap_or("");
        let mut clean_name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
        if clean_name.trim().is_empty() {
            clean_name = "evidence.bin".into();
        }
        let ctype: String = content_type
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .take(100)
            .collect();
        let sha = super::hex(&sha2::Sha256::digest(bytes));
        let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        let data = data_encoding::BASE64.encode(bytes);
        let at = now();
        let mut tx = self.db.begin().await?;
        let inc = load(&mut tx, scope, id).await?;
        let rows = tx
            .query(
                "INSERT INTO incident_files (incident_id, org_id, name, content_type, size, sha256, data, uploaded_at, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                vec![
                    id.into(),
                    inc.org.0.into(),
                    clean_name.as_str().into(),
                    ctype.into(),
                    size.into(),
                    sha.as_str().into(),
                    data.into(),
                    at.into(),
                    actor.into(),
                ],
            )
            .await?;
        let file_id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        add_event(
            &mut tx,
            id,
            inc.org,
            at,
            actor,
            "evidence",
            None,
            &format!("File {clean_name} ({size} bytes, SHA-256 {sha}) attached as file {file_id}."),
        )
        .await?;
        tx.query(
            "UPDATE incidents SET updated_at = $1 WHERE id = $2",
            vec![at.into(), id.into()],
        )
        .await?;
        audit(
            &mut tx,
            Some(inc.org),
            actor,
            "incident.file",
            &format!("INC-{id}: file {file_id} {sha}"),
        )
        .await?;
        tx.commit().await?;
        Ok(file_id)
    }

    /// The evidence files of an incident in scope, oldest first.
    pub async fn list_incident_files(
        &self,
        scope: &Tenant,
        id: i64,
    ) -> Result<Vec<IncidentFile>, StoreError> {
        self.get_incident(scope, id).await?;
        let rows = self
            .db
            .query(
                "SELECT id, incident_id, name, content_type, size, sha256, uploaded_at, uploaded_by FROM incident_files \
                 WHERE incident_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY id",
                vec![id.into(), scope.filter()],
            )
            .await?;
        rows.iter().map(file_from_row).collect()
    }

    /// One evidence file and its bytes, if the incident is in scope.
    pub async fn get_incident_file(
        &self,
        scope: &Tenant,
        id: i64,
        file_id: i64,
    ) -> Result<(IncidentFile, Vec<u8>), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, incident_id, name, content_type, size, sha256, uploaded_at, uploaded_by, data FROM incident_files \
                 WHERE id = $1 AND incident_id = $2 AND ($3 IS NULL OR org_id = $3)",
                vec![file_id.into(), id.into(), scope.filter()],
            )
            .await?;
        let r = rows.first().ok_or(StoreError::NotFound)?;
        let bytes = data_encoding::BASE64
            .decode(r.text(8)?.as_bytes())
            .map_err(|_| corrupt("file data"))?;
        Ok((file_from_row(r)?, bytes))
    }

    /// The newest 50 detections in scope that an incident can be opened from.
    pub async fn recent_detections(&self, scope: &Tenant) -> Result<Vec<DetectionRef>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT d.id, d.org_id, COALESCE(NULLIF(d.host, ''), a.name, ''), d.at, d.rule_id, d.title, d.level, d.summary \
                 FROM detections d LEFT JOIN assets a ON a.id = d.asset_id \
                 WHERE ($1 IS NULL OR d.org_id = $1) ORDER BY d.id DESC LIMIT 50",
                vec![scope.filter()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DetectionRef {
                    detection_id: r.int(0)?,
                    org: OrgId(r.int(1)?),
                    host: r.text(2)?,
                    at: r.opt_int(3)?,
                    rule_id: r.text(4)?,
                    title: r.text(5)?,
                    level: r.text(6)?,
                    summary: truncate_chars(&r.text(7)?, 300),
                })
            })
            .collect()
    }

    /// Per organisation in scope (only those with incidents): incidents not
    /// closed, and reportable incidents with a notification or report past
    /// its deadline and not sent. For the overview.
    pub async fn incident_counts(&self, scope: &Tenant) -> Result<Vec<IncidentCounts>, StoreError> {
        self.incident_counts_at(scope, now()).await
    }

    /// [`Store::incident_counts`] as at `now` (Unix seconds).
    pub async fn incident_counts_at(
        &self,
        scope: &Tenant,
        now: i64,
    ) -> Result<Vec<IncidentCounts>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT org_id, \
                 SUM(CASE WHEN state <> 'closed' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN reportable = 1 AND ((notification_sent_at IS NULL AND aware_at + $3 <= $2) \
                      OR (report_sent_at IS NULL AND aware_at + $4 <= $2)) THEN 1 ELSE 0 END) \
                 FROM incidents WHERE ($1 IS NULL OR org_id = $1) GROUP BY org_id ORDER BY org_id",
                vec![
                    scope.filter(),
                    now.into(),
                    Stage::Notification.seconds().into(),
                    Stage::Report.seconds().into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentCounts {
                    org: OrgId(r.int(0)?),
                    open: r.opt_int(1)?.unwrap_or(0),
                    overdue: r.opt_int(2)?.unwrap_or(0),
                })
            })
            .collect()
    }

    /// Queues one alert per incident whose 24 h notification or 72 h report
    /// is overdue or due within the hour (once per deadline); returns how many.
    pub async fn raise_deadline_alerts(&self) -> Result<usize, StoreError> {
        self.raise_deadline_alerts_at(now()).await
    }

    /// [`Store::raise_deadline_alerts`] as at `now` (Unix seconds). Safe to
    /// run from several processes: each alert is a row with a unique key,
    /// inserted in the same transaction as its outbox notification.
    pub async fn raise_deadline_alerts_at(&self, now: i64) -> Result<usize, StoreError> {
        let mut raised = 0;
        for stage in Stage::ALL {
            let sql: &'static str = match stage {
                Stage::Notification => "SELECT i.id, i.org_id, i.title, i.aware_at, o.name FROM incidents i JOIN organisations o ON o.id = i.org_id \
                    WHERE i.reportable = 1 AND i.notification_sent_at IS NULL AND i.aware_at + $2 - $3 <= $1 \
                    AND NOT EXISTS (SELECT 1 FROM incident_alerts a WHERE a.incident_id = i.id \
                    AND a.alert = (CASE WHEN i.aware_at + $2 <= $1 THEN 'notification.overdue' ELSE 'notification.due_soon' END)) \
                    ORDER BY i.id LIMIT 500",
                Stage::Report => "SELECT i.id, i.org_id, i.title, i.aware_at, o.name FROM incidents i JOIN organisations o ON o.id = i.org_id \
                    WHERE i.reportable = 1 AND i.report_sent_at IS NULL AND i.aware_at + $2 - $3 <= $1 \
                    AND NOT EXISTS (SELECT 1 FROM incident_alerts a WHERE a.incident_id = i.id \
                    AND a.alert = (CASE WHEN i.aware_at + $2 <= $1 THEN 'report.overdue' ELSE 'report.due_soon' END)) \
                    ORDER BY i.id LIMIT 500",
            };
            let rows = self
                .db
                .query(
                    sql,
                    vec![now.into(), stage.seconds().into(), DUE_SOON_SECONDS.into()],
                )
                .await?;
            for r in &rows {
                let (id, org, title, aware_at, org_name) = (
                    r.int(0)?,
                    OrgId(r.int(1)?),
                    r.text(2)?,
                    r.int(3)?,
                    r.text(4)?,
                );
                let due = aware_at.saturating_add(stage.seconds());
                let overdue = due <= now;
                let alert = format!(
                    "{}.{}",
                    stage.as_str(),
                    if overdue { "overdue" } else { "due_soon" }
                );
                let mut tx = self.db.begin().await?;
                let fresh = tx
                    .query(
                        "INSERT INTO incident_alerts (incident_id, alert, raised_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (incident_id, alert) DO NOTHING RETURNING incident_id",
                        vec![id.into(), alert.as_str().into(), now.into()],
                    )
                    .await?;
                if fresh.is_empty() {
                    continue; // another process raised it
                }
                let subject = if overdue {
                    format!(
                        "OVERDUE: the {} of INC-{id} ({org_name}) was due {}",
                        stage.label(),
                        format_time(due)
                    )
                } else {
                    format!(
                        "Due within the hour: the {} of INC-{id} ({org_name}), due {}",
                        stage.label(),
                        format_time(due)
                    )
                };
                let body = format!(
                    "INC-{id}: {title}\nOrganisation: {org_name}\nBecame aware: {}\nThe {} is due {} ({} hours after becoming aware) and has not been recorded as sent.",
                    format_time(aware_at),
                    stage.label(),
                    format_time(due),
                    stage.hours()
                );
                outbox::enqueue_with_link(
                    &mut tx,
                    Some(org),
                    &format!("incident.{alert}"),
                    &subject,
                    &body,
                    &format!("/incidents/{id}"),
                )
                .await?;
                audit(
                    &mut tx,
                    Some(org),
                    "system",
                    "incident.alert",
                    &format!("INC-{id}: {alert}"),
                )
                .await?;
                tx.commit().await?;
                raised += 1;
            }
        }
        Ok(raised)
    }
}

struct InsertIncident<'a> {
    org: OrgId,
    actor: &'a str,
    at: i64,
    title: &'a str,
    description: &'a str,
    severity: Severity,
    service: &'a str,
    aware_at: i64,
    detected_at: Option<i64>,
    occurred_at: Option<i64>,
    source: Option<(i64, i64)>,
    detection: Option<&'a str>,
}

async fn read_timeline(tx: &mut Tx, id: i64) -> Result<Vec<TimelineEntry>, StoreError> {
    let rows = tx
        .query(
            "SELECT at, actor, kind, from_state, to_state, body FROM incident_events WHERE incident_id = $1 ORDER BY id",
            vec![Value::Int(id)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(TimelineEntry {
                at: r.int(0)?,
                actor: r.text(1)?,
                kind: r.text(2)?,
                from_state: r.opt_text(3)?,
                to_state: r.opt_text(4)?,
                body: r.text(5)?,
            })
        })
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Times (UTC, no time-zone database needed).

/// Days since 1970-01-01 → (year, month, day) (proleptic Gregorian).
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

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-23 01:15 UTC`.
pub fn format_time(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        s / 3600,
        s % 3600 / 60
    )
}

/// `2026-11-23T01:15:00Z` (RFC 3339).
pub fn rfc3339(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (an HTML `datetime-local` value, or with a
/// space instead of `T`, optionally ending in `Z`) as UTC.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches('Z');
    let (date, time) = s.split_once(['T', ' '])?;
    let mut dp = date.splitn(3, '-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: i64 = dp.next()?.parse().ok()?;
    let d: i64 = dp.next()?.parse().ok()?;
    let mut tp = time.splitn(3, ':');
    let hh: i64 = tp.next()?.parse().ok()?;
    let mm: i64 = tp.next()?.parse().ok()?;
    let ss: i64 = match tp.next() {
        Some(x) => x.split('.').next()?.parse().ok()?,
        None => 0,
    };
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if !(1970..=9999).contains(&y)
        || !(1..=days_in_month).contains(&d)
        || !(0..24).contains(&hh)
        || !(0..60).contains(&mm)
        || !(0..60).contains(&ss)
    {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// `3 h 05 min` (of a positive number of seconds).
pub fn format_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h {m:02} min")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else {
        format!("{m} min")
    }
}

/// One line on a clock for people, e.g. `due in 3 h 05 min`.
pub fn describe_clock(c: Clock) -> String {
    match c {
        Clock::NotRequired => "not required (marked not reportable)".into(),
        Clock::Sent { at, on_time } => format!(
            "sent {} ({})",
            format_time(at),
            if on_time { "on time" } else { "late" }
        ),
        Clock::Running { seconds } | Clock::DueSoon { seconds } => {
            format!("due in {}", format_duration(seconds))
        }
        Clock::Overdue { seconds } => format!("OVERDUE by {}", format_duration(seconds)),
    }
}

// ---------------------------------------------------------------------------
// The generated notification and report.

/// Escapes text for Markdown: the characters that make links, images,
/// HTML, emphasis, code, headings and table cells are backslash-escaped, so
/// free text cannot add any of them (a bare URL may still be auto-linked by
/// GFM renderers); ordinary punctuation stays readable.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '<' | '>' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn opt_time(t: Option<i64>) -> String {
    t.map_or_else(|| "not known".to_owned(), format_time)
}

/// Who receives the notification and report (the Bill, as far as known:
/// the regulator, and the NCSC at the same time; customers for data
/// centres, RDSPs and RMSPs, which the service does not yet record).
pub const RECIPIENTS: [&str; 3] = [
    "the organisation's regulator (competent authority for its sector)",
    "the National Cyber Security Centre (NCSC), at the same time",
    "affected customers, where the organisation is a data centre, relevant digital service provider or relevant managed service provider",
];

/// The initial notification as Markdown, generated at `now`.
pub fn notification_markdown(inc: &Incident, now: i64) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "# Initial incident notification: {}\n\n",
        inc.reference()
    ));
    s.push_str(&format!(
        "Under the Cyber Security and Resilience Bill: initial notification due within {} hours of becoming aware.\n\n",
        Stage::Notification.hours()
    ));
    s.push_str("| Field | Value |\n|---|---|\n");
    let rows = [
        ("Reference", inc.reference()),
        ("Entity", md_escape(&inc.org_name)),
        ("Sector", inc.sector.as_str().replace('_', " ")),
        (
            "Affected service",
            md_escape(if inc.affected_service.is_empty() {
                "not stated"
            } else {
                &inc.affected_service
            }),
        ),
        ("Title", md_escape(&inc.title)),
        ("Severity", inc.severity.as_str().into()),
        ("Current state", inc.state.as_str().into()),
        ("Became aware", format_time(inc.aware_at)),
        ("Detected", opt_time(inc.detected_at)),
        ("Occurred", opt_time(inc.occurred_at)),
        (
            "Notification due",
            format_time(inc.due(Stage::Notification)),
        ),
        ("Full report due", format_time(inc.due(Stage::Report))),
        ("Generated", format_time(now)),
    ];
    push_md_rows(&mut s, &rows);
    s.push_str("\n## Brief description\n\n");
    push_md_description(&mut s, inc);
    if let Some(d) = &inc.detection {
        s.push_str("## Detection\n\n");
        push_md_detection(&mut s, d, &DETECTION_FIELDS[..4]);
        s.push('\n');
    }
    s.push_str("## Recipients\n\n");
    for r in RECIPIENTS {
        s.push_str(&format!("- {r}\n"));
    }
    s
}

/// A detection's fields shown in the Markdown documents, as (key, label):
/// the notification shows the first four, the report all.
const DETECTION_FIELDS: [(&str, &str); 8] = [
    ("rule_id", "Rule"),
    ("title", "Rule title"),
    ("level", "Level"),
    ("host", "Host"),
    ("user", "User"),
    ("source", "Source"),
    ("time", "Time"),
    ("summary", "Summary"),
];

/// Table rows `| key | value |`, values on one line.
fn push_md_rows(s: &mut String, rows: &[(&str, String)]) {
    for (k, v) in rows {
        s.push_str(&format!("| {k} | {} |\n", v.replace('\n', " ")));
    }
}

/// The incident's description (or a placeholder), escaped, as a paragraph.
fn push_md_description(s: &mut String, inc: &Incident) {
    s.push_str(&md_escape(if inc.description.is_empty() {
        "No description yet."
    } else {
        &inc.description
    }));
    s.push_str("\n\n");
}

/// A detection's non-empty `fields` as a list.
fn push_md_detection(s: &mut String, d: &Json, fields: &[(&str, &str)]) {
    for (k, label) in fields {
        let v = json_text(d.get(*k));
        if !v.is_empty() {
            s.push_str(&format!("- {label}: {}\n", md_escape(&v)));
        }
    }
}

/// The initial notification as JSON, generated at `now`.
pub fn notification_json(inc: &Incident, now: i64) -> Json {
    json!({
        "schema": "portcullis.incident-notification/v1",
        "reference": inc.reference(),
        "entity": { "name": inc.org_name, "sector": inc.sector.as_str() },
        "affected_service": inc.affected_service,
        "title": inc.title,
        "description": inc.description,
        "severity": inc.severity.as_str(),
        "state": inc.state.as_str(),
        "aware_at": rfc3339(inc.aware_at),
        "detected_at": inc.detected_at.map(rfc3339),
        "occurred_at": inc.occurred_at.map(rfc3339),
        "notification_due": rfc3339(inc.due(Stage::Notification)),
        "report_due": rfc3339(inc.due(Stage::Report)),
        "detection": detection_summary(inc),
        "recipients": RECIPIENTS,
        "generated_at": rfc3339(now),
    })
}

fn detection_summary(inc: &Incident) -> Json {
    match &inc.detection {
        Some(d) => json!({
            "rule_id": d.get("rule_id"),
            "title": d.get("title"),
            "level": d.get("level"),
            "host": d.get("host"),
            "time": d.get("time"),
            "summary": d.get("summary"),
            "source": inc.source.map(|(s, i)| json!({"submission": s, "index": i})),
        }),
        None => Json::Null,
    }
}

fn clock_json(inc: &Incident, stage: Stage, now: i64) -> Json {
    json!({
        "due": rfc3339(inc.due(stage)),
        "sent_at": inc.sent(stage).map(|s| rfc3339(s.at)),
        "sent_by": inc.sent(stage).map(|s| s.by.clone()),
        "clock": inc.clock(stage, now),
    })
}

/// The full incident report as Markdown, generated at `now`.
pub fn report_markdown(inc: &Incident, timeline: &[TimelineEntry], now: i64) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Full incident report: {}\n\n", inc.reference()));
    s.push_str(&format!(
        "Under the Cyber Security and Resilience Bill: full report due within {} hours of becoming aware.\n\n",
        Stage::Report.hours()
    ));
    s.push_str("| Field | Value |\n|---|---|\n");
    let rows = [
        ("Reference", inc.reference()),
        ("Entity", md_escape(&inc.org_name)),
        ("Sector", inc.sector.as_str().replace('_', " ")),
        (
            "Affected service",
            md_escape(if inc.affected_service.is_empty() {
                "not stated"
            } else {
                &inc.affected_service
            }),
        ),
        ("Title", md_escape(&inc.title)),
        ("Severity", inc.severity.as_str().into()),
        ("Current state", inc.state.as_str().into()),
        (
            "Reportable under the Bill",
            if inc.reportable {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        ("Occurred", opt_time(inc.occurred_at)),
        ("Detected", opt_time(inc.detected_at)),
        ("Became aware", format_time(inc.aware_at)),
        (
            "Opened here",
            format!(
                "{} by {}",
                format_time(inc.created_at),
                md_escape(&inc.created_by)
            ),
        ),
        (
            "Initial notification",
            describe_clock(inc.clock(Stage::Notification, now)),
        ),
        ("Full report due", format_time(inc.due(Stage::Report))),
        ("Generated", format_time(now)),
    ];
    push_md_rows(&mut s, &rows);
    s.push_str("\n## Description\n\n");
    push_md_description(&mut s, inc);
    if let Some(d) = &inc.detection {
        s.push_str("## Detection\n\n");
        push_md_detection(&mut s, d, &DETECTION_FIELDS);
        if let Some((sub, i)) = inc.source {
            s.push_str(&format!("- Source: detection {i} of submission {sub}\n"));
        }
        s.push('\n');
    }
    s.push_str("## Timeline\n\n");
    for e in timeline.iter().filter(|e| e.kind != "sent") {
        s.push_str(&format!(
            "- {} · {} · {}",
            format_time(e.at),
            md_escape(&e.actor),
            timeline_label(e)
        ));
        if !e.body.is_empty() {
            s.push_str(": ");
            s.push_str(&md_escape(&e.body).replace('\n', " "));
        }
        s.push('\n');
    }
    s.push_str("\n## Recipients\n\n");
    for r in RECIPIENTS {
        s.push_str(&format!("- {r}\n"));
    }
    s
}

/// A timeline entry's kind in words (`state` shows from → to).
pub fn timeline_label(e: &TimelineEntry) -> String {
    match (e.kind.as_str(), &e.from_state, &e.to_state) {
        ("state", Some(f), Some(t)) => format!("state {f} → {t}"),
        ("created", _, _) => "opened".into(),
        (k, _, _) => k.to_owned(),
    }
}

/// The full incident report as JSON, generated at `now`.
pub fn report_json(inc: &Incident, timeline: &[TimelineEntry], now: i64) -> Json {
    json!({
        "schema": "portcullis.incident-report/v1",
        "reference": inc.reference(),
        "entity": { "name": inc.org_name, "sector": inc.sector.as_str() },
        "affected_service": inc.affected_service,
        "title": inc.title,
        "description": inc.description,
        "severity": inc.severity.as_str(),
        "state": inc.state.as_str(),
        "reportable": inc.reportable,
        "occurred_at": inc.occurred_at.map(rfc3339),
        "detected_at": inc.detected_at.map(rfc3339),
        "aware_at": rfc3339(inc.aware_at),
        "opened_at": rfc3339(inc.created_at),
        "opened_by": inc.created_by,
        "notification": clock_json(inc, Stage::Notification, now),
        "report": clock_json(inc, Stage::Report, now),
        "detection": detection_summary(inc),
        "timeline": timeline.iter().filter(|e| e.kind != "sent").map(|e| json!({
            "at": rfc3339(e.at), "actor": e.actor, "kind": e.kind,
            "from_state": e.from_state, "to_state": e.to_state, "text": e.body,
        })).collect::<Vec<_>>(),
        "recipients": RECIPIENTS,
        "generated_at": rfc3339(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_helpers_list_present_fields_escaped_and_rows_on_one_line() {
        let d = json!({"rule_id": "r-1", "title": "Spray *now*", "level": "", "user": "bob"});
        let mut s = String::new();
        push_md_detection(&mut s, &d, &DETECTION_FIELDS[..4]);
        assert_eq!(
            s,
            format!("- Rule: r-1\n- Rule title: {}\n", md_escape("Spray *now*"))
        );
        let mut s = String::new();
        push_md_detection(&mut s, &d, &DETECTION_FIELDS);
        assert!(s.ends_with("- User: bob\n"), "{s}");
        let mut s = String::new();
        push_md_rows(&mut s, &[("Title", "a\nb".to_string())]);
        assert_eq!(s, "| Title | a b |\n");
    }

    #[test]
    fn times_round_trip_and_refuse_nonsense() {
        let t = parse_time("2026-11-23T01:15").unwrap();
        assert_eq!(format_time(t), "2026-11-23 01:15 UTC");
        assert_eq!(rfc3339(t + 7), "2026-11-23T01:15:07Z");
        assert_eq!(
            parse_time("2024-02-29 23:59:59Z").map(rfc3339).as_deref(),
            Some("2024-02-29T23:59:59Z")
        );
        for bad in [
            "",
            "2026-02-30T00:00",
            "2026-13-01T00:00",
            "2026-01-01T24:00",
            "x-y-zTa:b",
            "2026-01-01",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn state_machine_allows_only_listed_moves() {
        use IncidentState::*;
        assert!(Reported.can_move_to(Triaged));
        assert!(!Reported.can_move_to(Contained));
        assert!(!Reported.can_move_to(Resolved));
        assert!(Triaged.can_move_to(Contained));
        assert!(Contained.can_move_to(Resolved));
        assert!(!Contained.can_move_to(Closed));
        assert!(Resolved.can_move_to(Closed));
        assert!(Closed.next().is_empty());
    }

    #[test]
    fn markdown_escape_neutralises_links_and_html() {
        assert_eq!(md_escape("[x](http://e) <b>"), "\\[x\\](http://e) \\<b\\>");
    }

    #[test]
    fn detection_times_in_any_unit() {
        assert_eq!(
            detection_time(Some(&json!(1_700_000_000))),
            Some(1_700_000_000)
        );
        assert_eq!(
            detection_time(Some(&json!(1_700_000_000_123i64))),
            Some(1_700_000_000)
        );
        assert_eq!(
            detection_time(Some(&json!(1_700_000_000_123_456i64))),
            Some(1_700_000_000)
        );
        assert_eq!(detection_time(Some(&json!("2026-01-01"))), None);
        assert_eq!(
            detection_time(Some(&json!("2023-11-14T22:13:20Z"))),
            Some(1_700_000_000)
        );
        assert_eq!(detection_time(None), None);
    }
}
