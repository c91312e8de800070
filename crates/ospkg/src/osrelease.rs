//! `os-release(5)` parsing and the mapping of a distribution to its OSV
//! ecosystem and release suffix.

use crate::OsRelease;
use portcullis_model::Ecosystem;

/// What a distribution maps to in OSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsvTarget {
    /// The OSV ecosystem (`Debian`, `Alpine`, `SUSE`…).
    pub ecosystem: Ecosystem,
    /// The release suffix as OSV writes it (`12`, `v3.18`, `22.04:LTS`), when known.
    pub suffix: Option<String>,
    /// Why the suffix is missing or the mapping is uncertain, when it is.
    pub warning: Option<String>,
}

/// Strip one level of shell-style quoting from an os-release value.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let inner = match v.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if v.len() >= 2 => &v[1..v.len() - 1],
        _ => v,
    };
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl OsRelease {
    /// Parse the text of an os-release file. Unknown keys, comments and
    /// malformed lines are ignored (the format is advisory).
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = unquote(v);
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = v.split_whitespace().map(str::to_ascii_lowercase).collect();
                }
                "VERSION_ID" => os.version_id = Some(v).filter(|s| !s.is_empty()),
                "VERSION_CODENAME" => os.version_codename = Some(v).filter(|s| !s.is_empty()),
                "PRETTY_NAME" => os.pretty_name = Some(v).filter(|s| !s.is_empty()),
                _ => {}
            }
        }
        os
    }

    /// The OSV ecosystem string for packages of this distribution
    /// (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.18`), or the bare
    /// ecosystem when the release is unknown; `None` for distributions OSV
    /// does not cover.
    pub fn osv_ecosystem(&self) -> Option<String> {
        let t = self.osv_target()?;
        Some(match t.suffix {
            Some(s) => format!("{}:{s}", t.ecosystem),
            None => t.ecosystem.to_string(),
        })
    }

    /// The OSV ecosystem, release suffix and any warning for this distribution.
    pub fn osv_target(&self) -> Option<OsvTarget> {
        if let Some(t) = self.own_target() {
            return Some(t);
        }
        // A derivative: use the first base it names that OSV covers, without
        // a release (the derivative's version numbers are its own).
        let base = self.id_like.iter().find_map(|like| base_ecosystem(like))?;
        Some(OsvTarget {
            ecosystem: base.clone(),
            suffix: None,
            warning: Some(format!(
                "{} is a derivative of {base} without its own OSV ecosystem: matching against {base} advisories of any release",
                self.display_name()
            )),
        })
    }

    fn display_name(&self) -> String {
        match &self.pretty_name {
            Some(p) => format!("{p} ({})", self.id),
            None => self.id.clone(),
        }
    }

    fn own_target(&self) -> Option<OsvTarget> {
        let ver = self
            .version_id
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let target = |eco: Ecosystem, suffix: Option<String>| {
            let warning = match suffix {
                Some(_) => None,
                None => Some(format!(
                    "{}: no usable VERSION_ID in os-release; matching against {eco} advisories of any release",
                    self.display_name()
                )),
            };
            Some(OsvTarget {
                ecosystem: eco,
                suffix,
                warning,
            })
        };
        match self.id.as_str() {
            "debian" => {
                let suffix = ver.and_then(major).map(str::to_string);
                if suffix.is_none() {
                    return Some(OsvTarget {
                        ecosystem: Ecosystem::Debian,
                        suffix: None,
                        warning: Some(format!(
                            "{}: Debian testing/unstable has no release number; matching against Debian advisories of any release",
                            self.display_name()
                        )),
                    });
                }
                target(Ecosystem::Debian, suffix)
            }
            "ubuntu" => target(Ecosystem::Ubuntu, ver.and_then(ubuntu_suffix)),
            "alpine" => {
                let suffix = ver.and_then(|v| {
                    if v.contains('_') {
                        // edge: `3.19.0_alpha20231219` is not a release branch.
                        return None;
                    }
                    let mm = major_minor(v)?;
                    Some(format!("v{mm}"))
                });
                target(Ecosystem::Alpine, suffix)
            }
            "almalinux" => target(
                Ecosystem::AlmaLinux,
                ver.and_then(major).map(str::to_string),
            ),
            "rocky" => target(
                Ecosystem::RockyLinux,
                ver.and_then(major).map(str::to_string),
            ),
            "rhel" => target(
                Ecosystem::RedHat,
                ver.and_then(major).map(|m| format!("enterprise_linux:{m}")),
            ),
            "sles" | "sled" | "sles_sap" | "sle-micro" | "sl-micro" | "suse" => {
                target(Ecosystem::Suse, self.pretty_name.clone())
            }
            "opensuse"
            | "opensuse-leap"
            | "opensuse-tumbleweed"
            | "opensuse-microos"
            | "opensuse-leap-micro" => target(Ecosystem::OpenSuse, self.pretty_name.clone()),
            "mariner" | "cbl-mariner" | "azurelinux" => target(
                Ecosystem::AzureLinux,
                ver.and_then(major_minor).map(str::to_string),
            ),
            "photon" => target(
                Ecosystem::PhotonOs,
                ver.and_then(major_minor).map(str::to_string),
            ),
            "mageia" => target(Ecosystem::Mageia, ver.and_then(major).map(str::to_string)),
            "openeuler" => target(Ecosystem::OpenEuler, ver.map(str::to_string)),
            // Rolling distributions: OSV has no release suffix for them.
            "wolfi" => Some(OsvTarget {
                ecosystem: Ecosystem::Wolfi,
                suffix: None,
                warning: None,
            }),
            "chainguard" => Some(OsvTarget {
                ecosystem: Ecosystem::Chainguard,
                suffix: None,
                warning: None,
            }),
            _ => None,
        }
    }
}

