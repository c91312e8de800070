//! Logical settings, each found in whichever source holds it: the secedit
//! export, the registry values, or (last, marked as configured policy) an
//! Intune export. Adding a setting is one row in [`Key::sources`].

use crate::evidence::member;
use crate::WindowsEvidence;
use portcullis_model::Evidence;

/// A logical Windows setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Minimum password length.
    MinimumPasswordLength,
    /// Account lockout threshold.
    LockoutBadCount,
    /// Maximum password age (days; 0 or -1 = never).
    MaximumPasswordAge,
    /// Password complexity (1 on).
    PasswordComplexity,
    /// Guest account enabled.
    EnableGuestAccount,
    /// Built-in Administrator enabled.
    EnableAdminAccount,
    /// Machine inactivity limit (seconds).
    InactivityTimeoutSecs,
    /// Autoplay off for drive types (255 = all).
    NoDriveTypeAutoRun,
    /// Autorun commands off (1).
    NoAutorun,
    /// Automatic logon (1 on).
    AutoAdminLogon,
    /// Automatic updates off (1).
    NoAutoUpdate,
    /// Automatic update behaviour (4 = install automatically).
    AuOptions,
    /// Remote Desktop refused (1), by policy.
    DenyTsConnectionsPolicy,
    /// Remote Desktop refused (1), local setting.
    DenyTsConnections,
    /// Network Level Authentication for RDP (1 on).
    RdpUserAuthentication,
    /// SmartScreen for Windows (1 on).
    EnableSmartScreen,
    /// Defender network protection (1 block).
    NetworkProtection,
    /// Windows Hello PIN minimum length.
    PinMinimumLength,
    /// Defender real-time monitoring by policy (1 allowed).
    RealtimeMonitoringPolicy,
    /// Password-protected screen saver (1).
    ScreenSaverIsSecure,
    /// Screen saver timeout (seconds).
    ScreenSaveTimeOut,
}

/// Where a setting may be found.
pub(crate) struct Sources {
    secedit: &'static [&'static str],
    secedit_registry: &'static [&'static str],
    registry: &'static [(&'static str, &'static str)],
    policy: &'static [&'static str],
}

const POL_SYS: &str = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System";
const POL_EXPLORER: &str = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer";
const AU: &str = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU";
const DESKTOP: &str = r"HKCU\Software\Policies\Microsoft\Windows\Control Panel\Desktop";

