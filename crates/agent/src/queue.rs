//! The durable on-disk submission queue.
//!
//! Each item is one file in the queue directory, named by a sequence number
//! (`00000000000000000042.item`), so the oldest is the smallest name. An
//! item is written to a temporary file, flushed with `fsync`, renamed into
//! place and the directory is flushed too before [`Queue::enqueue`]
//! returns: once it returns, a crash or power cut cannot lose the item.
//!
//! File layout: the magic `PCQ1`, the payload length (u32, little endian),
//! the CRC-32 (IEEE) of the payload, then the payload (JSON: idempotency
//! key, kind, body, enqueue time). A file that is short, has the wrong
//! magic or a bad CRC (a torn write on a file system without atomic rename,
//! or disk damage) is skipped with a warning and moved aside to
//! `corrupt/`, never a crash. Left-over temporary files (a crash before
//! the rename) are removed when the queue is opened.
//!
//! The queue is bounded in bytes: when a new item would exceed the bound,
//! the oldest items are dropped first; the drops are counted in
//! `queue-state.json` and the cumulative count travels in the `agent`
//! member of every later submission, so the server learns of them.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::AgentError;

const MAGIC: &[u8; 4] = b"PCQ1";
const HEADER: usize = 12;
const SUFFIX: &str = ".item";
const TMP_PREFIX: &str = "tmp-";

/// The default bound on the queue's total size: 64 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// One queued submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The idempotency key, chosen when the item was queued.
    pub key: String,
    /// The submission kind (`assessment`, `scan`, `detections`…).
    pub kind: String,
    /// The JSON body.
    pub body: serde_json::Value,
    /// When it was queued (Unix seconds).
    pub queued_at: i64,
}

/// An item on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its sequence number (its order in the queue).
    pub seq: u64,
    /// Its size on disk in bytes.
    pub size: u64,
    /// The item.
    pub item: Item,
}

/// Counters kept with the queue (persisted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCounters {
    /// The next sequence number.
    pub next_seq: u64,
    /// Items dropped (oldest first) to keep within the size bound, ever.
    pub dropped_total: u64,
    /// Items the server refused for good (409, 422…) and that were dropped, ever.
    pub rejected_total: u64,
    /// Damaged item files skipped, ever.
    pub corrupt_total: u64,
}

/// The durable queue. Not shared between processes; within a process,
/// put it behind a mutex.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    max_bytes: u64,
    counters: QueueCounters,
    /// (seq, size) of every item, oldest first.
    index: Vec<(u64, u64)>,
    /// Warnings met while opening (damaged files), for the caller to log.
    warnings: Vec<String>,
}

/// CRC-32 (IEEE 802.3, reflected, as zlib and gzip compute it).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn io_err(path: &Path, what: &str, e: std::io::Error) -> AgentError {
    AgentError::Io(format!("{}: cannot {what}: {e}", path.display()))
}

/// Flushes a directory's entries to disk (a no-op where directories cannot
/// be opened, such as Windows).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), AgentError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| io_err(dir, "open the directory", e))?;
        d.sync_all()
            .map_err(|e| io_err(dir, "flush the directory", e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `path` atomically and durably: temporary file, fsync,
/// rename, fsync of the directory. Owner-only permissions on Unix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!("{TMP_PREFIX}{name}"));
    {
        let mut f = owner_only_create(&tmp)?;
        f.write_all(bytes).map_err(|e| io_err(&tmp, "write", e))?;
        f.sync_all().map_err(|e| io_err(&tmp, "flush", e))?;
    }
    fs::rename(&tmp, path).map_err(|e| io_err(path, "rename into place", e))?;
    sync_dir(dir)
}

/// Creates (truncating) a file readable and writable by its owner only.
pub(crate) fn owner_only_create(path: &Path) -> Result<File, AgentError> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path).map_err(|e| io_err(path, "create", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(|e| io_err(path, "set owner-only permissions on", e))?;
    }
    Ok(f)
}

