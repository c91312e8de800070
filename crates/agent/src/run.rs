//! The agent's main loop: scheduled collection (assess, scan), collection
//! after package changes, log following into detections, and delivery.
//!
//! Threads: the main thread follows logs and keeps the schedule (it wakes
//! every `poll` interval, default 2 s, and otherwise sleeps); a delivery
//! thread sends the queue and sleeps on a condition variable when it is
//! empty; collection runs on its own short-lived thread so that a long
//! scan never delays detections. Nothing spins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::deliver::{deliver_pending, Backoff, Pass};
use crate::follow::{syslog_events, Detector, FileMark, FileTail, Journal};
use crate::queue::{Item, Queue};
use crate::state::StateDir;
use crate::{hex, now, random_hex, AgentError};

/// Exit code: stopped normally (with `--once`: everything delivered).
pub const EXIT_OK: u8 = 0;
/// Exit code: usage or configuration error (not enrolled, bad option).
pub const EXIT_USAGE: u8 = 2;
/// Exit code (`--once`): some submissions are still queued (the server
/// could not be reached); they are sent on the next run.
pub const EXIT_UNDELIVERED: u8 = 3;
/// Exit code: the server refused the host token (revoked): enrol again.
pub const EXIT_REVOKED: u8 = 4;

/// Produces one submission body (e.g. an assessment) or says why not.
pub type Collector = Box<dyn Fn() -> Result<Value, String> + Send + Sync>;

/// Receives one line worth telling the operator.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// Options of [`run`].
pub struct RunOptions {
    /// The state directory (enrolled).
    pub state_dir: PathBuf,
    /// How often to collect (assess, scan).
    pub interval: Duration,
    /// Log files to follow.
    pub logs: Vec<PathBuf>,
    /// Follow journald too, with this `journalctl`.
    pub journal: Option<PathBuf>,
    /// Exported Windows event logs (EVTX, e.g. `wevtutil epl Security`)
    /// hunted whole whenever they change; detections already sent are
    /// remembered and not sent again.
    pub exports: Vec<PathBuf>,
    /// Run once (collect, read logs to their end, deliver) and exit.
    pub once: bool,
    /// The root whose package databases are watched for changes.
    pub root: PathBuf,
    /// The queue's bound in bytes.
    pub max_queue_bytes: u64,
    /// The longest wait between delivery attempts.
    pub max_backoff: Duration,
    /// How often logs are polled.
    pub poll: Duration,
    /// Hunt tunables (`NAME=VALUE`, as `portcullis hunt --set`).
    pub settings: Vec<(String, String)>,
    /// The collectors: (submission kind, producer).
    pub collectors: Vec<(String, Collector)>,
    /// Where messages go.
    pub log: Logger,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("state_dir", &self.state_dir)
            .field("interval", &self.interval)
            .field("logs", &self.logs)
            .field("journal", &self.journal)
            .field("once", &self.once)
            .finish_non_exhaustive()
    }
}

/// Persisted follow positions.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FollowState {
    #[serde(default)]
    files: BTreeMap<String, FileMark>,
    #[serde(default)]
    journal_cursor: Option<String>,
    /// Keys of detections from exported logs already queued (newest last).
    #[serde(default)]
    exports_seen: Vec<String>,
}

/// Detection keys of exported logs remembered.
const EXPORTS_SEEN_CAP: usize = 10_000;

/// Persisted schedule.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Schedule {
    #[serde(default)]
    last_collect: i64,
}

#[derive(Debug, Default)]
struct Signal {
    /// New items queued.
    wake: bool,
    /// Stop everything (revoked).
    revoked: Option<String>,
    /// The main loop finished (delivery thread should end).
    stop: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    signal: Mutex<Signal>,
    cv: Condvar,
    host: String,
    log: Logger,
}

impl Shared {
    fn notify(&self, f: impl FnOnce(&mut Signal)) {
        if let Ok(mut s) = self.signal.lock() {
            f(&mut s);
        }
        self.cv.notify_all();
    }

    fn revoked(&self) -> Option<String> {
        self.signal.lock().ok().and_then(|s| s.revoked.clone())
    }

