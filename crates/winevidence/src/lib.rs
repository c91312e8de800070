//! Windows evidence for Cyber Essentials v3.3.
//!
//! [`load`] reads the archive written by `scripts/windows/collect-evidence.ps1`
//! (a zip, or a directory holding the same members), or Intune
//! configuration-policy exports, into a [`WindowsEvidence`]; [`assess`]
//! judges it and returns one [`CheckResult`] per Windows check. Missing or
//! garbled members never fail the load: they are listed in
//! [`WindowsEvidence::unavailable`] and the checks that need them report
//! `unknown` with the reason.

#![deny(missing_docs)]

mod checks;
mod date;
pub mod evidence;
mod intune;
mod json;
mod secedit;
mod settings;
mod text;

pub use checks::{assess, assess_at, CheckDef, CHECKS};
pub use date::{days_from_civil, format_day};
pub use evidence::*;
pub use secedit::{InfEntry, SecPolicy};
pub use settings::{Found, Key};

use portcullis_model::{CheckResult, Diagnostic};
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::Path;

/// Largest member read, uncompressed.
pub const MAX_MEMBER_BYTES: u64 = 32 * 1024 * 1024;
/// Largest total read from one archive or directory.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// Most Intune export files read from one directory or archive.
const MAX_POLICY_FILES: usize = 500;

/// Why evidence could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The path cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The input is not an evidence archive, directory or Intune export.
    #[error("{path}: {message}")]
    NotEvidence {
        /// The path.
        path: String,
        /// What is wrong and what to do.
        message: String,
    },
}

/// Everything read from one Windows host's evidence.
#[derive(Debug, Clone, Default)]
pub struct WindowsEvidence {
    /// Where it was read from.
    pub origin: String,
    /// The collection manifest.
    pub manifest: Option<Manifest>,
    /// `secedit /export` policy.
    pub secpol: Option<SecPolicy>,
    /// Firewall profiles (from firewall-profiles.json, else netsh text).
    pub firewall_profiles: Option<Vec<FirewallProfile>>,
    /// Enabled inbound allow rules.
    pub firewall_rules: Option<Vec<FirewallRule>>,
    /// Defender status.
    pub defender: Option<DefenderStatus>,
    /// Anti-virus products registered with Security Center.
    pub av_products: Option<Vec<AvProduct>>,
    /// Installed updates.
    pub hotfixes: Option<Vec<Hotfix>>,
    /// Installed programs.
    pub programs: Option<Vec<Program>>,
    /// Local users.
    pub users: Option<Vec<LocalUser>>,
    /// Members of the local Administrators group.
    pub administrators: Option<Vec<GroupMember>>,
    /// BitLocker volumes.
    pub bitlocker: Option<Vec<BitLockerVolume>>,
    /// Registry policy values.
    pub registry: Option<Vec<RegistryValue>>,
    /// Operating system.
    pub os: Option<OsInfo>,
    /// Listening TCP sockets.
    pub listeners: Option<Vec<Listener>>,
    /// Intune configured-policy settings (not observed state).
    pub policy: Vec<PolicySetting>,
    /// Members that could not be used, with the reason.
    pub unavailable: Vec<Unavailable>,
    /// Problems found while reading.
    pub diagnostics: Vec<Diagnostic>,
}

impl WindowsEvidence {
    /// Why a member is unavailable, if it is.
    pub fn why_unavailable(&self, member: &str) -> String {
        self.unavailable
            .iter()
            .find(|u| u.member == member)
            .map_or_else(
                || format!("{member} was not in the evidence"),
                |u| format!("{}: {}", u.member, u.reason),
            )
    }

    /// True when only Intune policy (no machine state) was read.
    pub fn policy_only(&self) -> bool {
        self.manifest.is_none()
            && self.secpol.is_none()
            && self.registry.is_none()
            && self.firewall_profiles.is_none()
            && self.defender.is_none()
            && !self.policy.is_empty()
    }

