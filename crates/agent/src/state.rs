//! The state directory: configuration, the host token and follow offsets,
//! all owner-only (directory 0700, files 0600 on Unix).
//!
//! Layout: `config.json` (server URL, host name, pinned CA path, token ID:
//! no secret), `host-token` (the secret alone), `queue/` (the durable
//! queue), `follow.json` (log offsets and the journald cursor) and
//! `schedule.json` (when assess and scan last ran).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::queue::{owner_only_dir, write_atomic};
use crate::AgentError;

/// What enrolment stores (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The server's base URL (`https://portcullis.example.org`).
    pub server: String,
    /// This machine's name as enrolled.
    pub host: String,
    /// A pinned CA certificate file (PEM), when given at enrolment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// The host token's ID on the server.
    pub token_id: i64,
}

/// The default state directory: `/var/lib/portcullis-agent` for root (and
/// for system services), else the user's data directory
/// (`$XDG_DATA_HOME/portcullis-agent`, `~/.local/share/portcullis-agent`;
/// `%LOCALAPPDATA%\portcullis-agent` on Windows).
pub fn default_state_dir() -> PathBuf {
    if is_root() {
        return PathBuf::from("/var/lib/portcullis-agent");
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("portcullis-agent");
    }
    if cfg!(windows) {
        if let Some(d) = std::env::var_os("LOCALAPPDATA").filter(|d| !d.is_empty()) {
            return PathBuf::from(d).join("portcullis-agent");
        }
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => PathBuf::from(h).join(".local/share/portcullis-agent"),
        None => PathBuf::from("portcullis-agent"),
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Opens (creating, owner-only) a state directory.
    pub fn create(dir: &Path) -> Result<StateDir, AgentError> {
        owner_only_dir(dir)?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    /// Opens an existing state directory written by enrolment.
    pub fn open(dir: &Path) -> Result<StateDir, AgentError> {
        if !dir.join("config.json").is_file() {
            return Err(AgentError::Config(format!(
                "{}: this machine is not enrolled (no config.json); run `portcullis agent enrol --server URL --token TOKEN` first, or give --state-dir",
                dir.display()
            )));
        }
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The queue's directory.
    pub fn queue_dir(&self) -> PathBuf {
        self.dir.join("queue")
    }

    /// Stores the configuration and the host token (owner-only, durably).
    pub fn save(&self, config: &Config, host_token: &str) -> Result<(), AgentError> {
        write_atomic(&self.dir.join("host-token"), host_token.as_bytes())?;
        let json = serde_json::to_vec_pretty(config)
            .map_err(|e| AgentError::Io(format!("cannot encode the configuration: {e}")))?;
        write_atomic(&self.dir.join("config.json"), &json)
    }

    /// Reads the configuration and the host token.
    pub fn load(&self) -> Result<(Config, String), AgentError> {
        let path = self.dir.join("config.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            AgentError::Config(format!(
                "{}: cannot read: {e}; enrol again with `portcullis agent enrol`",
                path.display()
            ))
        })?;
        let config: Config = serde_json::from_slice(&bytes).map_err(|e| {
            AgentError::Config(format!(
                "{}: not a valid agent configuration: {e}; enrol again with `portcullis agent enrol`",
                path.display()
            ))
        })?;
        let tpath = self.dir.join("host-token");
        let token = std::fs::read_to_string(&tpath).map_err(|e| {
            AgentError::Config(format!(
                "{}: cannot read the host token: {e}; enrol again with `portcullis agent enrol`",
                tpath.display()
            ))
        })?;
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(AgentError::Config(format!(
                "{}: the host token is empty; enrol again with `portcullis agent enrol`",
                tpath.display()
            )));
        }
        Ok((config, token))
    }

    /// Reads a JSON state file (`None` when missing or unreadable).
    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<T> {
        let bytes = std::fs::read(self.dir.join(name)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Writes a JSON state file atomically and durably.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), AgentError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| AgentError::Io(format!("cannot encode {name}: {e}")))?;
        write_atomic(&self.dir.join(name), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load_owner_only() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("state");
        assert!(StateDir::open(&dir).is_err());
        let s = StateDir::create(&dir).unwrap();
        let c = Config {
            server: "https://x.invalid".into(),
            host: "web-01".into(),
            ca: None,
            token_id: 7,
        };
        s.save(&c, "pch_secret\n").unwrap();
        let (c2, t) = StateDir::open(&dir).unwrap().load().unwrap();
        assert_eq!((c2, t.as_str()), (c, "pch_secret"));
        let text = std::fs::read_to_string(dir.join("config.json")).unwrap();
        assert!(!text.contains("pch_secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("host-token")), 0o600);
            assert_eq!(mode(&dir.join("config.json")), 0o600);
        }
    }
}