/// The ecosystem of a base distribution named in `ID_LIKE`.
fn base_ecosystem(id: &str) -> Option<Ecosystem> {
    Some(match id {
        "debian" => Ecosystem::Debian,
        "ubuntu" => Ecosystem::Ubuntu,
        "alpine" => Ecosystem::Alpine,
        "rhel" | "fedora" | "centos" => Ecosystem::RedHat,
        "suse" | "sles" => Ecosystem::Suse,
        "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => Ecosystem::OpenSuse,
        _ => return None,
    })
}

/// `9.2` -> `9`; `12` -> `12`. `None` unless it starts with digits.
fn major(v: &str) -> Option<&str> {
    let m = v.split('.').next()?;
    (!m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())).then_some(m)
}

/// `3.18.4` -> `3.18`; `2.0` -> `2.0`; `3` -> `None`.
fn major_minor(v: &str) -> Option<&str> {
    let mut dots = v.match_indices('.').map(|(i, _)| i);
    let first = dots.next()?;
    let end = dots.next().unwrap_or(v.len());
    let mm = &v[..end];
    let ok = mm[..first].bytes().all(|b| b.is_ascii_digit())
        && first > 0
        && end > first + 1
        && mm[first + 1..].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(mm)
}

/// `22.04` -> `22.04:LTS` (even year, April), `23.10` -> `23.10`.
fn ubuntu_suffix(v: &str) -> Option<String> {
    let (yy, mm) = v.split_once('.')?;
    let year: u32 = yy.parse().ok()?;
    let mm = mm.split('.').next()?;
    let _: u32 = mm.parse().ok()?;
    if mm.len() != 2 {
        return None;
    }
    let lts = year & 1 == 0 && mm == "04";
    Some(if lts {
        format!("{yy}.{mm}:LTS")
    } else {
        format!("{yy}.{mm}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(text: &str) -> OsRelease {
        OsRelease::parse(text)
    }

    #[test]
    fn maps_each_distribution() {
        let cases: &[(&str, &str)] = &[
            ("ID=debian\nVERSION_ID=\"12\"", "Debian:12"),
            ("ID=ubuntu\nVERSION_ID=\"22.04\"", "Ubuntu:22.04:LTS"),
            ("ID=ubuntu\nVERSION_ID=\"23.10\"", "Ubuntu:23.10"),
            ("ID=ubuntu\nVERSION_ID=\"23.04\"", "Ubuntu:23.04"),
            ("ID=ubuntu\nVERSION_ID=\"24.04\"", "Ubuntu:24.04:LTS"),
            ("ID=alpine\nVERSION_ID=3.18.4", "Alpine:v3.18"),
            ("ID=\"almalinux\"\nVERSION_ID=\"9.2\"", "AlmaLinux:9"),
            ("ID=\"rocky\"\nVERSION_ID=\"9.3\"", "Rocky Linux:9"),
            ("ID=\"rhel\"\nVERSION_ID=\"8.9\"", "Red Hat:enterprise_linux:8"),
            (
                "ID=\"sles\"\nVERSION_ID=\"15.4\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP4\"",
                "SUSE:SUSE Linux Enterprise Server 15 SP4",
            ),
            (
                "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"openSUSE Leap 15.5\"",
                "openSUSE:openSUSE Leap 15.5",
            ),
            ("ID=mariner\nVERSION_ID=\"2.0\"", "Azure Linux:2.0"),
            ("ID=azurelinux\nVERSION_ID=\"3.0\"", "Azure Linux:3.0"),
            ("ID=wolfi\nVERSION_ID=\"20230201\"", "Wolfi"),
            ("ID=chainguard", "Chainguard"),
        ];
        for (text, want) in cases {
            let o = os(text);
            assert_eq!(o.osv_ecosystem().as_deref(), Some(*want), "{text}");
        }
    }

    #[test]
    fn debian_sid_and_derivatives_warn() {
        let t =
            os("PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nID=debian\nVERSION_CODENAME=trixie")
                .osv_target()
                .unwrap();
        assert_eq!((t.ecosystem, t.suffix), (Ecosystem::Debian, None));
        assert!(t.warning.unwrap().contains("testing/unstable"));
        let t = os("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.2\"")
            .osv_target()
            .unwrap();
        assert_eq!((t.ecosystem, t.suffix), (Ecosystem::Ubuntu, None));
        assert!(t.warning.unwrap().contains("derivative"));
        assert_eq!(os("ID=gentoo").osv_target(), None);
    }

    #[test]
    fn parses_quotes_and_comments() {
        let o = os("# c\nID='alpine'\nID_LIKE=\"a  b\"\nPRETTY_NAME=\"x \\\"y\\\"\"\nbroken line\nVERSION_ID=");
        assert_eq!(o.id, "alpine");
        assert_eq!(o.id_like, vec!["a", "b"]);
        assert_eq!(o.pretty_name.as_deref(), Some("x \"y\""));
        assert_eq!(o.version_id, None);
        assert_eq!(major_minor("3"), None);
        assert_eq!(major_minor("3.18.4"), Some("3.18"));
        assert_eq!(ubuntu_suffix("x.04"), None);
    }
}
