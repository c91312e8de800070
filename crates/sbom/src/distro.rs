//! Distribution releases and source packages from purl qualifiers.
//!
//! A purl's `distro` qualifier names the release in a tool's own way: syft
//! writes `debian-12`, `ubuntu-22.04`, `alpine-3.18.4`; Trivy writes
//! `debian-12.1` or a bare `3.18.4`; some writers use code names
//! (`bookworm`, `jammy`). OSV wants the ecosystem suffix (`Debian:12`,
//! `Alpine:v3.18`, `Ubuntu:22.04:LTS`), so [`osv_release`] maps one to the
//! other. Releases whose OSV suffix cannot be derived from the qualifier
//! alone (Red Hat, SUSE, openEuler, Azure Linux) give `None`.

use portcullis_model::Ecosystem;

/// The OSV release suffix for a purl `distro` qualifier of a distribution ecosystem.
///
/// | Ecosystem | Qualifier examples | OSV suffix |
/// |---|---|---|
/// | Debian | `debian-12`, `debian-12.11`, `12`, `bookworm` | `12` |
/// | Ubuntu | `ubuntu-22.04`, `22.04.3`, `jammy` | `22.04:LTS` (even year and `.04`), else `23.10` |
/// | Alpine | `alpine-3.18.4`, `3.18`, `v3.18` | `v3.18` |
/// | AlmaLinux, Rocky Linux, Mageia | `almalinux-9.3`, `rocky-8`, `mageia-9` | `9`, `8`, `9` |
/// | Photon OS | `photon-5.0` | `5.0` |
///
/// Anything else gives `None` (the package is then matched without a
/// release only if the matcher chooses to).
pub fn osv_release(ecosystem: &Ecosystem, qualifier: &str) -> Option<String> {
    let q = qualifier.trim().to_ascii_lowercase();
    if q.is_empty() {
        return None;
    }
    match ecosystem {
        Ecosystem::Debian => {
            let v = strip_id(&q, &["debian"]);
            debian_codename(v).map(str::to_string).or_else(|| major(v))
        }
        Ecosystem::Ubuntu => {
            let v = strip_id(&q, &["ubuntu"]);
            let (year, month) = match ubuntu_codename(v) {
                Some(r) => r.split_once('.')?,
                None => {
                    let mut parts = v.split('.');
                    (parts.next()?, parts.next()?)
                }
            };
            if !digits(year) || !digits(month) || year.len() != 2 || month.len() != 2 {
                return None;
            }
            let lts = month == "04"
                && year
                    .bytes()
                    .last()
                    .is_some_and(|b| matches!(b, b'0' | b'2' | b'4' | b'6' | b'8'));
            Some(if lts {
                format!("{year}.{month}:LTS")
            } else {
                format!("{year}.{month}")
            })
        }
        Ecosystem::Alpine => {
            let v = strip_id(&q, &["alpine"]);
            let v = v.strip_prefix('v').unwrap_or(v);
            let mut parts = v.split('.');
            let (a, b) = (parts.next()?, parts.next()?);
            (digits(a) && digits(b)).then(|| format!("v{a}.{b}"))
        }
        Ecosystem::AlmaLinux | Ecosystem::RockyLinux | Ecosystem::Mageia => major(strip_id(
            &q,
            &["almalinux", "alma", "rocky", "rockylinux", "mageia"],
        )),
        Ecosystem::PhotonOs => {
            let v = strip_id(&q, &["photon"]);
            let mut parts = v.split('.');
            let (a, b) = (parts.next()?, parts.next().unwrap_or("0"));
            (digits(a) && digits(b)).then(|| format!("{a}.{b}"))
        }
        _ => None,
    }
}

/// `debian-12` → `12`; `12` stays.
fn strip_id<'a>(q: &'a str, ids: &[&str]) -> &'a str {
    for id in ids {
        if let Some(rest) = q.strip_prefix(id) {
            if let Some(rest) = rest.strip_prefix(['-', ':', '_', '/']) {
                return rest;
            }
        }
    }
    q
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The leading major version: `12.11` → `12`.
fn major(v: &str) -> Option<String> {
    let m = v.split('.').next()?;
    digits(m).then(|| m.to_string())
}

