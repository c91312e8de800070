//! Cyber Essentials assessment results: one [`CheckResult`] per check,
//! tied to its v3.3 requirement IDs (`E1-007`, `E2-001`…, as listed in
//! `../shared/design/cyber-essentials.md` §4).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The five Cyber Essentials technical controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// E1: firewalls.
    Firewalls,
    /// E2: secure configuration.
    SecureConfiguration,
    /// E3: security update management.
    SecurityUpdateManagement,
    /// E4: user access control.
    UserAccessControl,
    /// E5: malware protection.
    MalwareProtection,
}

impl Control {
    /// Every control, in the scheme's order.
    pub const ALL: [Control; 5] = [
        Control::Firewalls,
        Control::SecureConfiguration,
        Control::SecurityUpdateManagement,
        Control::UserAccessControl,
        Control::MalwareProtection,
    ];

    /// The control's name as the scheme writes it.
    pub fn title(self) -> &'static str {
        match self {
            Control::Firewalls => "Firewalls",
            Control::SecureConfiguration => "Secure configuration",
            Control::SecurityUpdateManagement => "Security update management",
            Control::UserAccessControl => "User access control",
            Control::MalwareProtection => "Malware protection",
        }
    }
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The host shows the requirement is met.
    Pass,
    /// The host shows the requirement is not met.
    Fail,
    /// A person must confirm it (the host cannot show it).
    NeedsAttestation,
    /// The check could not be made (unreadable file, missing tool): never a pass.
    Unknown,
}

impl CheckStatus {
    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::NeedsAttestation => "needs_attestation",
            CheckStatus::Unknown => "unknown",
        }
    }
}

/// One piece of evidence behind a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where it was seen: a file path (relative to the assessed root), a
    /// command (`ss -ltn`), a package (`pkg:deb/debian/openssh-server@…`), or
    /// an evidence archive member.
    pub source: String,
    /// 1-based line in the file, when it is a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What was seen (the line, the setting, the output), short.
    pub detail: String,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// A stable check ID (`linux.ssh.permit_root_login`).
    pub id: String,
    /// The Cyber Essentials v3.3 requirement IDs it evidences (`E2-001`…).
    pub requirements: Vec<String>,
    /// The control.
    pub control: Control,
    /// A short title in plain English.
    pub title: String,
    /// Pass, fail, needs attestation or unknown.
    pub status: CheckStatus,
    /// True when a fail here is one of v3.3's automatic-fail conditions.
    #[serde(default)]
    pub auto_fail: bool,
    /// What was seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// For a fail: what to do, in plain English, with the exact command or setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// For needs-attestation: what the person must confirm, worded as the self-assessment asks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// For unknown: why the check could not be made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
