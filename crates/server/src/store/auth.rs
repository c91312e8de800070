//! Store functions: authentication extras (sessions sweeping, rate limits, TOTP).

use super::Store;
use crate::StoreError;

impl Store {
    /// Deletes expired sessions; returns how many.
    pub async fn sweep_expired_sessions(&self) -> Result<usize, StoreError> {
        Ok(0)
    }
}
