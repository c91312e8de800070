//! Store functions: Cyber Essentials certification and funded support.
//!
//! Who sees an application is decided in ONE place, [`CertView::of`]: an
//! organisation's members and admins see their own organisation's
//! applications (drafts included); an assessor sees every organisation's
//! applications once submitted (never a draft) and nothing else of those
//! organisations; analysts and site admins see all. Every application query
//! binds the two values [`CertView::filter`] returns.
//!
//! The domain types live in [`crate::web::certification`] and
//! [`crate::web::support`] (this module is private to `store`).

use std::collections::HashMap;

use serde::Deserialize;

use super::outbox;
use super::{audit, OrgId, Store, User};
use crate::db::{Row, Tx, Value};
use crate::web::certification::{
    add_months, questionnaire, AnswerEvidence, Application, ApplicationDetail, CeAnswer, CeState,
    Certificate, CheckSeen, Clarification, HostEvidence, Question, QuestionKind,
    EVIDENCE_HOSTS_KEPT,
};
use crate::web::support::{
    evaluate, seed_rules, RuleInput, SupportApplication, SupportInput, SupportRule, SupportState,
};
use crate::{now, Role, StoreError};

/// Longest free-text answer, note, request or response (characters).
pub(crate) const MAX_TEXT: usize = 4000;
/// Most hosts whose latest assessment is read for evidence.
const MAX_EVIDENCE_HOSTS: i64 = 2000;
/// Days before expiry at which a renewal reminder is sent, once each.
pub const REMINDER_DAYS: [i64; 3] = [60, 30, 7];
/// Funded-support applications accepted per contact e-mail per day, and
/// service-wide per hour (the public form's rate limit).
const SUPPORT_PER_EMAIL_PER_DAY: i64 = 3;
const SUPPORT_PER_HOUR: i64 = 200;

/// What a user may see of certification: the single scoping rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertView {
    /// Their own organisation's applications, drafts included.
    Org(OrgId),
    /// Every organisation's applications once submitted; never a draft.
    /// (The assessor's own organisation is kept to refuse self-assessment.)
    Assessor(OrgId),
    /// Everything (analysts, site admins).
    All,
}

impl CertView {
    /// The one function that decides what a user sees of certification.
    pub(crate) fn of(user: &User) -> CertView {
        match user.role {
            Role::Member | Role::OrgAdmin => CertView::Org(user.org),
            Role::Assessor => CertView::Assessor(user.org),
            Role::Analyst | Role::SiteAdmin => CertView::All,
        }
    }

    /// `(org filter, drafts visible)` for `($o IS NULL OR a.org_id = $o) AND ($d = 1 OR a.state <> 'draft')`.
    fn filter(self) -> (Value, Value) {
        match self {
            CertView::Org(o) => (Value::Int(o.0), Value::Int(1)),
            CertView::Assessor(_) => (Value::Null, Value::Int(0)),
            CertView::All => (Value::Null, Value::Int(1)),
        }
    }
}

fn actor(user: &User) -> String {
    format!("user:{}", user.email)
}

fn invalid(m: impl Into<String>) -> StoreError {
    StoreError::Invalid(m.into())
}

fn check_len(what: &str, s: &str) -> Result<(), StoreError> {
    if s.chars().count() > MAX_TEXT {
        Err(invalid(format!(
            "{what} is longer than {MAX_TEXT} characters: shorten it"
        )))
    } else {
        Ok(())
    }
}

fn app_from_row(r: &Row) -> Result<Application, StoreError> {
    Ok(Application {
        id: r.int(0)?,
        org: OrgId(r.int(1)?),
        org_name: r.text(2)?,
        scheme: r.text(3)?,
        state: CeState::parse(&r.text(4)?)
            .ok_or_else(|| StoreError::Corrupt("bad application state".into()))?,
        created_by: r.text(5)?,
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
        submitted_at: r.opt_int(8)?,
        declared_by: r.opt_text(9)?,
        decided_at: r.opt_int(10)?,
        decided_by: r.opt_text(11)?,
        decision_reason: r.opt_text(12)?,
    })
}

fn cert_from_row(r: &Row) -> Result<Certificate, StoreError> {
    Ok(Certificate {
        id: r.int(0)?,
        org: OrgId(r.int(1)?),
        org_name: r.text(2)?,
        application_id: r.int(3)?,
        number: r.text(4)?,
        scheme: r.text(5)?,
        issued_at: r.int(6)?,
        expires_at: r.int(7)?,
    })
}

/// The part of a stored assessment body that evidence needs.
#[derive(Deserialize)]
struct AssessmentBody {
    /// `checks` in `portcullis assess --format json` (what agents send);
    /// `results` in the API's older shape.
    #[serde(default, alias = "checks")]
    results: Vec<LightCheck>,
}

#[derive(Deserialize)]
struct LightCheck {
    id: String,
    #[serde(default)]
    title: String,
    status: String,
}

