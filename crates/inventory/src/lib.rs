//! What is installed or bundled: one entry point over OS package databases
//! (`portcullis-ospkg`), lockfiles and manifests (`portcullis-lockfile`) and
//! SBOMs (`portcullis-sbom`).
//!
//! [`collect`] takes what the user named (directories, files, a root
//! directory for OS packages) and returns every package found, with the
//! diagnostics of every reader. It never fails: unreadable input becomes an
//! error diagnostic and the rest is still read.
#![deny(missing_docs)]

use portcullis_lockfile::{Format, WalkOptions};
use portcullis_model::{Diagnostic, Package};
pub use portcullis_ospkg::OsRelease;
use std::path::{Path, PathBuf};

/// What to take stock of.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Directories to walk for lockfiles and manifests, or single files
    /// (a lockfile, or a CycloneDX/SPDX JSON SBOM).
    pub paths: Vec<PathBuf>,
    /// A root directory whose installed OS packages are read (`/` for this host).
    pub root: Option<PathBuf>,
    /// Descend into `node_modules`, vendored trees and the like.
    pub include_skipped: bool,
}

/// Everything found.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Packages, in the order found.
    pub packages: Vec<Package>,
    /// Problems met. Any `Error` means the inventory is partial.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read (lockfiles, SBOMs, package databases).
    pub sources: Vec<String>,
    /// The distribution of the root, when one was read.
    pub os: Option<OsRelease>,
}

impl Inventory {
    /// True when some input could not be read (an error diagnostic).
    pub fn is_partial(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Progress events, for a progress display.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// Reading a file.
    Reading(&'a str),
    /// Reading the OS package databases under a root.
    ReadingRoot(&'a Path),
}

/// True when a file name is a conventional SBOM name (`*.cdx.json`,
/// `*.spdx.json`, `bom.json`, `sbom.json`, `*.sbom.json`).
pub fn is_sbom_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".cdx.json")
        || n.ends_with(".spdx.json")
        || n.ends_with(".sbom.json")
        || n == "bom.json"
        || n == "sbom.json"
}

fn read_sbom(path: &Path, display: &str, inv: &mut Inventory) {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            inv.diagnostics
                .push(Diagnostic::error(display, format!("cannot read: {e}")));
            return;
        }
    };
    let read = portcullis_sbom::read(display, &text);
    inv.packages.extend(read.packages);
    inv.diagnostics.extend(read.diagnostics);
    inv.sources.push(display.to_string());
}

fn read_file(path: &Path, display: &str, inv: &mut Inventory) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(format) = Format::detect(name) {
        let parsed = portcullis_lockfile::parse_file(format, path, display);
        inv.packages.extend(parsed.packages);
        inv.diagnostics.extend(parsed.diagnostics);
        inv.sources.push(display.to_string());
        return;
    }
    if is_sbom_name(name) || name.to_ascii_lowercase().ends_with(".json") {
        let head = std::fs::File::open(path).and_then(|mut f| {
            use std::io::Read;
            let mut buf = vec![0u8; 8192];
            let n = f.read(&mut buf)?;
            buf.truncate(n);
            Ok(buf)
        });
        match head {
            Ok(head) if portcullis_sbom::looks_like_sbom(&String::from_utf8_lossy(&head)) => {
                read_sbom(path, display, inv);
                return;
            }
            Err(e) => {
                inv.diagnostics
                    .push(Diagnostic::error(display, format!("cannot read: {e}")));
                return;
            }
            _ => {}
        }
    }
    inv.diagnostics.push(Diagnostic::error(
        display,
        "not a lockfile, manifest or SBOM that portcullis reads; name a directory to search, or see `portcullis scan --help` for the formats",
    ));
}

/// Take stock of a target.
pub fn collect(target: &Target, progress: &mut dyn FnMut(Progress<'_>)) -> Inventory {
    let mut inv = Inventory::default();
    if let Some(root) = &target.root {
        progress(Progress::ReadingRoot(root));
        let os = portcullis_ospkg::scan_root(root);
        inv.packages.extend(os.packages);
        inv.diagnostics.extend(os.diagnostics);
        inv.sources.extend(os.sources);
        inv.os = os.os;
    }
    for path in &target.paths {
        let display = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                inv.diagnostics.push(Diagnostic::error(
                    display,
                    format!("cannot read: {e}; check the path"),
                ));
                continue;
            }
        };
        if meta.is_file() {
            progress(Progress::Reading(&display));
            read_file(path, &display, &mut inv);
            continue;
        }
        let walked = portcullis_lockfile::walk(
            path,
            &WalkOptions {
                include_skipped: target.include_skipped,
                extra: Some(is_sbom_name),
            },
        );
        inv.diagnostics.extend(walked.diagnostics);
        for (abs, rel) in walked.extra_files {
            progress(Progress::Reading(&rel));
            read_sbom(&abs, &rel, &mut inv);
        }
        for (abs, rel, format) in walked.files {
            progress(Progress::Reading(&rel));
            let parsed = portcullis_lockfile::parse_file(format, &abs, &rel);
            inv.packages.extend(parsed.packages);
            inv.diagnostics.extend(parsed.diagnostics);
            inv.sources.push(rel);
        }
    }
    inv
}
