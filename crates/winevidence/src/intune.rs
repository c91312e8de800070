//! Intune configuration-policy exports (Microsoft Graph JSON, UTF-16LE with
//! a BOM as the NCSC packs ship them; and the packs' summary CSV). These are
//! *configured policy*, not observed machine state.

use crate::evidence::PolicySetting;
use crate::text::decode;
use portcullis_model::Diagnostic;
use serde_json::Value;

const MAX_SETTINGS: usize = 20_000;

/// True when the decoded text looks like an Intune export (JSON with
/// settings, or the NCSC summary CSV).
pub fn looks_like_policy(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with("Folder,Filename,Policy Type")
        || (t.starts_with('{') || t.starts_with('"'))
            && (t.contains("settingDefinitionId") || t.contains("definitionId"))
}

/// Reads one export file's settings.
pub fn parse(bytes: &[u8], name: &str, diags: &mut Vec<Diagnostic>) -> Vec<PolicySetting> {
    let text = decode(bytes);
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.starts_with("Folder,Filename,Policy Type") {
        return parse_csv(t, name, diags);
    }
    let mut v: Value = match serde_json::from_str(t) {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                name,
                format!("not a readable Intune export: {e}"),
            ));
            return Vec::new();
        }
    };
    // Endpoint-security `_Settings.json` files hold the JSON as one string.
    if let Value::String(inner) = &v {
        match serde_json::from_str(inner) {
            Ok(x) => v = x,
            Err(e) => {
                diags.push(Diagnostic::error(
                    name,
                    format!("the quoted JSON inside is not readable: {e}"),
                ));
                return Vec::new();
            }
        }
    }
    let mut out = Vec::new();
    let mut stack: Vec<(&Value, usize)> = vec![(&v, 0)];
    while let Some((node, depth)) = stack.pop() {
        if depth > 64 || out.len() >= MAX_SETTINGS {
            continue;
        }
        match node {
            Value::Object(o) => {
                if let Some(Value::String(id)) = o.get("settingDefinitionId") {
                    let val = ["choiceSettingValue", "simpleSettingValue"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(|c| c.get("value")))
                        .and_then(crate::json::scalar_text);
                    if let Some(val) = val {
                        out.push(setting(id, &val, name));
                    }
                } else if let Some(Value::String(id)) = o.get("definitionId") {
                    let val = o
                        .get("valueJson")
                        .and_then(Value::as_str)
                        .map(|s| s.trim_matches('"').to_string())
                        .or_else(|| o.get("value").and_then(crate::json::scalar_text));
                    if let Some(val) = val {
                        // `deviceConfiguration--windowsIdentityProtectionConfiguration_pinMinimumLength`
                        let short = id.rsplit("--").next().unwrap_or(id);
                        out.push(setting(short, &val, name));
                    }
                }
                stack.extend(o.values().map(|c| (c, depth + 1)));
            }
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    out.reverse();
    out
}

fn setting(id: &str, val: &str, source: &str) -> PolicySetting {
    let id = id.to_ascii_lowercase();
    let value = val
        .strip_prefix(id.as_str())
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(val)
        .to_string();
    PolicySetting {
        id,
        value,
        source: source.to_string(),
        line: None,
    }
}

fn parse_csv(t: &str, name: &str, diags: &mut Vec<Diagnostic>) -> Vec<PolicySetting> {
    let mut out = Vec::new();
    for (i, line) in t.lines().enumerate().skip(1).take(MAX_SETTINGS) {
        let f = csv_fields(line);
        // Folder,Filename,Policy Type,Path,Setting,Value
        if let (Some(file), Some(setting), Some(value)) = (f.get(1), f.get(4), f.get(5)) {
            out.push(PolicySetting {
                id: setting.to_ascii_lowercase(),
                value: value.clone(),
                source: format!("{name} ({file})"),
                line: u32::try_from(i + 1).ok(),
            });
        } else {
            diags.push(
                Diagnostic::warning(name, format!("{} fields where 6 are expected (Folder,Filename,Policy Type,Path,Setting,Value); row skipped", f.len()))
                    .at(u32::try_from(i + 1).unwrap_or(u32::MAX), None),
            );
        }
    }
    out
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes() {
        assert_eq!(
            csv_fields(r#"a,"b,c","d""e",f"#),
            vec!["a", "b,c", "d\"e", "f"]
        );
    }
}
