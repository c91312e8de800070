//! Walking the inputs, reading and matching files on worker threads, and
//! feeding matched events to the correlation engine in event-time order.

use crate::engine::{CorrelationHit, CorrelationStats, Correlator, Engine, EventMatch};
use crate::{CorrelationInfo, Detection, EventRef, HuntOptions};
use portcullis_events::{Event, Format, ReadOptions, TextRange, Value};
use portcullis_model::Diagnostic;
use smallvec::SmallVec;
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

/// Most events kept per correlation detection in the output.
const MAX_EVENTS_PER_DETECTION: usize = 100;
/// Bytes read to detect a format.
const HEAD: usize = 8192;

/// An input that could not be read at all (the run is then partial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    /// The path.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct HuntReport {
    /// Files read.
    pub files_read: usize,
    /// Files in walked directories whose format was not recognised (skipped quietly).
    pub files_unrecognised: usize,
    /// Events read.
    pub events: u64,
    /// Events without a time (cannot take part in correlations).
    pub events_without_time: u64,
    /// Detections reported (at or above the minimum level).
    pub detections: u64,
    /// Problems inside files (damaged records, lines, chunks): skipped parts.
    pub diagnostics: Vec<Diagnostic>,
    /// Inputs that could not be read at all.
    pub unreadable: Vec<InputProblem>,
    /// Correlation counters.
    pub correlation: CorrelationStats,
    /// Times the correlation buffer cap forced an early flush.
    pub buffer_flushes: u64,
}

struct Job {
    path: PathBuf,
    shown: Arc<str>,
    format: Format,
    size: u64,
    /// A byte range of a large file read in parts: (file number, part, range).
    part: Option<(usize, usize, TextRange)>,
}

/// A matched event waiting for the correlation engine.
struct Pending {
    time: i64,
    /// The event with only the fields its correlations read.
    event: Event,
    /// The correlation-feeding rules it matched (rarely more than four:
    /// held inline, so the coordinator frees no list).
    rules: SmallVec<[usize; 4]>,
    /// The matched fields' text (shown in correlation detections).
    shown: Packed,
}

/// (name, text) pairs packed into one string, each part written as its
/// byte length, `:`, then its bytes: one allocation per remembered event
/// instead of two per field plus the list (the coordinator frees them, and
/// freeing another thread's allocations is dear).
#[derive(Debug, Default)]
struct Packed(String);

impl Packed {
    fn push(&mut self, name: &str, text: &str) {
        let mut n = itoa::Buffer::new();
        self.0.push_str(n.format(name.len()));
        self.0.push(':');
        self.0.push_str(name);
        self.0.push_str(n.format(text.len()));
        self.0.push(':');
        self.0.push_str(text);
    }

    /// [`Packed::push`] of a value's text, without an intermediate string
    /// for text and numbers.
    fn push_value(&mut self, name: &str, v: &Value) {
        match v {
            Value::Str(t) => self.push(name, t),
            Value::Int(i) => self.push(name, itoa::Buffer::new().format(*i)),
            other => self.push(name, &value_text(other)),
        }
    }

