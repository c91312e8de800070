//! Store functions: findings, packages, failing checks and detections
//! extracted from submissions into queryable tables, the per-organisation
//! summaries the overview reads, and the risk rating.
//!
//! Invariants:
//! - Extraction runs inside the transaction that stores the submission
//!   ([`extract`]); a body that fails to extract rolls the submission back.
//! - A new submission of a kind *replaces* its asset's rows of that kind;
//!   the history stays in `submissions`.
//! - After every extraction the organisation's summary (`org_summary`,
//!   `org_controls`, `detection_hours`, this week's `org_weekly`) is
//!   recomputed from the per-asset state, so the overview reads about one
//!   row per organisation and never scans findings.
//! - Every read takes a [`Tenant`] and filters by it.

use std::collections::BTreeMap;

use portcullis_model::{CheckResult, CheckStatus, Finding, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{org_from_row, OrgId, Organisation, Store, Tenant};
use crate::db::{Row, Tx};
use crate::{now, StoreError, SubmissionKind};

/// What kind of asset a submission is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// A machine, named by its host token.
    Host,
    /// A software project (a repository), named by the submitter (CI jobs).
    Project,
}

impl AssetKind {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Host => "host",
            AssetKind::Project => "project",
        }
    }

    /// Parses a stored or wire name.
    pub fn parse(s: &str) -> Option<AssetKind> {
        match s {
            "host" => Some(AssetKind::Host),
            "project" => Some(AssetKind::Project),
            _ => None,
        }
    }
}

/// The asset a submission is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    /// Host or project.
    pub kind: AssetKind,
    /// The host name, or the project's name (`github.com/org/repo`).
    pub name: String,
}

/// The longest asset name accepted.
pub const MAX_ASSET_NAME: usize = 255;

/// Checks an asset name: 1 to 255 printable characters.
pub(crate) fn check_asset_name(name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.len() > MAX_ASSET_NAME || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "asset.name must be 1 to {MAX_ASSET_NAME} printable characters"
        )));
    }
    Ok(())
}

/// Upserts the asset a submission names (inside its transaction) and returns
/// its ID. A name already used by an asset of the other kind is a `Conflict`.
pub(crate) async fn upsert_asset(
    tx: &mut Tx,
    org: OrgId,
    asset: &AssetRef,
    at: i64,
) -> Result<i64, StoreError> {
    let rows = tx
        .query(
            "INSERT INTO assets (org_id, name, first_seen, last_seen, kind) VALUES ($1, $2, $3, $3, $4) \
             ON CONFLICT (org_id, name) DO UPDATE SET last_seen = excluded.last_seen \
             RETURNING id, kind",
            vec![
                org.0.into(),
                asset.name.as_str().into(),
                at.into(),
                asset.kind.as_str().into(),
            ],
        )
        .await?;
    let r = rows.first().ok_or(StoreError::NotFound)?;
    let (id, kind) = (r.int(0)?, r.text(1)?);
    if kind != asset.kind.as_str() {
        return Err(StoreError::Conflict(format!(
            "this organisation already has a {kind} named `{}`; give the {} another name",
            asset.name,
            asset.kind.as_str()
        )));
    }
    tx.query(
        "INSERT INTO asset_state (asset_id, org_id) VALUES ($1, $2) ON CONFLICT (asset_id) DO NOTHING",
        vec![id.into(), org.0.into()],
    )
    .await?;
    Ok(id)
}

/// Called inside the transaction that stores a new submission: replaces the
/// asset's rows of this kind with what the body holds, then recomputes the
/// organisation's summary.
pub(crate) async fn extract(
    tx: &mut Tx,
    org: OrgId,
    asset_id: i64,
    kind: SubmissionKind,
    body: &str,
    received_at: i64,
) -> Result<(), StoreError> {
    let doc: Json = serde_json::from_str(body)
        .map_err(|e| StoreError::Invalid(format!("body is not JSON: {e}")))?;
    match kind {
        SubmissionKind::Scan => extract_scan(tx, org, asset_id, &doc, received_at).await?,
        SubmissionKind::Assessment => {
            extract_assessment(tx, org, asset_id, &doc, received_at).await?;
        }
        SubmissionKind::Detections => {
            extract_detections(tx, org, asset_id, &doc, received_at).await?;
        }
        SubmissionKind::Sbom => extract_sbom(tx, org, asset_id, &doc, received_at).await?,
        SubmissionKind::Practice => {
            let score = doc.get("score").and_then(Json::as_i64);
            tx.query(
                "UPDATE asset_state SET practice_at = $1, practice_score = $2 WHERE asset_id = $3",
                vec![received_at.into(), score.into(), asset_id.into()],
            )
            .await?;
        }
    }
    recompute_org(tx, org, kind, received_at).await
}

fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::None => "none",
        Severity::Unknown => "unknown",
    }
}

async fn extract_scan(
    tx: &mut Tx,
    org: OrgId,
    asset_id: i64,
    doc: &Json,
    at: i64,
) -> Result<(), StoreError> {
    let findings: Vec<Finding> = match doc.get("findings") {
        Some(v) => Vec::<Finding>::deserialize(v)
            .map_err(|e| StoreError::Invalid(format!("body.findings: {e}")))?,
        None => Vec::new(),
    };
    tx.query(
        "DELETE FROM findings WHERE asset_id = $1",
        vec![asset_id.into()],
    )
    .await?;
    tx.query(
        "DELETE FROM finding_ids WHERE asset_id = $1",
        vec![asset_id.into()],
    )
    .await?;
    let (mut open, mut critical, mut high, mut ce14) = (0i64, 0i64, 0i64, 0i64);
    let mut rows = Vec::with_capacity(findings.len());
    let mut ids = Vec::new();
    for f in &findings {
        let suppressed = f.suppressed.is_some();
        if !suppressed {
            open += 1;
            match f.severity {
                Severity::Critical => critical += 1,
                Severity::High => high += 1,
                _ => {}
            }
            if f.ce_14_day {
                ce14 += 1;
            }
        }
        let p = &f.package;
        let sev = severity_str(f.severity);
        rows.push(vec![
            org.0.into(),
            asset_id.into(),
            p.ecosystem.as_str().into(),
            p.name.as_str().into(),
            p.name.to_lowercase().into(),
            // The source package, only when it differs from the name (a
            // partial index holds only these).
            p.source_name
                .as_deref()
                .map(str::to_lowercase)
                .filter(|k| *k != p.name.to_lowercase())
                .as_deref()
                .into(),
            p.version.as_str().into(),
            f.id.as_str().into(),
            f.aliases.join(" ").into(),
            sev.into(),
            f.cvss_score.map(|s| format!("{s:.1}")).as_deref().into(),
            f.fix.upgrade_to.as_deref().into(),
            i64::from(f.ce_14_day).into(),
            i64::from(suppressed).into(),
            f.summary.as_str().into(),
        ]);
        let mut keys: Vec<String> = std::iter::once(&f.id)
            .chain(&f.aliases)
            .map(|s| s.trim().to_uppercase())
            .filter(|s| !s.is_empty())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            ids.push(vec![
                org.0.into(),
                asset_id.into(),
                k.into(),
                f.id.as_str().into(),
                p.name.as_str().into(),
                p.version.as_str().into(),
                sev.into(),
            ]);
        }
    }
    tx.query_many(
        "INSERT INTO findings (org_id, asset_id, ecosystem, package, name_key, source_key, version, vuln_id, aliases, severity, cvss, upgrade_to, ce_14_day, suppressed, summary) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        rows,
    )
    .await?;
    tx.query_many(
        "INSERT INTO finding_ids (org_id, asset_id, vuln_key, vuln_id, package, version, severity) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ids,
    )
    .await?;
    tx.query(
        "UPDATE asset_state SET scanned_at = $1, vulns = $2, critical = $3, high = $4, ce_14_day = $5 WHERE asset_id = $6",
        vec![at.into(), open.into(), critical.into(), high.into(), ce14.into(), asset_id.into()],
    )
    .await?;
    Ok(())
}