    /// Queues a submission (durably), with the agent's counters added.
    /// `key` is the idempotency key, or `None` for a random one.
    fn enqueue(&self, kind: &str, mut body: Value, key: Option<&str>) -> Result<(), AgentError> {
        let mut q = self
            .queue
            .lock()
            .map_err(|_| AgentError::Io("the queue lock is poisoned".into()))?;
        let c = q.counters().clone();
        if let Value::Object(o) = &mut body {
            o.insert(
                "agent".into(),
                json!({
                    "version": env!("CARGO_PKG_VERSION"),
                    "host": self.host,
                    "queue": {
                        "dropped_total": c.dropped_total,
                        "rejected_total": c.rejected_total,
                        "corrupt_total": c.corrupt_total,
                    },
                }),
            );
        }
        let key = match key {
            Some(k) => k.to_owned(),
            None => format!("{kind}-{}", random_hex(16)?),
        };
        let item = Item {
            key,
            kind: kind.to_owned(),
            body,
            queued_at: now(),
        };
        let res = q.enqueue(&item);
        for w in q.take_warnings() {
            (self.log)(&w);
        }
        drop(q);
        res?;
        self.notify(|s| s.wake = true);
        Ok(())
    }
}

/// The idempotency key of a detections body: a hash of its content, so
/// the same detections found again (after a crash before the offset was
/// saved) are stored once by the server.
pub fn detections_key(body: &Value) -> String {
    let digest = Sha256::digest(body.to_string().as_bytes());
    format!("det-{}", hex(digest.get(..24).unwrap_or_default()))
}

/// The package databases watched under a root.
const PACKAGE_DBS: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "lib/apk/db/installed",
];

/// Watches the package databases' modification times; reports a change
/// once it has settled (no further change for `settle`), so one `apt
/// upgrade` gives one collection.
#[derive(Debug)]
pub struct PackageWatch {
    paths: Vec<PathBuf>,
    seen: Vec<Option<SystemTime>>,
    changed_at: Option<Instant>,
    settle: Duration,
}

impl PackageWatch {
    /// Watches the package databases under `root`.
    pub fn new(root: &Path, settle: Duration) -> PackageWatch {
        let paths: Vec<PathBuf> = PACKAGE_DBS.iter().map(|p| root.join(p)).collect();
        let seen = paths.iter().map(|p| mtime(p)).collect();
        PackageWatch {
            paths,
            seen,
            changed_at: None,
            settle,
        }
    }

