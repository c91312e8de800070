//! E3 Security update management: supported OS, automatic updates, pending
//! security updates from the distribution's own package lists, and the
//! vulnerable packages a scan finds.

use crate::check::Check;
use crate::host::{config_lines, FileRead, Host};
use crate::{eol, Options, VulnScan};
use portcullis_model::{CheckResult, Control, Ecosystem};
use portcullis_version::Scheme;
use std::collections::HashMap;
use std::io::Read;

const DAY: i64 = 86_400;

pub fn checks(host: &Host, opts: &Options, out: &mut Vec<CheckResult>) {
    out.push(os_supported(host, opts.now));
    out.push(crate::software::unsupported(host, opts.now));
    out.push(automatic(host));
    out.push(pending(host, opts.now));
    out.push(vulnerable(host, &opts.vulns));
}

fn os_supported(host: &Host, now: i64) -> CheckResult {
    let mut c = Check::new(
        "linux.os.supported",
        Control::SecurityUpdateManagement,
        &["E3-002", "E3-003"],
        "The operating system is still supported with security updates",
    );
    let Some(os) = &host.os else {
        return c.unknown("no /etc/os-release or /usr/lib/os-release: the distribution is unknown");
    };
    let v = os.version_id.clone().unwrap_or_default();
    c.ev(
        "/etc/os-release",
        None,
        format!("ID={} VERSION_ID={v}", os.id),
    );
    let Some(r) = eol::lookup(&os.id, &v) else {
        return c.unknown(format!("{} {v} is not in the end-of-life table (data/eol.toml); check the vendor's support dates", os.id));
    };
    let Some(end) = eol::day_end(&r.end) else {
        return c.unknown(format!("bad date {} in the end-of-life table", r.end));
    };
    if now <= end {
        c.ev(
            "data/eol.toml",
            None,
            format!(
                "{} receives security updates until {} ({} days left)",
                r.name,
                r.end,
                (end - now) / DAY
            ),
        );
        c.ev("data/eol.toml", None, format!("source: {}", r.source));
        return c.pass();
    }
    c.ev(
        "data/eol.toml",
        None,
        format!("{}: security support ended on {}", r.name, r.end),
    );
    c.ev("data/eol.toml", None, format!("source: {}", r.source));
    c.fail(format!("{} no longer receives security updates. Upgrade to a supported release (on Debian: follow the release notes for the next version; on Ubuntu: do-release-upgrade), or, if you pay for extended support (Ubuntu Pro ESM, RHEL ELS, Debian ELTS), keep that contract's evidence, or move the device into a segregated sub-set with no internet access (E3-003).", r.name))
}

/// APT settings from apt.conf.d, last one wins.
fn apt_setting(host: &Host, key: &str) -> Option<(String, String, u32)> {
    let mut found = None;
    let mut files = vec!["etc/apt/apt.conf".to_string()];
    for f in host.list_dir("etc/apt/apt.conf.d") {
        files.push(format!("etc/apt/apt.conf.d/{f}"));
    }
    for f in files {
        if let FileRead::Text(t) = host.read(&f) {
            for (n, l) in config_lines(&t) {
                if l.starts_with("//") {
                    continue;
                }
                if let Some(rest) = l.strip_prefix(key) {
                    let v = rest.trim().trim_end_matches(';').trim().trim_matches('"');
                    found = Some((format!("/{f}"), v.to_string(), n));
                }
            }
        }
    }
    found
}