/// Creates a directory (and parents) with owner-only permissions on Unix.
pub(crate) fn owner_only_dir(dir: &Path) -> Result<(), AgentError> {
    fs::create_dir_all(dir).map_err(|e| io_err(dir, "create the directory", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err(dir, "set owner-only permissions on", e))?;
    }
    Ok(())
}

fn seq_of(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn encode(item: &Item) -> Result<Vec<u8>, AgentError> {
    let payload =
        serde_json::to_vec(item).map_err(|e| AgentError::Io(format!("cannot encode: {e}")))?;
    let len = u32::try_from(payload.len())
        .map_err(|_| AgentError::Io("a queue item over 4 GiB".into()))?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Decodes an item file's bytes; the error says what is wrong.
fn decode(bytes: &[u8]) -> Result<Item, String> {
    let head = bytes
        .get(..HEADER)
        .ok_or("shorter than its header (torn write)")?;
    if head.get(..4) != Some(MAGIC.as_slice()) {
        return Err("wrong magic".into());
    }
    let word = |i: usize| -> u32 {
        let mut w = [0u8; 4];
        if let Some(s) = head.get(i..i + 4) {
            w.copy_from_slice(s);
        }
        u32::from_le_bytes(w)
    };
    let (len, crc) = (word(4) as usize, word(8));
    let payload = bytes.get(HEADER..).unwrap_or_default();
    if payload.len() < len {
        return Err(format!(
            "payload is {} of {len} bytes (torn write)",
            payload.len()
        ));
    }
    if payload.len() > len {
        return Err("trailing bytes after the payload".into());
    }
    if crc32(payload) != crc {
        return Err("CRC mismatch (damaged)".into());
    }
    serde_json::from_slice(payload).map_err(|e| format!("payload is not an item: {e}"))
}

impl Queue {
    /// Opens (creating) the queue in `dir`, bounded to `max_bytes`.
    /// Damaged item files are moved to `dir/corrupt/` and reported in
    /// [`Queue::take_warnings`]; left-over temporary files are removed.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Queue, AgentError> {
        owner_only_dir(dir)?;
        let counters = match fs::read(dir.join("queue-state.json")) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(_) => QueueCounters::default(),
        };
        let mut q = Queue {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1),
            counters,
            index: Vec::new(),
            warnings: Vec::new(),
        };
        let rd = fs::read_dir(dir).map_err(|e| io_err(dir, "list", e))?;
        let mut max_seq = None;
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(TMP_PREFIX) {
                // A crash before the rename: the enqueue never returned.
                let _ = fs::remove_file(e.path());
                continue;
            }
            let Some(seq) = seq_of(&name) else { continue };
            max_seq = max_seq.max(Some(seq));
            let size = e.metadata().map(|m| m.len()).unwrap_or(0);
            q.index.push((seq, size));
        }
        q.index.sort_unstable();
        // Never reuse a sequence number, even if the state file was lost.
        if let Some(m) = max_seq {
            q.counters.next_seq = q.counters.next_seq.max(m.saturating_add(1));
        }
        // Validate every item once now, so a damaged one is reported early.
        let seqs: Vec<u64> = q.index.iter().map(|(s, _)| *s).collect();
        for seq in seqs {
            if let Err(why) = q.read_seq(seq) {
                q.quarantine(seq, &why);
            }
        }
        q.save_counters()?;
        Ok(q)
    }

    fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    fn read_seq(&self, seq: u64) -> Result<Item, String> {
        let path = self.path_of(seq);
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read: {e}"))?;
        decode(&bytes)
    }

    fn quarantine(&mut self, seq: u64, why: &str) {
        let path = self.path_of(seq);
        let corrupt = self.dir.join("corrupt");
        let moved = fs::create_dir_all(&corrupt)
            .and_then(|()| fs::rename(&path, corrupt.join(format!("{seq:020}{SUFFIX}"))));
        if moved.is_err() {
            let _ = fs::remove_file(&path);
        }
        self.index.retain(|(s, _)| *s != seq);
        self.counters.corrupt_total += 1;
        self.warnings.push(format!(
            "{}: damaged queue item skipped: {why}",
            path.display()
        ));
    }

    fn save_counters(&self) -> Result<(), AgentError> {
        let bytes = serde_json::to_vec(&self.counters)
            .map_err(|e| AgentError::Io(format!("cannot encode the queue state: {e}")))?;
        write_atomic(&self.dir.join("queue-state.json"), &bytes)
    }

    /// Warnings gathered so far (damaged items), emptied.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The counters.
    pub fn counters(&self) -> &QueueCounters {
        &self.counters
    }

    /// Items queued.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Total bytes queued.
    pub fn bytes(&self) -> u64 {
        self.index.iter().map(|(_, s)| s).sum()
    }

    /// Adds an item durably (written, flushed, renamed, directory flushed
    /// before this returns). Drops the oldest items first when the bound
    /// would be exceeded; an item larger than the whole bound is refused.
    /// Returns the item's sequence number.
    pub fn enqueue(&mut self, item: &Item) -> Result<u64, AgentError> {
        let bytes = encode(item)?;
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return Err(AgentError::TooLarge(format!(
                "a {} submission of {size} bytes is larger than the whole queue ({} bytes)",
                item.kind, self.max_bytes
            )));
        }
        while self.bytes() + size > self.max_bytes {
            let Some(&(old, _)) = self.index.first() else {
                break;
            };
            let _ = fs::remove_file(self.path_of(old));
            self.index.remove(0);
            self.counters.dropped_total += 1;
            self.warnings.push(format!(
                "queue full ({} bytes): dropped the oldest submission (#{old}); the server is told in the next submission",
                self.max_bytes
            ));
        }
        let seq = self.counters.next_seq;
        self.counters.next_seq += 1;
        // The counters first: a crash after this leaves a gap, never a reuse.
        self.save_counters()?;
        write_atomic(&self.path_of(seq), &bytes)?;
        self.index.push((seq, size));
        Ok(seq)
    }

    /// The oldest item, if any. Damaged items met are skipped (moved aside
    /// and reported through [`Queue::take_warnings`]).
    pub fn peek(&mut self) -> Option<Entry> {
        while let Some(&(seq, size)) = self.index.first() {
            match self.read_seq(seq) {
                Ok(item) => return Some(Entry { seq, size, item }),
                Err(why) => self.quarantine(seq, &why),
            }
        }
        None
    }

    /// Removes an item the server acknowledged.
    pub fn ack(&mut self, seq: u64) -> Result<(), AgentError> {
        self.remove(seq)
    }

    /// Removes an item the server refused for good, counting it.
    pub fn reject(&mut self, seq: u64) -> Result<(), AgentError> {
        self.remove(seq)?;
        self.counters.rejected_total += 1;
        self.save_counters()
    }

    fn remove(&mut self, seq: u64) -> Result<(), AgentError> {
        let path = self.path_of(seq);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path, "remove", e)),
        }
        self.index.retain(|(s, _)| *s != seq);
        sync_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(n: usize, pad: usize) -> Item {
        Item {
            key: format!("k{n}"),
            kind: "detections".into(),
            body: json!({"detections": [], "pad": "x".repeat(pad)}),
            queued_at: 1,
        }
    }

    #[test]
    fn crc_matches_the_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn items_survive_reopen_in_order_and_ack_removes() {
        let d = tempfile::tempdir().unwrap();
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        for n in 0..3 {
            q.enqueue(&item(n, 10)).unwrap();
        }
        drop(q);
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        assert_eq!(q.len(), 3);
        let first = q.peek().unwrap();
        assert_eq!(first.item, item(0, 10));
        q.ack(first.seq).unwrap();
        assert_eq!(q.peek().unwrap().item.key, "k1");
        drop(q);
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.peek().unwrap().item.key, "k1");
        // Sequence numbers are never reused.
        let s = q.enqueue(&item(9, 1)).unwrap();
        assert_eq!(s, 3);
    }

    #[test]
    #[cfg(unix)]
    fn files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("q");
        let mut q = Queue::open(&dir, DEFAULT_MAX_BYTES).unwrap();
        let seq = q.enqueue(&item(0, 1)).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&q.path_of(seq)), 0o600);
    }

    #[test]
    fn torn_and_damaged_items_are_skipped_not_fatal() {
        let d = tempfile::tempdir().unwrap();
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        for n in 0..4 {
            q.enqueue(&item(n, 100)).unwrap();
        }
        let good = encode(&item(1, 100)).unwrap();
        // A crash mid-write on a file system without atomic rename: item 1
        // is cut short; item 2 has a flipped byte; a temporary file is left.
        fs::write(q.path_of(1), &good[..good.len() / 2]).unwrap();
        let mut bad = encode(&item(2, 100)).unwrap();
        let last = bad.len() - 3;
        bad[last] ^= 0x55;
        fs::write(q.path_of(2), &bad).unwrap();
        fs::write(d.path().join("tmp-00000000000000000009.item"), b"PCQ1\x01").unwrap();
        // Header only, and empty.
        fs::write(q.path_of(7), b"PCQ").unwrap();
        drop(q);
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        let w = q.take_warnings();
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w.iter().any(|m| m.contains("torn write")), "{w:?}");
        assert!(w.iter().any(|m| m.contains("CRC mismatch")), "{w:?}");
        assert_eq!(q.counters().corrupt_total, 3);
        assert!(!d.path().join("tmp-00000000000000000009.item").exists());
        assert!(d
            .path()
            .join("corrupt")
            .join("00000000000000000001.item")
            .exists());
        let keys: Vec<String> = std::iter::from_fn(|| {
            let e = q.peek()?;
            q.ack(e.seq).ok()?;
            Some(e.item.key)
        })
        .collect();
        assert_eq!(keys, ["k0", "k3"]);
        // New items go after the highest number seen, damaged ones included.
        assert_eq!(q.enqueue(&item(5, 1)).unwrap(), 8);
    }

    #[test]
    fn damage_found_at_peek_is_skipped_too() {
        let d = tempfile::tempdir().unwrap();
        let mut q = Queue::open(d.path(), DEFAULT_MAX_BYTES).unwrap();
        q.enqueue(&item(0, 10)).unwrap();
        q.enqueue(&item(1, 10)).unwrap();
        fs::write(q.path_of(0), b"garbage that is long enough").unwrap();
        assert_eq!(q.peek().unwrap().item.key, "k1");
        assert_eq!(q.take_warnings().len(), 1);
    }

    #[test]
    fn the_bound_drops_oldest_first_and_counts() {
        let d = tempfile::tempdir().unwrap();
        let one = encode(&item(0, 1000)).unwrap().len() as u64;
        let mut q = Queue::open(d.path(), one * 3 + one / 2).unwrap();
        for n in 0..5 {
            q.enqueue(&item(n, 1000)).unwrap();
            assert!(q.bytes() <= one * 3 + one / 2);
        }
        assert_eq!(q.len(), 3);
        assert_eq!(q.counters().dropped_total, 2);
        assert_eq!(q.peek().unwrap().item.key, "k2");
        assert_eq!(q.take_warnings().len(), 2);
        // Persisted.
        drop(q);
        let mut q = Queue::open(d.path(), one * 3 + one / 2).unwrap();
        assert_eq!(q.counters().dropped_total, 2);
        // Too large for the whole queue: refused, nothing dropped.
        let err = q.enqueue(&item(9, 5000)).unwrap_err();
        assert!(matches!(err, AgentError::TooLarge(_)), "{err}");
        assert_eq!(q.len(), 3);
        let e = q.peek().unwrap();
        q.reject(e.seq).unwrap();
        assert_eq!(q.counters().rejected_total, 1);
        assert_eq!(q.len(), 2);
    }
}
