//! Windows readers: EVTX, evtx_dump JSONL, Winlogbeat.

use portcullis_events::{
    detect_path, read_bytes, read_path, read_path_threads, Event, Format, ReadOptions, Value,
};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn read(p: &str, f: Format) -> (Vec<Event>, Vec<portcullis_model::Diagnostic>) {
    let mut out = Vec::new();
    let d = read_path(&fixture(p), f, &ReadOptions::default(), &mut |e| {
        out.push(e)
    });
    (out, d)
}

fn text(e: &Event, k: &str) -> String {
    e.get(k)
        .map(|v| v.to_text().into_owned())
        .unwrap_or_default()
}

#[test]
fn password_spray_evtx() {
    let (ev, d) = read("evtx/password-spray.evtx", Format::Evtx);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(ev.len(), 295);
    let spray: Vec<_> = ev
        .iter()
        .filter(|e| e.get("EventID") == Some(&Value::Int(4648)))
        .collect();
    assert_eq!(spray.len(), 294);
    let users: BTreeSet<_> = spray.iter().map(|e| text(e, "TargetUserName")).collect();
    assert_eq!(users.len(), 41);
    assert!(spray
        .iter()
        .all(|e| text(e, "IpAddress") == "172.16.144.128"));
    let first = &ev[0];
    assert_eq!(first.get("EventID"), Some(&Value::Int(1102)));
    assert_eq!(first.origin.record_id, Some(42803));
    assert_eq!(text(first, "SubjectUserName"), "jwrig");
    let r = ev
        .iter()
        .find(|e| e.origin.record_id == Some(42804))
        .unwrap();
    assert_eq!(text(r, "TargetUserName"), "Administrator");
    assert_eq!(text(r, "Channel"), "Security");
    assert_eq!(text(r, "Computer"), "DESKTOP-JR78RLP");
    assert_eq!(
        text(r, "Provider_Name"),
        "Microsoft-Windows-Security-Auditing"
    );
    assert_eq!(text(r, "TimeCreated"), "2019-04-30T19:27:02.8472846Z");
    assert_eq!(r.time, Some(1_556_652_422_847_284));
    assert_eq!(r.get("EventRecordID"), Some(&Value::Int(42804)));
    assert_eq!(r.get("Level"), Some(&Value::Int(0)));
    assert_eq!(r.get("Task"), Some(&Value::Int(12544)));
    assert_eq!(text(r, "Keywords"), "0x8020000000000000");
    assert_eq!(text(r, "IpPort"), "445");
    assert_eq!(
        r.origin.file.as_ref(),
        fixture("evtx/password-spray.evtx").display().to_string()
    );
}

#[test]
fn threaded_read_gives_the_same_events() {
    let (one, _) = read("evtx/password-spray.evtx", Format::Evtx);
    let mut two = Vec::new();
    read_path_threads(
        &fixture("evtx/password-spray.evtx"),
        Format::Evtx,
        &ReadOptions::default(),
        2,
        &mut |e| two.push(e),
    );
    assert_eq!(one, two);
}

#[test]
fn kerberos_4771_files() {
    let (ev, d) = read("evtx/kerberos_pwd_spray_4771.evtx", Format::Evtx);
    assert!(d.is_empty());
    assert_eq!(ev.len(), 12);
    let (ev, _) = read(
        "evtx/ID4771-Kerberos_brutforce_with_valid_user.evtx",
        Format::Evtx,
    );
    let n4771 = ev
        .iter()
        .filter(|e| e.get("EventID") == Some(&Value::Int(4771)))
        .count();
    assert_eq!(n4771, 54);
}

