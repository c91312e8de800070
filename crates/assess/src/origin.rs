//! Where installed RPM and apk packages come from, for the
//! unsupported-software check: the RPM header's Vendor tag, dnf's enabled
//! module streams (RHEL application streams), and apk's repository pins
//! (`name@tag` in `/etc/apk/world`, `@tag URL` in `/etc/apk/repositories`).
//! Read only; nothing is written (SQLite is opened `mode=ro&immutable=1`).

use crate::host::Host;
use std::collections::HashMap;
use std::path::Path;

/// Most header blobs read from one rpmdb.
const MAX_HEADERS: usize = 200_000;

/// Package name → RPM Vendor, from the rpmdb under the root (SQLite, NDB or
/// Berkeley DB, via `portcullis-ospkg`'s parsers), with notes on what could
/// not be read.
pub(crate) fn rpm_vendors(host: &Host) -> (HashMap<String, String>, Vec<String>) {
    let mut out = HashMap::new();
    let mut notes = Vec::new();
    for dir in ["usr/lib/sysimage/rpm", "var/lib/rpm"] {
        let blobs: Vec<Vec<u8>> = if let Some(p) = host
            .resolve(&format!("{dir}/rpmdb.sqlite"))
            .filter(|p| p.is_file())
        {
            match sqlite_blobs(&p) {
                Ok(b) => b,
                Err(e) => {
                    notes.push(format!("/{dir}/rpmdb.sqlite: {e}"));
                    continue;
                }
            }
        } else if let Ok(Some(raw)) = host.read_bytes(&format!("{dir}/Packages.db")) {
            portcullis_ospkg::read_ndb(&raw)
                .0
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect()
        } else if let Ok(Some(raw)) = host.read_bytes(&format!("{dir}/Packages")) {
            portcullis_ospkg::read_bdb_hash(&raw).0
        } else {
            continue;
        };
        for b in blobs.iter().take(MAX_HEADERS) {
            if let Ok(h) = portcullis_ospkg::parse_rpm_header(b) {
                if let Some(v) = h.vendor.filter(|v| !v.trim().is_empty()) {
                    out.insert(h.name, v.trim().to_string());
                }
            }
        }
        break;
    }
    (out, notes)
}

/// The header blobs of an SQLite rpmdb, opened read-only and immutable.
fn sqlite_blobs(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    use rusqlite::{Connection, OpenFlags};
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let err = |e: rusqlite::Error| e.to_string();
    let db = Connection::open_with_flags(sqlite_uri(path), flags).map_err(err)?;
    db.pragma_update(None, "trusted_schema", false)
        .map_err(err)?;
    let mut st = db.prepare("SELECT blob FROM Packages").map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(err)? {
        if out.len() >= MAX_HEADERS {
            break;
        }
        if let Ok(b) = r.get::<_, Vec<u8>>(0) {
            out.push(b);
        }
    }
    Ok(out)
}

/// A `file:` URI with the path percent-encoded, read-only and immutable (no
/// journal, WAL or lock file is created).
fn sqlite_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    let s = path.to_string_lossy();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    uri
}

/// The repository each installed RPM came from, as dnf recorded it: dnf5's
/// system state (`usr/lib/sysimage/libdnf5/nevras.toml`, `"NEVRA" =
/// {from_repo = "…"}`), else dnf4's history database
/// (`var/lib/dnf/history.sqlite`: the last done install, upgrade, downgrade
/// or reinstall of each NEVRA). Keyed by package name and
/// `epoch:version-release` (epoch left out when 0, as the installed
/// packages' versions are). Returns the repositories and the source file.
pub(crate) fn rpm_from_repo(host: &Host) -> (HashMap<(String, String), String>, Option<String>) {
    let dnf5 = "usr/lib/sysimage/libdnf5/nevras.toml";
    let read = host.read(dnf5);
    if let Some(text) = read.text() {
        let mut out = HashMap::new();
        if let Ok(v) = toml::from_str::<toml::Table>(text) {
            if let Some(t) = v.get("nevras").and_then(|n| n.as_table()) {
                for (nevra, st) in t.iter().take(MAX_HEADERS) {
                    let repo = st.get("from_repo").and_then(|r| r.as_str()).unwrap_or("");
                    if let (Some(k), false) = (split_nevra(nevra), repo.is_empty()) {
                        out.insert(k, repo.to_string());
                    }
                }
            }
        }
        return (out, Some(format!("/{dnf5}")));
    }
    let dnf4 = "var/lib/dnf/history.sqlite";
    if let Some(p) = host.resolve(dnf4).filter(|p| p.is_file()) {
        if let Ok(out) = dnf4_history(&p) {
            return (out, Some(format!("/{dnf4}")));
        }
    }
    (HashMap::new(), None)
}

