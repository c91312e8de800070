//! The outbox: notifications written in the same transaction as the change
//! that causes them, delivered later by [`crate::background`].

use super::{OrgId, Store, Tenant};
use crate::db::{Row, Tx};
use crate::{now, StoreError};

/// A notification waiting in (or delivered from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notification {
    /// Its ID.
    pub id: i64,
    /// The organisation it concerns, if any.
    pub org: Option<OrgId>,
    /// What it is about, e.g. `incident.overdue` or `certificate.renewal`.
    pub topic: String,
    /// One line.
    pub subject: String,
    /// The text (Markdown).
    pub body: String,
}

/// Adds a notification to the outbox inside `tx`, so it is stored if and
/// only if the change that causes it is.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    org: Option<OrgId>,
    topic: &str,
    subject: &str,
    body: &str,
) -> Result<i64, StoreError> {
    enqueue_with_link(tx, org, topic, subject, body, "").await
}

/// [`enqueue`] with a link: a path on this service (e.g. `/incidents/7`),
/// made absolute with the configured base URL when delivered.
pub(crate) async fn enqueue_with_link(
    tx: &mut Tx,
    org: Option<OrgId>,
    topic: &str,
    subject: &str,
    body: &str,
    link: &str,
) -> Result<i64, StoreError> {
    let at = now();
    let rows = tx
        .query(
            "INSERT INTO outbox (org_id, topic, subject, body, created_at, next_attempt_at, link) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
            vec![org.map(|o| o.0).into(), topic.into(), subject.into(), body.into(), at.into(), link.into()],
        )
        .await?;
    rows.first().ok_or(StoreError::NotFound)?.int(0)
}

/// A notification claimed for delivery by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The notification.
    pub notification: Notification,
    /// A path on this service, or empty.
    pub link: String,
    /// When it was queued.
    pub created_at: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// Targets already reached by earlier attempts.
    pub delivered_to: Vec<String>,
}

/// One outbox row as the site admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxEntry {
    /// The notification.
    pub notification: Notification,
    /// When it was queued.
    pub created_at: i64,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: i64,
    /// When it reached every target.
    pub delivered_at: Option<i64>,
    /// The last failure (never secrets).
    pub last_error: Option<String>,
    /// When delivery was abandoned.
    pub gave_up_at: Option<i64>,
}

fn notification_from(r: &Row) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.int(0)?,
        org: r.opt_int(1)?.map(OrgId),
        topic: r.text(2)?,
        subject: r.text(3)?,
        body: r.text(4)?,
    })
}

/// Attempts after which delivery is abandoned (with the delay capped at an
/// hour, about four days of retrying).
pub const MAX_ATTEMPTS: i64 = 100;

/// The delay before attempt `attempts + 1`: 30 s doubling, capped at 1 h.
pub fn backoff(attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    30_i64.saturating_mul(1_i64 << exp).min(3600)
}

impl Store {
    /// Adds a notification to the outbox on its own (for callers outside a transaction).
    pub async fn enqueue_notification(
        &self,
        org: Option<OrgId>,
        topic: &str,
        subject: &str,
        body: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.db.begin().await?;
        let id = enqueue(&mut tx, org, topic, subject, body).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` due notifications for `lease` seconds and counts
    /// the attempt. A row is claimed by one process only: the UPDATE
    /// re-checks `claimed_until` on the row it updates, so two processes
    /// racing for the same row cannot both get it (on PostgreSQL the second
    /// waits for the first's row lock, then sees the new lease and skips it;
    /// SQLite has a single writer). A crashed process's lease expires and
    /// the row is delivered again: at-least-once.
    pub(crate) async fn claim_notifications(
        &self,
        now: i64,
        lease: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let rows = self
            .db
            .query(
                "UPDATE outbox SET claimed_until = $2, attempts = attempts + 1 \
                 WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1 AND claimed_until < $1 \
                 AND id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL \
                 AND next_attempt_at <= $1 AND claimed_until < $1 ORDER BY id LIMIT $3) \
                 RETURNING id, org_id, topic, subject, body, link, created_at, attempts, delivered_to",
                vec![now.into(), now.saturating_add(lease).into(), limit.into()],
            )
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(Claimed {
                    notification: notification_from(r)?,
                    link: r.text(5)?,
                    created_at: r.int(6)?,
                    attempts: r.int(7)?,
                    delivered_to: r
                        .text(8)?
                        .lines()
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.sort_by_key(|c| c.notification.id);
        Ok(out)
    }

    /// Records the outcome of an attempt: the targets reached so far, and
    /// either delivery (no error) or the error and the next attempt's time.
    pub(crate) async fn finish_notification(
        &self,
        id: i64,
        now: i64,
        attempts: i64,
        delivered_to: &[String],
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let reached = delivered_to.join("\n");
        match error {
            None => {
                self.db
                    .query(
                        "UPDATE outbox SET delivered_at = $2, delivered_to = $3, claimed_until = 0, last_error = NULL WHERE id = $1",
                        vec![id.into(), now.into(), reached.into()],
                    )
                    .await?;
            }
            Some(e) => {
                let gave_up: Option<i64> = (attempts >= MAX_ATTEMPTS).then_some(now);
                self.db
                    .query(
                        "UPDATE outbox SET delivered_to = $2, claimed_until = 0, last_error = $3, next_attempt_at = $4, gave_up_at = $5 WHERE id = $1",
                        vec![
                            id.into(),
                            reached.into(),
                            e.into(),
                            now.saturating_add(backoff(attempts)).into(),
                            gave_up.into(),
                        ],
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// The newest outbox rows (at most `limit`, capped at 1000). The outbox
    /// spans organisations, so only the cyber unit's scope may read it.
    pub async fn list_outbox(
        &self,
        scope: &Tenant,
        limit: i64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        scope.require_all()?;
        let rows = self
            .db
            .query(
                "SELECT id, org_id, topic, subject, body, created_at, attempts, next_attempt_at, delivered_at, last_error, gave_up_at \
                 FROM outbox ORDER BY id DESC LIMIT $1",
                vec![limit.clamp(0, 1000).into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    notification: notification_from(r)?,
                    created_at: r.int(5)?,
                    attempts: r.int(6)?,
                    next_attempt_at: r.int(7)?,
                    delivered_at: r.opt_int(8)?,
                    last_error: r.opt_text(9)?,
                    gave_up_at: r.opt_int(10)?,
                })
            })
            .collect()
    }
}
