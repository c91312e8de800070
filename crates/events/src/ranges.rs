//! Reading one large line-oriented file (syslog, JSONL) as several byte
//! ranges on several threads.
//!
//! [`split_file`] cuts the file at line boundaries and runs one fast
//! pre-pass per range (in parallel) that counts its newlines and, for
//! syslog, the months of its yearless lines. From those it gives every
//! range its exact first line number and the year state a single
//! front-to-back read would have had at that point, so [`read_range`]
//! over all ranges yields exactly the events, times and line numbers of
//! [`crate::read_path`]. Gzip files cannot be cut (they return `None`).

use crate::lines::MAX_LINE;
use crate::syslog::{yearless_month, YearState};
use crate::{Diags, Event, Format, ReadOptions};
use portcullis_model::Diagnostic;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

/// One byte range of a file, starting at the beginning of a line.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRange {
    /// First byte (0 or just after a `\n`).
    pub start: u64,
    /// One past the last byte (just after a `\n`, or the file's end).
    pub end: u64,
    /// 1-based number, in the whole file, of the range's first line.
    pub first_line: u64,
    /// Syslog: the year of the line before the range, and its month.
    year: Option<(i32, Option<u32>)>,
}

/// What the pre-pass found in one range.
#[derive(Default, Clone, Copy)]
struct Scan {
    newlines: u64,
    first_month: Option<u32>,
    last_month: Option<u32>,
    rollovers: i32,
}

/// Bytes of a line's head the syslog pre-pass needs.
const PREFIX: usize = 9;
/// Read size of the pre-pass and of the boundary search.
const BLOCK: usize = 1 << 20;

fn scan_range(path: &Path, start: u64, end: u64, months: bool) -> std::io::Result<Scan> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(start))?;
    let mut f = f.take(end.saturating_sub(start));
    let mut buf = vec![0u8; BLOCK];
    let mut scan = Scan::default();
    let mut head = [0u8; PREFIX];
    let mut head_len = 0usize;
    let mut pending = false;
    let line_done = |head: &[u8], scan: &mut Scan| {
        if let Some(m) = yearless_month(head) {
            match scan.last_month {
                Some(p) if p >= m + 6 => scan.rollovers += 1,
                _ => {}
            }
            if scan.first_month.is_none() {
                scan.first_month = Some(m);
            }
            scan.last_month = Some(m);
        }
    };
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let block = buf.get(..n).unwrap_or_default();
        if !months {
            scan.newlines += memchr::memchr_iter(b'\n', block).count() as u64;
            continue;
        }
        let mut pos = 0usize;
        for nl in memchr::memchr_iter(b'\n', block) {
            let seg = block.get(pos..nl).unwrap_or_default();
            let take = seg.len().min(PREFIX - head_len);
            head[head_len..head_len + take].copy_from_slice(&seg[..take]);
            head_len += take;
            line_done(&head[..head_len], &mut scan);
            head_len = 0;
            pending = false;
            scan.newlines += 1;
            pos = nl + 1;
        }
        let seg = block.get(pos..).unwrap_or_default();
        if !seg.is_empty() {
            pending = true;
            let take = seg.len().min(PREFIX - head_len);
            head[head_len..head_len + take].copy_from_slice(&seg[..take]);
            head_len += take;
        }
    }
    if pending {
        line_done(&head[..head_len], &mut scan);
    }
    Ok(scan)
}

/// Line-aligned cut points near every multiple of `range_bytes`.
fn boundaries(path: &Path, size: u64, range_bytes: u64) -> std::io::Result<Vec<u64>> {
    let mut f = File::open(path)?;
    let mut cuts = vec![0u64];
    let mut buf = vec![0u8; 1 << 16];
    let mut p = range_bytes;
    while p < size {
        let last = cuts.last().copied().unwrap_or(0);
        if p > last {
            // The first '\n' at or after p - 1; give up after one range's worth.
            let mut at = p - 1;
            f.seek(SeekFrom::Start(at))?;
            let limit = at.saturating_add(range_bytes.max(MAX_LINE as u64));
            let mut found = None;
            while at < size && at < limit {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                if let Some(i) = memchr::memchr(b'\n', buf.get(..n).unwrap_or_default()) {
                    found = Some(at + i as u64 + 1);
                    break;
                }
                at += n as u64;
            }
            match found {
                Some(c) if c < size && c > last => cuts.push(c),
                _ => {}
            }
        }
        p = p.saturating_add(range_bytes);
    }
    cuts.push(size);
    Ok(cuts)
}