/// `name-[epoch:]version-release.arch` → (name, `[epoch:]version-release`).
fn split_nevra(nevra: &str) -> Option<(String, String)> {
    let (nevr, _arch) = nevra.rsplit_once('.')?;
    let (nev, rel) = nevr.rsplit_once('-')?;
    let (name, ver) = nev.rsplit_once('-')?;
    let ver = ver.strip_prefix("0:").unwrap_or(ver);
    if name.is_empty() || ver.is_empty() || rel.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{ver}-{rel}")))
}

/// dnf4 (libdnf swdb) history: name, evr → repoid of the last completed
/// transaction item that put that NEVRA on the system.
fn dnf4_history(path: &Path) -> Result<HashMap<(String, String), String>, String> {
    use rusqlite::{Connection, OpenFlags};
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let err = |e: rusqlite::Error| e.to_string();
    let db = Connection::open_with_flags(sqlite_uri(path), flags).map_err(err)?;
    db.pragma_update(None, "trusted_schema", false)
        .map_err(err)?;
    // Older schemas mark completion with `done`, newer ones with `state` (1 = done).
    let mut cols = Vec::new();
    {
        let mut st = db.prepare("PRAGMA table_info(trans_item)").map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            if let Ok(n) = r.get::<_, String>(1) {
                cols.push(n);
            }
        }
    }
    let done = if cols.iter().any(|c| c == "state") {
        "AND ti.state = 1"
    } else if cols.iter().any(|c| c == "done") {
        "AND ti.done = 1"
    } else {
        ""
    };
    // Actions: 1 install, 2 downgrade, 6 upgrade, 9 reinstall.
    let sql = format!(
        "SELECT r.name, r.epoch, r.version, r.release, repo.repoid FROM trans_item ti \
         JOIN rpm r ON r.item_id = ti.item_id JOIN repo ON repo.id = ti.repo_id \
         WHERE ti.action IN (1, 2, 6, 9) {done} ORDER BY ti.id"
    );
    let mut st = db.prepare(&sql).map_err(err)?;
    let mut rows = st.query([]).map_err(err)?;
    let mut out = HashMap::new();
    let mut n = 0usize;
    while let Some(r) = rows.next().map_err(err)? {
        n += 1;
        if n > MAX_HEADERS * 4 {
            break;
        }
        let text = |i: usize| -> String {
            match r.get_ref(i) {
                Ok(rusqlite::types::ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                Ok(rusqlite::types::ValueRef::Integer(v)) => v.to_string(),
                _ => String::new(),
            }
        };
        let (name, epoch, ver, rel, repo) = (text(0), text(1), text(2), text(3), text(4));
        if name.is_empty() || ver.is_empty() || repo.is_empty() {
            continue;
        }
        let evr = if epoch.is_empty() || epoch == "0" {
            format!("{ver}-{rel}")
        } else {
            format!("{epoch}:{ver}-{rel}")
        };
        out.insert((name, evr), repo);
    }
    Ok(out)
}

/// One enabled dnf module stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ModuleStream {
    pub name: String,
    pub stream: String,
    /// The file that enables it (for evidence).
    pub file: String,
}

