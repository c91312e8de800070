//! SARIF 2.1.0 output, shaped for GitHub code scanning.

use crate::{main_alias, ScanReport, TOOL_NAME};
use portcullis_model::{DiagnosticLevel, Finding, Severity};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The `$schema` written into SARIF logs (the OASIS 2.1.0 schema).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The tool's information URI written into SARIF logs.
pub const INFORMATION_URI: &str = "https://example.invalid/portcullis";

/// The SARIF result level for a severity: `error` for critical and high,
/// `warning` for medium, `note` for the rest.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::None | Severity::Unknown => "note",
    }
}

/// The `security-severity` GitHub code scanning reads: the CVSS score when
/// there is one, else a score in the middle of the severity's band; none
/// for unrated findings.
fn security_severity(score: Option<f64>, sev: Severity) -> Option<String> {
    if let Some(s) = score.filter(|s| s.is_finite() && (0.0..=10.0).contains(s)) {
        return Some(format!("{s:.1}"));
    }
    match sev {
        Severity::Critical => Some("9.5".into()),
        Severity::High => Some("8.0".into()),
        Severity::Medium => Some("5.5".into()),
        Severity::Low => Some("2.0".into()),
        Severity::None => Some("0.0".into()),
        Severity::Unknown => None,
    }
}

/// A path as a relative URI reference: `/` separators, no leading `./`,
/// characters outside RFC 3986 `pchar` percent-encoded.
pub(crate) fn path_uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut p = p.as_str();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
    out
}

/// FNV-1a 64-bit: a stable hash for fingerprints (std's hasher may change between releases).
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn help_uri(f: &Finding) -> String {
    f.references
        .iter()
        .find(|r| r.starts_with("https://") || r.starts_with("http://"))
        .cloned()
        .unwrap_or_else(|| format!("https://osv.dev/vulnerability/{}", f.id))
}

fn fix_text(f: &Finding) -> String {
    match &f.fix.upgrade_to {
        Some(v) => format!("Upgrade {} to {v} or later.", f.package.name),
        None => format!(
            "No fix has been released: consider removing or replacing {}, or accept the risk in portcullis.toml.",
            f.package.name
        ),
    }
}

fn rule(f: &Finding, worst: &Finding) -> Value {
    let mut ids = vec![f.id.clone()];
    ids.extend(f.aliases.iter().cloned());
    let summary = if f.summary.trim().is_empty() {
        format!("Vulnerability {}", f.id)
    } else {
        f.summary.trim().to_string()
    };
    let full = format!("{summary} (IDs: {})", ids.join(", "));
    let help_text = format!("{full}\n{}\nDetails: {}", fix_text(f), help_uri(f));
    let help_md = format!(
        "**{}**: {summary}\n\n{}\n\nDetails: <{}>",
        f.id,
        fix_text(f),
        help_uri(f)
    );
    let mut props = Map::new();
    props.insert(
        "tags".into(),
        json!([
            "security",
            "vulnerability",
            f.package.ecosystem.as_str(),
            worst.severity.as_str()
        ]),
    );
    if let Some(s) = security_severity(worst.cvss_score, worst.severity) {
        props.insert("security-severity".into(), Value::String(s));
    }
    if let Some(v) = &worst.cvss_vector {
        props.insert("cvssVector".into(), Value::String(v.clone()));
    }
    if !f.aliases.is_empty() {
        props.insert("aliases".into(), json!(f.aliases));
    }
    json!({
        "id": f.id,
        "name": f.id.replace(|c: char| !c.is_ascii_alphanumeric(), ""),
        "shortDescription": { "text": summary },
        "fullDescription": { "text": full },
        "helpUri": help_uri(f),
        "help": { "text": help_text, "markdown": help_md },
        "defaultConfiguration": { "level": level(worst.severity) },
        "properties": Value::Object(props),
    })
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let version = if f.package.version.is_empty() {
        "(unknown version)"
    } else {
        f.package.version.as_str()
    };
    let id = match main_alias(f) {
        Some(a) => format!("{} ({a})", f.id),
        None => f.id.clone(),
    };
    let fix = match &f.fix.upgrade_to {
        Some(v) => format!("upgrade to {v}"),
        None => "no fix released yet".to_string(),
    };
    let mut summary = f.summary.split_whitespace().collect::<Vec<_>>().join(" ");
    if !summary.is_empty() {
        summary = format!(": {summary}");
    }
    let message = format!(
        "{} {version} ({}) is affected by {id}{summary}; {fix}",
        f.package.name,
        f.package.osv_ecosystem()
    );
    let mut phys = Map::new();
    let uri = if f.package.location.path.is_empty() {
        String::from(".")
    } else {
        path_uri(&f.package.location.path)
    };
    phys.insert("artifactLocation".into(), json!({ "uri": uri }));
    if let Some(l) = f.package.location.line.filter(|l| *l >= 1) {
        phys.insert("region".into(), json!({ "startLine": l }));
    }
    let fingerprint = fnv1a(&[
        &f.id,
        f.package.ecosystem.as_str(),
        f.package.distro.as_deref().unwrap_or(""),
        &f.package.name,
        &f.package.version,
        &f.package.location.path,
    ]);
    let mut r = json!({
        "ruleId": f.id,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [ { "physicalLocation": Value::Object(phys) } ],
        "partialFingerprints": { "portcullisFinding/v1": fingerprint },
        "properties": {
            "package": f.package.name,
            "version": f.package.version,
            "ecosystem": f.package.osv_ecosystem(),
            "purl": f.package.purl.to_string(),
            "severity": f.severity.as_str(),
            "fixedVersion": f.fix.upgrade_to,
            "ce14Day": f.ce_14_day,
        },
    });
    if let (Some(s), Some(obj)) = (&f.suppressed, r.as_object_mut()) {
        let mut just = s.reason.trim().to_string();
        if let Some(e) = &s.expires {
            just.push_str(&format!(" (accepted until {e})"));
        }
        just.push_str(&format!(" [{}]", s.source));
        obj.insert(
            "suppressions".into(),
            json!([{ "kind": "external", "status": "accepted", "justification": just }]),
        );
    }
    r
}

