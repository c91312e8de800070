//! Typed evidence and one parser per archive member. Each parser takes the
//! member's bytes and returns the typed value, or the reason it could not be
//! read (which the loader records as an unavailable member).

use crate::json::{boolean, date, field, int, items, text};
use crate::secedit::SecPolicy;
use crate::text::decode;
use portcullis_model::Diagnostic;
use serde_json::Value;

/// Archive member names, as the collection script writes them.
pub mod member {
    /// Collection manifest.
    pub const MANIFEST: &str = "manifest.json";
    /// `secedit /export` output.
    pub const SECPOL: &str = "secpol.inf";
    /// `netsh advfirewall show allprofiles`.
    pub const NETSH: &str = "netsh-firewall.txt";
    /// `Get-NetFirewallProfile -PolicyStore ActiveStore`.
    pub const FIREWALL_PROFILES: &str = "firewall-profiles.json";
    /// Enabled inbound allow rules.
    pub const FIREWALL_RULES: &str = "firewall-rules.json";
    /// `Get-MpComputerStatus`.
    pub const DEFENDER: &str = "defender.json";
    /// `root/SecurityCenter2 AntiVirusProduct`.
    pub const SECURITY_CENTER: &str = "security-center.json";
    /// `Get-HotFix`.
    pub const HOTFIXES: &str = "hotfixes.json";
    /// Uninstall registry keys.
    pub const PROGRAMS: &str = "programs.json";
    /// `Get-LocalUser`.
    pub const LOCAL_USERS: &str = "local-users.json";
    /// `Get-LocalGroupMember -SID S-1-5-32-544`.
    pub const ADMINISTRATORS: &str = "administrators.json";
    /// `Get-BitLockerVolume`.
    pub const BITLOCKER: &str = "bitlocker.json";
    /// Policy registry values.
    pub const REGISTRY: &str = "registry.json";
    /// `Win32_OperatingSystem` plus `CurrentVersion`.
    pub const OS: &str = "os.json";
    /// `Get-NetTCPConnection -State Listen`.
    pub const LISTENING: &str = "listening.json";
    /// Every member the script writes, manifest first.
    pub const ALL: [&str; 15] = [
        MANIFEST,
        SECPOL,
        NETSH,
        FIREWALL_PROFILES,
        FIREWALL_RULES,
        DEFENDER,
        SECURITY_CENTER,
        HOTFIXES,
        PROGRAMS,
        LOCAL_USERS,
        ADMINISTRATORS,
        BITLOCKER,
        REGISTRY,
        OS,
        LISTENING,
    ];
}

/// Bound on the items read from one list member.
pub const MAX_ITEMS: usize = 50_000;

/// The collection manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Archive schema version (1).
    pub schema: Option<i64>,
    /// When the evidence was collected (days since 1970-01-01).
    pub collected: Option<i64>,
    /// Collection time as written.
    pub collected_text: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// Script version.
    pub script_version: Option<String>,
    /// Whether the script ran elevated.
    pub elevated: Option<bool>,
    /// Per-member outcome: (member, error if it failed).
    pub items: Vec<(String, Option<String>)>,
}

/// One firewall profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallProfile {
    /// Domain, Private or Public.
    pub name: String,
    /// Firewall on; `None` when not shown.
    pub enabled: Option<bool>,
    /// Default inbound action is block; `None` when not shown.
    pub inbound_blocked: Option<bool>,
    /// What the source said, for evidence (`Enabled=True, DefaultInboundAction=Block`).
    pub detail: String,
    /// Member it came from.
    pub source: &'static str,
    /// Line, for the netsh text.
    pub line: Option<u32>,
}

/// One enabled inbound allow rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirewallRule {
    /// Rule name (ID).
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// Profiles (`Any`, `Domain, Private`…).
    pub profile: String,
    /// Protocol (`TCP`, `UDP`, `Any`).
    pub protocol: String,
    /// Local ports (`3389`, `Any`, `RPC`…).
    pub local_port: String,
    /// Remote addresses (`Any`, `LocalSubnet`, a range).
    pub remote_address: String,
    /// Program path, or `Any`.
    pub program: String,
    /// Index in the member (0-based).
    pub index: usize,
}

/// `Get-MpComputerStatus`, the fields the checks use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefenderStatus {
    /// AMServiceEnabled.
    pub am_service_enabled: Option<bool>,
    /// AntivirusEnabled.
    pub antivirus_enabled: Option<bool>,
    /// RealTimeProtectionEnabled.
    pub real_time_enabled: Option<bool>,
    /// AntivirusSignatureAge (days).
    pub signature_age_days: Option<i64>,
    /// AntivirusSignatureLastUpdated (days since 1970).
    pub signature_last_updated: Option<i64>,
    /// AntivirusSignatureVersion.
    pub signature_version: Option<String>,
    /// AMRunningMode (`Normal`, `Passive Mode`, `EDR Block Mode`).
    pub running_mode: Option<String>,
}

