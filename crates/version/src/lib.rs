//! Version ordering for every ecosystem Portcullis matches.
//!
//! Interface (fixed, other crates build against it):
//! - [`Scheme`]: one ordering rule per ecosystem family.
//! - [`Scheme::for_ecosystem`]: which rule an OSV ecosystem uses.
//! - [`Scheme::parse`] gives a [`Version`] that is `Ord` against versions
//!   of the same scheme; [`Scheme::compare`] compares two strings.
//! - A string that does not parse is an error, never "affected".
//!
//! Parsing is hand-written (no regex) and cheap; comparing two parsed
//! versions never allocates. Every comparator is a total order.
#![deny(missing_docs)]

mod alpine;
mod debian;
mod maven;
mod misc;
mod pep440;
mod rpm;
mod semver;
mod util;

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
        write!(
            f,
            "{:?} is not a valid {:?} version: {}",
            self.input, self.scheme, self.reason
        )
    }
}

impl std::error::Error for VersionError {}

/// Longest version string accepted (bounds memory on untrusted input).
pub const MAX_VERSION_LEN: usize = 1024;

#[derive(Debug, Clone)]
enum Key {
    SemVer(semver::SemverLike),
    Pep440(pep440::Pep440),
    Debian(debian::Debian),
    Rpm(rpm::Rpm),
    Alpine(alpine::Alpine),
    Maven(maven::Maven),
    Gem(misc::Gem),
    Packagist(misc::Packagist),
    Nums(Vec<util::Num>),
    Generic(misc::Generic),
}

/// A parsed version. Ordering between versions of different schemes is by
/// scheme first (meaningless but total). Equality follows the ordering, so
/// `1.0` and `1.0.0` are equal under schemes that say so.
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    raw: Box<str>,
    key: Key,
}

impl Version {
    /// The version string as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The scheme this version was parsed with.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.scheme.cmp(&other.scheme);
        if o != Ordering::Equal {
            return o;
        }
        let (ra, rb) = (&*self.raw, &*other.raw);
        use semver::Flavor;
        match (&self.key, &other.key) {
            (Key::SemVer(a), Key::SemVer(b)) => {
                let flavor = match self.scheme {
                    Scheme::NuGet => Flavor::NuGet,
                    Scheme::Pub => Flavor::Pub,
                    Scheme::Hackage => Flavor::Hackage,
                    _ => Flavor::SemVer,
                };
                semver::compare(a, b, ra, rb, flavor)
            }
            (Key::Pep440(a), Key::Pep440(b)) => pep440::compare(a, b, ra, rb),
            (Key::Debian(a), Key::Debian(b)) => debian::compare(a, b, ra, rb),
            (Key::Rpm(a), Key::Rpm(b)) => rpm::compare(a, b, ra, rb),
            (Key::Alpine(a), Key::Alpine(b)) => alpine::compare(a, b, ra, rb),
            (Key::Maven(a), Key::Maven(b)) => maven::compare(a, b, ra, rb),
            (Key::Gem(a), Key::Gem(b)) => misc::cmp_gem(a, b, ra, rb),
            (Key::Packagist(a), Key::Packagist(b)) => misc::cmp_packagist(a, b),
            (Key::Nums(a), Key::Nums(b)) => a.cmp(b),
            (Key::Generic(a), Key::Generic(b)) => misc::cmp_generic(a, b, ra, rb),
            // Same scheme always yields the same key kind; keep it total anyway.
            (a, b) => key_rank(a).cmp(&key_rank(b)),
        }
    }
}

fn key_rank(k: &Key) -> u8 {
    match k {
        Key::SemVer(_) => 0,
        Key::Pep440(_) => 1,
        Key::Debian(_) => 2,
        Key::Rpm(_) => 3,
        Key::Alpine(_) => 4,
        Key::Maven(_) => 5,
        Key::Gem(_) => 6,
        Key::Packagist(_) => 7,
        Key::Nums(_) => 8,
        Key::Generic(_) => 9,
    }
}

impl Scheme {
    /// The scheme an OSV ecosystem uses for `ECOSYSTEM` ranges and `versions`.
    pub fn for_ecosystem(ecosystem: &Ecosystem) -> Scheme {
        use Ecosystem as E;
        match ecosystem {
            E::CratesIo | E::Npm | E::Hex | E::Bitnami | E::SwiftUrl | E::GitHubActions => {
                Scheme::SemVer
            }
            E::Go => Scheme::Go,
            E::PyPI => Scheme::Pep440,
            E::Debian | E::Ubuntu => Scheme::Debian,
            E::RedHat
            | E::AlmaLinux
            | E::RockyLinux
            | E::Suse
            | E::OpenSuse
            | E::Mageia
            | E::OpenEuler
            | E::AzureLinux
            | E::PhotonOs => Scheme::Rpm,
            E::Alpine | E::Wolfi | E::Chainguard => Scheme::Alpine,
            E::Maven => Scheme::Maven,
            E::RubyGems => Scheme::RubyGems,
            E::NuGet => Scheme::NuGet,
            E::Packagist => Scheme::Packagist,
            E::Pub => Scheme::Pub,
            E::Cran => Scheme::Cran,
            E::Hackage => Scheme::Hackage,
            _ => Scheme::Generic,
        }
    }

    /// Parse a version string.
    pub fn parse(self, s: &str) -> Result<Version, VersionError> {
        let err = |reason: &str| VersionError {
            scheme: self,
            input: s.to_string(),
            reason: reason.to_string(),
        };
        if s.len() > MAX_VERSION_LEN {
            let mut input: String = s.chars().take(64).collect();
            input.push('…');
            return Err(VersionError {
                scheme: self,
                input,
                reason: format!("longer than {MAX_VERSION_LEN} bytes"),
            });
        }
        if s.is_empty() {
            return Err(err("empty version"));
        }
        let key = match self {
            Scheme::SemVer | Scheme::Go | Scheme::Pub => semver::parse(s, Some(3)).map(Key::SemVer),
            Scheme::NuGet => semver::parse(s, Some(4)).map(Key::SemVer),
            Scheme::Hackage => semver::parse_hackage(s).map(Key::SemVer),
            Scheme::Pep440 => pep440::parse(s).map(Key::Pep440),
            Scheme::Debian => debian::parse(s).map(Key::Debian),
            Scheme::Rpm => rpm::parse(s).map(Key::Rpm),
            Scheme::Alpine => alpine::parse(s).map(Key::Alpine),
            Scheme::Maven => maven::parse(s).map(Key::Maven),
            Scheme::RubyGems => misc::parse_gem(s).map(Key::Gem),
            Scheme::Packagist => misc::parse_packagist(s).map(Key::Packagist),
            Scheme::Cran => misc::parse_cran(s).map(Key::Nums),
            Scheme::Generic => misc::parse_generic(s).map(Key::Generic),
        }
        .map_err(err)?;
        Ok(Version {
            scheme: self,
            raw: s.into(),
            key,
        })
    }

    /// Compare two version strings under this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(self.parse(a)?.cmp(&self.parse(b)?))
    }
}
