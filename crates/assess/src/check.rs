//! A small builder for check results.

use portcullis_model::{CheckResult, CheckStatus, Control, Evidence};

/// A check being built: its identity, then one of pass/fail/attest/unknown.
#[derive(Debug, Clone)]
pub struct Check {
    r: CheckResult,
}

impl Check {
    /// A new check (status unknown until decided).
    pub fn new(id: &str, control: Control, requirements: &[&str], title: &str) -> Check {
        Check {
            r: CheckResult {
                id: id.to_string(),
                requirements: requirements.iter().map(|s| s.to_string()).collect(),
                control,
                title: title.to_string(),
                status: CheckStatus::Unknown,
                auto_fail: false,
                evidence: Vec::new(),
                fix: None,
                attestation: None,
                reason: None,
            },
        }
    }

    /// Mark a fail here as a v3.3 automatic-fail condition.
    pub fn auto_fail(mut self) -> Check {
        self.r.auto_fail = true;
        self
    }

    /// Add a piece of evidence.
    pub fn ev(&mut self, source: &str, line: Option<u32>, detail: impl Into<String>) {
        let mut d: String = detail.into();
        if d.len() > 300 {
            let mut cut = 300;
            while !d.is_char_boundary(cut) {
                cut -= 1;
            }
            d.truncate(cut);
            d.push('…');
        }
        if self.r.evidence.len() < 200 {
            self.r.evidence.push(Evidence {
                source: source.to_string(),
                line,
                detail: d,
            });
        }
    }

    /// The evidence gathered so far.
    pub fn evidence(&self) -> &[Evidence] {
        &self.r.evidence
    }

    /// Pass.
    pub fn pass(mut self) -> CheckResult {
        self.r.status = CheckStatus::Pass;
        self.r
    }

    /// Fail, with the fix.
    pub fn fail(mut self, fix: impl Into<String>) -> CheckResult {
        self.r.status = CheckStatus::Fail;
        self.r.fix = Some(fix.into());
        self.r
    }

    /// A person must confirm this.
    pub fn attest(mut self, what: impl Into<String>) -> CheckResult {
        self.r.status = CheckStatus::NeedsAttestation;
        self.r.attestation = Some(what.into());
        self.r
    }

    /// Could not be decided.
    pub fn unknown(mut self, reason: impl Into<String>) -> CheckResult {
        self.r.status = CheckStatus::Unknown;
        self.r.reason = Some(reason.into());
        self.r
    }

    /// Attach a fix without failing (advice on an attestation).
    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.r.fix = Some(fix.into());
        self
    }
}
