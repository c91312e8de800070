//! The SQLite index: schema, writes and lookups.

use crate::import::Prepared;
use crate::DbError;
use portcullis_model::osv::Vulnerability;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The schema version this build writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS source (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    data_as_of TEXT,
    etag TEXT,
    sha256 TEXT
);
CREATE TABLE IF NOT EXISTS vuln (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    modified TEXT NOT NULL,
    published TEXT,
    summary TEXT,
    aliases TEXT NOT NULL,
    severity TEXT NOT NULL,
    cvss_score REAL,
    cvss_vector TEXT,
    record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    ecosystem TEXT NOT NULL,
    suffix TEXT NOT NULL,
    name TEXT NOT NULL,
    vuln_id TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected(ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_vuln ON affected(vuln_id);
CREATE INDEX IF NOT EXISTS vuln_by_source ON vuln(source);
CREATE TABLE IF NOT EXISTS withdrawn (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    modified TEXT NOT NULL
);
";

/// The local vulnerability database: one SQLite file.
#[derive(Debug)]
pub struct Database {
    pub(crate) conn: Connection,
    path: PathBuf,
}

/// One source's state, for `portcullis db status`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceStatus {
    /// Source name (an ecosystem for downloads, a name for imports).
    pub name: String,
    /// `bundled`, `import` or `download`.
    pub kind: String,
    /// Where it came from: a path or URL.
    pub location: String,
    /// When it was last imported or downloaded (RFC 3339).
    pub updated_at: String,
    /// How current the data is (RFC 3339): the download time, or the newest
    /// record's `modified` for imports.
    pub data_as_of: Option<String>,
    /// Records stored from this source.
    pub records: u64,
    /// Withdrawn records seen from this source (never matched).
    pub withdrawn: u64,
}

/// The database's state.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Status {
    /// The database file.
    pub path: String,
    /// Sources.
    pub sources: Vec<SourceStatus>,
    /// Records per ecosystem (OSV ecosystem without suffix).
    pub ecosystems: Vec<(String, u64)>,
    /// All records.
    pub records: u64,
}

/// A stored record's row, as the matcher needs it.
#[derive(Debug, Clone)]
pub(crate) struct StoredVuln {
    pub record: Vulnerability,
}

/// The default database path: `$PORTCULLIS_DB`, else the user's data
/// directory (`$XDG_DATA_HOME/portcullis/osv.db`, `~/.local/share/portcullis/osv.db`,
/// `%LOCALAPPDATA%\portcullis\osv.db`).
pub fn default_db_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PORTCULLIS_DB").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("portcullis").join("osv.db")
}

