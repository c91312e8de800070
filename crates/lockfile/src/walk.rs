//! Stub: to be implemented.

use crate::Format;
use portcullis_model::Diagnostic;
use std::path::{Path, PathBuf};

/// What to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Also descend into directories normally skipped (`node_modules`, vendored trees).
    pub include_skipped: bool,
}

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub struct WalkResult {
    /// Files found: absolute path, path relative to the walked root, and format.
    pub files: Vec<(PathBuf, String, Format)>,
    /// Problems met (unreadable directories, symlinks leaving the tree).
    pub diagnostics: Vec<Diagnostic>,
}

/// Find every lockfile and manifest under `root`.
pub fn walk(root: &Path, options: &WalkOptions) -> WalkResult {
    let _ = (root, options);
    WalkResult::default()
}