fn control_str(c: portcullis_model::Control) -> &'static str {
    use portcullis_model::Control as C;
    match c {
        C::Firewalls => "firewalls",
        C::SecureConfiguration => "secure_configuration",
        C::SecurityUpdateManagement => "security_update_management",
        C::UserAccessControl => "user_access_control",
        C::MalwareProtection => "malware_protection",
    }
}

/// The checks of an assessment body: `checks` (the `portcullis.assess/v1`
/// report) or `results` (a bare list).
pub(crate) fn assessment_checks(doc: &Json) -> Option<(&'static str, &Json)> {
    if let Some(v) = doc.get("checks") {
        Some(("checks", v))
    } else {
        doc.get("results").map(|v| ("results", v))
    }
}

async fn extract_assessment(
    tx: &mut Tx,
    org: OrgId,
    asset_id: i64,
    doc: &Json,
    at: i64,
) -> Result<(), StoreError> {
    let checks: Vec<CheckResult> = match assessment_checks(doc) {
        Some((field, v)) => Vec::<CheckResult>::deserialize(v)
            .map_err(|e| StoreError::Invalid(format!("body.{field}: {e}")))?,
        None => Vec::new(),
    };
    let undecided = checks
        .iter()
        .any(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Unknown));
    // The report's own verdict when it gives one; else: ready when nothing
    // failed and nothing is unknown (the same rule `portcullis assess` uses).
    let verdict = match doc.get("verdict").and_then(Json::as_str) {
        Some("ready") if !undecided => "ready",
        Some("ready" | "not_ready") | None => {
            if undecided {
                "not_ready"
            } else {
                "ready"
            }
        }
        Some(_) => "not_ready",
    };
    tx.query(
        "DELETE FROM checks WHERE asset_id = $1",
        vec![asset_id.into()],
    )
    .await?;
    tx.query(
        "DELETE FROM asset_controls WHERE asset_id = $1",
        vec![asset_id.into()],
    )
    .await?;
    let mut per_control: BTreeMap<&'static str, (i64, i64)> = BTreeMap::new();
    let (mut failed, mut auto_fails) = (0i64, 0i64);
    let mut rows = Vec::new();
    for c in &checks {
        let control = control_str(c.control);
        let e = per_control.entry(control).or_default();
        match c.status {
            CheckStatus::Pass => e.0 += 1,
            CheckStatus::Fail => {
                e.1 += 1;
                failed += 1;
                if c.auto_fail {
                    auto_fails += 1;
                }
            }
            CheckStatus::NeedsAttestation | CheckStatus::Unknown => {}
        }
        if c.status != CheckStatus::Pass {
            rows.push(vec![
                org.0.into(),
                asset_id.into(),
                c.id.as_str().into(),
                control.into(),
                c.title.as_str().into(),
                c.status.as_str().into(),
                i64::from(c.auto_fail).into(),
                c.fix.as_deref().or(c.reason.as_deref()).into(),
            ]);
        }
    }
    tx.query_many(
        "INSERT INTO checks (org_id, asset_id, check_id, control, title, status, auto_fail, fix) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        rows,
    )
    .await?;
    let controls = per_control
        .into_iter()
        .map(|(control, (pass, fail))| {
            vec![
                asset_id.into(),
                org.0.into(),
                control.into(),
                pass.into(),
                fail.into(),
            ]
        })
        .collect();
    tx.query_many(
        "INSERT INTO asset_controls (asset_id, org_id, control, pass, fail) VALUES ($1, $2, $3, $4, $5)",
        controls,
    )
    .await?;
    tx.query(
        "UPDATE asset_state SET verdict = $1, assessed_at = $2, checks_failed = $3, auto_fails = $4 WHERE asset_id = $5",
        vec![verdict.into(), at.into(), failed.into(), auto_fails.into(), asset_id.into()],
    )
    .await?;
    Ok(())
}

fn opt_str(v: Option<&Json>, max: usize) -> Option<String> {
    v.and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| truncate(s, max))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

async fn extract_detections(
    tx: &mut Tx,
    org: OrgId,
    asset_id: i64,
    doc: &Json,
    at: i64,
) -> Result<(), StoreError> {
    let items = doc
        .get("detections")
        .and_then(Json::as_array)
        .map_or(&[][..], Vec::as_slice);
    // Detections are events, not state: each submission adds to the asset's
    // detections (an agent sends only what is new; a full re-hunt sends
    // everything again and the de-duplication key keeps one of each), and
    // those received longer ago than the retention window are dropped.
    tx.query(
        "DELETE FROM detections WHERE asset_id = $1 AND received_at < $2",
        vec![asset_id.into(), (at - DETECTION_RETENTION_SECS).into()],
    )
    .await?;
    let mut rows = Vec::with_capacity(items.len());
    for d in items {
        // A detection's time is its event time, never later than receipt
        // (a clock in the future must not keep it "recent" for ever); without
        // one, the time it was received.
        let when = d
            .get("time")
            .and_then(Json::as_str)
            .and_then(parse_rfc3339)
            .map_or(at, |t| t.min(at));
        let level = opt_str(d.get("level"), 20).unwrap_or_else(|| "medium".into());
        let rule_id = opt_str(d.get("rule_id"), 200).unwrap_or_default();
        let host = opt_str(d.get("host"), 255);
        let source = opt_str(d.get("source"), 255)
            .map(|s| s.parse::<std::net::IpAddr>().map_or(s, |ip| ip.to_string()));
        let user = opt_str(d.get("user"), 255);
        let summary = opt_str(d.get("summary"), 1000).unwrap_or_default();
        let dedup_key = detection_key(&[
            &rule_id,
            &when.to_string(),
            host.as_deref().unwrap_or(""),
            source.as_deref().unwrap_or(""),
            user.as_deref().unwrap_or(""),
            &summary,
        ]);
        rows.push(vec![
            org.0.into(),
            asset_id.into(),
            rule_id.into(),
            opt_str(d.get("title"), 500).unwrap_or_default().into(),
            level.to_lowercase().into(),
            when.into(),
            host.as_deref().into(),
            source.as_deref().into(),
            user.as_deref().into(),
            summary.into(),
            dedup_key.into(),
            at.into(),
        ]);
    }
    tx.query_many(
        "INSERT INTO detections (org_id, asset_id, rule_id, title, level, at, host, source_ip, user_name, summary, dedup_key, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (asset_id, dedup_key) DO NOTHING",
        rows,
    )
    .await?;
    let n = tx
        .query(
            "SELECT COUNT(*) FROM detections WHERE asset_id = $1",
            vec![asset_id.into()],
        )
        .await?
        .first()
        .map_or(Ok(0), |r| r.int(0))?;
    tx.query(
        "UPDATE asset_state SET hunted_at = $1, detections = $2 WHERE asset_id = $3",
        vec![at.into(), n.into(), asset_id.into()],
    )
    .await?;
    tx.query(
        "DELETE FROM detection_hours WHERE org_id = $1",
        vec![org.0.into()],
    )
    .await?;
    tx.query(
        "INSERT INTO detection_hours (org_id, hour, n, high) \
         SELECT org_id, at / 3600, COUNT(*), COUNT(CASE WHEN level IN ('high', 'critical') THEN 1 END) \
         FROM detections WHERE org_id = $1 AND at IS NOT NULL GROUP BY org_id, at / 3600",
        vec![org.0.into()],
    )
    .await?;
    Ok(())
}

