//! The Windows checks: one function per check, each tied to its v3.3
//! requirement IDs through a [`CheckDef`] in [`CHECKS`]. Adding a check is one
//! `CheckDef` plus one function, listed in `assess_at`.

use crate::date::{civil_from_days, format_day, parse_date, patch_tuesday, today};
use crate::evidence::{member, LocalUser};
use crate::settings::Key;
use crate::WindowsEvidence;
use portcullis_model::{CheckResult, CheckStatus, Control, Evidence};

/// A check's fixed facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckDef {
    /// Stable ID.
    pub id: &'static str,
    /// v3.3 requirement IDs.
    pub requirements: &'static [&'static str],
    /// The control.
    pub control: Control,
    /// Title.
    pub title: &'static str,
    /// A fail is one of v3.3's automatic-fail conditions.
    pub auto_fail: bool,
}

macro_rules! defs {
    ($($name:ident = $id:literal, [$($r:literal),*], $control:ident, $title:literal, $af:literal;)*) => {
        $(const $name: CheckDef = CheckDef { id: $id, requirements: &[$($r),*], control: Control::$control, title: $title, auto_fail: $af };)*
        /// Every Windows check, in report order.
        pub const CHECKS: &[CheckDef] = &[$($name),*];
    };
}

defs! {
    FW_ENABLED = "windows.firewall.enabled", ["E1-001", "E1-002", "E1-012"], Firewalls, "Windows Defender Firewall is on for every profile", false;
    FW_INBOUND = "windows.firewall.default_inbound_block", ["E1-007"], Firewalls, "Unsolicited inbound connections are blocked by default", false;
    FW_RULES = "windows.firewall.inbound_rules", ["E1-008", "E1-009", "E1-010", "E1-011"], Firewalls, "Every inbound allow rule is approved and still needed", false;
    ADMIN_IF = "windows.firewall.admin_interfaces", ["E1-004", "E1-005", "E1-006"], Firewalls, "Remote administration (RDP, WinRM, VNC) is not open to the internet", false;
    GUEST = "windows.accounts.guest_disabled", ["E2-001"], SecureConfiguration, "The Guest account is disabled", false;
    UNUSED = "windows.accounts.unused", ["E2-001", "E4-008"], SecureConfiguration, "Unneeded and unused local accounts are disabled", false;
    PWREQ = "windows.accounts.password_required", ["E2-002", "E4-020"], SecureConfiguration, "Every enabled local account requires a password", false;
    SERVICES = "windows.services.listening", ["E2-003"], SecureConfiguration, "Only needed network services are listening", false;
    AUTORUN = "windows.autorun.disabled", ["E2-004"], SecureConfiguration, "AutoPlay and AutoRun are off for every drive", false;
    AUTOLOGON = "windows.logon.no_autologon", ["E2-005"], SecureConfiguration, "Users must sign in: automatic logon is off", false;
    LOCK = "windows.screen_lock", ["E2-006", "E2-007"], SecureConfiguration, "The device locks and needs a credential to unlock", false;
    PIN = "windows.hello.pin_length", ["E2-011"], SecureConfiguration, "Windows Hello PINs have at least 6 digits", false;
    LOCKOUT = "windows.lockout.threshold", ["E2-008", "E2-009", "E4-021"], UserAccessControl, "Accounts lock after at most 10 failed sign-ins", false;
    PWLEN = "windows.password.length", ["E4-022", "E4-016", "E4-017"], UserAccessControl, "Passwords are at least 12 characters (or 8 with a deny-list or MFA)", false;
    PWEXPIRY = "windows.password.no_expiry", ["E4-027"], UserAccessControl, "Regular password expiry is not enforced", false;
    PWCOMPLEX = "windows.password.no_complexity", ["E4-028"], UserAccessControl, "Password complexity rules are not enforced", false;
    ADMINS = "windows.admins.separate_accounts", ["E4-011", "E4-012", "E4-013"], UserAccessControl, "Administrator rights are held only by separate admin accounts", false;
    UPDATES = "windows.updates.fixes_within_14_days", ["E3-001", "E3-005", "E3-006", "E3-007"], SecurityUpdateManagement, "Windows security updates are installed within 14 days of release", true;
    AUTOUPDATE = "windows.updates.automatic", ["E3-004"], SecurityUpdateManagement, "Automatic updates are on", false;
    OS = "windows.os.supported", ["E3-002", "E3-003"], SecurityUpdateManagement, "The Windows version still receives security updates", false;
    SOFTWARE = "windows.software.unsupported", ["E3-002", "E3-003"], SecurityUpdateManagement, "No installed program is past its end of support", false;
    AV = "windows.malware.active", ["E5-001", "E5-002", "E5-005"], MalwareProtection, "Anti-malware with real-time protection is on", false;
    SIGS = "windows.malware.signatures_current", ["E5-003", "E5-004"], MalwareProtection, "Anti-malware signatures are at most a day old", false;
    WEB = "windows.malware.web_protection", ["E5-005", "E5-006", "E5-007"], MalwareProtection, "Connections to malicious websites are blocked", false;
}

enum Verdict {
    Pass,
    Fail(String),
    Attest(String),
    Unknown(String),
}

fn make(def: CheckDef, verdict: Verdict, evidence: Vec<Evidence>) -> CheckResult {
    let mut r = CheckResult {
        id: def.id.to_string(),
        requirements: def.requirements.iter().map(|s| (*s).to_string()).collect(),
        control: def.control,
        title: def.title.to_string(),
        status: CheckStatus::Unknown,
        auto_fail: false,
        evidence,
        fix: None,
        attestation: None,
        reason: None,
    };
    match verdict {
        Verdict::Pass => r.status = CheckStatus::Pass,
        Verdict::Fail(fix) => {
            r.status = CheckStatus::Fail;
            r.auto_fail = def.auto_fail;
            r.fix = Some(fix);
        }
        Verdict::Attest(q) => {
            r.status = CheckStatus::NeedsAttestation;
            r.attestation = Some(q);
        }
        Verdict::Unknown(why) => r.reason = Some(why),
    }
    r
}

fn ev(source: &str, line: Option<u32>, detail: impl Into<String>) -> Evidence {
    Evidence {
        source: source.to_string(),
        line,
        detail: detail.into(),
    }
}

