//! Syslog text logs: BSD (`Mmm dd HH:MM:SS host tag: msg`, no year),
//! rsyslog RFC 3339 stamps, RFC 5424 (structured data included), and
//! journal short form (same shape as BSD).
use crate::FieldName;

use crate::lines::{Line, LineReader};
use crate::time::{civil_to_micros, parse_bsd_stamp, parse_rfc3339_prefix, year_month_of};
use crate::{Diags, Event, LogKind, Origin, Value, MAX_REPEAT};
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

/// Year tracking for yearless (BSD) stamps: the year moves on when the
/// month steps back by six or more (December → January).
#[derive(Debug, Clone)]
pub struct YearState {
    year: i32,
    last_month: Option<u32>,
    /// `year` is "now": the first line goes a year back if its month is later than now.
    now_month: Option<u32>,
}

impl YearState {
    /// The year of the first yearless line.
    pub fn new(first_year: i32) -> Self {
        YearState {
            year: first_year,
            last_month: None,
            now_month: None,
        }
    }

    /// The state after a line of `last_month` in `year` (the start of a
    /// byte range whose earlier lines were counted by a pre-pass).
    pub(crate) fn resume(year: i32, last_month: Option<u32>) -> Self {
        YearState {
            year,
            last_month,
            now_month: None,
        }
    }

    pub(crate) fn now(now_secs: i64) -> Self {
        let (y, m) = year_month_of(now_secs);
        YearState {
            year: y,
            last_month: None,
            now_month: Some(m),
        }
    }

    fn resolve(&mut self, month: u32) -> i32 {
        match self.last_month {
            None => {
                if let Some(now) = self.now_month {
                    if month > now {
                        self.year -= 1;
                    }
                }
            }
            Some(prev) if prev >= month + 6 => self.year += 1,
            _ => {}
        }
        self.last_month = Some(month);
        self.year
    }
}

/// One parsed syslog line.
#[derive(Debug, Clone, PartialEq)]
pub struct SyslogLine<'a> {
    /// Unix microseconds, UTC (local stamps without a zone are taken as UTC).
    pub time: Option<i64>,
    /// The host name.
    pub host: Option<&'a str>,
    /// The program (tag) as written, without its `[pid]`.
    pub program: Option<&'a str>,
    /// The process id.
    pub pid: Option<i64>,
    /// The message.
    pub message: &'a str,
    /// RFC 5424 structured data as (`sd-id.param`, value).
    pub structured: Vec<(String, String)>,
}

fn split_token(s: &str) -> Option<(&str, &str)> {
    let i = s.find(' ')?;
    Some((&s[..i], &s[i + 1..]))
}

/// True when a line starts like a syslog line (used by format detection).
pub(crate) fn looks_like_syslog(line: &[u8]) -> bool {
    let l = match line.first() {
        Some(b'<') => match memchr::memchr(b'>', line) {
            Some(i) if i <= 4 => &line[i + 1..],
            _ => return false,
        },
        _ => line,
    };
    let l = l.strip_prefix(b"1 ").unwrap_or(l);
    parse_bsd_stamp(l).is_some() || parse_rfc3339_prefix(l).is_some()
}

