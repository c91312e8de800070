//! Outbox delivery against real local receivers: a webhook server that is
//! down first and up later, one that fails with 500, two deliverers racing,
//! and an SMTP receiver that records the DATA. SQLite, and PostgreSQL when
//! PORTCULLIS_TEST_POSTGRES_URL is set.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{fresh, site_admin, two_orgs};
use portcullis_server::notify::deliver_due_at;
use portcullis_server::store::outbox::backoff;
use portcullis_server::{AppState, Config, NotifyConfig, SmtpConfig, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// What the webhook receiver got: (Idempotency-Key, JSON body).
type Seen = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// Starts a webhook receiver on `listener` that answers `status` (shared,
/// so the test can change it) and records each request.
fn receiver(listener: tokio::net::TcpListener, status: Arc<Mutex<StatusCode>>) -> Seen {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook/s3cr3t-token",
        post(move |headers: HeaderMap, body: String| {
            let seen = s2.clone();
            let status = status.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                seen.lock().unwrap().push((key, v));
                *status.lock().unwrap()
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    seen
}

fn state(store: &Store, webhook: &str, smtp: Option<SmtpConfig>) -> AppState {
    AppState::with_config(
        store.clone(),
        Config {
            base_url: "https://portcullis.example.gov.uk".into(),
            notify: NotifyConfig {
                webhooks: if webhook.is_empty() {
                    vec![]
                } else {
                    vec![webhook.into()]
                },
                smtp,
            },
            ..Config::default()
        },
    )
}

#[test]
fn backoff_doubles_and_is_capped() {
    assert_eq!(backoff(1), 30);
    assert_eq!(backoff(2), 60);
    assert_eq!(backoff(5), 480);
    assert_eq!(backoff(8), 3600);
    assert_eq!(backoff(1000), 3600);
    assert_eq!(backoff(0), 30);
}

#[tokio::test]
async fn webhook_down_then_up_delivers_each_notification_once() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let n1 = s
        .enqueue_notification(Some(o.a), "incident.opened", "INC-1 opened", "body one")
        .await
        .unwrap();
    let n2 = s
        .enqueue_notification(None, "test", "second", "body two")
        .await
        .unwrap();
    // A port with nothing listening: the receiver is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook/s3cr3t-token");
    let st = state(s, &url, None);
    let t = now();
    let err = deliver_due_at(&st, t).await.unwrap_err();
    assert!(err.contains("0 delivered, 2 failed"), "{err}");
    assert!(
        !err.contains("s3cr3t"),
        "the URL's path may be a secret: {err}"
    );
    let rows = s.list_outbox(&site_admin(), 10).await.unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r.attempts, 1);
        assert_eq!(r.delivered_at, None);
        assert_eq!(r.next_attempt_at, t + 30);
        let e = r.last_error.as_deref().unwrap();
        assert!(e.contains("webhook 127.0.0.1"), "{e}");
        assert!(!e.contains("s3cr3t"));
    }
    // Still down at the retry: the backoff doubles.
    assert!(deliver_due_at(&st, t + 30).await.is_err());
    let rows = s.list_outbox(&site_admin(), 10).await.unwrap();
    assert!(rows
        .iter()
        .all(|r| r.attempts == 2 && r.next_attempt_at == t + 90));

    // Up now.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let seen = receiver(listener, Arc::new(Mutex::new(StatusCode::OK)));
    // Not yet due: nothing is sent early.
    assert_eq!(deliver_due_at(&st, t + 60).await.unwrap(), 0);
    assert!(seen.lock().unwrap().is_empty());
    assert_eq!(deliver_due_at(&st, t + 90).await.unwrap(), 2);
    // Nothing left: later rounds send nothing again.
    assert_eq!(deliver_due_at(&st, t + 10_000).await.unwrap(), 0);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, [n1.to_string(), n2.to_string()]);
    assert_eq!(got[0].1["id"], n1);
    assert_eq!(got[0].1["topic"], "incident.opened");
    assert_eq!(got[0].1["subject"], "INC-1 opened");
    assert_eq!(got[0].1["organisation_id"], o.a.0);
    assert_eq!(got[0].1["attempt"], 3);
    let rows = s.list_outbox(&site_admin(), 10).await.unwrap();
    assert!(rows
        .iter()
        .all(|r| r.delivered_at == Some(t + 90) && r.last_error.is_none()));
}

#[tokio::test]
async fn non_2xx_is_retried_and_incident_links_are_absolute() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let scope = portcullis_server::Tenant::for_role(o.a, portcullis_server::Role::OrgAdmin);
    let id = s
        .create_incident(
            &scope,
            o.a,
            "admin@a",
            &portcullis_server::store::incidents::NewIncident {
                title: "Ransomware".into(),
                severity: Some(portcullis_server::store::incidents::Severity::Critical),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let status = Arc::new(Mutex::new(StatusCode::INTERNAL_SERVER_ERROR));
    let seen = receiver(listener, status.clone());
    let st = state(
        s,
        &format!("http://127.0.0.1:{port}/hook/s3cr3t-token"),
        None,
    );
    let t = now();
    let err = deliver_due_at(&st, t).await.unwrap_err();
    assert!(err.contains("answered HTTP 500"), "{err}");
    *status.lock().unwrap() = StatusCode::NO_CONTENT;
    assert_eq!(deliver_due_at(&st, t + 30).await.unwrap(), 1);
    let got = seen.lock().unwrap().clone();
    // At-least-once: the failed attempt reached the receiver too, with the
    // same idempotency key, so the receiver can drop the repeat.
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, got[1].0);
    assert_eq!(
        got[1].1["link"],
        format!("https://portcullis.example.gov.uk/incidents/{id}")
    );
    assert_eq!(got[1].1["topic"], "incident.opened");
}