    /// The pairs in the order pushed (stops at anything malformed).
    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut rest = self.0.as_str();
        std::iter::from_fn(move || {
            let (name, r) = take_part(rest)?;
            let (text, r) = take_part(r)?;
            rest = r;
            Some((name, text))
        })
    }

    fn unpack(&self) -> Vec<(String, String)> {
        self.pairs()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// One length-prefixed part of a [`Packed`] string and what follows it.
fn take_part(s: &str) -> Option<(&str, &str)> {
    let (len, rest) = s.split_once(':')?;
    let len: usize = len.parse().ok()?;
    Some((rest.get(..len)?, rest.get(len..)?))
}

/// Matched events sent to the coordinator in chunks of this many.
const CHUNK: usize = 1024;

/// Messages of one job, in the order the job produced them. The
/// coordinator takes jobs' messages strictly in job order (each job has its
/// own bounded queue), so the output does not depend on thread timing.
enum Msg {
    Detections(Vec<Detection>),
    Chunk(Vec<Pending>),
    FileDone {
        part: Option<(usize, usize)>,
        file: Arc<str>,
        host: Option<String>,
        events: u64,
        untimed: u64,
        diags: Vec<Diagnostic>,
    },
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; HEAD];
    let mut n = 0;
    while n < HEAD {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    buf.truncate(n);
    Ok(buf)
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Expand the inputs into jobs: files as given, directories walked
/// recursively (files of unknown format skipped quietly), `-` spooled.
fn collect_jobs(
    inputs: &[PathBuf],
    report: &mut HuntReport,
    spool: &mut Option<tempfile::NamedTempFile>,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            match spool_stdin() {
                Ok(tmp) => {
                    let head = read_head(tmp.path()).unwrap_or_default();
                    match Format::detect("-", &head) {
                        Some(format) => {
                            jobs.push(Job {
                                path: tmp.path().to_path_buf(),
                                shown: Arc::from("-"),
                                format,
                                size: 0,
                                part: None,
                            });
                            *spool = Some(tmp);
                        }
                        None => report.unreadable.push(InputProblem {
                            path: "-".into(),
                            message: "standard input is not a recognised log format (EVTX, Windows event JSON, syslog, journald JSON, Entra sign-in JSON)".into(),
                        }),
                    }
                }
                Err(e) => report.unreadable.push(InputProblem {
                    path: "-".into(),
                    message: format!("cannot read standard input: {e}"),
                }),
            }
            continue;
        }
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                report.unreadable.push(InputProblem {
                    path: input.display().to_string(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if meta.is_dir() {
            let mut files: Vec<walkdir::DirEntry> = Vec::new();
            for entry in walkdir::WalkDir::new(input).follow_links(false) {
                match entry {
                    Ok(e) if e.file_type().is_file() => files.push(e),
                    Ok(_) => {}
                    Err(e) => report.unreadable.push(InputProblem {
                        path: e.path().map_or_else(
                            || input.display().to_string(),
                            |p| p.display().to_string(),
                        ),
                        message: format!("cannot walk: {e}"),
                    }),
                }
            }
            files.sort_by(|a, b| a.path().cmp(b.path()));
            for e in files {
                let p = e.path();
                match read_head(p) {
                    Ok(head) => match Format::detect(&name_of(p), &head) {
                        Some(format) => jobs.push(Job {
                            path: p.to_path_buf(),
                            shown: Arc::from(p.display().to_string()),
                            format,
                            size: e.metadata().map(|m| m.len()).unwrap_or(0),
                            part: None,
                        }),
                        None => report.files_unrecognised += 1,
                    },
                    Err(err) => report.unreadable.push(InputProblem {
                        path: p.display().to_string(),
                        message: format!("cannot read: {err}"),
                    }),
                }
            }
        } else {
            match read_head(input) {
                Ok(head) => match Format::detect(&name_of(input), &head) {
                    Some(format) => jobs.push(Job {
                        path: input.clone(),
                        shown: Arc::from(input.display().to_string()),
                        format,
                        size: meta.len(),
                        part: None,
                    }),
                    None => report.unreadable.push(InputProblem {
                        path: input.display().to_string(),
                        message: "not a recognised log format (EVTX, Windows event JSON, syslog auth log, journald JSON, Entra sign-in JSON)".into(),
                    }),
                },
                Err(e) => report.unreadable.push(InputProblem {
                    path: input.display().to_string(),
                    message: format!("cannot read: {e}"),
                }),
            }
        }
    }
    // Largest first, so the last file does not run alone on one core.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.size));
    jobs
}

fn spool_stdin() -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::NamedTempFile::new()?;
    std::io::copy(&mut std::io::stdin().lock(), tmp.as_file_mut())?;
    Ok(tmp)
}

/// A field's value as text.
pub(crate) fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.to_string(),
        Value::List(items) => items.iter().map(value_text).collect::<Vec<_>>().join(","),
    }
}