/// What the agents' latest assessments show for one question.
fn evidence_for(
    q: &Question,
    hosts: &[(String, i64, i64, Vec<LightCheck>)],
) -> Option<AnswerEvidence> {
    if q.checks.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    for (host, sub_id, received_at, results) in hosts {
        let seen: Vec<CheckSeen> = results
            .iter()
            .filter(|c| q.checks.iter().any(|id| id == &c.id))
            .map(|c| CheckSeen {
                id: c.id.clone(),
                title: c.title.chars().take(300).collect(),
                status: c.status.chars().take(40).collect(),
            })
            .collect();
        if seen.is_empty() {
            continue;
        }
        let status = if seen.iter().any(|c| c.status == "fail") {
            "fail"
        } else if seen.iter().all(|c| c.status == "pass") {
            "pass"
        } else {
            "undecided"
        };
        out.push(HostEvidence {
            host: host.clone(),
            submission_id: *sub_id,
            received_at: *received_at,
            status: status.to_owned(),
            checks: seen,
        });
    }
    if out.is_empty() {
        return None;
    }
    let passed = out.iter().filter(|h| h.status == "pass").count();
    let failed = out.iter().filter(|h| h.status == "fail").count();
    let undecided = out.len() - passed - failed;
    let suggested = if failed > 0 {
        "no"
    } else if undecided == 0 {
        "yes"
    } else {
        ""
    };
    // Failing hosts first (what an assessor needs to see), then undecided;
    // the list is bounded, the counts cover every host.
    out.sort_by_key(|h| match h.status.as_str() {
        "fail" => 0,
        "undecided" => 1,
        _ => 2,
    });
    out.truncate(EVIDENCE_HOSTS_KEPT);
    Some(AnswerEvidence {
        suggested: suggested.to_owned(),
        passed,
        failed,
        undecided,
        hosts: out,
    })
}

impl Store {
    // ---------------------------------------------------------------- reading

    async fn ce_app_in_tx(tx: &mut Tx, view: CertView, id: i64) -> Result<Application, StoreError> {
        let (org, drafts) = view.filter();
        let rows = tx
            .query(
                "SELECT a.id, a.org_id, o.name, a.scheme, a.state, a.created_by, a.created_at, a.updated_at, a.submitted_at, a.declared_by, a.decided_at, a.decided_by, a.decision_reason FROM ce_applications a JOIN organisations o ON o.id = a.org_id WHERE a.id = $1 AND ($2 IS NULL OR a.org_id = $2) AND ($3 = 1 OR a.state <> 'draft')",
                vec![id.into(), org, drafts],
            )
            .await?;
        app_from_row(rows.first().ok_or(StoreError::NotFound)?)
    }

    /// The applications `user` may see, newest first.
    pub async fn ce_list_applications(&self, user: &User) -> Result<Vec<Application>, StoreError> {
        let (org, drafts) = CertView::of(user).filter();
        let rows = self
            .db
            .query(
                "SELECT a.id, a.org_id, o.name, a.scheme, a.state, a.created_by, a.created_at, a.updated_at, a.submitted_at, a.declared_by, a.decided_at, a.decided_by, a.decision_reason FROM ce_applications a JOIN organisations o ON o.id = a.org_id WHERE ($1 IS NULL OR a.org_id = $1) AND ($2 = 1 OR a.state <> 'draft') ORDER BY a.id DESC LIMIT 1000",
                vec![org, drafts],
            )
            .await?;
        rows.iter().map(app_from_row).collect()
    }

