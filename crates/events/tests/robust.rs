//! Garbage in: diagnostics out, never a panic; directory walking.

use portcullis_events::{
    flatten_evtx_xml, parse_auth_message, parse_syslog_line, read_bytes, walk, Format, ReadOptions,
    YearState, MAX_LINE,
};
use proptest::prelude::*;
use std::path::Path;

const FORMATS: [Format; 5] = [
    Format::Evtx,
    Format::WindowsJson,
    Format::Syslog,
    Format::JournalJson,
    Format::EntraJson,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_any_format(data in proptest::collection::vec(any::<u8>(), 0..2048), fi in 0usize..5) {
        let mut n = 0;
        let _ = read_bytes("fuzz", &data, FORMATS[fi], &ReadOptions { year: Some(2020) }, &mut |_| n += 1);
        let _ = Format::detect("fuzz.gz", &data);
    }

    #[test]
    fn any_text_syslog_and_auth(line in "\\PC{0,200}") {
        let mut y = YearState::new(2020);
        if let Some(p) = parse_syslog_line(&line, &mut y) {
            let mut f = Vec::new();
            parse_auth_message(p.program.unwrap_or(""), p.message, &mut f);
        }
        for svc in ["sshd", "sudo", "su", "login"] {
            let mut f = Vec::new();
            parse_auth_message(svc, &line, &mut f);
        }
    }

    #[test]
    fn any_xml(data in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let mut f = Vec::new();
        let _ = flatten_evtx_xml(&data, &mut f);
    }

    #[test]
    fn sshd_shapes(user in "[ -~]{0,40}", a in 0u8..=255, b in 0u8..=255, port in 1u16..) {
        let msg = format!("Failed password for {user} from 10.0.{a}.{b} port {port} ssh2");
        let mut f = Vec::new();
        parse_auth_message("sshd", &msg, &mut f);
        let src = f.iter().find(|(k, _)| &**k == "src_ip").map(|(_, v)| v.to_text().into_owned());
        prop_assert_eq!(src, Some(format!("10.0.{a}.{b}")));
    }
}

#[test]
fn truncated_json_and_gzip() {
    let json = br#"[{"Event":{"System":{"EventID":4625}}},{"Event":{"System":{"#;
    let mut n = 0;
    let d = read_bytes(
        "t.json",
        json,
        Format::WindowsJson,
        &ReadOptions::default(),
        &mut |_| n += 1,
    );
    assert_eq!(n, 1);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("invalid JSON"));
    // A gzip stream cut short.
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(
            enc,
            "Jan  1 00:00:{:02} h sshd[1]: Invalid user u{i} from 10.0.0.1",
            i % 60
        )
        .unwrap();
    }
    let gz = enc.finish().unwrap();
    let cut = &gz[..gz.len() / 2];
    let mut n = 0;
    let d = read_bytes(
        "a.gz",
        cut,
        Format::Syslog,
        &ReadOptions { year: Some(2020) },
        &mut |_| n += 1,
    );
    assert!(n > 100 && n < 2000, "{n}");
    assert!(d.iter().any(|d| d.is_error()), "{d:?}");
    assert_eq!(Format::detect("auth.log.1.gz", &gz), Some(Format::Syslog));
}

#[test]
fn overlong_line_is_reported() {
    let mut data = b"Jan  1 00:00:00 h sshd[1]: ok\n".to_vec();
    data.extend(std::iter::repeat_n(b'a', MAX_LINE + 10));
    data.extend_from_slice(b"\nJan  1 00:00:01 h sshd[1]: ok\n");
    let mut n = 0;
    let d = read_bytes(
        "long.log",
        &data,
        Format::Syslog,
        &ReadOptions { year: Some(2020) },
        &mut |_| n += 1,
    );
    assert_eq!(n, 2);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].line, Some(2));
    assert!(d[0].message.contains("exceeds"));
}

#[test]
fn walk_lists_fixtures_in_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (files, diags) = walk(&root);
    assert!(diags.is_empty(), "{diags:?}");
    let rel: Vec<(String, Format)> = files
        .iter()
        .map(|(p, f)| (p.strip_prefix(&root).unwrap().display().to_string(), *f))
        .collect();
    // Deterministic: sorted by path components (depth first).
    let paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    // 15, plus the Graph pages and the two flat Windows exports.
    assert_eq!(rel.len(), 18);
    let get = |name: &str| rel.iter().find(|(p, _)| p == name).map(|(_, f)| *f);
    assert_eq!(get("evtx/password-spray.evtx"), Some(Format::Evtx));
    assert_eq!(
        get("evtx/password-spray-truncated.evtx"),
        Some(Format::Evtx)
    );
    assert_eq!(get("linux/elastic/auth.log"), Some(Format::Syslog));
    assert_eq!(get("linux/loghub/OpenSSH_2k.log"), Some(Format::Syslog));
    assert_eq!(get("linux/fail2ban/sshd"), Some(Format::Syslog));
    assert_eq!(get("entra/graph-signin-page.json"), Some(Format::EntraJson));
    assert_eq!(
        get("entra/graph-signin-pages.jsonl"),
        Some(Format::EntraJson)
    );
    assert_eq!(
        get("windows-json/get-winevent-kerberos_pwd_spray_4771.jsonl"),
        Some(Format::WindowsJson)
    );
    assert_eq!(
        get("windows-json/nxlog-kerberos_pwd_spray_4771.jsonl"),
        Some(Format::WindowsJson)
    );
    assert_eq!(
        get("entra/signinlogs-loganalytics.jsonl"),
        Some(Format::EntraJson)
    );
    assert_eq!(
        get("windows-json/winlogbeat-logon.jsonl"),
        Some(Format::WindowsJson)
    );
    // Licence texts and READMEs are not logs.
    assert_eq!(get("linux/loghub/LICENSE"), None);
    assert_eq!(get("README.md"), None);
}

#[test]
fn format_names_round_trip() {
    for f in Format::ALL {
        assert_eq!(Format::from_name(f.name()), Some(f));
    }
    assert_eq!(Format::from_name("EVTX"), Some(Format::Evtx));
    assert_eq!(Format::from_name("xml"), None);
    assert_eq!(Format::Syslog.kind(), portcullis_events::LogKind::LinuxAuth);
}

#[test]
fn value_helpers() {
    use portcullis_events::Value;
    assert_eq!(Value::Str("0x10".into()).as_i64(), Some(16));
    assert_eq!(Value::Str(" 42".into()).as_i64(), Some(42));
    assert_eq!(Value::Int(7).to_text(), "7");
    assert_eq!(Value::Null.to_text(), "");
    assert_eq!(
        Value::List(vec![Value::Bool(true), Value::Str("x".into())]).to_text(),
        "true, x"
    );
    assert_eq!(Value::Str("a".into()).as_str(), Some("a"));
    assert_eq!(Value::Int(1).as_str(), None);
}
