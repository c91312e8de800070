//! JSON input: JSONL (one object a line), a JSON array, a `{"value": [...]}`
//! Graph page, or one or more whole objects. Arrays stream element by
//! element; a malformed JSONL line is reported and skipped.

use crate::lines::{Line, LineReader};
use crate::{Diags, Event, Format};
use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::Value as J;
use std::io::BufRead;
use std::sync::Arc;

/// Turn one JSON object into events of `format` (a journald record may
/// expand to several events, see `message repeated`).
pub(crate) fn object_to_events(
    file: &Arc<str>,
    format: Format,
    v: &J,
    line: Option<u64>,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    // A Graph page (`{"@odata.context": …, "value": […], "@odata.nextLink": …}`),
    // whole or one page a line: its records.
    if let Some(records) = page_records(v) {
        for r in records {
            if page_records(r).is_none() {
                object_to_events(file, format, r, line, diags, sink);
            }
        }
        return;
    }
    let res = match format {
        Format::WindowsJson => crate::winjson::event_from_json(file, v, line).map(&mut *sink),
        Format::EntraJson => crate::entra::event_from_json(file, v, line).map(&mut *sink),
        Format::JournalJson => crate::journal::events_from_json(file, v, line, sink),
        _ => Ok(()),
    };
    if let Err(msg) = res {
        diags.warning(line, format!("{msg}; record skipped"));
    }
}

/// The records of a Graph/OData page: a `value` array beside only
/// `@odata.*` keys (or at most two other keys).
fn page_records(v: &J) -> Option<&Vec<J>> {
    let o = v.as_object()?;
    let arr = o.get("value")?.as_array()?;
    let odata = o.keys().any(|k| k.starts_with("@odata."));
    (odata || o.len() <= 3).then_some(arr)
}

struct SeqSink<'a> {
    f: &'a mut dyn FnMut(J),
}

impl<'de> Visitor<'de> for SeqSink<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<J>()? {
            (self.f)(v);
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for SeqSink<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

pub(crate) fn first_non_ws(reader: &mut dyn BufRead) -> Option<(u8, bool)> {
    // Skips a UTF-8 BOM and leading blanks; reports whether the first line
    // is a complete object (JSONL) by peeking at the buffer.
    loop {
        let buf = reader.fill_buf().ok()?;
        if buf.is_empty() {
            return None;
        }
        let skip = if buf.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
        };
        if skip == 0 {
            let c = buf[0];
            let first_line = match memchr::memchr(b'\n', buf) {
                Some(i) => &buf[..i],
                None => buf,
            };
            let jsonl = c == b'{' && first_line.trim_ascii().ends_with(b"}");
            return Some((c, jsonl));
        }
        reader.consume(skip);
    }
}

pub(crate) fn read_json(
    file: &Arc<str>,
    mut reader: Box<dyn BufRead + '_>,
    format: Format,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    let Some((first, jsonl)) = first_non_ws(&mut reader) else {
        return;
    };
    if jsonl {
        read_jsonl(file, reader, format, 1, diags, sink);
        return;
    }
    if first == b'[' {
        let mut de = serde_json::Deserializer::from_reader(reader);
        let mut f = |v: J| object_to_events(file, format, &v, None, diags, sink);
        let res = SeqSink { f: &mut f }.deserialize(&mut de);
        if let Err(e) = res {
            diags.warning_at(
                e.line() as u64,
                Some(e.column() as u64),
                format!("invalid JSON ({e}); the rest of the file is skipped"),
            );
        }
        return;
    }
    if first != b'{' {
        diags.error(Some(1), "not JSON: expected '{' or '['".into());
        return;
    }
    // Whole objects, possibly pretty-printed, possibly a Graph page.
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<J>();
    for item in stream {
        match item {
            Ok(v) => object_to_events(file, format, &v, None, diags, sink),
            Err(e) => {
                diags.warning_at(
                    e.line() as u64,
                    Some(e.column() as u64),
                    format!("invalid JSON ({e}); the rest of the file is skipped"),
                );
                break;
            }
        }
    }
}

pub(crate) fn read_jsonl(
    file: &Arc<str>,
    reader: Box<dyn BufRead + '_>,
    format: Format,
    first_line: u64,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    let mut lines = LineReader::starting_at(reader, first_line);
    while let Some((n, line)) = lines.next_line() {
        match line {
            Line::Ok(l) => {
                let l = l.trim_ascii();
                if l.is_empty() {
                    continue;
                }
                match serde_json::from_slice::<J>(l) {
                    Ok(v) => object_to_events(file, format, &v, Some(n), diags, sink),
                    Err(e) => diags.warning_at(
                        n,
                        Some(e.column() as u64),
                        format!("invalid JSON ({e}); line skipped"),
                    ),
                }
            }
            Line::TooLong(len) => diags.warning(
                Some(n),
                format!(
                    "line of {len} bytes exceeds the {} byte limit; skipped",
                    crate::MAX_LINE
                ),
            ),
            Line::Err(e) => {
                diags.error(Some(n), format!("read error: {e}; the rest is skipped"));
                return;
            }
        }
    }
}
