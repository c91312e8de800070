//! Helpers for the shapes `ConvertTo-Json` writes in Windows PowerShell 5.1
//! and PowerShell 7: one object instead of a one-element array, enums as
//! numbers or names, booleans as `true` or `"True"`, dates as ISO text,
//! `/Date(ms)/` or `{ "value": "/Date(ms)/", "DateTime": "…" }`.

use crate::date::parse_date;
use serde_json::Value;

/// The items of a list member: an array's elements, or a lone object.
pub fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().filter(|x| x.is_object()).collect(),
        Value::Object(_) => vec![v],
        _ => Vec::new(),
    }
}

/// A field, matched case-insensitively.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    o.get(key)
        .or_else(|| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// A field as text (numbers and booleans rendered; `{value: …}` unwrapped).
pub fn text(v: &Value, key: &str) -> Option<String> {
    scalar_text(field(v, key)?)
}

/// A value as text.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Value::Object(_) => field(v, "value").and_then(scalar_text),
        _ => None,
    }
}

/// A field as a boolean: `true`, `"True"`, `1` (and `0`, `"False"`);
/// anything else (`"NotConfigured"`, `2`) is `None`.
pub fn boolean(v: &Value, key: &str) -> Option<bool> {
    match field(v, key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A field as an integer (numbers, or text holding one).
pub fn int(v: &Value, key: &str) -> Option<i64> {
    match field(v, key)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok())),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A field as a date (days since 1970-01-01).
pub fn date(v: &Value, key: &str) -> Option<i64> {
    let f = field(v, key)?;
    match f {
        Value::String(s) => parse_date(s),
        Value::Object(_) => field(f, "value")
            .and_then(Value::as_str)
            .and_then(parse_date)
            .or_else(|| {
                field(f, "DateTime")
                    .and_then(Value::as_str)
                    .and_then(parse_date)
            }),
        _ => None,
    }
}
