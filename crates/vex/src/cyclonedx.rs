//! CycloneDX VEX: `vulnerabilities[]` with `analysis.state` and `affects[].ref`.

use crate::{date, parse_json, percent_decode, Origin, Policy, Rule, Target, VexError};
use portcullis_model::{Diagnostic, Purl};
use serde_json::Value;
use std::collections::HashMap;

/// Deepest component nesting followed.
const MAX_DEPTH: usize = 64;

/// bom-ref → purl for every component (nested ones too) and `metadata.component`.
fn component_purls(doc: &Value) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    if let Some(c) = doc.get("metadata").and_then(|m| m.get("component")) {
        stack.push((c, 0));
    }
    if let Some(cs) = doc.get("components").and_then(Value::as_array) {
        stack.extend(cs.iter().map(|c| (c, 0)));
    }
    while let Some((c, depth)) = stack.pop() {
        if let (Some(r), Some(p)) = (
            c.get("bom-ref").and_then(Value::as_str),
            c.get("purl").and_then(Value::as_str),
        ) {
            map.insert(r.to_string(), p.to_string());
        }
        if depth < MAX_DEPTH {
            if let Some(cs) = c.get("components").and_then(Value::as_array) {
                stack.extend(cs.iter().map(|c| (c, depth + 1)));
            }
        }
    }
    map
}

/// The purl an `affects[].ref` denotes: a purl itself, a bom-ref of a
/// component with a purl, or a BOM-Link (`urn:cdx:…#bom-ref`) to either.
fn resolve(r: &str, refs: &HashMap<String, String>) -> Option<Purl> {
    let r = r.trim();
    let candidates = match r
        .strip_prefix("urn:cdx:")
        .and_then(|rest| rest.split_once('#'))
    {
        Some((_, frag)) => vec![percent_decode(frag), frag.to_string()],
        None => vec![r.to_string()],
    };
    for c in candidates {
        if let Some(p) = refs.get(&c) {
            if let Ok(p) = Purl::parse(p) {
                return Some(p);
            }
        }
        if c.starts_with("pkg:") {
            if let Ok(p) = Purl::parse(&c) {
                return Some(p);
            }
        }
    }
    None
}

pub(crate) fn parse(name: &str, text: &str) -> Result<Policy, VexError> {
    let doc = parse_json(name, text)?;
    if !doc.is_object() {
        return Err(VexError::Format {
            path: name.into(),
            message: "a CycloneDX document is a JSON object: check the file".into(),
        });
    }
    let Some(vulns) = doc.get("vulnerabilities").and_then(Value::as_array) else {
        return Err(VexError::Format {
            path: name.into(),
            message: "CycloneDX document has no `vulnerabilities` array: it holds no VEX analysis"
                .into(),
        });
    };
    let refs = component_purls(&doc);
    let doc_time = doc
        .get("metadata")
        .and_then(|m| m.get("timestamp"))
        .and_then(Value::as_str);
    let mut policy = Policy::default();
    for (i, v) in vulns.iter().enumerate() {
        let mut ids: Vec<String> = Vec::new();
        if let Some(id) = v.get("id").and_then(Value::as_str) {
            ids.push(id.trim().to_string());
        }
        if let Some(rs) = v.get("references").and_then(Value::as_array) {
            ids.extend(
                rs.iter()
                    .filter_map(|r| r.get("id").and_then(Value::as_str))
                    .map(|s| s.trim().to_string()),
            );
        }
        ids.retain(|s| !s.is_empty());
        let Some(first) = ids.first().cloned() else {
            policy.diagnostics.push(Diagnostic::error(
                name.to_string(),
                format!("vulnerabilities[{i}]: no `id`: skipped; give the vulnerability ID"),
            ));
            continue;
        };
        let Some(analysis) = v.get("analysis") else {
            // A plain vulnerability listing (a VDR, as pip-audit writes): no VEX statement.
            continue;
        };
        let state = analysis.get("state").and_then(Value::as_str).unwrap_or("");
        let suppresses = match state {
            "not_affected" | "false_positive" | "resolved" | "resolved_with_pedigree" => true,
            "exploitable" | "in_triage" => false,
            other => {
                policy.diagnostics.push(Diagnostic::error(
                    name.to_string(),
                    format!("vulnerabilities[{i}]: unknown analysis.state {other:?} for {first}: skipped; use not_affected, false_positive, resolved, resolved_with_pedigree, exploitable or in_triage"),
                ));
                continue;
            }
        };
        let mut purls = Vec::new();
        let mut unresolved = Vec::new();
        if let Some(affects) = v.get("affects").and_then(Value::as_array) {
            for a in affects {
                let Some(r) = a.get("ref").and_then(Value::as_str) else {
                    continue;
                };
                match resolve(r, &refs) {
                    Some(p) => {
                        if !purls.contains(&p) {
                            purls.push(p);
                        }
                    }
                    None => unresolved.push(r.to_string()),
                }
            }
        }
        if !unresolved.is_empty() {
            policy.diagnostics.push(Diagnostic::warning(
                name.to_string(),
                format!(
                    "vulnerabilities[{i}]: affects ref(s) {} for {first} are neither package URLs nor bom-refs of components with a purl: they cannot be matched",
                    unresolved.join(", ")
                ),
            ));
        }
        if purls.is_empty() {
            if unresolved.is_empty() {
                policy.diagnostics.push(Diagnostic::warning(
                    name.to_string(),
                    format!("vulnerabilities[{i}]: {first} has no `affects`: skipped; list the components it is about"),
                ));
            }
            continue;
        }
        let stamp = analysis
            .get("lastUpdated")
            .or_else(|| analysis.get("firstIssued"))
            .or_else(|| v.get("updated"))
            .or_else(|| v.get("published"))
            .and_then(Value::as_str)
            .or(doc_time);
        let timestamp = stamp.and_then(date::parse_rfc3339);
        let mut reason = format!("CycloneDX VEX {state}");
        if let Some(j) = analysis.get("justification").and_then(Value::as_str) {
            reason.push_str(": ");
            reason.push_str(j.trim());
        }
        if let Some(d) = analysis.get("detail").and_then(Value::as_str) {
            let d = d.split_whitespace().collect::<Vec<_>>().join(" ");
            if !d.is_empty() {
                reason.push_str(": ");
                reason.push_str(&d);
            }
        }
        policy.rules.push(Rule {
            ids,
            target: Target::Purls(purls),
            suppresses,
            reason,
            expires: None,
            timestamp,
            source: name.to_string(),
            line: None,
            origin: Origin::CycloneDx,
        });
    }
    Ok(policy)
}
