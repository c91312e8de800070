//! The project directory walker.
//!
//! Finds every file [`Format::detect`] recognises under a directory, in a
//! deterministic (sorted) order, with display paths relative to the root and
//! `/`-separated. Vendored and generated trees (`node_modules`, `.git`,
//! `target`, `vendor`, `third_party`, virtual environments, `site-packages`,
//! `bower_components`, `.tox`, `__pycache__`) are skipped unless
//! [`WalkOptions::include_skipped`] is set.
//!
//! Symbolic links are never followed (a scan must stay inside the tree it was
//! given); a link that points outside the tree gets a warning, a link inside
//! it is skipped silently since its target is reached by its own path.
//! When a directory holds both `go.mod` and `go.sum`, only `go.mod` is
//! returned (`go.sum` is the fallback for module caches and vendored trees
//! without a `go.mod`).

use crate::Format;
use portcullis_model::Diagnostic;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// What to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Also descend into directories normally skipped (`node_modules`, vendored trees).
    pub include_skipped: bool,
    /// Also collect files whose name this predicate accepts (SBOMs, say),
    /// into [`WalkResult::extra_files`], in the same single walk.
    pub extra: Option<fn(&str) -> bool>,
}

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub struct WalkResult {
    /// Files found: absolute path, path relative to the walked root, and format.
    pub files: Vec<(PathBuf, String, Format)>,
    /// Files accepted by [`WalkOptions::extra`]: absolute path and relative display path.
    pub extra_files: Vec<(PathBuf, String)>,
    /// Problems met (unreadable directories, symlinks leaving the tree).
    pub diagnostics: Vec<Diagnostic>,
}

/// Directory names skipped unless [`WalkOptions::include_skipped`] is set.
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    "target",
    "vendor",
    "third_party",
    ".venv",
    "venv",
    "site-packages",
    "bower_components",
    ".tox",
    "__pycache__",
];

/// Find every lockfile and manifest under `root`.
///
/// A `root` that is itself a recognised file is returned alone (with its file
/// name as display path); an unrecognised file gives an empty result with a
/// warning.
pub fn walk(root: &Path, options: &WalkOptions) -> WalkResult {
    let mut result = WalkResult::default();
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    let root_display = root.display().to_string();
    let meta = match std::fs::metadata(&root) {
        Ok(m) => m,
        Err(e) => {
            result
                .diagnostics
                .push(Diagnostic::error(root_display, format!("cannot read: {e}")));
            return result;
        }
    };
    if meta.is_file() {
        let name = root.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match Format::detect(name) {
            Some(f) => result.files.push((root.clone(), name.to_string(), f)),
            None => result.diagnostics.push(Diagnostic::warning(
                root_display,
                "not a lockfile or manifest this tool recognises",
            )),
        }
        return result;
    }
    let canonical_root = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let include_skipped = options.include_skipped;
    let walker = WalkDir::new(&root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            include_skipped
                || e.depth() == 0
                || !e.file_type().is_dir()
                || !e
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n))
        });
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let shown = err
                    .path()
                    .map(|p| display_rel(&root, p))
                    .unwrap_or_else(|| ".".to_string());
                let msg = match err.io_error() {
                    Some(io) => format!("cannot read directory: {io}"),
                    None => format!("cannot walk: {err}"),
                };
                result.diagnostics.push(Diagnostic::error(shown, msg));
                continue;
            }
        };
        let ft = entry.file_type();
        let name = entry.file_name().to_str().unwrap_or("");
        if ft.is_symlink() {
            let points_outside = match std::fs::canonicalize(entry.path()) {
                Ok(target) => !target.starts_with(&canonical_root),
                Err(_) => false, // dangling: nothing to scan either way
            };
            let interesting = Format::detect(name).is_some()
                || std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            if points_outside && interesting {
                result.diagnostics.push(Diagnostic::warning(
                    display_rel(&root, entry.path()),
                    "symbolic link points outside the scanned tree; not followed",
                ));
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        if let Some(format) = Format::detect(name) {
            result.files.push((
                entry.path().to_path_buf(),
                display_rel(&root, entry.path()),
                format,
            ));
        } else if options.extra.is_some_and(|accept| accept(name)) {
            result
                .extra_files
                .push((entry.path().to_path_buf(), display_rel(&root, entry.path())));
        }
    }
    // go.sum only where no go.mod sits beside it.
    let go_mod_dirs: HashSet<PathBuf> = result
        .files
        .iter()
        .filter(|(_, _, f)| *f == Format::GoMod)
        .filter_map(|(p, _, _)| p.parent().map(Path::to_path_buf))
        .collect();
    result.files.retain(|(p, _, f)| {
        *f != Format::GoSum || !p.parent().is_some_and(|d| go_mod_dirs.contains(d))
    });
    result.files.sort_by(|a, b| a.1.cmp(&b.1));
    result
}

/// `p` relative to `root`, `/`-separated (`.` for the root itself).
fn display_rel(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}