/// Assesses with the real clock.
pub fn assess(e: &WindowsEvidence) -> Vec<CheckResult> {
    assess_at(e, today())
}

/// Assesses as of `today` (days since 1970-01-01): end-of-life dates are
/// judged against `today`; update and signature ages against the
/// collection date in the manifest, or `today` when there is none.
pub fn assess_at(e: &WindowsEvidence, today: i64) -> Vec<CheckResult> {
    let collected = e
        .manifest
        .as_ref()
        .and_then(|m| m.collected)
        .filter(|c| *c <= today)
        .unwrap_or(today);
    vec![
        firewall_enabled(e),
        firewall_inbound(e),
        firewall_rules(e),
        admin_interfaces(e),
        guest(e),
        unused_accounts(e, collected),
        password_required(e),
        services(e),
        autorun(e),
        autologon(e),
        screen_lock(e),
        pin_length(e),
        lockout(e),
        password_length(e),
        password_expiry(e),
        password_complexity(e),
        admins(e),
        updates(e, collected),
        automatic_updates(e),
        os_supported(e, today),
        software(e, today),
        antimalware(e),
        signatures(e, collected),
        web_protection(e),
    ]
}

const GPO_FW: &str = r"Computer Configuration > Administrative Templates > Network > Network Connections > Windows Defender Firewall > Domain Profile and Standard Profile";

fn firewall_enabled(e: &WindowsEvidence) -> CheckResult {
    let Some(profiles) = &e.firewall_profiles else {
        return make(
            FW_ENABLED,
            Verdict::Unknown(e.why_unavailable(member::FIREWALL_PROFILES)),
            vec![],
        );
    };
    let evs: Vec<Evidence> = profiles
        .iter()
        .map(|p| ev(p.source, p.line, p.detail.clone()))
        .collect();
    let off: Vec<&str> = profiles
        .iter()
        .filter(|p| p.enabled == Some(false))
        .map(|p| p.name.as_str())
        .collect();
    if !off.is_empty() {
        let fix = format!(
            "Turn the firewall on for the {} profile(s): run `Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True` as administrator, or set Group Policy \"{GPO_FW} > Windows Defender Firewall: Protect all network connections\" to Enabled",
            off.join(", ")
        );
        return make(FW_ENABLED, Verdict::Fail(fix), evs);
    }
    let missing: Vec<&str> = ["Domain", "Private", "Public"]
        .into_iter()
        .filter(|n| !profiles.iter().any(|p| p.name == *n && p.enabled.is_some()))
        .collect();
    if !missing.is_empty() {
        return make(
            FW_ENABLED,
            Verdict::Unknown(format!(
                "the state of the {} profile(s) is not shown",
                missing.join(", ")
            )),
            evs,
        );
    }
    make(FW_ENABLED, Verdict::Pass, evs)
}

fn firewall_inbound(e: &WindowsEvidence) -> CheckResult {
    let Some(profiles) = &e.firewall_profiles else {
        return make(
            FW_INBOUND,
            Verdict::Unknown(e.why_unavailable(member::FIREWALL_PROFILES)),
            vec![],
        );
    };
    let evs: Vec<Evidence> = profiles
        .iter()
        .map(|p| ev(p.source, p.line, p.detail.clone()))
        .collect();
    let open: Vec<&str> = profiles
        .iter()
        .filter(|p| p.inbound_blocked == Some(false) || p.enabled == Some(false))
        .map(|p| p.name.as_str())
        .collect();
    if !open.is_empty() {
        let fix = format!(
            "Block unsolicited inbound connections on the {} profile(s): run `Set-NetFirewallProfile -Profile Domain,Private,Public -Enabled True -DefaultInboundAction Block` as administrator, or set Group Policy \"{GPO_FW} > Windows Defender Firewall: Do not allow exceptions\" / \"Windows Defender Firewall Properties > Inbound connections: Block (default)\"",
            open.join(", ")
        );
        return make(FW_INBOUND, Verdict::Fail(fix), evs);
    }
    let missing: Vec<&str> = ["Domain", "Private", "Public"]
        .into_iter()
        .filter(|n| {
            !profiles
                .iter()
                .any(|p| p.name == *n && p.inbound_blocked.is_some())
        })
        .collect();
    if !missing.is_empty() {
        return make(
            FW_INBOUND,
            Verdict::Unknown(format!(
                "the default inbound action of the {} profile(s) is not shown",
                missing.join(", ")
            )),
            evs,
        );
    }
    make(FW_INBOUND, Verdict::Pass, evs)
}

const MAX_LISTED: usize = 40;

fn firewall_rules(e: &WindowsEvidence) -> CheckResult {
    let Some(rules) = &e.firewall_rules else {
        return make(
            FW_RULES,
            Verdict::Unknown(e.why_unavailable(member::FIREWALL_RULES)),
            vec![],
        );
    };
    if rules.is_empty() {
        return make(
            FW_RULES,
            Verdict::Pass,
            vec![ev(
                member::FIREWALL_RULES,
                None,
                "no enabled inbound allow rules",
            )],
        );
    }
    let mut evs: Vec<Evidence> = rules
        .iter()
        .take(MAX_LISTED)
        .map(|r| {
            ev(
                member::FIREWALL_RULES,
                None,
                format!(
                    "[{}] {} ({}): {} port {} from {} for {}, profile {}",
                    r.index,
                    r.display_name,
                    r.name,
                    r.protocol,
                    r.local_port,
                    r.remote_address,
                    r.program,
                    r.profile
                ),
            )
        })
        .collect();
    if rules.len() > MAX_LISTED {
        evs.push(ev(
            member::FIREWALL_RULES,
            None,
            format!("… and {} more rules", rules.len() - MAX_LISTED),
        ));
    }
    make(
        FW_RULES,
        Verdict::Attest(format!(
            "This device has {} enabled inbound allow rules (listed). Has each been approved and documented by an authorised person, with the business need recorded? Are rules that are no longer needed removed or disabled (`Disable-NetFirewallRule -Name <name>`)?",
            rules.len()
        )),
        evs,
    )
}

