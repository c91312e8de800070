//! `portcullis practice`: a software project judged against the UK Software
//! Security Code of Practice (14 principles, 45 assurance claims), offline,
//! from its git repository on disk, with evidence for every judgement.
//!
//! [`judge`] reads the working tree and the git history (with gitoxide),
//! runs the checks (disclosure policy, support period, SBOM and lockfiles,
//! pinning, known-vulnerable dependencies, secrets in the tree and history,
//! CI, workflow pinning/permissions/triggers, signed commits and tags,
//! release signing, binaries, licence, review trail), maps them onto the
//! claims, and scores each principle. [`render`] writes the report as a
//! table, JSON, SARIF 2.1.0 or Markdown.
#![deny(missing_docs)]

pub mod checks;
pub mod ci;
pub mod git;
pub mod render;
pub mod secrets;

use portcullis_model::Diagnostic;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub use render::{render, Format};

/// The JSON schema name of a report.
pub const SCHEMA: &str = "portcullis.practice/v1";

/// The Code's principles and claims (OGL v3.0, DSIT/NCSC), as a TSV:
/// `id kind theme text`.
pub const CODE_TSV: &str = include_str!("../data/uk-sscop-principles-and-apc-claims.tsv");

/// A judgement of a claim or principle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The repository shows the claim is met.
    Met,
    /// Part of the claim is shown.
    PartlyMet,
    /// The repository shows the claim is not met.
    NotMet,
    /// A repository cannot show this: the vendor must state it.
    NeedsAttestation,
}

impl Judgement {
    /// The label used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Met => "met",
            Judgement::PartlyMet => "partly met",
            Judgement::NotMet => "not met",
            Judgement::NeedsAttestation => "needs attestation",
        }
    }

    /// The points a judgement scores (`None`: not counted).
    pub fn points(self) -> Option<f64> {
        match self {
            Judgement::Met => Some(1.0),
            Judgement::PartlyMet => Some(0.5),
            Judgement::NotMet => Some(0.0),
            Judgement::NeedsAttestation => None,
        }
    }
}

/// One piece of evidence: a file and line, a commit, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Path relative to the repository root, `/` separators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// A commit id (full hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// What it shows.
    pub detail: String,
}

impl Evidence {
    /// Evidence in a file.
    pub fn file(path: &str, line: Option<u32>, detail: String) -> Self {
        Evidence {
            file: Some(path.to_string()),
            line,
            commit: None,
            detail,
        }
    }

    /// Evidence with no file.
    pub fn note(detail: String) -> Self {
        Evidence {
            file: None,
            line: None,
            commit: None,
            detail,
        }
    }
}

/// How serious a finding is (SARIF levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Must be fixed (a secret, a dangerous trigger, a critical vulnerability).
    Error,
    /// Should be fixed.
    Warning,
    /// Worth knowing.
    Note,
}