impl Key {
    pub(crate) fn sources(self) -> Sources {
        let s = |secedit, secedit_registry, registry, policy| Sources {
            secedit,
            secedit_registry,
            registry,
            policy,
        };
        match self {
            Key::MinimumPasswordLength => s(&["MinimumPasswordLength"], &[], &[], &["device_vendor_msft_policy_config_devicelock_minimumpasswordlength"]),
            Key::LockoutBadCount => s(&["LockoutBadCount"], &[], &[], &["device_vendor_msft_policy_config_devicelock_maxdevicepasswordfailedattempts"]),
            Key::MaximumPasswordAge => s(&["MaximumPasswordAge"], &[], &[], &[]),
            Key::PasswordComplexity => s(&["PasswordComplexity"], &[], &[], &[]),
            Key::EnableGuestAccount => s(&["EnableGuestAccount"], &[], &[], &[]),
            Key::EnableAdminAccount => s(&["EnableAdminAccount"], &[], &[], &[]),
            Key::InactivityTimeoutSecs => s(
                &[],
                &[r"\Policies\System\InactivityTimeoutSecs"],
                &[(POL_SYS, "InactivityTimeoutSecs")],
                &[
                    "device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_machineinactivitylimit_v2",
                    "device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_machineinactivitylimit",
                    "interactive logon machine inactivity limit",
                ],
            ),
            Key::NoDriveTypeAutoRun => s(
                &[],
                &[r"\Policies\Explorer\NoDriveTypeAutoRun"],
                &[(POL_EXPLORER, "NoDriveTypeAutoRun")],
                &["device_vendor_msft_policy_config_autoplay_turnoffautoplay_autorun_box", "turn off autoplay on"],
            ),
            Key::NoAutorun => s(
                &[],
                &[r"\Policies\Explorer\NoAutorun"],
                &[(POL_EXPLORER, "NoAutorun")],
                &["device_vendor_msft_policy_config_autoplay_setdefaultautorunbehavior_noautorun_dropdown", "default autorun behavior"],
            ),
            Key::AutoAdminLogon => s(&[], &[], &[(r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon", "AutoAdminLogon")], &[]),
            Key::NoAutoUpdate => s(&[], &[], &[(AU, "NoAutoUpdate")], &[]),
            Key::AuOptions => s(&[], &[], &[(AU, "AUOptions")], &[]),
            Key::DenyTsConnectionsPolicy => s(&[], &[], &[(r"HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services", "fDenyTSConnections")], &[]),
            Key::DenyTsConnections => s(&[], &[], &[(r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server", "fDenyTSConnections")], &[]),
            Key::RdpUserAuthentication => s(&[], &[], &[(r"HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp", "UserAuthentication")], &[]),
            Key::EnableSmartScreen => s(&[], &[], &[(r"HKLM\SOFTWARE\Policies\Microsoft\Windows\System", "EnableSmartScreen")], &["smartscreenenableinshell"]),
            Key::NetworkProtection => s(
                &[],
                &[],
                &[(r"HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\Network Protection", "EnableNetworkProtection")],
                &["device_vendor_msft_policy_config_defender_enablenetworkprotection"],
            ),
            Key::PinMinimumLength => s(
                &[],
                &[],
                &[(r"HKLM\SOFTWARE\Policies\Microsoft\PassportForWork\PINComplexity", "MinimumPINLength")],
                &["windowsidentityprotectionconfiguration_pinminimumlength", "pinminimumlength"],
            ),
            Key::RealtimeMonitoringPolicy => s(&[], &[], &[], &["device_vendor_msft_policy_config_defender_allowrealtimemonitoring", "allow realtime monitoring"]),
            Key::ScreenSaverIsSecure => s(&[], &[], &[(DESKTOP, "ScreenSaverIsSecure")], &[]),
            Key::ScreenSaveTimeOut => s(&[], &[], &[(DESKTOP, "ScreenSaveTimeOut")], &[]),
        }
    }
}

/// A setting's value and where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The value as text (`12`, `255`, `All drives`).
    pub value: String,
    /// The evidence line for a result.
    pub evidence: Evidence,
    /// True when it came from an Intune export (configured policy, not observed state).
    pub configured_policy: bool,
}

impl Found {
    /// The value as an integer, mapping the NCSC CSV's words where known.
    pub fn number(&self) -> Option<i64> {
        let v = self.value.trim();
        v.parse()
            .ok()
            .or_else(|| match v.to_ascii_lowercase().as_str() {
                "all drives" => Some(255),
                "do not execute any autorun commands" => Some(1),
                "true" | "enabled" => Some(1),
                "false" | "disabled" => Some(0),
                s if s.starts_with("allowed") => Some(1),
                _ => None,
            })
    }
}

impl WindowsEvidence {
    /// Finds a setting: observed state first (secedit, registry), then
    /// configured Intune policy. `None` when no source holds it (for
    /// registry values the script read, an absent value is also `None`: use
    /// [`WindowsEvidence::registry_read`] to tell "absent" from "not read").
    pub fn setting(&self, key: Key) -> Option<Found> {
        let src = key.sources();
        if let Some(sp) = &self.secpol {
            for k in src.secedit {
                if let Some((v, e)) = sp.system_access(k) {
                    return Some(observed(
                        member::SECPOL,
                        Some(e.line),
                        format!("{} = {}", e.key, e.value),
                        v.to_string(),
                    ));
                }
            }
            for k in src.secedit_registry {
                if let Some((v, e)) = sp.registry_value(k) {
                    return Some(observed(
                        member::SECPOL,
                        Some(e.line),
                        format!("{}={}", e.key, e.value),
                        v,
                    ));
                }
            }
        }
        if let Some(reg) = &self.registry {
            for (path, name) in src.registry {
                if let Some(r) = reg.iter().find(|r| {
                    r.path.eq_ignore_ascii_case(path) && r.name.eq_ignore_ascii_case(name)
                }) {
                    if let Some(d) = &r.data {
                        return Some(observed(
                            member::REGISTRY,
                            None,
                            format!("[{}] {}\\{} = {}", r.index, r.path, r.name, d.display()),
                            d.display(),
                        ));
                    }
                }
            }
        }
        for id in src.policy {
            if let Some(p) = self
                .policy
                .iter()
                .find(|p| p.id == *id || p.id.ends_with(&format!("_{id}")))
            {
                return Some(Found {
                    value: p.value.clone(),
                    evidence: Evidence {
                        source: format!("{} (configured policy, not observed state)", p.source),
                        line: p.line,
                        detail: format!("{} = {}", p.id, p.value),
                    },
                    configured_policy: true,
                });
            }
        }
        None
    }

    /// True when the registry member was read and lists this key's value
    /// (present or absent), so absence is a fact rather than a gap.
    pub fn registry_read(&self, key: Key) -> bool {
        let src = key.sources();
        self.registry.as_ref().is_some_and(|reg| {
            src.registry.iter().any(|(path, name)| {
                reg.iter()
                    .any(|r| r.path.eq_ignore_ascii_case(path) && r.name.eq_ignore_ascii_case(name))
            })
        })
    }
}

fn observed(source: &str, line: Option<u32>, detail: String, value: String) -> Found {
    Found {
        value,
        evidence: Evidence {
            source: source.to_string(),
            line,
            detail,
        },
        configured_policy: false,
    }
}
