//! Reading OSV inputs (files, directories, zip archives) and writing them
//! to the index in one transaction.

use crate::store::{Database, SourceRow, WriteOutcome};
use crate::{record_severity, DbError, RatedSeverity};
use flate2::write::DeflateEncoder;
use portcullis_model::osv::Vulnerability;
use portcullis_model::{Diagnostic, Ecosystem};
use std::cmp::Ordering;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// The largest single OSV record accepted (16 MiB); larger entries are skipped.
pub(crate) const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// The largest archive member total accepted when decompressing (4 GiB).
const MAX_ARCHIVE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Progress of an import, reported as records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Records handled so far.
    pub done: usize,
    /// Records expected, when known.
    pub total: Option<usize>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ImportReport {
    /// The source name the records were filed under.
    pub source: String,
    /// Records read.
    pub read: usize,
    /// New records stored.
    pub added: usize,
    /// Records replaced by a newer `modified`.
    pub updated: usize,
    /// Records skipped because the stored copy is as new or newer.
    pub unchanged: usize,
    /// Withdrawn records (not matched).
    pub withdrawn: usize,
    /// Problems: one per bad file or record.
    pub diagnostics: Vec<Diagnostic>,
}

/// One affected row to index.
#[derive(Debug)]
pub(crate) struct AffectedRow {
    pub ecosystem: String,
    pub suffix: String,
    pub name: String,
    pub entry: String,
}

/// A record parsed and ready to write.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub id: String,
    pub modified: String,
    pub published: Option<String>,
    pub withdrawn: bool,
    pub summary: Option<String>,
    pub aliases_json: String,
    pub severity: RatedSeverity,
    pub record_z: Vec<u8>,
    pub affected: Vec<AffectedRow>,
}

/// Compare two RFC 3339 times; falls back to text order when either does not parse.
pub(crate) fn cmp_time(a: &str, b: &str) -> Ordering {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The key a package name is indexed and looked up under.
pub(crate) fn lookup_name(eco: &Ecosystem, name: &str) -> String {
    match eco {
        Ecosystem::PyPI => eco.normalize_name(name),
        Ecosystem::NuGet | Ecosystem::Packagist => name.to_ascii_lowercase(),
        _ => name.to_string(),
    }
}

/// An input item: a name for messages, and the bytes of one JSON record.
struct Item {
    name: String,
    data: Vec<u8>,
}

/// Parse one record and prepare its rows.
fn prepare(item: &Item) -> Result<Prepared, Diagnostic> {
    let vuln: Vulnerability = serde_json::from_slice(&item.data).map_err(|e| {
        Diagnostic::error(
            item.name.clone(),
            format!("not a valid OSV record: {e}; the record was skipped"),
        )
        .at(
            u32::try_from(e.line()).unwrap_or(u32::MAX),
            u32::try_from(e.column()).ok(),
        )
    })?;
    if vuln.id.trim().is_empty() {
        return Err(Diagnostic::error(
            item.name.clone(),
            "OSV record has no id; the record was skipped",
        ));
    }
    let mut affected = Vec::with_capacity(vuln.affected.len());
    for a in &vuln.affected {
        let Some(pkg) = &a.package else { continue };
        if pkg.name.is_empty() || pkg.ecosystem.is_empty() {
            continue;
        }
        let (eco, suffix) = Ecosystem::parse_osv(&pkg.ecosystem);
        let entry = serde_json::to_string(a).map_err(|e| {
            Diagnostic::error(item.name.clone(), format!("cannot re-encode record: {e}"))
        })?;
        affected.push(AffectedRow {
            name: lookup_name(&eco, &pkg.name),
            ecosystem: eco.as_str().to_string(),
            suffix: suffix.unwrap_or("").to_string(),
            entry,
        });
    }
    let mut enc = DeflateEncoder::new(
        Vec::with_capacity(item.data.len() / 3),
        flate2::Compression::fast(),
    );
    enc.write_all(&item.data)
        .map_err(|e| Diagnostic::error(item.name.clone(), format!("cannot compress: {e}")))?;
    let record_z = enc
        .finish()
        .map_err(|e| Diagnostic::error(item.name.clone(), format!("cannot compress: {e}")))?;
    let severity = record_severity(&vuln, None);
    let mut aliases: Vec<&str> = vuln.aliases.iter().map(String::as_str).collect();
    aliases.extend(vuln.upstream.iter().map(String::as_str));
    Ok(Prepared {
        aliases_json: serde_json::to_string(&aliases).unwrap_or_else(|_| "[]".into()),
        id: vuln.id,
        modified: vuln.modified,
        published: vuln.published,
        withdrawn: vuln.withdrawn.is_some(),
        summary: vuln.summary,
        severity,
        record_z,
        affected,
    })
}

/// Where records come from.
pub(crate) enum Input<'a> {
    /// A path: a JSON file, a zip archive or a directory of either.
    Path(&'a Path),
    /// A zip archive in memory (the bundled snapshot, a download).
    ZipBytes { name: &'a str, bytes: &'a [u8] },
    /// Gzip-compressed JSON Lines in memory, one record a line (the bundled snapshot).
    JsonLinesGz { name: &'a str, bytes: &'a [u8] },
}

fn read_json_lines_gz(
    bytes: &[u8],
    name: &str,
    send: &mut dyn FnMut(Item) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(bytes));
    for (i, line) in reader.split(b'\n').enumerate() {
        let data = match line {
            Ok(d) => d,
            Err(e) => {
                diags.push(Diagnostic::error(name, format!("cannot decompress: {e}")));
                return;
            }
        };
        if data.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if data.len() as u64 > MAX_RECORD_BYTES {
            diags.push(Diagnostic::error(
                format!("{name}:{}", i + 1),
                "record is over the size limit; skipped",
            ));
            continue;
        }
        if !send(Item {
            name: format!("{name}:{}", i + 1),
            data,
        }) {
            return;
        }
    }
}