/// Enabled module streams from `/etc/dnf/modules.d/*.module` (dnf's INI
/// state files: `[php]`, `name=php`, `stream=7.4`, `state=enabled`).
pub(crate) fn enabled_modules(host: &Host) -> Vec<ModuleStream> {
    let mut out = Vec::new();
    // dnf5: usr/lib/sysimage/libdnf5/modules.toml, `[modules.NAME]` with
    // `enabled_stream` and `state = "Enabled"`.
    let dnf5 = "usr/lib/sysimage/libdnf5/modules.toml";
    let read5 = host.read(dnf5);
    if let Some(t) = read5
        .text()
        .and_then(|t| toml::from_str::<toml::Table>(t).ok())
    {
        if let Some(m) = t.get("modules").and_then(|m| m.as_table()) {
            for (name, st) in m.iter().take(1024) {
                let stream = st
                    .get("enabled_stream")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                let state = st.get("state").and_then(|v| v.as_str()).unwrap_or("");
                if !stream.is_empty() && state.eq_ignore_ascii_case("enabled") {
                    out.push(ModuleStream {
                        name: name.clone(),
                        stream: stream.to_string(),
                        file: format!("/{dnf5}"),
                    });
                }
            }
        }
    }
    let dir = "etc/dnf/modules.d";
    let mut files = host.list_dir(dir);
    files.sort();
    for f in files.iter().filter(|f| f.ends_with(".module")) {
        let rel = format!("{dir}/{f}");
        let read = host.read(&rel);
        let Some(text) = read.text() else {
            continue;
        };
        let mut cur: Option<(String, String, String)> = None; // name, stream, state
        let mut flush = |c: &mut Option<(String, String, String)>| {
            if let Some((n, s, st)) = c.take() {
                if !n.is_empty() && !s.is_empty() && st.eq_ignore_ascii_case("enabled") {
                    out.push(ModuleStream {
                        name: n,
                        stream: s,
                        file: format!("/{rel}"),
                    });
                }
            }
        };
        for l in text.lines() {
            let l = l.trim();
            if let Some(sec) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                flush(&mut cur);
                cur = Some((sec.trim().to_string(), String::new(), String::new()));
            } else if let (Some(c), Some((k, v))) = (cur.as_mut(), l.split_once('=')) {
                let v = v.trim().chars().take(64).collect::<String>();
                match k.trim() {
                    "name" if !v.is_empty() => c.0 = v,
                    "stream" => c.1 = v,
                    "state" => c.2 = v,
                    _ => {}
                }
            }
        }
        flush(&mut cur);
    }
    out
}

