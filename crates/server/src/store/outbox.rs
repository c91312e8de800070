//! The outbox: notifications written in the same transaction as the change
//! that causes them, delivered later by [`crate::background`].

use super::{OrgId, Store};
use crate::db::Tx;
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
    let at = now();
    let rows = tx
        .query(
            "INSERT INTO outbox (org_id, topic, subject, body, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            vec![org.map(|o| o.0).into(), topic.into(), subject.into(), body.into(), at.into()],
        )
        .await?;
    rows.first().ok_or(StoreError::NotFound)?.int(0)
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
}
