//! Test helpers: build `Event`s from evtx_dump nested JSON and flat JSONL.
#![allow(dead_code)]

use portcullis_events::{Event, LogKind, Origin, Value};
use portcullis_sigma::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The shared corpus, when present.
pub fn shared() -> Option<PathBuf> {
    let p = PathBuf::from("/work/shared/data/detection");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("note: /work/shared/data/detection is absent; skipping the full-corpus part of this test");
        None
    }
}

fn to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::Str(s.as_str().into()),
        serde_json::Value::Array(a) => Value::List(a.iter().map(to_value).collect()),
        serde_json::Value::Object(_) => Value::Str(v.to_string().into()),
    }
}

/// Parse RFC 3339 UTC (`2019-03-19T23:34:06.123456Z`) to µs.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut frac_us = 0i64;
    if b.get(19) == Some(&b'.') {
        let digits: String = s[20..].chars().take_while(|c| c.is_ascii_digit()).collect();
        let mut d6 = digits.clone();
        d6.truncate(6);
        while d6.len() < 6 {
            d6.push('0');
        }
        frac_us = d6.parse().ok()?;
    }
    // days from civil (Howard Hinnant)
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(((days * 86400 + h * 3600 + mi * 60 + se) * 1_000_000) + frac_us)
}

/// Flatten one evtx_dump record (`{"Event": {"System": …, "EventData": …}}`).
pub fn evtx_event(v: &serde_json::Value, file: &str, line: u64) -> Option<Event> {
    let ev = v.get("Event")?;
    let sys = ev.get("System")?;
    let mut fields: Vec<(portcullis_events::FieldName, Value)> = Vec::new();
    let mut time = None;
    if let Some(obj) = sys.as_object() {
        for (k, val) in obj {
            match k.as_str() {
                "Provider" => {
                    if let Some(n) = val.pointer("/#attributes/Name") {
                        fields.push(("Provider_Name".into(), to_value(n)));
                    }
                }
                "TimeCreated" => {
                    if let Some(t) = val
                        .pointer("/#attributes/SystemTime")
                        .and_then(|t| t.as_str())
                    {
                        time = parse_time(t);
                        fields.push(("TimeCreated".into(), Value::Str(t.into())));
                    }
                }
                "EventID" => {
                    let id = val.get("#text").unwrap_or(val);
                    fields.push(("EventID".into(), to_value(id)));
                }
                _ => {
                    if let Some(attrs) = val.get("#attributes").and_then(|a| a.as_object()) {
                        for (ak, av) in attrs {
                            fields.push((portcullis_events::field_name(ak), to_value(av)));
                        }
                    } else if !val.is_object() {
                        fields.push((portcullis_events::field_name(k), to_value(val)));
                    }
                }
            }
        }
    }
    for section in ["EventData", "UserData"] {
        if let Some(obj) = ev.get(section).and_then(|d| d.as_object()) {
            for (k, val) in obj {
                if k == "#attributes" {
                    continue;
                }
                match val.as_object() {
                    // UserData: one wrapper element holding the items
                    Some(inner) if section == "UserData" => {
                        for (ik, iv) in inner {
                            if ik != "#attributes" {
                                fields.push((portcullis_events::field_name(ik), to_value(iv)));
                            }
                        }
                    }
                    _ => fields.push((portcullis_events::field_name(k), to_value(val))),
                }
            }
        }
    }
    Some(Event {
        origin: Origin {
            file: Arc::from(file),
            record_id: sys.get("EventRecordID").and_then(|r| r.as_u64()),
            line: Some(line),
            seq: 0,
        },
        time,
        kind: LogKind::Windows,
        fields,
    })
}

/// Flat JSONL (`@timestamp` + top-level fields) as used by the synthetic tests.
pub fn flat_event(v: &serde_json::Value, file: &str, line: u64) -> Option<Event> {
    let obj = v.as_object()?;
    let mut fields = Vec::new();
    let mut time = None;
    for (k, val) in obj {
        if k == "@timestamp" {
            time = val.as_str().and_then(parse_time);
        }
        fields.push((portcullis_events::field_name(k), to_value(val)));
    }
    Some(Event {
        origin: Origin {
            file: Arc::from(file),
            record_id: None,
            line: Some(line),
            seq: 0,
        },
        time,
        kind: LogKind::Windows,
        fields,
    })
}

