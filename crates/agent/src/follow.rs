//! Following authentication logs: files (with rotation and truncation
//! handled, offsets persisted) and journald (with a persisted cursor),
//! through the bundled hunt rules, into detections.
//!
//! Each poll reads only complete lines. The caller queues the detections
//! of a chunk durably *before* it commits the chunk's new offset, so a
//! crash between the two re-reads the chunk: the detections come out the
//! same and carry the same idempotency key (a hash of their content), so
//! the server stores them once.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use portcullis_events::{Event, Format, ReadOptions};
use portcullis_hunt::engine::{CorrelationHit, Correlator, Engine, EventMatch, RuleText};
use portcullis_hunt::{bundled, CorrelationInfo, Detection, EventRef, Level, Mapping, RuleIssue};
use serde::{Deserialize, Serialize};

/// The most bytes read from one file per chunk.
pub const CHUNK_BYTES: usize = 4 << 20;
/// The most journal records read per poll.
pub const JOURNAL_BATCH: usize = 20_000;
/// Event details remembered to describe correlation detections.
const RECENT_CAP: usize = 20_000;
/// Events listed per correlation detection.
const MAX_EVENTS: usize = 100;
/// Correlation groups held at once.
const STATE_CAP: usize = 20_000;

// ---------------------------------------------------------------- detector

/// An event's time and shown fields, kept to describe correlation detections.
type Recent = (i64, Vec<(String, String)>);

/// The bundled hunt rules, matching events one at a time and keeping
/// correlation state between polls.
pub struct Detector {
    engine: &'static Engine,
    correlator: Correlator<'static>,
    scratch: portcullis_hunt::engine::Scratch,
    matches: Vec<EventMatch>,
    hits: Vec<CorrelationHit>,
    min_level: Level,
    recent: HashMap<(Arc<str>, u64), Recent>,
    recent_order: VecDeque<(Arc<str>, u64)>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("rules", &self.engine.rules().len())
            .finish()
    }
}

fn text_of(v: &portcullis_events::Value) -> String {
    v.to_text().into_owned()
}

fn first_text(event: &Event, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        event
            .get(n)
            .map(text_of)
            .filter(|s| !s.is_empty() && s != "-")
    })
}

const HOST_FIELDS: &[&str] = &["Computer", "host", "Hostname"];
const USER_FIELDS: &[&str] = &[
    "TargetUserName",
    "user",
    "UserPrincipalName",
    "SubjectUserName",
    "pam_user",
    "User",
];
const SOURCE_FIELDS: &[&str] = &[
    "IpAddress",
    "src_ip",
    "IPAddress",
    "SourceIp",
    "pam_rhost",
    "WorkstationName",
    "Workstation",
];

fn group_pick(group: &[(String, Option<String>)], names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        group
            .iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.clone())
    })
}

impl Detector {
    /// The bundled rules with `settings` (tunables, as `portcullis hunt
    /// --set`), reporting at `min_level` and above. The issues list rules
    /// that could not be used.
    pub fn new(settings: &[(String, String)], min_level: Level) -> (Detector, Vec<RuleIssue>) {
        let texts: Vec<RuleText> = bundled::BUNDLED_RULES
            .iter()
            .map(|(name, text)| {
                RuleText::Inline(
                    format!("<bundled>/{name}"),
                    bundled::apply_settings(text, settings),
                )
            })
            .collect();
        let (engine, issues) = Engine::build(&texts, &Mapping::builtin());
        // One engine for the life of the process; correlation state borrows it.
        let engine: &'static Engine = Box::leak(Box::new(engine));
        (
            Detector {
                engine,
                correlator: Correlator::new(engine, STATE_CAP),
                scratch: engine.scratch(),
                matches: Vec::new(),
                hits: Vec::new(),
                min_level,
                recent: HashMap::new(),
                recent_order: VecDeque::new(),
            },
            issues,
        )
    }