fn read_zip<R: Read + std::io::Seek>(
    reader: R,
    name: &str,
    send: &mut dyn FnMut(Item) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    let mut archive = match zip::ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => {
            diags.push(Diagnostic::error(
                name,
                format!("not a readable zip archive: {e}; use OSV's per-ecosystem all.zip"),
            ));
            return;
        }
    };
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut file = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                diags.push(Diagnostic::error(
                    name,
                    format!("damaged zip entry {i}: {e}"),
                ));
                continue;
            }
        };
        let Ok(file_name) = file.name().map(|n| n.to_string()) else {
            diags.push(Diagnostic::error(
                name,
                format!("zip entry {i} has an unreadable name; skipped"),
            ));
            continue;
        };
        if !file.is_file() || !file_name.ends_with(".json") {
            continue;
        }
        let entry_name = format!("{name}!{file_name}");
        if file.size() > MAX_RECORD_BYTES {
            diags.push(Diagnostic::error(
                entry_name,
                format!(
                    "record of {} bytes is over the {MAX_RECORD_BYTES}-byte limit; skipped",
                    file.size()
                ),
            ));
            continue;
        }
        let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        match (&mut file)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut data)
        {
            Ok(n) if n as u64 > MAX_RECORD_BYTES => {
                diags.push(Diagnostic::error(
                    entry_name,
                    "record is over the size limit; skipped",
                ));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                diags.push(Diagnostic::error(
                    entry_name,
                    format!("cannot decompress: {e}"),
                ));
                continue;
            }
        }
        total += data.len() as u64;
        if total > MAX_ARCHIVE_BYTES {
            diags.push(Diagnostic::error(
                name,
                "archive expands beyond 4 GiB; the rest was skipped",
            ));
            return;
        }
        if !send(Item {
            name: entry_name,
            data,
        }) {
            return;
        }
    }
}