fn automatic(host: &Host) -> CheckResult {
    let mut c = Check::new(
        "linux.updates.automatic",
        Control::SecurityUpdateManagement,
        &["E3-004"],
        "Security updates are installed automatically",
    );
    if host.exists("var/lib/dpkg/status") {
        let installed = host.package("unattended-upgrades");
        match installed {
            Some(p) => c.ev(
                &p.purl.to_string(),
                None,
                format!("unattended-upgrades {} is installed", p.version),
            ),
            None => c.ev(
                "/var/lib/dpkg/status",
                None,
                "unattended-upgrades is not installed",
            ),
        }
        let setting = apt_setting(host, "APT::Periodic::Unattended-Upgrade");
        let on = match &setting {
            Some((f, v, n)) => {
                c.ev(
                    f,
                    Some(*n),
                    format!("APT::Periodic::Unattended-Upgrade \"{v}\""),
                );
                v != "0" && !v.is_empty()
            }
            None => {
                c.ev(
                    "/etc/apt/apt.conf.d",
                    None,
                    "APT::Periodic::Unattended-Upgrade is not set (off)",
                );
                false
            }
        };
        let mut security_origin = false;
        if let FileRead::Text(t) = host.read("etc/apt/apt.conf.d/50unattended-upgrades") {
            for (n, l) in config_lines(&t) {
                if !l.starts_with("//")
                    && (l.contains("-security") || l.contains("Debian-Security"))
                {
                    security_origin = true;
                    c.ev("/etc/apt/apt.conf.d/50unattended-upgrades", Some(n), l);
                    break;
                }
            }
        }
        if installed.is_some() && on && security_origin {
            return c.pass();
        }
        return c.fail("Turn on automatic security updates: apt-get install unattended-upgrades && dpkg-reconfigure -plow unattended-upgrades (this writes APT::Periodic::Unattended-Upgrade \"1\"; to /etc/apt/apt.conf.d/20auto-upgrades). Keep the security origin in /etc/apt/apt.conf.d/50unattended-upgrades.");
    }
    if host.exists("var/lib/rpm") || host.exists("usr/lib/sysimage/rpm") {
        let pkg = host.has_package("dnf-automatic") || host.has_package("dnf5-plugin-automatic");
        c.ev(
            "rpmdb",
            None,
            if pkg {
                "dnf-automatic is installed"
            } else {
                "dnf-automatic is not installed"
            },
        );
        let mut apply = false;
        if let FileRead::Text(t) = host.read("etc/dnf/automatic.conf") {
            for (n, l) in config_lines(&t) {
                if let Some((k, v)) = l.split_once('=') {
                    if k.trim() == "apply_updates" {
                        apply = matches!(v.trim(), "yes" | "true" | "1");
                        c.ev("/etc/dnf/automatic.conf", Some(n), l);
                    }
                }
            }
        }
        let timer = host.unit_enabled("dnf-automatic.timer")
            || host.unit_enabled("dnf-automatic-install.timer");
        c.ev(
            "/etc/systemd/system/timers.target.wants",
            None,
            if timer {
                "a dnf-automatic timer is enabled"
            } else {
                "no dnf-automatic timer is enabled"
            },
        );
        if pkg && timer && (apply || host.unit_enabled("dnf-automatic-install.timer")) {
            return c.pass();
        }
        return c.fail("Turn on automatic updates: dnf install dnf-automatic, set `apply_updates = yes` (and `upgrade_type = security` if you prefer) in /etc/dnf/automatic.conf, then run: systemctl enable --now dnf-automatic.timer");
    }
    if host.exists("lib/apk/db/installed") {
        return c.attest("Alpine has no built-in automatic updates: confirm that `apk upgrade` runs at least daily (cron or your image rebuild pipeline) and that security fixes reach this device within 14 days (A6.4).");
    }
    c.unknown("no dpkg, rpm or apk package database found: the update mechanism is unknown")
}

pub(crate) fn decompress(name: &str, raw: Vec<u8>) -> Option<Vec<u8>> {
    const LIMIT: u64 = 512 * 1024 * 1024;
    if name.ends_with(".lz4") {
        let mut out = Vec::new();
        lz4_flex::frame::FrameDecoder::new(&raw[..])
            .take(LIMIT)
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    } else if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(LIMIT)
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    } else if name.ends_with("_Packages") {
        Some(raw)
    } else {
        None
    }
}

