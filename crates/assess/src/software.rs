//! E3-002/003 unsupported software: installed runtimes and servers whose
//! upstream series is past its end of support (`data/software-eol.toml`)
//! when nobody else supports them, and packages no repository provides any
//! more.
//!
//! The rule (README "Unsupported software"): a package the distribution
//! maintains inside a supported release is supported (the distribution
//! backports fixes), whatever the upstream date. A package is judged by the
//! upstream date when it comes from a third party (a marker in its version
//! such as `+deb.sury.org`, or APT lists where only repositories of another
//! Origin provide it), or when the distribution release itself is past its
//! end of support.

use crate::check::Check;
use crate::host::Host;
use crate::{eol, origin, updates};
use portcullis_model::{CheckResult, Control, Ecosystem, Package};
use portcullis_version::Scheme;
use regex::Regex;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The embedded table.
pub const SOFTWARE_EOL_TOML: &str = include_str!("../data/software-eol.toml");

const DAY: i64 = 86_400;

#[derive(Deserialize)]
struct RawTable {
    third_party_markers: Vec<String>,
    distribution_origins: Vec<String>,
    #[serde(default)]
    distribution_vendors: Vec<String>,
    #[serde(default)]
    apk_distribution_repos: Vec<String>,
    #[serde(default)]
    distribution_repos: Vec<String>,
    #[serde(default)]
    rhel_family: Vec<String>,
    software: Vec<RawSoftware>,
    #[serde(default)]
    app_stream: Vec<AppStream>,
}

/// A RHEL application stream (dnf module stream) with its end of support.
#[derive(Deserialize, Debug, Clone)]
struct AppStream {
    major: String,
    module: String,
    stream: String,
    end: String,
    /// Checked against the vendor's published table: a past end fails;
    /// otherwise it is listed for attestation with the date given.
    #[serde(default)]
    verified: bool,
    source: String,
}

#[derive(Deserialize)]
struct RawSoftware {
    name: String,
    /// Where the dates come from (required).
    #[serde(default)]
    sources: Vec<String>,
    names: Vec<String>,
    #[serde(default)]
    attest: bool,
    series: Vec<Series>,
}

#[derive(Deserialize, Debug, Clone)]
struct Series {
    v: String,
    end: String,
}

struct Software {
    name: String,
    names: Vec<Regex>,
    attest: bool,
    series: Vec<Series>,
}

impl Software {
    /// The oldest listed series whose support has not ended at `now`.
    fn supported_from(&self, now: i64) -> Option<&str> {
        self.series
            .iter()
            .find(|s| eol::day_end(&s.end).is_some_and(|e| e >= now))
            .map(|s| s.v.as_str())
    }
}

/// The parsed table.
pub struct Table {
    markers: Vec<String>,
    origins: Vec<String>,
    vendors: Vec<String>,
    apk_repos: Vec<Regex>,
    rpm_repos: Vec<Regex>,
    rhel_family: Vec<String>,
    software: Vec<Software>,
    streams: Vec<AppStream>,
}

/// Parse the table; an error names the bad entry.
pub fn table() -> Result<Table, String> {
    table_from(SOFTWARE_EOL_TOML)
}

