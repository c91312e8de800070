//! Windows events as JSON: the `evtx` crate's nested shape (`Event.System`,
//! `Event.EventData`, attributes under `#attributes`) and Winlogbeat/ECS
//! (`winlog.*`, `@timestamp`, `host.name`). Both give the EVTX field names.
use crate::FieldName;

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

fn push_leaves(
    prefix_key: Option<&str>,
    v: &J,
    depth: usize,
    fields: &mut Vec<(FieldName, Value)>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        J::Object(o) => {
            if let Some(t) = o.get("#text") {
                if let Some(k) = prefix_key {
                    fields.push((crate::field_name(k), scalar(t)));
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
                fields.push((crate::field_name(k), scalar(other)));
            }
        }
    }
}

fn event_data(ed: &J, fields: &mut Vec<(FieldName, Value)>) {
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
                fields.push((crate::field_name(k), scalar(t)));
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
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(24);
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
                fields.push((crate::field_name(k), to_int(text_of(v))))
            }
            _ => {
                let t = text_of(v);
                if !t.is_null() {
                    fields.push((crate::field_name(k), scalar(t)));
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
            seq: 0,
        },
        time,
        kind: LogKind::Windows,
        fields,
    })
}

fn from_winlogbeat(file: &Arc<str>, root: &J, wl: &Map<String, J>, line: Option<u64>) -> Event {
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(24);
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
                    fields.push((crate::field_name(k), scalar(v)));
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
            seq: 0,
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
    if let Some(o) = v.as_object() {
        // Flat exports (nxlog `im_msvistalog`, OTRF/Mordor, Splunk, a
        // `Select-Object` of the XML): System and EventData names at the top.
        if o.contains_key("EventID") {
            return Ok(flat_event(file, o, line));
        }
        // `Get-WinEvent | ConvertTo-Json`: .NET `EventLogRecord` properties.
        if o.contains_key("Id") && (o.contains_key("LogName") || o.contains_key("ProviderName")) {
            return Ok(get_winevent(file, o, line));
        }
    }
    Err(
        "not a Windows event: no \"Event\", \"winlog\", \"EventID\" or \"Id\"+\"LogName\" key"
            .into(),
    )
}

/// Flat-export names of System fields → the EVTX names (added when absent).
const FLAT_ALIASES: &[(&str, &str)] = &[
    ("Hostname", "Computer"),
    ("ComputerName", "Computer"),
    ("SourceName", "Provider_Name"),
    ("ProviderName", "Provider_Name"),
    ("ProviderGuid", "Provider_Guid"),
    ("RecordNumber", "EventRecordID"),
    ("OpcodeValue", "Opcode"),
    ("ProcessID", "Execution_ProcessID"),
    ("ThreadID", "Execution_ThreadID"),
];

/// Time fields of flat exports, in order of preference. Stamps without a
/// zone (nxlog's `EventTime`) are taken as UTC.
const FLAT_TIMES: &[&str] = &[
    "TimeCreated",
    "SystemTime",
    "@timestamp",
    "EventTime",
    "TimeGenerated",
    "timestamp",
];

fn time_of(v: &J) -> Option<i64> {
    let s = v.as_str()?;
    crate::time::parse_rfc3339(s).or_else(|| dotnet_date(s))
}

/// `/Date(1595449776414)/` (Windows PowerShell 5.1's JSON dates), with an
/// optional `+hhmm` offset that does not change the instant.
fn dotnet_date(s: &str) -> Option<i64> {
    let inner = s.trim().strip_prefix("/Date(")?.strip_suffix(")/")?;
    let end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let ms: i64 = inner.get(..end)?.parse().ok()?;
    ms.checked_mul(1000)
}

fn flat_event(file: &Arc<str>, o: &Map<String, J>, line: Option<u64>) -> Event {
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(o.len() + 4);
    for (k, x) in o {
        let v = match k.as_str() {
            "EventID" | "EventRecordID" | "RecordNumber" => to_int(x),
            _ => scalar(x),
        };
        fields.push((crate::field_name(k), v));
    }
    for (from, to) in FLAT_ALIASES {
        if o.contains_key(*to) {
            continue;
        }
        if let Some(x) = o.get(*from) {
            let v = if *to == "EventRecordID" {
                to_int(x)
            } else {
                scalar(x)
            };
            fields.push((FieldName::Borrowed(to), v));
        }
    }
    let time = FLAT_TIMES.iter().find_map(|k| o.get(*k).and_then(time_of));
    let record_id = ["EventRecordID", "RecordNumber"]
        .iter()
        .find_map(|k| o.get(*k))
        .and_then(|x| to_int(x).as_i64())
        .and_then(|n| u64::try_from(n).ok());
    Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id,
            line,
            seq: 0,
        },
        time,
        kind: LogKind::Windows,
        fields,
    }
}