/// A search hit from a row of (org, asset, package, version, vuln ID, severity).
fn finding_hit(r: &Row) -> Result<(OrgId, Hit), StoreError> {
    Ok((
        OrgId(r.int(0)?),
        Hit::Finding {
            asset: r.text(1)?,
            package: r.text(2)?,
            version: r.text(3)?,
            vuln_id: r.text(4)?,
            severity: r.text(5)?,
        },
    ))
}

/// How long detections are kept: 90 days after they were received.
const DETECTION_RETENTION_SECS: i64 = 90 * 24 * 3600;

/// The de-duplication key of a detection: SHA-256 over its fields, each
/// length-prefixed so that no two different field lists collide.
fn detection_key(fields: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in fields {
        h.update((f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    super::hex(&h.finalize())
}

/// The most components taken from one SBOM (the body limit bounds it anyway).
const MAX_COMPONENTS: usize = 100_000;

/// An SBOM's components: CycloneDX `components` (nested ones included,
/// walked without recursion) or SPDX `packages`: (name, version, purl).
pub(crate) fn sbom_components(doc: &Json) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    if let Some(list) = doc.get("components").and_then(Json::as_array) {
        let mut stack: Vec<&Json> = list.iter().rev().collect();
        while let Some(c) = stack.pop() {
            if out.len() >= MAX_COMPONENTS {
                break;
            }
            if let Some(name) = opt_str(c.get("name"), 500) {
                let group = opt_str(c.get("group"), 500);
                let name = match group {
                    Some(g) => format!("{g}/{name}"),
                    None => name,
                };
                out.push((
                    name,
                    opt_str(c.get("version"), 200).unwrap_or_default(),
                    opt_str(c.get("purl"), 1000),
                ));
            }
            if let Some(children) = c.get("components").and_then(Json::as_array) {
                stack.extend(children.iter().rev());
            }
        }
    } else if let Some(list) = doc.get("packages").and_then(Json::as_array) {
        for p in list.iter().take(MAX_COMPONENTS) {
            let Some(name) = opt_str(p.get("name"), 500) else {
                continue;
            };
            let purl = p
                .get("externalRefs")
                .and_then(Json::as_array)
                .and_then(|refs| {
                    refs.iter()
                        .find(|r| r.get("referenceType").and_then(Json::as_str) == Some("purl"))
                })
                .and_then(|r| opt_str(r.get("referenceLocator"), 1000));
            out.push((
                name,
                opt_str(p.get("versionInfo"), 200).unwrap_or_default(),
                purl,
            ));
        }
    }
    out
}

async fn extract_sbom(
    tx: &mut Tx,
    org: OrgId,
    asset_id: i64,
    doc: &Json,
    at: i64,
) -> Result<(), StoreError> {
    let comps = sbom_components(doc);
    tx.query(
        "DELETE FROM components WHERE asset_id = $1",
        vec![asset_id.into()],
    )
    .await?;
    let n = i64::try_from(comps.len()).unwrap_or(i64::MAX);
    let rows = comps
        .into_iter()
        .map(|(name, version, purl)| {
            vec![
                org.0.into(),
                asset_id.into(),
                name.to_lowercase().into(),
                name.into(),
                version.into(),
                purl.as_deref().into(),
            ]
        })
        .collect();
    tx.query_many(
        "INSERT INTO components (org_id, asset_id, name_key, name, version, purl) VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )
    .await?;
    tx.query(
        "UPDATE asset_state SET sbom_at = $1, components = $2 WHERE asset_id = $3",
        vec![at.into(), n.into(), asset_id.into()],
    )
    .await?;
    Ok(())
}

const WEEK: i64 = 7 * 24 * 3600;

/// The longest trend shown, in weeks (snapshots are gap-filled this far back).
pub const TREND_WEEKS: i64 = 26;

/// Recomputes the organisation's summary from its per-asset state (about
/// one row per asset), its heat-map row after an assessment, and this
/// week's snapshot.
async fn recompute_org(
    tx: &mut Tx,
    org: OrgId,
    kind: SubmissionKind,
    at: i64,
) -> Result<(), StoreError> {
    tx.query(
        "INSERT INTO org_summary (org_id, hosts, projects, assessed, not_ready, auto_fails, checks_failed, vulns, critical, high, ce_14_day, practice_min, last_seen) \
         SELECT $1, \
           (SELECT COUNT(*) FROM assets WHERE org_id = $1 AND kind = 'host'), \
           (SELECT COUNT(*) FROM assets WHERE org_id = $1 AND kind = 'project'), \
           COUNT(verdict), COUNT(CASE WHEN verdict = 'not_ready' THEN 1 END), \
           CAST(COALESCE(SUM(auto_fails), 0) AS BIGINT), CAST(COALESCE(SUM(checks_failed), 0) AS BIGINT), \
           CAST(COALESCE(SUM(vulns), 0) AS BIGINT), CAST(COALESCE(SUM(critical), 0) AS BIGINT), \
           CAST(COALESCE(SUM(high), 0) AS BIGINT), CAST(COALESCE(SUM(ce_14_day), 0) AS BIGINT), \
           MIN(practice_score), \
           (SELECT MAX(last_seen) FROM assets WHERE org_id = $1) \
         FROM asset_state WHERE org_id = $1 \
         ON CONFLICT (org_id) DO UPDATE SET hosts = excluded.hosts, projects = excluded.projects, \
           assessed = excluded.assessed, not_ready = excluded.not_ready, auto_fails = excluded.auto_fails, \
           checks_failed = excluded.checks_failed, vulns = excluded.vulns, critical = excluded.critical, \
           high = excluded.high, ce_14_day = excluded.ce_14_day, practice_min = excluded.practice_min, \
           last_seen = excluded.last_seen",
        vec![org.0.into()],
    )
    .await?;
    if kind == SubmissionKind::Assessment {
        tx.query(
            "DELETE FROM org_controls WHERE org_id = $1",
            vec![org.0.into()],
        )
        .await?;
        tx.query(
            "INSERT INTO org_controls (org_id, control, pass, fail) \
             SELECT org_id, control, CAST(SUM(pass) AS BIGINT), CAST(SUM(fail) AS BIGINT) \
             FROM asset_controls WHERE org_id = $1 GROUP BY org_id, control",
            vec![org.0.into()],
        )
        .await?;
    }
    // Weeks since the organisation's previous snapshot (at most the trend
    // window) get that snapshot, so each week's sum counts every
    // organisation that has reported within the window.
    let week = at / WEEK;
    let prev = tx
        .query(
            "SELECT MAX(week) FROM org_weekly WHERE org_id = $1 AND week < $2",
            vec![org.0.into(), week.into()],
        )
        .await?;
    if let Some(p) = prev.first().map(|r| r.opt_int(0)).transpose()?.flatten() {
        for w in (p + 1).max(week - TREND_WEEKS)..week {
            tx.query(
                "INSERT INTO org_weekly (org_id, week, critical, high, ce_14_day, not_ready, detections) \
                 SELECT org_id, $2, critical, high, ce_14_day, not_ready, detections FROM org_weekly \
                 WHERE org_id = $1 AND week = $3 ON CONFLICT (org_id, week) DO NOTHING",
                vec![org.0.into(), w.into(), p.into()],
            )
            .await?;
        }
    }
    tx.query(
        "INSERT INTO org_weekly (org_id, week, critical, high, ce_14_day, not_ready, detections) \
         SELECT org_id, $2, critical, high, ce_14_day, not_ready, \
           (SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM detection_hours WHERE org_id = $1 AND hour >= $3) \
         FROM org_summary WHERE org_id = $1 \
         ON CONFLICT (org_id, week) DO UPDATE SET critical = excluded.critical, high = excluded.high, \
           ce_14_day = excluded.ce_14_day, not_ready = excluded.not_ready, detections = excluded.detections",
        vec![org.0.into(), (at / WEEK).into(), ((at - WEEK) / 3600).into()],
    )
    .await?;
    Ok(())
}

/// Parses an RFC 3339 time (`2026-03-28T06:30:11Z`, fractions and offsets
/// allowed) to Unix seconds. `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b.get(i + 3) == Some(&b':') => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

// ---------------------------------------------------------------------------
// Reads and the risk rating.

/// An organisation's readiness for Cyber Essentials, from its hosts' latest
/// assessments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Readiness {
    /// At least one assessed host is not ready.
    NotReady,
    /// No host has been assessed.
    Unknown,
    /// Every assessed host is ready.
    Ready,
}

impl Readiness {
    /// Words for pages.
    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "Ready",
            Readiness::NotReady => "Not ready",
            Readiness::Unknown => "Not assessed",
        }
    }
}

