//! `portcullis-assess`: a machine judged against the Cyber Essentials v3.3
//! technical controls.
//!
//! [`Host`] reads a root directory (never leaving it; live `/proc` state only
//! when the root is `/`), [`assess`] runs every Linux check and returns an
//! [`Assessment`]: one [`CheckResult`] per check, each tied to v3.3
//! requirement IDs, the [`Verdict`], a score per control and what to fix
//! first. [`report`] renders it as a table, JSON or a single-file HTML page.
#![deny(missing_docs)]

mod access;
mod check;
mod config;
mod decompress;
mod eol;
mod firewall;
mod host;
mod malware;
mod origin;
mod pending;
pub mod report;
mod rules;
mod software;
mod sshd;
mod updates;

pub use check::Check;
pub use host::{config_lines, FileRead, Host};
pub use portcullis_model::{CheckResult, CheckStatus, Control, Evidence, Finding};
pub use rules::{validate as validate_rules, RULE_FILES};

/// Parse the embedded software end-of-life table (`data/software-eol.toml`):
/// the number of software entries, or what is wrong (bad regex or date).
pub fn validate_software_eol() -> Result<usize, String> {
    software::table().map(|t| t.len())
}
use serde::Serialize;

/// The JSON schema name of an assessment document.
pub const SCHEMA: &str = "portcullis.assess/v1";

/// The vulnerable packages `portcullis scan` found (the caller matches the
/// host's packages against the vulnerability database).
#[derive(Debug, Clone)]
pub enum VulnScan {
    /// The findings of a match of [`Host::packages`].
    Findings(Vec<Finding>),
    /// No match could be made: why.
    Unavailable(String),
}

/// How to assess.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time of the assessment, Unix seconds (the real clock).
    pub now: i64,
    /// The vulnerability scan of the host's packages.
    pub vulns: VulnScan,
}

/// Ready or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No check failed and none is unknown (attestations still to be confirmed).
    Ready,
    /// Some check failed, or could not be made.
    NotReady,
}

/// The score of one control.
#[derive(Debug, Clone, Serialize)]
pub struct ControlScore {
    /// The control.
    pub control: Control,
    /// Checks that passed.
    pub pass: usize,
    /// Checks that failed.
    pub fail: usize,
    /// Checks a person must confirm.
    pub needs_attestation: usize,
    /// Checks that could not be made.
    pub unknown: usize,
    /// Passed out of the checks the host could decide (pass + fail), as a
    /// whole percentage; `None` (omitted in JSON) when none could be decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
}

/// The whole assessment.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// `portcullis.assess/v1`.
    pub schema: &'static str,
    /// The Portcullis version that made the assessment.
    pub tool_version: &'static str,
    /// The scheme version judged against.
    pub scheme: &'static str,
    /// What was assessed (`/`, a directory, an evidence archive).
    pub target: String,
    /// The operating system, as os-release names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// RFC 3339 time of the assessment.
    pub assessed_at: String,
    /// True when live state (sockets, processes) was read.
    pub live: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// Fails that are v3.3 automatic-fail conditions.
    pub auto_fail_count: usize,
    /// One score per control, in the scheme's order.
    pub scores: Vec<ControlScore>,
    /// IDs of the failed checks, in the order to fix them.
    pub fix_first: Vec<String>,
    /// Every check.
    pub checks: Vec<CheckResult>,
    /// Files that exist but could not be read, with the reason.
    pub unreadable: Vec<Unreadable>,
}

/// A file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Unreadable {
    /// The path, relative to the root.
    pub path: String,
    /// Why.
    pub reason: String,
}

