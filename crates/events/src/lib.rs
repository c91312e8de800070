//! Log events, read into one shape.
//!
//! Interface (fixed: `portcullis-sigma` and `portcullis-hunt` build against it):
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
//!
//! Extra names: Windows `Provider_Guid`, `EventID_Qualifiers`,
//! `Execution_ProcessID`, `Security_UserID`; Linux `service` (the program
//! name normalised: `sshd-session` and `sshd(pam_unix)` are `sshd`),
//! `target_user`, `command`, `tty`, `count` (PAM "N more failures"), and
//! `repeated` (see below).
//!
//! Decisions:
//! - Times are unix epoch microseconds, UTC, from the record itself.
//! - An rsyslog `message repeated N times: [ msg ]` line becomes N events
//!   (at most [`MAX_REPEAT`]), each with the inner `msg` parsed and a
//!   `repeated` field holding N, so counting rules count every attempt.
//! - Values keep their source type: EVTX text is `Str` (except the System
//!   numbers `EventID`, `Version`, `Level`, `Task`, `Opcode`,
//!   `EventRecordID`), JSON numbers are `Int`/`Float`. Compare through
//!   [`Value::to_text`] when the type should not matter.
#![deny(missing_docs)]

mod auth;
mod entra;
mod evtx;
mod journal;
mod json;
mod lines;
mod ranges;
mod syslog;
mod time;
mod winjson;

pub use crate::auth::parse_auth_message;
pub use crate::evtx::{flatten_evtx_xml, SystemInfo, EVTX_MAGIC};
pub use crate::lines::MAX_LINE;
pub use crate::ranges::{read_range, split_file, TextRange};
pub use crate::syslog::{parse_syslog_line, SyslogLine, YearState};

use portcullis_model::Diagnostic;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most events one `message repeated N times` line expands to.
pub const MAX_REPEAT: u64 = 10_000;

/// The most diagnostics kept per file; the rest are counted in one last line.
pub const MAX_DIAGNOSTICS_PER_FILE: usize = 100;

/// A field value's text: a string held inline when it is short.
pub type Text = compact_str::CompactString;

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
    /// Text: held inline up to 24 bytes (most field values), so reading
    /// an event allocates only for its long values.
    Str(Text),
    /// A list (EVTX binary data lists, JSON arrays).
    List(Vec<Value>),
}

