//! Delivery of outbox notifications to webhooks and SMTP.
//!
//! Each round claims due rows (a lease, so two `serve` processes never
//! deliver the same row at once), sends each to every configured target
//! not yet reached, and records the outcome: delivered, or the error and
//! the next attempt after an exponential backoff (30 s doubling, capped at
//! 1 h; abandoned after [`crate::store::outbox::MAX_ATTEMPTS`]). Delivery is
//! at-least-once: a process that dies after sending but before recording
//! lets its lease expire and the row is sent again, so receivers should use
//! the `Idempotency-Key` header (webhooks) or `Message-ID` (e-mail), both
//! derived from the notification's ID, to drop repeats.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::SmtpConfig;
use crate::http::AppState;
use crate::store::outbox::Claimed;

/// How long a claim lasts: longer than the slowest delivery of a batch.
pub const LEASE_SECONDS: i64 = 300;
/// Notifications claimed per round.
pub const BATCH: i64 = 50;
/// Timeout of one webhook request, connection included.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of one SMTP conversation step.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Delivers every due notification; returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> Result<usize, String> {
    deliver_due_at(state, crate::now()).await
}

/// [`deliver_due`] as at `now` (Unix seconds): tests use it to step past
/// the backoff without waiting.
pub async fn deliver_due_at(state: &AppState, now: i64) -> Result<usize, String> {
    let cfg = &state.config.notify;
    let targets: Vec<Target> = cfg
        .webhooks
        .iter()
        .filter(|u| !u.trim().is_empty())
        .map(|u| Target::Webhook(u.trim().to_owned()))
        .chain(cfg.smtp.iter().map(|s| Target::Smtp(s.clone())))
        .collect();
    if targets.is_empty() {
        // Nothing configured: the rows wait until a target is.
        return Ok(0);
    }
    let claimed = state
        .store
        .claim_notifications(now, LEASE_SECONDS, BATCH)
        .await
        .map_err(|e| format!("claiming notifications: {e}"))?;
    let mut delivered = 0;
    let mut errors = Vec::new();
    for c in claimed {
        let mut reached = c.delivered_to.clone();
        let mut failures = Vec::new();
        for t in &targets {
            let key = t.key();
            if reached.contains(&key) {
                continue;
            }
            match t.send(&c, &state.config.base_url).await {
                Ok(()) => reached.push(key),
                Err(e) => failures.push(format!("{}: {e}", t.describe())),
            }
        }
        let error = (!failures.is_empty()).then(|| failures.join("; "));
        state
            .store
            .finish_notification(
                c.notification.id,
                now,
                c.attempts,
                &reached,
                error.as_deref(),
            )
            .await
            .map_err(|e| {
                format!(
                    "recording delivery of notification {}: {e}",
                    c.notification.id
                )
            })?;
        match error {
            None => delivered += 1,
            Some(e) => errors.push(format!("notification {}: {e}", c.notification.id)),
        }
    }
    if errors.is_empty() {
        Ok(delivered)
    } else {
        // Reported by the background loop; the rows wait for their retry.
        Err(format!(
            "{delivered} delivered, {} failed (will retry): {}",
            errors.len(),
            errors.join(" | ")
        ))
    }
}

enum Target {
    Webhook(String),
    Smtp(SmtpConfig),
}

impl Target {
    /// A stable key recorded once the target is reached (a hash, so no
    /// credentials or URLs with tokens end up in the table).
    fn key(&self) -> String {
        let raw = match self {
            Target::Webhook(u) => format!("webhook:{u}"),
            Target::Smtp(s) => format!("smtp:{}:{}:{}", s.host, s.port, s.to.join(",")),
        };
        let h = Sha256::digest(raw.as_bytes());
        let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!(
            "{}:{hex}",
            if matches!(self, Target::Webhook(_)) {
                "webhook"
            } else {
                "smtp"
            }
        )
    }