fn table_from(text: &str) -> Result<Table, String> {
    let raw: RawTable = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut software = Vec::with_capacity(raw.software.len());
    for s in raw.software {
        let mut names = Vec::with_capacity(s.names.len());
        for n in &s.names {
            names.push(Regex::new(n).map_err(|e| format!("{}: {e}", s.name))?);
        }
        if s.sources.iter().all(|x| x.trim().is_empty()) {
            return Err(format!("{}: no sources", s.name));
        }
        let mut prev: Option<&str> = None;
        for se in &s.series {
            if eol::day_end(&se.end).is_none() {
                return Err(format!("{} {}: bad date {}", s.name, se.v, se.end));
            }
            if let Some(p) = prev {
                if !version_lt(p, &se.v) {
                    return Err(format!("{}: series {} is not after {p}", s.name, se.v));
                }
            }
            prev = Some(&se.v);
        }
        software.push(Software {
            name: s.name,
            names,
            attest: s.attest,
            series: s.series,
        });
    }
    let mut apk_repos = Vec::new();
    for r in &raw.apk_distribution_repos {
        apk_repos.push(Regex::new(r).map_err(|e| format!("apk_distribution_repos: {e}"))?);
    }
    let mut rpm_repos = Vec::new();
    for r in &raw.distribution_repos {
        rpm_repos.push(Regex::new(r).map_err(|e| format!("distribution_repos: {e}"))?);
    }
    for a in &raw.app_stream {
        if eol::day_end(&a.end).is_none() || a.source.trim().is_empty() {
            return Err(format!(
                "app_stream {}:{} (RHEL {}): bad date {} or no source",
                a.module, a.stream, a.major, a.end
            ));
        }
    }
    Ok(Table {
        vendors: raw
            .distribution_vendors
            .into_iter()
            .map(|v| v.to_ascii_lowercase())
            .collect(),
        apk_repos,
        rpm_repos,
        rhel_family: raw.rhel_family,
        streams: raw.app_stream,
        markers: raw
            .third_party_markers
            .into_iter()
            .map(|m| m.to_ascii_lowercase())
            .collect(),
        origins: raw.distribution_origins,
        software,
    })
}

/// Dotted numeric order (`8.5` < `9`, `3.9` < `3.10`).
fn version_lt(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> {
        s.split('.')
            .map(|x| x.parse().unwrap_or(u64::MAX))
            .collect()
    };
    parse(a) < parse(b)
}

/// The upstream part of a package version: epoch removed, leading digits
/// and dots (`1:7.4.33-1+deb.sury.org+1` → `7.4.33`).
fn upstream(version: &str) -> &str {
    let v = match version.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => version,
    };
    let end = v
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(v.len());
    v.get(..end).unwrap_or("").trim_end_matches('.')
}

fn dotted_prefix(series: &str, version: &str) -> bool {
    version == series
        || (version.starts_with(series) && version.as_bytes().get(series.len()) == Some(&b'.'))
}

/// What a package is, by the table.
struct Match<'t> {
    software: &'t Software,
    /// The series entry (None for `attest` software or an unlisted series).
    series: Option<&'t Series>,
    /// The series as named (for messages).
    label: String,
}

impl Table {
    /// The number of software entries.
    pub fn len(&self) -> usize {
        self.software.len()
    }