    /// Matches one event; detections (single-event hits and correlation
    /// windows that fired) are appended to `out`.
    pub fn observe(&mut self, ev: &Event, out: &mut Vec<Detection>) {
        self.matches.clear();
        self.engine
            .matches(ev, &mut self.scratch, &mut self.matches);
        let matches = std::mem::take(&mut self.matches);
        let mut feeds = Vec::new();
        for m in &matches {
            let Some(rule) = self.engine.rules().get(m.rule) else {
                continue;
            };
            if rule.emits && rule.level >= self.min_level {
                out.push(self.event_detection(m, ev));
            }
            if rule.feeds_correlation {
                feeds.push(m);
            }
        }
        if let (Some(t), false) = (ev.time, feeds.is_empty()) {
            if let Some(line) = ev.origin.line {
                let mut shown = Vec::new();
                for m in &feeds {
                    for f in &m.fields {
                        if !shown.iter().any(|(k, _): &(String, String)| **k == **f) {
                            if let Some(v) = ev.get(f) {
                                shown.push((f.to_string(), text_of(v)));
                            }
                        }
                    }
                }
                let key = (ev.origin.file.clone(), line);
                if self.recent.insert(key.clone(), (t, shown)).is_none() {
                    self.recent_order.push_back(key);
                }
                while self.recent_order.len() > RECENT_CAP {
                    if let Some(old) = self.recent_order.pop_front() {
                        self.recent.remove(&old);
                    }
                }
            }
            for m in &feeds {
                self.correlator.observe(m.rule, ev, &mut self.hits);
            }
            let hits: Vec<CorrelationHit> = self.hits.drain(..).collect();
            for h in hits {
                if let Some(d) = self.correlation_detection(h) {
                    out.push(d);
                }
            }
        }
        self.matches = matches;
    }

    fn event_detection(&self, m: &EventMatch, ev: &Event) -> Detection {
        let rule = self.engine.rules().get(m.rule);
        let (id, title, level, tags) = rule.map_or_else(
            || (String::new(), String::new(), Level::Medium, Vec::new()),
            |r| (r.id.clone(), r.title.clone(), r.level, r.tags.clone()),
        );
        let fields: Vec<(String, String)> = m
            .fields
            .iter()
            .filter_map(|f| ev.get(f).map(|v| (f.to_string(), text_of(v))))
            .collect();
        let host = first_text(ev, HOST_FIELDS);
        let user = first_text(ev, USER_FIELDS);
        let source = first_text(ev, SOURCE_FIELDS);
        let mut summary = title.clone();
        if let Some(u) = &user {
            summary.push_str(&format!(" user {u}"));
        }
        if let Some(s) = &source {
            summary.push_str(&format!(" from {s}"));
        }
        Detection {
            rule_id: id,
            title,
            level,
            tags,
            time: ev.time,
            host,
            user,
            source,
            summary,
            correlation: None,
            events: vec![EventRef {
                file: ev.origin.file.to_string(),
                record_id: ev.origin.record_id,
                line: ev.origin.line,
                time: ev.time,
                fields,
            }],
        }
    }

    fn correlation_detection(&self, h: CorrelationHit) -> Option<Detection> {
        let rule = self.engine.rules().get(h.rule)?;
        if !rule.emits || rule.level < self.min_level {
            return None;
        }
        let kind = rule.correlation.clone().unwrap_or_default();
        let group_text = h
            .group
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(none)")))
            .collect::<Vec<_>>()
            .join(" ");
        let what = match kind.as_str() {
            "value_count" => format!("{} distinct values", h.count),
            "event_count" => format!("{} events", h.count),
            _ => "all stages seen".to_string(),
        };
        let secs = (h.window.1 - h.window.0).max(0) / 1_000_000;
        let events = h
            .events
            .iter()
            .take(MAX_EVENTS)
            .map(|o| {
                let known = o
                    .line
                    .and_then(|l| self.recent.get(&(o.file.clone(), l)).cloned());
                EventRef {
                    file: o.file.to_string(),
                    record_id: o.record_id,
                    line: o.line,
                    time: known.as_ref().map(|k| k.0),
                    fields: known.map(|k| k.1).unwrap_or_default(),
                }
            })
            .collect();
        Some(Detection {
            rule_id: rule.id.clone(),
            title: rule.title.clone(),
            level: rule.level,
            tags: rule.tags.clone(),
            time: Some(h.window.1),
            host: group_pick(&h.group, HOST_FIELDS),
            user: group_pick(&h.group, USER_FIELDS),
            source: group_pick(&h.group, SOURCE_FIELDS),
            summary: format!("{}: {what} in {secs}s for {group_text}", rule.title),
            correlation: Some(CorrelationInfo {
                kind,
                group: h.group,
                window: h.window,
                count: h.count,
                distinct: h.distinct,
            }),
            events,
        })
    }
}

// ---------------------------------------------------------------- files

/// Where reading of one file stands (persisted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMark {
    /// Device of the file read.
    pub dev: u64,
    /// Inode of the file read (0 where unknown).
    pub ino: u64,
    /// Bytes consumed.
    pub offset: u64,
    /// Lines consumed.
    pub line: u64,
}

