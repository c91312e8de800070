//! The host model: files under a root directory, read without ever leaving
//! it, plus live state (`/proc`) when the root is the running system.

use portcullis_model::Package;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest file read whole (bigger files are read up to this size).
pub const MAX_FILE: u64 = 64 * 1024 * 1024;

/// The outcome of reading one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRead {
    /// The file's text (invalid UTF-8 replaced).
    Text(String),
    /// There is no such file (a normal case: the feature is not configured).
    Missing,
    /// The file exists but could not be read: the reason.
    Unreadable(String),
}

impl FileRead {
    /// The text, when read.
    pub fn text(&self) -> Option<&str> {
        match self {
            FileRead::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The machine being assessed.
#[derive(Debug)]
pub struct Host {
    root: PathBuf,
    live: bool,
    /// The distribution, from os-release.
    pub os: Option<portcullis_ospkg::OsRelease>,
    /// Installed OS packages.
    pub packages: Vec<Package>,
    names: HashMap<String, usize>,
    /// Files that exist but could not be read (relative paths and reasons).
    pub unreadable: std::cell::RefCell<Vec<(String, String)>>,
    /// Package databases read.
    pub package_sources: Vec<String>,
    /// Problems reading the package databases.
    pub package_diagnostics: Vec<portcullis_model::Diagnostic>,
}

impl Host {
    /// Open a root directory. Live state is used only when `root` is `/`.
    pub fn open(root: &Path) -> Host {
        let live = root == Path::new("/");
        Self::open_with(root, live)
    }

    /// Open a root directory, saying whether live state (`/proc`) may be read.
    pub fn open_with(root: &Path, live: bool) -> Host {
        let inv = portcullis_ospkg::scan_root(root);
        let mut names = HashMap::with_capacity(inv.packages.len());
        for (i, p) in inv.packages.iter().enumerate() {
            names.entry(p.name.clone()).or_insert(i);
        }
        Host {
            root: root.to_path_buf(),
            live,
            os: inv.os,
            packages: inv.packages,
            names,
            unreadable: std::cell::RefCell::new(Vec::new()),
            package_sources: inv.sources,
            package_diagnostics: inv.diagnostics,
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when this is the running system (live state may be read).
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// The installed package of this name, if any.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.names.get(name).and_then(|&i| self.packages.get(i))
    }

    /// True when a package of this name is installed.
    pub fn has_package(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// Resolve a path relative to the root, following symlinks inside the
    /// root only (an absolute link target is taken relative to the root;
    /// `..` never climbs above it). `None` on a link loop.
    pub fn resolve(&self, rel: &str) -> Option<PathBuf> {
        let mut pending: Vec<String> = components(rel);
        pending.reverse();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0u32;
        while let Some(c) = pending.pop() {
            if c == ".." {
                done.pop();
                continue;
            }
            let mut p = self.root.clone();
            for d in &done {
                p.push(d);
            }
            p.push(&c);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    hops += 1;
                    if hops > 40 {
                        return None;
                    }
                    let target = std::fs::read_link(&p).ok()?;
                    if target.is_absolute() {
                        done.clear();
                    }
                    let mut t = components(&target.to_string_lossy());
                    t.reverse();
                    pending.extend(t);
                }
                _ => done.push(c),
            }
        }
        let mut p = self.root.clone();
        for d in &done {
            p.push(d);
        }
        Some(p)
    }

    fn note_unreadable(&self, rel: &str, why: &str) {
        self.unreadable
            .borrow_mut()
            .push((format!("/{}", rel.trim_start_matches('/')), why.to_string()));
    }

    /// Read a file (relative to the root) as text.
    pub fn read(&self, rel: &str) -> FileRead {
        let r = self.read_bytes(rel);
        match r {
            Ok(Some(b)) => FileRead::Text(
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
            Ok(None) => FileRead::Missing,
            Err(e) => FileRead::Unreadable(e),
        }
    }

    /// Read a file's bytes: `Ok(None)` when it does not exist.
    pub fn read_bytes(&self, rel: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(p) = self.resolve(rel) else {
            let why = "too many levels of symbolic links".to_string();
            self.note_unreadable(rel, &why);
            return Err(why);
        };
        match std::fs::symlink_metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.exists_nofollow(rel) {
                    let why = "a dangling symbolic link".to_string();
                    self.note_unreadable(rel, &why);
                    return Err(why);
                }
                return Ok(None);
            }
            Err(e) => {
                let why = e.to_string();
                self.note_unreadable(rel, &why);
                return Err(why);
            }
            Ok(m) if !m.is_file() => {
                let why = if m.is_dir() {
                    "a directory where a file was expected".to_string()
                } else if m.file_type().is_symlink() {
                    "a dangling symbolic link".to_string()
                } else {
                    "not a regular file".to_string()
                };
                self.note_unreadable(rel, &why);
                return Err(why);
            }
            Ok(_) => {}
        }
        let f = std::fs::File::open(&p).map_err(|e| {
            let why = e.to_string();
            self.note_unreadable(rel, &why);
            why
        })?;
        let mut buf = Vec::new();
        f.take(MAX_FILE).read_to_end(&mut buf).map_err(|e| {
            let why = e.to_string();
            self.note_unreadable(rel, &why);
            why
        })?;
        Ok(Some(buf))
    }

    /// True when the path exists (any kind).
    pub fn exists(&self, rel: &str) -> bool {
        self.resolve(rel)
            .is_some_and(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// True when the path exists, not following a symlink in its last
    /// component (a systemd `wants` link whose target is elsewhere).
    pub fn exists_nofollow(&self, rel: &str) -> bool {
        let (dir, name) = match rel.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", rel),
        };
        if name.is_empty() || name == ".." {
            return false;
        }
        self.resolve(dir)
            .is_some_and(|p| std::fs::symlink_metadata(p.join(name)).is_ok())
    }

    /// Modification time (Unix seconds) of a file.
    pub fn mtime(&self, rel: &str) -> Option<i64> {
        let p = self.resolve(rel)?;
        let m = std::fs::metadata(p).ok()?;
        let t = m.modified().ok()?;
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        i64::try_from(d.as_secs()).ok()
    }

    /// The names in a directory, sorted (empty when it does not exist).
    pub fn list_dir(&self, rel: &str) -> Vec<String> {
        let Some(p) = self.resolve(rel) else {
            return Vec::new();
        };
        let Ok(rd) = std::fs::read_dir(p) else {
            return Vec::new();
        };
        let mut v: Vec<String> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .take(10_000)
            .collect();
        v.sort();
        v
    }

    /// True when a systemd unit is enabled (a link in some `*.wants`
    /// directory under /etc/systemd/system).
    pub fn unit_enabled(&self, unit: &str) -> bool {
        for d in self.list_dir("etc/systemd/system") {
            if d.ends_with(".wants") || d.ends_with(".requires") {
                let rel = format!("etc/systemd/system/{d}/{unit}");
                if self.exists_nofollow(&rel) {
                    return true;
                }
            }
        }
        false
    }

    /// Names (`comm`) of running processes, when live; `None` otherwise.
    pub fn processes(&self) -> Option<Vec<String>> {
        if !self.live {
            return None;
        }
        let rd = std::fs::read_dir("/proc").ok()?;
        let mut out = Vec::new();
        for e in rd.filter_map(|e| e.ok()).take(100_000) {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Ok(c) = std::fs::read_to_string(format!("/proc/{name}/comm")) {
                out.push(c.trim().to_string());
            }
        }
        Some(out)
    }
}

fn components(s: &str) -> Vec<String> {
    Path::new(s)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect()
}

/// Lines of a text with their 1-based numbers, comments (`#`) and blanks skipped.
pub fn config_lines(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            None
        } else {
            Some((u32::try_from(i + 1).unwrap_or(u32::MAX), t))
        }
    })
}