fn first_text(event: &Event, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        event
            .get(n)
            .map(value_text)
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

fn event_detection(engine: &Engine, m: &EventMatch, event: &Event) -> Option<Detection> {
    let rule = engine.rules().get(m.rule)?;
    let mut fields: Vec<(String, String)> = Vec::with_capacity(m.fields.len());
    for f in &m.fields {
        if let Some(v) = event.get(f) {
            fields.push((f.to_string(), value_text(v)));
        }
    }
    let event_id = first_text(event, &["EventID"]);
    let host = first_text(event, HOST_FIELDS);
    let user = first_text(event, USER_FIELDS);
    let source = first_text(event, SOURCE_FIELDS);
    let mut summary = rule.title.clone();
    if let Some(id) = &event_id {
        summary.push_str(&format!(" (EventID {id})"));
    }
    if let Some(u) = &user {
        summary.push_str(&format!(" user {u}"));
    }
    if let Some(s) = &source {
        summary.push_str(&format!(" from {s}"));
    }
    Some(Detection {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        level: rule.level,
        tags: rule.tags.clone(),
        time: event.time,
        host,
        user,
        source,
        summary,
        correlation: None,
        events: vec![EventRef {
            file: event.origin.file.to_string(),
            record_id: event.origin.record_id,
            line: event.origin.line,
            time: event.time,
            fields,
        }],
    })
}

fn correlation_detection(engine: &Engine, hit: CorrelationHit) -> Option<Detection> {
    let rule = engine.rules().get(hit.rule)?;
    let kind = rule.correlation.clone().unwrap_or_default();
    let source = group_pick(&hit.group, SOURCE_FIELDS);
    let user = group_pick(&hit.group, USER_FIELDS);
    let host = group_pick(&hit.group, HOST_FIELDS);
    let group_text = hit
        .group
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("(none)")))
        .collect::<Vec<_>>()
        .join(" ");
    let what = match kind.as_str() {
        "value_count" => format!("{} distinct values", hit.count),
        "event_count" => format!("{} events", hit.count),
        _ => "all stages seen".to_string(),
    };
    let secs = (hit.window.1 - hit.window.0).max(0) / 1_000_000;
    let summary = format!("{}: {what} in {secs}s for {group_text}", rule.title);
    let events = hit
        .events
        .iter()
        .take(MAX_EVENTS_PER_DETECTION)
        .map(|o| EventRef {
            file: o.file.to_string(),
            record_id: o.record_id,
            line: o.line,
            time: None,
            fields: Vec::new(),
        })
        .collect();
    Some(Detection {
        rule_id: rule.id.clone(),
        title: rule.title.clone(),
        level: rule.level,
        tags: rule.tags.clone(),
        time: Some(hit.window.1),
        host,
        user,
        source,
        summary,
        correlation: Some(CorrelationInfo {
            kind,
            group: hit.group,
            window: hit.window,
            count: hit.count,
            distinct: hit.distinct,
        }),
        events,
    })
}

/// Single-event detections sent to the coordinator in batches of this many.
const DETECTION_BATCH: usize = 256;
/// Messages queued per job before its worker waits for the coordinator:
/// enough for a whole 16 MiB range of a typical auth log (about 30
/// chunks), so the worker on the next range does not wait on the one
/// being merged; at most about 13 MiB of events per job ahead.
const JOB_QUEUE: usize = 64;

/// Counts a worker thread down when it ends (normally or not).
struct Alive<'a>(&'a AtomicUsize);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// The sending ends of the jobs' queues: a worker takes its job's sender
/// and drops it when done (also when unwinding), which ends that queue.
type Senders = [std::sync::Mutex<Option<mpsc::SyncSender<Msg>>>];

