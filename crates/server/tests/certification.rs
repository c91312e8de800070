//! Cyber Essentials certification through the store: the whole life of an
//! application (draft → submitted → clarification → resubmitted → passed →
//! certificate → renewal reminders), evidence pre-filled from real
//! `portcullis assess --format json` output, the state machine, the
//! assessor's view, and the audit trail. Runs on SQLite, and on PostgreSQL
//! when PORTCULLIS_TEST_POSTGRES_URL is set.

mod common;

use common::{fresh, two_orgs};
use portcullis_server::store::NewSubmission;
use portcullis_server::web::certification::{add_months, questionnaire, QuestionKind};
use portcullis_server::{OrgId, Role, Store, StoreError, SubmissionKind, Tenant, User};

/// Real `portcullis assess --format json` output (see fixtures/certification/README.md).
const DEBIAN_DEFAULTS: &str = include_str!("fixtures/certification/assess-debian12-defaults.json");
const HARDENED: &str = include_str!("fixtures/certification/assess-hardened.json");

fn user(id: i64, org: OrgId, role: Role) -> User {
    User {
        id,
        org,
        email: format!("{}-{id}@example.org", role.as_str()),
        role,
    }
}

/// Submits an assess report as an agent would: `{"results": checks}`.
async fn submit_assessment(store: &Store, host_token: &str, report: &str, key: &str) -> i64 {
    let host = store.authenticate_host(host_token).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    let body = serde_json::json!({ "results": v["checks"] }).to_string();
    let (receipt, created) = store
        .submit(
            &host,
            &NewSubmission {
                kind: SubmissionKind::Assessment,
                client_id: key.into(),
                body,
            },
        )
        .await
        .unwrap();
    assert!(created);
    receipt.id
}

/// Answers every question the organisation still has to: yes, or text.
fn complete_answers(
    detail_answers: &std::collections::HashMap<String, String>,
) -> Vec<(String, String, String)> {
    questionnaire()
        .unwrap()
        .questions
        .iter()
        .filter(|q| detail_answers.get(&q.id).is_none_or(|a| a.is_empty()))
        .map(|q| {
            let a = match q.kind {
                QuestionKind::YesNo => "yes".to_owned(),
                QuestionKind::Text => format!("answer to {}", q.id),
            };
            (q.id.clone(), a, String::new())
        })
        .collect()
}

async fn answers_of(store: &Store, u: &User, id: i64) -> std::collections::HashMap<String, String> {
    store
        .ce_application(u, id)
        .await
        .unwrap()
        .answers
        .into_iter()
        .map(|(k, v)| (k, v.answer))
        .collect()
}

