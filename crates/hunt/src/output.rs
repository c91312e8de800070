//! Output: JSONL and CSV for machines, a timeline table with summaries for
//! people. The JSON shape is documented in `docs/formats/hunt-json.md`.

use crate::{Detection, Level};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// RFC 3339 UTC text of a microsecond timestamp.
pub fn format_time(us: i64) -> String {
    match jiff::Timestamp::from_microsecond(us) {
        Ok(t) => {
            if us % 1_000_000 == 0 {
                t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
            }
        }
        Err(_) => us.to_string(),
    }
}

fn opt_time(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(format_time(t)))
}

/// A detection as a JSON object (one JSONL line).
pub fn detection_json(d: &Detection) -> Value {
    let events: Vec<Value> = d
        .events
        .iter()
        .map(|e| {
            let mut fields = Map::new();
            for (k, v) in &e.fields {
                fields.insert(k.clone(), Value::String(v.clone()));
            }
            json!({
                "file": e.file,
                "record_id": e.record_id,
                "line": e.line,
                "time": opt_time(e.time),
                "fields": fields,
            })
        })
        .collect();
    let correlation = d.correlation.as_ref().map_or(Value::Null, |c| {
        let mut group = Map::new();
        for (k, v) in &c.group {
            group.insert(k.clone(), v.clone().map_or(Value::Null, Value::String));
        }
        json!({
            "type": c.kind,
            "group": group,
            "window_start": format_time(c.window.0),
            "window_end": format_time(c.window.1),
            "count": c.count,
            "distinct": c.distinct,
        })
    });
    json!({
        "rule_id": d.rule_id,
        "title": d.title,
        "level": d.level.as_str(),
        "tags": d.tags,
        "attack": d.attack_techniques(),
        "time": opt_time(d.time),
        "host": d.host,
        "user": d.user,
        "source": d.source,
        "summary": d.summary,
        "correlation": correlation,
        "events": events,
    })
}

/// Write one JSONL line.
pub fn write_jsonl(out: &mut dyn Write, d: &Detection) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &detection_json(d))?;
    out.write_all(b"\n")
}

/// The CSV header.
pub const CSV_HEADER: &str =
    "time,level,rule_id,title,host,user,source,attack,summary,events,first_file,first_record_id,first_line";