fn parse_tag(rest: &str) -> (Option<&str>, Option<i64>, &str) {
    // `prog[pid]: msg`, `prog: msg`, `prog(pam_unix)[pid]: msg`, `[sshd]: msg`.
    let limit = rest.len().min(256);
    let head = &rest[..floor_char_boundary(rest, limit)];
    let Some(colon) =
        crate::find_str(head, ": ").or_else(|| head.strip_suffix(':').map(|h| h.len()))
    else {
        return (None, None, rest);
    };
    let tag = &rest[..colon];
    if tag.is_empty() || tag.contains(' ') {
        return (None, None, rest);
    }
    let msg = rest.get(colon + 2..).unwrap_or("");
    if let Some(open) = tag.rfind('[') {
        if tag.ends_with(']') {
            let inner = &tag[open + 1..tag.len() - 1];
            if let Ok(pid) = inner.parse::<i64>() {
                return (Some(&tag[..open]), Some(pid), msg);
            }
            if open == 0 {
                return (Some(inner), None, msg);
            }
        }
    }
    (Some(tag), None, msg)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn parse_sd<'a>(mut s: &'a str, out: &mut Vec<(String, String)>) -> Option<&'a str> {
    // One or more `[id k="v" ...]`; returns the rest after them.
    while let Some(body) = s.strip_prefix('[') {
        let b = body.as_bytes();
        let id_end = body.find([' ', ']'])?;
        let id = &body[..id_end];
        let mut i = id_end;
        loop {
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            match b.get(i)? {
                b']' => {
                    i += 1;
                    break;
                }
                _ => {
                    let eq = body[i..].find('=')? + i;
                    let key = &body[i..eq];
                    if b.get(eq + 1) != Some(&b'"') {
                        return None;
                    }
                    let mut j = eq + 2;
                    let mut val = String::new();
                    loop {
                        match b.get(j)? {
                            b'\\' if matches!(b.get(j + 1), Some(b'"' | b'\\' | b']')) => {
                                val.push(char::from(*b.get(j + 1)?));
                                j += 2;
                            }
                            b'"' => break,
                            _ => {
                                let ch = body[j..].chars().next()?;
                                val.push(ch);
                                j += ch.len_utf8();
                            }
                        }
                    }
                    out.push((format!("{id}.{key}"), val));
                    i = j + 1;
                }
            }
        }
        s = &body[i..];
    }
    Some(s)
}

fn nil(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

/// Parse one syslog line; `None` when it has no recognisable envelope.
/// Fuzz-friendly entry point.
pub fn parse_syslog_line<'a>(line: &'a str, years: &mut YearState) -> Option<SyslogLine<'a>> {
    let mut s = line;
    if s.starts_with('<') {
        let close = s.find('>').filter(|&i| i <= 4)?;
        s[1..close].parse::<u8>().ok()?;
        s = &s[close + 1..];
        if let Some(r) = s.strip_prefix("1 ") {
            // RFC 5424: TIMESTAMP HOST APP PROCID MSGID SD [MSG]
            let (ts, r) = split_token(r)?;
            let (host, r) = split_token(r)?;
            let (app, r) = split_token(r)?;
            let (procid, r) = split_token(r)?;
            let (_msgid, r) = split_token(r).unwrap_or((r, ""));
            let mut structured = Vec::new();
            let r = if let Some(x) = r.strip_prefix('-') {
                x
            } else {
                parse_sd(r, &mut structured)?
            };
            let msg = r.strip_prefix(' ').unwrap_or(r);
            let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
            let time = nil(ts).and_then(crate::time::parse_rfc3339);
            return Some(SyslogLine {
                time,
                host: nil(host),
                program: nil(app),
                pid: nil(procid).and_then(|p| p.parse().ok()),
                message: msg,
                structured,
            });
        }
    }
    let (time, rest) = if let Some((t, n)) = parse_rfc3339_prefix(s.as_bytes()) {
        (Some(t), s.get(n..)?)
    } else {
        let (mo, d, h, mi, sec, us, n) = parse_bsd_stamp(s.as_bytes())?;
        let y = years.resolve(mo);
        // Feb 29 in a non-leap inferred year: keep the line, drop the time.
        (
            civil_to_micros(i64::from(y), mo, d, h, mi, sec, us),
            s.get(n..)?,
        )
    };
    let rest = rest.strip_prefix(' ')?;
    let (host, rest) = match split_token(rest) {
        Some((h, r)) if !h.ends_with(':') => (Some(h), r),
        _ => (None, rest),
    };
    let (program, pid, message) = parse_tag(rest);
    Some(SyslogLine {
        time,
        host,
        program,
        pid,
        message,
        structured: Vec::new(),
    })
}

/// The month of a line with a yearless BSD stamp (`Mmm `, after an
/// optional `<PRI>`); only the line's first 9 bytes are looked at.
pub(crate) fn yearless_month(b: &[u8]) -> Option<u32> {
    let b = match b.first() {
        Some(b'<') => match memchr::memchr(b'>', b.get(..b.len().min(6)).unwrap_or(b)) {
            Some(i) if i <= 4 => b.get(i + 1..)?,
            _ => b,
        },
        _ => b,
    };
    let m = b.get(0..3).and_then(crate::time::month_of)?;
    (b.get(3) == Some(&b' ')).then_some(m)
}