    /// One application with its answers, clarifications and certificate.
    /// Outside the user's view it is `NotFound`.
    pub async fn ce_application(
        &self,
        user: &User,
        id: i64,
    ) -> Result<ApplicationDetail, StoreError> {
        let mut tx = self.db.begin().await?;
        let app = Self::ce_app_in_tx(&mut tx, CertView::of(user), id).await?;
        let answers = tx
            .query(
                "SELECT question_id, answer, note, source, evidence, updated_by, updated_at FROM ce_answers WHERE application_id = $1 ORDER BY question_id",
                vec![id.into()],
            )
            .await?
            .iter()
            .map(|r| {
                let evidence = match r.opt_text(4)? {
                    Some(t) => Some(
                        serde_json::from_str::<AnswerEvidence>(&t)
                            .map_err(|e| StoreError::Corrupt(format!("evidence: {e}")))?,
                    ),
                    None => None,
                };
                Ok(CeAnswer {
                    question_id: r.text(0)?,
                    answer: r.text(1)?,
                    note: r.text(2)?,
                    source: r.text(3)?,
                    evidence,
                    updated_by: r.text(5)?,
                    updated_at: r.int(6)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let clarifications = Self::clarifications_in_tx(&mut tx, id).await?;
        let certificate = tx
            .query(
                "SELECT c.id, c.org_id, o.name, c.application_id, c.number, c.scheme, c.issued_at, c.expires_at FROM ce_certificates c JOIN organisations o ON o.id = c.org_id WHERE c.application_id = $1",
                vec![id.into()],
            )
            .await?
            .first()
            .map(cert_from_row)
            .transpose()?;
        tx.commit().await?;
        Ok(ApplicationDetail {
            app,
            answers: answers
                .into_iter()
                .map(|a| (a.question_id.clone(), a))
                .collect(),
            clarifications,
            certificate,
        })
    }

    async fn clarifications_in_tx(tx: &mut Tx, id: i64) -> Result<Vec<Clarification>, StoreError> {
        tx.query(
            "SELECT id, question_id, request, asked_by, asked_at, response, answered_by, answered_at FROM ce_clarifications WHERE application_id = $1 ORDER BY id",
            vec![id.into()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Clarification {
                id: r.int(0)?,
                question_id: r.text(1)?,
                request: r.text(2)?,
                asked_by: r.text(3)?,
                asked_at: r.int(4)?,
                response: r.opt_text(5)?,
                answered_by: r.opt_text(6)?,
                answered_at: r.opt_int(7)?,
            })
        })
        .collect()
    }

    /// The certificates `user` may see (an organisation's own; every
    /// certificate for assessors and the cyber unit), newest first.
    pub async fn ce_certificates(&self, user: &User) -> Result<Vec<Certificate>, StoreError> {
        let (org, _) = CertView::of(user).filter();
        let rows = self
            .db
            .query(
                "SELECT c.id, c.org_id, o.name, c.application_id, c.number, c.scheme, c.issued_at, c.expires_at FROM ce_certificates c JOIN organisations o ON o.id = c.org_id WHERE ($1 IS NULL OR c.org_id = $1) ORDER BY c.issued_at DESC, c.id DESC LIMIT 1000",
                vec![org],
            )
            .await?;
        rows.iter().map(cert_from_row).collect()
    }

    // ---------------------------------------------------------------- evidence

    /// Every host's latest assessment in `org`: (host, submission, received, results).
    async fn latest_assessments(
        tx: &mut Tx,
        org: OrgId,
    ) -> Result<Vec<(String, i64, i64, Vec<LightCheck>)>, StoreError> {
        let ids = tx
            .query(
                "SELECT MAX(id) FROM submissions WHERE org_id = $1 AND kind = 'assessment' GROUP BY host ORDER BY MAX(id) DESC LIMIT $2",
                vec![org.0.into(), MAX_EVIDENCE_HOSTS.into()],
            )
            .await?;
        let mut out = Vec::new();
        for r in &ids {
            let id = r.int(0)?;
            let rows = tx
                .query(
                    "SELECT host, received_at, body FROM submissions WHERE id = $1 AND org_id = $2",
                    vec![id.into(), org.0.into()],
                )
                .await?;
            let Some(row) = rows.first() else { continue };
            // A body that does not parse (it was validated at ingest, so this
            // means a newer format) contributes no evidence rather than failing.
            let results = serde_json::from_str::<AssessmentBody>(&row.text(2)?)
                .map(|b| b.results)
                .unwrap_or_default();
            out.push((row.text(0)?, id, row.int(1)?, results));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Fills or refreshes agent evidence for every question of application
    /// `id` (of `org`). Answers the organisation set itself keep their
    /// value; agent answers follow the evidence. Returns how many questions
    /// have evidence.
    async fn prefill_in_tx(
        tx: &mut Tx,
        org: OrgId,
        id: i64,
        who: &str,
    ) -> Result<usize, StoreError> {
        let qs = questionnaire()?;
        let hosts = Self::latest_assessments(tx, org).await?;
        let existing: HashMap<String, (String, String)> = tx
            .query(
                "SELECT question_id, answer, source FROM ce_answers WHERE application_id = $1",
                vec![id.into()],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text(0)?, (r.text(1)?, r.text(2)?))))
            .collect::<Result<_, StoreError>>()?;
        let at = now();
        let mut n = 0;
        for q in &qs.questions {
            let ev = evidence_for(q, &hosts);
            let ev_text = match &ev {
                Some(e) => {
                    Some(serde_json::to_string(e).map_err(|e| StoreError::Corrupt(e.to_string()))?)
                }
                None => None,
            };
            if ev.is_some() {
                n += 1;
            }
            match existing.get(&q.id) {
                Some((_, source)) if source == "org" => {
                    tx.query(
                        "UPDATE ce_answers SET evidence = $1 WHERE application_id = $2 AND question_id = $3",
                        vec![ev_text.as_deref().into(), id.into(), q.id.as_str().into()],
                    )
                    .await?;
                }
                Some(_) => {
                    let answer = ev.as_ref().map_or("", |e| e.suggested.as_str());
                    tx.query(
                        "UPDATE ce_answers SET evidence = $1, answer = $2, updated_by = $3, updated_at = $4 WHERE application_id = $5 AND question_id = $6",
                        vec![
                            ev_text.as_deref().into(),
                            answer.into(),
                            who.into(),
                            at.into(),
                            id.into(),
                            q.id.as_str().into(),
                        ],
                    )
                    .await?;
                }
                None => {
                    if let Some(e) = &ev {
                        tx.query(
                            "INSERT INTO ce_answers (application_id, question_id, answer, note, source, evidence, updated_by, updated_at) VALUES ($1, $2, $3, '', 'agent', $4, $5, $6)",
                            vec![
                                id.into(),
                                q.id.as_str().into(),
                                e.suggested.as_str().into(),
                                ev_text.as_deref().into(),
                                who.into(),
                                at.into(),
                            ],
                        )
                        .await?;
                    }
                }
            }
        }
        Ok(n)
    }

    // ---------------------------------------------------------------- changes

    /// Opens a new self-assessment for the user's organisation (org admins
    /// only), pre-filled from its hosts' latest assessments. One open
    /// application per organisation.
    pub async fn ce_open_application(&self, user: &User) -> Result<i64, StoreError> {
        if user.role != Role::OrgAdmin {
            return Err(StoreError::Forbidden);
        }
        let qs = questionnaire()?;
        let who = actor(user);
        let at = now();
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "INSERT INTO ce_applications (org_id, scheme, state, created_by, created_at, updated_at) VALUES ($1, $2, 'draft', $3, $4, $4) RETURNING id",
                vec![user.org.0.into(), qs.scheme.as_str().into(), who.as_str().into(), at.into()],
            )
            .await
            .map_err(|e| {
                e.conflict_as(
                    "the organisation already has an open application: finish or withdraw it first",
                )
            })?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        let n = Self::prefill_in_tx(&mut tx, user.org, id, "agent evidence").await?;
        audit(
            &mut tx,
            Some(user.org),
            &who,
            "certification.open",
            &format!("application {id}; {n} questions with agent evidence"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Loads an application for a change by its own organisation.
    async fn ce_for_org_change(
        tx: &mut Tx,
        user: &User,
        id: i64,
    ) -> Result<Application, StoreError> {
        let app = Self::ce_app_in_tx(tx, CertView::of(user), id).await?;
        if !matches!(user.role, Role::Member | Role::OrgAdmin) || app.org != user.org {
            return Err(StoreError::Forbidden);
        }
        Ok(app)
    }

    /// Loads an application for an assessor's decision.
    async fn ce_for_assessor(tx: &mut Tx, user: &User, id: i64) -> Result<Application, StoreError> {
        let app = Self::ce_app_in_tx(tx, CertView::of(user), id).await?;
        if user.role != Role::Assessor {
            return Err(StoreError::Forbidden);
        }
        if app.org == user.org {
            return Err(invalid(
                "an assessor cannot review their own organisation's application",
            ));
        }
        if app.state != CeState::Submitted {
            return Err(StoreError::Conflict(format!(
                "the application is {}, not awaiting review",
                app.state.label()
            )));
        }
        Ok(app)
    }

    /// Saves answers `(question ID, answer, note)`. In a draft any question
    /// may be answered (members and org admins); while clarification is
    /// requested, only the questions the assessor asked about.
    pub async fn ce_save_answers(
        &self,
        user: &User,
        id: i64,
        answers: &[(String, String, String)],
    ) -> Result<usize, StoreError> {
        let qs = questionnaire()?;
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_org_change(&mut tx, user, id).await?;
        let open_questions: Vec<String> = match app.state {
            CeState::Draft => Vec::new(),
            CeState::Clarification => Self::clarifications_in_tx(&mut tx, id)
                .await?
                .into_iter()
                .filter(|c| c.response.is_none())
                .map(|c| c.question_id)
                .collect(),
            _ => {
                return Err(StoreError::Conflict(format!(
                    "the application is {}: answers can no longer be changed",
                    app.state.label()
                )))
            }
        };
        let existing: HashMap<String, (String, String)> = tx
            .query(
                "SELECT question_id, answer, note FROM ce_answers WHERE application_id = $1",
                vec![id.into()],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text(0)?, (r.text(1)?, r.text(2)?))))
            .collect::<Result<_, StoreError>>()?;
        let at = now();
        let mut changed = Vec::new();
        for (qid, answer, note) in answers {
            let q = qs
                .question(qid)
                .ok_or_else(|| invalid(format!("there is no question {qid}")))?;
            let answer = answer.trim();
            let note = note.trim();
            check_len(&format!("The answer to {qid}"), answer)?;
            check_len(&format!("The note on {qid}"), note)?;
            if q.kind == QuestionKind::YesNo
                && !(answer.is_empty()
                    || answer == "yes"
                    || answer == "no"
                    || (q.allow_na && answer == "not_applicable"))
            {
                return Err(invalid(format!(
                    "{qid}: answer yes or no{}",
                    if q.allow_na { " or not applicable" } else { "" }
                )));
            }
            let (old_answer, old_note) = existing
                .get(qid)
                .map_or(("", ""), |(a, n)| (a.as_str(), n.as_str()));
            if old_answer == answer && old_note == note {
                continue;
            }
            if app.state == CeState::Clarification && !open_questions.iter().any(|o| o == qid) {
                return Err(invalid(format!(
                    "{qid}: while clarification is requested only the questions asked about can change"
                )));
            }
            if existing.contains_key(qid) {
                if old_answer == answer {
                    tx.query(
                        "UPDATE ce_answers SET note = $1, updated_by = $2, updated_at = $3 WHERE application_id = $4 AND question_id = $5",
                        vec![note.into(), who.as_str().into(), at.into(), id.into(), qid.as_str().into()],
                    )
                    .await?;
                } else {
                    tx.query(
                        "UPDATE ce_answers SET answer = $1, note = $2, source = 'org', updated_by = $3, updated_at = $4 WHERE application_id = $5 AND question_id = $6",
                        vec![answer.into(), note.into(), who.as_str().into(), at.into(), id.into(), qid.as_str().into()],
                    )
                    .await?;
                }
            } else {
                tx.query(
                    "INSERT INTO ce_answers (application_id, question_id, answer, note, source, updated_by, updated_at) VALUES ($1, $2, $3, $4, 'org', $5, $6)",
                    vec![id.into(), qid.as_str().into(), answer.into(), note.into(), who.as_str().into(), at.into()],
                )
                .await?;
            }
            changed.push(qid.as_str());
        }
        if !changed.is_empty() {
            tx.query(
                "UPDATE ce_applications SET updated_at = $1 WHERE id = $2",
                vec![at.into(), id.into()],
            )
            .await?;
            audit(
                &mut tx,
                Some(app.org),
                &who,
                "certification.answers",
                &format!("application {id}: {}", changed.join(", ")),
            )
            .await?;
        }
        let n = changed.len();
        tx.commit().await?;
        Ok(n)
    }

    /// Re-reads the hosts' latest assessments into a draft's evidence.
    pub async fn ce_refresh_evidence(&self, user: &User, id: i64) -> Result<usize, StoreError> {
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_org_change(&mut tx, user, id).await?;
        if app.state != CeState::Draft {
            return Err(StoreError::Conflict(
                "evidence can be refreshed only while the application is a draft".into(),
            ));
        }
        let n = Self::prefill_in_tx(&mut tx, app.org, id, "agent evidence").await?;
        audit(
            &mut tx,
            Some(app.org),
            &who,
            "certification.refresh",
            &format!("application {id}; {n} questions with agent evidence"),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Records the organisation's responses to open clarification requests
    /// `(clarification ID, response)`.
    pub async fn ce_respond(
        &self,
        user: &User,
        id: i64,
        responses: &[(i64, String)],
    ) -> Result<usize, StoreError> {
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_org_change(&mut tx, user, id).await?;
        if app.state != CeState::Clarification {
            return Err(StoreError::Conflict(
                "no clarification is awaiting an answer".into(),
            ));
        }
        let open: Vec<i64> = Self::clarifications_in_tx(&mut tx, id)
            .await?
            .into_iter()
            .filter(|c| c.response.is_none())
            .map(|c| c.id)
            .collect();
        let at = now();
        let mut n = 0;
        for (cid, text) in responses {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            check_len("A response", text)?;
            if !open.contains(cid) {
                return Err(invalid(format!(
                    "clarification {cid} is not open on this application"
                )));
            }
            tx.query(
                "UPDATE ce_clarifications SET response = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND application_id = $5",
                vec![text.into(), who.as_str().into(), at.into(), (*cid).into(), id.into()],
            )
            .await?;
            n += 1;
        }
        if n > 0 {
            audit(
                &mut tx,
                Some(app.org),
                &who,
                "certification.respond",
                &format!("application {id}: {n} clarification responses"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Submits a draft (or resubmits after clarification) for assessment.
    /// Org admins only; every required question must be answered, every
    /// clarification responded to, and a board-level person named.
    pub async fn ce_submit(
        &self,
        user: &User,
        id: i64,
        declared_by: &str,
    ) -> Result<(), StoreError> {
        if user.role != Role::OrgAdmin {
            return Err(StoreError::Forbidden);
        }
        let declared_by = declared_by.trim();
        if declared_by.is_empty() || declared_by.chars().count() > 200 {
            return Err(invalid(
                "name the board-level person who declares the answers true (up to 200 characters)",
            ));
        }
        let qs = questionnaire()?;
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_org_change(&mut tx, user, id).await?;
        if !matches!(app.state, CeState::Draft | CeState::Clarification) {
            return Err(StoreError::Conflict(format!(
                "the application is {}: it cannot be submitted",
                app.state.label()
            )));
        }
        let answered: HashMap<String, String> = tx
            .query(
                "SELECT question_id, answer FROM ce_answers WHERE application_id = $1",
                vec![id.into()],
            )
            .await?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<_, StoreError>>()?;
        let missing: Vec<&str> = qs
            .questions
            .iter()
            .filter(|q| q.required && answered.get(&q.id).is_none_or(|a| a.trim().is_empty()))
            .map(|q| q.id.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(invalid(format!(
                "answer every question before submitting; unanswered: {}",
                missing.join(", ")
            )));
        }
        if app.state == CeState::Clarification {
            let open = Self::clarifications_in_tx(&mut tx, id)
                .await?
                .into_iter()
                .filter(|c| c.response.is_none())
                .count();
            if open > 0 {
                return Err(invalid(format!(
                    "respond to every clarification request before resubmitting ({open} open)"
                )));
            }
        }
        let at = now();
        tx.query(
            "UPDATE ce_applications SET state = 'submitted', submitted_at = $1, updated_at = $1, declared_by = $2 WHERE id = $3",
            vec![at.into(), declared_by.into(), id.into()],
        )
        .await?;
        audit(
            &mut tx,
            Some(app.org),
            &who,
            "certification.submit",
            &format!(
                "application {id} {} → submitted; declared by {declared_by}",
                app.state.as_str()
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An assessor asks for clarification on questions `(question ID, request)`.
    pub async fn ce_request_clarification(
        &self,
        user: &User,
        id: i64,
        requests: &[(String, String)],
    ) -> Result<usize, StoreError> {
        let qs = questionnaire()?;
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_assessor(&mut tx, user, id).await?;
        let at = now();
        let mut asked = Vec::new();
        for (qid, text) in requests {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if qs.question(qid).is_none() {
                return Err(invalid(format!("there is no question {qid}")));
            }
            check_len("A clarification request", text)?;
            tx.query(
                "INSERT INTO ce_clarifications (application_id, question_id, request, asked_by, asked_at) VALUES ($1, $2, $3, $4, $5)",
                vec![id.into(), qid.as_str().into(), text.into(), who.as_str().into(), at.into()],
            )
            .await?;
            asked.push(qid.as_str());
        }
        if asked.is_empty() {
            return Err(invalid(
                "write a clarification request against at least one question",
            ));
        }
        tx.query(
            "UPDATE ce_applications SET state = 'clarification', updated_at = $1 WHERE id = $2",
            vec![at.into(), id.into()],
        )
        .await?;
        audit(
            &mut tx,
            Some(app.org),
            &who,
            "certification.clarify",
            &format!(
                "application {id} submitted → clarification: {}",
                asked.join(", ")
            ),
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            Some(app.org),
            "certification.clarification",
            &format!("Cyber Essentials application {id}: the assessor asks for clarification"),
            &format!(
                "The assessor asked about {}. Answer on the application's page and resubmit.",
                asked.join(", ")
            ),
        )
        .await?;
        let n = asked.len();
        tx.commit().await?;
        Ok(n)
    }

    /// An assessor passes or fails a submitted application, with reasons.
    /// A pass issues the certificate (12 months); it is refused while an
    /// automatic-fail question is answered "no".
    pub async fn ce_decide(
        &self,
        user: &User,
        id: i64,
        pass: bool,
        reason: &str,
    ) -> Result<Option<Certificate>, StoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid("give the reasons for the decision"));
        }
        check_len("The reasons", reason)?;
        let qs = questionnaire()?;
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let app = Self::ce_for_assessor(&mut tx, user, id).await?;
        if pass {
            let answers: HashMap<String, String> = tx
                .query(
                    "SELECT question_id, answer FROM ce_answers WHERE application_id = $1",
                    vec![id.into()],
                )
                .await?
                .iter()
                .map(|r| Ok((r.text(0)?, r.text(1)?)))
                .collect::<Result<_, StoreError>>()?;
            let auto_fails: Vec<&str> = qs
                .questions
                .iter()
                .filter(|q| q.auto_fail && answers.get(&q.id).is_some_and(|a| a == "no"))
                .map(|q| q.id.as_str())
                .collect();
            if !auto_fails.is_empty() {
                return Err(invalid(format!(
                    "cannot pass: automatic-fail questions answered no: {}",
                    auto_fails.join(", ")
                )));
            }
        }
        let at = now();
        let state = if pass { "passed" } else { "failed" };
        tx.query(
            "UPDATE ce_applications SET state = $1, decided_at = $2, decided_by = $3, decision_reason = $4, updated_at = $2 WHERE id = $5",
            vec![state.into(), at.into(), who.as_str().into(), reason.into(), id.into()],
        )
        .await?;
        audit(
            &mut tx,
            Some(app.org),
            &who,
            "certification.decide",
            &format!("application {id} submitted → {state}: {reason}"),
        )
        .await?;
        let mut cert = None;
        if pass {
            let expires = add_months(at, 12);
            let number = format!("PC-CE-{}-{id:06}", crate::web::certification::year_of(at));
            let rows = tx
                .query(
                    "INSERT INTO ce_certificates (org_id, application_id, number, scheme, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    vec![app.org.0.into(), id.into(), number.as_str().into(), app.scheme.as_str().into(), at.into(), expires.into()],
                )
                .await?;
            let cid = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
            audit(
                &mut tx,
                Some(app.org),
                &who,
                "certificate.issue",
                &format!("certificate {number} for application {id}, expires {expires}"),
            )
            .await?;
            outbox::enqueue(
                &mut tx,
                Some(app.org),
                "certificate.issued",
                &format!("Cyber Essentials certificate {number} issued to {}", app.org_name),
                &format!(
                    "{} passed its Cyber Essentials self-assessment. Certificate {number} expires on {}.",
                    app.org_name,
                    crate::web::certification::fmt_date(expires)
                ),
            )
            .await?;
            cert = Some(Certificate {
                id: cid,
                org: app.org,
                org_name: app.org_name.clone(),
                application_id: id,
                number,
                scheme: app.scheme.clone(),
                issued_at: at,
                expires_at: expires,
            });
        } else {
            outbox::enqueue(
                &mut tx,
                Some(app.org),
                "certification.failed",
                &format!("Cyber Essentials application {id} did not pass"),
                &format!("The assessor's reasons: {reason}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(cert)
    }

    /// Queues renewal reminders for certificates expiring within 60, 30 and
    /// 7 days (once each); returns how many.
    pub async fn send_renewal_reminders(&self) -> Result<usize, StoreError> {
        self.send_renewal_reminders_at(now()).await
    }

    /// [`Store::send_renewal_reminders`] as if it were `at` (Unix seconds).
    /// Only each organisation's newest certificate is reminded about; a
    /// certificate found inside several windows at once (the job was not
    /// running) gets one reminder, for the nearest, and the wider windows
    /// are marked as passed. Safe to run from several processes: each
    /// reminder is claimed with a conditional update in its transaction.
    pub async fn send_renewal_reminders_at(&self, at: i64) -> Result<usize, StoreError> {
        let horizon = at + REMINDER_DAYS[0] * 86_400;
        let due = self
            .db
            .query(
                "SELECT c.id, c.org_id, o.name, c.number, c.expires_at, c.reminded_60, c.reminded_30, c.reminded_7 FROM ce_certificates c JOIN organisations o ON o.id = c.org_id WHERE c.expires_at > $1 AND c.expires_at <= $2 AND (c.reminded_60 IS NULL OR c.reminded_30 IS NULL OR c.reminded_7 IS NULL) AND NOT EXISTS (SELECT 1 FROM ce_certificates n WHERE n.org_id = c.org_id AND n.issued_at > c.issued_at) ORDER BY c.expires_at LIMIT 1000",
                vec![at.into(), horizon.into()],
            )
            .await?;
        let mut sent = 0;
        for r in &due {
            let (cid, org, name, number, expires) = (
                r.int(0)?,
                OrgId(r.int(1)?),
                r.text(2)?,
                r.text(3)?,
                r.int(4)?,
            );
            let days_left = (expires - at) / 86_400;
            // The nearest window the certificate is inside.
            let Some(&window) = REMINDER_DAYS
                .iter()
                .rev()
                .find(|&&d| expires - at <= d * 86_400)
            else {
                continue;
            };
            let already = match window {
                60 => r.opt_int(5)?,
                30 => r.opt_int(6)?,
                _ => r.opt_int(7)?,
            };
            if already.is_some() {
                continue;
            }
            let mut tx = self.db.begin().await?;
            // Claim: mark this window and every wider one; only the process
            // whose update matched sends.
            let claimed = match window {
                60 => tx.query("UPDATE ce_certificates SET reminded_60 = $1 WHERE id = $2 AND reminded_60 IS NULL RETURNING id", vec![at.into(), cid.into()]).await?,
                30 => tx.query("UPDATE ce_certificates SET reminded_30 = $1, reminded_60 = COALESCE(reminded_60, $1) WHERE id = $2 AND reminded_30 IS NULL RETURNING id", vec![at.into(), cid.into()]).await?,
                _ => tx.query("UPDATE ce_certificates SET reminded_7 = $1, reminded_30 = COALESCE(reminded_30, $1), reminded_60 = COALESCE(reminded_60, $1) WHERE id = $2 AND reminded_7 IS NULL RETURNING id", vec![at.into(), cid.into()]).await?,
            };
            if claimed.is_empty() {
                continue;
            }
            let subject = format!(
                "Cyber Essentials certificate {number} for {name} expires in {days_left} days"
            );
            let body = format!(
                "{name}'s Cyber Essentials certificate {number} expires on {}. Open a new self-assessment on /certification in good time: a lapsed certificate cannot be extended.",
                crate::web::certification::fmt_date(expires)
            );
            outbox::enqueue(&mut tx, Some(org), "certificate.renewal", &subject, &body).await?;
            audit(
                &mut tx,
                Some(org),
                "system",
                "certificate.reminder",
                &format!("{number}: {window}-day reminder ({days_left} days left)"),
            )
            .await?;
            tx.commit().await?;
            sent += 1;
        }
        Ok(sent)
    }

    // ------------------------------------------------------- funded support

    /// A service-wide secret (32 random bytes, hex), created on first use
    /// and shared by every `serve` process: signs the anonymous form cookie.
    pub(crate) async fn form_signing_key(&self) -> Result<String, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT value FROM ce_settings WHERE name = 'form_key'",
                vec![],
            )
            .await?;
        if let Some(r) = rows.first() {
            return r.text(0);
        }
        let key = super::random_token("")?;
        self.db
            .query(
                "INSERT INTO ce_settings (name, value) VALUES ('form_key', $1) ON CONFLICT (name) DO NOTHING",
                vec![key.into()],
            )
            .await?;
        let rows = self
            .db
            .query(
                "SELECT value FROM ce_settings WHERE name = 'form_key'",
                vec![],
            )
            .await?;
        rows.first().ok_or(StoreError::NotFound)?.text(0)
    }

    /// Seeds the eligibility rules from `data/eligibility.toml` once (ever).
    async fn seed_support_rules(&self) -> Result<(), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT value FROM ce_settings WHERE name = 'support_rules_seeded'",
                vec![],
            )
            .await?;
        if !rows.is_empty() {
            return Ok(());
        }
        let seed = seed_rules()?;
        let mut tx = self.db.begin().await?;
        let claimed = tx
            .query(
                "INSERT INTO ce_settings (name, value) VALUES ('support_rules_seeded', $1) ON CONFLICT (name) DO NOTHING RETURNING name",
                vec![now().to_string().into()],
            )
            .await?;
        if claimed.is_empty() {
            return Ok(());
        }
        for r in &seed {
            Self::insert_rule(&mut tx, r, "system").await?;
        }
        audit(
            &mut tx,
            None,
            "system",
            "support.rules.seed",
            &format!("{} rules from data/eligibility.toml", seed.len()),
        )
        .await?;
        tx.commit().await
    }

    async fn insert_rule(tx: &mut Tx, r: &RuleInput, who: &str) -> Result<i64, StoreError> {
        let rows = tx
            .query(
                "INSERT INTO support_rules (name, scheme, sectors, min_staff, max_staff, roles, active, explanation, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                vec![
                    r.name.as_str().into(),
                    r.scheme.as_str().into(),
                    r.sectors.join(",").into(),
                    r.min_staff.into(),
                    r.max_staff.into(),
                    r.roles.join(",").into(),
                    i64::from(r.active).into(),
                    r.explanation.as_str().into(),
                    who.into(),
                    now().into(),
                ],
            )
            .await?;
        rows.first().ok_or(StoreError::NotFound)?.int(0)
    }

    /// The eligibility rules (public: the support page shows them).
    pub async fn support_rules(&self) -> Result<Vec<SupportRule>, StoreError> {
        self.seed_support_rules().await?;
        let rows = self
            .db
            .query(
                "SELECT id, name, scheme, sectors, min_staff, max_staff, roles, active, explanation, updated_by, updated_at FROM support_rules ORDER BY id",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let split = |s: String| -> Vec<String> {
                    s.split(',')
                        .filter(|x| !x.is_empty())
                        .map(str::to_owned)
                        .collect()
                };
                Ok(SupportRule {
                    id: r.int(0)?,
                    input: RuleInput {
                        name: r.text(1)?,
                        scheme: r.text(2)?,
                        sectors: split(r.text(3)?),
                        min_staff: r.int(4)?,
                        max_staff: r.int(5)?,
                        roles: split(r.text(6)?),
                        active: r.int(7)? == 1,
                        explanation: r.text(8)?,
                    },
                    updated_by: r.text(9)?,
                    updated_at: r.int(10)?,
                })
            })
            .collect()
    }

    /// Changes a rule (`id`) or adds one (`None`): site admins only; audited
    /// with the rule before and after.
    pub async fn support_save_rule(
        &self,
        user: &User,
        id: Option<i64>,
        input: &RuleInput,
    ) -> Result<i64, StoreError> {
        if user.role != Role::SiteAdmin {
            return Err(StoreError::Forbidden);
        }
        input.validate()?;
        let before = self.support_rules().await?;
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let rid = match id {
            Some(rid) => {
                let old = before
                    .iter()
                    .find(|r| r.id == rid)
                    .ok_or(StoreError::NotFound)?;
                tx.query(
                    "UPDATE support_rules SET name = $1, scheme = $2, sectors = $3, min_staff = $4, max_staff = $5, roles = $6, active = $7, explanation = $8, updated_by = $9, updated_at = $10 WHERE id = $11",
                    vec![
                        input.name.as_str().into(),
                        input.scheme.as_str().into(),
                        input.sectors.join(",").into(),
                        input.min_staff.into(),
                        input.max_staff.into(),
                        input.roles.join(",").into(),
                        i64::from(input.active).into(),
                        input.explanation.as_str().into(),
                        who.as_str().into(),
                        now().into(),
                        rid.into(),
                    ],
                )
                .await?;
                audit(
                    &mut tx,
                    None,
                    &who,
                    "support.rule.update",
                    &format!("rule {rid}: {} → {}", old.input.summary(), input.summary()),
                )
                .await?;
                rid
            }
            None => {
                let rid = Self::insert_rule(&mut tx, input, &who).await?;
                audit(
                    &mut tx,
                    None,
                    &who,
                    "support.rule.create",
                    &format!("rule {rid}: {}", input.summary()),
                )
                .await?;
                rid
            }
        };
        tx.commit().await?;
        Ok(rid)
    }

    /// Stores a funded-support application from the public form after
    /// checking it (the server decides eligibility against the active
    /// rules). An ineligible application is refused with the reasons.
    /// Rate-limited per contact address and service-wide.
    pub async fn support_apply(&self, input: &SupportInput) -> Result<i64, StoreError> {
        input.validate()?;
        let rules = self.support_rules().await?;
        let verdict = evaluate(&rules, input);
        let Some(rule) = verdict.eligible_rule else {
            return Err(invalid(verdict.summary()));
        };
        let at = now();
        let email = input.email.trim().to_ascii_lowercase();
        let mut tx = self.db.begin().await?;
        let per_email = tx
            .query(
                "SELECT COUNT(*) FROM support_applications WHERE email = $1 AND created_at > $2",
                vec![email.as_str().into(), (at - 86_400).into()],
            )
            .await?
            .first()
            .ok_or(StoreError::NotFound)?
            .int(0)?;
        let per_hour = tx
            .query(
                "SELECT COUNT(*) FROM support_applications WHERE created_at > $1",
                vec![(at - 3_600).into()],
            )
            .await?
            .first()
            .ok_or(StoreError::NotFound)?
            .int(0)?;
        if per_email >= SUPPORT_PER_EMAIL_PER_DAY || per_hour >= SUPPORT_PER_HOUR {
            return Err(StoreError::Conflict(
                "too many applications have been sent recently: try again tomorrow, or write to the cyber unit".into(),
            ));
        }
        let rows = tx
            .query(
                "INSERT INTO support_applications (org_name, contact_name, email, sector, staff, role, details, eligible_rule, eligibility, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10, $10) RETURNING id",
                vec![
                    input.org_name.trim().into(),
                    input.contact_name.trim().into(),
                    email.as_str().into(),
                    input.sector.as_str().into(),
                    input.staff.into(),
                    input.role.as_str().into(),
                    input.details.trim().into(),
                    rule.into(),
                    verdict.summary().into(),
                    at.into(),
                ],
            )
            .await?;
        let id = rows.first().ok_or(StoreError::NotFound)?.int(0)?;
        audit(
            &mut tx,
            None,
            "public",
            "support.apply",
            &format!("application {id} (eligible under rule {rule})"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Funded-support applications: analysts and site admins only.
    pub async fn support_applications(
        &self,
        user: &User,
    ) -> Result<Vec<SupportApplication>, StoreError> {
        require_cyber_unit(user)?;
        let rows = self
            .db
            .query(
                "SELECT id, org_name, contact_name, email, sector, staff, role, details, eligible_rule, eligibility, state, created_at, updated_at, decided_by, decision_note FROM support_applications ORDER BY id DESC LIMIT 1000",
                vec![],
            )
            .await?;
        rows.iter().map(support_from_row).collect()
    }

    /// One funded-support application: analysts and site admins only.
    pub async fn support_application(
        &self,
        user: &User,
        id: i64,
    ) -> Result<SupportApplication, StoreError> {
        require_cyber_unit(user)?;
        let rows = self
            .db
            .query(
                "SELECT id, org_name, contact_name, email, sector, staff, role, details, eligible_rule, eligibility, state, created_at, updated_at, decided_by, decision_note FROM support_applications WHERE id = $1",
                vec![id.into()],
            )
            .await?;
        support_from_row(rows.first().ok_or(StoreError::NotFound)?)
    }

    /// Moves a funded-support application on: submitted → under review →
    /// approved or declined (a decline needs a note). Analysts and site
    /// admins only; audited.
    pub async fn support_transition(
        &self,
        user: &User,
        id: i64,
        to: SupportState,
        note: &str,
    ) -> Result<(), StoreError> {
        require_cyber_unit(user)?;
        let note = note.trim();
        check_len("The note", note)?;
        let app = self.support_application(user, id).await?;
        let allowed = matches!(
            (app.state, to),
            (SupportState::Submitted, SupportState::UnderReview)
                | (SupportState::UnderReview, SupportState::Approved)
                | (SupportState::UnderReview, SupportState::Declined)
        );
        if !allowed {
            return Err(StoreError::Conflict(format!(
                "an application that is {} cannot become {}",
                app.state.label(),
                to.label()
            )));
        }
        if to == SupportState::Declined && note.is_empty() {
            return Err(invalid("say why the application is declined"));
        }
        let who = actor(user);
        let mut tx = self.db.begin().await?;
        let done = tx
            .query(
                "UPDATE support_applications SET state = $1, updated_at = $2, decided_by = $3, decision_note = $4 WHERE id = $5 AND state = $6 RETURNING id",
                vec![
                    to.as_str().into(),
                    now().into(),
                    who.as_str().into(),
                    note.into(),
                    id.into(),
                    app.state.as_str().into(),
                ],
            )
            .await?;
        if done.is_empty() {
            return Err(StoreError::Conflict(
                "the application changed meanwhile: reload and try again".into(),
            ));
        }
        audit(
            &mut tx,
            None,
            &who,
            "support.transition",
            &format!(
                "application {id} {} → {}{}",
                app.state.as_str(),
                to.as_str(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            ),
        )
        .await?;
        tx.commit().await
    }
}

fn require_cyber_unit(user: &User) -> Result<(), StoreError> {
    if matches!(user.role, Role::Analyst | Role::SiteAdmin) {
        Ok(())
    } else {
        Err(StoreError::Forbidden)
    }
}

fn support_from_row(r: &Row) -> Result<SupportApplication, StoreError> {
    Ok(SupportApplication {
        id: r.int(0)?,
        org_name: r.text(1)?,
        contact_name: r.text(2)?,
        email: r.text(3)?,
        sector: r.text(4)?,
        staff: r.int(5)?,
        role: r.text(6)?,
        details: r.text(7)?,
        eligible_rule: r.opt_int(8)?,
        eligibility: r.text(9)?,
        state: SupportState::parse(&r.text(10)?)
            .ok_or_else(|| StoreError::Corrupt("bad support state".into()))?,
        created_at: r.int(11)?,
        updated_at: r.int(12)?,
        decided_by: r.opt_text(13)?,
        decision_note: r.opt_text(14)?,
    })
}
