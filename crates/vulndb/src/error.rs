//! Typed errors of the vulnerability database.

use std::path::PathBuf;

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database file could not be opened or created.
    #[error("cannot open the vulnerability database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// The database file was written by a newer Portcullis.
    #[error("the vulnerability database {path} has schema version {found}, newer than this build understands ({supported}); upgrade portcullis or use another --db")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// Version found.
        found: i64,
        /// Version supported.
        supported: i64,
    },
    /// A query or write failed.
    #[error("vulnerability database error while {action}: {source}")]
    Sql {
        /// What was being done.
        action: &'static str,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// An input could not be read at all.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input is not an OSV JSON file, a directory of them or a zip of them.
    #[error("{path}: {message}")]
    Input {
        /// The input.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A download failed.
    #[error("cannot download {url}: {message}")]
    Download {
        /// The URL (never carries credentials).
        url: String,
        /// What went wrong.
        message: String,
    },
}

impl DbError {
    pub(crate) fn sql(action: &'static str) -> impl FnOnce(rusqlite::Error) -> DbError {
        move |source| DbError::Sql { action, source }
    }
}
