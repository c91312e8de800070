//! What every package of one root shares: ecosystem, release suffix and purl parts.

use crate::OsRelease;
use portcullis_model::{DependencyScope, Ecosystem, Location, Package, Purl};

/// The ecosystem, OSV release suffix and package-URL parts given to every
/// package read from one root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistroContext {
    /// The OSV ecosystem.
    pub ecosystem: Ecosystem,
    /// The OSV release suffix (`12`, `v3.18`, `22.04:LTS`), when known.
    pub suffix: Option<String>,
    /// The purl namespace (`debian`, `ubuntu`, `alpine`, `almalinux`, `redhat`…).
    pub purl_namespace: String,
    /// The purl `distro` qualifier (`debian-12`, `alpine-3.18.4`), when known.
    pub purl_distro: Option<String>,
}

impl DistroContext {
    /// The context for packages of the given package format (`fallback` is
    /// the ecosystem to assume when os-release is missing or unknown), plus
    /// a warning when the mapping is uncertain.
    pub fn new(os: Option<&OsRelease>, fallback: Ecosystem) -> (Self, Option<String>) {
        let Some(os) = os else {
            let ns = default_namespace(&fallback).to_string();
            let warning = format!(
                "no os-release found: assuming {fallback} without a release, so advisories of every release apply"
            );
            return (
                DistroContext {
                    ecosystem: fallback,
                    suffix: None,
                    purl_namespace: ns,
                    purl_distro: None,
                },
                Some(warning),
            );
        };
        let (ecosystem, suffix, warning) = match os.osv_target() {
            Some(t) => (t.ecosystem, t.suffix, t.warning),
            None => {
                let w = format!(
                    "distribution {:?} has no OSV ecosystem: assuming {fallback} without a release",
                    os.id
                );
                (fallback.clone(), None, Some(w))
            }
        };
        // A database of another format than the distribution's own (a dpkg
        // status under an Alpine os-release) cannot use its advisories.
        let same_family = family(&ecosystem) == family(&fallback);
        let (ecosystem, suffix, warning) = if same_family {
            (ecosystem, suffix, warning)
        } else {
            let w = format!(
                "{} packages found on {ecosystem} ({:?}): assuming {fallback} without a release",
                family(&fallback),
                os.id
            );
            (fallback, None, Some(w))
        };
        let purl_namespace = match os.id.as_str() {
            _ if !same_family => default_namespace(&ecosystem).to_string(),
            "" => default_namespace(&ecosystem).to_string(),
            "rhel" => "redhat".to_string(),
            "sles" | "sled" | "sles_sap" | "sle-micro" | "sl-micro" => "suse".to_string(),
            id if id.starts_with("opensuse") => "opensuse".to_string(),
            id => id.to_string(),
        };
        let purl_distro = match (os.id.is_empty(), &os.version_id, &os.version_codename) {
            (false, Some(v), _) => Some(format!("{}-{v}", os.id)),
            (false, None, Some(c)) => Some(format!("{}-{c}", os.id)),
            _ => None,
        };
        (
            DistroContext {
                ecosystem,
                suffix,
                purl_namespace,
                purl_distro,
            },
            warning,
        )
    }

    /// A package of this distribution. `purl_version` is the version as the
    /// purl writes it (RPM purls carry the epoch as a qualifier).
    pub(crate) fn package(
        &self,
        purl_type: &str,
        name: &str,
        version: &str,
        purl_version: &str,
        location: Location,
    ) -> Package {
        let mut purl = Purl::new(
            purl_type,
            Some(&self.purl_namespace),
            name,
            Some(purl_version),
        );
        if let Some(d) = &self.purl_distro {
            purl = purl.with_qualifier("distro", d);
        }
        // Built directly: `Package::new` would build a default purl only to
        // have it replaced.
        Package {
            ecosystem: self.ecosystem.clone(),
            distro: self.suffix.clone(),
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
}

/// The package format of a distribution ecosystem.
fn family(eco: &Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Debian | Ecosystem::Ubuntu => "dpkg",
        Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard => "apk",
        _ => "rpm",
    }
}

fn default_namespace(eco: &Ecosystem) -> &'static str {
    match eco {
        Ecosystem::Debian => "debian",
        Ecosystem::Ubuntu => "ubuntu",
        Ecosystem::Alpine => "alpine",
        Ecosystem::Wolfi => "wolfi",
        Ecosystem::Chainguard => "chainguard",
        Ecosystem::AlmaLinux => "almalinux",
        Ecosystem::RockyLinux => "rocky",
        Ecosystem::Suse => "suse",
        Ecosystem::OpenSuse => "opensuse",
        Ecosystem::AzureLinux => "azurelinux",
        Ecosystem::PhotonOs => "photon",
        Ecosystem::Mageia => "mageia",
        Ecosystem::OpenEuler => "openeuler",
        _ => "redhat",
    }
}