/// apk packages pinned to a tagged repository: name → (tag, URL), from
/// `/etc/apk/world` (`name@tag`, with an optional version constraint) and
/// `/etc/apk/repositories` (`@tag URL`).
pub(crate) fn apk_pins(host: &Host) -> HashMap<String, (String, String)> {
    let mut tags: HashMap<String, String> = HashMap::new();
    let repos = host.read("etc/apk/repositories");
    if let Some(t) = repos.text() {
        for l in t.lines() {
            let l = l.trim();
            if let Some(rest) = l.strip_prefix('@') {
                if let Some((tag, url)) = rest.split_once(char::is_whitespace) {
                    tags.insert(tag.to_string(), url.trim().to_string());
                }
            }
        }
    }
    let mut out = HashMap::new();
    let world = host.read("etc/apk/world");
    if let Some(t) = world.text() {
        for w in t.split_whitespace() {
            let Some((name, tag)) = w.split_once('@') else {
                continue;
            };
            // `php7@community>7.4` or `php7>7.4@community`: cut constraints.
            let cut = |s: &str| -> String {
                s.split(['<', '>', '=', '~'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            let (name, tag) = (cut(name), cut(tag));
            let url = tags
                .get(&tag)
                .cloned()
                .unwrap_or_else(|| "(tag not defined in /etc/apk/repositories)".into());
            if !name.is_empty() {
                out.insert(name, (tag, url));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_state_files_and_apk_pins() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("etc/dnf/modules.d");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(
            m.join("php.module"),
            "[php]\nname=php\nstream=7.4\nprofiles=\nstate=enabled\n",
        )
        .unwrap();
        std::fs::write(
            m.join("nodejs.module"),
            "[nodejs]\nname=nodejs\nstream=18\nprofiles=\nstate=disabled\n",
        )
        .unwrap();
        std::fs::write(m.join("junk.module"), "[x\nstream\n=\n[]\nstate=enabled").unwrap();
        let a = d.path().join("etc/apk");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::write(
            a.join("repositories"),
            "https://dl-cdn.alpinelinux.org/alpine/v3.16/main\n@testing https://dl-cdn.alpinelinux.org/alpine/edge/testing\n",
        )
        .unwrap();
        std::fs::write(
            a.join("world"),
            "alpine-base\nphp7@testing>7.4\nfoo@nowhere\n",
        )
        .unwrap();
        let host = Host::open_with(d.path(), false);
        assert_eq!(
            enabled_modules(&host),
            [ModuleStream {
                name: "php".into(),
                stream: "7.4".into(),
                file: "/etc/dnf/modules.d/php.module".into()
            }]
        );
        let pins = apk_pins(&host);
        assert_eq!(
            pins.get("php7").map(|(t, u)| (t.as_str(), u.as_str())),
            Some((
                "testing",
                "https://dl-cdn.alpinelinux.org/alpine/edge/testing"
            ))
        );
        assert!(pins.get("foo").unwrap().1.contains("not defined"));
        assert_eq!(pins.len(), 2);
    }

    #[test]
    fn nevra_strings() {
        let k = |s: &str| split_nevra(s).map(|(a, b)| format!("{a} {b}"));
        assert_eq!(
            k("bash-5.2.26-3.fc40.x86_64").as_deref(),
            Some("bash 5.2.26-3.fc40")
        );
        assert_eq!(
            k("make-1:4.4.1-8.fc43.x86_64").as_deref(),
            Some("make 1:4.4.1-8.fc43")
        );
        assert_eq!(k("a-b-c-0:1-2.noarch").as_deref(), Some("a-b-c 1-2"));
        assert_eq!(
            k("nodejs-1:18.20.4-1.module+el9.4.0+24.x86_64").as_deref(),
            Some("nodejs 1:18.20.4-1.module+el9.4.0+24")
        );
        assert_eq!(k("x.y"), None);
        assert_eq!(k("-1-2.x"), None);
    }

    proptest::proptest! {
        #[test]
        fn nevra_split_never_panics(s in "\\PC{0,64}") {
            let _ = split_nevra(&s);
        }
    }

    #[test]
    fn damaged_state_files_are_ignored() {
        let d = tempfile::tempdir().unwrap();
        let st = d.path().join("usr/lib/sysimage/libdnf5");
        std::fs::create_dir_all(&st).unwrap();
        std::fs::write(
            st.join("nevras.toml"),
            "[nevras]\n\"a-1-2.x\" = 7\n\"b-1-2.x\" = {from_repo = 3}\n",
        )
        .unwrap();
        std::fs::write(
            st.join("modules.toml"),
            "[modules]\nx = 1\n[modules.y]\nstate = 5\n",
        )
        .unwrap();
        let dnf = d.path().join("var/lib/dnf");
        std::fs::create_dir_all(&dnf).unwrap();
        std::fs::write(dnf.join("history.sqlite"), b"SQLite format 3\0not really").unwrap();
        let host = Host::open_with(d.path(), false);
        let (m, src) = rpm_from_repo(&host);
        assert!(m.is_empty());
        assert_eq!(
            src.as_deref(),
            Some("/usr/lib/sysimage/libdnf5/nevras.toml")
        );
        assert!(enabled_modules(&host).is_empty());
        std::fs::remove_file(st.join("nevras.toml")).unwrap();
        let host = Host::open_with(d.path(), false);
        assert_eq!(rpm_from_repo(&host), (HashMap::new(), None));
    }

    #[test]
    fn sqlite_uri_encodes_the_path() {
        assert_eq!(
            sqlite_uri(Path::new("/a b/rpmdb.sqlite")),
            "file:/a%20b/rpmdb.sqlite?mode=ro&immutable=1"
        );
    }
}