    /// For error messages: the webhook's host only (its path may hold a
    /// secret token), or the SMTP relay.
    fn describe(&self) -> String {
        match self {
            Target::Webhook(u) => {
                let rest = u.split_once("://").map_or(u.as_str(), |(_, r)| r);
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.rsplit('@').next().unwrap_or(host);
                format!("webhook {host}")
            }
            Target::Smtp(s) => format!("SMTP {}:{}", s.host, s.port),
        }
    }

    async fn send(&self, c: &Claimed, base_url: &str) -> Result<(), String> {
        match self {
            Target::Webhook(url) => send_webhook(url, c, base_url).await,
            Target::Smtp(cfg) => send_mail(cfg, c, base_url).await,
        }
    }
}

fn absolute_link(base_url: &str, link: &str) -> String {
    if link.is_empty() {
        String::new()
    } else {
        format!("{}{link}", base_url.trim_end_matches('/'))
    }
}

/// The JSON a webhook receives.
pub fn webhook_payload(c: &Claimed, base_url: &str) -> serde_json::Value {
    let n = &c.notification;
    json!({
        "id": n.id,
        "topic": n.topic,
        "subject": n.subject,
        "body": n.body,
        "organisation_id": n.org.map(|o| o.0),
        "link": absolute_link(base_url, &c.link),
        "created_at": crate::store::incidents::rfc3339(c.created_at),
        "attempt": c.attempts,
    })
}

async fn send_webhook(url: &str, c: &Claimed, base_url: &str) -> Result<(), String> {
    let body = webhook_payload(c, base_url).to_string();
    let url = url.to_owned();
    let id = c.notification.id.to_string();
    let topic = c.notification.topic.clone();
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(WEBHOOK_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let resp = agent
            .post(&url)
            .header("content-type", "application/json")
            .header(
                "user-agent",
                concat!("portcullis/", env!("CARGO_PKG_VERSION")),
            )
            .header("idempotency-key", &id)
            .header("x-portcullis-topic", &topic)
            .send(body.as_bytes())
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered HTTP {}", status.as_u16()))
        }
    })
    .await
    .map_err(|e| format!("internal task failed: {e}"))?
}

/// The message-ID of a notification's e-mail: the same on every retry, so
/// receiving systems can drop repeats.
pub fn message_id(c: &Claimed, cfg: &SmtpConfig) -> String {
    let domain = cfg
        .from
        .rsplit_once('@')
        .map_or("portcullis.invalid", |(_, d)| d.trim_end_matches('>'));
    format!("<notification-{}@{domain}>", c.notification.id)
}

async fn send_mail(cfg: &SmtpConfig, c: &Claimed, base_url: &str) -> Result<(), String> {
    if cfg.to.is_empty() {
        return Err("no recipients configured (--smtp-to)".into());
    }
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|e| format!("sender address {:?}: {e}", cfg.from))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(c.notification.subject.replace(['\r', '\n'], " "))
        .message_id(Some(message_id(c, cfg)))
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        let mb: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        builder = builder.to(mb);
    }
    let link = absolute_link(base_url, &c.link);
    let text = if link.is_empty() {
        c.notification.body.clone()
    } else {
        format!("{}\n\n{link}\n", c.notification.body)
    };
    let msg = builder
        .body(text)
        .map_err(|e| format!("building the message: {e}"))?;
    // Port 465: TLS from the start; 587: STARTTLS required; otherwise
    // STARTTLS when the relay offers it.
    let mut transport = match cfg.port {
        465 => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
            .map_err(|e| format!("TLS set-up: {e}"))?,
        587 => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
            .map_err(|e| format!("TLS set-up: {e}"))?,
        _ => {
            let params =
                TlsParameters::new(cfg.host.clone()).map_err(|e| format!("TLS set-up: {e}"))?;
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.as_str())
                .tls(Tls::Opportunistic(params))
        }
    }
    .port(cfg.port)
    .timeout(Some(SMTP_TIMEOUT));
    if let Some((user, pass)) = &cfg.credentials {
        transport = transport.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    transport
        .build()
        .send(msg)
        .await
        .map(|_| ())
        .map_err(|e| format!("sending failed: {e}"))
}