    /// True once a change has settled (then forgets it).
    pub fn check(&mut self) -> bool {
        let now_seen: Vec<Option<SystemTime>> = self.paths.iter().map(|p| mtime(p)).collect();
        if now_seen != self.seen {
            self.seen = now_seen;
            self.changed_at = Some(Instant::now());
            return false;
        }
        match self.changed_at {
            Some(t) if t.elapsed() >= self.settle => {
                self.changed_at = None;
                true
            }
            _ => false,
        }
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

fn collect(shared: &Shared, collectors: &[(String, Collector)], state: &StateDir) {
    for (kind, c) in collectors {
        match c() {
            Ok(body) => {
                if let Err(e) = shared.enqueue(kind, body, None) {
                    (shared.log)(&format!("cannot queue the {kind} submission: {e}"));
                }
            }
            Err(e) => (shared.log)(&format!("{kind} could not be made: {e}")),
        }
    }
    if let Err(e) = state.write_json(
        "schedule.json",
        &Schedule {
            last_collect: now(),
        },
    ) {
        (shared.log)(&format!("cannot record the collection time: {e}"));
    }
}

struct Follower {
    tails: Vec<FileTail>,
    journal: Option<Journal>,
    detector: Detector,
    problems: BTreeMap<String, String>,
    exports: Vec<(PathBuf, Option<(u64, SystemTime)>)>,
    exports_seen: Vec<String>,
    hunt: Option<portcullis_hunt::Hunt>,
}

impl Follower {
    fn state(&self) -> FollowState {
        FollowState {
            files: self
                .tails
                .iter()
                .filter_map(|t| Some((t.path().display().to_string(), t.mark()?)))
                .collect(),
            journal_cursor: self
                .journal
                .as_ref()
                .and_then(|j| j.cursor().map(str::to_owned)),
            exports_seen: self.exports_seen.clone(),
        }
    }

    fn problem(&mut self, shared: &Shared, what: &str, message: Option<String>) {
        match message {
            Some(m) => {
                if self.problems.get(what) != Some(&m) {
                    (shared.log)(&format!("{what}: {m}"));
                    self.problems.insert(what.to_owned(), m);
                }
            }
            None => {
                self.problems.remove(what);
            }
        }
    }

    /// Queues the detections (if any); true when queued or nothing to queue.
    fn submit(&self, shared: &Shared, found: &[portcullis_hunt::Detection]) -> bool {
        if found.is_empty() {
            return true;
        }
        let list: Vec<Value> = found
            .iter()
            .map(portcullis_hunt::output::detection_json)
            .collect();
        let body = json!({ "detections": list });
        let key = detections_key(&body);
        match shared.enqueue("detections", body, Some(&key)) {
            Ok(()) => true,
            Err(e) => {
                (shared.log)(&format!("cannot queue detections: {e}"));
                false
            }
        }
    }

    /// Hunts the exported logs that changed since last seen.
    fn poll_exports(&mut self, shared: &Shared, state: &StateDir) {
        for i in 0..self.exports.len() {
            let Some((path, stamp)) = self.exports.get(i).cloned() else {
                continue;
            };
            let name = path.display().to_string();
            let now_stamp =
                match std::fs::metadata(&path).and_then(|m| Ok((m.len(), m.modified()?))) {
                    Ok(s) => s,
                    Err(e) => {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            self.problem(shared, &name, Some(format!("cannot read: {e}")));
                        }
                        continue;
                    }
                };
            if stamp == Some(now_stamp) {
                continue;
            }
            let Some(hunt) = self.hunt.as_ref() else {
                return;
            };
            let mut found = Vec::new();
            let report = hunt.run(std::slice::from_ref(&path), &mut |d| found.push(d));
            match report.unreadable.first() {
                Some(p) => self.problem(shared, &name, Some(p.message.clone())),
                None => self.problem(shared, &name, None),
            }
            let mut fresh = Vec::new();
            let mut keys = Vec::new();
            for d in found {
                let one = json!({ "detections": [portcullis_hunt::output::detection_json(&d)] });
                let key = detections_key(&one);
                if !self.exports_seen.contains(&key) && !keys.contains(&key) {
                    keys.push(key);
                    fresh.push(d);
                }
            }
            if !self.submit(shared, &fresh) {
                return;
            }
            self.exports_seen.extend(keys);
            let over = self.exports_seen.len().saturating_sub(EXPORTS_SEEN_CAP);
            self.exports_seen.drain(..over);
            if let Some(e) = self.exports.get_mut(i) {
                e.1 = Some(now_stamp);
            }
            if let Err(e) = state.write_json("follow.json", &self.state()) {
                (shared.log)(&format!("cannot save the log positions: {e}"));
            }
        }
    }

    /// Reads every followed log as far as it goes now.
    fn poll(&mut self, shared: &Shared, state: &StateDir) {
        self.poll_exports(shared, state);
        for i in 0..self.tails.len() {
            while let Some(tail) = self.tails.get_mut(i) {
                let name = tail.path().display().to_string();
                let chunk = match tail.poll() {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        self.problem(shared, &name, None);
                        break;
                    }
                    Err(e) => {
                        self.problem(
                            shared,
                            &name,
                            Some(format!(
                                "cannot read: {e} (run as root or give the agent read access)"
                            )),
                        );
                        break;
                    }
                };
                let mut found = Vec::new();
                let det = &mut self.detector;
                syslog_events(&name, &chunk, &mut |ev| det.observe(&ev, &mut found));
                if !self.submit(shared, &found) {
                    // Not queued: keep the offset, try again next time.
                    return;
                }
                let (end, full) = (chunk.end, chunk.full);
                if let Some(tail) = self.tails.get_mut(i) {
                    tail.commit(end);
                }
                if let Err(e) = state.write_json("follow.json", &self.state()) {
                    (shared.log)(&format!("cannot save the log positions: {e}"));
                }
                if !full {
                    break;
                }
            }
        }
        while let Some(j) = self.journal.as_mut() {
            let batch = match j.poll() {
                Ok(b) => b,
                Err(e) => {
                    self.problem(
                        shared,
                        "journalctl",
                        Some(format!(
                            "cannot run: {e}; is systemd's journalctl installed?"
                        )),
                    );
                    break;
                }
            };
            self.problem(shared, "journalctl", None);
            let mut found = Vec::new();
            for ev in &batch.events {
                self.detector.observe(ev, &mut found);
            }
            if !self.submit(shared, &found) {
                return;
            }
            let full = batch.full;
            if let (Some(c), Some(j)) = (batch.cursor, self.journal.as_mut()) {
                j.commit(c);
                if let Err(e) = state.write_json("follow.json", &self.state()) {
                    (shared.log)(&format!("cannot save the journal cursor: {e}"));
                }
            }
            if !full {
                break;
            }
        }
    }
}

