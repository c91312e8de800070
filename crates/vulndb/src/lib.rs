//! The local vulnerability database and the matcher.
//!
//! OSV records are the data model. [`Database::import_path`] takes OSV JSON
//! files, directories and the per-ecosystem `all.zip` archives OSV
//! publishes, and indexes them in one SQLite file keyed by
//! (ecosystem, package name), so that a scan looks up only the packages it
//! has and decompresses only the records that hit. [`match_packages`]
//! applies the OSV evaluation rules to an inventory and returns findings,
//! with aliases merged so that one flaw is one finding.
//!
//! Invariants:
//! - An import is one transaction: it lands whole or not at all, and a bad
//!   record is reported and skipped without stopping the rest.
//! - A record ID is stored once, at its highest `modified`; withdrawn
//!   records are never matched.
//! - A version that does not parse is a diagnostic, never "affected".
#![deny(missing_docs)]

mod error;
mod import;
mod matcher;
mod severity;
mod snapshot;
mod store;
mod update;

pub use error::DbError;
pub use import::{ImportProgress, ImportReport};
pub use matcher::{evaluate_affected, match_packages, MatchOptions, MatchOutcome};
pub use severity::{record_severity, RatedSeverity};
pub use snapshot::{bundled_snapshot, BUNDLED_SNAPSHOT_DATE};
pub use store::{default_db_path, Database, SourceStatus, Status};
pub use update::{update, EcosystemUpdate, UpdateOptions, UpdateReport, DEFAULT_OSV_URL};

/// How many days old the data may be before every scan warns.
pub const STALE_AFTER_DAYS: i64 = 7;
