//! HTTP to `portcullis serve`: enrolment and submission (ureq, rustls).
//!
//! TLS roots: a pinned CA file when given (`--ca`), else the system's CA
//! bundle (the usual Linux, BSD and macOS locations), else the Mozilla
//! roots built into the binary.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::queue::Item;
use crate::AgentError;

/// Where the system's CA bundle is on common systems.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Bodies larger than this are sent gzip-compressed.
const GZIP_OVER: usize = 4096;

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes)?;
    z.finish()
}

/// The most bytes of a server answer read.
const MAX_ANSWER: u64 = 1 << 20;

/// What the server made of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (201) or already stored (200).
    Stored {
        /// True on 201 (first time).
        created: bool,
    },
    /// 401: the host token is revoked or unknown. The agent must stop.
    Unauthorized(String),
    /// Refused for good (400, 409, 413, 422…): drop the item and report it.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// Not delivered now (connection failure, 5xx, 429…): try again later.
    Retry(String),
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

fn load_certs(path: &Path) -> Result<Vec<Certificate<'static>>, AgentError> {
    let pem = std::fs::read(path).map_err(|e| {
        AgentError::Config(format!("{}: cannot read the CA file: {e}", path.display()))
    })?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|i| match i {
            Ok(PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(AgentError::Config(format!(
            "{}: no PEM certificate in the CA file; give the server's CA certificate in PEM form (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

fn roots(ca: Option<&Path>) -> Result<RootCerts, AgentError> {
    if let Some(ca) = ca {
        return Ok(RootCerts::Specific(Arc::new(load_certs(ca)?)));
    }
    for b in SYSTEM_BUNDLES {
        if let Ok(certs) = load_certs(Path::new(b)) {
            return Ok(RootCerts::Specific(Arc::new(certs)));
        }
    }
    Ok(RootCerts::WebPki)
}

/// The server's `{"error":{"message"}}`, or the start of the answer.
fn message_of(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}

impl Client {
    /// A client of `server` (`http://` or `https://` base URL), trusting
    /// `ca` when given.
    pub fn new(server: &str, ca: Option<&Path>) -> Result<Client, AgentError> {
        let base = server.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(AgentError::Config(format!(
                "{server}: the server must be an http:// or https:// URL, e.g. https://portcullis.example.org"
            )));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(Duration::from_secs(120)))
            .max_redirects(0)
            .user_agent(concat!("portcullis-agent/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots(ca)?).build())
            .build();
        Ok(Client {
            agent: config.into(),
            base,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(u16, String), String> {
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut resp = req.send(body).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_string()
            .unwrap_or_default();
        Ok((status, text))
    }

    /// Exchanges an enrolment token for a host token: (host, token ID,
    /// host token). The secret is returned, never logged.
    pub fn enrol(&self, token: &str, host: &str) -> Result<(String, i64, String), AgentError> {
        let body = json!({ "token": token, "host": host }).to_string();
        let (status, text) = self
            .post("/api/v1/enrol", &[], body.as_bytes())
            .map_err(|e| {
                AgentError::Http(format!("{}: cannot reach the server: {e}", self.base))
            })?;
        match status {
            201 | 200 => {
                let v: Value = serde_json::from_str(&text).map_err(|e| {
                    AgentError::Http(format!("the server's enrolment answer is not JSON: {e}"))
                })?;
                let secret = v.get("host_token").and_then(Value::as_str);
                let id = v.get("token_id").and_then(Value::as_i64);
                let name = v.get("host").and_then(Value::as_str).unwrap_or(host);
                match (secret, id) {
                    (Some(s), Some(id)) if !s.is_empty() => Ok((name.to_owned(), id, s.to_owned())),
                    _ => Err(AgentError::Http(
                        "the server's enrolment answer lacks host_token or token_id".into(),
                    )),
                }
            }
            401 => Err(AgentError::Unauthorized(format!(
                "the server refused the enrolment token ({}): it is unknown, already revoked or mistyped; ask your organisation admin for a new one",
                message_of(&text)
            ))),
            s => Err(AgentError::Refused(format!(
                "the server refused the enrolment (HTTP {s}): {}",
                message_of(&text)
            ))),
        }
    }

    /// Submits one queued item with its idempotency key (bodies over
    /// 4 KiB gzip-compressed).
    pub fn submit(&self, host_token: &str, item: &Item) -> Outcome {
        let body = json!({ "kind": item.kind, "body": item.body }).to_string();
        let auth = format!("Bearer {host_token}");
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("Idempotency-Key", item.key.as_str()),
        ];
        let bytes = match (body.len() > GZIP_OVER).then(|| gzip(body.as_bytes())) {
            Some(Ok(z)) => {
                headers.push(("Content-Encoding", "gzip"));
                z
            }
            _ => body.into_bytes(),
        };
        let res = self.post("/api/v1/submissions", &headers, &bytes);
        match res {
            Err(e) => Outcome::Retry(format!("cannot reach {}: {e}", self.base)),
            Ok((200, _)) => Outcome::Stored { created: false },
            Ok((201, _)) => Outcome::Stored { created: true },
            Ok((401, text)) => Outcome::Unauthorized(message_of(&text)),
            Ok((s @ (400 | 409 | 413 | 415 | 422), text)) => Outcome::Refused {
                status: s,
                message: message_of(&text),
            },
            Ok((s, text)) => Outcome::Retry(format!("HTTP {s}: {}", message_of(&text))),
        }
    }
}