/// The EVTX reader and the evtx_dump JSONL reader agree field by field.
#[test]
fn evtx_and_its_jsonl_export_agree() {
    for (evtx, jsonl) in [
        (
            "evtx/kerberos_pwd_spray_4771.evtx",
            "evtx-jsonl/kerberos_pwd_spray_4771.jsonl",
        ),
        (
            "evtx/ID4771-Kerberos_brutforce_with_valid_user.evtx",
            "evtx-jsonl/ID4771-Kerberos_brutforce_with_valid_user.jsonl",
        ),
    ] {
        let (a, da) = read(evtx, Format::Evtx);
        let (b, db) = read(jsonl, Format::WindowsJson);
        assert!(da.is_empty() && db.is_empty(), "{da:?} {db:?}");
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.origin.record_id, y.origin.record_id);
            assert_eq!(x.time, y.time);
            let fx: Vec<_> = x
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_text().into_owned()))
                .collect();
            let fy: Vec<_> = y
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_text().into_owned()))
                .collect();
            assert_eq!(fx, fy, "record {:?}", x.origin.record_id);
            assert_eq!(x.get("EventID"), y.get("EventID"));
        }
    }
}

#[test]
fn truncated_evtx_is_reported_and_read() {
    let (ev, d) = read("evtx/password-spray-truncated.evtx", Format::Evtx);
    assert_eq!(ev.len(), 104);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("truncated"), "{}", d[0].message);
}

#[test]
fn damaged_evtx_chunks_do_not_panic() {
    let good = std::fs::read(fixture("evtx/password-spray.evtx")).unwrap();
    // Scribble over the middle of the first chunk's records.
    let mut bad = good.clone();
    for b in &mut bad[4096 + 2000..4096 + 6000] {
        *b = 0x41;
    }
    let mut n = 0;
    let d = read_bytes(
        "bad.evtx",
        &bad,
        Format::Evtx,
        &ReadOptions::default(),
        &mut |_| n += 1,
    );
    assert!(!d.is_empty());
    assert!(n > 0 && n < 295, "{n}");
    // Garbage and an empty file.
    for junk in [&b""[..], b"ElfFile\0garbage", &[0u8; 5000][..]] {
        let mut n = 0;
        let d = read_bytes(
            "junk.evtx",
            junk,
            Format::Evtx,
            &ReadOptions::default(),
            &mut |_| n += 1,
        );
        assert_eq!(n, 0);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].is_error());
    }
}

#[test]
fn evtx_dump_jsonl_with_qualifiers_and_malformed_lines() {
    let data = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7045},"Level":4,"TimeCreated":{"#attributes":{"SystemTime":"2021-05-20T12:49:31.8631818Z"}},"EventRecordID":7,"Channel":"System","Computer":"pc","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"ServiceName":"evil","ImagePath":"C:\\x.exe"}}}
{"Event": broken
{"Event":{"System":{"EventID":1,"Channel":"Application"},"EventData":{"Data":{"#text":["a","b"]},"Binary":null}}}
"##;
    assert_eq!(Format::detect("x.jsonl", data), Some(Format::WindowsJson));
    let mut ev = Vec::new();
    let d = read_bytes(
        "x.jsonl",
        data,
        Format::WindowsJson,
        &ReadOptions::default(),
        &mut |e| ev.push(e),
    );
    assert_eq!(ev.len(), 2);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].line, Some(2));
    assert_eq!(ev[0].get("EventID"), Some(&Value::Int(7045)));
    assert_eq!(text(&ev[0], "EventID_Qualifiers"), "16384");
    assert_eq!(text(&ev[0], "Security_UserID"), "S-1-5-18");
    assert_eq!(text(&ev[0], "ServiceName"), "evil");
    assert_eq!(ev[0].origin.record_id, Some(7));
    assert_eq!(ev[0].origin.line, Some(1));
    assert_eq!(ev[0].time, Some(1_621_514_971_863_181));
    assert_eq!(
        ev[1].get("Data"),
        Some(&Value::List(vec![
            Value::Str("a".into()),
            Value::Str("b".into())
        ]))
    );
}

