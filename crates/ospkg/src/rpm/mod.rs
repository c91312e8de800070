//! RPM package databases: SQLite (`rpmdb.sqlite`, rpm 4.16+), NDB
//! (`Packages.db`, SUSE) and Berkeley DB hash (`Packages`, legacy).

pub mod bdb;
pub mod header;
pub mod ndb;

use crate::DistroContext;
use header::{parse_rpm_header, RpmHeader};
use portcullis_model::{Diagnostic, Location, Package};
use std::path::Path;

/// The database formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpmDbFormat {
    /// `rpmdb.sqlite`.
    Sqlite,
    /// `Packages.db`.
    Ndb,
    /// `Packages` (Berkeley DB hash).
    Bdb,
}

/// Turn header blobs into packages. `path` names the database in locations
/// and diagnostics; `what` names each blob in messages (`record 3`).
pub(crate) fn packages_from_blobs<'b, I>(
    path: &str,
    blobs: I,
    ctx: &DistroContext,
) -> (Vec<Package>, Vec<Diagnostic>)
where
    I: IntoIterator<Item = (String, &'b [u8])>,
{
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (what, blob) in blobs {
        match parse_rpm_header(blob) {
            Ok(h) => {
                if h.name == "gpg-pubkey" {
                    continue;
                }
                out.push(package(path, &h, ctx));
            }
            Err(e) => diags.push(Diagnostic::error(path, format!("{what}: {e}; skipped"))),
        }
    }
    (out, diags)
}

/// The package for one header.
pub fn package(path: &str, h: &RpmHeader, ctx: &DistroContext) -> Package {
    let vr = format!("{}-{}", h.version, h.release);
    let loc = Location {
        path: path.to_string(),
        line: None,
    };
    let mut p = ctx.package("rpm", &h.name, &h.osv_version(), &vr, loc);
    if let Some(a) = h.arch.as_deref() {
        p.purl = p.purl.with_qualifier("arch", a);
    }
    if let Some(e) = h.epoch.filter(|e| *e != 0) {
        p.purl = p.purl.with_qualifier("epoch", &e.to_string());
    }
    if let Some(src) = h.source_rpm.as_deref() {
        p.purl = p.purl.with_qualifier("upstream", src);
    }
    match h.source() {
        Some((name, version)) => {
            p.source_name = Some(name.to_string());
            if version != vr {
                p.source_version = Some(version.to_string());
            }
        }
        None => p.source_name = Some(h.name.clone()),
    }
    if let Some(l) = h
        .license
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        p.licenses.push(l.to_string());
    }
    p
}

/// Read an SQLite rpmdb read-only, without creating or changing any file
/// (the URI asks for `mode=ro&immutable=1`, so no journal, WAL or lock file
/// is touched). Returns the header blobs with their `hnum`, and a message
/// for each problem: a row that is not a blob is skipped; a database error
/// stops the reading but keeps the rows read before it.
pub(crate) fn read_sqlite(host_path: &Path) -> (Vec<(i64, Vec<u8>)>, Vec<String>) {
    use rusqlite::{Connection, OpenFlags};
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let uri = sqlite_uri(host_path);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = match Connection::open_with_flags(&uri, flags) {
        Ok(c) => c,
        Err(e) => {
            errors.push(format!("cannot open the SQLite rpmdb: {e}"));
            return (out, errors);
        }
    };
    // Bound memory: no value larger than an rpm header may be (rpm's own
    // HEADER_DATA_MAX plus the index) is read.
    let _ = conn.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, 300 << 20);
    let mut stmt = match conn.prepare("SELECT hnum, blob FROM Packages") {
        Ok(s) => s,
        Err(e) => {
            errors.push(format!("no readable Packages table: {e}"));
            return (out, errors);
        }
    };
    let mut rows = match stmt.query([]) {
        Ok(r) => r,
        Err(e) => {
            errors.push(format!("cannot read the Packages table: {e}"));
            return (out, errors);
        }
    };
    loop {
        match rows.next() {
            Ok(Some(row)) => match (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1)) {
                (Ok(n), Ok(b)) => out.push((n, b)),
                (n, Err(e)) => errors.push(format!(
                    "record {}: blob column unreadable: {e}; skipped",
                    n.map_or_else(|_| "?".to_string(), |n| n.to_string())
                )),
                (Err(e), _) => {
                    errors.push(format!("a record has an unreadable hnum: {e}; skipped"))
                }
            },
            Ok(None) => break,
            Err(e) => {
                errors.push(format!(
                    "reading the Packages table failed after {} records: {e}",
                    out.len()
                ));
                break;
            }
        }
    }
    (out, errors)
}

/// A `file:` URI for SQLite with the path percent-encoded.
fn sqlite_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    for b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}
