//! Windows EVTX: records rendered to XML by the `evtx` crate, then flattened
//! by a small purpose-built XML scanner (the crate's XML output is regular:
//! no DTD, double-quoted attributes, the five predefined entities and
//! character references).
use crate::FieldName;

use crate::{Diags, Event, LogKind, Origin, Value};
use evtx::{EvtxParser, ParserSettings};
use std::borrow::Cow;
use std::io::{Read, Seek};
use std::sync::Arc;

const MAX_DEPTH: usize = 64;

/// The EVTX file magic.
pub const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";

/// System fields pulled out while flattening.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SystemInfo {
    /// `EventRecordID`.
    pub record_id: Option<u64>,
    /// `TimeCreated/@SystemTime` in unix microseconds.
    pub time: Option<i64>,
}

fn unescape(raw: &[u8]) -> Cow<'_, str> {
    if memchr::memchr(b'&', raw).is_none() {
        return match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(raw),
        };
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c == b'&' {
            if let Some(end) = raw[i..].iter().take(12).position(|&b| b == b';') {
                let ent = &raw[i + 1..i + end];
                let rep: Option<char> = match ent {
                    b"amp" => Some('&'),
                    b"lt" => Some('<'),
                    b"gt" => Some('>'),
                    b"quot" => Some('"'),
                    b"apos" => Some('\''),
                    [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32),
                    [b'#', dec @ ..] => std::str::from_utf8(dec)
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .and_then(char::from_u32),
                    _ => None,
                };
                if let Some(ch) = rep {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                    i += end + 1;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn local(name: &[u8]) -> &[u8] {
    // Names are short: a plain loop beats a SIMD search here.
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Element text: usually one slice of the input, copied only when split
/// (by a comment or CDATA section).
enum Text {
    Empty,
    Slice(usize, usize),
    Owned(Vec<u8>),
}

impl Text {
    fn add(&mut self, xml: &[u8], start: usize, end: usize) {
        match self {
            Text::Empty => *self = Text::Slice(start, end),
            Text::Slice(s, e) => {
                let mut v = xml[*s..*e].to_vec();
                v.extend_from_slice(&xml[start..end]);
                *self = Text::Owned(v);
            }
            Text::Owned(v) => v.extend_from_slice(&xml[start..end]),
        }
    }

    fn get<'a>(&'a self, xml: &'a [u8]) -> &'a [u8] {
        match self {
            Text::Empty => b"",
            Text::Slice(s, e) => &xml[*s..*e],
            Text::Owned(v) => v,
        }
    }
}

fn name_str(name: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(name) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(name),
    }
}

fn int_or_str(s: &str) -> Value {
    match s.parse::<i64>() {
        Ok(n) => Value::Int(n),
        Err(_) => Value::Str(s.into()),
    }
}

fn push_field(fields: &mut Vec<(FieldName, Value)>, name: &str, v: Value) {
    if name == "Data" {
        if let Some((_, old)) = fields.iter_mut().find(|(k, _)| &**k == "Data") {
            match old {
                Value::List(l) => l.push(v),
                other => {
                    let prev = std::mem::replace(other, Value::Null);
                    *other = Value::List(vec![prev, v]);
                }
            }
            return;
        }
    }
    fields.push((crate::field_name(name), v));
}

struct Frame<'x> {
    name: &'x [u8],
    had_child: bool,
    data_name: Option<String>,
}

#[derive(PartialEq)]
enum Section {
    None,
    System,
    EventData,
    Other,
    Skip,
}

/// Flatten one record's XML (as rendered by the `evtx` crate or `wevtutil`)
/// into contract fields. Fuzz-friendly: any bytes in, an error string out.
pub fn flatten_evtx_xml(
    xml: &[u8],
    fields: &mut Vec<(FieldName, Value)>,
) -> Result<SystemInfo, String> {
    let mut info = SystemInfo::default();
    let mut stack: Vec<Frame<'_>> = Vec::with_capacity(8);
    let mut text = Text::Empty;
    let mut pos = 0usize;
    let mut saw_event = false;
    while pos < xml.len() {
        let Some(lt) = memchr::memchr(b'<', &xml[pos..]).map(|i| i + pos) else {
            break;
        };
        if lt > pos && !stack.is_empty() {
            text.add(xml, pos, lt);
        }
        let rest = &xml[lt..];
        if rest.starts_with(b"<?") {
            pos = find(xml, lt, b"?>").ok_or("unterminated processing instruction")? + 2;
            continue;
        }
        if rest.starts_with(b"<!--") {
            pos = find(xml, lt, b"-->").ok_or("unterminated comment")? + 3;
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            let end = find(xml, lt, b"]]>").ok_or("unterminated CDATA")?;
            text.add(xml, lt + 9, end);
            pos = end + 3;
            continue;
        }
        let gt = memchr::memchr(b'>', rest).ok_or("unterminated tag")? + lt;
        if rest.starts_with(b"</") {
            let name = local(trim(&xml[lt + 2..gt]));
            let frame = stack.pop().ok_or("end tag without start tag")?;
            if local(frame.name) != name {
                return Err(format!(
                    "mismatched end tag </{}>",
                    String::from_utf8_lossy(name)
                ));
            }
            close(&stack, frame, text.get(xml), fields, &mut info);
            text = Text::Empty;
            pos = gt + 1;
            continue;
        }
        // Start or empty tag: attribute values may contain '>', so scan them.
        let mut i = lt + 1;
        let name_end = xml[i..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
            .map(|p| p + i)
            .ok_or("unterminated tag")?;
        let name = &xml[i..name_end];
        if name.is_empty() {
            return Err("empty tag name".into());
        }
        if let Some(parent) = stack.last_mut() {
            parent.had_child = true;
        }
        text = Text::Empty;
        let depth = stack.len() + 1;
        if depth > MAX_DEPTH {
            return Err("elements nested too deeply".into());
        }
        if depth == 1 {
            saw_event = true;
        }
        let section = section_of(&stack, name);
        let mut frame = Frame {
            name,
            had_child: false,
            data_name: None,
        };
        i = name_end;
        let self_closing;
        loop {
            while xml.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match xml.get(i) {
                None => return Err("unterminated tag".into()),
                Some(b'>') => {
                    self_closing = false;
                    i += 1;
                    break;
                }
                Some(b'/') => {
                    if xml.get(i + 1) != Some(&b'>') {
                        return Err("stray '/' in tag".into());
                    }
                    self_closing = true;
                    i += 2;
                    break;
                }
                Some(_) => {
                    let eq = memchr::memchr(b'=', &xml[i..])
                        .map(|p| p + i)
                        .ok_or("attribute without value")?;
                    let key = local(trim(&xml[i..eq]));
                    let mut j = eq + 1;
                    while xml.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    let q = *xml.get(j).ok_or("unterminated attribute")?;
                    if q != b'"' && q != b'\'' {
                        return Err("unquoted attribute value".into());
                    }
                    let vend = memchr::memchr(q, &xml[j + 1..])
                        .map(|p| p + j + 1)
                        .ok_or("unterminated attribute value")?;
                    let raw = &xml[j + 1..vend];
                    attribute(
                        &section, depth, name, key, raw, &mut frame, fields, &mut info,
                    );
                    i = vend + 1;
                }
            }
        }
        pos = i;
        if self_closing {
            close(&stack, frame, b"", fields, &mut info);
        } else {
            stack.push(frame);
        }
    }
    if !stack.is_empty() {
        return Err("truncated XML: unclosed elements".into());
    }
    if !saw_event {
        return Err("no XML element found".into());
    }
    Ok(info)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(&hay[from..], needle).map(|i| i + from)
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

fn section_of(stack: &[Frame<'_>], name: &[u8]) -> Section {
    let sec_name = match stack.get(1) {
        Some(f) => local(f.name),
        None if stack.len() == 1 => local(name),
        None => return Section::None,
    };
    match sec_name {
        b"System" => Section::System,
        b"EventData" => Section::EventData,
        b"RenderingInfo" => Section::Skip,
        _ => Section::Other,
    }
}

#[allow(clippy::too_many_arguments)]
fn attribute(
    section: &Section,
    depth: usize,
    elem: &[u8],
    key: &[u8],
    raw: &[u8],
    frame: &mut Frame<'_>,
    fields: &mut Vec<(FieldName, Value)>,
    info: &mut SystemInfo,
) {
    let elem = local(elem);
    match section {
        Section::System if depth == 3 => {
            let v = unescape(raw);
            let name: Cow<'static, str> = match (elem, key) {
                (b"Provider", b"Name") => "Provider_Name".into(),
                (b"Provider", b"Guid") => "Provider_Guid".into(),
                (b"Provider", b"EventSourceName") => "Provider_EventSourceName".into(),
                (b"TimeCreated", b"SystemTime") => {
                    info.time = crate::time::parse_rfc3339(&v);
                    "TimeCreated".into()
                }
                (b"Security", b"UserID") => "Security_UserID".into(),
                (b"Execution", b"ProcessID") => "Execution_ProcessID".into(),
                (b"Execution", b"ThreadID") => "Execution_ThreadID".into(),
                (b"EventID", b"Qualifiers") => "EventID_Qualifiers".into(),
                (e, k) => format!(
                    "{}_{}",
                    String::from_utf8_lossy(e),
                    String::from_utf8_lossy(k)
                )
                .into(),
            };
            let val = if name.ends_with("ProcessID") || name.ends_with("ThreadID") {
                int_or_str(&v)
            } else {
                Value::Str(v.into())
            };
            fields.push((crate::field_name(&name), val));
        }
        Section::EventData if depth == 3 && key == b"Name" => {
            frame.data_name = Some(unescape(raw).into_owned());
        }
        _ => {}
    }
}

fn close(
    stack: &[Frame<'_>],
    frame: Frame<'_>,
    text: &[u8],
    fields: &mut Vec<(FieldName, Value)>,
    info: &mut SystemInfo,
) {
    let depth = stack.len() + 1;
    if depth < 3 || frame.had_child {
        return;
    }
    let section = section_of(stack, frame.name);
    let blank = text.iter().all(u8::is_ascii_whitespace);
    let name = local(frame.name);
    match section {
        Section::System if depth == 3 => {
            if blank {
                return;
            }
            let t = unescape(text);
            let t = t.trim();
            let v = match name {
                b"EventID" | b"Version" | b"Level" | b"Task" | b"Opcode" => int_or_str(t),
                b"EventRecordID" => {
                    let v = int_or_str(t);
                    if let Value::Int(n) = v {
                        info.record_id = u64::try_from(n).ok();
                    }
                    v
                }
                _ => Value::Str(t.into()),
            };
            fields.push((crate::field_name(&name_str(name)), v));
        }
        Section::EventData if depth == 3 => {
            // An empty <Data/> is "" (as evtx_dump's JSON has it).
            let v = Value::Str(unescape(text).into());
            match frame.data_name {
                Some(n) => push_field(fields, &n, v),
                None => push_field(fields, &name_str(name), v),
            }
        }
        Section::Other => {
            let v = if blank {
                Value::Null
            } else {
                Value::Str(unescape(text).into())
            };
            push_field(fields, &name_str(name), v);
        }
        _ => {}
    }
}

/// Read an EVTX stream with `threads` worker threads (1 = on this thread).
pub(crate) fn read_evtx<R: Read + Seek>(
    file: &Arc<str>,
    mut source: R,
    threads: usize,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    let size = source.seek(std::io::SeekFrom::End(0)).ok();
    if source.seek(std::io::SeekFrom::Start(0)).is_err() {
        diags.error(
            None,
            "cannot seek in the file; check it is a regular file".into(),
        );
        return;
    }
    let parser = match EvtxParser::from_read_seek(source) {
        Ok(p) => p,
        Err(e) => {
            diags.error(
                None,
                format!("not a readable EVTX file ({e}); check the file is a complete .evtx"),
            );
            return;
        }
    };
    if let Some(size) = size {
        let hdr = u64::from(parser.header().header_block_size);
        let tail = size.saturating_sub(hdr) % 65_536;
        if tail != 0 {
            diags.warning(
                None,
                format!(
                    "file is truncated: the last {tail} bytes are not a whole 64 KiB chunk and are ignored"
                ),
            );
        }
    }
    let settings = ParserSettings::new()
        .num_threads(threads.max(1))
        .indent(false);
    let mut parser = parser.with_configuration(settings);
    let mut fields_cap = 24;
    for rec in parser.records_bytes() {
        match rec {
            Ok(rec) => {
                let mut fields = Vec::with_capacity(fields_cap);
                match flatten_evtx_xml(&rec.data, &mut fields) {
                    Ok(info) => {
                        fields_cap = fields_cap.max(fields.len());
                        let time = info.time.or_else(|| Some(rec.timestamp.as_microsecond()));
                        sink(Event {
                            origin: Origin {
                                file: Arc::clone(file),
                                record_id: info.record_id.or(Some(rec.event_record_id)),
                                line: None,
                                seq: 0,
                            },
                            time,
                            kind: LogKind::Windows,
                            fields,
                        });
                    }
                    Err(e) => diags.warning(
                        None,
                        format!(
                            "record {}: cannot read its XML ({e}); record skipped",
                            rec.event_record_id
                        ),
                    ),
                }
            }
            Err(e) => diags.warning(None, format!("damaged EVTX data skipped: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_system_and_eventdata() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing" Guid="{5484}"></Provider><EventID Qualifiers="16384">4625</EventID><Level>0</Level><Task>12544</Task><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime="2021-05-20T12:49:31.8631818Z"></TimeCreated><EventRecordID>42</EventRecordID><Channel>Security</Channel><Computer>dc.lab</Computer><Security UserID="S-1-5-18"></Security></System><EventData><Data Name="TargetUserName">a&amp;b &lt;x&gt; &#x41;</Data><Data Name="IpAddress">10.0.0.1</Data><Data Name="Empty"></Data><Data>one</Data><Data>two</Data></EventData></Event>"#;
        let mut f = Vec::new();
        let info = flatten_evtx_xml(xml, &mut f).unwrap();
        assert_eq!(info.record_id, Some(42));
        assert_eq!(info.time, Some(1_621_514_971_863_181));
        let get = |n: &str| f.iter().find(|(k, _)| &**k == n).map(|(_, v)| v.clone());
        assert_eq!(get("EventID"), Some(Value::Int(4625)));
        assert_eq!(get("EventID_Qualifiers"), Some(Value::Str("16384".into())));
        assert_eq!(
            get("Provider_Name"),
            Some(Value::Str("Microsoft-Windows-Security-Auditing".into()))
        );
        assert_eq!(get("Security_UserID"), Some(Value::Str("S-1-5-18".into())));
        assert_eq!(get("TargetUserName"), Some(Value::Str("a&b <x> A".into())));
        assert_eq!(get("Empty"), Some(Value::Str("".into())));
        assert_eq!(
            get("Data"),
            Some(Value::List(vec![
                Value::Str("one".into()),
                Value::Str("two".into())
            ]))
        );
        assert_eq!(get("Channel"), Some(Value::Str("Security".into())));
    }

    #[test]
    fn userdata_leaves() {
        let xml = br#"<Event><System><EventID>1102</EventID></System><UserData><LogFileCleared xmlns="x"><SubjectUserName>admmig</SubjectUserName><SubjectDomainName>OFFSEC</SubjectDomainName></LogFileCleared></UserData></Event>"#;
        let mut f = Vec::new();
        flatten_evtx_xml(xml, &mut f).unwrap();
        assert!(f.contains(&("SubjectUserName".into(), Value::Str("admmig".into()))));
        assert!(f.contains(&("SubjectDomainName".into(), Value::Str("OFFSEC".into()))));
    }

    #[test]
    fn malformed_xml_is_an_error() {
        for bad in [
            &b"<Event><System>"[..],
            b"<Event></System>",
            b"<Event a=b></Event>",
            b"",
            b"<",
            b"<Event><!-- x",
        ] {
            let mut f = Vec::new();
            assert!(flatten_evtx_xml(bad, &mut f).is_err(), "{:?}", bad);
        }
    }
}
