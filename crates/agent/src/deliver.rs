//! Delivery: the oldest queued item first, acknowledged only on the
//! server's 2xx; retries with exponential backoff and full jitter.
//!
//! - 200/201: the item is removed (a 200 is a resend the server already had).
//! - 401: the host token is revoked or unknown: delivery stops and the
//!   agent exits with [`crate::run::EXIT_REVOKED`], saying why.
//! - 400/409/413/422: the server will never take this item: it is dropped
//!   and counted (`rejected_total`, reported in later submissions), so a
//!   bad item cannot block the queue.
//! - anything else (connection failures, 5xx, 429): try again later.

use std::sync::Mutex;
use std::time::Duration;

use crate::client::{Client, Outcome};
use crate::queue::Queue;

/// Exponential backoff with full jitter: the n-th wait is uniform in
/// `[0, min(cap, base * 2^n)]` (never below `floor`).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    floor: Duration,
    attempt: u32,
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No randomness: fall back to the clock's nanoseconds.
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        return u64::from(n);
    }
    u64::from_le_bytes(b)
}

impl Backoff {
    /// A backoff starting at `base` and capped at `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            floor: Duration::from_millis(100).min(base),
            attempt: 0,
        }
    }

    /// The ceiling of the next wait (before jitter).
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(30)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The next wait, and counts the attempt.
    pub fn next_wait(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        let pick = if ms == 0 { 0 } else { random_u64() % (ms + 1) };
        Duration::from_millis(pick).max(self.floor)
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// How a delivery pass ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// The queue is empty.
    Drained,
    /// An item could not be delivered now; try again after a wait.
    Retry(String),
    /// The server refused the host token: stop.
    Revoked(String),
}

/// Delivers queued items, oldest first, until the queue is empty or an
/// item cannot be delivered now. `log` receives one line per event worth
/// telling (refusals, damaged items, retries).
pub fn deliver_pending(
    queue: &Mutex<Queue>,
    client: &Client,
    token: &str,
    log: &dyn Fn(&str),
) -> Pass {
    loop {
        // The lock is not held while the request is in flight.
        let entry = {
            let Ok(mut q) = queue.lock() else {
                return Pass::Retry("the queue lock is poisoned".into());
            };
            let e = q.peek();
            for w in q.take_warnings() {
                log(&w);
            }
            e
        };
        let Some(entry) = entry else {
            return Pass::Drained;
        };
        match client.submit(token, &entry.item) {
            Outcome::Stored { .. } => {
                let Ok(mut q) = queue.lock() else {
                    return Pass::Retry("the queue lock is poisoned".into());
                };
                if let Err(e) = q.ack(entry.seq) {
                    return Pass::Retry(format!("delivered, but cannot remove it from the queue: {e}"));
                }
            }
            Outcome::Unauthorized(m) => {
                return Pass::Revoked(format!(
                    "the server refused this machine's host token ({m}); it was revoked or is unknown. Enrol again with `portcullis agent enrol --server {} --token NEW_TOKEN`; the queued submissions are kept and sent after enrolment",
                    client.base()
                ))
            }
            Outcome::Refused { status, message } => {
                log(&format!(
                    "the server refused a {} submission for good (HTTP {status}: {message}); dropped it (key {}) and counted it",
                    entry.item.kind, entry.item.key
                ));
                let Ok(mut q) = queue.lock() else {
                    return Pass::Retry("the queue lock is poisoned".into());
                };
                if let Err(e) = q.reject(entry.seq) {
                    return Pass::Retry(format!("cannot remove a refused item: {e}"));
                }
            }
            Outcome::Retry(m) => return Pass::Retry(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let mut ceilings = Vec::new();
        for _ in 0..8 {
            ceilings.push(b.ceiling().as_secs());
            let w = b.next_wait();
            assert!(w <= Duration::from_secs(30));
        }
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 30, 30, 30]);
        // Full jitter: over many draws, the waits spread below the ceiling.
        let mut b = Backoff::new(Duration::from_secs(10), Duration::from_secs(10));
        let waits: Vec<Duration> = (0..50).map(|_| b.next_wait()).collect();
        assert!(waits.iter().any(|w| *w < Duration::from_secs(5)));
        assert!(waits.iter().any(|w| *w >= Duration::from_secs(5)));
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_secs(10));
        // Huge attempt counts do not overflow.
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for _ in 0..100 {
            b.next_wait();
        }
        assert_eq!(b.ceiling(), Duration::from_secs(300));
    }
}