/// New complete lines of a followed file.
#[derive(Debug)]
pub struct Chunk {
    /// The lines (each ending in a newline).
    pub bytes: Vec<u8>,
    /// The line number of the first line, minus one.
    pub first_line: u64,
    /// The mark to commit once the chunk's detections are queued.
    pub end: FileMark,
    /// True when the chunk filled [`CHUNK_BYTES`] (more may be waiting).
    pub full: bool,
}

/// One followed log file.
#[derive(Debug)]
pub struct FileTail {
    path: PathBuf,
    mark: Option<FileMark>,
    open: Option<File>,
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(_m: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

impl FileTail {
    /// Follows `path` from `mark` (the persisted position), or from its
    /// start when there is none.
    pub fn new(path: &Path, mark: Option<FileMark>) -> FileTail {
        FileTail {
            path: path.to_path_buf(),
            mark,
            open: None,
        }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The committed position.
    pub fn mark(&self) -> Option<FileMark> {
        self.mark
    }

    /// Commits a chunk's end (call after its detections are queued).
    pub fn commit(&mut self, end: FileMark) {
        self.mark = Some(end);
    }

    /// A rotated copy of the file we were reading (same device and inode)
    /// next to it, e.g. `auth.log.1` after `logrotate` renamed `auth.log`.
    fn find_rotated(&self, dev: u64, ino: u64) -> Option<File> {
        let dir = self.path.parent()?;
        let base = self.path.file_name()?.to_string_lossy().into_owned();
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == base || !name.starts_with(&base) {
                continue;
            }
            if let Ok(m) = e.metadata() {
                if m.is_file() && identity(&m) == (dev, ino) {
                    return File::open(e.path()).ok();
                }
            }
        }
        None
    }

    /// Reads the next chunk of complete lines, following rotation (a new
    /// file at the path: the rest of the old one is read first) and
    /// truncation (`copytruncate`: read again from the start).
    pub fn poll(&mut self) -> std::io::Result<Option<Chunk>> {
        let current = match std::fs::metadata(&self.path) {
            Ok(m) => Some((identity(&m), m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if self.open.is_none() {
            match (self.mark, current) {
                (Some(mark), Some(((dev, ino), len))) if (dev, ino) == (mark.dev, mark.ino) => {
                    self.open = Some(File::open(&self.path)?);
                    if len < mark.offset {
                        self.mark = Some(FileMark {
                            dev,
                            ino,
                            offset: 0,
                            line: 0,
                        });
                    }
                }
                (Some(mark), cur) => {
                    // Rotated while we were not running: finish the old file.
                    if let Some(f) = self.find_rotated(mark.dev, mark.ino) {
                        self.open = Some(f);
                    } else if let Some(((dev, ino), _)) = cur {
                        self.open = Some(File::open(&self.path)?);
                        self.mark = Some(FileMark {
                            dev,
                            ino,
                            offset: 0,
                            line: 0,
                        });
                    } else {
                        return Ok(None);
                    }
                }
                (None, Some(((dev, ino), _))) => {
                    self.open = Some(File::open(&self.path)?);
                    self.mark = Some(FileMark {
                        dev,
                        ino,
                        offset: 0,
                        line: 0,
                    });
                }
                (None, None) => return Ok(None),
            }
        }
        let mark = self.mark.unwrap_or_default();
        let chunk = self.read_from_open(mark, false)?;
        if chunk.is_some() {
            return Ok(chunk);
        }
        // Nothing new in the open file: has the path moved on?
        match current {
            Some(((dev, ino), len)) if (dev, ino) != (mark.dev, mark.ino) => {
                // Rotated: a last partial line of the old file counts.
                if let Some(c) = self.read_from_open(mark, true)? {
                    return Ok(Some(c));
                }
                self.open = Some(File::open(&self.path)?);
                self.mark = Some(FileMark {
                    dev,
                    ino,
                    offset: 0,
                    line: 0,
                });
                let _ = len;
                self.read_from_open(self.mark.unwrap_or_default(), false)
            }
            Some((_, len)) if len < mark.offset => {
                // Truncated in place.
                self.mark = Some(FileMark {
                    offset: 0,
                    line: 0,
                    ..mark
                });
                self.read_from_open(self.mark.unwrap_or_default(), false)
            }
            _ => Ok(None),
        }
    }

    fn read_from_open(&mut self, mark: FileMark, last: bool) -> std::io::Result<Option<Chunk>> {
        let Some(f) = self.open.as_mut() else {
            return Ok(None);
        };
        f.seek(SeekFrom::Start(mark.offset))?;
        let mut buf = Vec::new();
        f.take(CHUNK_BYTES as u64).read_to_end(&mut buf)?;
        if buf.is_empty() {
            return Ok(None);
        }
        let full = buf.len() >= CHUNK_BYTES;
        let mut bytes = buf;
        let consumed = match memchr_last(&bytes) {
            Some(i) => {
                bytes.truncate(i + 1);
                i + 1
            }
            // One line longer than a chunk: skip it (the reader would too).
            None if full => bytes.len(),
            // The last, unterminated line of a rotated-away file.
            None if last => {
                let n = bytes.len();
                bytes.push(b'\n');
                n
            }
            None => return Ok(None),
        };
        let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
        Ok(Some(Chunk {
            first_line: mark.line,
            end: FileMark {
                offset: mark.offset + consumed as u64,
                line: mark.line + lines,
                ..mark
            },
            bytes,
            full,
        }))
    }
}

fn memchr_last(buf: &[u8]) -> Option<usize> {
    buf.iter().rposition(|b| *b == b'\n')
}

/// The events of a chunk of syslog lines from `name`, with absolute line
/// numbers. Lines without a recognised envelope are skipped.
pub fn syslog_events(name: &str, chunk: &Chunk, sink: &mut dyn FnMut(Event)) {
    let _ = portcullis_events::read_bytes(
        name,
        &chunk.bytes,
        Format::Syslog,
        &ReadOptions::default(),
        &mut |mut ev: Event| {
            ev.origin.line = ev.origin.line.map(|l| l + chunk.first_line);
            sink(ev);
        },
    );
}

// ---------------------------------------------------------------- journald

/// New journal records.
#[derive(Debug, Default)]
pub struct JournalBatch {
    /// The events.
    pub events: Vec<Event>,
    /// The cursor of the last record read (commit it after queuing).
    pub cursor: Option<String>,
    /// True when the batch was cut at [`JOURNAL_BATCH`] records.
    pub full: bool,
}

/// Follows journald's authentication facilities (auth, authpriv) through
/// `journalctl -o json --after-cursor`.
#[derive(Debug)]
pub struct Journal {
    command: PathBuf,
    cursor: Option<String>,
}

impl Journal {
    /// Follows from `cursor` (else from the last hour), running `command`
    /// (`journalctl`).
    pub fn new(command: &Path, cursor: Option<String>) -> Journal {
        Journal {
            command: command.to_path_buf(),
            cursor,
        }
    }

    /// The committed cursor.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Commits a batch's cursor.
    pub fn commit(&mut self, cursor: String) {
        self.cursor = Some(cursor);
    }

    /// Reads the records after the cursor.
    pub fn poll(&mut self) -> std::io::Result<JournalBatch> {
        let mut cmd = Command::new(&self.command);
        cmd.args(["-o", "json", "--no-pager", "-q"]);
        match &self.cursor {
            Some(c) => cmd.arg(format!("--after-cursor={c}")),
            None => cmd.arg("--since=-1h"),
        };
        cmd.args(["SYSLOG_FACILITY=4", "SYSLOG_FACILITY=10"]);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut batch = JournalBatch::default();
        if let Some(out) = child.stdout.take() {
            let file: Arc<str> = Arc::from("journald");
            let mut reader = BufReader::new(out);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader
                    .by_ref()
                    .take(portcullis_events::MAX_LINE as u64)
                    .read_until(b'\n', &mut line)?;
                if n == 0 {
                    break;
                }
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
                    continue;
                };
                if let Some(c) = v.get("__CURSOR").and_then(|c| c.as_str()) {
                    batch.cursor = Some(c.to_owned());
                }
                let _ = portcullis_events::read_bytes(
                    &file,
                    &line,
                    Format::JournalJson,
                    &ReadOptions::default(),
                    &mut |ev| batch.events.push(ev),
                );
                if batch.events.len() >= JOURNAL_BATCH {
                    batch.full = true;
                    break;
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn spray(from: &str, users: usize, minute: u32) -> String {
        (0..users)
            .map(|i| {
                format!(
                    "Nov 22 10:{minute:02}:{:02} web sshd[100{i}]: Failed password for invalid user u{i} from {from} port 4{i:04} ssh2\n",
                    i % 60
                )
            })
            .collect()
    }

    fn append(p: &Path, s: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap();
        f.write_all(s.as_bytes()).unwrap();
    }

    fn drain(t: &mut FileTail, det: &mut Detector) -> (u64, Vec<Detection>) {
        let mut out = Vec::new();
        let mut events = 0;
        while let Some(c) = t.poll().unwrap() {
            syslog_events("auth.log", &c, &mut |ev| {
                events += 1;
                det.observe(&ev, &mut out);
            });
            t.commit(c.end);
        }
        (events, out)
    }

    #[test]
    fn spray_lines_fire_the_bundled_rule_once() {
        let (mut det, issues) = Detector::new(&[], Level::Low);
        assert!(issues.is_empty(), "{issues:?}");
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auth.log");
        append(&p, &spray("203.0.113.7", 12, 0));
        let mut t = FileTail::new(&p, None);
        let (n, out) = drain(&mut t, &mut det);
        assert_eq!(n, 12);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].title.starts_with("Password Spray - SSH"),
            "{}",
            out[0].title
        );
        assert_eq!(out[0].source.as_deref(), Some("203.0.113.7"));
        assert_eq!(t.mark().unwrap().line, 12);
    }

    #[test]
    fn partial_lines_wait_rotation_and_truncation_are_followed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auth.log");
        append(&p, "line one\nline tw");
        let mut t = FileTail::new(&p, None);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"line one\n");
        t.commit(c.end);
        assert!(t.poll().unwrap().is_none(), "a partial line waits");
        append(&p, "o\n");
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"line two\n");
        assert_eq!(c.first_line, 1);
        t.commit(c.end);
        // logrotate: rename, the writer adds one more line to the old
        // inode, a new file appears.
        std::fs::rename(&p, d.path().join("auth.log.1")).unwrap();
        append(&d.path().join("auth.log.1"), "late old\n");
        append(&p, "new one\n");
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"late old\n");
        t.commit(c.end);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"new one\n");
        assert_eq!(c.first_line, 0);
        t.commit(c.end);
        // A restart from the persisted mark resumes without repeats.
        let mark = t.mark();
        let mut t = FileTail::new(&p, mark);
        assert!(t.poll().unwrap().is_none());
        append(&p, "new two\n");
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"new two\n");
        t.commit(c.end);
        // copytruncate.
        std::fs::write(&p, "").unwrap();
        assert!(t.poll().unwrap().is_none());
        append(&p, "after\n");
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"after\n");
        t.commit(c.end);
        // Rotated while the agent was stopped: the rest of the old file
        // first, then the new one.
        let mark = t.mark();
        append(&p, "tail of old\n");
        std::fs::rename(&p, d.path().join("auth.log.1")).unwrap();
        append(&p, "fresh\n");
        let mut t = FileTail::new(&p, mark);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"tail of old\n");
        t.commit(c.end);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"fresh\n");
    }

    #[test]
    fn the_unterminated_last_line_of_a_rotated_file_is_read_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auth.log");
        append(&p, "one\nx");
        let mut t = FileTail::new(&p, None);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"one\n");
        t.commit(c.end);
        std::fs::rename(&p, d.path().join("auth.log.1")).unwrap();
        append(&p, "two\n");
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"x\n");
        assert_eq!(c.end.offset, 5);
        t.commit(c.end);
        let c = t.poll().unwrap().unwrap();
        assert_eq!(c.bytes, b"two\n");
        t.commit(c.end);
        assert!(t.poll().unwrap().is_none());
    }

    #[test]
    fn journal_records_from_a_journalctl_stand_in() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("journalctl");
        let args_file = d.path().join("args");
        let mut body = String::from("#!/bin/sh\necho \"$@\" > ");
        body.push_str(&args_file.display().to_string());
        body.push('\n');
        for i in 0..12 {
            body.push_str(&format!(
                "echo '{{\"__CURSOR\":\"c{i}\",\"__REALTIME_TIMESTAMP\":\"17637960{i:02}000000\",\"_HOSTNAME\":\"web\",\"SYSLOG_IDENTIFIER\":\"sshd\",\"MESSAGE\":\"Failed password for invalid user u{i} from 198.51.100.9 port 5{i:04} ssh2\"}}'\n"
            ));
        }
        std::fs::write(&script, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut j = Journal::new(&script, None);
        let b = j.poll().unwrap();
        assert_eq!(b.events.len(), 12);
        assert_eq!(b.cursor.as_deref(), Some("c11"));
        let args = std::fs::read_to_string(&args_file).unwrap();
        assert!(args.contains("--since=-1h"), "{args}");
        let (mut det, _) = Detector::new(&[], Level::Low);
        let mut out = Vec::new();
        for ev in &b.events {
            det.observe(ev, &mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        j.commit(b.cursor.unwrap());
        let _ = j.poll().unwrap();
        let args = std::fs::read_to_string(&args_file).unwrap();
        assert!(args.contains("--after-cursor=c11"), "{args}");
    }
}
