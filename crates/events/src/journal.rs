//! `journalctl -o json` records.

use crate::syslog::emit_line_events;
use crate::Event;
use serde_json::Value as J;
use std::sync::Arc;

fn text(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        // Non-UTF-8 fields are arrays of byte values.
        J::Array(a) => {
            let bytes: Vec<u8> = a
                .iter()
                .filter_map(|b| b.as_u64().and_then(|n| u8::try_from(n).ok()))
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        J::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn events_from_json(
    file: &Arc<str>,
    v: &J,
    line: Option<u64>,
    sink: &mut dyn FnMut(Event),
) -> Result<(), String> {
    let o = v
        .as_object()
        .ok_or("a journal record must be a JSON object")?;
    let message = o.get("MESSAGE").and_then(text).ok_or("no MESSAGE field")?;
    let time = o
        .get("__REALTIME_TIMESTAMP")
        .and_then(text)
        .and_then(|t| t.trim().parse::<i64>().ok());
    let program = o
        .get("SYSLOG_IDENTIFIER")
        .or_else(|| o.get("_COMM"))
        .and_then(text);
    let pid = o
        .get("SYSLOG_PID")
        .or_else(|| o.get("_PID"))
        .and_then(text)
        .and_then(|p| p.trim().parse::<i64>().ok());
    let host = o.get("_HOSTNAME").and_then(text);
    emit_line_events(
        file,
        line,
        time,
        host.as_deref(),
        program.as_deref(),
        pid,
        &message,
        sink,
    );
    Ok(())
}
