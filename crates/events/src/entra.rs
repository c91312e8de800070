//! Entra ID sign-in records in their three shapes, normalised to the Log
//! Analytics `SigninLogs` names (detection.md §7).
use crate::FieldName;

use crate::winjson::scalar;
use crate::{Event, LogKind, Origin, Value};
use serde_json::{Map, Value as J};
use std::sync::Arc;

const MAX_DEPTH: usize = 16;

fn flatten(prefix: &str, v: &J, depth: usize, fields: &mut Vec<(FieldName, Value)>) {
    match v {
        J::Object(o) if depth < MAX_DEPTH => {
            for (k, child) in o {
                flatten(&format!("{prefix}.{k}"), child, depth + 1, fields);
            }
        }
        other => fields.push((crate::field_name(prefix), scalar(other))),
    }
}

fn set(fields: &mut Vec<(FieldName, Value)>, name: &str, v: Value) {
    if let Some(slot) = fields.iter_mut().find(|(k, _)| &**k == name) {
        slot.1 = v;
    } else {
        fields.push((crate::field_name(name), v));
    }
}

fn has(fields: &[(FieldName, Value)], name: &str) -> bool {
    fields.iter().any(|(k, _)| &**k == name)
}

/// Graph (camelCase) name → Log Analytics name.
fn la_name(k: &str) -> String {
    match k {
        "ipAddress" => "IPAddress".into(),
        "id" => "Id".into(),
        "location" => "LocationDetails".into(),
        _ => {
            let mut c = k.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        }
    }
}

/// Graph-shaped properties (the Graph record itself, or Azure Monitor's
/// `properties`) into Log Analytics names.
fn graph_props(p: &Map<String, J>, fields: &mut Vec<(FieldName, Value)>) {
    for (k, v) in p {
        let name = la_name(k);
        match (k.as_str(), v) {
            ("status", J::Object(s)) => {
                if let Some(code) = s.get("errorCode") {
                    set(
                        fields,
                        "ResultType",
                        Value::Str(scalar(code).to_text().into()),
                    );
                }
                if let Some(r) = s.get("failureReason") {
                    set(fields, "ResultDescription", scalar(r));
                }
                flatten("Status", v, 0, fields);
            }
            ("location", J::Object(l)) => {
                if let Some(c) = l.get("countryOrRegion") {
                    set(fields, "Location", scalar(c));
                }
                flatten("LocationDetails", v, 0, fields);
            }
            (_, J::Object(_)) => flatten(&name, v, 0, fields),
            _ => set(fields, &name, scalar(v)),
        }
    }
}

/// One sign-in event from a JSON object in any of the three shapes.
pub(crate) fn event_from_json(file: &Arc<str>, v: &J, line: Option<u64>) -> Result<Event, String> {
    let o = v
        .as_object()
        .ok_or("a sign-in record must be a JSON object")?;
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(48);
    let time_text;
    if let Some(J::Object(props)) = o.get("properties") {
        // Azure Monitor diagnostic export.
        graph_props(props, &mut fields);
        for (src, dst) in [
            ("resultType", "ResultType"),
            ("resultDescription", "ResultDescription"),
            ("resultSignature", "ResultSignature"),
            ("operationName", "OperationName"),
            ("category", "Category"),
            ("tenantId", "TenantId"),
            ("identity", "Identity"),
            ("correlationId", "CorrelationId"),
        ] {
            if let Some(x) = o.get(src) {
                let val = if dst == "ResultType" {
                    Value::Str(scalar(x).to_text().into())
                } else {
                    scalar(x)
                };
                set(&mut fields, dst, val);
            }
        }
        if !has(&fields, "IPAddress") {
            if let Some(ip) = o.get("callerIpAddress") {
                set(&mut fields, "IPAddress", scalar(ip));
            }
        }
        if let Some(l) = o.get("location").filter(|l| l.is_string()) {
            if !has(&fields, "Location") {
                set(&mut fields, "Location", scalar(l));
            }
        }
        time_text = o
            .get("time")
            .or_else(|| props.get("createdDateTime"))
            .and_then(J::as_str);
        if let Some(t) = time_text {
            set(&mut fields, "TimeGenerated", Value::Str(t.into()));
        }
    } else if o.contains_key("userPrincipalName")
        || o.contains_key("createdDateTime")
        || o.get("status").is_some_and(J::is_object)
    {
        // Graph signIn.
        graph_props(o, &mut fields);
        time_text = o.get("createdDateTime").and_then(J::as_str);
    } else {
        // Log Analytics SigninLogs: names as they are; nested values (or
        // JSON text holding an object) flattened with dots.
        for (k, x) in o {
            match x {
                J::Object(_) => flatten(k, x, 0, &mut fields),
                J::String(s) if s.starts_with('{') => match serde_json::from_str::<J>(s) {
                    Ok(inner @ J::Object(_)) => {
                        fields.push((crate::field_name(k), scalar(x)));
                        flatten(k, &inner, 0, &mut fields);
                    }
                    _ => fields.push((crate::field_name(k), scalar(x))),
                },
                J::Number(_) if k == "ResultType" => {
                    fields.push((crate::field_name(k), Value::Str(scalar(x).to_text().into())))
                }
                _ => fields.push((crate::field_name(k), scalar(x))),
            }
        }
        time_text = o
            .get("TimeGenerated")
            .or_else(|| o.get("CreatedDateTime"))
            .and_then(J::as_str);
    }
    if !has(&fields, "ResultType") && !has(&fields, "UserPrincipalName") {
        return Err(
            "not an Entra ID sign-in record: no ResultType/status or user principal name".into(),
        );
    }
    let time = time_text.and_then(crate::time::parse_rfc3339);
    Ok(Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id: None,
            line,
            seq: 0,
        },
        time,
        kind: LogKind::EntraSignIn,
        fields,
    })
}
