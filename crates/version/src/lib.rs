//! Version ordering for every ecosystem Portcullis matches.
//!
//! Interface (fixed, other crates build against it):
//! - [`Scheme`]: one ordering rule per ecosystem family.
//! - [`Scheme::for_ecosystem`]: which rule an OSV ecosystem uses.
//! - [`Scheme::parse`] gives a [`Version`] that is `Ord` against versions
//!   of the same scheme; [`Scheme::compare`] compares two strings.
//! - A string that does not parse is an error, never "affected".
#![deny(missing_docs)]

use portcullis_model::Ecosystem;
use std::cmp::Ordering;
use std::fmt;

/// A version-ordering rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// SemVer 2.0.0 precedence (crates.io, npm, Hex, Bitnami, SwiftURL, `SEMVER` ranges).
    SemVer,
    /// Go module versions: SemVer with an optional `v` prefix, pseudo-versions, `+incompatible`.
    Go,
    /// PEP 440 (PyPI).
    Pep440,
    /// Debian and Ubuntu (deb-version(7)).
    Debian,
    /// RPM rpmvercmp on `epoch:version-release` (Red Hat, AlmaLinux, Rocky, SUSE, openSUSE, Mageia, openEuler, Azure Linux, Photon).
    Rpm,
    /// apk-tools (Alpine, Wolfi, Chainguard).
    Alpine,
    /// Maven ComparableVersion.
    Maven,
    /// RubyGems `Gem::Version`.
    RubyGems,
    /// NuGet SemVer with a fourth component.
    NuGet,
    /// Composer / PHP `version_compare` (Packagist).
    Packagist,
    /// pub_semver (Pub).
    Pub,
    /// R `package_version` (CRAN).
    Cran,
    /// Cabal `Version` (Hackage).
    Hackage,
    /// A best-effort dotted-number ordering for anything else.
    Generic,
}

/// A version string that the scheme cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    /// The scheme that was used.
    pub scheme: Scheme,
    /// The input.
    pub input: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a valid {:?} version: {}", self.input, self.scheme, self.reason)
    }
}

impl std::error::Error for VersionError {}

/// A parsed version. Ordering between versions of different schemes is by scheme first (meaningless but total).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    scheme: Scheme,
    // Implementation detail: filled in by the implementation.
    raw: String,
}

impl Scheme {
    /// The scheme an OSV ecosystem uses for `ECOSYSTEM` ranges and `versions`.
    pub fn for_ecosystem(ecosystem: &Ecosystem) -> Scheme {
        let _ = ecosystem;
        Scheme::Generic
    }

    /// Parse a version string.
    pub fn parse(self, s: &str) -> Result<Version, VersionError> {
        Ok(Version { scheme: self, raw: s.to_string() })
    }

    /// Compare two version strings under this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(self.parse(a)?.cmp(&self.parse(b)?))
    }
}