fn read_file(
    path: &Path,
    display: &str,
    send: &mut dyn FnMut(Item) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    let is_zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        match std::fs::File::open(path) {
            Ok(f) => read_zip(std::io::BufReader::new(f), display, send, diags),
            Err(e) => diags.push(Diagnostic::error(display, format!("cannot read: {e}"))),
        }
        return;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_RECORD_BYTES => {
            diags.push(Diagnostic::error(
                display,
                format!(
                    "file of {} bytes is over the {MAX_RECORD_BYTES}-byte record limit; skipped",
                    m.len()
                ),
            ));
            return;
        }
        Err(e) => {
            diags.push(Diagnostic::error(display, format!("cannot read: {e}")));
            return;
        }
        Ok(_) => {}
    }
    match std::fs::read(path) {
        Ok(data) => {
            send(Item {
                name: display.to_string(),
                data,
            });
        }
        Err(e) => diags.push(Diagnostic::error(display, format!("cannot read: {e}"))),
    }
}

/// Files under a directory that may hold records, sorted, no symlinks followed.
fn list_dir(dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                diags.push(Diagnostic::error(
                    d.display().to_string(),
                    format!("cannot list: {e}"),
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let p = entry.path();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if ext.eq_ignore_ascii_case("json") || ext.eq_ignore_ascii_case("zip") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Read an input, calling `send` for every record found. Returns false from
/// `send` to stop early.
fn produce(
    input: &Input<'_>,
    send: &mut dyn FnMut(Item) -> bool,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), DbError> {
    match input {
        Input::JsonLinesGz { name, bytes } => {
            read_json_lines_gz(bytes, name, send, diags);
            Ok(())
        }
        Input::ZipBytes { name, bytes } => {
            read_zip(std::io::Cursor::new(*bytes), name, send, diags);
            Ok(())
        }
        Input::Path(path) => {
            let meta = std::fs::metadata(path).map_err(|source| DbError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            if meta.is_dir() {
                let files = list_dir(path, diags);
                if files.is_empty() {
                    return Err(DbError::Input {
                        path: path.display().to_string(),
                        message: "no OSV .json files or .zip archives in this directory".into(),
                    });
                }
                for f in files {
                    let display = f.display().to_string();
                    read_file(&f, &display, send, diags);
                }
            } else {
                read_file(path, &path.display().to_string(), send, diags);
            }
            Ok(())
        }
    }
}

/// Metadata for the source row written with an import.
pub(crate) struct SourceMeta<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub location: &'a str,
    pub now: &'a str,
    /// For downloads: the time the data is current as of; else the newest record.
    pub data_as_of: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub sha256: Option<&'a str>,
}

impl Database {
    /// Import OSV records from a JSON file, a directory (searched recursively
    /// for `.json` files and `.zip` archives) or an `all.zip` archive, filing
    /// them under `source` (default: the file or directory name).
    ///
    /// One transaction: the import lands whole or not at all. Bad records
    /// become diagnostics in the report and are skipped.
    pub fn import_path(
        &mut self,
        path: &Path,
        source: Option<&str>,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport, DbError> {
        let default_name = source_name_for(path);
        let name = source.unwrap_or(&default_name);
        let location = path.display().to_string();
        let now = jiff::Timestamp::now().to_string();
        self.import_input(
            &Input::Path(path),
            &SourceMeta {
                name,
                kind: "import",
                location: &location,
                now: &now,
                data_as_of: None,
                etag: None,
                sha256: None,
            },
            progress,
        )
    }

    pub(crate) fn import_input(
        &mut self,
        input: &Input<'_>,
        meta: &SourceMeta<'_>,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport, DbError> {
        let mut report = ImportReport {
            source: meta.name.to_string(),
            ..Default::default()
        };
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
        let tx = self
            .conn
            .transaction()
            .map_err(DbError::sql("starting the import"))?;
        let mut newest: Option<String> = None;
        let mut write_error: Option<DbError> = None;
        let mut read_diags = Vec::new();
        let produce_result = std::thread::scope(|scope| -> Result<(), DbError> {
            let (item_tx, item_rx) = sync_channel::<Item>(workers * 64);
            let (prep_tx, prep_rx) = sync_channel::<Result<Prepared, Diagnostic>>(workers * 64);
            let item_rx: Arc<Mutex<Receiver<Item>>> = Arc::new(Mutex::new(item_rx));
            for _ in 0..workers {
                let rx = Arc::clone(&item_rx);
                let out = prep_tx.clone();
                scope.spawn(move || loop {
                    let next = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    let Ok(item) = next else { return };
                    if out.send(prepare(&item)).is_err() {
                        return;
                    }
                });
            }
            drop(prep_tx);
            let producer = scope.spawn(move || {
                let mut diags = Vec::new();
                let mut send = |item: Item| item_tx.send(item).is_ok();
                let r = produce(input, &mut send, &mut diags);
                (r, diags)
            });
            for prepared in prep_rx {
                report.read += 1;
                match prepared {
                    Err(d) => report.diagnostics.push(d),
                    Ok(p) => {
                        if write_error.is_some() {
                            continue;
                        }
                        match Database::write_prepared(&tx, meta.name, &p) {
                            Ok(outcome) => {
                                match outcome {
                                    WriteOutcome::Added => report.added += 1,
                                    WriteOutcome::Updated => report.updated += 1,
                                    WriteOutcome::Unchanged => report.unchanged += 1,
                                    WriteOutcome::Withdrawn => report.withdrawn += 1,
                                }
                                if newest
                                    .as_deref()
                                    .is_none_or(|n| cmp_time(n, &p.modified) == Ordering::Less)
                                {
                                    newest = Some(p.modified);
                                }
                            }
                            Err(e) => write_error = Some(e),
                        }
                    }
                }
                if report.read.is_multiple_of(512) {
                    progress(ImportProgress {
                        done: report.read,
                        total: None,
                    });
                }
            }
            let (r, diags) = producer.join().unwrap_or_else(|_| {
                (
                    Err(DbError::Input {
                        path: meta.location.to_string(),
                        message: "the reader stopped unexpectedly".into(),
                    }),
                    Vec::new(),
                )
            });
            read_diags = diags;
            r
        });
        produce_result?;
        if let Some(e) = write_error {
            return Err(e);
        }
        report.diagnostics.splice(0..0, read_diags);
        if report.read == 0 {
            return Err(DbError::Input {
                path: meta.location.to_string(),
                message: match report.diagnostics.first() {
                    Some(d) => format!("no OSV records could be read ({})", d.message),
                    None => "no OSV records found".into(),
                },
            });
        }
        let data_as_of = meta.data_as_of.map(str::to_string).or(newest);
        Database::upsert_source(
            &tx,
            &SourceRow {
                name: meta.name,
                kind: meta.kind,
                location: meta.location,
                updated_at: meta.now,
                data_as_of: data_as_of.as_deref(),
                etag: meta.etag,
                sha256: meta.sha256,
            },
        )?;
        tx.commit().map_err(DbError::sql("committing the import"))?;
        progress(ImportProgress {
            done: report.read,
            total: Some(report.read),
        });
        Ok(report)
    }
}

/// A source name from a path: `…/Go/all.zip` gives `Go`, `…/crates.io` gives `crates.io`.
fn source_name_for(path: &Path) -> String {
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("osv");
    if file.eq_ignore_ascii_case("all.zip") {
        if let Some(parent) = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|f| f.to_str())
        {
            return parent.to_string();
        }
    }
    file.trim_end_matches(".zip")
        .trim_end_matches(".json")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names() {
        assert_eq!(source_name_for(Path::new("/x/Go/all.zip")), "Go");
        assert_eq!(source_name_for(Path::new("/x/crates.io")), "crates.io");
        assert_eq!(source_name_for(Path::new("GHSA-1.json")), "GHSA-1");
    }

    #[test]
    fn time_order() {
        assert_eq!(
            cmp_time("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z"),
            Ordering::Less
        );
        assert_eq!(
            cmp_time("2024-01-02T00:00:00+01:00", "2024-01-01T23:30:00Z"),
            Ordering::Less
        );
    }
}
