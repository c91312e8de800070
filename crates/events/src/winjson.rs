//! Windows events as JSON: the `evtx` crate's nested shape (`Event.System`,
//! `Event.EventData`, attributes under `#attributes`) and Winlogbeat/ECS
//! (`winlog.*`, `@timestamp`, `host.name`). Both give the EVTX field names.

use crate::{Event, LogKind, Origin, Value};
use serde_json::{Map, Value as J};
use std::sync::Arc;

const MAX_DEPTH: usize = 32;

/// A JSON scalar (or array) as a [`Value`]; objects become their JSON text.
pub(crate) fn scalar(v: &J) -> Value {
    match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n
                .as_u64()
                .and_then(|u| i64::try_from(u).ok())
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        },
        J::String(s) => Value::Str(s.as_str().into()),
        J::Array(a) => Value::List(a.iter().map(scalar).collect()),
        J::Object(_) => Value::Str(v.to_string().into()),
    }
}

/// `{"#attributes": {...}, "#text": x}` → x; anything else as is.
fn text_of(v: &J) -> &J {
    match v {
        J::Object(o) => o.get("#text").unwrap_or(&J::Null),
        _ => v,
    }
}

fn attr<'a>(v: &'a J, name: &str) -> Option<&'a J> {
    v.get("#attributes")?.get(name)
}

fn to_int(v: &J) -> Value {
    match v {
        J::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .unwrap_or_else(|_| Value::Str(s.as_str().into())),
        other => scalar(other),
    }
}

fn push_leaves(prefix_key: Option<&str>, v: &J, depth: usize, fields: &mut Vec<(Box<str>, Value)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        J::Object(o) => {
            if let Some(t) = o.get("#text") {
                if let Some(k) = prefix_key {
                    fields.push((k.into(), scalar(t)));
                }
                return;
            }
            for (k, child) in o {
                if k == "#attributes" {
                    continue;
                }
                push_leaves(Some(k), child, depth + 1, fields);
            }
        }
        other => {
            if let Some(k) = prefix_key {
                fields.push((k.into(), scalar(other)));
            }
        }
    }
}

fn event_data(ed: &J, fields: &mut Vec<(Box<str>, Value)>) {
    match ed {
        J::Object(o) => {
            for (k, v) in o {
                if k == "#attributes" {
                    continue;
                }
                if k == "Data" {
                    // Unnamed data items: a value, a list, or {"#text": [...]}.
                    let t = text_of(v);
                    fields.push(("Data".into(), scalar(t)));
                    continue;
                }
                let t = text_of(v);
                fields.push((k.as_str().into(), scalar(t)));
            }
        }
        J::Null => {}
        other => fields.push(("Data".into(), scalar(other))),
    }
}

fn from_evtx_dump(
    file: &Arc<str>,
    ev: &Map<String, J>,
    line: Option<u64>,
) -> Result<Event, String> {
    let sys = ev
        .get("System")
        .and_then(J::as_object)
        .ok_or("no Event.System object")?;
    let mut fields: Vec<(Box<str>, Value)> = Vec::with_capacity(24);
    let mut time = None;
    let mut record_id = None;
    for (k, v) in sys {
        match k.as_str() {
            "Provider" => {
                for (a, n) in [
                    ("Name", "Provider_Name"),
                    ("Guid", "Provider_Guid"),
                    ("EventSourceName", "Provider_EventSourceName"),
                ] {
                    if let Some(x) = attr(v, a) {
                        fields.push((n.into(), scalar(x)));
                    }
                }
            }
            "EventID" => {
                fields.push(("EventID".into(), to_int(text_of(v))));
                if let Some(q) = attr(v, "Qualifiers") {
                    fields.push((
                        "EventID_Qualifiers".into(),
                        Value::Str(scalar(q).to_text().into()),
                    ));
                }
            }
            "TimeCreated" => {
                if let Some(t) = attr(v, "SystemTime").and_then(J::as_str) {
                    time = crate::time::parse_rfc3339(t);
                    fields.push(("TimeCreated".into(), Value::Str(t.into())));
                }
            }
            "EventRecordID" => {
                let x = to_int(text_of(v));
                if let Value::Int(n) = x {
                    record_id = u64::try_from(n).ok();
                }
                fields.push(("EventRecordID".into(), x));
            }
            "Security" => {
                if let Some(u) = attr(v, "UserID") {
                    fields.push(("Security_UserID".into(), scalar(u)));
                }
            }
            "Execution" | "Correlation" => {
                if let Some(J::Object(a)) = v.get("#attributes") {
                    for (an, av) in a {
                        fields.push((format!("{k}_{an}").into(), scalar(av)));
                    }
                }
            }
            "Version" | "Level" | "Task" | "Opcode" => {
                fields.push((k.as_str().into(), to_int(text_of(v))))
            }
            _ => {
                let t = text_of(v);
                if !t.is_null() {
                    fields.push((k.as_str().into(), scalar(t)));
                }
            }
        }
    }
    if let Some(ed) = ev.get("EventData") {
        event_data(ed, &mut fields);
    }
    for (k, v) in ev {
        if !matches!(
            k.as_str(),
            "System" | "EventData" | "#attributes" | "RenderingInfo"
        ) {
            push_leaves(None, v, 0, &mut fields);
        }
    }
    Ok(Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id,
            line,
        },
        time,
        kind: LogKind::Windows,
        fields,
    })
}