/// The SARIF log as a value.
pub fn sarif_value(report: &ScanReport) -> Value {
    let findings = report.sorted_findings();
    // One rule per vulnerability ID; rules sorted by ID. The rule carries the
    // worst severity seen for that ID.
    let mut by_id: BTreeMap<&str, (&Finding, &Finding)> = BTreeMap::new();
    for f in &findings {
        by_id
            .entry(f.id.as_str())
            .and_modify(|(_, worst)| {
                let better = (f.severity, f.cvss_score.unwrap_or(-1.0))
                    > (worst.severity, worst.cvss_score.unwrap_or(-1.0));
                if better {
                    *worst = f;
                }
            })
            .or_insert((f, f));
    }
    let index: BTreeMap<&str, usize> = by_id.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules: Vec<Value> = by_id
        .values()
        .map(|(first, worst)| rule(first, worst))
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| result(f, index.get(f.id.as_str()).copied().unwrap_or(0)))
        .collect();
    let notifications: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| {
            let mut phys = Map::new();
            phys.insert(
                "artifactLocation".into(),
                json!({ "uri": path_uri(&d.path) }),
            );
            if let Some(l) = d.line.filter(|l| *l >= 1) {
                let mut region = Map::new();
                region.insert("startLine".into(), json!(l));
                if let Some(c) = d.column.filter(|c| *c >= 1) {
                    region.insert("startColumn".into(), json!(c));
                }
                phys.insert("region".into(), Value::Object(region));
            }
            json!({
                "level": if d.level == DiagnosticLevel::Error { "error" } else { "warning" },
                "message": { "text": d.message },
                "locations": [ { "physicalLocation": Value::Object(phys) } ],
            })
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": !report.partial,
        "toolExecutionNotifications": notifications,
    });
    if let (false, Some(obj)) = (report.scanned_at.is_empty(), invocation.as_object_mut()) {
        obj.insert(
            "endTimeUtc".into(),
            Value::String(report.scanned_at.clone()),
        );
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": TOOL_NAME,
                "informationUri": INFORMATION_URI,
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": rules,
            } },
            "invocations": [ invocation ],
            "results": results,
            "properties": {
                "target": report.target,
                "partial": report.partial,
                "staleData": report.stale_data,
            },
        } ],
    })
}

/// The SARIF log as pretty-printed text.
pub fn sarif(report: &ScanReport) -> String {
    serde_json::to_string_pretty(&sarif_value(report)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(path_uri("./sub dir\\Cargo.lock"), "sub%20dir/Cargo.lock");
        assert_eq!(path_uri("a#b?.lock"), "a%23b%3F.lock");
        assert_eq!(path_uri("ü"), "%C3%BC");
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(fnv1a(&[]), "cbf29ce484222325");
        assert_ne!(fnv1a(&["a", "b"]), fnv1a(&["ab", ""]));
        assert_eq!(
            security_severity(Some(7.5), Severity::High).as_deref(),
            Some("7.5")
        );
        assert_eq!(
            security_severity(None, Severity::Critical).as_deref(),
            Some("9.5")
        );
        assert_eq!(security_severity(Some(f64::NAN), Severity::Unknown), None);
    }
}