fn worker(
    engine: &Engine,
    options: &HuntOptions,
    jobs: &[Job],
    next: &AtomicUsize,
    senders: &Senders,
) {
    let read_options = ReadOptions { year: options.year };
    // rule → the fields its correlations read (None: feeds none)
    let corr_fields: Vec<Option<Vec<&str>>> = engine
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| r.feeds_correlation.then(|| engine.correlation_fields(i)))
        .collect();
    let mut scratch = engine.scratch();
    let mut matches: Vec<EventMatch> = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { return };
        let Some(tx) = senders
            .get(i)
            .and_then(|m| m.lock().ok().and_then(|mut s| s.take()))
        else {
            continue;
        };
        let mut corr: Vec<Pending> = Vec::with_capacity(CHUNK);
        let mut found: Vec<Detection> = Vec::new();
        let mut events = 0u64;
        let mut untimed = 0u64;
        let mut host: Option<String> = None;
        let spooled = &*job.shown == "-";
        let part = job.part.as_ref().map(|(f, k, _)| (*f, *k));
        let mut on_event = |mut ev: Event| {
            events += 1;
            if options.parse_only {
                return;
            }
            if spooled {
                ev.origin.file = job.shown.clone();
            }
            if host.is_none() {
                host = first_text(&ev, HOST_FIELDS);
            }
            matches.clear();
            engine.matches(&ev, &mut scratch, &mut matches);
            let mut feeds = 0usize;
            for m in &matches {
                let Some(rule) = engine.rules().get(m.rule) else {
                    continue;
                };
                if rule.emits && rule.level >= options.min_level {
                    if let Some(d) = event_detection(engine, m, &ev) {
                        found.push(d);
                        if found.len() >= DETECTION_BATCH {
                            let _ = tx.send(Msg::Detections(std::mem::take(&mut found)));
                        }
                    }
                }
                if rule.feeds_correlation {
                    feeds += 1;
                }
            }
            if feeds > 0 {
                match ev.time {
                    Some(t) => {
                        let mut rules: SmallVec<[usize; 4]> = SmallVec::with_capacity(feeds);
                        let mut shown = Packed::default();
                        let mut shown_names: SmallVec<[&str; 8]> = SmallVec::new();
                        // The names the correlations read, once per event.
                        let mut wanted: SmallVec<[&str; 8]> = SmallVec::new();
                        for m in &matches {
                            let Some(Some(names)) = corr_fields.get(m.rule) else {
                                continue;
                            };
                            rules.push(m.rule);
                            for n in names {
                                if !wanted.contains(n) {
                                    wanted.push(n);
                                }
                            }
                            for f in &m.fields {
                                if !shown_names.contains(&&**f) {
                                    shown_names.push(f);
                                    if let Some(v) = ev.get(f) {
                                        shown.push_value(f, v);
                                    }
                                }
                            }
                        }
                        // Keep only what the correlations read, in a list
                        // of just that size (the event's own is dropped).
                        let keep = ev
                            .fields
                            .iter()
                            .filter(|(k, _)| wanted.contains(&&**k))
                            .count();
                        let mut kept = Vec::with_capacity(keep);
                        kept.extend(ev.fields.drain(..).filter(|(k, _)| wanted.contains(&&**k)));
                        ev.fields = kept;
                        corr.push(Pending {
                            time: t,
                            event: ev,
                            rules,
                            shown,
                        });
                        // Chunks go unsorted: the coordinator orders all
                        // it buffers by (time, arrival), which is the order
                        // a sorted chunk would give.
                        if corr.len() >= CHUNK {
                            let full = std::mem::replace(&mut corr, Vec::with_capacity(CHUNK));
                            let _ = tx.send(Msg::Chunk(full));
                        }
                    }
                    None => untimed += 1,
                }
            }
        };
        let diags = match &job.part {
            Some((_, _, range)) => {
                portcullis_events::read_range(&job.path, job.format, range, &mut on_event)
            }
            None => {
                portcullis_events::read_path(&job.path, job.format, &read_options, &mut on_event)
            }
        };
        if !found.is_empty() {
            let _ = tx.send(Msg::Detections(found));
        }
        if !corr.is_empty() {
            let _ = tx.send(Msg::Chunk(corr));
        }
        let mut diags = diags;
        for d in &mut diags {
            if spooled {
                d.path = "-".into();
            }
        }
        // Dropping `tx` after this ends the job's queue.
        let _ = tx.send(Msg::FileDone {
            part,
            file: job.shown.clone(),
            host,
            events,
            untimed,
            diags,
        });
    }
}