/// Names of the positional `Properties` of the logon events the bundled
/// rules read (their manifest templates, in order; later versions only
/// append). Other events keep their properties as an unnamed `Data` list.
fn template(event_id: i64) -> &'static [&'static str] {
    match event_id {
        4624 => &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "TargetUserSid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonId",
            "LogonType",
            "LogonProcessName",
            "AuthenticationPackageName",
            "WorkstationName",
            "LogonGuid",
            "TransmittedServices",
            "LmPackageName",
            "KeyLength",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
            "ImpersonationLevel",
            "RestrictedAdminMode",
            "TargetOutboundUserName",
            "TargetOutboundDomainName",
            "VirtualAccount",
            "TargetLinkedLogonId",
            "ElevatedToken",
        ],
        4625 => &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "TargetUserSid",
            "TargetUserName",
            "TargetDomainName",
            "Status",
            "FailureReason",
            "SubStatus",
            "LogonType",
            "LogonProcessName",
            "AuthenticationPackageName",
            "WorkstationName",
            "TransmittedServices",
            "LmPackageName",
            "KeyLength",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
        ],
        4648 => &[
            "SubjectUserSid",
            "SubjectUserName",
            "SubjectDomainName",
            "SubjectLogonId",
            "LogonGuid",
            "TargetUserName",
            "TargetDomainName",
            "TargetLogonGuid",
            "TargetServerName",
            "TargetInfo",
            "ProcessId",
            "ProcessName",
            "IpAddress",
            "IpPort",
        ],
        4768 => &[
            "TargetUserName",
            "TargetDomainName",
            "TargetSid",
            "ServiceName",
            "ServiceSid",
            "TicketOptions",
            "Status",
            "TicketEncryptionType",
            "PreAuthType",
            "IpAddress",
            "IpPort",
            "CertIssuerName",
            "CertSerialNumber",
            "CertThumbprint",
        ],
        4771 => &[
            "TargetUserName",
            "TargetSid",
            "ServiceName",
            "TicketOptions",
            "Status",
            "PreAuthType",
            "IpAddress",
            "IpPort",
            "CertIssuerName",
            "CertSerialNumber",
            "CertThumbprint",
        ],
        4776 => &["PackageName", "TargetUserName", "Workstation", "Status"],
        _ => &[],
    }
}

/// .NET `EventLogRecord` property names → the EVTX names.
const GET_WINEVENT: &[(&str, &str)] = &[
    ("Id", "EventID"),
    ("LogName", "Channel"),
    ("MachineName", "Computer"),
    ("ProviderName", "Provider_Name"),
    ("ProviderId", "Provider_Guid"),
    ("RecordId", "EventRecordID"),
    ("Version", "Version"),
    ("Level", "Level"),
    ("Task", "Task"),
    ("Opcode", "Opcode"),
    ("Keywords", "Keywords"),
    ("ProcessId", "Execution_ProcessID"),
    ("ThreadId", "Execution_ThreadID"),
    ("UserId", "Security_UserID"),
    ("Message", "Message"),
    ("LevelDisplayName", "LevelDisplayName"),
    ("TaskDisplayName", "TaskDisplayName"),
];

/// A `Properties` item: `{"Value": x}`, where x may itself be an object
/// with a `Value` (a SID serialised by PowerShell).
fn property_value(p: &J) -> Value {
    let v = p.get("Value").unwrap_or(p);
    match v {
        J::Object(o) => o.get("Value").map_or_else(|| scalar(v), scalar),
        other => scalar(other),
    }
}

fn get_winevent(file: &Arc<str>, o: &Map<String, J>, line: Option<u64>) -> Event {
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(40);
    for (from, to) in GET_WINEVENT {
        if let Some(x) = o.get(*from) {
            let v = match *from {
                "Id" | "RecordId" => to_int(x),
                _ => scalar(x),
            };
            if !v.is_null() {
                fields.push((FieldName::Borrowed(to), v));
            }
        }
    }
    let time = o.get("TimeCreated").and_then(time_of);
    if let Some(t) = time {
        fields.push((
            FieldName::Borrowed("TimeCreated"),
            Value::Str(crate::time::format_rfc3339_micros(t).into()),
        ));
    }
    let event_id = o.get("Id").and_then(|x| to_int(x).as_i64()).unwrap_or(-1);
    if let Some(J::Array(props)) = o.get("Properties") {
        let names = template(event_id);
        let mut unnamed = Vec::new();
        for (i, p) in props.iter().enumerate() {
            match names.get(i) {
                Some(n) => fields.push((FieldName::Borrowed(n), property_value(p))),
                None => unnamed.push(property_value(p)),
            }
        }
        match unnamed.len() {
            0 => {}
            1 => fields.extend(unnamed.pop().map(|v| (FieldName::Borrowed("Data"), v))),
            _ => fields.push((FieldName::Borrowed("Data"), Value::List(unnamed))),
        }
    }
    let record_id = o
        .get("RecordId")
        .and_then(|x| to_int(x).as_i64())
        .and_then(|n| u64::try_from(n).ok());
    Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id,
            line,
            seq: 0,
        },
        time,
        kind: LogKind::Windows,
        fields,
    }
}