#[tokio::test]
async fn whole_life_from_draft_to_certificate_with_a_clarification_round() {
    let env = fresh().await;
    let s = &env.store;
    let orgs = two_orgs(s).await;
    // Org A's host runs `portcullis assess` on a default Debian 12.
    let sub_id = submit_assessment(s, &orgs.a_host_token, DEBIAN_DEFAULTS, "assess-1").await;
    // A second host of A is already hardened.
    let (_, enrol) = s
        .create_enrolment_token(&common::site_admin(), orgs.a, "servers")
        .await
        .unwrap();
    let (_, second) = s.enrol(&enrol, "a-host-2").await.unwrap();
    submit_assessment(s, &second, HARDENED, "assess-h2").await;
    let member = user(1, orgs.a, Role::Member);
    let admin = user(2, orgs.a, Role::OrgAdmin);
    let assessor = user(3, orgs.b, Role::Assessor); // the certification body is org B
    let analyst = user(4, OrgId(999), Role::Analyst);

    // Only an org admin opens; one open application at a time.
    assert!(matches!(
        s.ce_open_application(&member).await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        s.ce_open_application(&assessor).await,
        Err(StoreError::Forbidden)
    ));
    let id = s.ce_open_application(&admin).await.unwrap();
    assert!(matches!(
        s.ce_open_application(&admin).await,
        Err(StoreError::Conflict(_))
    ));

    // Pre-filled from the host's latest assessment, with the evidence attached.
    let d = s.ce_application(&member, id).await.unwrap();
    assert_eq!(d.app.state.as_str(), "draft");
    let a41 = &d.answers["A4.1"]; // linux.firewall.default_deny failed on that host
    assert_eq!(a41.answer, "no");
    assert_eq!(a41.source, "agent");
    let ev = a41.evidence.as_ref().unwrap();
    assert_eq!((ev.failed, ev.passed, ev.undecided), (1, 1, 0));
    assert_eq!(ev.hosts.len(), 2);
    assert_eq!(ev.hosts[0].host, "a-host", "failing hosts first");
    assert_eq!(ev.hosts[1].host, "a-host-2");
    assert_eq!(ev.hosts[1].status, "pass");
    assert_eq!(ev.hosts[0].status, "fail");
    assert_eq!(ev.hosts[0].submission_id, sub_id);
    assert!(ev.hosts[0]
        .checks
        .iter()
        .any(|c| c.id == "linux.firewall.default_deny" && c.status == "fail"));
    assert_eq!(d.answers["A5.5"].answer, "yes"); // linux.login.autologin passed
    assert_eq!(d.answers["A8.1"].answer, "no"); // linux.malware.protection failed
                                                // needs_attestation only: evidence shown, answer left to the organisation.
    assert_eq!(d.answers["A4.5"].answer, "");
    assert_eq!(
        d.answers["A4.5"].evidence.as_ref().unwrap().hosts[0].status,
        "undecided"
    );
    // No check evidences cloud MFA: nothing pre-filled.
    assert!(!d.answers.contains_key("A7.14"));

    // The org fixes its firewall: a new assessment from the hardened root,
    // then "refresh evidence" follows it; an answer a person changed stays.
    s.ce_save_answers(
        &member,
        id,
        &[("A8.1".into(), "yes".into(), "ClamAV rolled out".into())],
    )
    .await
    .unwrap();
    submit_assessment(s, &orgs.a_host_token, HARDENED, "assess-2").await;
    s.ce_refresh_evidence(&member, id).await.unwrap();
    let d = s.ce_application(&member, id).await.unwrap();
    assert_eq!(
        d.answers["A4.1"].answer, "yes",
        "agent answer follows the newer evidence"
    );
    let ev = d.answers["A4.1"].evidence.as_ref().unwrap();
    assert_eq!((ev.failed, ev.passed), (0, 2));
    assert_ne!(
        d.answers["A4.1"].evidence.as_ref().unwrap().hosts[0].submission_id,
        sub_id
    );
    assert_eq!(d.answers["A8.1"].answer, "yes");
    assert_eq!(d.answers["A8.1"].source, "org");
    assert_eq!(d.answers["A8.1"].note, "ClamAV rolled out");

    // The assessor never sees a draft, and the list hides it.
    assert!(matches!(
        s.ce_application(&assessor, id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.ce_list_applications(&assessor).await.unwrap().is_empty());
    // The analyst sees everything, drafts included.
    assert_eq!(s.ce_list_applications(&analyst).await.unwrap().len(), 1);

    // Submission needs every required answer and a declaration.
    let err = s
        .ce_submit(&admin, id, "Jo Bloggs, director")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("A1.1")),
        "{err}"
    );
    let rest = complete_answers(&answers_of(s, &member, id).await);
    assert!(!rest.is_empty());
    s.ce_save_answers(&member, id, &rest).await.unwrap();
    assert!(matches!(
        s.ce_submit(&member, id, "Jo").await,
        Err(StoreError::Forbidden)
    ));
    assert!(matches!(
        s.ce_submit(&admin, id, "  ").await,
        Err(StoreError::Invalid(_))
    ));
    s.ce_submit(&admin, id, "Jo Bloggs, director")
        .await
        .unwrap();
    // Submitted: answers are frozen.
    assert!(matches!(
        s.ce_save_answers(&member, id, &[("A1.1".into(), "x".into(), String::new())])
            .await,
        Err(StoreError::Conflict(_))
    ));

    // The assessor sees it now, with evidence, but nothing else of org A.
    let seen = s.ce_application(&assessor, id).await.unwrap();
    assert_eq!(seen.app.org_name, "Org A");
    assert!(seen.answers["A4.1"].evidence.is_some());
    let assessor_scope = assessor.tenant();
    assert!(s
        .list_submissions(&assessor_scope, 100)
        .await
        .unwrap()
        .iter()
        .all(|r| r.org == orgs.b));
    assert!(matches!(
        s.get_submission(&assessor_scope, sub_id).await,
        Err(StoreError::NotFound)
    ));
    // Org members cannot review.
    assert!(matches!(
        s.ce_decide(&admin, id, true, "fine").await,
        Err(StoreError::Forbidden)
    ));

    // Clarification round.
    s.ce_request_clarification(
        &assessor,
        id,
        &[(
            "A4.2".into(),
            "Which router is this about, and when was its password changed?".into(),
        )],
    )
    .await
    .unwrap();
    let d = s.ce_application(&admin, id).await.unwrap();
    assert_eq!(d.app.state.as_str(), "clarification");
    let clar = d.clarifications.first().unwrap().clone();
    assert_eq!(clar.question_id, "A4.2");
    // Only the questions asked about may change.
    assert!(matches!(
        s.ce_save_answers(&member, id, &[("A5.5".into(), "no".into(), String::new())])
            .await,
        Err(StoreError::Invalid(_))
    ));
    s.ce_save_answers(
        &member,
        id,
        &[(
            "A4.2".into(),
            "yes".into(),
            "Draytek 2927, changed 3 March".into(),
        )],
    )
    .await
    .unwrap();
    // No resubmission before every request has a response; the assessor
    // cannot decide while the organisation has the application.
    assert!(matches!(
        s.ce_submit(&admin, id, "Jo Bloggs").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.ce_decide(&assessor, id, true, "ok").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.ce_respond(&member, id, &[(clar.id + 1000, "x".into())])
            .await,
        Err(StoreError::Invalid(_))
    ));
    s.ce_respond(
        &member,
        id,
        &[(
            clar.id,
            "The Draytek at head office; changed on 3 March.".into(),
        )],
    )
    .await
    .unwrap();
    s.ce_submit(&admin, id, "Jo Bloggs, director")
        .await
        .unwrap();

    // Pass: a reason is required; the certificate lasts 12 calendar months.
    assert!(matches!(
        s.ce_decide(&assessor, id, true, " ").await,
        Err(StoreError::Invalid(_))
    ));
    let cert = s
        .ce_decide(
            &assessor,
            id,
            true,
            "All controls evidenced; clarification satisfactory.",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cert.expires_at, add_months(cert.issued_at, 12));
    assert!(cert.expires_at - cert.issued_at >= 365 * 86_400);
    assert!(cert.number.starts_with("PC-CE-") && cert.number.ends_with(&format!("{id:06}")));
    let d = s.ce_application(&member, id).await.unwrap();
    assert_eq!(d.app.state.as_str(), "passed");
    assert_eq!(d.certificate.as_ref().unwrap().number, cert.number);
    // Decided: no second decision, no edits.
    assert!(matches!(
        s.ce_decide(&assessor, id, false, "x").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.ce_submit(&admin, id, "Jo").await,
        Err(StoreError::Conflict(_))
    ));
    // Org B sees no certificate of A; A and the analyst do.
    let b_member = user(5, orgs.b, Role::Member);
    assert!(s.ce_certificates(&b_member).await.unwrap().is_empty());
    assert!(matches!(
        s.ce_application(&b_member, id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.ce_certificates(&member).await.unwrap().len(), 1);
    assert_eq!(s.ce_certificates(&analyst).await.unwrap().len(), 1);
    // A new application can be opened once the old one is decided.
    let next = s.ce_open_application(&admin).await.unwrap();
    assert_ne!(next, id);

    // Every step is audited.
    let audit = s
        .list_audit(&Tenant::for_role(orgs.a, Role::OrgAdmin), 500)
        .await
        .unwrap();
    for action in [
        "certification.open",
        "certification.answers",
        "certification.refresh",
        "certification.submit",
        "certification.clarify",
        "certification.respond",
        "certification.decide",
        "certificate.issue",
    ] {
        assert!(
            audit.iter().any(|e| e.action == action),
            "audited: {action}"
        );
    }
    assert!(audit.iter().any(
        |e| e.action == "certification.decide" && e.actor == format!("user:{}", assessor.email)
    ));

    // Renewal reminders: 60, 30 and 7 days before expiry, once each.
    let day = 86_400;
    let exp = cert.expires_at;
    assert_eq!(
        s.send_renewal_reminders_at(exp - 61 * day).await.unwrap(),
        0
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 59 * day).await.unwrap(),
        1
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 58 * day).await.unwrap(),
        0
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 29 * day).await.unwrap(),
        1
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 20 * day).await.unwrap(),
        0
    );
    assert_eq!(s.send_renewal_reminders_at(exp - 6 * day).await.unwrap(), 1);
    assert_eq!(s.send_renewal_reminders_at(exp - 5 * day).await.unwrap(), 0);
    assert_eq!(s.send_renewal_reminders_at(exp + day).await.unwrap(), 0);
    // The real-clock job sends nothing for a certificate just issued.
    assert_eq!(s.send_renewal_reminders().await.unwrap(), 0);
    let audit = s.list_audit(&common::site_admin(), 500).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == "certificate.reminder")
            .count(),
        3
    );
    // The reminders, the certificate and the clarification went to the outbox.
    let outbox = s.list_outbox(&common::site_admin(), 100).await.unwrap();
    let topic = |t: &str| outbox.iter().filter(|e| e.notification.topic == t).count();
    assert_eq!(topic("certificate.renewal"), 3);
    assert_eq!(topic("certificate.issued"), 1);
    assert_eq!(topic("certification.clarification"), 1);
    assert!(outbox
        .iter()
        .filter(|e| e.notification.topic == "certificate.renewal")
        .all(
            |e| e.notification.org == Some(orgs.a) && e.notification.subject.contains(&cert.number)
        ));
}