impl Database {
    /// Open (creating if needed) the database at `path` for reading and writing.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = Database::connect(path, OpenFlags::default())?;
        db.migrate()?;
        Ok(db)
    }

    /// Open an existing database read-only (a scan never writes).
    pub fn open_read_only(path: &Path) -> Result<Self, DbError> {
        let db = Database::connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.check_version()?;
        Ok(db)
    }

    /// Open a connection that waits (up to a minute) for a concurrent writer
    /// instead of failing at once.
    fn connect(path: &Path, flags: OpenFlags) -> Result<Self, DbError> {
        let conn = Connection::open_with_flags(path, flags).map_err(|source| DbError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(DbError::sql("setting the busy timeout"))?;
        Ok(Database {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file this database lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_version(&self) -> Result<i64, DbError> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(DbError::sql("reading the schema version"))?;
        if found > SCHEMA_VERSION {
            return Err(DbError::Schema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(found)
    }

    fn migrate(&self) -> Result<(), DbError> {
        let found = self.check_version()?;
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(DbError::sql("setting the journal mode"))?;
        if found < SCHEMA_VERSION {
            self.conn
                .execute_batch(SCHEMA)
                .map_err(DbError::sql("creating the schema"))?;
            self.conn
                .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .map_err(DbError::sql("writing the schema version"))?;
        }
        Ok(())
    }

    /// True when no record has been imported yet.
    pub fn is_empty(&self) -> Result<bool, DbError> {
        let n: i64 = self
            .conn
            .query_row("SELECT EXISTS(SELECT 1 FROM vuln)", [], |r| r.get(0))
            .map_err(DbError::sql("counting records"))?;
        Ok(n == 0)
    }

    /// The sources, record counts and ages, and records per ecosystem.
    pub fn status(&self) -> Result<Status, DbError> {
        let sources = self.sources()?;
        let mut ecosystems = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT ecosystem, COUNT(DISTINCT vuln_id) FROM affected
                     GROUP BY ecosystem ORDER BY ecosystem",
                )
                .map_err(DbError::sql("counting ecosystems"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?.max(0).unsigned_abs(),
                    ))
                })
                .map_err(DbError::sql("counting ecosystems"))?;
            for row in rows {
                ecosystems.push(row.map_err(DbError::sql("counting ecosystems"))?);
            }
        }
        let records: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM vuln", [], |r| r.get(0))
            .map_err(DbError::sql("counting records"))?;
        Ok(Status {
            path: self.path.display().to_string(),
            sources,
            ecosystems,
            records: records.max(0).unsigned_abs(),
        })
    }

    /// The sources with their record counts and ages (cheap: indexed counts only).
    pub fn sources(&self) -> Result<Vec<SourceStatus>, DbError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.name, s.kind, s.location, s.updated_at, s.data_as_of,
                    (SELECT COUNT(*) FROM vuln v WHERE v.source = s.name),
                    (SELECT COUNT(*) FROM withdrawn w WHERE w.source = s.name)
                 FROM source s ORDER BY s.name",
            )
            .map_err(DbError::sql("reading sources"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SourceStatus {
                    name: r.get(0)?,
                    kind: r.get(1)?,
                    location: r.get(2)?,
                    updated_at: r.get(3)?,
                    data_as_of: r.get(4)?,
                    records: r.get::<_, i64>(5)?.max(0).unsigned_abs(),
                    withdrawn: r.get::<_, i64>(6)?.max(0).unsigned_abs(),
                })
            })
            .map_err(DbError::sql("reading sources"))?;
        let mut sources = Vec::new();
        for row in rows {
            sources.push(row.map_err(DbError::sql("reading sources"))?);
        }
        Ok(sources)
    }

    /// Affected entries for a package: (suffix, vuln id, entry JSON).
    pub(crate) fn candidates(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Vec<(String, String, String)>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT suffix, vuln_id, entry FROM affected WHERE ecosystem = ?1 AND name = ?2",
            )
            .map_err(DbError::sql("looking up a package"))?;
        let rows = stmt
            .query_map(params![ecosystem, name], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(DbError::sql("looking up a package"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row.map_err(DbError::sql("looking up a package"))?);
        }
        Ok(out)
    }

    /// A stored record, decompressed.
    pub(crate) fn vuln(&self, id: &str) -> Result<Option<StoredVuln>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT record FROM vuln WHERE id = ?1")
            .map_err(DbError::sql("reading a record"))?;
        let blob: Option<Vec<u8>> = stmt
            .query_row(params![id], |r| r.get(0))
            .optional()
            .map_err(DbError::sql("reading a record"))?;
        let Some(blob) = blob else { return Ok(None) };
        let mut json = Vec::with_capacity(blob.len() * 4);
        if flate2::read::DeflateDecoder::new(blob.as_slice())
            .read_to_end(&mut json)
            .is_err()
        {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&json)
            .ok()
            .map(|record| StoredVuln { record }))
    }

    /// The full OSV record for an ID (or alias), for `portcullis db show`.
    pub fn record(&self, id: &str) -> Result<Option<Vulnerability>, DbError> {
        if let Some(v) = self.vuln(id)? {
            return Ok(Some(v.record));
        }
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM vuln WHERE EXISTS (SELECT 1 FROM json_each(vuln.aliases) WHERE value = ?1) LIMIT 1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(DbError::sql("searching aliases"))?;
        match found {
            Some(real) => Ok(self.vuln(&real)?.map(|v| v.record)),
            None => Ok(None),
        }
    }

    /// Write one prepared record inside the current transaction.
    /// Returns what happened to it.
    pub(crate) fn write_prepared(
        tx: &rusqlite::Transaction<'_>,
        source: &str,
        p: &Prepared,
    ) -> Result<WriteOutcome, DbError> {
        let existing: Option<String> = tx
            .prepare_cached("SELECT modified FROM vuln WHERE id = ?1")
            .and_then(|mut s| s.query_row(params![p.id], |r| r.get(0)).optional())
            .map_err(DbError::sql("checking an existing record"))?;
        let existing_withdrawn: Option<String> = tx
            .prepare_cached("SELECT modified FROM withdrawn WHERE id = ?1")
            .and_then(|mut s| s.query_row(params![p.id], |r| r.get(0)).optional())
            .map_err(DbError::sql("checking a withdrawn record"))?;
        let newest = existing
            .iter()
            .chain(existing_withdrawn.iter())
            .max_by(|a, b| crate::import::cmp_time(a, b));
        if let Some(newest) = newest {
            if crate::import::cmp_time(newest, &p.modified) != std::cmp::Ordering::Less {
                return Ok(WriteOutcome::Unchanged);
            }
        }
        tx.prepare_cached("DELETE FROM affected WHERE vuln_id = ?1")
            .and_then(|mut s| s.execute(params![p.id]))
            .map_err(DbError::sql("replacing a record"))?;
        if p.withdrawn {
            tx.prepare_cached("DELETE FROM vuln WHERE id = ?1")
                .and_then(|mut s| s.execute(params![p.id]))
                .map_err(DbError::sql("removing a withdrawn record"))?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO withdrawn (id, source, modified) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![p.id, source, p.modified]))
            .map_err(DbError::sql("recording a withdrawn record"))?;
            return Ok(WriteOutcome::Withdrawn);
        }
        tx.prepare_cached("DELETE FROM withdrawn WHERE id = ?1")
            .and_then(|mut s| s.execute(params![p.id]))
            .map_err(DbError::sql("replacing a record"))?;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO vuln (id, source, modified, published, summary, aliases, severity, cvss_score, cvss_vector, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut s| {
            s.execute(params![
                p.id,
                source,
                p.modified,
                p.published,
                p.summary,
                p.aliases_json,
                p.severity.severity.as_str(),
                p.severity.score,
                p.severity.vector,
                p.record_z
            ])
        })
        .map_err(DbError::sql("storing a record"))?;
        let mut ins = tx
            .prepare_cached(
                "INSERT INTO affected (ecosystem, suffix, name, vuln_id, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(DbError::sql("indexing a record"))?;
        for a in &p.affected {
            ins.execute(params![a.ecosystem, a.suffix, a.name, p.id, a.entry])
                .map_err(DbError::sql("indexing a record"))?;
        }
        Ok(if existing.is_some() {
            WriteOutcome::Updated
        } else {
            WriteOutcome::Added
        })
    }

    /// Record (or refresh) a source's row.
    pub(crate) fn upsert_source(
        tx: &rusqlite::Transaction<'_>,
        row: &SourceRow<'_>,
    ) -> Result<(), DbError> {
        tx.execute(
            "INSERT INTO source (name, kind, location, updated_at, data_as_of, etag, sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, location = excluded.location,
               updated_at = excluded.updated_at,
               data_as_of = excluded.data_as_of,
               etag = COALESCE(excluded.etag, source.etag), sha256 = COALESCE(excluded.sha256, source.sha256)",
            params![row.name, row.kind, row.location, row.updated_at, row.data_as_of, row.etag, row.sha256],
        )
        .map_err(DbError::sql("recording the source"))?;
        Ok(())
    }

    /// The stored ETag of a downloaded source, for conditional requests.
    pub(crate) fn source_etag(&self, name: &str) -> Result<Option<String>, DbError> {
        self.conn
            .query_row(
                "SELECT etag FROM source WHERE name = ?1",
                params![name],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(DbError::sql("reading the source"))
    }

    /// Mark a source as checked now (a download that returned 304 Not Modified).
    pub(crate) fn touch_source(&self, name: &str, now: &str) -> Result<(), DbError> {
        self.conn
            .execute(
                "UPDATE source SET updated_at = ?2, data_as_of = ?2 WHERE name = ?1",
                params![name, now],
            )
            .map_err(DbError::sql("updating the source"))?;
        Ok(())
    }
}

/// A source row to write.
pub(crate) struct SourceRow<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub location: &'a str,
    pub updated_at: &'a str,
    pub data_as_of: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub sha256: Option<&'a str>,
}

/// What happened to one record on import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    Added,
    Updated,
    Unchanged,
    Withdrawn,
}