/// Red, amber or green.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum RiskLevel {
    /// Act now.
    Red,
    /// Needs attention.
    Amber,
    /// Nothing known that needs action.
    Green,
}

impl RiskLevel {
    /// Lower-case name (CSS class, sorting).
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Red => "red",
            RiskLevel::Amber => "amber",
            RiskLevel::Green => "green",
        }
    }
}

/// A rating with the reasons behind it, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rating {
    /// The level.
    pub level: RiskLevel,
    /// Why, one plain sentence each (for green, what was checked).
    pub reasons: Vec<String>,
}

/// One organisation's risk picture: the overview's row, the org page's head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgRisk {
    /// The organisation.
    pub org: Organisation,
    /// Hosts.
    pub hosts: i64,
    /// Projects.
    pub projects: i64,
    /// Hosts with an assessment.
    pub assessed: i64,
    /// Assessed hosts not ready.
    pub not_ready: i64,
    /// Failed automatic-fail checks.
    pub auto_fails: i64,
    /// Failed checks.
    pub checks_failed: i64,
    /// Open vulnerabilities.
    pub vulns: i64,
    /// Open critical vulnerabilities.
    pub critical: i64,
    /// Open high vulnerabilities.
    pub high: i64,
    /// Open vulnerabilities breaking the 14-day rule.
    pub ce_14_day: i64,
    /// The lowest practice score of its projects.
    pub practice_min: Option<i64>,
    /// Its latest submission.
    pub last_seen: Option<i64>,
    /// Detections in the last 24 hours.
    pub detections_24h: i64,
    /// Of which high or critical.
    pub high_detections_24h: i64,
    /// Open incidents (not resolved or closed).
    pub open_incidents: i64,
    /// Incidents whose 24 h notification or 72 h report is overdue.
    pub overdue_reports: i64,
    /// Pass and fail counts per control, in the scheme's order (E1…E5).
    pub controls: [(i64, i64); 5],
}

impl OrgRisk {
    /// Readiness from the hosts' assessments.
    pub fn readiness(&self) -> Readiness {
        if self.not_ready > 0 {
            Readiness::NotReady
        } else if self.assessed == 0 {
            Readiness::Unknown
        } else {
            Readiness::Ready
        }
    }

    /// The rating: see [`rate`].
    pub fn rating(&self, now: i64) -> Rating {
        rate(self, now)
    }
}

/// The controls in the scheme's order, as stored, with their titles.
pub const CONTROLS: [(&str, &str); 5] = [
    ("firewalls", "Firewalls"),
    ("secure_configuration", "Secure configuration"),
    ("security_update_management", "Security update management"),
    ("user_access_control", "User access control"),
    ("malware_protection", "Malware protection"),
];

/// How long without any submission before an organisation's picture is stale.
pub const STALE_AFTER: i64 = 7 * 24 * 3600;

