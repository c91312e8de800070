//! Package ecosystems, as OSV names them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A package ecosystem. The names are OSV's (`ecosystems.json` of the OSV
/// schema); the release suffix of distribution ecosystems (`Debian:12`) is
/// kept apart, in [`crate::Package::distro`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // Each variant is the OSV ecosystem of the same name.
pub enum Ecosystem {
    CratesIo,
    Npm,
    PyPI,
    Go,
    Maven,
    NuGet,
    RubyGems,
    Packagist,
    Pub,
    Hex,
    Hackage,
    Cran,
    SwiftUrl,
    GitHubActions,
    Bitnami,
    OssFuzz,
    Debian,
    Ubuntu,
    Alpine,
    Wolfi,
    Chainguard,
    RedHat,
    AlmaLinux,
    RockyLinux,
    Suse,
    OpenSuse,
    Mageia,
    OpenEuler,
    AzureLinux,
    PhotonOs,
    /// Any other ecosystem, by its OSV name.
    Other(String),
}

const NAMES: &[(Ecosystem, &str)] = &[
    (Ecosystem::CratesIo, "crates.io"),
    (Ecosystem::Npm, "npm"),
    (Ecosystem::PyPI, "PyPI"),
    (Ecosystem::Go, "Go"),
    (Ecosystem::Maven, "Maven"),
    (Ecosystem::NuGet, "NuGet"),
    (Ecosystem::RubyGems, "RubyGems"),
    (Ecosystem::Packagist, "Packagist"),
    (Ecosystem::Pub, "Pub"),
    (Ecosystem::Hex, "Hex"),
    (Ecosystem::Hackage, "Hackage"),
    (Ecosystem::Cran, "CRAN"),
    (Ecosystem::SwiftUrl, "SwiftURL"),
    (Ecosystem::GitHubActions, "GitHub Actions"),
    (Ecosystem::Bitnami, "Bitnami"),
    (Ecosystem::OssFuzz, "OSS-Fuzz"),
    (Ecosystem::Debian, "Debian"),
    (Ecosystem::Ubuntu, "Ubuntu"),
    (Ecosystem::Alpine, "Alpine"),
    (Ecosystem::Wolfi, "Wolfi"),
    (Ecosystem::Chainguard, "Chainguard"),
    (Ecosystem::RedHat, "Red Hat"),
    (Ecosystem::AlmaLinux, "AlmaLinux"),
    (Ecosystem::RockyLinux, "Rocky Linux"),
    (Ecosystem::Suse, "SUSE"),
    (Ecosystem::OpenSuse, "openSUSE"),
    (Ecosystem::Mageia, "Mageia"),
    (Ecosystem::OpenEuler, "openEuler"),
    (Ecosystem::AzureLinux, "Azure Linux"),
    (Ecosystem::PhotonOs, "Photon OS"),
];

impl Ecosystem {
    /// The OSV name of the ecosystem, without any suffix.
    pub fn as_str(&self) -> &str {
        if let Ecosystem::Other(s) = self {
            return s;
        }
        NAMES.iter().find(|(e, _)| e == self).map_or("", |(_, n)| n)
    }