/// (the event's number, its time, its matched fields).
type Recent = (u64, i64, Packed);

/// (correlation rule, group values).
type OpenKey = (usize, Vec<(String, Option<String>)>);

/// The coordinator's correlation side: ordering buffer, the engine, recent
/// event details (to give correlation detections their events' times and
/// fields), per-file hosts, and coalescing of repeated window hits.
struct CorrSide<'e> {
    engine: &'e Engine,
    correlator: Correlator<'e>,
    buffered: Vec<Vec<Pending>>,
    buffered_len: usize,
    /// (time, chunk << 32 | position in the chunk), sorted (reused): the
    /// buffered events in time order, ties in arrival order.
    order: Vec<(i64, u64)>,
    /// The last [`RECENT_CAP`] events fed, by number (`Origin::seq`, set
    /// here in feeding order): a correlation's events find their details
    /// by position, without a hash.
    recent: VecDeque<Recent>,
    seq: u64,
    hosts: HashMap<Arc<str>, String>,
    /// (rule, group) → the detection being extended.
    open: HashMap<OpenKey, CorrelationHit>,
    hits: Vec<CorrelationHit>,
    min_level: crate::Level,
    detections: u64,
}

/// Event details remembered for correlation output.
const RECENT_CAP: usize = 50_000;

impl<'e> CorrSide<'e> {
    fn push(
        &mut self,
        c: Vec<Pending>,
        options: &HuntOptions,
        report: &mut HuntReport,
        sink: &mut dyn FnMut(Detection),
    ) {
        self.buffered_len += c.len();
        self.buffered.push(c);
        if self.buffered_len > options.correlation_buffer_cap {
            report.buffer_flushes += 1;
            self.feed(sink);
        }
    }