    /// Assesses this evidence with the real clock.
    pub fn assess(&self) -> Vec<CheckResult> {
        assess(self)
    }
}

/// Reads evidence from a zip archive, a directory, or an Intune export file.
pub fn load(path: impl AsRef<Path>) -> Result<WindowsEvidence, EvidenceError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let io = |source| EvidenceError::Io {
        path: shown.clone(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Ok(load_dir(path, &shown));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut head = Vec::new();
    file.take(4).read_to_end(&mut head).map_err(io)?;
    if head.starts_with(b"PK") {
        let file = std::fs::File::open(path).map_err(io)?;
        return from_zip(file, &shown);
    }
    if meta.len() > MAX_MEMBER_BYTES {
        return Err(EvidenceError::NotEvidence {
            path: shown,
            message: format!("larger than {MAX_MEMBER_BYTES} bytes and not a zip archive"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    load_bytes(&shown, &bytes)
}

/// Reads evidence from bytes in memory: a zip archive or an Intune export.
pub fn load_bytes(name: &str, bytes: &[u8]) -> Result<WindowsEvidence, EvidenceError> {
    if bytes.starts_with(b"PK") {
        return from_zip(std::io::Cursor::new(bytes), name);
    }
    if intune::looks_like_policy(&text::decode(bytes)) {
        let mut ev = WindowsEvidence {
            origin: name.to_string(),
            ..Default::default()
        };
        ev.policy = intune::parse(bytes, name, &mut ev.diagnostics);
        mark_missing(&mut ev, &HashMap::new());
        return Ok(ev);
    }
    Err(EvidenceError::NotEvidence {
        path: name.to_string(),
        message: "not a zip archive from collect-evidence.ps1, a directory of its members, or an Intune policy export; run scripts/windows/collect-evidence.ps1 on the Windows machine and pass the zip it writes".into(),
    })
}

/// Checks an archive member name: relative, no `..`, no drive or root.
fn safe_name(name: &str) -> Option<String> {
    let n = name.replace('\\', "/");
    if n.starts_with('/') || n.contains(':') || n.split('/').any(|c| c == "..") || n.contains('\0')
    {
        return None;
    }
    Some(n.trim_start_matches("./").to_string())
}

fn wanted(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    evidence::member::ALL.contains(&base) || is_policy_name(name)
}

fn is_policy_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l.starts_with("intune/") && (l.ends_with(".json") || l.ends_with(".csv"))
}

fn from_zip<R: Read + Seek>(reader: R, name: &str) -> Result<WindowsEvidence, EvidenceError> {
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| EvidenceError::NotEvidence {
        path: name.to_string(),
        message: format!(
            "not a readable zip archive: {e}; re-run collect-evidence.ps1 and copy the zip again"
        ),
    })?;
    let mut diags = Vec::new();
    let mut members: HashMap<String, Vec<u8>> = HashMap::new();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let mut f = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                diags.push(Diagnostic::error(
                    name,
                    format!("damaged zip entry {i}: {e}; skipped"),
                ));
                continue;
            }
        };
        if !f.is_file() {
            continue;
        }
        let raw = String::from_utf8_lossy(f.name_raw()).into_owned();
        let Some(n) = safe_name(&raw) else {
            diags.push(Diagnostic::error(
                name,
                format!("zip entry {raw:?} has an unsafe path (absolute or `..`); skipped"),
            ));
            continue;
        };
        if !wanted(&n) {
            continue;
        }
        let shown = format!("{name}!{n}");
        if f.size() > MAX_MEMBER_BYTES || total + f.size() > MAX_TOTAL_BYTES {
            diags.push(Diagnostic::error(
                shown,
                format!("{} bytes is over the size limit; skipped", f.size()),
            ));
            continue;
        }
        let mut data = Vec::new();
        match (&mut f).take(MAX_MEMBER_BYTES + 1).read_to_end(&mut data) {
            Ok(_) if data.len() as u64 > MAX_MEMBER_BYTES => {
                diags.push(Diagnostic::error(shown, "over the size limit; skipped"));
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                diags.push(Diagnostic::error(
                    shown,
                    format!("cannot decompress: {e}; skipped"),
                ));
                continue;
            }
        }
        total += data.len() as u64;
        // Members may sit in one top-level folder; keep the base name.
        let key = if is_policy_name(&n) {
            n
        } else {
            n.rsplit('/').next().unwrap_or(&n).to_string()
        };
        members.insert(key, data);
    }
    let mut ev = build(name, "!", &members, diags);
    if members.is_empty() {
        ev.diagnostics.push(Diagnostic::error(name, "the archive holds none of the evidence members; is it the zip collect-evidence.ps1 wrote?"));
    }
    Ok(ev)
}