/// Whether a JSON file is JSON Lines (one object per line: it can be cut).
fn is_jsonl(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    let mut r: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, f));
    matches!(crate::json::first_non_ws(&mut r), Some((b'{', true)))
}

/// Cut a large plain (not gzip) syslog or JSONL file into line-aligned
/// byte ranges of about `range_bytes`, scanning them on up to `threads`
/// threads. `None` when the file cannot be cut (EVTX, gzip, JSON that is
/// not one object per line, a read error, or a single range): read it
/// whole with [`crate::read_path`].
pub fn split_file(
    path: &Path,
    format: Format,
    options: &ReadOptions,
    range_bytes: u64,
    threads: usize,
) -> Option<Vec<TextRange>> {
    let syslog = match format {
        Format::Syslog => true,
        Format::WindowsJson | Format::JournalJson | Format::EntraJson => false,
        Format::Evtx => return None,
    };
    if crate::is_gzip_file(path) || (!syslog && !is_jsonl(path)) {
        return None;
    }
    let size = std::fs::metadata(path).ok()?.len();
    let cuts = boundaries(path, size, range_bytes.max(1)).ok()?;
    let spans: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    if spans.len() < 2 {
        return None;
    }
    let threads = threads.clamp(1, spans.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut scans: Vec<Option<Scan>> = vec![None; spans.len()];
    let results: Vec<Vec<(usize, std::io::Result<Scan>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(a, b)) = spans.get(i) else { break };
                        out.push((i, scan_range(path, a, b, syslog)));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (i, r) in results.into_iter().flatten() {
        if let Some(slot) = scans.get_mut(i) {
            *slot = Some(r.ok()?);
        }
    }
    // Combine in file order: line numbers, and the year state a single
    // pass would carry into each range.
    let mut rollovers = 0i32;
    let mut last: Option<u32> = None;
    let mut line = 1u64;
    let mut starts = Vec::with_capacity(spans.len());
    for scan in &scans {
        let scan = (*scan)?;
        starts.push((line, rollovers, last));
        line += scan.newlines;
        if let (Some(p), Some(f)) = (last, scan.first_month) {
            if p >= f + 6 {
                rollovers += 1;
            }
        }
        rollovers += scan.rollovers;
        last = scan.last_month.or(last);
    }
    let first_year = match options.year {
        Some(y) => y,
        None => crate::first_year_from(path, rollovers, last),
    };
    Some(
        spans
            .iter()
            .zip(starts)
            .map(|(&(start, end), (first_line, rolls, last))| TextRange {
                start,
                end,
                first_line,
                year: syslog.then_some((first_year + rolls, last)),
            })
            .collect(),
    )
}

/// Read the events of one range from [`split_file`] (same events, times,
/// line numbers and diagnostics as that part of a whole-file read; the cap
/// of diagnostics applies per range).
pub fn read_range(
    path: &Path,
    format: Format,
    range: &TextRange,
    sink: &mut dyn FnMut(Event),
) -> Vec<Diagnostic> {
    let name = path.display().to_string();
    let file: Arc<str> = Arc::from(name.as_str());
    let mut diags = Diags::new(&name);
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            diags.error(None, format!("cannot open: {e}"));
            return diags.finish();
        }
    };
    if let Err(e) = f.seek(SeekFrom::Start(range.start)) {
        diags.error(Some(range.first_line), format!("cannot seek: {e}"));
        return diags.finish();
    }
    let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(
        1 << 16,
        f.take(range.end.saturating_sub(range.start)),
    ));
    match (format, range.year) {
        (Format::Syslog, Some((year, last))) => crate::syslog::read_syslog(
            &file,
            reader,
            YearState::resume(year, last),
            range.first_line,
            &mut diags,
            sink,
        ),
        (Format::WindowsJson | Format::JournalJson | Format::EntraJson, _) => {
            if range.start == 0 {
                crate::json::read_json(&file, reader, format, &mut diags, sink);
            } else {
                crate::json::read_jsonl(&file, reader, format, range.first_line, &mut diags, sink);
            }
        }
        _ => diags.error(
            None,
            "this range does not belong to a line-oriented file".into(),
        ),
    }
    diags.finish()
}