#[test]
fn winlogbeat_maps_to_evtx_names() {
    let (ev, d) = read("windows-json/winlogbeat-logon.jsonl", Format::WindowsJson);
    assert_eq!(ev.len(), 2);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].line, Some(3));
    let e = &ev[0];
    assert_eq!(e.get("EventID"), Some(&Value::Int(4625)));
    assert_eq!(text(e, "Channel"), "Security");
    assert_eq!(
        text(e, "Provider_Name"),
        "Microsoft-Windows-Security-Auditing"
    );
    assert_eq!(text(e, "Computer"), "DC01.contoso.example");
    assert_eq!(text(e, "TargetUserName"), "administrator");
    assert_eq!(text(e, "IpAddress"), "198.51.100.7");
    assert_eq!(text(e, "LogonType"), "3");
    assert_eq!(e.origin.record_id, Some(118742));
    assert_eq!(e.time, Some(1_793_610_001_123_000));
    assert_eq!(ev[1].get("EventID"), Some(&Value::Int(4624)));
}

#[test]
fn detection_of_windows_files() {
    assert_eq!(
        detect_path(&fixture("evtx/password-spray.evtx")).unwrap(),
        Some(Format::Evtx)
    );
    assert_eq!(
        detect_path(&fixture("evtx-jsonl/kerberos_pwd_spray_4771.jsonl")).unwrap(),
        Some(Format::WindowsJson)
    );
    assert_eq!(
        detect_path(&fixture("windows-json/winlogbeat-logon.jsonl")).unwrap(),
        Some(Format::WindowsJson)
    );
}

/// The fields rules read, as text, from one event.
fn core_fields(e: &Event) -> Vec<(String, String)> {
    [
        "EventID",
        "Channel",
        "Computer",
        "Provider_Name",
        "EventRecordID",
        "TargetUserName",
        "TargetDomainName",
        "ServiceName",
        "Status",
        "PreAuthType",
        "IpAddress",
        "IpPort",
        "TicketOptions",
    ]
    .iter()
    .map(|k| (k.to_string(), text(e, k)))
    .collect()
}

#[test]
fn flat_exports_read_like_evtx_dump() {
    let (nested, d) = read(
        "evtx-jsonl/kerberos_pwd_spray_4771.jsonl",
        Format::WindowsJson,
    );
    assert!(d.is_empty(), "{d:?}");
    // The 1102 record (UserData) is not in the flat exports.
    let nested: Vec<&Event> = nested
        .iter()
        .filter(|e| e.get("EventID") != Some(&Value::Int(1102)))
        .collect();
    assert_eq!(nested.len(), 11);
    for (name, whole_seconds) in [
        ("windows-json/nxlog-kerberos_pwd_spray_4771.jsonl", true),
        (
            "windows-json/get-winevent-kerberos_pwd_spray_4771.jsonl",
            false,
        ),
    ] {
        assert_eq!(
            detect_path(&fixture(name)).unwrap(),
            Some(Format::WindowsJson),
            "{name}"
        );
        let (flat, d) = read(name, Format::WindowsJson);
        assert!(d.is_empty(), "{name}: {d:?}");
        assert_eq!(flat.len(), nested.len(), "{name}");
        for (i, (a, b)) in flat.iter().zip(&nested).enumerate() {
            assert_eq!(core_fields(a), core_fields(b), "{name} record {i}");
            assert_eq!(a.origin.record_id, b.origin.record_id, "{name} record {i}");
            assert_eq!(a.origin.line, Some(i as u64 + 1));
            let (ta, tb) = (a.time.unwrap(), b.time.unwrap());
            if whole_seconds {
                assert_eq!(ta / 1_000_000, tb / 1_000_000, "{name} record {i}");
            } else {
                assert_eq!(ta / 1000, tb / 1000, "{name} record {i}");
            }
        }
    }
    // Get-WinEvent: `\/Date(ms)\/` becomes the time, and TimeCreated text.
    let (ps, _) = read(
        "windows-json/get-winevent-kerberos_pwd_spray_4771.jsonl",
        Format::WindowsJson,
    );
    assert_eq!(ps[0].time, Some(1_595_449_776_414_000));
    assert_eq!(text(&ps[0], "TimeCreated"), "2020-07-22T20:29:36.414000Z");
    assert_eq!(ps[0].get("EventID"), Some(&Value::Int(4768)));
}