/// A streaming reader over an APT list in its stored form (plain, lz4 or
/// gzip), at most 512 MiB of output: the list is scanned line by line
/// without holding its decompressed text.
pub(crate) fn list_reader<'a>(name: &str, raw: &'a [u8]) -> Option<Box<dyn std::io::BufRead + 'a>> {
    const LIMIT: u64 = 512 * 1024 * 1024;
    let r: Box<dyn Read + 'a> = if name.ends_with(".lz4") {
        Box::new(lz4_flex::frame::FrameDecoder::new(raw))
    } else if name.ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(raw))
    } else if name.ends_with("_Packages") {
        Box::new(raw)
    } else {
        return None;
    };
    Some(Box::new(std::io::BufReader::with_capacity(
        64 * 1024,
        r.take(LIMIT),
    )))
}

/// `Package:`/`Version:` pairs of an APT Packages file (highest version kept).
pub fn parse_packages(text: &str, into: &mut HashMap<String, String>) {
    let mut name: Option<&str> = None;
    let mut version: Option<&str> = None;
    let flush = |n: &mut Option<&str>, v: &mut Option<&str>, into: &mut HashMap<String, String>| {
        if let (Some(a), Some(b)) = (n.take(), v.take()) {
            let newer = match into.get(a) {
                Some(old) => Scheme::Debian
                    .compare(b, old)
                    .map(|o| o.is_gt())
                    .unwrap_or(false),
                None => true,
            };
            if newer {
                into.insert(a.to_string(), b.to_string());
            }
        }
    };
    for l in text.lines() {
        if l.is_empty() {
            flush(&mut name, &mut version, into);
        } else if let Some(v) = l.strip_prefix("Package: ") {
            name = Some(v.trim());
        } else if let Some(v) = l.strip_prefix("Version: ") {
            version = Some(v.trim());
        }
    }
    flush(&mut name, &mut version, into);
}

