//! Packages found on a host, in a project or in an SBOM.

use crate::{Ecosystem, Purl};
use serde::{Deserialize, Serialize};

/// Where a package was found: the file, and the line when the format has lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Location {
    /// Path of the lockfile, manifest, SBOM or package database, as given
    /// (relative to the scanned directory or root where possible).
    pub path: String,
    /// 1-based line of the package's entry, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// How a package is used by the project that declares it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DependencyScope {
    /// Needed at run time (or installed on the host).
    #[default]
    Runtime,
    /// Only for development, tests or builds.
    Dev,
    /// Optional or peer.
    Optional,
}

/// One package: an installed OS package, a locked dependency or an SBOM component.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    /// The ecosystem (OSV name).
    pub ecosystem: Ecosystem,
    /// The release suffix of a distribution ecosystem as OSV writes it
    /// (`12` for `Debian:12`, `v3.18` for `Alpine:v3.18`, `22.04:LTS`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<String>,
    /// The name as the ecosystem writes it: Maven `group:artifact`, npm
    /// `@scope/name`, Go module path, Debian binary package name.
    pub name: String,
    /// The version as written (an empty string when unknown).
    pub version: String,
    /// For distribution packages, the source package the binary was built
    /// from (dpkg `Source:`, rpm `SOURCERPM`), which distribution advisories use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package's version when it differs from the binary's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The package URL.
    pub purl: Purl,
    /// Where it was found.
    pub location: Location,
    /// Run time, development or optional.
    #[serde(default)]
    pub scope: DependencyScope,
    /// Whether the project depends on it directly, when the format says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<bool>,
    /// SPDX licence expressions or names, when the source records them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}

impl Package {
    /// A package with the purl derived from ecosystem, name and version.
    ///
    /// Maven names (`group:artifact`), npm scopes and Go module paths are
    /// split into purl namespace and name.
    pub fn new(ecosystem: Ecosystem, name: &str, version: &str, location: Location) -> Self {
        let purl = default_purl(&ecosystem, name, version);
        Self {
            ecosystem,
            distro: None,
            name: name.to_string(),
            version: version.to_string(),
            source_name: None,
            source_version: None,
            purl,
            location,
            scope: DependencyScope::Runtime,
            direct: None,
            licenses: Vec::new(),
        }
    }

    /// The OSV ecosystem string to query: `Debian:12` for a distribution
    /// package with a release, otherwise the bare ecosystem name.
    pub fn osv_ecosystem(&self) -> String {
        match &self.distro {
            Some(d) if self.ecosystem.is_distro() => format!("{}:{d}", self.ecosystem),
            _ => self.ecosystem.to_string(),
        }
    }

    /// True when the version is not known (empty, `*`, or a range).
    pub fn version_unknown(&self) -> bool {
        let v = self.version.trim();
        v.is_empty() || v == "*" || v == "latest"
    }
}

/// The purl for a package of an ecosystem without distribution qualifiers.
pub fn default_purl(ecosystem: &Ecosystem, name: &str, version: &str) -> Purl {
    let ty = ecosystem.purl_type();
    let version = Some(version).filter(|v| !v.is_empty());
    match ecosystem {
        Ecosystem::Maven => match name.split_once(':') {
            Some((g, a)) => Purl::new(ty, Some(g), a, version),
            None => Purl::new(ty, None, name, version),
        },
        Ecosystem::Npm
        | Ecosystem::Go
        | Ecosystem::Packagist
        | Ecosystem::GitHubActions
        | Ecosystem::SwiftUrl => match name.rfind('/') {
            Some(i) => Purl::new(ty, Some(&name[..i]), &name[i + 1..], version),
            None => Purl::new(ty, None, name, version),
        },
        Ecosystem::PyPI => Purl::new(ty, None, &ecosystem.normalize_name(name), version),
        Ecosystem::NuGet
        | Ecosystem::CratesIo
        | Ecosystem::RubyGems
        | Ecosystem::Pub
        | Ecosystem::Hex => Purl::new(ty, None, name, version),
        Ecosystem::Debian => Purl::new(ty, Some("debian"), name, version),
        Ecosystem::Ubuntu => Purl::new(ty, Some("ubuntu"), name, version),
        Ecosystem::Alpine => Purl::new(ty, Some("alpine"), name, version),
        Ecosystem::Wolfi => Purl::new(ty, Some("wolfi"), name, version),
        Ecosystem::Chainguard => Purl::new(ty, Some("chainguard"), name, version),
        Ecosystem::RedHat => Purl::new(ty, Some("redhat"), name, version),
        Ecosystem::AlmaLinux => Purl::new(ty, Some("almalinux"), name, version),
        Ecosystem::RockyLinux => Purl::new(ty, Some("rocky"), name, version),
        Ecosystem::Suse => Purl::new(ty, Some("suse"), name, version),
        Ecosystem::OpenSuse => Purl::new(ty, Some("opensuse"), name, version),
        Ecosystem::Mageia => Purl::new(ty, Some("mageia"), name, version),
        Ecosystem::OpenEuler => Purl::new(ty, Some("openeuler"), name, version),
        Ecosystem::AzureLinux => Purl::new(ty, Some("azurelinux"), name, version),
        Ecosystem::PhotonOs => Purl::new(ty, Some("photon"), name, version),
        _ => Purl::new(ty, None, name, version),
    }
}

