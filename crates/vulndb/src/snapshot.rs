//! The bundled OSV snapshot: gzip-compressed JSON Lines (one record a line) built into the binary so that a
//! scan works offline on a fresh machine. See `crates/vulndb/data/README.md`
//! for what it holds, where it came from and its licences.

use crate::import::{Input, SourceMeta};
use crate::{Database, DbError, ImportProgress, ImportReport};

/// The date the bundled snapshot's data was taken (its newest sources).
pub const BUNDLED_SNAPSHOT_DATE: &str = "2026-08-21T00:00:00Z";

static SNAPSHOT: &[u8] = include_bytes!("../data/osv-snapshot.jsonl.gz");

/// The bundled snapshot: gzip-compressed JSON Lines, one OSV record a line.
pub fn bundled_snapshot() -> &'static [u8] {
    SNAPSHOT
}

impl Database {
    /// Import the bundled snapshot (source `bundled`).
    pub fn import_bundled(
        &mut self,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<ImportReport, DbError> {
        let now = jiff::Timestamp::now().to_string();
        self.import_input(
            &Input::JsonLinesGz {
                name: "bundled snapshot",
                bytes: SNAPSHOT,
            },
            &SourceMeta {
                name: "bundled",
                kind: "bundled",
                location: "built into portcullis",
                now: &now,
                data_as_of: Some(BUNDLED_SNAPSHOT_DATE),
                etag: None,
                sha256: None,
            },
            progress,
        )
    }
}
