//! `portcullis db update`: download OSV's per-ecosystem `all.zip` archives.

use crate::import::{Input, SourceMeta};
use crate::{Database, DbError, ImportProgress, ImportReport};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::time::Duration;

/// Where OSV publishes its archives: `{base}/{ecosystem}/all.zip`.
pub const DEFAULT_OSV_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The largest archive accepted (2 GiB).
const MAX_DOWNLOAD_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What to download.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// Base URL (a mirror, or the local test server).
    pub base_url: String,
    /// OSV ecosystem names, e.g. `crates.io`, `PyPI`, `Debian`.
    pub ecosystems: Vec<String>,
    /// Time limit for each request.
    pub timeout: Duration,
}

/// What happened to one ecosystem.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EcosystemUpdate {
    /// Downloaded and imported.
    Updated {
        /// Ecosystem.
        ecosystem: String,
        /// Bytes downloaded.
        bytes: u64,
        /// The import.
        import: ImportReport,
    },
    /// The server says the archive has not changed since the last download.
    NotModified {
        /// Ecosystem.
        ecosystem: String,
    },
    /// The download or import failed; nothing was changed for this ecosystem.
    Failed {
        /// Ecosystem.
        ecosystem: String,
        /// Why.
        error: String,
    },
}

/// The result of an update.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UpdateReport {
    /// One entry per ecosystem asked for.
    pub ecosystems: Vec<EcosystemUpdate>,
}

impl UpdateReport {
    /// True when every ecosystem failed.
    pub fn all_failed(&self) -> bool {
        !self.ecosystems.is_empty()
            && self
                .ecosystems
                .iter()
                .all(|e| matches!(e, EcosystemUpdate::Failed { .. }))
    }
}

fn encode_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Download and import each ecosystem's archive. Each ecosystem is its own
/// transaction: a failed download changes nothing, and the others go on.
pub fn update(
    db: &mut Database,
    options: &UpdateOptions,
    progress: &mut dyn FnMut(&str, ImportProgress),
) -> Result<UpdateReport, DbError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .http_status_as_error(false)
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut report = UpdateReport::default();
    for eco in &options.ecosystems {
        let url = format!(
            "{}/{}/all.zip",
            options.base_url.trim_end_matches('/'),
            encode_segment(eco)
        );
        let source = format!("osv:{eco}");
        let result = download_one(db, &agent, &url, &source, eco, progress);
        report.ecosystems.push(match result {
            Ok(Some((bytes, import))) => EcosystemUpdate::Updated {
                ecosystem: eco.clone(),
                bytes,
                import,
            },
            Ok(None) => EcosystemUpdate::NotModified {
                ecosystem: eco.clone(),
            },
            Err(e) => EcosystemUpdate::Failed {
                ecosystem: eco.clone(),
                error: e.to_string(),
            },
        });
    }
    Ok(report)
}

fn download_one(
    db: &mut Database,
    agent: &ureq::Agent,
    url: &str,
    source: &str,
    eco: &str,
    progress: &mut dyn FnMut(&str, ImportProgress),
) -> Result<Option<(u64, ImportReport)>, DbError> {
    let fail = |message: String| DbError::Download {
        url: url.to_string(),
        message,
    };
    let etag = db.source_etag(source)?;
    let mut req = agent.get(url);
    if let Some(tag) = &etag {
        req = req.header("If-None-Match", tag);
    }
    let response = req.call().map_err(|e| fail(e.to_string()))?;
    let status = response.status().as_u16();
    let now = jiff::Timestamp::now().to_string();
    if status == 304 {
        db.touch_source(source, &now)?;
        return Ok(None);
    }
    if status != 200 {
        return Err(fail(format!(
            "the server answered HTTP {status}{}",
            if status == 404 {
                " (is the ecosystem name spelt as OSV spells it, e.g. crates.io, PyPI, Debian?)"
            } else {
                ""
            }
        )));
    }
    let new_etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Spool to a temporary file beside the database, hashing as we go.
    let dir = db
        .path()
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        );
    let mut tmp = tempfile_in(&dir).map_err(|e| {
        fail(format!(
            "cannot create a temporary file in {}: {e}",
            dir.display()
        ))
    })?;
    let mut hasher = Sha256::new();
    let mut reader = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD_BYTES)
        .reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = reader.read(&mut buf).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
        tmp.1
            .write_all(&buf[..n])
            .map_err(|e| fail(e.to_string()))?;
    }
    tmp.1.flush().map_err(|e| fail(e.to_string()))?;
    let digest = hasher.finalize();
    let sha256: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let bytes = std::fs::read(&tmp.0).map_err(|e| fail(e.to_string()));
    let _ = std::fs::remove_file(&tmp.0);
    let bytes = bytes?;
    let import = db.import_input(
        &Input::ZipBytes {
            name: url,
            bytes: &bytes,
        },
        &SourceMeta {
            name: source,
            kind: "download",
            location: url,
            now: &now,
            data_as_of: Some(&now),
            etag: new_etag.as_deref(),
            sha256: Some(&sha256),
        },
        &mut |p| progress(eco, p),
    )?;
    Ok(Some((total, import)))
}

/// A new temporary file in `dir`, removed by the caller.
fn tempfile_in(dir: &std::path::Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    std::fs::create_dir_all(dir)?;
    let pid = std::process::id();
    for i in 0..1000u32 {
        let p = dir.join(format!(".portcullis-download-{pid}-{i}.zip"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}