/// One anti-virus product registered with Windows Security Center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvProduct {
    /// displayName.
    pub name: String,
    /// productState bit field.
    pub state: Option<u32>,
}

impl AvProduct {
    /// Real-time protection on, per productState (bits 12–15 = 1).
    pub fn enabled(&self) -> Option<bool> {
        self.state.map(|s| (s >> 12) & 0xF == 1)
    }
    /// Signatures up to date, per productState (bits 4–7 = 0).
    pub fn up_to_date(&self) -> Option<bool> {
        self.state.map(|s| (s >> 4) & 0xF == 0)
    }
}

/// One installed update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hotfix {
    /// HotFixID (`KB5044284`).
    pub id: String,
    /// Description (`Security Update`, `Update`).
    pub description: String,
    /// InstalledOn (days since 1970), when known.
    pub installed_on: Option<i64>,
}

/// One installed program (Uninstall registry key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// DisplayName.
    pub name: String,
    /// DisplayVersion.
    pub version: String,
    /// Publisher.
    pub publisher: String,
    /// Index in the member.
    pub index: usize,
}

/// One local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// Name.
    pub name: String,
    /// SID text.
    pub sid: String,
    /// Enabled.
    pub enabled: Option<bool>,
    /// PasswordRequired.
    pub password_required: Option<bool>,
    /// LastLogon (days since 1970); `None` when never or unknown.
    pub last_logon: Option<i64>,
}

impl LocalUser {
    /// The RID (last SID component): 500 Administrator, 501 Guest, 503
    /// DefaultAccount, 504 WDAGUtilityAccount.
    pub fn rid(&self) -> Option<u32> {
        self.sid.rsplit('-').next()?.parse().ok()
    }
}

/// One member of the local Administrators group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// `HOST\name` or `DOMAIN\name`.
    pub name: String,
    /// `User` or `Group`.
    pub object_class: String,
    /// `Local`, `ActiveDirectory`, `AzureAD`, `MicrosoftAccount`.
    pub source: String,
}

/// One BitLocker volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitLockerVolume {
    /// `C:`.
    pub mount_point: String,
    /// `On`/`Off` (or 1/0).
    pub protection_status: String,
}

/// Registry data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegData {
    /// DWORD/QWORD.
    Number(i64),
    /// String data.
    Text(String),
}

impl RegData {
    /// As an integer, when it is one (text holding digits counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            RegData::Number(n) => Some(*n),
            RegData::Text(t) => t.trim().parse().ok(),
        }
    }
    /// As display text.
    pub fn display(&self) -> String {
        match self {
            RegData::Number(n) => n.to_string(),
            RegData::Text(t) => t.clone(),
        }
    }
}

/// One registry value the script read (absent values are listed with `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryValue {
    /// Key path, normalised to `HKLM\…` / `HKCU\…`.
    pub path: String,
    /// Value name.
    pub name: String,
    /// Data; `None` when the value does not exist.
    pub data: Option<RegData>,
    /// Index in the member.
    pub index: usize,
}

/// Operating system facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsInfo {
    /// Caption (`Microsoft Windows 11 Pro`).
    pub caption: String,
    /// Version (`10.0.22631`).
    pub version: String,
    /// BuildNumber.
    pub build: Option<u32>,
    /// UBR (update build revision).
    pub ubr: Option<u32>,
    /// DisplayVersion (`23H2`).
    pub display_version: String,
    /// EditionID (`Professional`, `Enterprise`, `ServerStandard`).
    pub edition_id: String,
    /// ProductType: 1 workstation, 2 domain controller, 3 server.
    pub product_type: Option<i64>,
}

/// One listening TCP socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// LocalAddress.
    pub address: String,
    /// LocalPort.
    pub port: u16,
    /// Owning process name, when collected.
    pub process: String,
}

/// One setting from an Intune configuration-policy export: configured
/// policy, not observed machine state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySetting {
    /// Setting ID, lower case (`device_vendor_msft_policy_config_…`,
    /// `…_pinminimumlength`), or the CSV's setting name.
    pub id: String,
    /// Value; for a choice setting, the suffix after the ID (`1`, `255`).
    pub value: String,
    /// Export file name.
    pub source: String,
    /// Line, for the CSV.
    pub line: Option<u32>,
}

