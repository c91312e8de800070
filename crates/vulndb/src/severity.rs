//! The severity of a record: a CVSS base score where a vector is given,
//! else the database's own rating.

use portcullis_model::osv::{Affected, SeverityEntry, Vulnerability};
use portcullis_model::Severity;

/// A severity with the score and vector it came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RatedSeverity {
    /// The qualitative rating.
    pub severity: Severity,
    /// The CVSS base score, when a vector was scored.
    pub score: Option<f64>,
    /// The vector scored.
    pub vector: Option<String>,
}

/// Preference among CVSS versions: Cyber Essentials speaks of CVSS v3
/// scores, so v3 comes first, then v4, then v2.
fn rank(kind: &str) -> u8 {
    match kind {
        "CVSS_V3" => 3,
        "CVSS_V4" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    }
}

fn best_cvss<'a>(entries: impl Iterator<Item = &'a SeverityEntry>) -> Option<RatedSeverity> {
    let mut best: Option<(u8, f64, &SeverityEntry)> = None;
    for e in entries {
        let r = rank(&e.kind);
        if r == 0 {
            continue;
        }
        let Ok(score) = portcullis_cvss::base_score(&e.kind, &e.score) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((br, bs, _)) => r > br || (r == br && score.base > bs),
        };
        if better {
            best = Some((r, score.base, e));
        }
    }
    best.map(|(_, score, e)| RatedSeverity {
        severity: Severity::from_score(score),
        score: Some(score),
        vector: Some(e.score.clone()),
    })
}

fn word_in(value: Option<&serde_json::Value>, keys: &[&str]) -> Option<Severity> {
    let obj = value?.as_object()?;
    keys.iter()
        .filter_map(|k| obj.get(*k))
        .find_map(|v| v.as_str().and_then(Severity::from_word))
}

/// The severity of a record for one of its `affected` entries: the best
/// CVSS vector on the entry or the record (v3 preferred, then v4, then v2),
/// else a rating word (`Ubuntu` severity type, GHSA `database_specific.severity`,
/// `ecosystem_specific.severity`/`urgency`), else unknown.
pub fn record_severity(vuln: &Vulnerability, affected: Option<&Affected>) -> RatedSeverity {
    let per_affected = affected.map(|a| a.severity.as_slice()).unwrap_or_default();
    if let Some(r) = best_cvss(per_affected.iter().chain(vuln.severity.iter())) {
        return r;
    }
    let word = per_affected
        .iter()
        .chain(vuln.severity.iter())
        .filter(|e| rank(&e.kind) == 0)
        .find_map(|e| Severity::from_word(&e.score))
        .or_else(|| {
            word_in(
                vuln.database_specific.as_ref(),
                &["severity", "cvss_severity"],
            )
        })
        .or_else(|| {
            affected.and_then(|a| {
                word_in(a.ecosystem_specific.as_ref(), &["severity", "urgency"])
                    .or_else(|| word_in(a.database_specific.as_ref(), &["severity"]))
            })
        });
    RatedSeverity {
        severity: word.unwrap_or(Severity::Unknown),
        score: None,
        vector: None,
    }
}