/// The ecosystem and OSV-style package name a purl denotes, when its type is known:
/// `pkg:maven/g/a` gives `(Maven, "g:a")`, `pkg:npm/%40s/n` gives `(npm, "@s/n")`.
pub fn ecosystem_of_purl(purl: &Purl) -> Option<(Ecosystem, String)> {
    let ns = purl.namespace.as_deref();
    let joined = |sep: &str| match ns {
        Some(ns) => format!("{ns}{sep}{}", purl.name),
        None => purl.name.clone(),
    };
    let eco = match purl.ty.as_str() {
        "cargo" => Ecosystem::CratesIo,
        "npm" => Ecosystem::Npm,
        "pypi" => Ecosystem::PyPI,
        "golang" => Ecosystem::Go,
        "maven" => return Some((Ecosystem::Maven, joined(":"))),
        "nuget" => Ecosystem::NuGet,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Packagist,
        "pub" => Ecosystem::Pub,
        "hex" => Ecosystem::Hex,
        "hackage" => Ecosystem::Hackage,
        "cran" => Ecosystem::Cran,
        "swift" => Ecosystem::SwiftUrl,
        "github" => Ecosystem::GitHubActions,
        "bitnami" => Ecosystem::Bitnami,
        "deb" => match ns.map(str::to_ascii_lowercase).as_deref() {
            Some("ubuntu") => Ecosystem::Ubuntu,
            _ => Ecosystem::Debian,
        },
        "apk" => match ns.map(str::to_ascii_lowercase).as_deref() {
            Some("wolfi") => Ecosystem::Wolfi,
            Some("chainguard") => Ecosystem::Chainguard,
            _ => Ecosystem::Alpine,
        },
        "rpm" => match ns.map(str::to_ascii_lowercase).as_deref() {
            Some("almalinux") => Ecosystem::AlmaLinux,
            Some("rocky") | Some("rockylinux") => Ecosystem::RockyLinux,
            Some("suse") | Some("sles") => Ecosystem::Suse,
            Some("opensuse") => Ecosystem::OpenSuse,
            Some("mageia") => Ecosystem::Mageia,
            Some("openeuler") => Ecosystem::OpenEuler,
            Some("mariner") | Some("azurelinux") => Ecosystem::AzureLinux,
            Some("photon") => Ecosystem::PhotonOs,
            _ => Ecosystem::RedHat,
        },
        _ => return None,
    };
    let name = match eco {
        Ecosystem::Npm
        | Ecosystem::Go
        | Ecosystem::Packagist
        | Ecosystem::GitHubActions
        | Ecosystem::SwiftUrl => joined("/"),
        Ecosystem::PyPI => eco.normalize_name(&purl.name),
        _ => purl.name.clone(),
    };
    Some((eco, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_for_each_shape() {
        let loc = Location::default();
        let p = Package::new(
            Ecosystem::Maven,
            "org.apache.commons:commons-text",
            "1.9",
            loc.clone(),
        );
        assert_eq!(
            p.purl.to_string(),
            "pkg:maven/org.apache.commons/commons-text@1.9"
        );
        let p = Package::new(Ecosystem::Npm, "@babel/core", "7.0.0", loc.clone());
        assert_eq!(p.purl.to_string(), "pkg:npm/%40babel/core@7.0.0");
        let p = Package::new(Ecosystem::Go, "github.com/a/b/v2", "v2.0.1", loc.clone());
        assert_eq!(p.purl.to_string(), "pkg:golang/github.com/a/b/v2@v2.0.1");
        let p = Package::new(Ecosystem::PyPI, "Django_Rest", "1.0", loc);
        assert_eq!(p.purl.to_string(), "pkg:pypi/django-rest@1.0");
    }

    #[test]
    fn purl_back_to_ecosystem() {
        for (s, eco, name) in [
            (
                "pkg:maven/org.apache.commons/commons-text@1.9",
                Ecosystem::Maven,
                "org.apache.commons:commons-text",
            ),
            ("pkg:npm/%40babel/core@7.0.0", Ecosystem::Npm, "@babel/core"),
            (
                "pkg:golang/github.com/a/b@v1",
                Ecosystem::Go,
                "github.com/a/b",
            ),
            ("pkg:deb/ubuntu/openssl@1", Ecosystem::Ubuntu, "openssl"),
            ("pkg:cargo/serde@1", Ecosystem::CratesIo, "serde"),
        ] {
            let (e, n) = ecosystem_of_purl(&Purl::parse(s).unwrap()).unwrap();
            assert_eq!((e, n.as_str()), (eco, name));
        }
        assert!(ecosystem_of_purl(&Purl::parse("pkg:weird/x").unwrap()).is_none());
    }

    #[test]
    fn osv_ecosystem_has_suffix_only_for_distros() {
        let mut p = Package::new(Ecosystem::Debian, "openssl", "3.0.0", Location::default());
        p.distro = Some("12".into());
        assert_eq!(p.osv_ecosystem(), "Debian:12");
        p.ecosystem = Ecosystem::Npm;
        assert_eq!(p.osv_ecosystem(), "npm");
    }
}