    fn classify(&self, p: &Package) -> Option<Match<'_>> {
        let up = upstream(&p.version);
        for s in &self.software {
            for re in &s.names {
                let Some(caps) = re.captures(&p.name) else {
                    continue;
                };
                let named = caps
                    .name("series")
                    .map(|m| m.as_str().to_string())
                    .or_else(|| {
                        caps.name("nodot").and_then(|m| {
                            let t = m.as_str();
                            let first = t.get(..1)?;
                            Some(format!("{first}.{}", t.get(1..)?))
                        })
                    });
                let by_version = s
                    .series
                    .iter()
                    .filter(|x| dotted_prefix(&x.v, up))
                    .max_by_key(|x| x.v.len());
                let series = match (&named, by_version) {
                    (Some(n), Some(b)) if dotted_prefix(n, &b.v) => Some(b),
                    (Some(n), _) => s.series.iter().find(|x| &x.v == n),
                    (None, b) => b,
                };
                let label = series
                    .map(|x| x.v.clone())
                    .or(named)
                    .unwrap_or_else(|| up.to_string());
                return Some(Match {
                    software: s,
                    series,
                    label,
                });
            }
        }
        None
    }

    /// Is this RPM Vendor a distribution's own?
    fn distribution_vendor(&self, vendor: &str) -> bool {
        let v = vendor.to_ascii_lowercase();
        self.vendors.iter().any(|d| v.starts_with(d.as_str()))
    }

    /// Is this dnf repository ID one of the distribution's own?
    fn distribution_repo(&self, id: &str) -> bool {
        self.rpm_repos.iter().any(|r| r.is_match(id))
    }

    /// Is this apk repository URL a branch of the host's own release
    /// (`release` group of the pattern, when it has one, equal to the
    /// host's `major.minor`)?
    fn distribution_apk_repo(&self, url: &str, host_release: Option<&str>) -> bool {
        self.apk_repos.iter().any(|r| {
            r.captures(url)
                .is_some_and(|c| match (c.name("release"), host_release) {
                    (Some(rel), Some(h)) => {
                        h == rel.as_str() || h.starts_with(&format!("{}.", rel.as_str()))
                    }
                    _ => true,
                })
        })
    }

    /// The application-stream entry for an enabled module stream.
    fn stream(
        &self,
        os: &portcullis_ospkg::OsRelease,
        module: &str,
        stream: &str,
    ) -> Option<&AppStream> {
        let family = self
            .rhel_family
            .iter()
            .any(|f| os.id == *f || os.id_like.iter().any(|l| l == f));
        if !family {
            return None;
        }
        let major = os.version_id.as_deref()?.split('.').next()?;
        self.streams
            .iter()
            .find(|a| a.major == major && a.module == module && a.stream == stream)
    }

    fn marker(&self, version: &str) -> Option<&str> {
        let v = version.to_ascii_lowercase();
        self.markers
            .iter()
            .find(|m| v.contains(m.as_str()))
            .map(|m| m.as_str())
    }
}

/// Who provides each package name in APT's cached lists.
#[derive(Default)]
struct Provided {
    /// Installed name → who provides the name and who its installed version.
    names: HashMap<String, Seen>,
    /// Lists read (Packages files).
    lists: usize,
    /// Distribution lists of a suite other than -security/-updates/-backports.
    full_lists: usize,
    /// Origins of non-distribution repositories seen.
    third_origins: Vec<String>,
    /// A distribution list of a full suite could not be read to the end:
    /// absence from the lists proves nothing.
    damaged_full: bool,
}

/// Who provides an installed package in the cached lists.
#[derive(Default, Clone, Copy)]
struct Seen {
    /// The name, from a distribution repository / another Origin.
    name_distro: bool,
    name_third: bool,
    /// The installed version exactly, from a distribution repository / another Origin.
    version_distro: bool,
    version_third: bool,
}

impl Seen {
    /// Only non-distribution repositories supply it: the installed version
    /// when some list has it, else the name.
    fn third_party(&self) -> bool {
        if self.version_distro || self.version_third {
            self.version_third && !self.version_distro
        } else {
            self.name_third && !self.name_distro
        }
    }
}

fn release_origin(host: &Host, list: &str) -> Option<String> {
    let (prefix, rest) = list.split_once("_dists_")?;
    let suite = rest.split('_').next()?;
    for kind in ["InRelease", "Release"] {
        let f = format!("var/lib/apt/lists/{prefix}_dists_{suite}_{kind}");
        if let Some(t) = host.read(&f).text() {
            return t
                .lines()
                .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE"))
                .find_map(|l| l.strip_prefix("Origin:"))
                .map(|o| o.trim().to_string());
        }
    }
    None
}