fn delivery_loop(shared: &Shared, client: &Client, token: &str, max_backoff: Duration) {
    let mut backoff = Backoff::new(Duration::from_secs(1), max_backoff);
    let mut failing: Option<String> = None;
    loop {
        if let Ok(mut s) = shared.signal.lock() {
            s.wake = false;
        }
        match deliver_pending(&shared.queue, client, token, &|m| (shared.log)(m)) {
            Pass::Drained => {
                if failing.take().is_some() {
                    (shared.log)("delivery resumed: the queue is empty");
                }
                backoff.reset();
                let Ok(mut s) = shared.signal.lock() else {
                    return;
                };
                while !s.wake && !s.stop && s.revoked.is_none() {
                    match shared.cv.wait_timeout(s, Duration::from_secs(300)) {
                        Ok((g, _)) => s = g,
                        Err(_) => return,
                    }
                }
                if s.stop || s.revoked.is_some() {
                    return;
                }
            }
            Pass::Retry(m) => {
                if failing.as_deref() != Some(m.as_str()) {
                    (shared.log)(&format!(
                        "cannot deliver now ({m}); the submissions stay queued and are retried"
                    ));
                    failing = Some(m);
                }
                let wait = backoff.next_wait();
                let deadline = Instant::now() + wait;
                let Ok(mut s) = shared.signal.lock() else {
                    return;
                };
                loop {
                    if s.stop || s.revoked.is_some() {
                        return;
                    }
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match shared.cv.wait_timeout(s, left) {
                        Ok((g, _)) => s = g,
                        Err(_) => return,
                    }
                }
            }
            Pass::Revoked(m) => {
                shared.notify(|s| s.revoked = Some(m));
                return;
            }
        }
    }
}