/// The risk rating, red / amber / green, with the reasons.
///
/// **Red** (act now) when any of:
/// 1. an incident's 24-hour notification or 72-hour report is overdue;
/// 2. an open vulnerability breaks the Cyber Essentials 14-day rule
///    (critical or high, or unrated, with a fix out for more than 14 days);
/// 3. an automatic-fail check fails (v3.3: updates not applied in 14 days);
/// 4. a high or critical detection in the last 24 hours.
///
/// **Amber** (needs attention) when none of those but any of:
/// 5. an open critical or high vulnerability (fix not yet 14 days old);
/// 6. an assessed host is not ready (a check failed or could not be made);
/// 7. an open incident;
/// 8. any detection in the last 24 hours;
/// 9. no host assessed yet, or nothing received for 7 days (we do not know);
/// 10. a project scores below 50 on the Code of Practice.
///
/// **Green** otherwise.
pub fn rate(r: &OrgRisk, now: i64) -> Rating {
    let mut red = Vec::new();
    let mut amber = Vec::new();
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if r.overdue_reports > 0 {
        red.push(format!(
            "{} overdue: the Bill requires a notification within 24 hours and a full report within 72 hours of becoming aware.",
            plural(r.overdue_reports, "incident report is", "incident reports are")
        ));
    }
    if r.ce_14_day > 0 {
        red.push(format!(
            "{} the Cyber Essentials 14-day rule: rated critical or high (or unrated) with a fix available for more than 14 days.",
            plural(r.ce_14_day, "vulnerability breaks", "vulnerabilities break")
        ));
    }
    if r.auto_fails > 0 {
        red.push(format!(
            "{} an automatic fail under Cyber Essentials v3.3.",
            plural(r.auto_fails, "failed check is", "failed checks are")
        ));
    }
    if r.high_detections_24h > 0 {
        red.push(format!(
            "{} in the last 24 hours.",
            plural(
                r.high_detections_24h,
                "high or critical detection",
                "high or critical detections"
            )
        ));
    }
    let within = (r.critical + r.high - r.ce_14_day).max(0);
    if r.critical + r.high > 0 && (r.ce_14_day == 0 || within > 0) {
        amber.push(format!(
            "{} critical and {} high vulnerabilities are open; fix them before they pass 14 days.",
            r.critical, r.high
        ));
    }
    if r.not_ready > 0 {
        amber.push(format!(
            "{} of {} assessed hosts not ready for Cyber Essentials ({} failed checks).",
            r.not_ready, r.assessed, r.checks_failed
        ));
    }
    if r.open_incidents > 0 {
        amber.push(format!(
            "{}.",
            plural(r.open_incidents, "open incident", "open incidents")
        ));
    }
    let low_detections = r.detections_24h - r.high_detections_24h;
    if low_detections > 0 {
        amber.push(format!(
            "{} of lower level in the last 24 hours.",
            plural(low_detections, "detection", "detections")
        ));
    }
    if r.assessed == 0 {
        amber.push("No host has sent an assessment: readiness is unknown.".to_owned());
    }
    match r.last_seen {
        None => amber.push("Nothing has been received from this organisation yet.".to_owned()),
        Some(t) if now - t > STALE_AFTER => amber.push(format!(
            "Nothing received for {} days: the picture may be out of date.",
            (now - t) / 86_400
        )),
        Some(_) => {}
    }
    if let Some(score) = r.practice_min.filter(|s| *s < 50) {
        amber.push(format!(
            "A project scores {score} of 100 against the Software Security Code of Practice."
        ));
    }
    if !red.is_empty() {
        red.extend(amber);
        Rating {
            level: RiskLevel::Red,
            reasons: red,
        }
    } else if !amber.is_empty() {
        Rating {
            level: RiskLevel::Amber,
            reasons: amber,
        }
    } else {
        Rating {
            level: RiskLevel::Green,
            reasons: vec![format!(
                "All {} assessed hosts are ready, no critical or high vulnerability is open, no detection in 24 hours, no open incident.",
                r.assessed
            )],
        }
    }
}

/// The weekly trend across the organisations in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    /// The week's first day (Unix seconds).
    pub week_start: i64,
    /// Open critical vulnerabilities.
    pub critical: i64,
    /// Open high vulnerabilities.
    pub high: i64,
    /// 14-day-rule breaches.
    pub ce_14_day: i64,
    /// Hosts not ready.
    pub not_ready: i64,
    /// Detections in the 7 days before the snapshot.
    pub detections: i64,
}

/// An asset's current state, for the organisation page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetSummary {
    /// Its ID.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Host or project.
    pub kind: AssetKind,
    /// Its latest submission.
    pub last_seen: i64,
    /// `ready` / `not_ready`, when assessed.
    pub verdict: Option<String>,
    /// Failed checks.
    pub checks_failed: i64,
    /// Open vulnerabilities.
    pub vulns: i64,
    /// Open critical.
    pub critical: i64,
    /// Open high.
    pub high: i64,
    /// 14-day-rule breaches.
    pub ce_14_day: i64,
    /// Detections in its latest hunt.
    pub detections: i64,
    /// SBOM components.
    pub components: i64,
    /// Code of Practice score.
    pub practice_score: Option<i64>,
}

/// A check that did not pass, on one or more assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailingCheck {
    /// The check's ID.
    pub check_id: String,
    /// Its control.
    pub control: String,
    /// Its title.
    pub title: String,
    /// `fail`, `unknown` or `needs_attestation`.
    pub status: String,
    /// An automatic fail.
    pub auto_fail: bool,
    /// What to do.
    pub fix: Option<String>,
    /// The assets (names).
    pub assets: Vec<String>,
}

/// A vulnerable package across an organisation's estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VulnerablePackage {
    /// The package name as written.
    pub package: String,
    /// Its lower-case key (for the package view).
    pub key: String,
    /// Its ecosystem.
    pub ecosystem: String,
    /// The assets running a vulnerable version.
    pub assets: i64,
    /// Distinct vulnerabilities.
    pub vulns: i64,
    /// The worst severity.
    pub worst: String,
    /// 14-day-rule breaches.
    pub ce_14_day: i64,
}

/// One asset running a package (the package view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageOnAsset {
    /// The asset's name.
    pub asset: String,
    /// The package as written.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Open vulnerability IDs there (empty: seen in an SBOM, none known).
    pub vulns: Vec<String>,
    /// The worst severity there.
    pub worst: Option<String>,
    /// The version to upgrade to, when known.
    pub upgrade_to: Option<String>,
    /// Breaks the 14-day rule.
    pub ce_14_day: bool,
}

/// A detection, for pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetectionRow {
    /// Its organisation.
    pub org: OrgId,
    /// The asset that reported it.
    pub asset: String,
    /// The rule.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// Its level.
    pub level: String,
    /// When (Unix seconds).
    pub at: Option<i64>,
    /// The host in the event.
    pub host: Option<String>,
    /// The source address.
    pub source_ip: Option<String>,
    /// The user.
    pub user: Option<String>,
}

/// Everything the organisation page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgDetail {
    /// The head: summary and rating inputs.
    pub risk: OrgRisk,
    /// Hosts and projects.
    pub assets: Vec<AssetSummary>,
    /// Failing checks, automatic fails and fails first.
    pub checks: Vec<FailingCheck>,
    /// Vulnerable packages, worst first (at most 200).
    pub packages: Vec<VulnerablePackage>,
    /// Latest detections (at most 100).
    pub detections: Vec<DetectionRow>,
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Hit {
    /// A vulnerable package on an asset (package or ID search).
    Finding {
        /// The asset.
        asset: String,
        /// The package.
        package: String,
        /// Its version.
        version: String,
        /// The vulnerability's primary ID.
        vuln_id: String,
        /// Its severity.
        severity: String,
    },
    /// A component in an asset's SBOM (package search).
    Component {
        /// The asset.
        asset: String,
        /// The component.
        package: String,
        /// Its version.
        version: String,
    },
    /// A detection from or about the address (IP search).
    Detection(DetectionRow),
}

/// Search results for one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchGroup {
    /// The organisation.
    pub org: OrgId,
    /// Its name.
    pub org_name: String,
    /// Its hits.
    pub hits: Vec<Hit>,
}

/// The most rows each search query returns.
pub const SEARCH_LIMIT: i64 = 500;

const SEVERITY_RANK: [&str; 6] = ["critical", "high", "medium", "low", "none", "unknown"];

fn rank_name(rank: i64) -> String {
    usize::try_from(rank)
        .ok()
        .and_then(|i| SEVERITY_RANK.get(i))
        .copied()
        .unwrap_or("unknown")
        .to_owned()
}

fn control_index(control: &str) -> Option<usize> {
    CONTROLS.iter().position(|(c, _)| *c == control)
}