impl Value {
    /// The text, when this is a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer: an `Int`, or a `Str` holding a decimal (or `0x` hex) integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Str(s) => {
                let s = s.trim();
                match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                    Some(h) => i64::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                }
            }
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// The value as text, the way Sigma compares it: `Null` is empty,
    /// booleans are `true`/`false`, lists join their items with `, `.
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) => Cow::Borrowed(s),
            Value::Null => Cow::Borrowed(""),
            Value::Bool(true) => Cow::Borrowed("true"),
            Value::Bool(false) => Cow::Borrowed("false"),
            Value::Int(n) => Cow::Owned(n.to_string()),
            Value::Float(f) => Cow::Owned(f.to_string()),
            Value::List(l) => Cow::Owned(
                l.iter()
                    .map(|v| v.to_text().into_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

/// Where an event came from. Two origins are equal when they name the same
/// file, record and line (`seq` is the consumer's annotation, not part of
/// the identity: the events of one `message repeated` line are one origin).
#[derive(Debug, Clone)]
pub struct Origin {
    /// The file (as given on the command line, or `-` for standard input).
    pub file: Arc<str>,
    /// EVTX `EventRecordID`, when the format has one.
    pub record_id: Option<u64>,
    /// 1-based line number, for line-oriented formats.
    pub line: Option<u64>,
    /// A number for the consumer's own use (the readers leave it 0): the
    /// hunt numbers the events it feeds to correlations, to find their
    /// details again when a correlation reports them.
    pub seq: u64,
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.file == other.file && self.record_id == other.record_id && self.line == other.line
    }
}

impl Eq for Origin {}

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

/// A field name: most are fixed names (`host`, `EventID`) borrowed for
/// free; names read from the data (EVTX `Data` names, JSON keys) are owned.
pub type FieldName = Cow<'static, str>;

/// Names that come up in most Windows and sign-in events: borrowed
/// instead of allocated.
const COMMON_NAMES: &[&str] = &[
    "EventID",
    "Channel",
    "Computer",
    "Provider_Name",
    "Provider_Guid",
    "EventRecordID",
    "Level",
    "Task",
    "Keywords",
    "TimeCreated",
    "Version",
    "Opcode",
    "Security_UserID",
    "Execution_ProcessID",
    "Execution_ThreadID",
    "EventID_Qualifiers",
    "Correlation_ActivityID",
    "Data",
    "SubjectUserSid",
    "SubjectUserName",
    "SubjectDomainName",
    "SubjectLogonId",
    "TargetUserSid",
    "TargetUserName",
    "TargetDomainName",
    "TargetLogonId",
    "LogonType",
    "LogonProcessName",
    "AuthenticationPackageName",
    "WorkstationName",
    "LogonGuid",
    "TransmittedServices",
    "LmPackageName",
    "KeyLength",
    "ProcessId",
    "ProcessName",
    "IpAddress",
    "IpPort",
    "Status",
    "SubStatus",
    "FailureReason",
    "Workstation",
    "ServiceName",
    "ServiceSid",
    "TicketOptions",
    "TicketEncryptionType",
    "PreAuthType",
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "User",
    "UtcTime",
    "ProcessGuid",
    "ParentProcessGuid",
    "ParentProcessId",
    "IntegrityLevel",
    "Hashes",
    "TargetObject",
    "TargetFilename",
    "EventType",
    "RuleName",
    "Details",
    "ResultType",
    "ResultDescription",
    "UserPrincipalName",
    "IPAddress",
    "AppDisplayName",
    "UserAgent",
    "ClientAppUsed",
    "TimeGenerated",
    "UserDisplayName",
    "UserId",
];

/// Whether Sigma keyword searches (field-less items) read this field.
///
/// Every field of Windows, sign-in and other JSON events is the log's own
/// data. A Linux log line's own text is its `host`, `program`, `pid`,
/// `message` and RFC 5424 structured-data parameters; the fields parsed
/// out of the message ([`LINUX_DERIVED_FIELDS`]: `user`, `src_ip`,
/// `action`, …) are parts of it or labels of ours, so a keyword search over
/// the line skips them (it finds what they hold in the message, and never
/// matches a label that is not in the log).
#[inline]
pub fn keyword_field(kind: LogKind, name: &str) -> bool {
    kind != LogKind::LinuxAuth || !is_linux_derived(name)
}

/// The fields the readers derive from a Linux log line's message (see
/// [`keyword_field`]).
pub const LINUX_DERIVED_FIELDS: &[&str] = &[
    "service",
    "repeated",
    "user",
    "target_user",
    "invalid_user",
    "src_ip",
    "src_port",
    "method",
    "outcome",
    "action",
    "command",
    "tty",
    "count",
    "pam_user",
    "pam_rhost",
    "pam_message",
];

#[inline]
fn is_linux_derived(name: &str) -> bool {
    matches!(
        name,
        "service"
            | "repeated"
            | "user"
            | "target_user"
            | "invalid_user"
            | "src_ip"
            | "src_port"
            | "method"
            | "outcome"
            | "action"
            | "command"
            | "tty"
            | "count"
            | "pam_user"
            | "pam_rhost"
            | "pam_message"
    )
}

/// A [`FieldName`] for a name read from the data: borrowed when it is a
/// common one, owned otherwise.
pub fn field_name(name: &str) -> FieldName {
    match COMMON_NAMES.iter().find(|n| **n == name) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(name.to_owned()),
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where it came from.
    pub origin: Origin,
    /// When it happened, in the log's own time (UTC), unix epoch microseconds.
    pub time: Option<i64>,
    /// The kind of log.
    pub kind: LogKind,
    /// Fields in the order read.
    pub fields: Vec<(FieldName, Value)>,
}

impl Event {
    /// The value of a field, matched exactly.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }

    /// The value of a field, the exact name first, then ASCII case-insensitively.
    pub fn get_ci(&self, name: &str) -> Option<&Value> {
        self.get(name).or_else(|| {
            self.fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    }

    /// A field's text, when it is a `Str`.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
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
    /// The year of the FIRST line of a syslog file whose lines carry no year
    /// (default: inferred so that the last line falls in the year of the
    /// file's modification time, counting December→January rollovers).
    pub year: Option<i32>,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

fn strip_gz(name: &str) -> &str {
    name.strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".GZ"))
        .unwrap_or(name)
}

fn gunzip_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(head);
    let mut buf = [0u8; 8192];
    while out.len() < 16_384 {
        match dec.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

fn json_key(hay: &[u8], key: &str) -> bool {
    // `"key"` followed by optional blanks and a colon.
    let pat = format!("\"{key}\"");
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&hay[from..], pat.as_bytes()) {
        let after = from + i + pat.len();
        let rest = hay[after..].iter().find(|b| !b.is_ascii_whitespace());
        if rest == Some(&b':') {
            return true;
        }
        from = after;
    }
    false
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Format::Evtx,
        Format::WindowsJson,
        Format::Syslog,
        Format::JournalJson,
        Format::EntraJson,
    ];

    /// A short stable name (`evtx`, `windows-json`, `syslog`, `journal-json`, `entra-json`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "evtx",
            Format::WindowsJson => "windows-json",
            Format::Syslog => "syslog",
            Format::JournalJson => "journal-json",
            Format::EntraJson => "entra-json",
        }
    }

    /// The format of a [`Format::name`] (ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The kind of events this format yields.
    pub fn kind(self) -> LogKind {
        match self {
            Format::Evtx | Format::WindowsJson => LogKind::Windows,
            Format::Syslog | Format::JournalJson => LogKind::LinuxAuth,
            Format::EntraJson => LogKind::EntraSignIn,
        }
    }

    /// The format of a file from its name and first bytes, or `None`.
    /// Give at least the first 4 KiB (more helps for pretty-printed JSON).
    pub fn detect(name: &str, head: &[u8]) -> Option<Format> {
        if head.starts_with(EVTX_MAGIC) {
            return Some(Format::Evtx);
        }
        if head.starts_with(GZIP_MAGIC) {
            let inner = gunzip_head(head);
            return match Format::detect(strip_gz(name), &inner) {
                Some(Format::Evtx) => None,
                f => f,
            };
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".evtx") && head.is_empty() {
            return Some(Format::Evtx);
        }
        let first = head.iter().position(|b| !b.is_ascii_whitespace());
        let first = first.and_then(|i| head.get(i)).copied();
        let first = if head.starts_with(b"\xef\xbb\xbf") {
            head[3..].iter().find(|b| !b.is_ascii_whitespace()).copied()
        } else {
            first
        };
        if matches!(first, Some(b'{' | b'[')) {
            if json_key(head, "winlog") || (json_key(head, "Event") && json_key(head, "System")) {
                return Some(Format::WindowsJson);
            }
            // Flat exports: nxlog/OTRF/Splunk (`EventID` beside a channel,
            // provider or host name) and `Get-WinEvent | ConvertTo-Json`.
            if (json_key(head, "EventID")
                && [
                    "Channel",
                    "SourceName",
                    "ProviderName",
                    "Provider_Name",
                    "Hostname",
                    "Computer",
                ]
                .iter()
                .any(|k| json_key(head, k)))
                || (json_key(head, "Id")
                    && json_key(head, "LogName")
                    && (json_key(head, "MachineName") || json_key(head, "ProviderName")))
            {
                return Some(Format::WindowsJson);
            }
            if json_key(head, "__REALTIME_TIMESTAMP")
                || (json_key(head, "MESSAGE") && json_key(head, "_HOSTNAME"))
                || json_key(head, "SYSLOG_IDENTIFIER")
            {
                return Some(Format::JournalJson);
            }
            if [
                "resultType",
                "ResultType",
                "userPrincipalName",
                "UserPrincipalName",
            ]
            .iter()
            .any(|k| json_key(head, k))
                || (contains(head, b"SignInLogs") && json_key(head, "properties"))
            {
                return Some(Format::EntraJson);
            }
            return None;
        }
        // A text log: look at the first few non-comment lines.
        let mut seen = 0;
        for line in head.split(|&b| b == b'\n').take(64) {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            if syslog::looks_like_syslog(line) {
                return Some(Format::Syslog);
            }
            seen += 1;
            if seen >= 3 {
                break;
            }
        }
        None
    }
}