fn debian_codename(v: &str) -> Option<&'static str> {
    Some(match v {
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

fn ubuntu_codename(v: &str) -> Option<&'static str> {
    Some(match v {
        "trusty" => "14.04",
        "xenial" => "16.04",
        "bionic" => "18.04",
        "focal" => "20.04",
        "jammy" => "22.04",
        "mantic" => "23.10",
        "noble" => "24.04",
        "oracular" => "24.10",
        "plucky" => "25.04",
        _ => return None,
    })
}

/// The source package (name, version) from a purl `upstream` qualifier:
/// syft writes `glibc` or `bash@5.2.15-2` for deb and apk packages, and the
/// source RPM file name (`glibc-2.34-1.el9.src.rpm`) for rpm packages.
pub fn upstream_source(upstream: &str) -> Option<(String, Option<String>)> {
    let u = upstream.trim();
    if u.is_empty() {
        return None;
    }
    if let Some(stem) = u
        .strip_suffix(".src.rpm")
        .or_else(|| u.strip_suffix(".nosrc.rpm"))
    {
        // name-version-release: the last two dashes separate the fields.
        let (rest, release) = stem.rsplit_once('-')?;
        let (name, version) = rest.rsplit_once('-')?;
        if name.is_empty() || version.is_empty() || release.is_empty() {
            return None;
        }
        return Some((name.to_string(), Some(format!("{version}-{release}"))));
    }
    match u.split_once('@') {
        Some((n, v)) if !n.is_empty() => {
            Some((n.to_string(), Some(v.to_string()).filter(|v| !v.is_empty())))
        }
        Some(_) => None,
        None => Some((u.to_string(), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases() {
        let r = |e: Ecosystem, q: &str| osv_release(&e, q);
        assert_eq!(r(Ecosystem::Debian, "debian-12").as_deref(), Some("12"));
        assert_eq!(r(Ecosystem::Debian, "debian-11.5").as_deref(), Some("11"));
        assert_eq!(r(Ecosystem::Debian, "bookworm").as_deref(), Some("12"));
        assert_eq!(r(Ecosystem::Debian, "sid"), None);
        assert_eq!(
            r(Ecosystem::Ubuntu, "ubuntu-22.04").as_deref(),
            Some("22.04:LTS")
        );
        assert_eq!(
            r(Ecosystem::Ubuntu, "ubuntu-23.10").as_deref(),
            Some("23.10")
        );
        assert_eq!(r(Ecosystem::Ubuntu, "21.04").as_deref(), Some("21.04"));
        assert_eq!(r(Ecosystem::Ubuntu, "noble").as_deref(), Some("24.04:LTS"));
        assert_eq!(
            r(Ecosystem::Alpine, "alpine-3.18.4").as_deref(),
            Some("v3.18")
        );
        assert_eq!(r(Ecosystem::Alpine, "3.20").as_deref(), Some("v3.20"));
        assert_eq!(r(Ecosystem::Alpine, "edge"), None);
        assert_eq!(
            r(Ecosystem::AlmaLinux, "almalinux-9.3").as_deref(),
            Some("9")
        );
        assert_eq!(r(Ecosystem::RockyLinux, "rocky-8").as_deref(), Some("8"));
        assert_eq!(r(Ecosystem::PhotonOs, "photon-5.0").as_deref(), Some("5.0"));
        assert_eq!(r(Ecosystem::RedHat, "rhel-9"), None);
        assert_eq!(r(Ecosystem::Npm, "debian-12"), None);
        assert_eq!(r(Ecosystem::Ubuntu, ""), None);
    }

    #[test]
    fn upstreams() {
        assert_eq!(upstream_source("glibc"), Some(("glibc".into(), None)));
        assert_eq!(
            upstream_source("bash@5.2.15-2"),
            Some(("bash".into(), Some("5.2.15-2".into())))
        );
        assert_eq!(
            upstream_source("glibc-2.34-1.el9.src.rpm"),
            Some(("glibc".into(), Some("2.34-1.el9".into())))
        );
        assert_eq!(upstream_source("bad.src.rpm"), None);
        assert_eq!(upstream_source("@1"), None);
    }
}