fn risk_from_row(r: &Row) -> Result<OrgRisk, StoreError> {
    Ok(OrgRisk {
        org: org_from_row(r)?,
        hosts: r.opt_int(4)?.unwrap_or(0),
        projects: r.opt_int(5)?.unwrap_or(0),
        assessed: r.opt_int(6)?.unwrap_or(0),
        not_ready: r.opt_int(7)?.unwrap_or(0),
        auto_fails: r.opt_int(8)?.unwrap_or(0),
        checks_failed: r.opt_int(9)?.unwrap_or(0),
        vulns: r.opt_int(10)?.unwrap_or(0),
        critical: r.opt_int(11)?.unwrap_or(0),
        high: r.opt_int(12)?.unwrap_or(0),
        ce_14_day: r.opt_int(13)?.unwrap_or(0),
        practice_min: r.opt_int(14)?,
        last_seen: r.opt_int(15)?,
        detections_24h: 0,
        high_detections_24h: 0,
        open_incidents: 0,
        overdue_reports: 0,
        controls: [(0, 0); 5],
    })
}

fn detection_from_row(r: &Row) -> Result<DetectionRow, StoreError> {
    Ok(DetectionRow {
        org: OrgId(r.int(0)?),
        asset: r.text(1)?,
        rule_id: r.text(2)?,
        title: r.text(3)?,
        level: r.text(4)?,
        at: r.opt_int(5)?,
        host: r.opt_text(6)?,
        source_ip: r.opt_text(7)?,
        user: r.opt_text(8)?,
    })
}