    /// Parse an OSV ecosystem string into the ecosystem and its suffix:
    /// `Debian:12` gives `(Debian, Some("12"))`, `Maven` gives `(Maven, None)`.
    /// Matching of the base name is exact, then case-insensitive.
    pub fn parse_osv(s: &str) -> (Ecosystem, Option<&str>) {
        let (base, suffix) = match s.split_once(':') {
            Some((b, rest)) => (b, Some(rest)),
            None => (s, None),
        };
        let base = base.trim();
        let eco = NAMES
            .iter()
            .find(|(_, n)| *n == base)
            .or_else(|| NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(base)))
            .map_or_else(|| Ecosystem::Other(base.to_string()), |(e, _)| e.clone());
        (eco, suffix.filter(|s| !s.is_empty()))
    }

    /// True for operating-system distributions, whose OSV ecosystems carry a
    /// release suffix that must match exactly, and whose advisories name
    /// source packages.
    pub fn is_distro(&self) -> bool {
        matches!(
            self,
            Ecosystem::Debian
                | Ecosystem::Ubuntu
                | Ecosystem::Alpine
                | Ecosystem::RedHat
                | Ecosystem::AlmaLinux
                | Ecosystem::RockyLinux
                | Ecosystem::Suse
                | Ecosystem::OpenSuse
                | Ecosystem::Mageia
                | Ecosystem::OpenEuler
                | Ecosystem::AzureLinux
                | Ecosystem::PhotonOs
        )
    }

    /// The package-URL type for the ecosystem (`cargo`, `npm`, `deb`…).
    pub fn purl_type(&self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::NuGet => "nuget",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Packagist => "composer",
            Ecosystem::Pub => "pub",
            Ecosystem::Hex => "hex",
            Ecosystem::Hackage => "hackage",
            Ecosystem::Cran => "cran",
            Ecosystem::SwiftUrl => "swift",
            Ecosystem::GitHubActions => "github",
            Ecosystem::Bitnami => "bitnami",
            Ecosystem::Debian | Ecosystem::Ubuntu => "deb",
            Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard => "apk",
            Ecosystem::RedHat
            | Ecosystem::AlmaLinux
            | Ecosystem::RockyLinux
            | Ecosystem::Suse
            | Ecosystem::OpenSuse
            | Ecosystem::Mageia
            | Ecosystem::OpenEuler
            | Ecosystem::AzureLinux
            | Ecosystem::PhotonOs => "rpm",
            Ecosystem::OssFuzz | Ecosystem::Other(_) => "generic",
        }
    }

    /// Normalise a package name the way OSV stores it for this ecosystem,
    /// so that lookups match: PEP 503 for PyPI (lower case, runs of `-_.`
    /// become `-`); other ecosystems keep their names as they are.
    pub fn normalize_name(&self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => {
                let mut out = String::with_capacity(name.len());
                let mut sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        sep = true;
                    } else {
                        if sep && !out.is_empty() {
                            out.push('-');
                        }
                        sep = false;
                        out.extend(c.to_lowercase());
                    }
                }
                out
            }
            _ => name.to_string(),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Ecosystem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Ecosystem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Ecosystem::parse_osv(&s).0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes() {
        assert_eq!(
            Ecosystem::parse_osv("Debian:12"),
            (Ecosystem::Debian, Some("12"))
        );
        assert_eq!(
            Ecosystem::parse_osv("Ubuntu:Pro:18.04:LTS"),
            (Ecosystem::Ubuntu, Some("Pro:18.04:LTS"))
        );
        assert_eq!(
            Ecosystem::parse_osv("crates.io"),
            (Ecosystem::CratesIo, None)
        );
        assert_eq!(
            Ecosystem::parse_osv("Packagist:https://packages.drupal.org/8"),
            (Ecosystem::Packagist, Some("https://packages.drupal.org/8"))
        );
        assert_eq!(
            Ecosystem::parse_osv("Made Up"),
            (Ecosystem::Other("Made Up".into()), None)
        );
    }

    #[test]
    fn names_round_trip() {
        for (e, n) in NAMES {
            assert_eq!(e.as_str(), *n);
            assert_eq!(&Ecosystem::parse_osv(n).0, e);
        }
    }

    #[test]
    fn pep503() {
        assert_eq!(
            Ecosystem::PyPI.normalize_name("Flask_SQLAlchemy"),
            "flask-sqlalchemy"
        );
        assert_eq!(
            Ecosystem::PyPI.normalize_name("zope.interface"),
            "zope-interface"
        );
        assert_eq!(Ecosystem::PyPI.normalize_name("a__-.b"), "a-b");
        assert_eq!(Ecosystem::Npm.normalize_name("@Scope/X"), "@Scope/X");
    }
}