fn read_lists(host: &Host, t: &Table, c: &mut Check) -> Provided {
    let mut out = Provided::default();
    let installed: HashMap<&str, &str> = host
        .packages
        .iter()
        .filter(|p| is_dpkg(p))
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    for f in host.list_dir("var/lib/apt/lists") {
        let is_list =
            f.ends_with("_Packages") || f.ends_with("_Packages.gz") || f.ends_with("_Packages.lz4");
        if !is_list {
            continue;
        }
        let rel = format!("var/lib/apt/lists/{f}");
        let raw = match host.read_bytes(&rel) {
            Ok(Some(r)) => r,
            _ => {
                c.ev(&format!("/{rel}"), None, "could not be read");
                continue;
            }
        };
        let Some(mut reader) = updates::list_reader(&f, &raw) else {
            c.ev(&format!("/{rel}"), None, "could not be decompressed");
            continue;
        };
        let origin = release_origin(host, &f);
        // A missing Origin is not held against the repository (few false fails).
        let distro = origin
            .as_deref()
            .is_none_or(|o| t.origins.iter().any(|d| d == o));
        if let (false, Some(o)) = (distro, &origin) {
            if !out.third_origins.contains(o) {
                out.third_origins.push(o.clone());
            }
        }
        out.lists += 1;
        let suite = f
            .split_once("_dists_")
            .and_then(|(_, r)| r.split('_').next())
            .unwrap_or("");
        // A full archive of the distribution (a third-party list or a
        // security suite alone would make most packages look obsolete).
        let full = distro
            && !(suite.ends_with("-security")
                || suite.ends_with("-updates")
                || suite.ends_with("-backports"));
        if full {
            out.full_lists += 1;
        }
        // Only installed names are kept (a full archive lists ~60,000);
        // the list is read line by line, never held whole.
        let mut current: Option<(&str, &str)> = None;
        let mut buf = Vec::with_capacity(256);
        let mut damaged = false;
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(_) => {
                    damaged = true;
                    break;
                }
            }
            let line = String::from_utf8_lossy(&buf);
            let l = line.trim_end_matches(['\n', '\r']);
            if let Some(n) = l.strip_prefix("Package:") {
                current = installed.get_key_value(n.trim()).map(|(k, v)| (*k, *v));
                if let Some((name, _)) = current {
                    let e = out.names.entry(name.to_string()).or_default();
                    if distro {
                        e.name_distro = true;
                    } else {
                        e.name_third = true;
                    }
                }
            } else if let Some(v) = l.strip_prefix("Version:") {
                if let Some((name, iv)) = current.take() {
                    if v.trim() == iv {
                        if let Some(e) = out.names.get_mut(name) {
                            if distro {
                                e.version_distro = true;
                            } else {
                                e.version_third = true;
                            }
                        }
                    }
                }
            }
        }
        if damaged {
            c.ev(
                &format!("/{rel}"),
                None,
                "could not be decompressed to the end; the part before the damage is read",
            );
            out.damaged_full |= full;
        }
    }
    out
}

fn is_dpkg(p: &Package) -> bool {
    matches!(p.ecosystem, Ecosystem::Debian | Ecosystem::Ubuntu)
}

/// The check `linux.updates.unsupported_software`.
pub fn unsupported(host: &Host, now: i64) -> CheckResult {
    let c = Check::new(
        "linux.updates.unsupported_software",
        Control::SecurityUpdateManagement,
        &["E3-002", "E3-003"],
        "Installed software is still supported by its supplier",
    );
    let t = match table() {
        Ok(t) => t,
        Err(e) => return c.unknown(format!("the software end-of-life table is damaged: {e}")),
    };
    judge(host, now, &t, c)
}