fn admin_interfaces(e: &WindowsEvidence) -> CheckResult {
    if e.listeners.is_none() && e.registry.is_none() && e.firewall_rules.is_none() {
        return make(
            ADMIN_IF,
            Verdict::Unknown(e.why_unavailable(member::LISTENING)),
            vec![],
        );
    }
    let mut evs = Vec::new();
    let mut exposed: Vec<&str> = Vec::new();
    let mut on: Vec<&str> = Vec::new();
    let rdp_setting = e
        .setting(Key::DenyTsConnectionsPolicy)
        .or_else(|| e.setting(Key::DenyTsConnections));
    let listening = |ports: &[u16]| {
        e.listeners.as_ref().and_then(|ls| {
            ls.iter()
                .find(|l| ports.contains(&l.port) && !is_loopback(&l.address))
        })
    };
    for (name, ports, words) in [
        ("Remote Desktop", &[3389u16][..], "remote desktop"),
        (
            "WinRM (PowerShell remoting)",
            &[5985u16, 5986][..],
            "windows remote management",
        ),
        ("VNC", &[5900u16, 5901, 5902, 5903][..], "vnc"),
    ] {
        let mut enabled = false;
        if name == "Remote Desktop" {
            if let Some(f) = &rdp_setting {
                if f.number() == Some(0) {
                    enabled = true;
                    evs.push(f.evidence.clone());
                }
            }
        }
        if let Some(l) = listening(ports) {
            enabled = true;
            evs.push(ev(
                member::LISTENING,
                None,
                format!(
                    "{} listening on {}:{}",
                    non_empty(&l.process, "a process"),
                    l.address,
                    l.port
                ),
            ));
        }
        if !enabled {
            continue;
        }
        on.push(name);
        if let Some(rules) = &e.firewall_rules {
            for r in rules.iter().filter(|r| {
                (ports
                    .iter()
                    .any(|p| r.local_port.split(',').any(|x| x.trim() == p.to_string()))
                    || r.display_name.to_ascii_lowercase().contains(words))
                    && !remote_restricted(&r.remote_address)
            }) {
                evs.push(ev(
                    member::FIREWALL_RULES,
                    None,
                    format!(
                        "[{}] {}: {} port {} allowed from {}",
                        r.index, r.display_name, r.protocol, r.local_port, r.remote_address
                    ),
                ));
                if !exposed.contains(&name) {
                    exposed.push(name);
                }
            }
        }
    }
    if exposed.is_empty() {
        if on.is_empty() {
            evs.push(ev(
                member::LISTENING,
                None,
                "no Remote Desktop, WinRM or VNC listener",
            ));
        }
        return make(ADMIN_IF, Verdict::Pass, evs);
    }
    make(
        ADMIN_IF,
        Verdict::Attest(format!(
            "{} is on and the firewall allows it from any address. Is it reachable from the internet? If so, is the business need documented, and is access protected by MFA or limited to a small trusted IP range (`Set-NetFirewallRule -DisplayGroup \"Remote Desktop\" -RemoteAddress <range>`)? If it is not needed, turn it off (Settings > System > Remote Desktop > Off; `Disable-PSRemoting`).",
            exposed.join(" and ")
        )),
        evs,
    )
}

fn is_loopback(a: &str) -> bool {
    a.starts_with("127.") || a == "::1"
}

fn remote_restricted(r: &str) -> bool {
    let l = r.to_ascii_lowercase();
    !(l.is_empty() || l == "any" || l == "*" || l.contains("internet") || l.contains("0.0.0.0"))
}

fn non_empty<'a>(s: &'a str, or: &'a str) -> &'a str {
    if s.is_empty() {
        or
    } else {
        s
    }
}

const GPO_SECOPT: &str = r"Computer Configuration > Windows Settings > Security Settings > Local Policies > Security Options";
const GPO_PWPOL: &str = r"Computer Configuration > Windows Settings > Security Settings > Account Policies > Password Policy";

fn guest(e: &WindowsEvidence) -> CheckResult {
    let fix = format!("Disable the Guest account: `net user Guest /active:no` (or `Disable-LocalUser -SID (Get-LocalUser | ? {{ $_.SID -like '*-501' }}).SID`), or set Group Policy \"{GPO_SECOPT} > Accounts: Guest account status\" to Disabled");
    let mut evs = Vec::new();
    let mut enabled = None;
    if let Some(f) = e.setting(Key::EnableGuestAccount) {
        enabled = f.number().map(|n| n != 0);
        evs.push(f.evidence);
    }
    if let Some(u) = e
        .users
        .as_ref()
        .and_then(|us| us.iter().find(|u| u.rid() == Some(501)))
    {
        evs.push(ev(
            member::LOCAL_USERS,
            None,
            format!("{} ({}): Enabled={}", u.name, u.sid, show_bool(u.enabled)),
        ));
        if u.enabled == Some(true) {
            enabled = Some(true);
        } else if enabled.is_none() {
            enabled = u.enabled;
        }
    }
    match enabled {
        Some(true) => make(GUEST, Verdict::Fail(fix), evs),
        Some(false) => make(GUEST, Verdict::Pass, evs),
        None => make(
            GUEST,
            Verdict::Unknown(format!(
                "{}; {}",
                e.why_unavailable(member::SECPOL),
                e.why_unavailable(member::LOCAL_USERS)
            )),
            evs,
        ),
    }
}

fn show_bool(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "True",
        Some(false) => "False",
        None => "unknown",
    }
}

const STALE_DAYS: i64 = 90;

