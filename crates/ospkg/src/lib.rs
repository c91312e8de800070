//! Installed operating-system packages, read from a root directory.
//!
//! Interface (fixed, other crates build against it):
//! ```text
//! pub fn scan_root(root: &Path) -> OsInventory
//! ```
//! `OsInventory { os: Option<OsRelease>, packages: Vec<Package>, diagnostics: Vec<Diagnostic>, sources: Vec<String> }`.
#![deny(missing_docs)]

use portcullis_model::{Diagnostic, Package};
use std::path::Path;

/// The distribution, from `etc/os-release` (or `usr/lib/os-release`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OsRelease {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `almalinux`, `rhel`, `sles`…).
    pub id: String,
    /// `ID_LIKE`, split.
    pub id_like: Vec<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`.
    pub version_codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

/// What was found under a root.
#[derive(Debug, Clone, Default)]
pub struct OsInventory {
    /// The distribution, when os-release was found.
    pub os: Option<OsRelease>,
    /// Installed packages, with `distro` set to the OSV release suffix.
    pub packages: Vec<Package>,
    /// Problems met on the way.
    pub diagnostics: Vec<Diagnostic>,
    /// The package databases read, relative to the root.
    pub sources: Vec<String>,
}

/// Read every package database found under `root`.
pub fn scan_root(root: &Path) -> OsInventory {
    let _ = root;
    OsInventory::default()
}