#[test]
fn flat_export_details() {
    // Unknown event ids keep their positional properties as a Data list;
    // a PowerShell 7 ISO date with an offset is read too.
    let line = br#"{"Id":7045,"LogName":"System","MachineName":"ws1","ProviderName":"Service Control Manager","RecordId":9,"TimeCreated":"2024-05-01T12:00:00.5+02:00","Properties":[{"Value":"evil"},{"Value":"C:\\x.exe"}]}
{"EventID":"4625","Channel":"Security","Hostname":"dc1","EventTime":"2024-05-01 10:00:01","TargetUserName":"bob","RecordNumber":"17"}
{"Id":1,"Message":"no log name"}
"#;
    assert_eq!(Format::detect("x.json", line), Some(Format::WindowsJson));
    let mut out = Vec::new();
    let d = read_bytes(
        "x.json",
        line,
        Format::WindowsJson,
        &ReadOptions::default(),
        &mut |e| out.push(e),
    );
    assert_eq!(out.len(), 2);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].line, Some(3));
    let (a, b) = (&out[0], &out[1]);
    assert_eq!(text(a, "Channel"), "System");
    assert_eq!(text(a, "Computer"), "ws1");
    assert_eq!(
        a.get("Data"),
        Some(&Value::List(vec![
            Value::Str("evil".into()),
            Value::Str("C:\\x.exe".into())
        ]))
    );
    assert_eq!(a.time, Some(1_714_557_600_500_000)); // 10:00:00.5Z
    assert_eq!(a.origin.record_id, Some(9));
    assert_eq!(b.get("EventID"), Some(&Value::Int(4625)));
    assert_eq!(text(b, "Computer"), "dc1");
    assert_eq!(b.origin.record_id, Some(17));
    assert_eq!(b.time, Some(1_714_557_601_000_000));
}

#[test]
fn odd_flat_exports_do_not_panic() {
    let data = br#"{"Id":1,"LogName":"x","TimeCreated":"\/Date(99999999999999999999)\/","Properties":"no"}
{"Id":"abc","LogName":"x","TimeCreated":"\/Date(-62135596800000)\/","Properties":[[1,[2]],{"Value":{"a":1}},null]}
{"Id":4625,"LogName":"Security","TimeCreated":"\/Date(+0100)\/","Properties":[]}
{"Id":4776,"ProviderName":"p","TimeCreated":"\/Date()\/","Properties":[{"Value":"a"},{"Value":"b"},{"Value":"c"},{"Value":"d"},{"Value":"e"},{"Value":"f"}]}
{"EventID":{"nested":true},"Channel":7,"EventTime":"2024-13-45 99:99:99","RecordNumber":-5}
"#;
    let mut out = Vec::new();
    let d = read_bytes(
        "odd.json",
        data,
        Format::WindowsJson,
        &ReadOptions::default(),
        &mut |e| out.push(e),
    );
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(out.len(), 5);
    assert_eq!(out[0].time, None);
    assert_eq!(out[1].time, Some(-62_135_596_800_000_000)); // year 1
    assert_eq!(out[2].time, Some(100_000));
    assert_eq!(out[3].time, None);
    // 4776 names four properties; the other two stay unnamed.
    assert_eq!(text(&out[3], "Status"), "d");
    assert_eq!(
        out[3].get("Data"),
        Some(&Value::List(vec![
            Value::Str("e".into()),
            Value::Str("f".into())
        ]))
    );
    assert_eq!(out[4].time, None);
    assert_eq!(out[4].origin.record_id, None);
}