/// Read a JSONL file (either shape); malformed lines are counted, not fatal.
pub fn read_jsonl(path: &Path) -> (Vec<Event>, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut out = Vec::new();
    let mut bad = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => {
                let ev = if v.get("Event").is_some() {
                    evtx_event(&v, &name, i as u64 + 1)
                } else {
                    flat_event(&v, &name, i as u64 + 1)
                };
                match ev {
                    Some(e) => out.push(e),
                    None => bad += 1,
                }
            }
            Err(_) => bad += 1,
        }
    }
    (out, bad)
}

/// Read a regression sample `.json` (one record, an array, or JSONL).
pub fn read_sample(path: &Path) -> Vec<Event> {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
        return match v {
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| evtx_event(x, &name, i as u64 + 1))
                .collect(),
            v => evtx_event(&v, &name, 1).into_iter().collect(),
        };
    }
    // concatenated JSON values
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>();
    for (i, v) in stream.enumerate() {
        match v {
            Ok(v) => out.extend(evtx_event(&v, &name, i as u64 + 1)),
            Err(_) => break,
        }
    }
    out
}

// ---- SigmaHQ regression data ----

pub struct Outcome {
    /// (rule, sample) matches of any rule: guards against an engine that fires everything.
    pub all_matches: usize,
    pub total: usize,
    pub hits: usize,
    pub misses: Vec<(String, String)>,
}

fn info_rule_id(info: &str) -> Option<String> {
    let mut in_meta = false;
    for line in info.lines() {
        if line.starts_with("rule_metadata:") {
            in_meta = true;
            continue;
        }
        if in_meta {
            if let Some(rest) = line
                .trim_start()
                .trim_start_matches("- ")
                .strip_prefix("id:")
            {
                return Some(rest.trim().to_string());
            }
        }
    }
    None
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.file_name().is_some_and(|n| n == "info.yml") {
            out.push(p);
        }
    }
}

pub fn regression_run(regression: &Path, engine: &Engine) -> Outcome {
    let set = engine.rule_set();
    let mut infos = Vec::new();
    walk(regression, &mut infos);
    infos.sort();
    let mut sc = engine.scratch();
    let mut out = Vec::new();
    let mut o = Outcome {
        all_matches: 0,
        total: 0,
        hits: 0,
        misses: Vec::new(),
    };
    for info in infos {
        let dir = info.parent().unwrap();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let id = info_rule_id(&std::fs::read_to_string(&info).unwrap()).unwrap();
        let jsons: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        if jsons.is_empty() {
            continue; // e.g. the Cisco .raw sample
        }
        o.total += 1;
        let Some(idx) = set.find(&id) else {
            o.misses.push((name, "rule not loaded".into()));
            continue;
        };
        let mut fired = false;
        let mut nevents = 0;
        for j in &jsons {
            for ev in read_sample(j) {
                nevents += 1;
                out.clear();
                engine.matches(&ev, &mut sc, &mut out);
                o.all_matches += out.len();
                if out.iter().any(|m| m.rule == idx) {
                    fired = true;
                }
            }
        }
        if fired {
            o.hits += 1;
        } else {
            o.misses
                .push((name, format!("did not fire on {nevents} events")));
        }
    }
    o
}

/// Misses on the full set, each with its reason (checked exactly, so a fix
/// or a regression both show up here).
pub const KNOWN_MISSES: &[(&str, &str)] = &[(
    "win_defender_exploit_redsun_tiering_engine_detected_as_eicar",
    "Defender EventData names contain spaces (`Source Name`, `Threat Name`, `Process Name`) \
     while the rule says `SourceName`, `ThreatName`, `ProcessName`: a field-mapping matter \
     (the hunt mapping for service windefend), not an engine one; this test uses IdentityMapping",
)];