    fn feed(&mut self, sink: &mut dyn FnMut(Detection)) {
        let mut chunks = std::mem::take(&mut self.buffered);
        self.buffered_len = 0;
        // Time order, ties in arrival order (a stable sort), by sorting
        // (time, position) keys in place; the events stay in their chunks.
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        for (c, chunk) in chunks.iter().enumerate() {
            order.extend(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.time, ((c as u64) << 32) | i as u64)),
            );
        }
        order.sort_unstable();
        for &(_, at) in &order {
            let (c, i) = ((at >> 32) as usize, (at & 0xffff_ffff) as usize);
            let Some(p) = chunks.get_mut(c).and_then(|c| c.get_mut(i)) else {
                continue;
            };
            self.seq += 1;
            p.event.origin.seq = self.seq;
            let shown = std::mem::take(&mut p.shown);
            self.recent.push_back((self.seq, p.time, shown));
            if self.recent.len() > RECENT_CAP {
                self.recent.pop_front();
            }
            for rule in &p.rules {
                self.correlator.observe(*rule, &p.event, &mut self.hits);
            }
            self.take_hits(sink);
        }
        chunks.clear();
        self.buffered = chunks;
        self.order = order;
    }

    /// Coalesce: a hit whose window overlaps the open detection of the
    /// same rule and group extends it; otherwise the open one is emitted.
    fn take_hits(&mut self, sink: &mut dyn FnMut(Detection)) {
        let hits: Vec<CorrelationHit> = self.hits.drain(..).collect();
        for h in hits {
            let Some(rule) = self.engine.rules().get(h.rule) else {
                continue;
            };
            if !rule.emits || rule.level < self.min_level {
                continue;
            }
            let key = (h.rule, h.group.clone());
            let span = rule.timespan_us;
            let kind = rule.correlation.clone().unwrap_or_default();
            match self.open.get_mut(&key) {
                // After a hit the engine stays quiet for one timespan, then
                // counts afresh: a hit starting within two timespans of the
                // previous one's end is the same activity.
                Some(cur) if h.window.0 <= cur.window.1.saturating_add(span.saturating_mul(2)) => {
                    cur.window.1 = cur.window.1.max(h.window.1);
                    for d in h.distinct {
                        if cur.distinct.len() < 10_000 && !cur.distinct.contains(&d) {
                            cur.distinct.push(d);
                        }
                    }
                    cur.count = match kind.as_str() {
                        "event_count" => cur.count.saturating_add(h.count),
                        "value_count" => cur.count.max(h.count).max(cur.distinct.len() as u64),
                        _ => cur.count.max(h.count),
                    };
                    for o in h.events {
                        if cur.events.len() < MAX_EVENTS_PER_DETECTION && !cur.events.contains(&o) {
                            cur.events.push(o);
                        }
                    }
                }
                _ => {
                    if let Some(prev) = self.open.insert(key, h) {
                        self.emit(prev, sink);
                    }
                }
            }
        }
    }

    fn emit(&mut self, h: CorrelationHit, sink: &mut dyn FnMut(Detection)) {
        let first_file = h.events.first().map(|o| o.file.clone());
        let seqs: Vec<u64> = h.events.iter().map(|o| o.seq).collect();
        if let Some(mut d) = correlation_detection(self.engine, h) {
            let first = self.recent.front().map_or(0, |r| r.0);
            for (e, seq) in d.events.iter_mut().zip(seqs) {
                let at = seq.checked_sub(first).and_then(|i| usize::try_from(i).ok());
                if let Some((s, t, f)) = at.and_then(|i| self.recent.get(i)) {
                    if *s == seq {
                        e.time = Some(*t);
                        e.fields = f.unpack();
                    }
                }
            }
            if d.host.is_none() {
                d.host = first_file.and_then(|f| self.hosts.get(&f).cloned());
            }
            self.detections += 1;
            sink(d);
        }
    }

    fn finish(&mut self, sink: &mut dyn FnMut(Detection)) {
        self.feed(sink);
        self.correlator.finish(&mut self.hits);
        self.take_hits(sink);
        let mut open: Vec<CorrelationHit> = self.open.drain().map(|(_, h)| h).collect();
        open.sort_by(|a, b| {
            a.window
                .1
                .cmp(&b.window.1)
                .then(a.rule.cmp(&b.rule))
                .then_with(|| a.group.cmp(&b.group))
        });
        for h in open {
            self.emit(h, sink);
        }
    }
}

/// Replace each large line-oriented file's job by jobs for its byte
/// ranges, in file order. Also returns, per split file, its number of parts.
fn split_large(jobs: Vec<Job>, threads: usize, options: &HuntOptions) -> (Vec<Job>, Vec<usize>) {
    let read = &ReadOptions { year: options.year };
    let mut out = Vec::with_capacity(jobs.len());
    let mut parts = Vec::new();
    for job in jobs {
        let split = options.split_bytes > 0 && job.size >= options.split_bytes;
        let ranges = if threads > 1 && split && job.part.is_none() {
            portcullis_events::split_file(&job.path, job.format, read, options.range_bytes, threads)
        } else {
            None
        };
        match ranges {
            Some(ranges) => {
                let f = parts.len();
                parts.push(ranges.len());
                for (k, r) in ranges.into_iter().enumerate() {
                    out.push(Job {
                        path: job.path.clone(),
                        shown: job.shown.clone(),
                        format: job.format,
                        size: r.end.saturating_sub(r.start),
                        part: Some((f, k, r)),
                    });
                }
            }
            None => out.push(job),
        }
    }
    (out, parts)
}

