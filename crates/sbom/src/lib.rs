//! SBOM readers and writers.
//!
//! Interface (fixed, other crates build against it):
//! - [`read`] detects CycloneDX (1.4–1.6) or SPDX (2.3) JSON and returns the packages.
//! - [`write_cyclonedx`] and [`write_spdx`] write CycloneDX 1.6 and SPDX 2.3 JSON.
//!
//! Reading never panics: a malformed document or component gives a
//! [`Diagnostic`] with its line and column, and the rest is read. Documents
//! over [`MAX_SBOM_BYTES`] are refused.
#![deny(missing_docs)]

mod distro;
mod read;
mod util;
mod write;

pub use distro::{osv_release, upstream_source};
pub use read::MAX_SBOM_BYTES;

use portcullis_model::{Diagnostic, Finding, Package};

/// The result of reading an SBOM.
#[derive(Debug, Clone, Default)]
pub struct SbomRead {
    /// Components with a usable purl (or ecosystem, name and version).
    pub packages: Vec<Package>,
    /// Problems met.
    pub diagnostics: Vec<Diagnostic>,
}

/// What the SBOM describes (the scanned thing), for document metadata.
#[derive(Debug, Clone, Default)]
pub struct SbomSubject {
    /// A name: the scanned directory, image or host.
    pub name: String,
    /// Tool version that wrote the SBOM.
    pub tool_version: String,
    /// RFC 3339 creation time (given, so output is reproducible in tests).
    /// When empty or not a date-time, the current time is used.
    pub created: String,
}

/// True when the text looks like a CycloneDX or SPDX JSON document.
///
/// Looks only at the first 16 KiB: a JSON object containing
/// `"bomFormat"` and `"CycloneDX"`, or `"spdxVersion"`.
pub fn looks_like_sbom(text: &str) -> bool {
    read::looks_like_sbom(text)
}

/// Read a CycloneDX or SPDX JSON SBOM.
///
/// `path` is used for [`Package::location`] and diagnostics. Components
/// without a purl are skipped (one warning sums them up, except for
/// operating-system, file and similar non-package components); identical
/// purls are kept once; the `metadata.component` of CycloneDX and the
/// described root package of SPDX are the subject, not dependencies.
pub fn read(path: &str, text: &str) -> SbomRead {
    read::read(path, text)
}

/// Write CycloneDX 1.6 JSON; with findings, a `vulnerabilities` array too.
///
/// The output is reproducible: the serial number is derived from the content
/// and the time is [`SbomSubject::created`].
pub fn write_cyclonedx(
    subject: &SbomSubject,
    packages: &[Package],
    findings: &[Finding],
) -> String {
    write::write_cyclonedx(subject, packages, findings)
}

/// Write SPDX 2.3 JSON.
///
/// The document namespace is derived from the content, so the output is
/// reproducible for the same subject and packages.
pub fn write_spdx(subject: &SbomSubject, packages: &[Package]) -> String {
    write::write_spdx(subject, packages)
}