/// A member that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// Member name.
    pub member: String,
    /// Why (missing, the script's recorded error, garbled).
    pub reason: String,
}

fn parse_json(bytes: &[u8], member: &str) -> Result<Value, String> {
    let text = decode(bytes);
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return Err(format!("{member} is empty"));
    }
    serde_json::from_str(t).map_err(|e| format!("{member} is not valid JSON: {e}"))
}

fn diag_json(bytes: &[u8], member: &str, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    match parse_json(bytes, member) {
        Ok(v) => Some(v),
        Err(msg) => {
            diags.push(Diagnostic::error(
                member,
                format!("{msg}; re-run collect-evidence.ps1"),
            ));
            None
        }
    }
}

fn list<T>(
    bytes: &[u8],
    member: &str,
    diags: &mut Vec<Diagnostic>,
    mut f: impl FnMut(usize, &Value) -> Option<T>,
) -> Result<Vec<T>, String> {
    let v = diag_json(bytes, member, diags).ok_or_else(|| format!("{member} is garbled"))?;
    if !(v.is_array() || v.is_object()) {
        diags.push(Diagnostic::error(member, "expected a JSON array or object"));
        return Err(format!("{member} is not a list"));
    }
    Ok(items(&v)
        .into_iter()
        .take(MAX_ITEMS)
        .enumerate()
        .filter_map(|(i, x)| f(i, x))
        .collect())
}

fn s(v: &Value, k: &str) -> String {
    text(v, k).unwrap_or_default()
}

