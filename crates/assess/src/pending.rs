//! Pending updates on RPM systems (dnf/yum repository metadata caches) and
//! Alpine (the APKINDEX cache), read from the files the package manager left
//! under the root: no network, no commands.
//!
//! - dnf/yum: `repodata/*primary.xml[.gz]` gives the versions available,
//!   `*updateinfo.xml[.gz]` the security advisories with their `issued`
//!   dates (the 14-day evidence), `repomd.xml` the metadata's own date.
//! - apk: `APKINDEX.*.tar.gz` is gzip streams of a tar holding the text
//!   `APKINDEX` (`P:` name, `V:` version, `t:` build time per block).

use crate::check::Check;
use crate::decompress::Form;
use crate::host::Host;
use portcullis_model::{CheckResult, Package};
use portcullis_version::Scheme;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;

const DAY: i64 = 86_400;
/// Most bytes a decompressed metadata file may take.
const LIMIT: u64 = 512 * 1024 * 1024;
/// Most evidence lines listing pending updates (the rest are counted).
const MAX_LISTED: usize = 40;

/// One pending update, with the date that bounds its age.
struct Pending<'a> {
    pkg: &'a Package,
    /// Advisory issued date (dnf) or build time (apk, primary.xml).
    date: Option<i64>,
    detail: String,
}

fn is_newer(scheme: Scheme, a: &str, b: &str) -> bool {
    scheme.compare(a, b).map(|o| o.is_gt()).unwrap_or(false)
}

/// The highest installed version of each package of this scheme.
/// Every installed package for which the cache offers a newer version,
/// dated by that version's build time.
fn newer_than_installed<'a>(
    scheme: Scheme,
    inst: &HashMap<&str, &'a Package>,
    avail: &HashMap<String, (String, Option<i64>)>,
) -> Vec<Pending<'a>> {
    let mut out = Vec::new();
    for (n, p) in inst {
        if let Some((v, built)) = avail.get(*n) {
            if is_newer(scheme, v, &p.version) {
                out.push(Pending {
                    pkg: p,
                    date: *built,
                    detail: format!(
                        "{n} {} installed; {v} available, built {}",
                        p.version,
                        built.map_or("?".to_string(), day)
                    ),
                });
            }
        }
    }
    out
}

fn installed(host: &Host, scheme: Scheme) -> HashMap<&str, &Package> {
    let mut m: HashMap<&str, &Package> = HashMap::new();
    for p in &host.packages {
        if Scheme::for_ecosystem(&p.ecosystem) != scheme {
            continue;
        }
        match m.get(p.name.as_str()) {
            Some(old) if !is_newer(scheme, &p.version, &old.version) => {}
            _ => {
                m.insert(p.name.as_str(), p);
            }
        }
    }
    m
}

fn day(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|x| x.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Where the metadata is and the commands to refresh it and to fix.
#[derive(Clone, Copy)]
struct How<'s> {
    what: &'s str,
    refresh: &'s str,
    fix_cmd: &'s str,
}