fn unused_accounts(e: &WindowsEvidence, now: i64) -> CheckResult {
    let Some(users) = &e.users else {
        return make(
            UNUSED,
            Verdict::Unknown(e.why_unavailable(member::LOCAL_USERS)),
            vec![],
        );
    };
    let stale: Vec<&LocalUser> = users
        .iter()
        .filter(|u| u.enabled == Some(true) && u.rid() != Some(501))
        .filter(|u| u.rid() == Some(500) || u.last_logon.is_none_or(|d| now - d > STALE_DAYS))
        .collect();
    let evs: Vec<Evidence> = stale
        .iter()
        .map(|u| {
            let last = u.last_logon.map_or_else(|| "never".to_string(), format_day);
            let note = if u.rid() == Some(500) {
                " (the built-in Administrator)"
            } else {
                ""
            };
            ev(
                member::LOCAL_USERS,
                None,
                format!("{}{note}: enabled, last logon {last}", u.name),
            )
        })
        .collect();
    if stale.is_empty() {
        let n = users.iter().filter(|u| u.enabled == Some(true)).count();
        return make(UNUSED, Verdict::Pass, vec![ev(member::LOCAL_USERS, None, format!("{n} enabled local accounts, each used in the last {STALE_DAYS} days; the built-in Administrator is disabled"))]);
    }
    make(
        UNUSED,
        Verdict::Attest(format!(
            "These enabled local accounts have not signed in for {STALE_DAYS} days or more, or are the built-in Administrator. Is each one needed? Disable the ones that are not: `Disable-LocalUser -Name <name>` (for the built-in Administrator, Group Policy \"{GPO_SECOPT} > Accounts: Administrator account status\" = Disabled)."
        )),
        evs,
    )
}

fn password_required(e: &WindowsEvidence) -> CheckResult {
    let Some(users) = &e.users else {
        return make(
            PWREQ,
            Verdict::Unknown(e.why_unavailable(member::LOCAL_USERS)),
            vec![],
        );
    };
    let bad: Vec<&LocalUser> = users
        .iter()
        .filter(|u| u.enabled == Some(true) && u.password_required == Some(false))
        .collect();
    if bad.is_empty() {
        return make(
            PWREQ,
            Verdict::Pass,
            vec![ev(
                member::LOCAL_USERS,
                None,
                "every enabled local account has PasswordRequired=True",
            )],
        );
    }
    let names: Vec<&str> = bad.iter().map(|u| u.name.as_str()).collect();
    let evs = bad
        .iter()
        .map(|u| {
            ev(
                member::LOCAL_USERS,
                None,
                format!("{}: Enabled=True, PasswordRequired=False", u.name),
            )
        })
        .collect();
    make(
        PWREQ,
        Verdict::Fail(format!(
            "Require a password for {}: `net user <name> /passwordreq:yes`, then set a strong password (`net user <name> *`); disable the account if it is not needed",
            names.join(", ")
        )),
        evs,
    )
}

fn services(e: &WindowsEvidence) -> CheckResult {
    let Some(ls) = &e.listeners else {
        return make(
            SERVICES,
            Verdict::Unknown(e.why_unavailable(member::LISTENING)),
            vec![],
        );
    };
    let mut seen: Vec<(u16, &str)> = Vec::new();
    for l in ls.iter().filter(|l| !is_loopback(&l.address)) {
        if !seen.iter().any(|(p, _)| *p == l.port) {
            seen.push((l.port, l.process.as_str()));
        }
    }
    seen.sort_unstable();
    if seen.is_empty() {
        return make(
            SERVICES,
            Verdict::Pass,
            vec![ev(
                member::LISTENING,
                None,
                "no TCP port listens beyond loopback",
            )],
        );
    }
    let evs = seen
        .iter()
        .take(MAX_LISTED)
        .map(|(p, n)| {
            ev(
                member::LISTENING,
                None,
                format!("TCP {p}: {}", non_empty(n, "unknown process")),
            )
        })
        .collect();
    make(
        SERVICES,
        Verdict::Attest(format!(
            "{} TCP ports listen for network connections (listed). Is each service needed? Stop and disable those that are not (`Stop-Service <name>; Set-Service <name> -StartupType Disabled`), and remove unneeded software and optional features (`Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol`).",
            seen.len()
        )),
        evs,
    )
}

const GPO_AUTOPLAY: &str =
    r"Computer Configuration > Administrative Templates > Windows Components > AutoPlay Policies";