/// manifest.json.
pub fn parse_manifest(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Manifest, String> {
    let v = diag_json(b, member::MANIFEST, d).ok_or("manifest.json is garbled")?;
    let mut m = Manifest {
        schema: int(&v, "schema"),
        collected: date(&v, "collected"),
        collected_text: text(&v, "collected"),
        host: text(&v, "host"),
        script_version: text(&v, "script_version"),
        elevated: boolean(&v, "elevated"),
        items: Vec::new(),
    };
    if let Some(its) = field(&v, "items") {
        for it in items(its).into_iter().take(1000) {
            if let Some(name) = text(it, "member") {
                let err = if boolean(it, "ok") == Some(true) {
                    None
                } else {
                    Some(
                        text(it, "error").unwrap_or_else(|| "the script recorded a failure".into()),
                    )
                };
                m.items.push((name, err));
            }
        }
    }
    if m.schema.is_some_and(|s| s != 1) {
        d.push(Diagnostic::warning(
            member::MANIFEST,
            format!(
                "schema {} is newer than this reader (1); reading what it can",
                m.schema.unwrap_or(0)
            ),
        ));
    }
    Ok(m)
}

/// secpol.inf.
pub fn parse_secpol(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<SecPolicy, String> {
    let p = SecPolicy::parse(&decode(b), member::SECPOL, d);
    if p.entries.is_empty() {
        d.push(Diagnostic::error(
            member::SECPOL,
            "no settings found; re-run `secedit /export /cfg secpol.inf` as administrator",
        ));
        return Err("secpol.inf holds no settings".into());
    }
    Ok(p)
}

fn profile_name(raw: &str) -> String {
    let l = raw.to_ascii_lowercase();
    for n in ["Domain", "Private", "Public"] {
        if l.starts_with(&n.to_ascii_lowercase()) {
            return n.to_string();
        }
    }
    raw.to_string()
}

/// firewall-profiles.json.
pub fn parse_firewall_profiles(
    b: &[u8],
    d: &mut Vec<Diagnostic>,
) -> Result<Vec<FirewallProfile>, String> {
    list(b, member::FIREWALL_PROFILES, d, |_, v| {
        let name = profile_name(&text(v, "Name")?);
        let enabled_raw = s(v, "Enabled");
        let inbound_raw = s(v, "DefaultInboundAction");
        let inbound = match inbound_raw.to_ascii_lowercase().as_str() {
            "block" | "4" => Some(true),
            "allow" | "2" => Some(false),
            // NotConfigured: the Windows default, which is block.
            "notconfigured" | "0" => Some(true),
            _ => None,
        };
        let inbound_text = match inbound_raw.as_str() {
            "4" => "Block",
            "2" => "Allow",
            "0" => "NotConfigured (Windows default: Block)",
            "NotConfigured" => "NotConfigured (Windows default: Block)",
            other => other,
        };
        Some(FirewallProfile {
            enabled: boolean(v, "Enabled"),
            inbound_blocked: inbound,
            detail: format!("{name}: Enabled={enabled_raw}, DefaultInboundAction={inbound_text}"),
            name,
            source: member::FIREWALL_PROFILES,
            line: None,
        })
    })
}

/// netsh-firewall.txt (English output; other languages give no profiles).
pub fn parse_netsh(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<FirewallProfile>, String> {
    let text = decode(b);
    let mut out: Vec<FirewallProfile> = Vec::new();
    for (i, raw) in text.lines().enumerate().take(100_000) {
        let line = raw.trim();
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(name) = line.strip_suffix("Profile Settings:") {
            out.push(FirewallProfile {
                name: profile_name(name.trim()),
                enabled: None,
                inbound_blocked: None,
                detail: String::new(),
                source: member::NETSH,
                line: Some(no),
            });
            continue;
        }
        let Some(p) = out.last_mut() else { continue };
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => continue,
        };
        if key == "State" {
            p.enabled = match value {
                "ON" => Some(true),
                "OFF" => Some(false),
                _ => None,
            };
            p.detail = format!("{}: State {value}", p.name);
            p.line = Some(no);
        } else if line.starts_with("Firewall Policy") {
            let pol = line.trim_start_matches("Firewall Policy").trim();
            let inbound = pol.split(',').next().unwrap_or("");
            p.inbound_blocked = match inbound {
                "BlockInbound" | "BlockInboundAlways" => Some(true),
                "AllowInbound" => Some(false),
                _ => None,
            };
            p.detail = format!("{}; Firewall Policy {pol}", p.detail);
        }
    }
    if out.is_empty() {
        d.push(Diagnostic::warning(
            member::NETSH,
            "no \"… Profile Settings:\" sections (non-English Windows?); firewall-profiles.json is used instead",
        ));
        return Err("netsh-firewall.txt shows no profiles".into());
    }
    Ok(out)
}

/// firewall-rules.json.
pub fn parse_firewall_rules(
    b: &[u8],
    d: &mut Vec<Diagnostic>,
) -> Result<Vec<FirewallRule>, String> {
    list(b, member::FIREWALL_RULES, d, |i, v| {
        // The script keeps only enabled inbound allow rules; re-check in case
        // a hand-made or other export is given.
        let dir = s(v, "Direction").to_ascii_lowercase();
        let action = s(v, "Action").to_ascii_lowercase();
        let enabled = boolean(v, "Enabled");
        if matches!(dir.as_str(), "outbound" | "2")
            || matches!(action.as_str(), "block" | "4")
            || enabled == Some(false)
        {
            return None;
        }
        let or_any = |k: &str| {
            let t = text(v, k).or_else(|| {
                field(v, k).filter(|x| x.is_array()).map(|x| {
                    x.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(crate::json::scalar_text)
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                })
            });
            t.filter(|t| !t.is_empty()).unwrap_or_else(|| "Any".into())
        };
        Some(FirewallRule {
            name: s(v, "Name"),
            display_name: s(v, "DisplayName"),
            profile: or_any("Profile"),
            protocol: or_any("Protocol"),
            local_port: or_any("LocalPort"),
            remote_address: or_any("RemoteAddress"),
            program: or_any("Program"),
            index: i,
        })
    })
}

/// defender.json.
pub fn parse_defender(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<DefenderStatus, String> {
    let v = diag_json(b, member::DEFENDER, d).ok_or("defender.json is garbled")?;
    let v = items(&v)
        .into_iter()
        .next()
        .ok_or("defender.json holds no object")?;
    Ok(DefenderStatus {
        am_service_enabled: boolean(v, "AMServiceEnabled"),
        antivirus_enabled: boolean(v, "AntivirusEnabled"),
        real_time_enabled: boolean(v, "RealTimeProtectionEnabled"),
        signature_age_days: int(v, "AntivirusSignatureAge"),
        signature_last_updated: date(v, "AntivirusSignatureLastUpdated"),
        signature_version: text(v, "AntivirusSignatureVersion"),
        running_mode: text(v, "AMRunningMode"),
    })
}

/// security-center.json.
pub fn parse_security_center(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<AvProduct>, String> {
    list(b, member::SECURITY_CENTER, d, |_, v| {
        Some(AvProduct {
            name: text(v, "displayName")?,
            state: int(v, "productState").and_then(|n| u32::try_from(n).ok()),
        })
    })
}

/// hotfixes.json.
pub fn parse_hotfixes(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<Hotfix>, String> {
    list(b, member::HOTFIXES, d, |_, v| {
        Some(Hotfix {
            id: text(v, "HotFixID")?,
            description: s(v, "Description"),
            installed_on: date(v, "InstalledOn"),
        })
    })
}

/// programs.json.
pub fn parse_programs(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<Program>, String> {
    list(b, member::PROGRAMS, d, |i, v| {
        let name = text(v, "DisplayName")?;
        Some(Program {
            name,
            version: s(v, "DisplayVersion"),
            publisher: s(v, "Publisher"),
            index: i,
        })
    })
}

/// local-users.json.
pub fn parse_local_users(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<LocalUser>, String> {
    list(b, member::LOCAL_USERS, d, |_, v| {
        let sid = field(v, "SID").map_or_else(String::new, |x| {
            crate::json::scalar_text(x).unwrap_or_else(|| text(x, "Value").unwrap_or_default())
        });
        Some(LocalUser {
            name: text(v, "Name")?,
            sid,
            enabled: boolean(v, "Enabled"),
            password_required: boolean(v, "PasswordRequired"),
            last_logon: date(v, "LastLogon"),
        })
    })
}

/// administrators.json.
pub fn parse_administrators(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<GroupMember>, String> {
    list(b, member::ADMINISTRATORS, d, |_, v| {
        let source = match s(v, "PrincipalSource").as_str() {
            "0" => "Unknown".to_string(),
            "1" => "Local".to_string(),
            "2" => "ActiveDirectory".to_string(),
            "3" => "AzureAD".to_string(),
            "4" => "MicrosoftAccount".to_string(),
            other => other.to_string(),
        };
        Some(GroupMember {
            name: text(v, "Name")?,
            object_class: s(v, "ObjectClass"),
            source,
        })
    })
}

/// bitlocker.json.
pub fn parse_bitlocker(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<BitLockerVolume>, String> {
    list(b, member::BITLOCKER, d, |_, v| {
        let ps = s(v, "ProtectionStatus");
        Some(BitLockerVolume {
            mount_point: text(v, "MountPoint")?,
            protection_status: match ps.as_str() {
                "0" => "Off".into(),
                "1" => "On".into(),
                _ => ps,
            },
        })
    })
}

/// Normalises a registry path to `HKLM\…` or `HKCU\…`.
pub fn normalise_key(p: &str) -> String {
    let p = p.trim().replace('/', "\\");
    let lower = p.to_ascii_lowercase();
    for (long, short) in [
        ("registry::hkey_local_machine\\", "HKLM\\"),
        ("hkey_local_machine\\", "HKLM\\"),
        ("hklm:\\", "HKLM\\"),
        ("registry::hkey_current_user\\", "HKCU\\"),
        ("hkey_current_user\\", "HKCU\\"),
        ("hkcu:\\", "HKCU\\"),
    ] {
        if lower.starts_with(long) {
            return format!("{short}{}", p.get(long.len()..).unwrap_or(""));
        }
    }
    p
}

/// registry.json.
pub fn parse_registry(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<RegistryValue>, String> {
    list(b, member::REGISTRY, d, |i, v| {
        let data = match field(v, "Value") {
            Some(Value::Number(n)) => n.as_i64().map(RegData::Number),
            Some(Value::String(t)) => Some(RegData::Text(t.clone())),
            Some(Value::Bool(b)) => Some(RegData::Number(i64::from(*b))),
            Some(Value::Array(a)) => Some(RegData::Text(
                a.iter()
                    .filter_map(crate::json::scalar_text)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            _ => None,
        };
        Some(RegistryValue {
            path: normalise_key(&text(v, "Path")?),
            name: text(v, "Name")?,
            data,
            index: i,
        })
    })
}

/// os.json.
pub fn parse_os(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<OsInfo, String> {
    let v = diag_json(b, member::OS, d).ok_or("os.json is garbled")?;
    let v = items(&v)
        .into_iter()
        .next()
        .ok_or("os.json holds no object")?;
    let os = OsInfo {
        caption: s(v, "Caption"),
        version: s(v, "Version"),
        build: int(v, "BuildNumber").and_then(|n| u32::try_from(n).ok()),
        ubr: int(v, "UBR").and_then(|n| u32::try_from(n).ok()),
        display_version: s(v, "DisplayVersion"),
        edition_id: s(v, "EditionID"),
        product_type: int(v, "ProductType"),
    };
    if os.build.is_none() {
        d.push(Diagnostic::error(
            member::OS,
            "no BuildNumber; the OS support check cannot be made",
        ));
    }
    Ok(os)
}

/// listening.json.
pub fn parse_listening(b: &[u8], d: &mut Vec<Diagnostic>) -> Result<Vec<Listener>, String> {
    list(b, member::LISTENING, d, |_, v| {
        Some(Listener {
            address: s(v, "LocalAddress"),
            port: int(v, "LocalPort").and_then(|n| u16::try_from(n).ok())?,
            process: s(v, "ProcessName"),
        })
    })
}
