//! Reading files inside a root directory as if it were `/`.
//!
//! Symbolic links are resolved component by component *inside* the root: an
//! absolute target (`/usr/lib/os-release`) is taken relative to the root, and
//! a relative target is taken relative to the link's directory. A target that
//! climbs above the root with `..` is refused, so nothing outside the root is
//! ever opened.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Most symbolic links followed while resolving one path (as Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Why a path inside the root could not be resolved or read.
#[derive(Debug)]
pub(crate) enum RootError {
    /// The path (or a link target on the way) does not exist.
    NotFound,
    /// A link points above the root, loops, or a component is not a directory.
    Refused(String),
    /// Reading failed, or the file is larger than allowed.
    Io(String),
}

/// Resolve `rel` (a `/`-separated path, taken relative to `root`) to a host
/// path inside `root` with every symbolic link followed inside the root.
pub(crate) fn resolve(root: &Path, rel: &str) -> Result<PathBuf, RootError> {
    // Components still to walk, in reverse order (the next one is last).
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, Path::new(rel));
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0usize;
    let mut current = root.to_path_buf();
    while let Some(comp) = pending.pop() {
        if comp == "." || comp.is_empty() {
            continue;
        }
        if comp == ".." {
            if done.pop().is_none() {
                return Err(RootError::Refused(format!(
                    "{rel}: a symbolic link climbs above the root; not followed"
                )));
            }
            current = rebuild(root, &done);
            continue;
        }
        let candidate = current.join(&comp);
        let meta = match fs::symlink_metadata(&candidate) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RootError::NotFound),
            Err(e) => return Err(RootError::Io(format!("{rel}: {e}"))),
        };
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_LINKS {
                return Err(RootError::Refused(format!(
                    "{rel}: too many levels of symbolic links"
                )));
            }
            let target =
                fs::read_link(&candidate).map_err(|e| RootError::Io(format!("{rel}: {e}")))?;
            if target.is_absolute() {
                done.clear();
                current = root.to_path_buf();
            }
            push_components(&mut pending, &target);
            continue;
        }
        if !pending.is_empty() && !meta.is_dir() {
            return Err(RootError::NotFound);
        }
        done.push(comp);
        current = candidate;
    }
    Ok(current)
}

/// Push the components of `p` onto `stack` so that the first is popped first.
fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    let start = stack.len();
    for c in p.components() {
        match c {
            Component::Normal(s) => stack.push(s.to_os_string()),
            Component::ParentDir => stack.push(OsString::from("..")),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    stack[start..].reverse();
}

fn rebuild(root: &Path, done: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    for c in done {
        p.push(c);
    }
    p
}

/// Read a regular file inside the root, refusing files over `limit` bytes.
pub(crate) fn read(root: &Path, rel: &str, limit: u64) -> Result<(PathBuf, Vec<u8>), RootError> {
    let path = resolve(root, rel)?;
    // Check the type before opening: opening a FIFO or a device node an
    // image put in place of a database would block or never end.
    let kind = fs::symlink_metadata(&path).map_err(|e| RootError::Io(format!("{rel}: {e}")))?;
    if !kind.is_file() {
        return Err(RootError::Refused(format!(
            "{rel}: not a regular file; not read"
        )));
    }
    let file = fs::File::open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RootError::NotFound,
        _ => RootError::Io(format!("{rel}: {e}")),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| RootError::Io(format!("{rel}: {e}")))?;
    if !meta.is_file() {
        return Err(RootError::Refused(format!("{rel}: not a regular file")));
    }
    if meta.len() > limit {
        return Err(RootError::Io(format!(
            "{rel}: {} bytes is more than the {limit}-byte limit; not read",
            meta.len()
        )));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| RootError::Io(format!("{rel}: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(RootError::Io(format!(
            "{rel}: grew past the {limit}-byte limit while read"
        )));
    }
    Ok((path, buf))
}

/// The names of the entries of a directory inside the root, sorted.
pub(crate) fn list_dir(root: &Path, rel: &str) -> Result<Vec<String>, RootError> {
    let path = resolve(root, rel)?;
    let rd = fs::read_dir(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RootError::NotFound,
        _ => RootError::Io(format!("{rel}: {e}")),
    })?;
    let mut names = Vec::new();
    for entry in rd.flatten() {
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_string());
        }
        if names.len() > 100_000 {
            break;
        }
    }
    names.sort();
    Ok(names)
}