impl Assessment {
    /// Build an assessment (verdict, scores, order) from check results.
    pub fn from_checks(
        target: String,
        os: Option<String>,
        now: i64,
        live: bool,
        checks: Vec<CheckResult>,
        unreadable: Vec<Unreadable>,
    ) -> Assessment {
        let verdict = if checks
            .iter()
            .any(|c| matches!(c.status, CheckStatus::Fail | CheckStatus::Unknown))
        {
            Verdict::NotReady
        } else {
            Verdict::Ready
        };
        let auto_fail_count = checks
            .iter()
            .filter(|c| c.auto_fail && c.status == CheckStatus::Fail)
            .count();
        let scores = Control::ALL
            .iter()
            .map(|&control| {
                let of = |s: CheckStatus| {
                    checks
                        .iter()
                        .filter(|c| c.control == control && c.status == s)
                        .count()
                };
                let (pass, fail) = (of(CheckStatus::Pass), of(CheckStatus::Fail));
                let decided = pass + fail;
                ControlScore {
                    control,
                    pass,
                    fail,
                    needs_attestation: of(CheckStatus::NeedsAttestation),
                    unknown: of(CheckStatus::Unknown),
                    percent: (decided > 0)
                        .then(|| u8::try_from(pass * 100 / decided).unwrap_or(100)),
                }
            })
            .collect();
        let mut failed: Vec<(usize, &CheckResult)> = checks
            .iter()
            .enumerate()
            .filter(|(_, c)| c.status == CheckStatus::Fail)
            .collect();
        // Auto-fail first, then control order, then impact (more evidence
        // lines = more things wrong), then the check order.
        failed.sort_by_key(|(i, c)| (!c.auto_fail, c.control, usize::MAX - c.evidence.len(), *i));
        let fix_first = failed.iter().map(|(_, c)| c.id.clone()).collect();
        Assessment {
            schema: SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION"),
            scheme: "Cyber Essentials v3.3 (Danzell)",
            target,
            os,
            assessed_at: rfc3339(now),
            live,
            verdict,
            auto_fail_count,
            scores,
            fix_first,
            checks,
            unreadable,
        }
    }

    /// Checks with a status.
    pub fn count(&self, s: CheckStatus) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }

    /// The check with this ID.
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The exit code the CLI uses: 1 when a check failed; else 3 when a
    /// check is unknown (something could not be read or decided); else 0.
    pub fn exit_code(&self) -> u8 {
        if self.count(CheckStatus::Fail) > 0 {
            1
        } else if self.count(CheckStatus::Unknown) > 0 {
            3
        } else {
            0
        }
    }
}

/// Format Unix seconds as RFC 3339 UTC.
pub fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// The current time, Unix seconds.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Run every Linux check against a host.
pub fn run_checks(host: &Host, opts: &Options) -> Vec<CheckResult> {
    let mut out = Vec::with_capacity(40);
    let sshd = sshd::Sshd::read(host);
    firewall::checks(host, &sshd, &mut out);
    config::checks(host, &sshd, opts.now, &mut out);
    rules::checks(host, &mut out);
    updates::checks(host, opts, &mut out);
    access::checks(host, &sshd, &mut out);
    malware::checks(host, opts.now, &mut out);
    out.sort_by_key(|c| c.control);
    out
}

/// Assess a host: every check, the verdict, scores and what to fix first.
pub fn assess(host: &Host, opts: &Options) -> Assessment {
    let checks = run_checks(host, opts);
    let unreadable = host
        .unreadable
        .borrow()
        .iter()
        .map(|(p, r)| Unreadable {
            path: p.clone(),
            reason: r.clone(),
        })
        .collect::<Vec<_>>();
    let mut unreadable = unreadable;
    unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    unreadable.dedup_by(|a, b| a.path == b.path);
    Assessment::from_checks(
        host.root().display().to_string(),
        host.os
            .as_ref()
            .map(|o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone())),
        opts.now,
        host.is_live(),
        checks,
        unreadable,
    )
}

/// Judge a Windows evidence archive (or directory, or Intune export) written
/// by the collection script: the `windows.*` checks of
/// `portcullis-winevidence`, with the same verdict, scores and order as a
/// Linux assessment. `Err` when the path is no kind of evidence; reader
/// diagnostics come back beside the assessment.
pub fn assess_windows(
    path: &std::path::Path,
    now: i64,
) -> Result<(Assessment, Vec<portcullis_model::Diagnostic>), portcullis_winevidence::EvidenceError>
{
    let ev = portcullis_winevidence::load(path)?;
    let checks = portcullis_winevidence::assess_at(&ev, now.div_euclid(86_400));
    let os = ev.os.as_ref().map(|o| {
        if o.display_version.is_empty() {
            o.caption.clone()
        } else {
            format!("{} {}", o.caption, o.display_version)
        }
    });
    let unreadable = ev
        .unavailable
        .iter()
        .map(|u| Unreadable {
            path: u.member.clone(),
            reason: u.reason.clone(),
        })
        .collect();
    let target = match ev.manifest.as_ref().and_then(|m| m.host.clone()) {
        Some(h) => format!("{h} (Windows evidence {})", path.display()),
        None => format!("Windows evidence {}", path.display()),
    };
    let a = Assessment::from_checks(target, os, now, false, checks, unreadable);
    Ok((a, ev.diagnostics))
}