fn autorun(e: &WindowsEvidence) -> CheckResult {
    let drive = e.setting(Key::NoDriveTypeAutoRun);
    let cmds = e.setting(Key::NoAutorun);
    let read = e.registry_read(Key::NoDriveTypeAutoRun) || e.registry_read(Key::NoAutorun);
    if drive.is_none() && cmds.is_none() && !read {
        return make(
            AUTORUN,
            Verdict::Unknown(e.why_unavailable(member::REGISTRY)),
            vec![],
        );
    }
    let mut evs = Vec::new();
    let mut problems = Vec::new();
    match &drive {
        Some(f) => {
            evs.push(f.evidence.clone());
            if f.number().map(|n| n & 0xFF) != Some(0xFF) {
                problems.push(format!("\"{GPO_AUTOPLAY} > Turn off Autoplay\" = Enabled, on All drives (registry `NoDriveTypeAutoRun` = 255 under HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer)"));
            }
        }
        None => {
            evs.push(ev(member::REGISTRY, None, r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\NoDriveTypeAutoRun is not set (Windows default 0x91 leaves AutoPlay on for some drives)"));
            problems.push(format!("\"{GPO_AUTOPLAY} > Turn off Autoplay\" = Enabled, on All drives (`Set-ItemProperty -Path HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer -Name NoDriveTypeAutoRun -Value 255 -Type DWord`)"));
        }
    }
    match &cmds {
        Some(f) => {
            evs.push(f.evidence.clone());
            if f.number() != Some(1) {
                problems.push(format!("\"{GPO_AUTOPLAY} > Set the default behavior for AutoRun\" = Enabled, Do not execute any autorun commands (registry `NoAutorun` = 1)"));
            }
        }
        None => {
            evs.push(ev(member::REGISTRY, None, r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\NoAutorun is not set"));
            problems.push(format!("\"{GPO_AUTOPLAY} > Set the default behavior for AutoRun\" = Enabled, Do not execute any autorun commands (`Set-ItemProperty -Path HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer -Name NoAutorun -Value 1 -Type DWord`)"));
        }
    }
    if problems.is_empty() {
        make(AUTORUN, Verdict::Pass, evs)
    } else {
        make(
            AUTORUN,
            Verdict::Fail(format!(
                "Turn auto-run off with Group Policy: {}",
                problems.join("; and ")
            )),
            evs,
        )
    }
}

fn autologon(e: &WindowsEvidence) -> CheckResult {
    match e.setting(Key::AutoAdminLogon) {
        Some(f) if f.value.trim() == "1" => make(AUTOLOGON, Verdict::Fail(
            "Turn automatic logon off: `Set-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' -Name AutoAdminLogon -Value 0` and remove the stored password: `Remove-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon' -Name DefaultPassword`".into()),
            vec![f.evidence]),
        Some(f) => make(AUTOLOGON, Verdict::Pass, vec![f.evidence]),
        None if e.registry_read(Key::AutoAdminLogon) => make(AUTOLOGON, Verdict::Pass, vec![ev(member::REGISTRY, None, r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoAdminLogon is not set (automatic logon off)")]),
        None => make(AUTOLOGON, Verdict::Unknown(e.why_unavailable(member::REGISTRY)), vec![]),
    }
}

fn screen_lock(e: &WindowsEvidence) -> CheckResult {
    let question = "Does this device lock when left unattended (Windows+L, or a lock after inactivity), and does unlocking need the user's password, PIN or biometric? Cyber Essentials sets no timeout; to enforce one, set Group Policy \"Computer Configuration > Windows Settings > Security Settings > Local Policies > Security Options > Interactive logon: Machine inactivity limit\" (for example 900 seconds).";
    let mut evs = Vec::new();
    if let Some(f) = e.setting(Key::InactivityTimeoutSecs) {
        evs.push(f.evidence.clone());
        if f.number().is_some_and(|n| n > 0) {
            return make(LOCK, Verdict::Pass, evs);
        }
    }
    let secure = e.setting(Key::ScreenSaverIsSecure);
    let timeout = e.setting(Key::ScreenSaveTimeOut);
    if let (Some(s), Some(t)) = (&secure, &timeout) {
        evs.push(s.evidence.clone());
        evs.push(t.evidence.clone());
        if s.number() == Some(1) && t.number().is_some_and(|n| n > 0) {
            return make(LOCK, Verdict::Pass, evs);
        }
    }
    if evs.is_empty() && !e.registry_read(Key::InactivityTimeoutSecs) && e.secpol.is_none() {
        return make(
            LOCK,
            Verdict::Unknown(e.why_unavailable(member::REGISTRY)),
            evs,
        );
    }
    if evs.is_empty() {
        evs.push(ev(
            member::REGISTRY,
            None,
            "no machine inactivity limit or password-protected screen saver policy is set",
        ));
    }
    make(LOCK, Verdict::Attest(question.into()), evs)
}

fn pin_length(e: &WindowsEvidence) -> CheckResult {
    match e.setting(Key::PinMinimumLength) {
        Some(f) => match f.number() {
            Some(n) if n >= 6 => make(PIN, Verdict::Pass, vec![f.evidence]),
            Some(_) => make(PIN, Verdict::Fail(
                "Require PINs of at least 6 digits: set Group Policy \"Computer Configuration > Administrative Templates > System > PIN Complexity > Minimum PIN length\" to 6, or in Intune (Endpoint security > Account protection) set \"Minimum PIN length\" to 6".into()),
                vec![f.evidence]),
            None => make(PIN, Verdict::Unknown(format!("the minimum PIN length {:?} is not a number", f.value)), vec![f.evidence]),
        },
        None => make(PIN, Verdict::Attest(
            "If Windows Hello PIN sign-in is used on this device, is the minimum PIN length at least 6? (The Windows default is 4; set \"Computer Configuration > Administrative Templates > System > PIN Complexity > Minimum PIN length\" to 6.)".into()),
            vec![]),
    }
}

fn secpol_unknown(e: &WindowsEvidence, def: CheckDef) -> CheckResult {
    make(
        def,
        Verdict::Unknown(e.why_unavailable(member::SECPOL)),
        vec![],
    )
}

fn lockout(e: &WindowsEvidence) -> CheckResult {
    let Some(f) = e.setting(Key::LockoutBadCount) else {
        return secpol_unknown(e, LOCKOUT);
    };
    let fix = "Lock accounts after at most 10 failed attempts: `net accounts /lockoutthreshold:10 /lockoutwindow:5 /lockoutduration:5`, or set Group Policy \"Computer Configuration > Windows Settings > Security Settings > Account Policies > Account Lockout Policy > Account lockout threshold\" to 10 or fewer (unless every account uses MFA)";
    match f.number() {
        Some(n) if (1..=10).contains(&n) => make(LOCKOUT, Verdict::Pass, vec![f.evidence]),
        Some(_) => make(LOCKOUT, Verdict::Fail(fix.into()), vec![f.evidence]),
        None => make(
            LOCKOUT,
            Verdict::Unknown(format!("LockoutBadCount {:?} is not a number", f.value)),
            vec![f.evidence],
        ),
    }
}

fn password_length(e: &WindowsEvidence) -> CheckResult {
    let Some(f) = e.setting(Key::MinimumPasswordLength) else {
        return secpol_unknown(e, PWLEN);
    };
    let fix = format!("Require at least 12 characters: `net accounts /minpwlen:12`, or set Group Policy \"{GPO_PWPOL} > Minimum password length\" to 12 (above 14 also needs \"Relax minimum password length limits\" = Enabled). Do not set a maximum length");
    match f.number() {
        Some(n) if n >= 12 => make(PWLEN, Verdict::Pass, vec![f.evidence]),
        Some(n) if n >= 8 => make(PWLEN, Verdict::Attest(format!(
            "The minimum password length is {n}, below 12. Is a deny-list of common passwords enforced automatically (for example Microsoft Entra Password Protection), or does every account use multi-factor authentication? If neither, raise the minimum to 12: {fix}."
        )), vec![f.evidence]),
        Some(_) => make(PWLEN, Verdict::Fail(fix), vec![f.evidence]),
        None => make(PWLEN, Verdict::Unknown(format!("MinimumPasswordLength {:?} is not a number", f.value)), vec![f.evidence]),
    }
}

fn password_expiry(e: &WindowsEvidence) -> CheckResult {
    let Some(f) = e.setting(Key::MaximumPasswordAge) else {
        return secpol_unknown(e, PWEXPIRY);
    };
    match f.number() {
        Some(n) if n <= 0 => make(PWEXPIRY, Verdict::Pass, vec![f.evidence]),
        Some(_) => make(PWEXPIRY, Verdict::Fail(format!(
            "Stop forcing regular password changes: `net accounts /maxpwage:unlimited`, or set Group Policy \"{GPO_PWPOL} > Maximum password age\" to 0. (CIS benchmarks ask for expiry; Cyber Essentials does not allow it: record it as a CIS deviation)"
        )), vec![f.evidence]),
        None => make(PWEXPIRY, Verdict::Unknown(format!("MaximumPasswordAge {:?} is not a number", f.value)), vec![f.evidence]),
    }
}

fn password_complexity(e: &WindowsEvidence) -> CheckResult {
    let Some(f) = e.setting(Key::PasswordComplexity) else {
        return secpol_unknown(e, PWCOMPLEX);
    };
    match f.number() {
        Some(0) => make(PWCOMPLEX, Verdict::Pass, vec![f.evidence]),
        Some(_) => make(PWCOMPLEX, Verdict::Fail(format!(
            "Turn complexity rules off and rely on length: set Group Policy \"{GPO_PWPOL} > Password must meet complexity requirements\" to Disabled (locally: `secedit /export /cfg p.inf`, set `PasswordComplexity = 0`, then `secedit /configure /db secedit.sdb /cfg p.inf /areas SECURITYPOLICY`)"
        )), vec![f.evidence]),
        None => make(PWCOMPLEX, Verdict::Unknown(format!("PasswordComplexity {:?} is not a number", f.value)), vec![f.evidence]),
    }
}

fn admins(e: &WindowsEvidence) -> CheckResult {
    let Some(members) = &e.administrators else {
        return make(
            ADMINS,
            Verdict::Unknown(e.why_unavailable(member::ADMINISTRATORS)),
            vec![],
        );
    };
    let evs: Vec<Evidence> = members
        .iter()
        .take(MAX_LISTED)
        .map(|m| {
            ev(
                member::ADMINISTRATORS,
                None,
                format!(
                    "{} ({}, {})",
                    m.name,
                    non_empty(&m.object_class, "?"),
                    non_empty(&m.source, "?")
                ),
            )
        })
        .collect();
    make(
        ADMINS,
        Verdict::Attest(format!(
            "The local Administrators group has {} members (listed). Is each one an account used only for administration, never for email, web browsing or everyday work, with each person doing daily work from a separate standard account? Are admin rights removed when no longer needed (`Remove-LocalGroupMember -SID S-1-5-32-544 -Member <name>`)?",
            members.len()
        )),
        evs,
    )
}

fn updates(e: &WindowsEvidence, now: i64) -> CheckResult {
    let Some(hotfixes) = &e.hotfixes else {
        return make(
            UPDATES,
            Verdict::Unknown(e.why_unavailable(member::HOTFIXES)),
            vec![],
        );
    };
    let Some(newest) = hotfixes
        .iter()
        .filter(|h| h.installed_on.is_some())
        .max_by_key(|h| h.installed_on)
    else {
        return make(
            UPDATES,
            Verdict::Unknown(format!(
                "{} lists no update with an installation date",
                member::HOTFIXES
            )),
            vec![],
        );
    };
    let installed = newest.installed_on.unwrap_or(0);
    // The latest monthly security release that is more than 14 days old.
    let (mut y, mut m, _) = civil_from_days(now);
    let mut due = patch_tuesday(y, m);
    for _ in 0..2 {
        if now - due > 14 {
            break;
        }
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
        due = patch_tuesday(y, m);
    }
    let evs = vec![ev(
        member::HOTFIXES,
        None,
        format!(
            "newest update {} ({}) installed {}; the {} monthly security release was due by {}",
            newest.id,
            non_empty(&newest.description, "update"),
            format_day(installed),
            format_day(due),
            format_day(due + 14)
        ),
    )];
    if installed >= due {
        return make(UPDATES, Verdict::Pass, evs);
    }
    make(
        UPDATES,
        Verdict::Fail(format!(
            "No update has been installed since {}: the {} security release (and any before it) is more than 14 days old. Install all pending updates now: Settings > Windows Update > Check for updates (or `usoclient StartInteractiveScan`), restart, then collect the evidence again",
            format_day(installed),
            format_day(due)
        )),
        evs,
    )
}

fn automatic_updates(e: &WindowsEvidence) -> CheckResult {
    let fix = "Turn automatic updates on: set Group Policy \"Computer Configuration > Administrative Templates > Windows Components > Windows Update > Manage end user experience > Configure Automatic Updates\" to Enabled with \"4 - Auto download and schedule the install\" (registry HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU: NoAutoUpdate = 0, AUOptions = 4)";
    if let Some(f) = e.setting(Key::NoAutoUpdate) {
        if f.number() == Some(1) {
            return make(AUTOUPDATE, Verdict::Fail(fix.into()), vec![f.evidence]);
        }
    }
    match e.setting(Key::AuOptions) {
        Some(f) if f.number() == Some(4) => make(AUTOUPDATE, Verdict::Pass, vec![f.evidence]),
        Some(f) => make(AUTOUPDATE, Verdict::Fail(fix.into()), vec![f.evidence]),
        None if e.registry_read(Key::AuOptions) => make(
            AUTOUPDATE,
            Verdict::Pass,
            vec![ev(
                member::REGISTRY,
                None,
                r"no Windows Update policy (HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU): Windows installs updates automatically by default",
            )],
        ),
        None => make(
            AUTOUPDATE,
            Verdict::Unknown(e.why_unavailable(member::REGISTRY)),
            vec![],
        ),
    }
}

/// One row of the Windows end-of-servicing table.
struct OsEol<'a> {
    build: u32,
    kind: &'a str,
    end: i64,
    esu_end: Option<i64>,
    name: &'a str,
}

const WINDOWS_EOL: &str = include_str!("../data/windows-eol.tsv");
const SOFTWARE_EOL: &str = include_str!("../data/software-eol.tsv");

fn os_table() -> impl Iterator<Item = OsEol<'static>> {
    WINDOWS_EOL
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(OsEol {
                build: f.next()?.parse().ok()?,
                kind: f.next()?,
                end: parse_date(f.next()?)?,
                esu_end: parse_date(f.next()?),
                name: f.next()?,
            })
        })
}

fn os_kind(os: &crate::evidence::OsInfo) -> &'static str {
    let cap = os.caption.to_ascii_lowercase();
    let ed = os.edition_id.to_ascii_lowercase();
    if matches!(os.product_type, Some(2 | 3)) || cap.contains("server") || ed.starts_with("server")
    {
        "server"
    } else if cap.contains("ltsc")
        || cap.contains("ltsb")
        || ed.starts_with("enterprises")
        || ed.starts_with("iotenterprises")
    {
        "ltsc"
    } else if ed.starts_with("enterprise")
        || ed.starts_with("education")
        || ed.starts_with("iotenterprise")
        || cap.contains("enterprise")
        || (cap.contains("education") && !cap.contains("pro education"))
    {
        "enterprise"
    } else {
        "consumer"
    }
}

fn os_supported(e: &WindowsEvidence, today: i64) -> CheckResult {
    let Some(os) = &e.os else {
        return make(OS, Verdict::Unknown(e.why_unavailable(member::OS)), vec![]);
    };
    let kind = os_kind(os);
    let evs = vec![ev(
        member::OS,
        None,
        format!(
            "{} {} (build {}{}, {} servicing)",
            os.caption,
            os.display_version,
            os.build.map_or_else(|| "?".into(), |b| b.to_string()),
            os.ubr.map_or_else(String::new, |u| format!(".{u}")),
            kind
        ),
    )];
    let Some(build) = os.build else {
        return make(
            OS,
            Verdict::Unknown("os.json gives no build number".into()),
            evs,
        );
    };
    let Some(row) = os_table().find(|r| r.build == build && r.kind == kind) else {
        return make(OS, Verdict::Unknown(format!("build {build} ({kind}) is not in the Windows end-of-life table; check it at learn.microsoft.com/lifecycle")), evs);
    };
    let mut evs = evs;
    evs.push(ev(
        "data/windows-eol.tsv",
        None,
        format!("{}: security updates end {}", row.name, format_day(row.end)),
    ));
    if today <= row.end {
        return make(OS, Verdict::Pass, evs);
    }
    if let Some(esu) = row.esu_end.filter(|d| today <= *d) {
        return make(OS, Verdict::Attest(format!(
            "{} stopped receiving security updates on {}. Is this device enrolled in Extended Security Updates (paid or free ESU, valid until {})? If not, upgrade it or remove it from scope.",
            row.name, format_day(row.end), format_day(esu)
        )), evs);
    }
    make(OS, Verdict::Fail(format!(
        "{} has had no security updates since {}. Upgrade to a supported Windows release (Settings > Windows Update, or the Windows 11 Installation Assistant), or move the device to a segregated sub-set with no internet access",
        row.name, format_day(row.esu_end.unwrap_or(row.end))
    )), evs)
}

fn software(e: &WindowsEvidence, today: i64) -> CheckResult {
    let Some(programs) = &e.programs else {
        return make(
            SOFTWARE,
            Verdict::Unknown(e.why_unavailable(member::PROGRAMS)),
            vec![],
        );
    };
    let table: Vec<(String, &str, i64, &str)> = SOFTWARE_EOL
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((
                f.next()?.to_ascii_lowercase(),
                f.next()?,
                parse_date(f.next()?)?,
                f.next()?,
            ))
        })
        .collect();
    let mut evs = Vec::new();
    let mut advice = Vec::new();
    for p in programs {
        let lname = p.name.to_ascii_lowercase();
        if let Some((_, _, end, adv)) = table.iter().find(|(n, v, end, _)| {
            lname.contains(n.as_str()) && (*v == "-" || p.version.starts_with(v)) && today > *end
        }) {
            evs.push(ev(
                member::PROGRAMS,
                None,
                format!(
                    "[{}] {} {}: support ended {}",
                    p.index,
                    p.name,
                    p.version,
                    format_day(*end)
                ),
            ));
            advice.push(format!("{}: {adv}", p.name));
        }
    }
    if evs.is_empty() {
        return make(SOFTWARE, Verdict::Attest(format!(
            "None of the {} installed programs is on Portcullis's end-of-support list. Is every one licensed and still supported by its vendor?",
            programs.len()
        )), vec![ev(member::PROGRAMS, None, format!("{} programs checked against data/software-eol.tsv", programs.len()))]);
    }
    make(SOFTWARE, Verdict::Fail(format!(
        "Remove unsupported software (Settings > Apps > Installed apps > Uninstall, or `winget uninstall --name \"<name>\"`), or move it to a sub-set with no internet access: {}",
        advice.join("; ")
    )), evs)
}