impl Level {
    /// The SARIF level name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// A located problem: shown inline by code hosts (SARIF).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Rule id (`secret-committed`, `ci-action-unpinned`…).
    pub rule: String,
    /// Error, warning or note.
    pub level: Level,
    /// What is wrong and what to do. Secrets appear only redacted.
    pub message: String,
    /// Path relative to the repository root.
    pub file: String,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The commit that introduced it, when it comes from the history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl Finding {
    /// A finding at a file and line.
    pub fn new(rule: &str, level: Level, message: String, file: &str, line: Option<u32>) -> Self {
        Finding {
            rule: rule.to_string(),
            level,
            message,
            file: file.to_string(),
            line,
            column: None,
            commit: None,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Check id (`security-policy`, `secrets`…).
    pub id: &'static str,
    /// Title for people.
    pub title: &'static str,
    /// The check's own judgement.
    pub judgement: Judgement,
    /// One line summary.
    pub summary: String,
    /// What was seen.
    pub evidence: Vec<Evidence>,
    /// The claims it informs.
    pub claims: Vec<&'static str>,
}

/// One assurance claim, judged.
#[derive(Debug, Clone, Serialize)]
pub struct ClaimResult {
    /// `1.2.1`.
    pub id: String,
    /// The claim's text.
    pub text: String,
    /// The judgement.
    pub judgement: Judgement,
    /// Why.
    pub evidence: Vec<Evidence>,
    /// What the vendor must state (for needs-attestation, and for claims a
    /// repository can only partly show).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// The checks that informed it.
    pub checks: Vec<&'static str>,
}

/// One principle, judged through its claims.
#[derive(Debug, Clone, Serialize)]
pub struct PrincipleResult {
    /// `1.2`.
    pub id: String,
    /// `1 Secure design and development`.
    pub theme: String,
    /// The principle's text.
    pub text: String,
    /// 0–100, or `None` when every claim needs attestation.
    pub score: Option<u32>,
    /// Claims judged met, partly met, not met, needing attestation.
    pub counts: Counts,
    /// The claims.
    pub claims: Vec<ClaimResult>,
}

/// Judgement counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Met.
    pub met: usize,
    /// Partly met.
    pub partly_met: usize,
    /// Not met.
    pub not_met: usize,
    /// Needs attestation.
    pub needs_attestation: usize,
}

impl Counts {
    fn add(&mut self, j: Judgement) {
        match j {
            Judgement::Met => self.met += 1,
            Judgement::PartlyMet => self.partly_met += 1,
            Judgement::NotMet => self.not_met += 1,
            Judgement::NeedsAttestation => self.needs_attestation += 1,
        }
    }
}

/// A known-vulnerable dependency.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerableDependency {
    /// Package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// Ecosystem.
    pub ecosystem: String,
    /// Advisory id.
    pub id: String,
    /// Severity.
    pub severity: String,
    /// Version to upgrade to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_to: Option<String>,
    /// The lockfile.
    pub file: String,
    /// Line in the lockfile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Facts about the repository read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoInfo {
    /// A git repository (else only the working tree was judged).
    pub git: bool,
    /// HEAD commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// Commits reachable from any ref.
    pub commits: usize,
    /// Tags.
    pub tags: usize,
    /// Files in the working tree looked at.
    pub files: usize,
    /// Distinct blobs scanned for secrets.
    pub blobs_scanned: usize,
    /// Blobs skipped as binary.
    pub blobs_binary: usize,
    /// Blobs skipped as too large.
    pub blobs_large: usize,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `portcullis.practice/v1`.
    pub schema: &'static str,
    /// The path judged, as given.
    pub path: String,
    /// Repository facts.
    pub repository: RepoInfo,
    /// Overall score, 0–100 (claim-weighted; attestation items not counted).
    pub score: Option<u32>,
    /// Claim counts over the whole Code.
    pub counts: Counts,
    /// The 14 principles.
    pub principles: Vec<PrincipleResult>,
    /// The checks run.
    pub checks: Vec<Check>,
    /// Located findings (secrets, unpinned actions, binaries…).
    pub findings: Vec<Finding>,
    /// Known-vulnerable dependencies.
    pub vulnerabilities: Vec<VulnerableDependency>,
    /// Checks that could not be made (no git history, no database…).
    pub unknown: Vec<String>,
    /// Problems reading the input.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// True when some input could not be read.
    pub fn is_partial(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// How to judge.
#[derive(Debug, Clone)]
pub struct Options {
    /// The vulnerability database; `None` uses
    /// `portcullis_vulndb::default_db_path()`, or a temporary database built
    /// from the bundled snapshot when that does not exist.
    pub db: Option<PathBuf>,
    /// Match dependencies against the database.
    pub vulnerabilities: bool,
    /// Scan every blob of the history for secrets (else only the tree).
    pub history: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            db: None,
            vulnerabilities: true,
            history: true,
        }
    }
}

/// Judge the repository (or plain directory) at `path`.
pub fn judge(path: &Path, options: &Options) -> Report {
    checks::run(path, options)
}

/// Score: the mean of the points of the judged claims (met 1, partly 0.5,
/// not met 0), as a percentage rounded to the nearest whole number; `None`
/// when no claim is judged.
pub fn score(judgements: impl IntoIterator<Item = Judgement>) -> Option<u32> {
    let (mut sum, mut n) = (0.0f64, 0u32);
    for j in judgements {
        if let Some(p) = j.points() {
            sum += p;
            n += 1;
        }
    }
    if n == 0 {
        None
    } else {
        let pct = (sum / f64::from(n) * 100.0).round();
        Some(pct.clamp(0.0, 100.0) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ignores_attestation() {
        use Judgement::*;
        assert_eq!(score([Met, NotMet, NeedsAttestation]), Some(50));
        assert_eq!(score([Met, PartlyMet, PartlyMet]), Some(67));
        assert_eq!(score([NeedsAttestation]), None);
    }

    #[test]
    fn the_code_has_14_principles_and_45_claims() {
        let p = CODE_TSV
            .lines()
            .filter(|l| l.contains("\tprinciple\t"))
            .count();
        let c = CODE_TSV
            .lines()
            .filter(|l| l.contains("\tapc_claim\t"))
            .count();
        assert_eq!((p, c), (14, 45));
    }
}
