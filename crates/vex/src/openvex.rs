//! OpenVEX documents (spec v0.2.0; the older string `vulnerability` form is read too).

use crate::{date, parse_json, Origin, Policy, Rule, Target, VexError};
use portcullis_model::{Diagnostic, Purl};
use serde_json::Value;

/// Package URLs of a product or subcomponent: its `@id` and `identifiers.purl`.
fn purls_of(v: &Value, out: &mut Vec<Purl>) {
    let id = v.get("@id").and_then(Value::as_str);
    let ident = v
        .get("identifiers")
        .and_then(|i| i.get("purl"))
        .and_then(Value::as_str);
    for s in [id, ident].into_iter().flatten() {
        if let Ok(p) = Purl::parse(s.trim()) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
}

pub(crate) fn parse(name: &str, text: &str) -> Result<Policy, VexError> {
    let doc = parse_json(name, text)?;
    let Some(obj) = doc.as_object() else {
        return Err(VexError::Format {
            path: name.into(),
            message: "an OpenVEX document is a JSON object: check the file".into(),
        });
    };
    let Some(statements) = obj.get("statements").and_then(Value::as_array) else {
        return Err(VexError::Format {
            path: name.into(),
            message: "OpenVEX document has no `statements` array: add the VEX statements".into(),
        });
    };
    let doc_time = obj.get("timestamp").and_then(Value::as_str);
    let mut policy = Policy::default();
    let warn = |i: usize, msg: String| {
        Diagnostic::error(name.to_string(), format!("statements[{i}]: {msg}"))
    };
    for (i, st) in statements.iter().enumerate() {
        // Vulnerability: {name, aliases, @id} (v0.2.0) or a plain string (v0.0.x).
        let mut ids: Vec<String> = Vec::new();
        match st.get("vulnerability") {
            Some(Value::String(s)) => ids.push(s.trim().to_string()),
            Some(Value::Object(v)) => {
                if let Some(n) = v.get("name").and_then(Value::as_str) {
                    ids.push(n.trim().to_string());
                }
                if let Some(a) = v.get("aliases").and_then(Value::as_array) {
                    ids.extend(
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|s| s.trim().to_string()),
                    );
                }
                if ids.is_empty() {
                    if let Some(n) = v.get("@id").and_then(Value::as_str) {
                        // An IRI such as https://nvd.nist.gov/vuln/detail/CVE-…: use its last segment.
                        ids.push(n.rsplit('/').next().unwrap_or(n).to_string());
                    }
                }
            }
            _ => {}
        }
        ids.retain(|s| !s.is_empty());
        let Some(first) = ids.first().cloned() else {
            policy.diagnostics.push(warn(
                i,
                "statement has no vulnerability name: skipped; add vulnerability.name".into(),
            ));
            continue;
        };
        let status = st.get("status").and_then(Value::as_str).unwrap_or("");
        let suppresses = match status {
            "not_affected" | "fixed" => true,
            "affected" | "under_investigation" => false,
            other => {
                policy.diagnostics.push(warn(
                    i,
                    format!("unknown status {other:?} for {}: skipped; use not_affected, affected, fixed or under_investigation", first),
                ));
                continue;
            }
        };
        let mut purls = Vec::new();
        let mut unmatched_products = 0usize;
        if let Some(products) = st.get("products").and_then(Value::as_array) {
            for p in products {
                let before = purls.len();
                purls_of(p, &mut purls);
                if let Some(subs) = p.get("subcomponents").and_then(Value::as_array) {
                    for s in subs {
                        purls_of(s, &mut purls);
                    }
                }
                if purls.len() == before {
                    unmatched_products += 1;
                }
            }
        }
        if unmatched_products > 0 {
            policy.diagnostics.push(Diagnostic::warning(
                name.to_string(),
                format!(
                    "statements[{i}]: {unmatched_products} product(s) for {} have no package URL (pkg:…) in @id or identifiers.purl: they cannot be matched",
                    first
                ),
            ));
        }
        if purls.is_empty() {
            if unmatched_products == 0 {
                policy.diagnostics.push(Diagnostic::warning(
                    name.to_string(),
                    format!("statements[{i}]: statement for {} names no products: skipped; list the affected packages as products", first),
                ));
            }
            continue;
        }
        let stamp = st
            .get("last_updated")
            .or_else(|| st.get("timestamp"))
            .and_then(Value::as_str)
            .or(doc_time);
        let timestamp = stamp.and_then(date::parse_rfc3339);
        if let (Some(s), None) = (stamp, timestamp) {
            policy.diagnostics.push(Diagnostic::warning(
                name.to_string(),
                format!("statements[{i}]: timestamp {s:?} is not an RFC 3339 time: the statement counts as the oldest"),
            ));
        }
        let justification = st.get("justification").and_then(Value::as_str);
        let impact = st.get("impact_statement").and_then(Value::as_str);
        let notes = st.get("status_notes").and_then(Value::as_str);
        let mut reason = format!("OpenVEX {status}");
        for part in [justification, impact, notes].into_iter().flatten() {
            let part = part.trim();
            if !part.is_empty() {
                reason.push_str(": ");
                reason.push_str(part);
            }
        }
        if status == "not_affected" && justification.is_none() && impact.is_none() {
            policy.diagnostics.push(Diagnostic::warning(
                name.to_string(),
                format!("statements[{i}]: not_affected statement for {} has neither justification nor impact_statement, as OpenVEX requires", first),
            ));
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
            origin: Origin::OpenVex,
        });
    }
    Ok(policy)
}