/// Runs the agent until revoked (or, with `once`, one round). Returns the
/// exit code ([`EXIT_OK`], [`EXIT_UNDELIVERED`], [`EXIT_REVOKED`]).
pub fn run(opts: RunOptions) -> Result<u8, AgentError> {
    let state = StateDir::open(&opts.state_dir)?;
    let (config, token) = state.load()?;
    let client = Client::new(&config.server, config.ca.as_deref())?;
    let queue = Queue::open(&state.queue_dir(), opts.max_queue_bytes)?;
    let shared = Arc::new(Shared {
        queue: Mutex::new(queue),
        signal: Mutex::new(Signal::default()),
        cv: Condvar::new(),
        host: config.host.clone(),
        log: opts.log.clone(),
    });
    if let Ok(mut q) = shared.queue.lock() {
        for w in q.take_warnings() {
            (opts.log)(&w);
        }
        if !q.is_empty() {
            (opts.log)(&format!(
                "{} submissions queued from before; sending them first",
                q.len()
            ));
        }
    }
    let (detector, issues) = Detector::new(&opts.settings, portcullis_hunt::Level::Low);
    for i in &issues {
        (opts.log)(&portcullis_hunt::issue_line(i));
    }
    let saved: FollowState = state.read_json("follow.json").unwrap_or_default();
    let mut follower = Follower {
        tails: opts
            .logs
            .iter()
            .map(|p| FileTail::new(p, saved.files.get(&p.display().to_string()).copied()))
            .collect(),
        journal: opts
            .journal
            .as_ref()
            .map(|cmd| Journal::new(cmd, saved.journal_cursor.clone())),
        detector,
        problems: BTreeMap::new(),
        exports: opts.exports.iter().map(|p| (p.clone(), None)).collect(),
        exports_seen: saved.exports_seen.clone(),
        hunt: (!opts.exports.is_empty()).then(|| {
            portcullis_hunt::Hunt::new(portcullis_hunt::HuntOptions {
                bundled: true,
                settings: opts.settings.clone(),
                threads: 1,
                ..portcullis_hunt::HuntOptions::default()
            })
            .0
        }),
    };
    let collectors = Arc::new(opts.collectors);

    if opts.once {
        collect(&shared, &collectors, &state);
        follower.poll(&shared, &state);
        let mut backoff = Backoff::new(Duration::from_secs(1), opts.max_backoff);
        for attempt in 0..3 {
            match deliver_pending(&shared.queue, &client, &token, &|m| (opts.log)(m)) {
                Pass::Drained => return Ok(EXIT_OK),
                Pass::Revoked(m) => {
                    (opts.log)(&m);
                    return Ok(EXIT_REVOKED);
                }
                Pass::Retry(m) => {
                    (opts.log)(&format!("cannot deliver now: {m}"));
                    if attempt < 2 {
                        std::thread::sleep(backoff.next_wait());
                    }
                }
            }
        }
        let left = shared.queue.lock().map(|q| q.len()).unwrap_or(0);
        (opts.log)(&format!(
            "{left} submissions stay queued in {} and are sent on the next run",
            state.queue_dir().display()
        ));
        return Ok(EXIT_UNDELIVERED);
    }

    let deliverer = {
        let shared = shared.clone();
        let max_backoff = opts.max_backoff;
        std::thread::Builder::new()
            .name("deliver".into())
            .spawn(move || delivery_loop(&shared, &client, &token, max_backoff))
            .map_err(|e| AgentError::Io(format!("cannot start the delivery thread: {e}")))?
    };
    let interval_secs = i64::try_from(opts.interval.as_secs())
        .unwrap_or(i64::MAX)
        .max(60);
    let mut last_collect = state
        .read_json::<Schedule>("schedule.json")
        .unwrap_or_default()
        .last_collect;
    let mut packages = PackageWatch::new(&opts.root, Duration::from_secs(60));
    let mut last_package_check = Instant::now();
    let mut collector_thread: Option<std::thread::JoinHandle<()>> = None;
    (opts.log)(&format!(
        "running: reporting to {} as {}; following {} log files{}",
        config.server,
        config.host,
        opts.logs.len() + opts.exports.len(),
        if opts.journal.is_some() {
            " and journald"
        } else {
            ""
        }
    ));
    loop {
        if let Some(m) = shared.revoked() {
            (opts.log)(&m);
            let _ = deliverer.join();
            return Ok(EXIT_REVOKED);
        }
        follower.poll(&shared, &state);
        let mut due = now().saturating_sub(last_collect) >= interval_secs;
        if last_package_check.elapsed() >= Duration::from_secs(30) {
            last_package_check = Instant::now();
            if packages.check() {
                (opts.log)("installed packages changed: assessing and scanning now");
                due = true;
            }
        }
        if collector_thread.as_ref().is_some_and(|h| h.is_finished()) {
            if let Some(h) = collector_thread.take() {
                let _ = h.join();
            }
        }
        if due && collector_thread.is_none() && !collectors.is_empty() {
            last_collect = now();
            let (shared, collectors, state) = (shared.clone(), collectors.clone(), state.clone());
            collector_thread = std::thread::Builder::new()
                .name("collect".into())
                .spawn(move || collect(&shared, &collectors, &state))
                .ok();
        }
        let Ok(s) = shared.signal.lock() else {
            return Err(AgentError::Io("the signal lock is poisoned".into()));
        };
        if s.revoked.is_none() {
            let _ = shared.cv.wait_timeout(s, opts.poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(dir: &Path) -> Shared {
        Shared {
            queue: Mutex::new(Queue::open(&dir.join("queue"), 1 << 20).unwrap()),
            signal: Mutex::new(Signal::default()),
            cv: Condvar::new(),
            host: "h".into(),
            log: Arc::new(|_m: &str| {}),
        }
    }

    fn follower(logs: &[PathBuf], exports: &[PathBuf], saved: FollowState) -> Follower {
        Follower {
            tails: logs
                .iter()
                .map(|p| FileTail::new(p, saved.files.get(&p.display().to_string()).copied()))
                .collect(),
            journal: None,
            detector: Detector::new(&[], portcullis_hunt::Level::Low).0,
            problems: BTreeMap::new(),
            exports: exports.iter().map(|p| (p.clone(), None)).collect(),
            exports_seen: saved.exports_seen,
            hunt: Some(
                portcullis_hunt::Hunt::new(portcullis_hunt::HuntOptions {
                    threads: 1,
                    ..portcullis_hunt::HuntOptions::default()
                })
                .0,
            ),
        }
    }

    #[test]
    fn exported_evtx_detections_are_queued_once() {
        let d = tempfile::tempdir().unwrap();
        let state = StateDir::create(&d.path().join("state")).unwrap();
        let sh = shared(state.path());
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hunt/tests/fixtures/kerberos-bruteforce-nonexisting-users.evtx");
        let export = d.path().join("security.evtx");
        std::fs::copy(&src, &export).unwrap();
        let mut f = follower(&[], std::slice::from_ref(&export), FollowState::default());
        f.poll(&sh, &state);
        let first = {
            let mut q = sh.queue.lock().unwrap();
            assert_eq!(q.len(), 1);
            q.peek().unwrap().item
        };
        assert_eq!(first.kind, "detections");
        let n = first.body["detections"].as_array().unwrap().len();
        assert!(n >= 1);
        assert_eq!(first.body["agent"]["host"], "h");
        // Unchanged: not hunted again. Re-exported (new mtime), same
        // events: nothing new. A restart remembers what was sent.
        f.poll(&sh, &state);
        std::fs::remove_file(&export).unwrap();
        std::fs::copy(&src, &export).unwrap();
        let later = std::time::SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&export)
            .unwrap()
            .set_modified(later)
            .unwrap();
        f.poll(&sh, &state);
        let saved: FollowState = state.read_json("follow.json").unwrap();
        assert_eq!(saved.exports_seen.len(), n);
        let mut f = follower(&[], std::slice::from_ref(&export), saved);
        f.poll(&sh, &state);
        assert_eq!(sh.queue.lock().unwrap().len(), 1);
    }

    #[test]
    fn log_offsets_persist_and_the_detection_key_is_stable() {
        let d = tempfile::tempdir().unwrap();
        let state = StateDir::create(&d.path().join("state")).unwrap();
        let sh = shared(state.path());
        let log = d.path().join("auth.log");
        let mut text = String::new();
        for i in 0..12 {
            text.push_str(&format!(
                "2026-01-10T10:00:{i:02}+00:00 web sshd[{i}]: Failed password for invalid user u{i} from 192.0.2.5 port {} ssh2\n",
                50000 + i
            ));
        }
        std::fs::write(&log, &text).unwrap();
        let mut f = follower(std::slice::from_ref(&log), &[], FollowState::default());
        f.poll(&sh, &state);
        let item = sh.queue.lock().unwrap().peek().unwrap().item;
        // A crash before the offset was saved: the same lines give the same key.
        let mut again = follower(std::slice::from_ref(&log), &[], FollowState::default());
        let sh2 = shared(&d.path().join("other"));
        again.poll(&sh2, &state);
        let item2 = sh2.queue.lock().unwrap().peek().unwrap().item;
        assert_eq!(item.key, item2.key);
        assert!(item.key.starts_with("det-"));
        // The saved offset: a restart reads nothing again.
        let saved: FollowState = state.read_json("follow.json").unwrap();
        assert_eq!(saved.files.values().next().unwrap().line, 12);
        let mut f = follower(std::slice::from_ref(&log), &[], saved);
        let sh3 = shared(&d.path().join("third"));
        f.poll(&sh3, &state);
        assert!(sh3.queue.lock().unwrap().is_empty());
    }

    #[test]
    fn package_changes_settle_before_they_count() {
        let d = tempfile::tempdir().unwrap();
        let status = d.path().join("var/lib/dpkg/status");
        std::fs::create_dir_all(status.parent().unwrap()).unwrap();
        std::fs::write(&status, "a").unwrap();
        let mut w = PackageWatch::new(d.path(), Duration::from_millis(200));
        assert!(!w.check());
        let t = std::time::SystemTime::now() + Duration::from_secs(10);
        std::fs::File::options()
            .write(true)
            .open(&status)
            .unwrap()
            .set_modified(t)
            .unwrap();
        assert!(!w.check(), "not settled yet");
        std::thread::sleep(Duration::from_millis(250));
        assert!(w.check());
        assert!(!w.check(), "reported once");
    }
}