/// Count December→January rollovers and the last month in a yearless log.
pub(crate) fn count_rollovers(reader: impl BufRead) -> (i32, Option<u32>) {
    let mut lines = LineReader::new(reader);
    let mut last: Option<u32> = None;
    let mut n = 0;
    while let Some((_, l)) = lines.next_line() {
        match l {
            Line::Ok(b) => {
                if let Some(m) = yearless_month(b) {
                    if let Some(p) = last {
                        if p >= m + 6 {
                            n += 1;
                        }
                    }
                    last = Some(m);
                }
            }
            Line::TooLong(_) => {}
            Line::Err(_) => break,
        }
    }
    (n, last)
}

/// Normalised service name: `sshd-session` / `sshd(pam_unix)` → `sshd`.
pub(crate) fn service_of(program: &str) -> &str {
    let p = program.rsplit('/').next().unwrap_or(program);
    let p = p.split('(').next().unwrap_or(p);
    match p {
        "sshd-session" | "sshd-auth" => "sshd",
        _ => p,
    }
}

fn strip_solaris_id(msg: &str) -> &str {
    // `[ID 800047 auth.info] msg`
    if let Some(r) = msg.strip_prefix("[ID ") {
        if let Some(i) = crate::find_str(r, "] ") {
            return &r[i + 2..];
        }
    }
    msg
}

/// Parse `message repeated N times: [ inner ]`.
pub(crate) fn repeated(msg: &str) -> Option<(u64, &str)> {
    let r = msg.strip_prefix("message repeated ")?;
    let (n, r) = split_token(r)?;
    let r = r.strip_prefix("times: [")?;
    let n = n.parse::<u64>().ok()?;
    let inner = r.strip_suffix(']').unwrap_or(r).trim();
    Some((n, inner))
}

/// Build the event(s) of one line (several for `message repeated N times`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn emit_line_events(
    file: &Arc<str>,
    line: Option<u64>,
    time: Option<i64>,
    host: Option<&str>,
    program: Option<&str>,
    pid: Option<i64>,
    message: &str,
    sink: &mut dyn FnMut(Event),
) -> u64 {
    let message = strip_solaris_id(message);
    let (times, msg) = match repeated(message) {
        Some((n, inner)) => (Some(n), inner),
        None => (None, message),
    };
    let mut fields: Vec<(FieldName, Value)> = Vec::with_capacity(16);
    if let Some(h) = host {
        fields.push(("host".into(), Value::Str(h.into())));
    }
    if let Some(p) = program {
        fields.push(("program".into(), Value::Str(p.into())));
        fields.push(("service".into(), Value::Str(service_of(p).into())));
    }
    if let Some(p) = pid {
        fields.push(("pid".into(), Value::Int(p)));
    }
    fields.push(("message".into(), Value::Str(msg.into())));
    crate::auth::parse_auth_message(program.map(service_of).unwrap_or(""), msg, &mut fields);
    let n = times.unwrap_or(1).clamp(1, MAX_REPEAT);
    if let Some(t) = times {
        fields.push((
            "repeated".into(),
            Value::Int(i64::try_from(t).unwrap_or(i64::MAX)),
        ));
    }
    let ev = Event {
        origin: Origin {
            file: Arc::clone(file),
            record_id: None,
            line,
            seq: 0,
        },
        time,
        kind: LogKind::LinuxAuth,
        fields,
    };
    for _ in 1..n {
        sink(ev.clone());
    }
    sink(ev);
    times.unwrap_or(1)
}