fn load_dir(dir: &Path, shown: &str) -> WindowsEvidence {
    let mut diags = Vec::new();
    let mut members: HashMap<String, Vec<u8>> = HashMap::new();
    let mut total = 0u64;
    let mut read = |p: &Path,
                    key: String,
                    members: &mut HashMap<String, Vec<u8>>,
                    diags: &mut Vec<Diagnostic>| {
        let shown_p = p.display().to_string();
        match std::fs::metadata(p) {
            Ok(m) if m.len() > MAX_MEMBER_BYTES || total + m.len() > MAX_TOTAL_BYTES => {
                diags.push(Diagnostic::error(shown_p, "over the size limit; skipped"));
            }
            Ok(_) => match std::fs::read(p) {
                Ok(b) => {
                    total += b.len() as u64;
                    members.insert(key, b);
                }
                Err(e) => diags.push(Diagnostic::error(shown_p, format!("cannot read: {e}"))),
            },
            Err(_) => {}
        }
    };
    for m in evidence::member::ALL {
        let p = dir.join(m);
        if p.is_file() {
            read(&p, m.to_string(), &mut members, &mut diags);
        }
    }
    // Intune exports: an `intune/` folder, or (when no machine members are
    // present) any JSON/CSV export found below the directory.
    let machine = !members.is_empty();
    let root = if machine {
        dir.join("intune")
    } else {
        dir.to_path_buf()
    };
    let mut stack = vec![(root, 0u32)];
    let mut files = 0usize;
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                if depth < 8 && !p.is_symlink() {
                    stack.push((p, depth + 1));
                }
                continue;
            }
            let lower = p.to_string_lossy().to_ascii_lowercase();
            if !(lower.ends_with(".json") || lower.ends_with(".csv")) || files >= MAX_POLICY_FILES {
                continue;
            }
            files += 1;
            let rel = p
                .strip_prefix(dir)
                .map_or_else(|_| p.display().to_string(), |r| r.display().to_string());
            read(
                &p,
                format!("intune/{}", rel.replace('\\', "/")),
                &mut members,
                &mut diags,
            );
        }
    }
    build(shown, "/", &members, diags)
}