/// Sniff a file's format from its name and first 16 KiB.
pub fn detect_path(path: &Path) -> std::io::Result<Option<Format>> {
    let mut f = File::open(path)?;
    let mut head = vec![0u8; 16_384];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Format::detect(&name, &head))
}

/// Every log file under `root` (recursively, symbolic links not followed),
/// sorted by path, with its detected format. Files of no known format are
/// skipped silently; unreadable entries are reported. A `root` that is a
/// file is sniffed and listed alone (reported when not recognised).
pub fn walk(root: &Path) -> (Vec<(PathBuf, Format)>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    if root.is_file() {
        match detect_path(root) {
            Ok(Some(f)) => out.push((root.to_path_buf(), f)),
            Ok(None) => diags.push(Diagnostic::error(
                root.display().to_string(),
                "unknown log format; name the format explicitly",
            )),
            Err(e) => diags.push(Diagnostic::error(
                root.display().to_string(),
                format!("cannot read: {e}"),
            )),
        }
        return (out, diags);
    }
    for entry in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        match entry {
            Ok(e) if e.file_type().is_file() => match detect_path(e.path()) {
                Ok(Some(f)) => out.push((e.into_path(), f)),
                Ok(None) => {}
                Err(err) => diags.push(Diagnostic::warning(
                    e.path().display().to_string(),
                    format!("cannot read: {err}; skipped"),
                )),
            },
            Ok(_) => {}
            Err(e) => diags.push(Diagnostic::warning(
                e.path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| root.display().to_string()),
                format!("cannot list: {e}; skipped"),
            )),
        }
    }
    (out, diags)
}