#[tokio::test]
async fn auto_fail_answers_block_a_pass_and_assessors_cannot_review_their_own_org() {
    let env = fresh().await;
    let s = &env.store;
    let orgs = two_orgs(s).await;
    let admin = user(1, orgs.a, Role::OrgAdmin);
    let own_assessor = user(2, orgs.a, Role::Assessor);
    let assessor = user(3, orgs.b, Role::Assessor);
    let id = s.ce_open_application(&admin).await.unwrap();
    let mut answers = complete_answers(&answers_of(s, &admin, id).await);
    for a in &mut answers {
        if a.0 == "A6.4" {
            a.1 = "no".into();
        }
    }
    // Bad answers are refused with a message and change nothing.
    assert!(matches!(
        s.ce_save_answers(
            &admin,
            id,
            &[("A6.4".into(), "maybe".into(), String::new())]
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.ce_save_answers(&admin, id, &[("Z9.9".into(), "yes".into(), String::new())])
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.ce_save_answers(
            &admin,
            id,
            &[("A1.1".into(), "x".repeat(5000), String::new())]
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(answers_of(s, &admin, id).await.is_empty());
    s.ce_save_answers(&admin, id, &answers).await.unwrap();
    s.ce_submit(&admin, id, "Director").await.unwrap();
    // Self-review is refused even though the assessor can see it.
    assert!(s.ce_application(&own_assessor, id).await.is_ok());
    assert!(matches!(
        s.ce_decide(&own_assessor, id, false, "no").await,
        Err(StoreError::Invalid(_))
    ));
    let err = s
        .ce_decide(&assessor, id, true, "looks fine")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("A6.4")),
        "{err}"
    );
    assert!(s
        .ce_decide(
            &assessor,
            id,
            false,
            "A6.4: fixes are not applied within 14 days."
        )
        .await
        .unwrap()
        .is_none());
    let d = s.ce_application(&admin, id).await.unwrap();
    assert_eq!(d.app.state.as_str(), "failed");
    assert!(d.certificate.is_none());
    assert_eq!(
        d.app.decision_reason.as_deref(),
        Some("A6.4: fixes are not applied within 14 days.")
    );
}

#[tokio::test]
async fn renewal_reminder_skips_windows_already_passed_and_only_the_newest_certificate() {
    let env = fresh().await;
    let s = &env.store;
    let orgs = two_orgs(s).await;
    let admin = user(1, orgs.a, Role::OrgAdmin);
    let assessor = user(3, orgs.b, Role::Assessor);
    let id = s.ce_open_application(&admin).await.unwrap();
    s.ce_save_answers(&admin, id, &complete_answers(&Default::default()))
        .await
        .unwrap();
    s.ce_submit(&admin, id, "Director").await.unwrap();
    let cert = s
        .ce_decide(&assessor, id, true, "ok")
        .await
        .unwrap()
        .unwrap();
    // The job did not run until 10 days before expiry: one reminder (the
    // 30-day one), and the 60-day one is not sent late.
    let exp = cert.expires_at;
    assert_eq!(
        s.send_renewal_reminders_at(exp - 10 * 86_400)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 9 * 86_400).await.unwrap(),
        0
    );
    assert_eq!(
        s.send_renewal_reminders_at(exp - 3 * 86_400).await.unwrap(),
        1
    );
    let audit = s.list_audit(&common::site_admin(), 100).await.unwrap();
    let details: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == "certificate.reminder")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(details.len(), 2);
    assert!(details.iter().any(|d| d.contains("30-day")));
    assert!(details.iter().any(|d| d.contains("7-day")));
}

/// Every check ID a question relies on is one `portcullis assess` (Linux
/// rules and checks, Windows evidence checks) really emits: a renamed check
/// would silently stop pre-filling.
#[test]
fn every_question_check_id_is_a_real_assess_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources = String::new();
    for dir in ["assess/src", "assess/rules", "winevidence/src"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "toml")
            ) {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let qs = questionnaire().unwrap();
    let mut n = 0;
    for q in &qs.questions {
        for id in &q.checks {
            assert!(
                sources.contains(&format!("\"{id}\"")),
                "question {} names check {id}, which assess does not emit",
                q.id
            );
            n += 1;
        }
    }
    assert!(n >= 40, "{n} check references");
}