fn from_winlogbeat(file: &Arc<str>, root: &J, wl: &Map<String, J>, line: Option<u64>) -> Event {
    let mut fields: Vec<(Box<str>, Value)> = Vec::with_capacity(24);
    let mut record_id = None;
    let mut time = None;
    if let Some(id) = wl.get("event_id").or_else(|| root.pointer("/event/code")) {
        fields.push(("EventID".into(), to_int(id)));
    }
    for (src, dst) in [
        ("channel", "Channel"),
        ("provider_name", "Provider_Name"),
        ("provider_guid", "Provider_Guid"),
        ("computer_name", "Computer"),
        ("task", "Task"),
        ("opcode", "Opcode"),
        ("keywords", "Keywords"),
        ("version", "Version"),
    ] {
        if let Some(v) = wl.get(src) {
            fields.push((dst.into(), scalar(v)));
        }
    }
    if !fields.iter().any(|(k, _)| &**k == "Computer") {
        if let Some(h) = root
            .pointer("/host/name")
            .or_else(|| root.pointer("/host/hostname"))
        {
            fields.push(("Computer".into(), scalar(h)));
        }
    }
    if let Some(r) = wl.get("record_id") {
        let v = to_int(r);
        if let Value::Int(n) = v {
            record_id = u64::try_from(n).ok();
        }
        fields.push(("EventRecordID".into(), v));
    }
    if let Some(l) = root
        .pointer("/log/level")
        .or_else(|| root.pointer("/event/severity"))
    {
        fields.push(("Level".into(), scalar(l)));
    }
    if let Some(u) = wl.get("user").and_then(|u| u.get("identifier")) {
        fields.push(("Security_UserID".into(), scalar(u)));
    }
    if let Some(pid) = wl.get("process").and_then(|p| p.pointer("/pid")) {
        fields.push(("Execution_ProcessID".into(), scalar(pid)));
    }
    if let Some(t) = root.get("@timestamp").and_then(J::as_str) {
        time = crate::time::parse_rfc3339(t);
        fields.push(("TimeCreated".into(), Value::Str(t.into())));
    }
    for sec in ["event_data", "user_data"] {
        if let Some(J::Object(o)) = wl.get(sec) {
            for (k, v) in o {
                if v.is_object() {
                    push_leaves(Some(k), v, 0, &mut fields);
                } else {
                    fields.push((k.as_str().into(), scalar(v)));
                }
            }
        }
    }
    if let Some(m) = root.get("message").and_then(J::as_str) {
        fields.push(("Message".into(), Value::Str(m.into())));
    }
    Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id,
            line,
        },
        time,
        kind: LogKind::Windows,
        fields,
    }
}

/// One Windows event from a JSON object in either shape.
pub(crate) fn event_from_json(file: &Arc<str>, v: &J, line: Option<u64>) -> Result<Event, String> {
    if let Some(ev) = v.get("Event").and_then(J::as_object) {
        return from_evtx_dump(file, ev, line);
    }
    if let Some(wl) = v.get("winlog").and_then(J::as_object) {
        return Ok(from_winlogbeat(file, v, wl, line));
    }
    // evtx_dump's JSON records may also come wrapped as {"Event": …} only;
    // a flat object with System-like keys is accepted as already flat.
    if let Some(o) = v.as_object() {
        if o.contains_key("EventID") {
            let mut fields = Vec::with_capacity(o.len());
            for (k, x) in o {
                fields.push((
                    k.as_str().into(),
                    if k == "EventID" { to_int(x) } else { scalar(x) },
                ));
            }
            let time = ["TimeCreated", "@timestamp", "SystemTime"]
                .iter()
                .find_map(|k| {
                    o.get(*k)
                        .and_then(J::as_str)
                        .and_then(crate::time::parse_rfc3339)
                });
            let record_id = o
                .get("EventRecordID")
                .and_then(|x| to_int(x).as_i64())
                .and_then(|n| u64::try_from(n).ok());
            return Ok(Event {
                origin: Origin {
                    file: Arc::clone(file),
                    record_id,
                    line,
                },
                time,
                kind: LogKind::Windows,
                fields,
            });
        }
    }
    Err("not a Windows event: no \"Event\", \"winlog\" or \"EventID\" key".into())
}