pub(crate) fn run(
    engine: &Engine,
    options: &HuntOptions,
    inputs: &[PathBuf],
    sink: &mut dyn FnMut(Detection),
) -> HuntReport {
    let mut report = HuntReport::default();
    let mut spool = None;
    let jobs = collect_jobs(inputs, &mut report, &mut spool);
    let want = if options.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        options.threads
    }
    .max(1);
    let (jobs, parts) = split_large(jobs, want, options);
    let threads = want.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let mut side = CorrSide {
        engine,
        correlator: Correlator::new(engine, options.correlation_state_cap),
        buffered: Vec::new(),
        buffered_len: 0,
        order: Vec::new(),
        recent: VecDeque::new(),
        seq: 0,
        hosts: HashMap::new(),
        open: HashMap::new(),
        hits: Vec::new(),
        min_level: options.min_level,
        detections: 0,
    };
    let mut detections = 0u64;
    // One bounded queue per job, read strictly in job order: the
    // coordinator sees exactly the sequence a single thread would produce
    // (same detections, same correlation feeding, same output bytes), and
    // a worker running ahead waits once its job's queue is full.
    let mut receivers = Vec::with_capacity(jobs.len());
    let senders: Vec<std::sync::Mutex<Option<mpsc::SyncSender<Msg>>>> = jobs
        .iter()
        .map(|_| {
            let (tx, rx) = mpsc::sync_channel::<Msg>(JOB_QUEUE);
            receivers.push(rx);
            std::sync::Mutex::new(Some(tx))
        })
        .collect();
    let live = AtomicUsize::new(threads);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (jobs, next, senders, live) = (&jobs, &next, &senders, &live);
            // Named, so profilers and debuggers tell workers from the
            // coordinator; a failed spawn leaves the others to do the jobs.
            let spawned = std::thread::Builder::new()
                .name("hunt-worker".into())
                .spawn_scoped(scope, move || {
                    let _alive = Alive(live);
                    worker(engine, options, jobs, next, senders);
                });
            if spawned.is_err() {
                live.fetch_sub(1, Ordering::Release);
            }
        }
        for (i, rx) in receivers.iter().enumerate() {
            loop {
                let msg = match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                    Ok(m) => m,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // Every worker gone (only after a panic) with this
                        // job never taken: drop its sender and go on.
                        if live.load(Ordering::Acquire) == 0 {
                            if let Some(m) = senders.get(i) {
                                if let Ok(mut s) = m.lock() {
                                    s.take();
                                }
                            }
                        }
                        continue;
                    }
                };
                match msg {
                    Msg::Detections(list) => {
                        for d in list {
                            detections += 1;
                            sink(d);
                        }
                    }
                    Msg::Chunk(c) => side.push(c, options, &mut report, sink),
                    Msg::FileDone {
                        part,
                        file,
                        host,
                        events,
                        untimed,
                        diags,
                    } => {
                        let file_done = match part {
                            None => true,
                            Some((f, k)) => parts.get(f).is_none_or(|n| k + 1 >= *n),
                        };
                        if file_done {
                            report.files_read += 1;
                        }
                        report.events += events;
                        report.events_without_time += untimed;
                        report.diagnostics.extend(diags);
                        // A file's host is its first event's: for a file read in
                        // ranges, the first range's.
                        if let Some(h) = host.filter(|_| part.is_none_or(|(_, k)| k == 0)) {
                            side.hosts.insert(file, h);
                        }
                    }
                }
            }
        }
    });
    side.finish(sink);
    report.correlation = side.correlator.stats();
    report.detections = detections + side.detections;
    drop(spool);
    report
}

#[cfg(test)]
mod tests {
    use super::Packed;

    #[test]
    fn packed_fields_round_trip_with_separators_and_digits_in_them() {
        let mut p = Packed::default();
        p.push("user", "12:ab:");
        p.push("src_ip", "");
        p.push("ключ", "значение 3:x");
        assert_eq!(
            p.unpack(),
            vec![
                ("user".to_string(), "12:ab:".to_string()),
                ("src_ip".to_string(), String::new()),
                ("ключ".to_string(), "значение 3:x".to_string()),
            ]
        );
        assert!(Packed::default().unpack().is_empty());
    }
}