fn third_party_av(e: &WindowsEvidence) -> Option<&crate::evidence::AvProduct> {
    e.av_products.as_ref()?.iter().find(|p| {
        let n = p.name.to_ascii_lowercase();
        !n.contains("windows defender")
            && !n.contains("microsoft defender")
            && p.enabled() == Some(true)
    })
}

fn antimalware(e: &WindowsEvidence) -> CheckResult {
    let fix = "Turn Microsoft Defender Antivirus real-time protection on: `Set-MpPreference -DisableRealtimeMonitoring $false` as administrator (and remove any policy \"Computer Configuration > Administrative Templates > Windows Components > Microsoft Defender Antivirus > Turn off Microsoft Defender Antivirus\"), or install and turn on another anti-malware product";
    let mut evs = Vec::new();
    if let Some(av) = third_party_av(e) {
        evs.push(ev(
            member::SECURITY_CENTER,
            None,
            format!(
                "{}: productState 0x{:06X} (real-time on)",
                av.name,
                av.state.unwrap_or(0)
            ),
        ));
        return make(AV, Verdict::Pass, evs);
    }
    if let Some(d) = &e.defender {
        evs.push(ev(member::DEFENDER, None, format!(
            "AMServiceEnabled={}, AntivirusEnabled={}, RealTimeProtectionEnabled={}, AMRunningMode={}",
            show_bool(d.am_service_enabled), show_bool(d.antivirus_enabled), show_bool(d.real_time_enabled), d.running_mode.as_deref().unwrap_or("?")
        )));
        return match (
            d.am_service_enabled,
            d.antivirus_enabled,
            d.real_time_enabled,
        ) {
            (Some(true), Some(true), Some(true)) => make(AV, Verdict::Pass, evs),
            (a, b, c) if a == Some(false) || b == Some(false) || c == Some(false) => {
                make(AV, Verdict::Fail(fix.into()), evs)
            }
            _ => make(
                AV,
                Verdict::Unknown(
                    "defender.json does not show whether real-time protection is on".into(),
                ),
                evs,
            ),
        };
    }
    if let Some(f) = e.setting(Key::RealtimeMonitoringPolicy) {
        return match f.number() {
            Some(1) => make(AV, Verdict::Pass, vec![f.evidence]),
            _ => make(AV, Verdict::Fail(fix.into()), vec![f.evidence]),
        };
    }
    make(
        AV,
        Verdict::Unknown(e.why_unavailable(member::DEFENDER)),
        evs,
    )
}

