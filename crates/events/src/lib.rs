//! Log events, read into one shape.
//!
//! Interface (fixed: `portcullis-sigma` and `portcullis-hunt` build against it;
//! the readers are being implemented):
//! - [`Event`]: a flat list of named [`Value`]s plus where it came from
//!   ([`Origin`]) and when it happened (event time, not arrival time).
//! - [`Format::detect`] names a file's format from its name and first bytes.
//! - [`read_path`] streams a file's events to a callback and returns the
//!   diagnostics (a damaged record, chunk or line is reported and skipped).
//!
//! Field naming (what Sigma rules see before mapping):
//! - Windows (EVTX, evtx_dump JSON, Winlogbeat/ECS): `EventID`, `Channel`,
//!   `Provider_Name`, `Computer`, `EventRecordID`, `Level`, `Task`,
//!   `Keywords`, `TimeCreated`, and every `EventData`/`UserData` item by its
//!   `Name` at the top level (`TargetUserName`, `IpAddress`, `LogonType`…).
//! - Linux auth (syslog, RFC 5424, journald JSON): `host`, `program`, `pid`,
//!   `message`, and parsed fields `user`, `src_ip`, `src_port`, `method`,
//!   `outcome` (`success`/`failure`), `invalid_user` (bool), `action`
//!   (e.g. `ssh_failed`, `ssh_accepted`, `ssh_invalid_user`, `sudo`, `su`,
//!   `pam_auth_failure`, `login`), plus PAM's `pam_user`, `pam_rhost`, `pam_message`.
//! - Entra ID sign-ins (any of the three export shapes): the Log Analytics
//!   names (`ResultType` as text, `UserPrincipalName`, `IPAddress`,
//!   `AppDisplayName`, `UserAgent`, `ClientAppUsed`, `ResultDescription`,
//!   `AuthenticationRequirement`, `ConditionalAccessStatus`…), nested
//!   objects flattened with dots (`DeviceDetail.trustType`).
#![deny(missing_docs)]

use portcullis_model::Diagnostic;
use std::path::Path;
use std::sync::Arc;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON null, or an empty EVTX element.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Str(Box<str>),
    /// A list (EVTX binary data lists, JSON arrays).
    List(Vec<Value>),
}

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (as given on the command line, or `-` for standard input).
    pub file: Arc<str>,
    /// EVTX `EventRecordID`, when the format has one.
    pub record_id: Option<u64>,
    /// 1-based line number, for line-oriented formats.
    pub line: Option<u64>,
}

/// Which kind of log an event is from (drives the Sigma logsource mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// A Windows event (EVTX or one of its JSON exports).
    Windows,
    /// A Linux authentication log line (syslog, RFC 5424, journald).
    LinuxAuth,
    /// An Entra ID sign-in record.
    EntraSignIn,
    /// Any other JSON object.
    Json,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where it came from.
    pub origin: Origin,
    /// When it happened, in the log's own time (UTC).
    pub time: Option<i64>,
    /// The kind of log.
    pub kind: LogKind,
    /// Fields in the order read.
    pub fields: Vec<(Box<str>, Value)>,
}

impl Event {
    /// The value of a field, matched exactly.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
    }
}

/// A log file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Windows EVTX.
    Evtx,
    /// Windows events as JSON or JSONL: evtx_dump's nested shape, or Winlogbeat/ECS.
    WindowsJson,
    /// A syslog-style text log (auth.log, secure), classic or RFC 5424, plain or gzip.
    Syslog,
    /// `journalctl -o json` output.
    JournalJson,
    /// Entra ID sign-in logs as JSON or JSONL.
    EntraJson,
}

/// Options for reading.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The year for syslog lines without one (default: inferred from the file's time).
    pub year: Option<i32>,
}

impl Format {
    /// The format of a file from its name and first bytes, or `None`.
    pub fn detect(name: &str, head: &[u8]) -> Option<Format> {
        let _ = (name, head);
        None
    }
}

/// Read every event of a file (`-` for standard input) in `format`,
/// calling `sink` for each. Returns the problems met.
pub fn read_path(
    path: &Path,
    format: Format,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    let _ = (path, format, options, sink);
    Vec::new()
}