fn release_date(text: &str) -> Option<i64> {
    let line = text.lines().find_map(|l| l.strip_prefix("Date: "))?;
    jiff::fmt::rfc2822::parse(line.trim())
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn pending(host: &Host, now: i64) -> CheckResult {
    let mut c = Check::new(
        "linux.updates.pending_security",
        Control::SecurityUpdateManagement,
        &["E3-001", "E3-005", "E3-006", "E3-007"],
        "Security updates from the distribution are applied within 14 days",
    )
    .auto_fail();
    if !host.exists("var/lib/dpkg/status") {
        if host.exists("var/lib/rpm") || host.exists("usr/lib/sysimage/rpm") {
            return crate::pending::rpm(host, now, c);
        }
        if host.exists("lib/apk/db/installed") {
            return crate::pending::apk(host, now, c);
        }
        return c.unknown("no dpkg, rpm or apk package database found");
    }
    let lists = host.list_dir("var/lib/apt/lists");
    let sec: Vec<&String> = lists
        .iter()
        .filter(|n| n.contains("-security_") && n.contains("_Packages"))
        .collect();
    if lists.iter().all(|n| !n.contains("_Packages")) {
        return c
            .unknown("no APT package lists are cached: run `apt-get update`, then assess again");
    }
    if sec.is_empty() {
        c.ev(
            "/var/lib/apt/lists",
            None,
            "no package list from a -security suite",
        );
        return c.fail("Add the distribution's security repository to APT (Debian 12: `deb http://security.debian.org/debian-security bookworm-security main` in /etc/apt/sources.list), then run: apt-get update && apt-get upgrade");
    }
    let mut avail: HashMap<String, String> = HashMap::new();
    let mut date: Option<i64> = None;
    for f in &sec {
        let rel = format!("var/lib/apt/lists/{f}");
        match host.read_bytes(&rel) {
            Ok(Some(raw)) => match decompress(f, raw) {
                Some(b) => parse_packages(&String::from_utf8_lossy(&b), &mut avail),
                None => c.ev(&format!("/{rel}"), None, "could not be decompressed"),
            },
            Ok(None) => {}
            Err(w) => return c.unknown(format!("/{rel}: {w}")),
        }
        let prefix = f.split("_dists_").next().unwrap_or("");
        let suite = f
            .split("_dists_")
            .nth(1)
            .and_then(|s| s.split('_').next())
            .unwrap_or("");
        let inrel = format!("var/lib/apt/lists/{prefix}_dists_{suite}_InRelease");
        let d = host
            .read(&inrel)
            .text()
            .and_then(release_date)
            .or_else(|| host.mtime(&rel));
        if let Some(d) = d {
            // The newest list bounds every fix from above (conservative for the 14-day rule).
            date = Some(date.map_or(d, |x: i64| x.max(d)));
        }
    }
    let mut late = Vec::new();
    for p in &host.packages {
        if !matches!(p.ecosystem, Ecosystem::Debian | Ecosystem::Ubuntu) {
            continue;
        }
        if let Some(v) = avail.get(&p.name) {
            if Scheme::Debian
                .compare(v, &p.version)
                .map(|o| o.is_gt())
                .unwrap_or(false)
            {
                late.push((p, v.clone()));
            }
        }
    }
    let age = date.map(|d| (now - d).max(0) / DAY);
    let age_text = age.map_or("of unknown age".to_string(), |a| format!("{a} days old"));
    c.ev(
        "/var/lib/apt/lists",
        None,
        format!("security package lists are {age_text} (the InRelease Date, else the file time)"),
    );
    for (p, v) in &late {
        c.ev(
            &p.purl.to_string(),
            None,
            format!(
                "{} {} installed; {} available from the security suite",
                p.name, p.version, v
            ),
        );
    }
    let names: Vec<&str> = late.iter().map(|(p, _)| p.name.as_str()).take(40).collect();
    let fix = format!("Install the pending security updates now: apt-get update && apt-get install --only-upgrade {}", names.join(" "));
    if late.is_empty() {
        if age.is_some_and(|a| a > 14) {
            return c.unknown(format!("the package lists are {age_text}: run `apt-get update` (or turn on automatic updates) and assess again"));
        }
        return c.pass();
    }
    if age.is_some_and(|a| a > 14) {
        return c.fail(fix);
    }
    c.with_fix(fix).attest("These security updates were published at most as long ago as the package lists are old; confirm each is applied within 14 days of its release (A6.4, A6.5). Applying them now settles it.")
}

fn vulnerable(host: &Host, v: &VulnScan) -> CheckResult {
    let mut c = Check::new(
        "linux.updates.vulnerable_packages",
        Control::SecurityUpdateManagement,
        &["E3-005", "E3-006", "E3-007"],
        "No installed package has a high or critical vulnerability with a fix older than 14 days",
    )
    .auto_fail();
    let findings = match v {
        VulnScan::Unavailable(why) => return c.unknown(why.clone()),
        VulnScan::Findings(f) => f,
    };
    let late: Vec<_> = findings
        .iter()
        .filter(|f| f.ce_14_day && f.suppressed.is_none())
        .collect();
    for f in &late {
        c.ev(
            &f.package.purl.to_string(),
            None,
            format!(
                "{} {}: {} ({}), fixed in {}, published {}",
                f.package.name,
                f.package.version,
                f.id,
                f.severity,
                f.fix.upgrade_to.as_deref().unwrap_or("?"),
                f.published
                    .as_deref()
                    .and_then(|p| p.get(..10))
                    .unwrap_or("?")
            ),
        );
    }
    if late.is_empty() {
        c.ev("portcullis scan", None, format!("{} packages matched; {} known vulnerabilities, none high or critical with a fix older than 14 days", host.packages.len(), findings.len()));
        return c.pass();
    }
    let mut names: Vec<&str> = late.iter().map(|f| f.package.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let cmd = if host.exists("var/lib/dpkg/status") {
        format!(
            "apt-get update && apt-get install --only-upgrade {}",
            names.join(" ")
        )
    } else if host.exists("lib/apk/db/installed") {
        format!("apk upgrade {}", names.join(" "))
    } else {
        format!("dnf upgrade {}", names.join(" "))
    };
    c.fail(format!("Upgrade the packages listed to their fixed versions: {cmd}. If a fix is not yet in your distribution's repositories, remove the software or isolate the device until it is."))
}