fn signatures(e: &WindowsEvidence, now: i64) -> CheckResult {
    let fix = "Update the signatures now (`Update-MpSignature`, or Windows Security > Virus & threat protection > Protection updates) and make sure they update at least daily: Group Policy \"Computer Configuration > Administrative Templates > Windows Components > Microsoft Defender Antivirus > Security Intelligence Updates > Specify the interval to check for security intelligence updates\" = 1 (hours), with Windows Update or WSUS reachable";
    if let Some(av) = third_party_av(e) {
        let ev1 = vec![ev(
            member::SECURITY_CENTER,
            None,
            format!("{}: productState 0x{:06X}", av.name, av.state.unwrap_or(0)),
        )];
        return match av.up_to_date() {
            Some(true) => make(SIGS, Verdict::Pass, ev1),
            _ => make(
                SIGS,
                Verdict::Fail(format!(
                    "Update {} and make sure it updates at least daily",
                    av.name
                )),
                ev1,
            ),
        };
    }
    if let Some(d) = &e.defender {
        let age = d
            .signature_last_updated
            .map(|t| now - t)
            .or(d.signature_age_days);
        let evs = vec![ev(member::DEFENDER, None, format!(
            "AntivirusSignatureVersion={}, AntivirusSignatureLastUpdated={}, AntivirusSignatureAge={}",
            d.signature_version.as_deref().unwrap_or("?"),
            d.signature_last_updated.map_or_else(|| "?".into(), format_day),
            d.signature_age_days.map_or_else(|| "?".into(), |a| a.to_string())
        ))];
        return match age {
            Some(a) if a <= 1 => make(SIGS, Verdict::Pass, evs),
            Some(_) => make(SIGS, Verdict::Fail(fix.into()), evs),
            None => make(
                SIGS,
                Verdict::Unknown("defender.json gives no signature date or age".into()),
                evs,
            ),
        };
    }
    let policy = e.policy.iter().find(|p| {
        p.id.ends_with("defender_signatureupdateinterval") || p.id == "signature update interval"
    });
    if let Some(p) = policy {
        let evs = vec![Evidence {
            source: format!("{} (configured policy, not observed state)", p.source),
            line: p.line,
            detail: format!("{} = {} (hours)", p.id, p.value),
        }];
        return match p.value.trim().parse::<i64>() {
            Ok(h) if (1..=24).contains(&h) => make(SIGS, Verdict::Pass, evs),
            _ => make(SIGS, Verdict::Fail(fix.into()), evs),
        };
    }
    make(
        SIGS,
        Verdict::Unknown(e.why_unavailable(member::DEFENDER)),
        vec![],
    )
}