/// Diagnostics of one file, capped.
pub(crate) struct Diags {
    file: String,
    list: Vec<Diagnostic>,
    dropped: usize,
}

impl Diags {
    fn new(file: &str) -> Self {
        Diags {
            file: file.to_string(),
            list: Vec::new(),
            dropped: 0,
        }
    }

    fn push(&mut self, d: Diagnostic) {
        if self.list.len() < MAX_DIAGNOSTICS_PER_FILE {
            self.list.push(d);
        } else {
            self.dropped += 1;
        }
    }

    pub(crate) fn warning(&mut self, line: Option<u64>, msg: String) {
        let mut d = Diagnostic::warning(self.file.clone(), msg);
        if let Some(l) = line {
            d = d.at(u32::try_from(l).unwrap_or(u32::MAX), None);
        }
        self.push(d);
    }

    pub(crate) fn warning_at(&mut self, line: u64, column: Option<u64>, msg: String) {
        let d = Diagnostic::warning(self.file.clone(), msg).at(
            u32::try_from(line).unwrap_or(u32::MAX),
            column.map(|c| u32::try_from(c).unwrap_or(u32::MAX)),
        );
        self.push(d);
    }

    pub(crate) fn error(&mut self, line: Option<u64>, msg: String) {
        let mut d = Diagnostic::error(self.file.clone(), msg);
        if let Some(l) = line {
            d = d.at(u32::try_from(l).unwrap_or(u32::MAX), None);
        }
        self.push(d);
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            let n = self.dropped;
            self.list.push(Diagnostic::warning(
                self.file.clone(),
                format!("{n} more problems in this file not shown"),
            ));
        }
        self.list
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Read every event of a file (`-` for standard input) in `format`,
/// calling `sink` for each. Returns the problems met. EVTX is read on the
/// calling thread (callers parallelise by file).
pub fn read_path(
    path: &Path,
    format: Format,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    read_path_threads(path, format, options, 1, sink)
}

/// [`read_path`], with up to `threads` worker threads for an EVTX file
/// (its 64 KiB chunks are parsed in parallel on the global rayon pool,
/// events still come in order). Other formats ignore `threads`. Do not call
/// it with `threads > 1` from inside a rayon task: it blocks waiting for
/// pool work. Parallelise by file with [`read_path`] instead.
pub fn read_path_threads(
    path: &Path,
    format: Format,
    options: &ReadOptions,
    threads: usize,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    let name = path.display().to_string();
    if is_stdin(path) {
        return read_reader("-", std::io::stdin().lock(), format, options, sink);
    }
    let file: Arc<str> = Arc::from(name.as_str());
    let mut diags = Diags::new(&name);
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            diags.error(None, format!("cannot open: {e}"));
            return diags.finish();
        }
    };
    if format == Format::Evtx {
        evtx::read_evtx(&file, f, threads, &mut diags, sink);
        return diags.finish();
    }
    let gz = is_gzip_file(path);
    let year = if format == Format::Syslog && options.year.is_none() {
        Some(infer_first_year(path, gz))
    } else {
        options.year
    };
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(BufReader::new(f)),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, f))
    };
    read_text(&file, reader, format, year, &mut diags, sink);
    diags.finish()
}

pub(crate) fn is_gzip_file(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == GZIP_MAGIC
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0)
}

/// The year of a yearless syslog file's first line: the last line is taken
/// to fall in the year of the file's modification time (the year before
/// if its month is later than the modification month), and each
/// December→January step back from the end subtracts one.
fn infer_first_year(path: &Path, gz: bool) -> i32 {
    let Ok(f) = File::open(path) else {
        return time::year_month_of(mtime_secs(path)).0;
    };
    let reader: Box<dyn BufRead> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(
            BufReader::new(f),
        )))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, f))
    };
    let (rollovers, last_month) = syslog::count_rollovers(reader);
    first_year_from(path, rollovers, last_month)
}

