//! Lockfile and manifest readers, and the walker that finds them.
//!
//! Interface (fixed, other crates build against it):
//! - [`Format::detect`] names the format of a file from its name.
//! - [`parse`] reads one file's text; [`parse_file`] reads it from disk
//!   (and follows includes such as requirements `-r`).
//! - [`walk`] finds every lockfile and manifest under a directory.
//!
//! Every reader returns packages *and* diagnostics and never panics.
#![deny(missing_docs)]

use portcullis_model::{Diagnostic, Package};
use std::path::Path;

mod cargo;
mod composer;
mod gemfile;
mod golang;
mod gradle;
mod maven;
mod npm;
mod nuget;
mod pipenv;
mod pnpm;
mod poetry;
mod requirements;
mod uv;
mod walk;
mod yarn;

pub use walk::{walk, WalkOptions, WalkResult};

/// The result of reading one file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Packages, each with its purl and location (path as given, and line where known).
    pub packages: Vec<Package>,
    /// Problems met. An `Error` diagnostic means the file was only partly read.
    pub diagnostics: Vec<Diagnostic>,
}

/// A lockfile or manifest format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The variant names are the file formats.
pub enum Format {
    CargoLock,
    NpmLock,
    YarnLock,
    PnpmLock,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
    GoSum,
    PomXml,
    GradleLock,
    GemfileLock,
    ComposerLock,
    NugetLock,
}

impl Format {
    /// The format of a file, from its file name, or `None`.
    pub fn detect(file_name: &str) -> Option<Format> {
        Some(match file_name {
            "Cargo.lock" => Format::CargoLock,
            "package-lock.json" | "npm-shrinkwrap.json" => Format::NpmLock,
            "yarn.lock" => Format::YarnLock,
            "pnpm-lock.yaml" => Format::PnpmLock,
            "poetry.lock" => Format::PoetryLock,
            "Pipfile.lock" => Format::PipfileLock,
            "uv.lock" => Format::UvLock,
            "go.mod" => Format::GoMod,
            "go.sum" => Format::GoSum,
            "pom.xml" => Format::PomXml,
            "gradle.lockfile" => Format::GradleLock,
            "Gemfile.lock" | "gems.locked" => Format::GemfileLock,
            "composer.lock" => Format::ComposerLock,
            "packages.lock.json" => Format::NugetLock,
            n if requirements::is_requirements_name(n) => Format::Requirements,
            _ => return None,
        })
    }

    /// A short name for messages (`Cargo.lock`, `requirements.txt`…).
    pub fn name(self) -> &'static str {
        match self {
            Format::CargoLock => "Cargo.lock",
            Format::NpmLock => "package-lock.json",
            Format::YarnLock => "yarn.lock",
            Format::PnpmLock => "pnpm-lock.yaml",
            Format::Requirements => "requirements.txt",
            Format::PoetryLock => "poetry.lock",
            Format::PipfileLock => "Pipfile.lock",
            Format::UvLock => "uv.lock",
            Format::GoMod => "go.mod",
            Format::GoSum => "go.sum",
            Format::PomXml => "pom.xml",
            Format::GradleLock => "gradle.lockfile",
            Format::GemfileLock => "Gemfile.lock",
            Format::ComposerLock => "composer.lock",
            Format::NugetLock => "packages.lock.json",
        }
    }
}

/// Read one file's text. `path` is used only for locations and diagnostics.
pub fn parse(format: Format, path: &str, text: &str) -> Parsed {
    match format {
        Format::CargoLock => cargo::parse(path, text),
        Format::NpmLock => npm::parse(path, text),
        Format::YarnLock => yarn::parse(path, text),
        Format::PnpmLock => pnpm::parse(path, text),
        Format::Requirements => requirements::parse(path, text),
        Format::PoetryLock => poetry::parse(path, text),
        Format::PipfileLock => pipenv::parse(path, text),
        Format::UvLock => uv::parse(path, text),
        Format::GoMod => golang::parse_mod(path, text),
        Format::GoSum => golang::parse_sum(path, text),
        Format::PomXml => maven::parse(path, text),
        Format::GradleLock => gradle::parse(path, text),
        Format::GemfileLock => gemfile::parse(path, text),
        Format::ComposerLock => composer::parse(path, text),
        Format::NugetLock => nuget::parse(path, text),
    }
}

/// Read one file from disk. `display` is the path to show in locations and
/// diagnostics (usually relative to the scanned directory). Formats with
/// includes (requirements `-r`/`-c`) follow them, relative to the file.
pub fn parse_file(format: Format, path: &Path, display: &str) -> Parsed {
    if format == Format::Requirements {
        return requirements::parse_file(path, display);
    }
    match read_text(path, display) {
        Ok(text) => parse(format, display, &text),
        Err(d) => Parsed {
            packages: Vec::new(),
            diagnostics: vec![d],
        },
    }
}

/// The largest file a reader accepts (256 MiB): bigger is refused with a diagnostic.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Read a file as UTF-8 (lossy), refusing files over [`MAX_FILE_BYTES`].
pub(crate) fn read_text(path: &Path, display: &str) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::error(display, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            display,
            format!(
                "file is {} bytes, over the {MAX_FILE_BYTES}-byte limit; skipped",
                meta.len()
            ),
        ));
    }
    let bytes =
        std::fs::read(path).map_err(|e| Diagnostic::error(display, format!("cannot read: {e}")))?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}
