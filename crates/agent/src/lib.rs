//! The Portcullis agent: enrolment, a durable on-disk submission queue,
//! delivery with retries, log following through the bundled hunt rules,
//! and the run loop that ties them to `portcullis serve`.
//!
//! - [`state`]: the state directory (configuration, host token, offsets),
//!   owner-only.
//! - [`queue`]: the durable queue (write-ahead, fsync, bounded, CRC-checked).
//! - [`client`]: HTTP to the server (enrolment, submission), TLS with the
//!   system's roots or a pinned CA.
//! - [`deliver`]: the delivery loop (backoff with full jitter, 401 stops).
//! - [`follow`]: following authentication logs (files with rotation,
//!   journald with a cursor) into detections.
//! - [`run`]: the agent's main loop (schedule, package-change watch, logs).
#![deny(missing_docs)]

pub mod client;
pub mod deliver;
pub mod follow;
pub mod queue;
pub mod run;
pub mod state;

/// An agent failure.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A file or directory could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The configuration is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// The server could not be reached or answered badly.
    #[error("{0}")]
    Http(String),
    /// The server refused the credentials (revoked or unknown token).
    #[error("{0}")]
    Unauthorized(String),
    /// The server refused the request for good.
    #[error("{0}")]
    Refused(String),
    /// A submission is larger than the queue.
    #[error("{0}")]
    TooLarge(String),
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, AgentError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| AgentError::Io(format!("no system randomness: {e}")))?;
    Ok(hex(&buf))
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}
