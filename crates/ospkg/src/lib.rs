//! Installed operating-system packages, read from a root directory.
//!
//! Interface (fixed, other crates build against it):
//! ```text
//! pub fn scan_root(root: &Path) -> OsInventory
//! ```
//! `OsInventory { os: Option<OsRelease>, packages: Vec<Package>, diagnostics: Vec<Diagnostic>, sources: Vec<String> }`.
//!
//! Every file is opened through a resolver that follows symbolic links
//! *inside* the root (an absolute link target is taken relative to the
//! root; a target climbing above the root is refused), so an unpacked
//! container image or a mounted disk can be scanned as safely as `/`.
//!
//! Formats: os-release; dpkg `status` and `status.d/`; apk `installed`; RPM
//! databases in SQLite, NDB and Berkeley DB hash form, with a hand-written
//! header parser. The parsers over text and bytes are public for fuzzing.
#![deny(missing_docs)]

mod apk;
mod distro;
mod dpkg;
mod osrelease;
mod rootfs;
pub mod rpm;

pub use apk::parse_apk_installed;
pub use distro::DistroContext;
pub use dpkg::parse_dpkg_status;
pub use osrelease::OsvTarget;
pub use rpm::bdb::read_bdb_hash;
pub use rpm::header::{parse_rpm_header, split_source_rpm, RpmError, RpmHeader};
pub use rpm::ndb::read_ndb;

use portcullis_model::{Diagnostic, Ecosystem, Package};
use rootfs::RootError;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

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

/// Largest os-release file read.
const OS_RELEASE_LIMIT: u64 = 64 << 10;
/// Largest text database (dpkg status, apk installed) read.
const TEXT_LIMIT: u64 = 512 << 20;
/// Largest binary RPM database read into memory.
const RPMDB_LIMIT: u64 = 1 << 30;

/// Read every package database found under `root`.
pub fn scan_root(root: &Path) -> OsInventory {
    let mut inv = OsInventory::default();
    let os_path = read_os_release(root, &mut inv);
    let mut scan = Scan {
        root,
        inv,
        os_path,
        warned: Vec::new(),
    };
    scan.dpkg();
    scan.apk();
    scan.rpm();
    scan.inv
}

/// Read `etc/os-release`, falling back to `usr/lib/os-release`. Returns the
/// path read (relative to the root), for diagnostics.
fn read_os_release(root: &Path, inv: &mut OsInventory) -> String {
    for rel in ["etc/os-release", "usr/lib/os-release"] {
        match rootfs::read(root, rel, OS_RELEASE_LIMIT) {
            Ok((_, bytes)) => {
                let os = OsRelease::parse(&String::from_utf8_lossy(&bytes));
                if os.id.is_empty() {
                    inv.diagnostics
                        .push(Diagnostic::warning(rel, "os-release has no ID field"));
                }
                inv.os = Some(os);
                return rel.to_string();
            }
            Err(RootError::NotFound) => {}
            Err(RootError::Refused(m) | RootError::Io(m)) => {
                inv.diagnostics.push(Diagnostic::warning(rel, m));
            }
        }
    }
    "etc/os-release".to_string()
}

struct Scan<'a> {
    root: &'a Path,
    inv: OsInventory,
    os_path: String,
    /// The distribution-mapping warnings given already.
    warned: Vec<String>,
}