fn web_protection(e: &WindowsEvidence) -> CheckResult {
    let np = e.setting(Key::NetworkProtection);
    let ss = e.setting(Key::EnableSmartScreen);
    let mut evs = Vec::new();
    let mut off = false;
    for f in [&np, &ss].into_iter().flatten() {
        evs.push(f.evidence.clone());
        match f.number() {
            Some(1) => return make(WEB, Verdict::Pass, evs),
            Some(0) => off = true,
            _ => {}
        }
    }
    if off {
        return make(WEB, Verdict::Fail("Block malicious websites: turn Defender network protection on (`Set-MpPreference -EnableNetworkProtection Enabled`) or set Group Policy \"Computer Configuration > Administrative Templates > Windows Components > Windows Defender SmartScreen > Explorer > Configure Windows Defender SmartScreen\" to Enabled".into()), evs);
    }
    if e.registry.is_none() && e.policy.is_empty() {
        return make(
            WEB,
            Verdict::Unknown(e.why_unavailable(member::REGISTRY)),
            evs,
        );
    }
    make(WEB, Verdict::Attest("No policy for Defender network protection or SmartScreen is set. Does the anti-malware or the web browser on this device block connections to known malicious websites (Microsoft Defender SmartScreen in Edge is on by default)?".into()), evs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(t: &str) -> Vec<&str> {
        t.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect()
    }

    #[test]
    fn end_of_life_tables_parse_fully_and_are_ordered() {
        let os: Vec<OsEol<'static>> = os_table().collect();
        assert_eq!(
            os.len(),
            rows(WINDOWS_EOL).len(),
            "a windows-eol.tsv row does not parse"
        );
        for w in os.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            assert!(a.build <= b.build, "{} after {}", b.name, a.name);
            assert!(
                !(a.build == b.build && a.kind == b.kind),
                "duplicate {}",
                b.name
            );
        }
        for r in &os {
            assert!(
                matches!(r.kind, "consumer" | "enterprise" | "ltsc" | "server"),
                "{}",
                r.name
            );
            assert!(r.esu_end.is_none_or(|e| e > r.end), "{}", r.name);
        }
        for l in rows(SOFTWARE_EOL) {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 4, "{l}");
            assert!(parse_date(f[2]).is_some(), "{l}");
        }
        // Spot checks against the sources named in the file.
        let end = |b: u32, k: &str| {
            os.iter()
                .find(|r| r.build == b && r.kind == k)
                .map(|r| r.end)
        };
        assert_eq!(end(19045, "consumer"), parse_date("2025-10-14"));
        assert_eq!(end(18363, "enterprise"), parse_date("2022-05-10"));
        assert_eq!(end(7601, "consumer"), parse_date("2020-01-14"));
    }
}