/// Decide from the pending list: late (dated more than 14 days ago) → fail;
/// pending → attest; nothing pending on stale data → unknown; else pass.
fn conclude(
    mut c: Check,
    mut pending: Vec<Pending<'_>>,
    now: i64,
    data_date: Option<i64>,
    damaged: bool,
    how: &How<'_>,
) -> CheckResult {
    let How {
        what,
        refresh,
        fix_cmd,
    } = *how;
    let age = data_date.map(|d| (now - d).max(0) / DAY);
    let age_text = age.map_or("of unknown age".to_string(), |a| format!("{a} days old"));
    c.ev(what, None, format!("the cached metadata is {age_text}"));
    pending.sort_by(|a, b| a.date.cmp(&b.date).then(a.pkg.name.cmp(&b.pkg.name)));
    let late = pending
        .iter()
        .filter(|p| p.date.is_some_and(|d| now - d > 14 * DAY))
        .count();
    for p in pending.iter().take(MAX_LISTED) {
        c.ev(&p.pkg.purl.to_string(), None, p.detail.clone());
    }
    if pending.len() > MAX_LISTED {
        c.ev(
            what,
            None,
            format!("… and {} more pending", pending.len() - MAX_LISTED),
        );
    }
    if pending.is_empty() {
        if damaged {
            return c.unknown(format!("nothing is pending in what could be read, but some cached metadata is damaged (see the evidence): run `{refresh}` and assess again"));
        }
        if age.is_some_and(|a| a > 14) {
            return c.unknown(format!("nothing is pending, but the cached metadata is {age_text}: run `{refresh}` (or turn on automatic updates) and assess again"));
        }
        return c.pass();
    }
    let mut names: Vec<&str> = pending.iter().map(|p| p.pkg.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.truncate(MAX_LISTED);
    let fix = format!(
        "Install the pending updates now: {fix_cmd} {}",
        names.join(" ")
    );
    if late > 0 {
        c.ev(
            what,
            None,
            format!(
                "{late} of {} pending updates are dated more than 14 days ago",
                pending.len()
            ),
        );
        return c.fail(fix);
    }
    c.with_fix(fix).attest("No pending update is known to be more than 14 days old (its advisory or build date is recent or missing): confirm each is applied within 14 days of its release (A6.4, A6.5). Applying them now settles it.")
}

// ---------------------------------------------------------------- dnf / yum

#[derive(Default)]
struct Advisory {
    id: String,
    severity: String,
    issued: Option<i64>,
    security: bool,
    /// (name, epoch:version-release)
    packages: Vec<(String, String)>,
}

/// `epoch:version-release`, the epoch left out when absent or 0 (as ospkg writes it).
fn evr(epoch: &str, ver: &str, rel: &str) -> String {
    let mut s = String::with_capacity(epoch.len() + ver.len() + rel.len() + 2);
    if !epoch.is_empty() && epoch != "0" {
        s.push_str(epoch);
        s.push(':');
    }
    s.push_str(ver);
    if !rel.is_empty() {
        s.push('-');
        s.push_str(rel);
    }
    s
}

/// `2024-03-01 10:00:00`, `2024-03-01` or Unix seconds.
fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let d: jiff::civil::Date = s.get(..10)?.parse().ok()?;
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> String {
    for a in e.attributes().flatten() {
        if a.key.local_name().as_ref().as_bytes() == key {
            return a.value.into_owned();
        }
    }
    String::new()
}

/// Available versions from a `primary.xml`: name → (highest evr, build time).
pub(crate) fn parse_primary(
    text: &str,
    into: &mut HashMap<String, (String, Option<i64>)>,
) -> (usize, Option<String>) {
    let mut r = Reader::from_str(text);
    let mut depth = 0usize;
    let mut pkg_depth: Option<usize> = None;
    let mut field: Option<&'static str> = None;
    let (mut name, mut arch, mut version, mut built) =
        (String::new(), String::new(), String::new(), None);
    let mut count = 0;
    loop {
        let ev = match r.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let why = format!(
                    "invalid XML at byte {}: {e}; the rest is not read",
                    r.error_position()
                );
                return (count, Some(why));
            }
        };
        match ev {
            Event::Start(e) => {
                depth += 1;
                let ln = e.local_name();
                let ln = ln.as_ref().as_bytes();
                if ln == b"package" && pkg_depth.is_none() {
                    pkg_depth = Some(depth);
                    name.clear();
                    arch.clear();
                    version.clear();
                    built = None;
                } else if pkg_depth == Some(depth - 1) {
                    field = match ln {
                        b"name" => Some("name"),
                        b"arch" => Some("arch"),
                        _ => None,
                    };
                    version_time(&e, ln, &mut version, &mut built);
                }
            }
            Event::Empty(e) if pkg_depth == Some(depth) => {
                let ln = e.local_name();
                version_time(&e, ln.as_ref().as_bytes(), &mut version, &mut built);
            }
            Event::Text(t) => match field {
                Some("name") if name.len() < 256 => name.push_str(&t),
                Some("arch") if arch.len() < 64 => arch.push_str(&t),
                _ => {}
            },
            Event::End(_) => {
                field = None;
                if pkg_depth == Some(depth) {
                    pkg_depth = None;
                    let n = name.trim();
                    if !n.is_empty() && !version.is_empty() && arch.trim() != "src" {
                        count += 1;
                        let newer = into
                            .get(n)
                            .is_none_or(|(old, _)| is_newer(Scheme::Rpm, &version, old));
                        if newer {
                            into.insert(n.to_string(), (version.clone(), built));
                        }
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (count, None)
}

fn version_time(e: &BytesStart<'_>, ln: &[u8], version: &mut String, built: &mut Option<i64>) {
    if ln == b"version" {
        *version = evr(&attr(e, b"epoch"), &attr(e, b"ver"), &attr(e, b"rel"));
    } else if ln == b"time" {
        *built = attr(e, b"build").trim().parse().ok();
    }
}

/// Security advisories from an `updateinfo.xml` (other types are skipped).
fn parse_updateinfo(text: &str, into: &mut Vec<Advisory>) -> (usize, Option<String>) {
    let mut r = Reader::from_str(text);
    let mut cur: Option<Advisory> = None;
    let mut field: Option<&'static str> = None;
    let mut count = 0;
    loop {
        let ev = match r.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let why = format!(
                    "invalid XML at byte {}: {e}; the rest is not read",
                    r.error_position()
                );
                return (count, Some(why));
            }
        };
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let ln = e.local_name();
                match ln.as_ref().as_bytes() {
                    b"update" => {
                        count += 1;
                        cur = Some(Advisory {
                            security: attr(&e, b"type").eq_ignore_ascii_case("security"),
                            ..Advisory::default()
                        });
                    }
                    b"id" => field = Some("id"),
                    b"severity" => field = Some("severity"),
                    b"issued" => {
                        if let Some(a) = cur.as_mut() {
                            a.issued = parse_date(&attr(&e, b"date"));
                        }
                    }
                    b"package" => {
                        if let Some(a) = cur.as_mut().filter(|a| a.security) {
                            let n = attr(&e, b"name");
                            let v = evr(
                                &attr(&e, b"epoch"),
                                &attr(&e, b"version"),
                                &attr(&e, b"release"),
                            );
                            if !n.is_empty() && !a.packages.iter().any(|(x, y)| *x == n && *y == v)
                            {
                                a.packages.push((n, v));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(a) = cur.as_mut() {
                    match field {
                        Some("id") if a.id.len() < 128 => a.id.push_str(t.trim()),
                        Some("severity") if a.severity.len() < 64 => a.severity.push_str(t.trim()),
                        _ => {}
                    }
                }
            }
            Event::End(e) => {
                field = None;
                if e.local_name().as_ref().as_bytes() == b"update" {
                    if let Some(a) = cur.take().filter(|a| a.security && !a.packages.is_empty()) {
                        into.push(a);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (count, None)
}

/// `<timestamp>` values of a repomd.xml (the newest is the metadata's date).
fn repomd_date(text: &str) -> Option<i64> {
    let mut best: Option<i64> = None;
    let mut rest = text;
    while let Some(i) = rest.find("<timestamp>") {
        rest = rest.get(i + 11..).unwrap_or("");
        let end = rest.find('<').unwrap_or(rest.len());
        if let Some(t) = rest
            .get(..end)
            .and_then(|s| s.trim().split('.').next())
            .and_then(|s| s.parse::<i64>().ok())
        {
            best = Some(best.map_or(t, |b| b.max(t)));
        }
    }
    best
}

/// Decompress by the file's name (gzip, xz, zstd, bzip2, zchunk) or pass
/// through; a damaged stream keeps what was decompressed before the damage.
fn decompress(name: &str, raw: Vec<u8>) -> (Vec<u8>, Option<String>) {
    crate::decompress::decompress(Form::of(name), raw, LIMIT)
}

/// Most packages read from one SQLite primary database.
const MAX_SQLITE_ROWS: usize = 4_000_000;

/// Available versions from a yum/createrepo `primary.sqlite` (its
/// `packages` table), decompressed into memory: nothing is written.
pub(crate) fn parse_primary_sqlite(
    bytes: &[u8],
    into: &mut HashMap<String, (String, Option<i64>)>,
) -> Result<usize, String> {
    use rusqlite::types::ValueRef;
    fn text(v: ValueRef<'_>) -> String {
        match v {
            ValueRef::Text(t) => String::from_utf8_lossy(t).chars().take(256).collect(),
            ValueRef::Integer(i) => i.to_string(),
            _ => String::new(),
        }
    }
    let err = |e: rusqlite::Error| format!("not a readable SQLite primary database: {e}");
    let mut db = rusqlite::Connection::open_in_memory().map_err(err)?;
    db.deserialize_read_exact("main", bytes, bytes.len(), true)
        .map_err(err)?;
    // Views and triggers in an untrusted file may not call functions.
    db.pragma_update(None, "trusted_schema", false)
        .map_err(err)?;
    let mut st = db
        .prepare("SELECT name, arch, epoch, version, release, time_build FROM packages")
        .map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    let mut count = 0usize;
    while let Some(r) = rows.next().map_err(err)? {
        if count >= MAX_SQLITE_ROWS {
            return Err(format!(
                "more than {MAX_SQLITE_ROWS} packages; the rest is not read"
            ));
        }
        let col = |i: usize| r.get_ref(i).map(text).unwrap_or_default();
        let (name, arch) = (col(0), col(1));
        let version = evr(&col(2), &col(3), &col(4));
        let built = r.get_ref(5).ok().and_then(|v| v.as_i64().ok());
        let name = name.trim();
        if name.is_empty() || arch == "src" || version.is_empty() {
            continue;
        }
        count += 1;
        if into
            .get(name)
            .is_none_or(|(old, _)| is_newer(Scheme::Rpm, &version, old))
        {
            into.insert(name.to_string(), (version, built));
        }
    }
    Ok(count)
}

fn text_of(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// The directories that hold dnf/yum repository metadata.
fn repo_dirs(host: &Host) -> Vec<String> {
    let mut out = Vec::new();
    for base in ["var/cache/dnf", "var/cache/libdnf5"] {
        for e in host.list_dir(base) {
            let d = format!("{base}/{e}/repodata");
            if !host.list_dir(&d).is_empty() {
                out.push(d);
            }
        }
    }
    // yum: /var/cache/yum/$basearch/$releasever/$repo/{,gen/}
    for a in host.list_dir("var/cache/yum") {
        for b in host.list_dir(&format!("var/cache/yum/{a}")) {
            for r in host.list_dir(&format!("var/cache/yum/{a}/{b}")) {
                let d = format!("var/cache/yum/{a}/{b}/{r}");
                for sub in [d.clone(), format!("{d}/gen"), format!("{d}/repodata")] {
                    if !host.list_dir(&sub).is_empty() {
                        out.push(sub);
                    }
                }
            }
        }
    }
    out
}

pub(crate) fn rpm(host: &Host, now: i64, mut c: Check) -> CheckResult {
    let yum = host.list_dir("var/cache/dnf").is_empty()
        && host.list_dir("var/cache/libdnf5").is_empty()
        && !host.list_dir("var/cache/yum").is_empty();
    let tool = if yum { "yum" } else { "dnf" };
    // dnf5 (Fedora 41+) caches under /var/cache/libdnf5.
    let cache_dir = if yum {
        "/var/cache/yum".to_string()
    } else if host.list_dir("var/cache/dnf").is_empty() {
        "/var/cache/libdnf5".to_string()
    } else {
        "/var/cache/dnf".to_string()
    };
    let mut avail: HashMap<String, (String, Option<i64>)> = HashMap::new();
    let mut advisories: Vec<Advisory> = Vec::new();
    let (mut primaries, mut infos) = (0usize, 0usize);
    let mut unsupported: Vec<String> = Vec::new();
    let mut date: Option<i64> = None;
    let mut seen = 0usize;
    let mut damaged = false;
    for dir in repo_dirs(host) {
        for f in host.list_dir(&dir) {
            let rel = format!("{dir}/{f}");
            if f == "repomd.xml" {
                // The newer of the repository's own timestamp and the time
                // it was fetched: both say the state is known as of then.
                let server = host.read(&rel).text().and_then(repomd_date);
                if let Some(d) = server.max(host.mtime(&rel)) {
                    date = Some(date.map_or(d, |x: i64| x.max(d)));
                }
                continue;
            }
            let primary = f.contains("primary") && f.contains(".xml");
            let info = f.contains("updateinfo") && f.contains(".xml");
            let sqlite = f.contains("primary") && f.contains("sqlite");
            if !(primary || info || sqlite) {
                continue;
            }
            let known =
                f.ends_with(".xml") || f.ends_with(".sqlite") || Form::of(&f) != Form::Plain;
            if !known {
                unsupported.push(format!("/{rel}"));
                continue;
            }
            let raw = match host.read_bytes(&rel) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(w) => return c.unknown(format!("/{rel}: {w}")),
            };
            seen += 1;
            let (bytes, note) = decompress(&f, raw);
            if let Some(n) = note {
                damaged = true;
                c.ev(&format!("/{rel}"), None, n);
            }
            if sqlite {
                match parse_primary_sqlite(&bytes, &mut avail) {
                    Ok(n) => {
                        primaries += usize::from(n > 0);
                        c.ev(&format!("/{rel}"), None, format!("{n} packages available"));
                    }
                    Err(e) => {
                        damaged = true;
                        c.ev(&format!("/{rel}"), None, e);
                    }
                }
                continue;
            }
            let text = text_of(&bytes);
            let (n, err) = if primary {
                let (n, e) = parse_primary(&text, &mut avail);
                primaries += usize::from(n > 0);
                (format!("{n} packages available"), e)
            } else {
                let (n, e) = parse_updateinfo(&text, &mut advisories);
                infos += usize::from(n > 0 || e.is_none());
                (format!("{n} advisories"), e)
            };
            damaged |= err.is_some();
            c.ev(&format!("/{rel}"), None, err.unwrap_or(n));
        }
    }
    let how = format!(
        "run `{tool} updateinfo list --security` and apply what it lists (`{tool} upgrade --security`)"
    );
    if primaries == 0 && infos == 0 {
        if !unsupported.is_empty() {
            return c.unknown(format!(
                "the cached repository metadata ({}) is in a form not read (only uncompressed, gzip, xz, zstd, bzip2 and zchunk XML and SQLite are): {how}",
                unsupported.join(", ")
            ));
        }
        if seen > 0 {
            return c.unknown(format!(
                "the cached repository metadata could not be read (see the evidence): {how}"
            ));
        }
        return c.unknown(format!("no dnf/yum repository metadata is cached under /var/cache/dnf, /var/cache/libdnf5 or /var/cache/yum: {how}"));
    }
    let inst = installed(host, Scheme::Rpm);
    let mut pending = Vec::new();
    if infos > 0 {
        let sec = advisories.len();
        c.ev(
            "updateinfo",
            None,
            format!("{sec} security advisories read"),
        );
        for a in &advisories {
            for (n, v) in &a.packages {
                let Some(p) = inst.get(n.as_str()) else {
                    continue;
                };
                if !is_newer(Scheme::Rpm, v, &p.version) {
                    continue;
                }
                let sev = if a.severity.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", a.severity)
                };
                pending.push(Pending {
                    pkg: p,
                    date: a.issued,
                    detail: format!(
                        "{n} {} installed; {v} fixes it in {}{sev}, issued {}",
                        p.version,
                        a.id,
                        a.issued.map_or("?".to_string(), day)
                    ),
                });
            }
        }
        return conclude(
            c,
            pending,
            now,
            date,
            damaged,
            &How {
                what: &cache_dir,
                refresh: &format!("{tool} makecache"),
                fix_cmd: &format!("{tool} upgrade --security"),
            },
        );
    }
    // No updateinfo: the repository publishes no advisories; every pending
    // update counts, dated by its build time.
    c.ev(
        &cache_dir,
        None,
        "no security advisories (updateinfo) are cached: every pending update is counted, dated by its build time",
    );
    pending.extend(newer_than_installed(Scheme::Rpm, &inst, &avail));
    conclude(
        c,
        pending,
        now,
        date,
        damaged,
        &How {
            what: &cache_dir,
            refresh: &format!("{tool} makecache"),
            fix_cmd: &format!("{tool} upgrade"),
        },
    )
}

// ---------------------------------------------------------------- apk

fn octal(b: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(b).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// Find a regular file in a tar stream (apk's index is a signature tar
/// segment without an end marker followed by the index tar, so zero blocks
/// are skipped rather than taken as the end). Returns its data and mtime.
pub(crate) fn tar_find<'a>(data: &'a [u8], want: &str) -> Result<(&'a [u8], Option<i64>), String> {
    let mut off = 0usize;
    while let Some(h) = data.get(off..off + 512) {
        if h.iter().all(|&b| b == 0) {
            off += 512;
            continue;
        }
        let name_field = h.get(..100).unwrap_or(&[]);
        let end = name_field.iter().position(|&b| b == 0).unwrap_or(100);
        let name = name_field.get(..end).unwrap_or(&[]);
        let size = octal(h.get(124..136).unwrap_or(&[]))
            .ok_or_else(|| format!("bad tar header at byte {off}"))?;
        let mtime = octal(h.get(136..148).unwrap_or(&[])).and_then(|m| i64::try_from(m).ok());
        let typ = h.get(156).copied().unwrap_or(0);
        let size = usize::try_from(size).map_err(|_| "tar entry too large".to_string())?;
        let start = off + 512;
        let stop = start
            .checked_add(size)
            .filter(|&s| s <= data.len())
            .ok_or_else(|| format!("truncated tar entry at byte {off}"))?;
        if (typ == b'0' || typ == 0) && name == want.as_bytes() {
            return Ok((data.get(start..stop).unwrap_or(&[]), mtime));
        }
        off = start + size.div_ceil(512) * 512;
    }
    Err(format!("no {want} entry in the archive"))
}

/// `P:`/`V:`/`t:` blocks of an APKINDEX: name → (highest version, build time).
pub(crate) fn parse_apkindex(
    text: &str,
    into: &mut HashMap<String, (String, Option<i64>)>,
) -> usize {
    let mut count = 0;
    let (mut name, mut ver, mut built): (Option<&str>, Option<&str>, Option<i64>) =
        (None, None, None);
    let mut flush = |n: &mut Option<&str>, v: &mut Option<&str>, t: &mut Option<i64>| {
        if let (Some(a), Some(b)) = (n.take(), v.take()) {
            count += 1;
            if into
                .get(a)
                .is_none_or(|(old, _)| is_newer(Scheme::Alpine, b, old))
            {
                into.insert(a.to_string(), (b.to_string(), *t));
            }
        }
        *t = None;
    };
    for l in text.lines() {
        if l.is_empty() {
            flush(&mut name, &mut ver, &mut built);
        } else if let Some(v) = l.strip_prefix("P:") {
            name = Some(v.trim());
        } else if let Some(v) = l.strip_prefix("V:") {
            ver = Some(v.trim());
        } else if let Some(v) = l.strip_prefix("t:") {
            built = v.trim().parse().ok();
        }
    }
    flush(&mut name, &mut ver, &mut built);
    count
}

pub(crate) fn apk(host: &Host, now: i64, mut c: Check) -> CheckResult {
    let mut files = Vec::new();
    for dir in ["var/cache/apk", "etc/apk/cache"] {
        for f in host.list_dir(dir) {
            if f.starts_with("APKINDEX.") && f.ends_with(".tar.gz") {
                files.push(format!("{dir}/{f}"));
            }
        }
    }
    let how = "run `apk update && apk upgrade --simulate` and apply what it lists (`apk upgrade`)";
    if files.is_empty() {
        return c.unknown(format!("no APKINDEX is cached in /var/cache/apk: {how}"));
    }
    let mut avail: HashMap<String, (String, Option<i64>)> = HashMap::new();
    let mut read = 0;
    let mut damaged = false;
    let mut date: Option<i64> = None;
    for rel in &files {
        let raw = match host.read_bytes(rel) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(w) => return c.unknown(format!("/{rel}: {w}")),
        };
        let (bytes, note) = crate::decompress::decompress(Form::Gzip, raw, LIMIT);
        if let Some(n) = note {
            damaged = true;
            c.ev(&format!("/{rel}"), None, n);
        }
        match tar_find(&bytes, "APKINDEX") {
            Ok((index, mtime)) => {
                let n = parse_apkindex(&text_of(index), &mut avail);
                read += 1;
                c.ev(&format!("/{rel}"), None, format!("{n} packages available"));
                // The newer of the index's build time and the time it was fetched.
                if let Some(d) = mtime.filter(|&m| m > 0).max(host.mtime(rel)) {
                    date = Some(date.map_or(d, |x: i64| x.max(d)));
                }
            }
            Err(w) => {
                damaged = true;
                c.ev(&format!("/{rel}"), None, w);
            }
        }
    }
    if read == 0 {
        return c.unknown(format!(
            "no cached APKINDEX could be read (see the evidence): {how}"
        ));
    }
    c.ev(
        "/var/cache/apk",
        None,
        "Alpine's index has no security flag: every pending update is counted, dated by its build time (t:)",
    );
    let inst = installed(host, Scheme::Alpine);
    let pending = newer_than_installed(Scheme::Alpine, &inst, &avail);
    conclude(
        c,
        pending,
        now,
        date,
        damaged,
        &How {
            what: "/var/cache/apk",
            refresh: "apk update",
            fix_cmd: "apk update && apk add --upgrade",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_in_the_three_updateinfo_forms() {
        assert_eq!(parse_date("2024-01-10 00:00:00"), Some(1_704_844_800));
        assert_eq!(parse_date("2024-01-10"), Some(1_704_844_800));
        assert_eq!(parse_date("1704844800"), Some(1_704_844_800));
        assert_eq!(parse_date("soon"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn evr_leaves_out_epoch_zero() {
        assert_eq!(evr("0", "2.32.1", "44.el8_9"), "2.32.1-44.el8_9");
        assert_eq!(evr("1", "3.0.7", "1.el9"), "1:3.0.7-1.el9");
        assert_eq!(evr("", "1", ""), "1");
    }

    #[test]
    fn tar_entry_past_the_end_is_an_error() {
        let mut h = vec![0u8; 512];
        h[..8].copy_from_slice(b"APKINDEX");
        h[124..135].copy_from_slice(b"00000001000");
        h[156] = b'0';
        assert!(tar_find(&h, "APKINDEX")
            .unwrap_err()
            .starts_with("truncated tar entry"));
        h.extend_from_slice(&[b'P'; 512]);
        assert_eq!(tar_find(&h, "APKINDEX").unwrap().0.len(), 512);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let text = String::from_utf8_lossy(&data);
            let mut m = HashMap::new();
            let _ = parse_primary(&text, &mut m);
            let _ = parse_apkindex(&text, &mut m);
            let _ = parse_updateinfo(&text, &mut Vec::new());
            let _ = tar_find(&data, "APKINDEX");
            let _ = repomd_date(&text);
            let _ = decompress(".gz", data.clone());
        }

        #[test]
        fn xml_shapes_never_panic(parts in proptest::collection::vec(prop_oneof![
            Just("<package>"), Just("</package>"), Just("<name>"), Just("</name>"),
            Just("<version epoch=\"1\" ver=\"2\" rel=\"3\"/>"), Just("<time build=\"x\"/>"),
            Just("<update type=\"security\">"), Just("</update>"), Just("<id>"), Just("</id>"),
            Just("<package name=\"a\" version=\"1\"/>"), Just("<issued date=\"2024-13-45\"/>"),
            Just("text"), Just("<timestamp>"), Just("</timestamp>"),
        ], 0..64)) {
            let text = parts.concat();
            let _ = parse_primary(&text, &mut HashMap::new());
            let _ = parse_updateinfo(&text, &mut Vec::new());
            let _ = repomd_date(&text);
        }
    }
}