impl Scan<'_> {
    fn context(&mut self, fallback: Ecosystem) -> DistroContext {
        let (ctx, warning) = DistroContext::new(self.inv.os.as_ref(), fallback);
        if let Some(w) = warning {
            if !self.warned.contains(&w) {
                let d = Diagnostic::warning(self.os_path.clone(), w.clone());
                self.inv.diagnostics.push(d);
                self.warned.push(w);
            }
        }
        ctx
    }

    /// Read a file, turning every failure but absence into a diagnostic.
    fn read(&mut self, rel: &str, limit: u64) -> Option<(PathBuf, Vec<u8>)> {
        match rootfs::read(self.root, rel, limit) {
            Ok(r) => Some(r),
            Err(RootError::NotFound) => None,
            Err(RootError::Refused(m)) => {
                self.inv.diagnostics.push(Diagnostic::warning(rel, m));
                None
            }
            Err(RootError::Io(m)) => {
                self.inv.diagnostics.push(Diagnostic::error(rel, m));
                None
            }
        }
    }

    fn add(&mut self, rel: &str, (pkgs, diags): (Vec<Package>, Vec<Diagnostic>)) {
        self.inv.sources.push(rel.to_string());
        self.inv.packages.extend(pkgs);
        self.inv.diagnostics.extend(diags);
    }

    fn dpkg(&mut self) {
        let rel = "var/lib/dpkg/status";
        if let Some((_, bytes)) = self.read(rel, TEXT_LIMIT) {
            let ctx = self.context(Ecosystem::Debian);
            let text = text(&bytes);
            self.add(rel, parse_dpkg_status(rel, &text, &ctx, true));
        }
        let dir = "var/lib/dpkg/status.d";
        let names = match rootfs::list_dir(self.root, dir) {
            Ok(n) => n,
            Err(RootError::NotFound) => return,
            Err(RootError::Refused(m) | RootError::Io(m)) => {
                self.inv.diagnostics.push(Diagnostic::warning(dir, m));
                return;
            }
        };
        for name in names {
            if name.starts_with('.') || name.ends_with(".md5sums") {
                continue;
            }
            let rel = format!("{dir}/{name}");
            if let Some((_, bytes)) = self.read(&rel, TEXT_LIMIT) {
                let ctx = self.context(Ecosystem::Debian);
                let text = text(&bytes);
                self.add(&rel, parse_dpkg_status(&rel, &text, &ctx, false));
            }
        }
    }

    fn apk(&mut self) {
        let rel = "lib/apk/db/installed";
        if let Some((_, bytes)) = self.read(rel, TEXT_LIMIT) {
            let ctx = self.context(Ecosystem::Alpine);
            let text = text(&bytes);
            self.add(rel, parse_apk_installed(rel, &text, &ctx));
        }
    }

    fn rpm(&mut self) {
        let mut seen: Vec<PathBuf> = Vec::new();
        for dir in ["var/lib/rpm", "usr/lib/sysimage/rpm"] {
            // The newest format present wins: rpm leaves an old database
            // behind when it converts, and reading both would double count.
            for (file, format) in [
                ("rpmdb.sqlite", rpm::RpmDbFormat::Sqlite),
                ("Packages.db", rpm::RpmDbFormat::Ndb),
                ("Packages", rpm::RpmDbFormat::Bdb),
            ] {
                let rel = format!("{dir}/{file}");
                let host = match rootfs::resolve(self.root, &rel) {
                    Ok(p) if p.is_file() => p,
                    Ok(_) | Err(RootError::NotFound) => continue,
                    Err(RootError::Refused(m) | RootError::Io(m)) => {
                        self.inv
                            .diagnostics
                            .push(Diagnostic::warning(rel.as_str(), m));
                        continue;
                    }
                };
                if seen.contains(&host) {
                    break; // the same database through a link (var/lib/rpm -> sysimage)
                }
                seen.push(host.clone());
                self.rpm_db(&rel, &host, format);
                break;
            }
        }
    }

    fn rpm_db(&mut self, rel: &str, host: &Path, format: rpm::RpmDbFormat) {
        let ctx = self.context(Ecosystem::RedHat);
        match format {
            rpm::RpmDbFormat::Sqlite => {
                let (rows, errors) = rpm::read_sqlite(host);
                self.errors(rel, errors);
                let blobs = rows
                    .iter()
                    .map(|(n, b)| (format!("record {n}"), b.as_slice()));
                let r = rpm::packages_from_blobs(rel, blobs, &ctx);
                self.add(rel, r);
            }
            rpm::RpmDbFormat::Ndb => {
                let Some((_, bytes)) = self.read(rel, RPMDB_LIMIT) else {
                    return;
                };
                let (blobs, errors) = read_ndb(&bytes);
                self.errors(rel, errors);
                let r = rpm::packages_from_blobs(
                    rel,
                    blobs
                        .into_iter()
                        .enumerate()
                        .map(|(i, b)| (format!("blob {}", i + 1), b)),
                    &ctx,
                );
                self.add(rel, r);
            }
            rpm::RpmDbFormat::Bdb => {
                let Some((_, bytes)) = self.read(rel, RPMDB_LIMIT) else {
                    return;
                };
                let (values, errors) = read_bdb_hash(&bytes);
                self.errors(rel, errors);
                let r = rpm::packages_from_blobs(
                    rel,
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (format!("record {}", i + 1), b.as_slice())),
                    &ctx,
                );
                self.add(rel, r);
            }
        }
    }

    fn errors(&mut self, rel: &str, errors: Vec<String>) {
        self.inv
            .diagnostics
            .extend(errors.into_iter().map(|e| Diagnostic::error(rel, e)));
    }
}

/// The text of a file: borrowed when it is UTF-8, else lossily converted.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}