fn mtime_secs(path: &Path) -> i64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or_else(now_secs)
}

/// The first line's year, from the file's modification time, the
/// December→January steps and the last yearless line's month.
pub(crate) fn first_year_from(path: &Path, rollovers: i32, last_month: Option<u32>) -> i32 {
    let (my, mm) = time::year_month_of(mtime_secs(path));
    let last_year = match last_month {
        Some(m) if m > mm => my - 1,
        _ => my,
    };
    last_year - rollovers
}

/// Read events from any reader (standard input, an in-memory buffer).
/// `name` is used in origins and diagnostics. Gzip input is recognised by
/// its magic bytes. EVTX needs random access, so an EVTX stream is read
/// into memory first. A yearless syslog stream without `options.year`
/// gets the current year (the year before for months later than now).
pub fn read_reader(
    name: &str,
    reader: impl Read,
    format: Format,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    let file: Arc<str> = Arc::from(name);
    let mut diags = Diags::new(name);
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    if format == Format::Evtx {
        let mut buf = Vec::new();
        if let Err(e) = reader.read_to_end(&mut buf) {
            diags.error(None, format!("cannot read: {e}"));
            return diags.finish();
        }
        evtx::read_evtx(&file, std::io::Cursor::new(buf), 1, &mut diags, sink);
        return diags.finish();
    }
    let gz = reader
        .fill_buf()
        .map(|b| b.starts_with(GZIP_MAGIC))
        .unwrap_or(false);
    let year = options.year.or_else(|| {
        if format == Format::Syslog {
            Some(time::year_month_of(now_secs()).0)
        } else {
            None
        }
    });
    let year_is_now = options.year.is_none();
    let r: Box<dyn BufRead + '_> = if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    };
    if format == Format::Syslog && year_is_now {
        syslog::read_syslog(
            &file,
            r,
            syslog::YearState::now(now_secs()),
            1,
            &mut diags,
            sink,
        );
    } else {
        read_text(&file, r, format, year, &mut diags, sink);
    }
    diags.finish()
}

/// Read events from bytes in memory (fuzzing and tests).
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
    options: &ReadOptions,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    read_reader(name, bytes, format, options, sink)
}

fn read_text(
    file: &Arc<str>,
    reader: Box<dyn BufRead + '_>,
    format: Format,
    year: Option<i32>,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    match format {
        Format::Syslog => syslog::read_syslog(
            file,
            reader,
            syslog::YearState::new(year.unwrap_or(1970)),
            1,
            diags,
            sink,
        ),
        Format::WindowsJson | Format::JournalJson | Format::EntraJson => {
            json::read_json(file, reader, format, diags, sink)
        }
        Format::Evtx => {}
    }
}

/// The first position of `needle` in `hay`: memchr for its first byte,
/// then a compare. Log lines are short, so this beats building a
/// searcher (`str::find`, `memmem::find`) per call.
#[inline]
pub(crate) fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let (&first, _) = n.split_first()?;
    let mut from = 0usize;
    while let Some(p) = memchr::memchr(first, h.get(from..)?) {
        let at = from + p;
        if h.get(at..).is_some_and(|r| r.starts_with(n)) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The last position of `needle` in `hay` (see [`find_str`]).
#[inline]
pub(crate) fn rfind_str(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let (&first, _) = n.split_first()?;
    let mut to = h.len();
    while let Some(at) = memchr::memrchr(first, h.get(..to)?) {
        if h.get(at..).is_some_and(|r| r.starts_with(n)) {
            return Some(at);
        }
        to = at;
    }
    None
}

#[cfg(test)]
mod find_tests {
    use super::{find_str, is_linux_derived, rfind_str, LINUX_DERIVED_FIELDS};

    #[test]
    fn derived_list_and_matcher_agree() {
        for n in LINUX_DERIVED_FIELDS {
            assert!(is_linux_derived(n), "{n}");
        }
        for n in ["host", "program", "pid", "message", "origin", "x"] {
            assert!(!is_linux_derived(n), "{n}");
        }
    }

    #[test]
    fn find_and_rfind_agree_with_str() {
        let hays = ["", "a", " port 22 port 33", "abcabc", "ü port ü", "port"];
        let needles = [" port ", "abc", "c", "ü", "port", "x"];
        for h in hays {
            for n in needles {
                assert_eq!(find_str(h, n), h.find(n), "{h:?} {n:?}");
                assert_eq!(rfind_str(h, n), h.rfind(n), "{h:?} {n:?}");
            }
        }
    }
}
