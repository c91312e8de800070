//! Log readers: every format from bytes (the first byte picks it), plus the
//! syslog line and auth-message parsers on their own.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_events::{read_bytes, Format, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let options = ReadOptions { year: Some(2024) };
    let format = Format::ALL[usize::from(first) % Format::ALL.len()];
    let mut n = 0usize;
    let _ = read_bytes("fuzz", rest, format, &options, &mut |_| n += 1);
    if first & 0x80 != 0 {
        let text = String::from_utf8_lossy(rest);
        let mut years = portcullis_events::YearState::new(2024);
        for line in text.lines() {
            let _ = portcullis_events::parse_syslog_line(line, &mut years);
            let mut fields = Vec::new();
            portcullis_events::parse_auth_message("sshd", line, &mut fields);
        }
    }
});