pub(crate) fn read_syslog(
    file: &Arc<str>,
    reader: Box<dyn BufRead + '_>,
    mut years: YearState,
    first_line: u64,
    diags: &mut Diags,
    sink: &mut dyn FnMut(Event),
) {
    let mut lines = LineReader::starting_at(reader, first_line);
    while let Some((n, l)) = lines.next_line() {
        match l {
            Line::Ok(b) => {
                if b.is_empty() || b.starts_with(b"#") {
                    continue;
                }
                // `from_utf8` has an ASCII fast path; the lossy decoder does not.
                let text: Cow<'_, str> = match std::str::from_utf8(b) {
                    Ok(t) => Cow::Borrowed(t),
                    Err(_) => String::from_utf8_lossy(b),
                };
                match parse_syslog_line(&text, &mut years) {
                    Some(p) => {
                        let times = repeated(p.message).map(|r| r.0).unwrap_or(1);
                        if times > MAX_REPEAT {
                            diags.warning(
                                Some(n),
                                format!(
                                    "message repeated {times} times: only {MAX_REPEAT} events made"
                                ),
                            );
                        }
                        let structured = p.structured;
                        let mut sink_sd = |mut e: Event| {
                            for (k, v) in &structured {
                                e.fields.push((
                                    FieldName::Owned(k.clone()),
                                    Value::Str(v.as_str().into()),
                                ));
                            }
                            sink(e)
                        };
                        emit_line_events(
                            file,
                            Some(n),
                            p.time,
                            p.host,
                            p.program,
                            p.pid,
                            p.message,
                            &mut sink_sd,
                        );
                    }
                    None => diags.warning(
                        Some(n),
                        "not a syslog line (no timestamp and host); line skipped".into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_line() {
        let mut y = YearState::new(2005);
        let p = parse_syslog_line(
            "Feb 25 14:34:10 belka sshd[31602]: Failed password for root from 1.2.3.4 port 5 ssh2",
            &mut y,
        )
        .unwrap();
        assert_eq!(p.host, Some("belka"));
        assert_eq!(p.program, Some("sshd"));
        assert_eq!(p.pid, Some(31602));
        assert_eq!(
            p.message,
            "Failed password for root from 1.2.3.4 port 5 ssh2"
        );
        assert_eq!(p.time, crate::time::parse_rfc3339("2005-02-25T14:34:10Z"));
    }

    #[test]
    fn rollover_forward() {
        let mut y = YearState::new(2020);
        let a = parse_syslog_line("Dec 31 23:59:59 h p: x", &mut y).unwrap();
        let b = parse_syslog_line("Jan  1 00:00:01 h p: x", &mut y).unwrap();
        assert_eq!(a.time, crate::time::parse_rfc3339("2020-12-31T23:59:59Z"));
        assert_eq!(b.time, crate::time::parse_rfc3339("2021-01-01T00:00:01Z"));
        let (n, last) = count_rollovers(
            &b"Nov 1 00:00:00 h p: x\nDec 31 00:00:00 h p: x\nJan  1 00:00:00 h p: x\n"[..],
        );
        assert_eq!((n, last), (1, Some(1)));
    }

    #[test]
    fn rfc5424_with_brackets_in_sd() {
        let mut y = YearState::new(2000);
        let p = parse_syslog_line(r#"<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - [xxx@123 test="[brackets]" q="a\"b"] Failed password for x from 1.2.3.4 port 22 ssh2"#, &mut y).unwrap();
        assert_eq!(p.program, Some("sshd"));
        assert_eq!(p.pid, Some(57915));
        assert_eq!(p.time, Some(1_562_622_016_954_167));
        assert_eq!(
            p.structured,
            vec![
                ("xxx@123.test".to_string(), "[brackets]".to_string()),
                ("xxx@123.q".to_string(), "a\"b".to_string())
            ]
        );
        assert_eq!(p.message, "Failed password for x from 1.2.3.4 port 22 ssh2");
    }

    #[test]
    fn rsyslog_rfc3339() {
        let mut y = YearState::new(2000);
        let p = parse_syslog_line(
            "2015-04-16T18:02:50.321974+00:00 host sshd[2716]: hello",
            &mut y,
        )
        .unwrap();
        assert_eq!(
            p.time,
            crate::time::parse_rfc3339("2015-04-16T18:02:50.321974Z")
        );
        assert_eq!(p.host, Some("host"));
        assert_eq!(p.message, "hello");
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tag("sshd(pam_unix)[123]: m"),
            (Some("sshd(pam_unix)"), Some(123), "m")
        );
        assert_eq!(parse_tag("[sshd]: m"), (Some("sshd"), None, "m"));
        assert_eq!(parse_tag("su: m"), (Some("su"), None, "m"));
        assert_eq!(parse_tag("no tag here"), (None, None, "no tag here"));
        assert_eq!(service_of("sshd-session"), "sshd");
        assert_eq!(service_of("sshd(pam_unix)"), "sshd");
    }
}