impl Store {
    /// One organisation, if it is in scope (`NotFound` otherwise).
    pub async fn organisation(
        &self,
        scope: &Tenant,
        org: OrgId,
    ) -> Result<Organisation, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT id, name, sector, size FROM organisations WHERE id = $1 AND ($2 IS NULL OR id = $2)",
                vec![org.0.into(), scope.filter()],
            )
            .await?;
        org_from_row(rows.first().ok_or(StoreError::NotFound)?)
    }

    /// Every organisation in scope with its risk picture, by name. Reads
    /// only the pre-aggregated summaries (about a dozen rows per
    /// organisation), never findings.
    pub async fn risk_overview(&self, scope: &Tenant) -> Result<Vec<OrgRisk>, StoreError> {
        const SQL: &str = concat!(
            "SELECT o.id, o.name, o.sector, o.size, s.hosts, s.projects, s.assessed, s.not_ready, s.auto_fails, ",
            "s.checks_failed, s.vulns, s.critical, s.high, s.ce_14_day, s.practice_min, s.last_seen ",
            "FROM organisations o LEFT JOIN org_summary s ON s.org_id = o.id ",
            "WHERE ($1 IS NULL OR o.id = $1) ORDER BY o.name"
        );
        let rows = self.db.query(SQL, vec![scope.filter()]).await?;
        let mut list = rows
            .iter()
            .map(risk_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.fill_live_counts(scope, &mut list).await?;
        Ok(list)
    }

    /// Adds what changes with the clock (detections in the last 24 hours,
    /// incidents) and the heat-map counts to summaries.
    async fn fill_live_counts(
        &self,
        scope: &Tenant,
        list: &mut [OrgRisk],
    ) -> Result<(), StoreError> {
        let index: std::collections::HashMap<i64, usize> = list
            .iter()
            .enumerate()
            .map(|(i, r)| (r.org.id.0, i))
            .collect();
        let now = now();
        let rows = self
            .db
            .query(
                "SELECT org_id, CAST(SUM(n) AS BIGINT), CAST(SUM(high) AS BIGINT) FROM detection_hours \
                 WHERE hour >= $1 AND ($2 IS NULL OR org_id = $2) GROUP BY org_id",
                vec![((now - 24 * 3600) / 3600).into(), scope.filter()],
            )
            .await?;
        for r in &rows {
            if let Some(&i) = index.get(&r.int(0)?) {
                if let Some(o) = list.get_mut(i) {
                    o.detections_24h = r.opt_int(1)?.unwrap_or(0);
                    o.high_detections_24h = r.opt_int(2)?.unwrap_or(0);
                }
            }
        }
        let rows = self
            .db
            .query(
                "SELECT org_id, control, pass, fail FROM org_controls WHERE ($1 IS NULL OR org_id = $1)",
                vec![scope.filter()],
            )
            .await?;
        for r in &rows {
            let (Some(&i), Some(c)) = (index.get(&r.int(0)?), control_index(&r.text(1)?)) else {
                continue;
            };
            if let Some(slot) = list.get_mut(i).and_then(|o| o.controls.get_mut(c)) {
                *slot = (r.int(2)?, r.int(3)?);
            }
        }
        // Open incidents and overdue reports: the incidents area's counts.
        for c in self.incident_counts_at(scope, now).await? {
            if let Some(o) = index.get(&c.org.0).and_then(|&i| list.get_mut(i)) {
                o.open_incidents = c.open;
                o.overdue_reports = c.overdue;
            }
        }
        Ok(())
    }

    /// The weekly trend over the last `weeks` weeks (at most
    /// [`TREND_WEEKS`]) across the organisations in scope: past weeks are
    /// the sums of the weekly snapshots (each organisation's latest state
    /// in that week, gap-filled from its previous one at ingest); this
    /// week is the live summary of every organisation. Reads at most
    /// `weeks` aggregate rows: the summing is done by the database.
    pub async fn risk_trend(
        &self,
        scope: &Tenant,
        weeks: i64,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        let weeks = weeks.clamp(1, TREND_WEEKS);
        let now = now();
        let this_week = now / WEEK;
        let first = this_week - weeks + 1;
        let mut points: Vec<TrendPoint> = (first..=this_week)
            .map(|w| TrendPoint {
                week_start: w * WEEK,
                critical: 0,
                high: 0,
                ce_14_day: 0,
                not_ready: 0,
                detections: 0,
            })
            .collect();
        let rows = self
            .db
            .query(
                "SELECT week, CAST(SUM(critical) AS BIGINT), CAST(SUM(high) AS BIGINT), CAST(SUM(ce_14_day) AS BIGINT), \
                 CAST(SUM(not_ready) AS BIGINT), CAST(SUM(detections) AS BIGINT) FROM org_weekly \
                 WHERE week >= $1 AND week < $2 AND ($3 IS NULL OR org_id = $3) GROUP BY week",
                vec![first.into(), this_week.into(), scope.filter()],
            )
            .await?;
        for r in &rows {
            let i = usize::try_from(r.int(0)? - first).ok();
            if let Some(p) = i.and_then(|i| points.get_mut(i)) {
                add(p, [r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?, r.int(5)?]);
            }
        }
        let live = self
            .db
            .query(
                "SELECT CAST(COALESCE(SUM(critical), 0) AS BIGINT), CAST(COALESCE(SUM(high), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(ce_14_day), 0) AS BIGINT), CAST(COALESCE(SUM(not_ready), 0) AS BIGINT), \
                 (SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM detection_hours WHERE hour >= $2 AND ($1 IS NULL OR org_id = $1)) \
                 FROM org_summary WHERE ($1 IS NULL OR org_id = $1)",
                vec![scope.filter(), ((now - WEEK) / 3600).into()],
            )
            .await?;
        if let (Some(r), Some(p)) = (live.first(), points.last_mut()) {
            add(p, [r.int(0)?, r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?]);
        }
        Ok(points)
    }

    /// The organisation page's data. `NotFound` when the organisation is
    /// not in scope.
    pub async fn org_detail(&self, scope: &Tenant, org: OrgId) -> Result<OrgDetail, StoreError> {
        const SQL: &str = concat!(
            "SELECT o.id, o.name, o.sector, o.size, s.hosts, s.projects, s.assessed, s.not_ready, s.auto_fails, ",
            "s.checks_failed, s.vulns, s.critical, s.high, s.ce_14_day, s.practice_min, s.last_seen ",
            "FROM organisations o LEFT JOIN org_summary s ON s.org_id = o.id ",
            "WHERE o.id = $1 AND ($2 IS NULL OR o.id = $2)"
        );
        let rows = self
            .db
            .query(SQL, vec![org.0.into(), scope.filter()])
            .await?;
        let mut risk = vec![risk_from_row(rows.first().ok_or(StoreError::NotFound)?)?];
        // The organisation is in scope: from here on, filter by it alone.
        let only = Tenant(super::Scope::Org(org));
        self.fill_live_counts(&only, &mut risk).await?;
        let risk = risk.pop().ok_or(StoreError::NotFound)?;

        let rows = self
            .db
            .query(
                "SELECT a.id, a.name, a.kind, a.last_seen, s.verdict, s.checks_failed, s.vulns, s.critical, s.high, \
                 s.ce_14_day, s.detections, s.components, s.practice_score \
                 FROM assets a LEFT JOIN asset_state s ON s.asset_id = a.id \
                 WHERE a.org_id = $1 ORDER BY a.kind, a.name LIMIT 5000",
                vec![org.0.into()],
            )
            .await?;
        let assets = rows
            .iter()
            .map(|r| {
                Ok(AssetSummary {
                    id: r.int(0)?,
                    name: r.text(1)?,
                    kind: AssetKind::parse(&r.text(2)?)
                        .ok_or_else(|| StoreError::Corrupt("bad asset kind".into()))?,
                    last_seen: r.int(3)?,
                    verdict: r.opt_text(4)?,
                    checks_failed: r.opt_int(5)?.unwrap_or(0),
                    vulns: r.opt_int(6)?.unwrap_or(0),
                    critical: r.opt_int(7)?.unwrap_or(0),
                    high: r.opt_int(8)?.unwrap_or(0),
                    ce_14_day: r.opt_int(9)?.unwrap_or(0),
                    detections: r.opt_int(10)?.unwrap_or(0),
                    components: r.opt_int(11)?.unwrap_or(0),
                    practice_score: r.opt_int(12)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let rows = self
            .db
            .query(
                "SELECT c.check_id, c.control, c.title, c.status, c.auto_fail, c.fix, a.name \
                 FROM checks c JOIN assets a ON a.id = c.asset_id \
                 WHERE c.org_id = $1 ORDER BY c.check_id, a.name LIMIT 20000",
                vec![org.0.into()],
            )
            .await?;
        let mut checks: Vec<FailingCheck> = Vec::new();
        for r in &rows {
            let (id, status) = (r.text(0)?, r.text(3)?);
            let asset = r.text(6)?;
            match checks
                .iter_mut()
                .find(|c| c.check_id == id && c.status == status)
            {
                Some(c) => c.assets.push(asset),
                None => checks.push(FailingCheck {
                    check_id: id,
                    control: r.text(1)?,
                    title: r.text(2)?,
                    status,
                    auto_fail: r.int(4)? != 0,
                    fix: r.opt_text(5)?,
                    assets: vec![asset],
                }),
            }
        }
        let status_rank = |s: &str| match s {
            "fail" => 0,
            "unknown" => 1,
            _ => 2,
        };
        checks.sort_by(|a, b| {
            (
                status_rank(&a.status),
                !(a.auto_fail && a.status == "fail"),
                control_index(&a.control),
                &a.check_id,
            )
                .cmp(&(
                    status_rank(&b.status),
                    !(b.auto_fail && b.status == "fail"),
                    control_index(&b.control),
                    &b.check_id,
                ))
        });

        let rows = self
            .db
            .query(
                "SELECT name_key, MIN(package), MIN(ecosystem), COUNT(DISTINCT asset_id), COUNT(DISTINCT vuln_id), \
                 MIN(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 WHEN 'none' THEN 4 ELSE 5 END) AS worst, \
                 COUNT(CASE WHEN ce_14_day = 1 THEN 1 END) AS breaches \
                 FROM findings WHERE org_id = $1 AND suppressed = 0 \
                 GROUP BY name_key ORDER BY breaches DESC, worst, 4 DESC, name_key LIMIT 200",
                vec![org.0.into()],
            )
            .await?;
        let packages = rows
            .iter()
            .map(|r| {
                Ok(VulnerablePackage {
                    key: r.text(0)?,
                    package: r.text(1)?,
                    ecosystem: r.text(2)?,
                    assets: r.int(3)?,
                    vulns: r.int(4)?,
                    worst: rank_name(r.int(5)?),
                    ce_14_day: r.int(6)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let rows = self
            .db
            .query(
                "SELECT d.org_id, a.name, d.rule_id, d.title, d.level, d.at, d.host, d.source_ip, d.user_name \
                 FROM detections d JOIN assets a ON a.id = d.asset_id \
                 WHERE d.org_id = $1 ORDER BY d.at DESC, d.id DESC LIMIT 100",
                vec![org.0.into()],
            )
            .await?;
        let detections = rows
            .iter()
            .map(detection_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrgDetail {
            risk,
            assets,
            checks,
            packages,
            detections,
        })
    }

    /// The assets of `org` running the package `name` (case-insensitive; a
    /// distribution source package name matches its binary packages): from
    /// scans (with the vulnerabilities) and SBOMs. `NotFound` when the
    /// organisation is not in scope.
    pub async fn package_assets(
        &self,
        scope: &Tenant,
        org: OrgId,
        name: &str,
    ) -> Result<Vec<PackageOnAsset>, StoreError> {
        if !scope.covers(org) {
            return Err(StoreError::NotFound);
        }
        let key = name.trim().to_lowercase();
        let rows = self
            .db
            .query(
                "SELECT a.name, f.package, f.version, f.vuln_id, f.severity, f.upgrade_to, f.ce_14_day \
                 FROM findings f JOIN assets a ON a.id = f.asset_id \
                 WHERE f.org_id = $1 AND f.name_key = $2 AND f.suppressed = 0 \
                 UNION ALL \
                 SELECT a.name, f.package, f.version, f.vuln_id, f.severity, f.upgrade_to, f.ce_14_day \
                 FROM findings f JOIN assets a ON a.id = f.asset_id \
                 WHERE f.org_id = $1 AND f.source_key = $2 AND f.name_key <> $2 AND f.suppressed = 0 \
                 ORDER BY 1, 2, 3, 4 LIMIT 5000",
                vec![org.0.into(), key.as_str().into()],
            )
            .await?;
        let mut out: Vec<PackageOnAsset> = Vec::new();
        for r in &rows {
            let (asset, package, version) = (r.text(0)?, r.text(1)?, r.text(2)?);
            let severity = r.text(4)?;
            let idx = out
                .iter()
                .position(|p| p.asset == asset && p.package == package && p.version == version);
            let entry = match idx.and_then(|i| out.get_mut(i)) {
                Some(e) => e,
                None => {
                    out.push(PackageOnAsset {
                        asset,
                        package,
                        version,
                        vulns: Vec::new(),
                        worst: None,
                        upgrade_to: None,
                        ce_14_day: false,
                    });
                    match out.last_mut() {
                        Some(e) => e,
                        None => continue,
                    }
                }
            };
            entry.vulns.push(r.text(3)?);
            let rank = |s: &str| SEVERITY_RANK.iter().position(|x| *x == s).unwrap_or(5);
            if entry
                .worst
                .as_deref()
                .is_none_or(|w| rank(&severity) < rank(w))
            {
                entry.worst = Some(severity);
            }
            if let Some(u) = r.opt_text(5)? {
                entry.upgrade_to = Some(u);
            }
            entry.ce_14_day |= r.int(6)? != 0;
        }
        let rows = self
            .db
            .query(
                "SELECT a.name, c.name, c.version FROM components c JOIN assets a ON a.id = c.asset_id \
                 WHERE c.org_id = $1 AND c.name_key = $2 ORDER BY a.name, c.version LIMIT 5000",
                vec![org.0.into(), key.as_str().into()],
            )
            .await?;
        for r in &rows {
            let (asset, package, version) = (r.text(0)?, r.text(1)?, r.text(2)?);
            if !out.iter().any(|p| p.asset == asset && p.version == version) {
                out.push(PackageOnAsset {
                    asset,
                    package,
                    version,
                    vulns: Vec::new(),
                    worst: None,
                    upgrade_to: None,
                    ce_14_day: false,
                });
            }
        }
        Ok(out)
    }

    /// Searches the organisations in scope for a package name, a
    /// vulnerability ID (CVE, GHSA, OSV…, matching aliases too) or an IP
    /// address (detections' source addresses), grouped by organisation.
    pub async fn search(
        &self,
        scope: &Tenant,
        query: &str,
    ) -> Result<Vec<SearchGroup>, StoreError> {
        let q = query.trim();
        if q.is_empty() || q.len() > 200 {
            return Ok(Vec::new());
        }
        let mut hits: Vec<(OrgId, Hit)> = Vec::new();
        if let Ok(ip) = q.parse::<std::net::IpAddr>() {
            let rows = self
                .db
                .query(
                    "SELECT d.org_id, a.name, d.rule_id, d.title, d.level, d.at, d.host, d.source_ip, d.user_name \
                     FROM detections d JOIN assets a ON a.id = d.asset_id \
                     WHERE d.source_ip = $1 AND ($2 IS NULL OR d.org_id = $2) ORDER BY d.org_id, d.at DESC LIMIT $3",
                    vec![ip.to_string().into(), scope.filter(), SEARCH_LIMIT.into()],
                )
                .await?;
            for r in &rows {
                let d = detection_from_row(r)?;
                hits.push((d.org, Hit::Detection(d)));
            }
        } else {
            let rows = self
                .db
                .query(
                    "SELECT i.org_id, a.name, i.package, i.version, i.vuln_id, i.severity \
                     FROM finding_ids i JOIN assets a ON a.id = i.asset_id \
                     WHERE i.vuln_key = $1 AND ($2 IS NULL OR i.org_id = $2) ORDER BY i.org_id, a.name LIMIT $3",
                    vec![q.to_uppercase().into(), scope.filter(), SEARCH_LIMIT.into()],
                )
                .await?;
            for r in &rows {
                hits.push(finding_hit(r)?);
            }
            let key = q.to_lowercase();
            let rows = self
                .db
                .query(
                    "SELECT f.org_id, a.name, f.package, f.version, f.vuln_id, f.severity \
                     FROM findings f JOIN assets a ON a.id = f.asset_id \
                     WHERE f.name_key = $1 AND f.suppressed = 0 AND ($2 IS NULL OR f.org_id = $2) \
                     UNION ALL \
                     SELECT f.org_id, a.name, f.package, f.version, f.vuln_id, f.severity \
                     FROM findings f JOIN assets a ON a.id = f.asset_id \
                     WHERE f.source_key = $1 AND f.name_key <> $1 AND f.suppressed = 0 AND ($2 IS NULL OR f.org_id = $2) \
                     ORDER BY 1, 2 LIMIT $3",
                    vec![key.as_str().into(), scope.filter(), SEARCH_LIMIT.into()],
                )
                .await?;
            for r in &rows {
                hits.push(finding_hit(r)?);
            }
            let rows = self
                .db
                .query(
                    "SELECT c.org_id, a.name, c.name, c.version FROM components c JOIN assets a ON a.id = c.asset_id \
                     WHERE c.name_key = $1 AND ($2 IS NULL OR c.org_id = $2) ORDER BY c.org_id, a.name LIMIT $3",
                    vec![key.as_str().into(), scope.filter(), SEARCH_LIMIT.into()],
                )
                .await?;
            for r in &rows {
                hits.push((
                    OrgId(r.int(0)?),
                    Hit::Component {
                        asset: r.text(1)?,
                        package: r.text(2)?,
                        version: r.text(3)?,
                    },
                ));
            }
        }
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let names: std::collections::HashMap<i64, String> = self
            .list_organisations(scope)
            .await?
            .into_iter()
            .map(|o| (o.id.0, o.name))
            .collect();
        let mut groups: BTreeMap<i64, SearchGroup> = BTreeMap::new();
        for (org, hit) in hits {
            // Scope was applied in SQL; an organisation missing here is not
            // in scope and is dropped (defence in depth).
            let Some(name) = names.get(&org.0) else {
                continue;
            };
            groups
                .entry(org.0)
                .or_insert_with(|| SearchGroup {
                    org,
                    org_name: name.clone(),
                    hits: Vec::new(),
                })
                .hits
                .push(hit);
        }
        let mut out: Vec<SearchGroup> = groups.into_values().collect();
        out.sort_by(|a, b| a.org_name.cmp(&b.org_name));
        Ok(out)
    }
}

fn add(p: &mut TrendPoint, c: [i64; 5]) {
    p.critical += c[0];
    p.high += c[1];
    p.ce_14_day += c[2];
    p.not_ready += c[3];
    p.detections += c[4];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_and_junk_does_not() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2026-03-28T06:30:11Z"), Some(1_774_679_411));
        assert_eq!(
            parse_rfc3339("2019-04-30T19:27:12.549274Z"),
            Some(1_556_652_432)
        );
        assert_eq!(
            parse_rfc3339("2026-03-28T07:30:11+01:00"),
            Some(1_774_679_411)
        );
        for bad in [
            "",
            "2026-03-28",
            "2026-13-01T00:00:00Z",
            "2026-03-28T06:30:11",
            "２０２６-03-28T06:30:11Z",
            "2026-03-28T06:30:11Zjunk",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn nested_cyclonedx_components_are_all_found() {
        let doc = serde_json::json!({"bomFormat": "CycloneDX", "components": [
            {"name": "a", "version": "1", "components": [{"name": "b", "group": "g", "version": "2", "purl": "pkg:x/b@2"}]},
            {"version": "nameless"}
        ]});
        assert_eq!(
            sbom_components(&doc),
            vec![
                ("a".into(), "1".into(), None),
                ("g/b".into(), "2".into(), Some("pkg:x/b@2".into()))
            ]
        );
    }
}