fn judge(host: &Host, now: i64, t: &Table, mut c: Check) -> CheckResult {
    if host.packages.is_empty() && host.package_sources.is_empty() {
        return c.unknown(
            "no dpkg, rpm or apk package database was read: the installed software is unknown",
        );
    }
    // Is the distribution release itself past its end of support?
    let os_ended = host.os.as_ref().and_then(|os| {
        let r = eol::lookup(&os.id, os.version_id.as_deref().unwrap_or(""))?;
        let end = eol::day_end(&r.end)?;
        (now > end).then(|| format!("{} (support ended {})", r.name, r.end))
    });
    let dpkg = host.exists("var/lib/dpkg/status");
    let lists = if dpkg {
        read_lists(host, t, &mut c)
    } else {
        Provided::default()
    };

    let rpm = host
        .packages
        .iter()
        .any(|p| Scheme::for_ecosystem(&p.ecosystem) == Scheme::Rpm);
    let vendors = if rpm {
        let (v, notes) = origin::rpm_vendors(host);
        for n in notes {
            c.ev("rpmdb", None, format!("{n}: RPM vendors not read"));
        }
        v
    } else {
        HashMap::new()
    };
    let (from_repo, from_repo_src) = if rpm {
        origin::rpm_from_repo(host)
    } else {
        (HashMap::new(), None)
    };
    let pins = origin::apk_pins(host);
    let alpine_release = host
        .os
        .as_ref()
        .filter(|o| o.id == "alpine")
        .and_then(|o| o.version_id.clone());

    let mut failed: Vec<&Package> = Vec::new();
    // Per failed software: the oldest series still supported upstream.
    let mut upgrades: Vec<(&str, Option<&str>)> = Vec::new();
    let mut attest: Vec<&Package> = Vec::new();
    let mut distro_kept = 0usize;
    let mut by_name: Vec<&Package> = host.packages.iter().collect();
    by_name.sort_by(|a, b| a.name.cmp(&b.name));
    for &p in &by_name {
        let Some(m) = t.classify(p) else { continue };
        let seen = lists.names.get(&p.name).copied().unwrap_or_default();
        // dnf's record of the repository, when it has one, wins over the Vendor.
        let repo_says = from_repo
            .get(&(p.name.clone(), p.version.clone()))
            .filter(|_| Scheme::for_ecosystem(&p.ecosystem) == Scheme::Rpm)
            .map(|repo| {
                let src = from_repo_src.as_deref().unwrap_or("dnf's records");
                if t.distribution_repo(repo) {
                    None
                } else if repo == "@commandline" {
                    Some(format!(
                        "installed from a local file (`@commandline` in {src})"
                    ))
                } else {
                    Some(format!(
                        "installed from the repository `{repo}` (per {src}), not the distribution's"
                    ))
                }
            });
        let third = if let Some(mk) = t.marker(&p.version) {
            Some(format!("a third-party build (version contains `{mk}`)"))
        } else if is_dpkg(p) && seen.third_party() {
            Some(format!(
                "only a third-party repository provides it (Origin {})",
                lists.third_origins.join(", ")
            ))
        } else if let Some(verdict) = repo_says {
            verdict
        } else if let Some(v) = vendors.get(&p.name).filter(|v| {
            Scheme::for_ecosystem(&p.ecosystem) == Scheme::Rpm && !t.distribution_vendor(v)
        }) {
            Some(format!("a third-party build (RPM vendor `{v}`)"))
        } else if let Some((tag, url)) = pins.get(&p.name).filter(|(_, u)| {
            Scheme::for_ecosystem(&p.ecosystem) == Scheme::Alpine
                && !t.distribution_apk_repo(u, alpine_release.as_deref())
        }) {
            Some(format!(
                "pinned to the repository @{tag} ({url}), not a branch of this Alpine release"
            ))
        } else {
            None
        };
        let who = match (&third, &os_ended) {
            (Some(why), _) => why.clone(),
            (None, Some(os)) => format!("the distribution release {os}"),
            (None, None) => {
                distro_kept += 1;
                continue;
            }
        };
        if m.software.attest {
            c.ev(
                &p.purl.to_string(),
                None,
                format!(
                    "{} {}: {} {} is {who}; its support depends on the vendor",
                    p.name, p.version, m.software.name, m.label
                ),
            );
            attest.push(p);
            continue;
        }
        let Some(s) = m.series else { continue };
        let Some(end) = eol::day_end(&s.end) else {
            continue;
        };
        if now > end {
            c.ev(
                &p.purl.to_string(),
                None,
                format!(
                    "{} {}: {} {} upstream support ended on {} ({} days ago); {who}",
                    p.name,
                    p.version,
                    m.software.name,
                    s.v,
                    s.end,
                    (now - end) / DAY
                ),
            );
            failed.push(p);
            if !upgrades.iter().any(|(n, _)| *n == m.software.name) {
                upgrades.push((&m.software.name, m.software.supported_from(now)));
            }
        }
    }
    // RHEL application streams (dnf module streams) with shorter lives.
    let mut stream_failed: Vec<String> = Vec::new();
    let mut stream_attest: Vec<String> = Vec::new();
    if let Some(os) = host.os.as_ref() {
        for m in origin::enabled_modules(host) {
            let Some(a) = t.stream(os, &m.name, &m.stream) else {
                continue;
            };
            let Some(end) = eol::day_end(&a.end) else {
                continue;
            };
            if now <= end {
                c.ev(
                    &m.file,
                    None,
                    format!(
                        "module stream {}:{} enabled; supported until {} ({})",
                        m.name, m.stream, a.end, a.source
                    ),
                );
                continue;
            }
            let label = format!("{}:{}", m.name, m.stream);
            if a.verified {
                c.ev(
                    &m.file,
                    None,
                    format!(
                        "module stream {label} enabled; its RHEL {} application stream retired on {} ({} days ago; {})",
                        a.major,
                        a.end,
                        (now - end) / DAY,
                        a.source
                    ),
                );
                stream_failed.push(label);
            } else {
                c.ev(
                    &m.file,
                    None,
                    format!(
                        "module stream {label} enabled; its RHEL {} application stream is listed as retired on {} ({}; date not yet checked against Red Hat's table)",
                        a.major, a.end, a.source
                    ),
                );
                stream_attest.push(label);
            }
        }
    }

    if distro_kept > 0 {
        c.ev(
            "data/software-eol.toml",
            None,
            format!("{distro_kept} packages of listed runtimes and servers are maintained by the distribution in a supported release (security fixes are backported): supported"),
        );
    }

    // Packages that no cached repository provides any more.
    let mut obsolete: Vec<&Package> = Vec::new();
    if dpkg {
        if lists.full_lists == 0 {
            c.ev(
                "/var/lib/apt/lists",
                None,
                "no complete APT package lists are cached (only security/updates suites or none): packages no repository provides any more were not looked for; run `apt-get update` and assess again",
            );
        } else if lists.damaged_full {
            c.ev(
                "/var/lib/apt/lists",
                None,
                "a distribution package list is damaged: packages no repository provides any more were not looked for; run `apt-get update` and assess again",
            );
        } else {
            let seen: HashSet<&str> = failed
                .iter()
                .chain(&attest)
                .map(|p| p.name.as_str())
                .collect();
            for &p in by_name.iter().filter(|p| is_dpkg(p)) {
                if !lists.names.contains_key(&p.name) && !seen.contains(p.name.as_str()) {
                    obsolete.push(p);
                }
            }
            c.ev(
                "/var/lib/apt/lists",
                None,
                format!(
                    "{} package lists read; {} installed packages are provided by no repository",
                    lists.lists,
                    obsolete.len()
                ),
            );
            for p in &obsolete {
                c.ev(
                    &p.purl.to_string(),
                    None,
                    format!(
                        "{} {}: no configured repository provides it (obsolete or installed locally)",
                        p.name, p.version
                    ),
                );
            }
        }
    }

    if failed.is_empty() && !stream_failed.is_empty() {
        return c.fail(format!(
            "The enabled module streams {} are past the end of their application-stream support. Switch to a supported stream (`dnf module switch-to NAME:STREAM`, see `dnf module list NAME`), or remove them (`dnf module remove --all NAME` and `dnf module reset NAME`).",
            stream_failed.join(", ")
        ));
    }
    if !failed.is_empty() {
        let mut names: Vec<&str> = failed.iter().map(|p| p.name.as_str()).collect();
        names.dedup();
        let mut to: Vec<String> = Vec::with_capacity(upgrades.len());
        for (name, series) in &upgrades {
            to.push(match series {
                Some(v) if *name == "PHP" && dpkg => {
                    format!("PHP {v} or later, e.g. `apt install php{v}`")
                }
                Some(v) => format!("{name} {v} or later"),
                None => format!("a supported {name} from your distribution"),
            });
        }
        let cmd = remove_cmd(host, dpkg, &names);
        let mut fix = format!("The listed packages are past their supplier's end of support. Upgrade to a supported series ({}) and move what uses them across, or remove them: `{cmd}`; or move the device into a segregated sub-set with no internet traffic (E3-003).", to.join("; "));
        if !obsolete.is_empty() || !attest.is_empty() || !stream_attest.is_empty() {
            fix.push_str(" Also confirm the other listed packages are still supported by their supplier, or remove them.");
        }
        if !stream_failed.is_empty() {
            fix.push_str(&format!(
                " Switch the module streams {} to supported ones (`dnf module switch-to NAME:STREAM`).",
                stream_failed.join(", ")
            ));
        }
        return c.fail(fix);
    }
    if !stream_attest.is_empty() && attest.is_empty() && obsolete.is_empty() {
        return c
            .with_fix("Switch to a supported stream (`dnf module switch-to NAME:STREAM`, see `dnf module list NAME`), or remove the module.")
            .attest(format!("Confirm from Red Hat's Application Streams life cycle that the enabled module streams {} are still supported, or switch them to supported streams (E3-002, E3-003).", stream_attest.join(", ")));
    }
    if !attest.is_empty() || !obsolete.is_empty() {
        let mut names: Vec<&str> = attest
            .iter()
            .chain(&obsolete)
            .map(|p| p.name.as_str())
            .take(40)
            .collect();
        names.dedup();
        return c
            .with_fix(format!("Remove what is no longer needed: {} (on Debian/Ubuntu, `apt autoremove` clears old kernels and libraries)", remove_cmd(host, dpkg, &names)))
            .attest("No repository on this device provides the listed packages any more (or their vendor decides their support): confirm each is still supported by its supplier, or remove it (E3-002, E3-003).");
    }
    c.pass()
}