fn build(
    origin: &str,
    sep: &str,
    members: &HashMap<String, Vec<u8>>,
    diags: Vec<Diagnostic>,
) -> WindowsEvidence {
    use evidence::member as m;
    let mut ev = WindowsEvidence {
        origin: origin.to_string(),
        ..Default::default()
    };
    let d = &mut ev.diagnostics;
    let mut un: Vec<Unavailable> = Vec::new();
    macro_rules! read {
        ($member:expr, $f:path) => {
            match members.get($member) {
                Some(b) => match $f(b, d) {
                    Ok(v) => Some(v),
                    Err(reason) => {
                        un.push(Unavailable {
                            member: $member.to_string(),
                            reason,
                        });
                        None
                    }
                },
                None => None,
            }
        };
    }
    ev.manifest = read!(m::MANIFEST, evidence::parse_manifest);
    ev.secpol = read!(m::SECPOL, evidence::parse_secpol);
    ev.firewall_profiles = read!(m::FIREWALL_PROFILES, evidence::parse_firewall_profiles)
        .filter(|p: &Vec<FirewallProfile>| !p.is_empty());
    let netsh = read!(m::NETSH, evidence::parse_netsh);
    if ev.firewall_profiles.is_none() {
        ev.firewall_profiles = netsh;
    }
    ev.firewall_rules = read!(m::FIREWALL_RULES, evidence::parse_firewall_rules);
    ev.defender = read!(m::DEFENDER, evidence::parse_defender);
    ev.av_products = read!(m::SECURITY_CENTER, evidence::parse_security_center);
    ev.hotfixes = read!(m::HOTFIXES, evidence::parse_hotfixes);
    ev.programs = read!(m::PROGRAMS, evidence::parse_programs);
    ev.users = read!(m::LOCAL_USERS, evidence::parse_local_users);
    ev.administrators = read!(m::ADMINISTRATORS, evidence::parse_administrators);
    ev.bitlocker = read!(m::BITLOCKER, evidence::parse_bitlocker);
    ev.registry = read!(m::REGISTRY, evidence::parse_registry);
    ev.os = read!(m::OS, evidence::parse_os);
    ev.listeners = read!(m::LISTENING, evidence::parse_listening);
    let mut policy_names: Vec<&String> = members
        .keys()
        .filter(|k| k.starts_with("intune/"))
        .collect();
    policy_names.sort();
    for k in policy_names {
        if let Some(b) = members.get(k) {
            let name = k.trim_start_matches("intune/");
            let t = text::decode(b);
            if intune::looks_like_policy(&t) {
                ev.policy.extend(intune::parse(b, name, d));
            }
        }
    }
    // Member diagnostics name the member; show where it sits.
    for d in &mut ev.diagnostics {
        let p = d.path.trim_start_matches("intune/");
        d.path = if members.contains_key(&d.path) || members.contains_key(&format!("intune/{p}")) {
            let inner = if members.contains_key(&format!("intune/{p}")) {
                format!("intune/{p}")
            } else {
                d.path.clone()
            };
            // In a directory without machine members, exports are read
            // from the directory itself, not from an `intune/` folder.
            let inner = if sep == "/" && !Path::new(origin).join(&inner).exists() {
                p.to_string()
            } else {
                inner
            };
            format!("{origin}{sep}{inner}")
        } else {
            d.path.clone()
        };
    }
    let mut all = diags;
    all.append(&mut ev.diagnostics);
    ev.diagnostics = all;
    ev.unavailable = un;
    mark_missing(&mut ev, members);
    // netsh text is only a fallback for the profile JSON: not a gap when the
    // profiles were read.
    if ev
        .firewall_profiles
        .as_ref()
        .is_some_and(|p| p.first().is_some_and(|f| f.source == m::FIREWALL_PROFILES))
    {
        ev.unavailable.retain(|u| u.member != m::NETSH);
    }
    ev
}

/// Records absent members, with the script's own error when it gave one.
fn mark_missing(ev: &mut WindowsEvidence, members: &HashMap<String, Vec<u8>>) {
    for m in evidence::member::ALL {
        if members.contains_key(m) || ev.unavailable.iter().any(|u| u.member == m) {
            continue;
        }
        let script_err = ev
            .manifest
            .as_ref()
            .and_then(|man| man.items.iter().find(|(n, _)| n == m))
            .and_then(|(_, e)| e.clone());
        let reason = match script_err {
            Some(e) => format!("the collection script could not collect it: {e}"),
            None if ev.manifest.is_none() && !ev.policy.is_empty() => {
                "not in the evidence (an Intune policy export shows configured policy, not machine state)".to_string()
            }
            None => "missing from the evidence".to_string(),
        };
        ev.unavailable.push(Unavailable {
            member: m.to_string(),
            reason,
        });
    }
}