fn csv_field(s: &str) -> String {
    // Also defuse spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) && !s.starts_with('-') {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Write one CSV row (after [`CSV_HEADER`]).
pub fn write_csv(out: &mut dyn Write, d: &Detection) -> io::Result<()> {
    let first = d.events.first();
    let row = [
        d.time.map(format_time).unwrap_or_default(),
        d.level.as_str().to_string(),
        d.rule_id.clone(),
        d.title.clone(),
        d.host.clone().unwrap_or_default(),
        d.user.clone().unwrap_or_default(),
        d.source.clone().unwrap_or_default(),
        d.attack_techniques().join(" "),
        d.summary.clone(),
        d.events.len().to_string(),
        first.map(|e| e.file.clone()).unwrap_or_default(),
        first
            .and_then(|e| e.record_id)
            .map(|r| r.to_string())
            .unwrap_or_default(),
        first
            .and_then(|e| e.line)
            .map(|r| r.to_string())
            .unwrap_or_default(),
    ];
    let line: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
    writeln!(out, "{}", line.join(","))
}

fn clip(s: &str, n: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn paint(color: bool, level: Level, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match level {
        Level::Critical => "1;35",
        Level::High => "1;31",
        Level::Medium => "33",
        Level::Low => "36",
        Level::Informational => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Write the timeline table (detections sorted by time), then a summary
/// per rule and per host.
pub fn write_table(
    out: &mut dyn Write,
    detections: &mut [Detection],
    color: bool,
) -> io::Result<()> {
    detections.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| b.level.cmp(&a.level))
            .then_with(|| a.title.cmp(&b.title))
    });
    if detections.is_empty() {
        writeln!(out, "No detections.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<20}  {:<16}  {:<13}  {:<40}  {:<20}  {:<18}  SUMMARY",
        "TIME (UTC)", "HOST", "LEVEL", "RULE", "USER", "SOURCE"
    )?;
    for d in detections.iter() {
        let time = d
            .time
            .map(|t| clip(&format_time(t - t.rem_euclid(1_000_000)), 20))
            .unwrap_or_else(|| "-".into());
        let level = format!("{:<13}", d.level.as_str());
        writeln!(
            out,
            "{:<20}  {:<16}  {}  {:<40}  {:<20}  {:<18}  {}",
            time,
            clip(d.host.as_deref().unwrap_or("-"), 16),
            paint(color, d.level, &level),
            clip(&d.title, 40),
            clip(d.user.as_deref().unwrap_or("-"), 20),
            clip(d.source.as_deref().unwrap_or("-"), 18),
            clip(&d.summary, 120),
        )?;
    }
    let mut per_rule: BTreeMap<(std::cmp::Reverse<Level>, String, String), u64> = BTreeMap::new();
    let mut per_host: BTreeMap<String, (u64, Level)> = BTreeMap::new();
    for d in detections.iter() {
        *per_rule
            .entry((
                std::cmp::Reverse(d.level),
                d.title.clone(),
                d.rule_id.clone(),
            ))
            .or_default() += 1;
        let h = per_host
            .entry(d.host.clone().unwrap_or_else(|| "-".into()))
            .or_insert((0, Level::Informational));
        h.0 += 1;
        h.1 = h.1.max(d.level);
    }
    writeln!(out)?;
    writeln!(out, "Summary by rule:")?;
    for ((level, title, id), n) in &per_rule {
        writeln!(
            out,
            "  {:>6}  {}  {}  ({id})",
            n,
            paint(color, level.0, &format!("{:<13}", level.0.as_str())),
            clip(title, 80)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Summary by host:")?;
    for (host, (n, level)) in &per_host {
        writeln!(
            out,
            "  {:>6}  {:<30}  highest: {}",
            n,
            clip(host, 30),
            paint(color, *level, level.as_str())
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} detections from {} rules on {} hosts.",
        detections.len(),
        per_rule.len(),
        per_host.len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorrelationInfo, EventRef};

    fn sample() -> Detection {
        Detection {
            rule_id: "6d3cd4ab-9183-4fb9-af46-799e5b787bb5".into(),
            title: "Password Spray, \"quoted\"".into(),
            level: Level::High,
            tags: vec!["attack.credential-access".into(), "attack.t1110.003".into()],
            time: Some(1_556_652_422_847_284),
            host: Some("DC01".into()),
            user: None,
            source: Some("172.16.144.128".into()),
            summary: "=cmd".into(),
            correlation: Some(CorrelationInfo {
                kind: "value_count".into(),
                group: vec![("IpAddress".into(), Some("172.16.144.128".into()))],
                window: (1_556_652_422_000_000, 1_556_652_722_000_000),
                count: 41,
                distinct: vec!["a".into(), "b".into()],
            }),
            events: vec![EventRef {
                file: "password-spray.evtx".into(),
                record_id: Some(42804),
                line: None,
                time: Some(1_556_652_422_847_284),
                fields: vec![("EventID".into(), "4648".into())],
            }],
        }
    }

    #[test]
    fn jsonl_shape() {
        let mut buf = Vec::new();
        write_jsonl(&mut buf, &sample()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.ends_with('\n') && text.lines().count() == 1);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["rule_id"], "6d3cd4ab-9183-4fb9-af46-799e5b787bb5");
        assert_eq!(v["level"], "high");
        assert_eq!(v["attack"], json!(["T1110.003"]));
        assert_eq!(v["time"], "2019-04-30T19:27:02.847284Z");
        assert_eq!(v["correlation"]["group"]["IpAddress"], "172.16.144.128");
        assert_eq!(v["correlation"]["window_start"], "2019-04-30T19:27:02Z");
        assert_eq!(v["correlation"]["count"], 41);
        assert_eq!(v["events"][0]["record_id"], 42804);
        assert_eq!(v["events"][0]["line"], Value::Null);
        assert_eq!(v["events"][0]["fields"]["EventID"], "4648");
    }

    #[test]
    fn csv_quotes_and_defuses() {
        let mut buf = Vec::new();
        write_csv(&mut buf, &sample()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "2019-04-30T19:27:02.847284Z,high,6d3cd4ab-9183-4fb9-af46-799e5b787bb5,\"Password Spray, \"\"quoted\"\"\",DC01,,172.16.144.128,T1110.003,'=cmd,1,password-spray.evtx,42804,\n"
        );
        assert_eq!(CSV_HEADER.split(',').count(), 13);
    }

    #[test]
    fn table_sorted_with_summaries() {
        let mut a = sample();
        a.time = Some(2_000_000_000_000_000);
        let mut b = sample();
        b.title = "Brute".into();
        b.level = Level::Medium;
        b.rule_id = "r2".into();
        b.host = Some("WS7".into());
        let mut v = vec![a, b];
        let mut buf = Vec::new();
        write_table(&mut buf, &mut v, false).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("TIME (UTC)"));
        assert!(lines[1].starts_with("2019-04-30T19:27:02Z") && lines[1].contains("Brute"));
        assert!(lines[2].starts_with("2033-05-18T03:33:20Z"));
        assert!(text.contains("Summary by rule:\n       1  high           Password Spray"));
        assert!(text.contains("Summary by host:\n       1  DC01"));
        assert!(text.ends_with("2 detections from 2 rules on 2 hosts.\n"));
        let mut none: Vec<Detection> = vec![];
        let mut buf = Vec::new();
        write_table(&mut buf, &mut none, false).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "No detections.\n");
    }
}