fn remove_cmd(host: &Host, dpkg: bool, names: &[&str]) -> String {
    if dpkg {
        format!("apt purge {}", names.join(" "))
    } else if host.exists("lib/apk/db/installed") {
        format!("apk del {}", names.join(" "))
    } else {
        format!("dnf remove {}", names.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_model::{Location, Purl};

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            ecosystem: Ecosystem::Debian,
            distro: None,
            name: name.into(),
            version: version.into(),
            source_name: None,
            source_version: None,
            purl: Purl::parse(&format!("pkg:deb/debian/{name}")).unwrap(),
            location: Location::default(),
            scope: Default::default(),
            direct: None,
            licenses: Vec::new(),
        }
    }

    fn series(name: &str, version: &str) -> Option<(String, String)> {
        let t = table().unwrap();
        let m = t.classify(&pkg(name, version))?;
        Some((m.software.name.clone(), m.label))
    }

    #[test]
    fn the_table_is_sourced_sorted_and_refuses_disorder() {
        let t = table().unwrap();
        assert_eq!(t.len(), 11);
        assert!(version_lt("3.9", "3.10") && version_lt("8.5", "9") && !version_lt("9", "8.5"));
        let bad = SOFTWARE_EOL_TOML.replace(
            "  { v = \"7.0\", end = \"2019-01-10\" },\n",
            "",
        ).replace("  { v = \"5.6\", end = \"2018-12-31\" },\n", "  { v = \"5.6\", end = \"2018-12-31\" },\n  { v = \"7.1\", end = \"2019-12-01\" },\n");
        assert!(table_from(&bad)
            .err()
            .unwrap()
            .contains("PHP: series 7.1 is not after 7.1"));
        let unsourced = SOFTWARE_EOL_TOML.replacen("sources = [", "nosources = [", 1);
        assert!(table_from(&unsourced)
            .err()
            .unwrap()
            .contains("PHP: no sources"));
    }

    #[test]
    fn a_verified_retired_stream_fails() {
        let text = SOFTWARE_EOL_TOML.replace(
            "major = \"9\"\nmodule = \"nodejs\"",
            "major = \"9\"\nverified = true\nmodule = \"nodejs\"",
        );
        assert_ne!(text, SOFTWARE_EOL_TOML);
        let t = table_from(&text).unwrap();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rocky9-streams");
        let host = Host::open_with(std::path::Path::new(root), false);
        let c = Check::new("x", Control::SecurityUpdateManagement, &["E3-002"], "t");
        // 2026-11-23
        let r = judge(&host, 1_795_392_000, &t, c);
        assert_eq!(r.status, portcullis_model::CheckStatus::Fail, "{r:?}");
        let fix = r.fix.unwrap();
        assert!(
            fix.contains("nodejs:18") && fix.contains("dnf module switch-to"),
            "{fix}"
        );
        assert!(r.evidence.iter().any(|e| e
            .detail
            .contains("application stream retired on 2025-04-30")));
    }

    #[test]
    fn bad_stream_entries_are_refused() {
        let text = format!(
            "{SOFTWARE_EOL_TOML}\n[[app_stream]]\nmajor = \"8\"\nmodule = \"x\"\nstream = \"1\"\nend = \"2024-13-01\"\nsource = \"s\"\n"
        );
        assert!(table_from(&text).err().unwrap().contains("app_stream x:1"));
    }

    #[test]
    fn upstream_versions() {
        assert_eq!(upstream("1:7.4.33-1+deb.sury.org+1"), "7.4.33");
        assert_eq!(upstream("1.1.1w-0+deb11u1"), "1.1.1");
        assert_eq!(upstream("x:1"), "");
        assert_eq!(upstream(""), "");
    }

    #[test]
    fn series_from_names_and_versions() {
        let s = |n: &str, v: &str| series(n, v).map(|(a, b)| format!("{a} {b}"));
        assert_eq!(s("php7.4-cli", "7.4.33-1").as_deref(), Some("PHP 7.4"));
        assert_eq!(
            s("php74-php-cli", "7.4.33-1.el8.remi").as_deref(),
            Some("PHP 7.4")
        );
        assert_eq!(s("php-cli", "8.0.30-1.el9").as_deref(), Some("PHP 8.0"));
        assert_eq!(s("php7", "7.4.33-r0").as_deref(), Some("PHP 7.4"));
        assert_eq!(s("python3.11", "3.11.2-6").as_deref(), Some("Python 3.11"));
        assert_eq!(s("python2.7", "2.7.18-8").as_deref(), Some("Python 2.7"));
        assert_eq!(
            s("nodejs", "16.20.2-1nodesource1").as_deref(),
            Some("Node.js 16")
        );
        assert_eq!(
            s("tomcat8", "8.5.54-0+deb9u1").as_deref(),
            Some("Apache Tomcat 8.5")
        );
        assert_eq!(
            s("postgresql-12", "12.17-1.pgdg120+1").as_deref(),
            Some("PostgreSQL 12")
        );
        assert_eq!(
            s("mariadb-server", "1:10.5.21-0+deb11u1").as_deref(),
            Some("MariaDB 10.5")
        );
        assert_eq!(
            s("libssl1.1", "1.1.1w-0+deb11u1").as_deref(),
            Some("OpenSSL 1.1")
        );
        assert_eq!(
            s("openjdk-11-jre-headless", "11.0.20").as_deref(),
            Some("OpenJDK 11")
        );
        assert_eq!(s("bash", "5.2"), None);
        assert_eq!(s("php-composer-ca-bundle", "1.3"), None);
    }
}