#[tokio::test]
async fn two_deliverers_never_send_the_same_notification() {
    let env = fresh().await;
    let s = &env.store;
    for i in 0..20 {
        s.enqueue_notification(None, "test", &format!("n{i}"), "x")
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = receiver(listener, Arc::new(Mutex::new(StatusCode::OK)));
    let url = format!("http://127.0.0.1:{port}/hook/s3cr3t-token");
    // Two "processes": separate states over the same database.
    let (a, b) = (state(s, &url, None), state(s, &url, None));
    let t = now();
    let (ra, rb) = tokio::join!(deliver_due_at(&a, t), deliver_due_at(&b, t));
    assert_eq!(ra.unwrap() + rb.unwrap(), 20);
    let mut keys: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(keys.len(), 20);
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 20, "a notification was delivered twice");
}

/// A minimal SMTP server: accepts one session, records the DATA.
async fn smtp_receiver(
    listener: tokio::net::TcpListener,
) -> tokio::task::JoinHandle<(Vec<String>, String)> {
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        let mut commands = Vec::new();
        let mut data = String::new();
        w.write_all(b"220 test.invalid ESMTP\r\n").await.unwrap();
        while let Some(line) = lines.next_line().await.unwrap() {
            commands.push(line.clone());
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" | "HELO" => w
                    .write_all(b"250-test.invalid\r\n250 8BITMIME\r\n")
                    .await
                    .unwrap(),
                "MAIL" | "RCPT" | "RSET" | "NOOP" => w.write_all(b"250 OK\r\n").await.unwrap(),
                "DATA" => {
                    w.write_all(b"354 go ahead\r\n").await.unwrap();
                    while let Some(l) = lines.next_line().await.unwrap() {
                        if l == "." {
                            break;
                        }
                        data.push_str(&l);
                        data.push('\n');
                    }
                    w.write_all(b"250 queued\r\n").await.unwrap();
                }
                "QUIT" => {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => w.write_all(b"502 not implemented\r\n").await.unwrap(),
            }
        }
        (commands, data)
    })
}

#[tokio::test]
async fn smtp_delivery_records_the_message() {
    let env = fresh().await;
    let s = &env.store;
    let id = s
        .enqueue_notification(
            None,
            "incident.notification.overdue",
            "OVERDUE: INC-7",
            "The initial notification is overdue.",
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = smtp_receiver(listener).await;
    let smtp = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "portcullis@unit.example.gov.uk".into(),
        to: vec!["cyber-unit@example.gov.uk".into()],
        credentials: None,
    };
    let st = state(s, "", Some(smtp));
    assert_eq!(deliver_due_at(&st, now()).await.unwrap(), 1);
    let (commands, data) = tokio::time::timeout(std::time::Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();
    assert!(
        commands
            .iter()
            .any(|c| c == "MAIL FROM:<portcullis@unit.example.gov.uk>"),
        "{commands:?}"
    );
    assert!(
        commands
            .iter()
            .any(|c| c == "RCPT TO:<cyber-unit@example.gov.uk>"),
        "{commands:?}"
    );
    assert!(data.contains("Subject: OVERDUE: INC-7"), "{data}");
    assert!(
        data.contains("The initial notification is overdue."),
        "{data}"
    );
    assert!(
        data.contains(&format!(
            "Message-ID: <notification-{id}@unit.example.gov.uk>"
        )),
        "{data}"
    );
    let rows = s.list_outbox(&site_admin(), 10).await.unwrap();
    assert!(rows[0].delivered_at.is_some());
}

#[tokio::test]
async fn without_targets_rows_wait() {
    let env = fresh().await;
    let s = &env.store;
    s.enqueue_notification(None, "t", "s", "b").await.unwrap();
    assert_eq!(deliver_due_at(&state(s, "", None), now()).await.unwrap(), 0);
    let rows = s.list_outbox(&site_admin(), 10).await.unwrap();
    assert_eq!((rows[0].attempts, rows[0].delivered_at), (0, None));
}

#[tokio::test]
async fn background_round_raises_overdue_alert_and_delivers_it() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let scope = portcullis_server::Tenant::for_role(o.a, portcullis_server::Role::OrgAdmin);
    let id = s
        .create_incident(
            &scope,
            o.a,
            "admin@a",
            &portcullis_server::store::incidents::NewIncident {
                title: "Data exfiltration".into(),
                severity: Some(portcullis_server::store::incidents::Severity::High),
                aware_at: Some(now() - 25 * 3600),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = receiver(listener, Arc::new(Mutex::new(StatusCode::OK)));
    let st = state(
        s,
        &format!("http://127.0.0.1:{port}/hook/s3cr3t-token"),
        None,
    );
    let report = portcullis_server::background::run_due_jobs(&st).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let topics: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, v)| v["topic"].as_str().unwrap().to_owned())
        .collect();
    assert!(topics.contains(&"incident.opened".to_owned()), "{topics:?}");
    assert!(
        topics.contains(&"incident.notification.overdue".to_owned()),
        "{topics:?}"
    );
    let overdue = seen
        .lock()
        .unwrap()
        .iter()
        .find(|(_, v)| v["topic"] == "incident.notification.overdue")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(overdue["subject"]
        .as_str()
        .unwrap()
        .contains(&format!("INC-{id}")));
    assert!(overdue["subject"].as_str().unwrap().starts_with("OVERDUE"));
    // A second round: nothing new (the alert is raised once).
    let before = seen.lock().unwrap().len();
    let report = portcullis_server::background::run_due_jobs(&st).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.delivered, 0);
    assert_eq!(seen.lock().unwrap().len(), before);
}
