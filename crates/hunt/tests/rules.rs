//! The bundled rules on real logs (reference values from the corpus'
//! EXPECTED.md) and on synthetic logs with known ground truth in all three
//! formats, with correlation windows tested at their edges.

use portcullis_hunt::{bundled, Detection, Hunt, HuntOptions, Level};
use std::path::{Path, PathBuf};

const WIN_SPRAY_4625: &str = "6d3cd4ab-9183-4fb9-af46-799e5b787bb5";
const WIN_SPRAY_4648: &str = "add2c4cd-368b-4d18-8c15-69e5a457c250";
const WIN_SPRAY_4776: &str = "b0da0af0-8f0e-4982-8f80-f085cc1dae39";
const WIN_KERBEROS: &str = "4462efc4-3c47-4cf2-a4e7-e2e5b2150955";
const WIN_BRUTE: &str = "76872b98-0b0c-4f52-8ba1-e30bce316d3a";
const WIN_BRUTE_KRB: &str = "b4a78ad1-6a14-4683-a227-6dcf903fde61";
const WIN_SUCCESS: &str = "e8712908-bbb2-4a42-8643-fdc6b8c0c687";
const WIN_STUFFING: &str = "00f84199-eeeb-47a2-8090-44df88095477";
const LNX_SPRAY: &str = "e7ca27e5-fcbf-46bf-a716-e9d20068a556";
const LNX_BRUTE: &str = "5d273715-8394-40d9-9d27-1a5f6564f86a";
const LNX_SUCCESS: &str = "6c3204df-2c75-4cf9-b05e-f3182c9354ad";
const LNX_STUFFING: &str = "dcab44da-7b18-435d-9617-46a70a43b599";
const ENTRA_SPRAY: &str = "607ecd0d-e94d-4032-91a8-98d008dcb379";
const ENTRA_SPRAY_ASN: &str = "dcf39e5f-39d5-4c1b-a049-9a74f03500d0";
const ENTRA_BRUTE: &str = "b4c20848-c431-442a-b01c-a2fe0dfce6bf";
const ENTRA_SUCCESS: &str = "3a94752f-d483-4085-938c-f7aac95b466a";
const ENTRA_STUFFING: &str = "d5a7e1ce-1d88-4c07-8830-5a750fea97a3";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run_with(paths: &[PathBuf], settings: &[&str]) -> Vec<Detection> {
    let settings: Vec<String> = settings.iter().map(|s| s.to_string()).collect();
    let options = HuntOptions {
        settings: bundled::parse_settings(&settings, None).expect("settings"),
        year: Some(2026),
        threads: 2,
        min_level: Level::Low,
        ..HuntOptions::default()
    };
    let (hunt, issues) = Hunt::new(options);
    assert!(issues.is_empty(), "bundled rules must all load: {issues:?}");
    let mut out = Vec::new();
    let report = hunt.run(paths, &mut |d| out.push(d));
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
    assert!(report.files_read >= 1);
    out
}

fn run(paths: &[PathBuf]) -> Vec<Detection> {
    run_with(paths, &[])
}

fn ids(ds: &[Detection]) -> Vec<&str> {
    let mut v: Vec<&str> = ds.iter().map(|d| d.rule_id.as_str()).collect();
    v.sort();
    v
}

fn count(ds: &[Detection], id: &str) -> usize {
    ds.iter().filter(|d| d.rule_id == id).count()
}

/// Synthetic logs in the three formats.
mod synth {
    /// 2026-01-05T10:00:00Z
    pub const T0: i64 = 1_767_607_200;

    pub fn iso(t: i64) -> String {
        jiff::Timestamp::from_second(t).unwrap().to_string()
    }

    /// A Windows Security event in evtx_dump's JSONL shape.
    pub fn win(rec: u64, t: i64, eid: u32, data: &[(&str, &str)]) -> String {
        let mut ed = serde_json::Map::new();
        for (k, v) in data {
            ed.insert((*k).into(), serde_json::Value::String((*v).into()));
        }
        serde_json::json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "EventID": eid,
                "TimeCreated": {"#attributes": {"SystemTime": iso(t)}},
                "EventRecordID": rec,
                "Channel": "Security",
                "Computer": "DC01.corp.example"
            },
            "EventData": ed
        }})
        .to_string()
    }

    pub fn failed_4625(rec: u64, t: i64, user: &str, ip: &str, substatus: &str) -> String {
        win(
            rec,
            t,
            4625,
            &[
                ("TargetUserName", user),
                ("IpAddress", ip),
                ("WorkstationName", "KALI"),
                ("LogonType", "3"),
                ("Status", "0xc000006d"),
                ("SubStatus", substatus),
            ],
        )
    }

    /// A BSD syslog line (no year) at second `t` (UTC).
    pub fn syslog(t: i64, host: &str, msg: &str) -> String {
        let ts = jiff::Timestamp::from_second(t).unwrap();
        let s = ts.strftime("%b %e %H:%M:%S").to_string();
        format!("{s} {host} sshd[4242]: {msg}")
    }

    /// An Entra sign-in in Log Analytics shape; `zone` rewrites the time
    /// with that offset (same instant).
    pub fn entra(
        t: i64,
        result: &str,
        upn: &str,
        ip: &str,
        app: &str,
        zone: Option<i32>,
    ) -> String {
        let time = match zone {
            None => iso(t),
            Some(h) => {
                let local = jiff::Timestamp::from_second(t + i64::from(h) * 3600)
                    .unwrap()
                    .strftime("%Y-%m-%dT%H:%M:%S")
                    .to_string();
                format!("{local}{}{:02}:00", if h < 0 { '-' } else { '+' }, h.abs())
            }
        };
        serde_json::json!({
            "TimeGenerated": time,
            "ResultType": result,
            "ResultDescription": if result == "0" { "" } else { "Invalid username or password" },
            "UserPrincipalName": upn,
            "IPAddress": ip,
            "AppDisplayName": app,
            "AutonomousSystemNumber": 64500,
            "Category": "SignInLogs",
            "OperationName": "Sign-in activity"
        })
        .to_string()
    }
}

struct Tmp {
    dir: tempfile::TempDir,
}

impl Tmp {
    fn new() -> Tmp {
        Tmp {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn file(&self, name: &str, lines: &[String]) -> PathBuf {
        let p = self.dir.path().join(name);
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&p, text).unwrap();
        p
    }
}

// ------------------------------------------------------------------ real logs

#[test]
fn deepbluecli_password_spray_4648() {
    let d = run(&[fixture("password-spray.jsonl")]);
    assert_eq!(ids(&d), vec![WIN_SPRAY_4648]);
    let c = d[0].correlation.as_ref().unwrap();
    assert_eq!(c.kind, "value_count");
    assert_eq!(
        c.group,
        vec![("IpAddress".to_string(), Some("172.16.144.128".to_string()))]
    );
    assert!(c.count >= 10);
    assert_eq!(d[0].host.as_deref(), Some("DESKTOP-JR78RLP"));
    assert_eq!(d[0].level, Level::High);
    assert_eq!(d[0].attack_techniques(), vec!["T1110.003"]);
    let e = &d[0].events[0];
    assert!(e.file.ends_with("password-spray.jsonl"));
    assert_eq!(e.record_id, Some(42804));
    assert!(e.time.is_some());
    assert!(e.fields.iter().any(|(k, v)| k == "EventID" && v == "4648"));
    // Every event of the correlation finds its time and fields again.
    assert!(d[0]
        .events
        .iter()
        .all(|e| e.time.is_some() && !e.fields.is_empty()));
}

#[test]
fn reference_value_t1_41_users_in_5_minutes() {
    // EXPECTED.md: at most 41 distinct 4648 users per IP in 5 minutes.
    let f = [fixture("password-spray.jsonl")];
    assert_eq!(
        count(&run_with(&f, &["win_spray_4648.users=41"]), WIN_SPRAY_4648),
        1
    );
    assert_eq!(
        count(&run_with(&f, &["win_spray_4648.users=42"]), WIN_SPRAY_4648),
        0
    );
}

#[test]
fn kerberos_spray_and_enumeration() {
    let d = run(&[fixture("kerberos-bruteforce-nonexisting-users.evtx")]);
    assert_eq!(ids(&d), vec![WIN_KERBEROS]);
    assert_eq!(d[0].source.as_deref(), Some("::ffff:10.23.123.11"));
    let d = run(&[fixture("kerberos_pwd_spray_4771.jsonl")]);
    assert_eq!(ids(&d), vec![WIN_KERBEROS]);
    assert_eq!(d[0].source.as_deref(), Some("172.16.66.1"));
}

#[test]
fn reference_value_t3_kerberos_users_per_minute() {
    // EXPECTED.md T3 (1 minute): 51 for the non-existing-users file, 10 for
    // kerberos_pwd_spray_4771.
    let f = [fixture("kerberos-bruteforce-nonexisting-users.evtx")];
    let at = |n: u32| {
        count(
            &run_with(
                &f,
                &[
                    "win_kerberos_spray.window=1m",
                    &format!("win_kerberos_spray.users={n}"),
                ],
            ),
            WIN_KERBEROS,
        )
    };
    assert_eq!(at(51), 1);
    assert_eq!(at(52), 0);
    let f = [fixture("kerberos_pwd_spray_4771.jsonl")];
    let s = [
        "win_kerberos_spray.window=1m",
        "win_kerberos_spray.users=11",
    ];
    assert_eq!(count(&run_with(&f, &s), WIN_KERBEROS), 0);
}

#[test]
fn kerberos_bruteforce_valid_user_and_reference_t6() {
    let f = [fixture("kerberos-bruteforce-valid-user.evtx")];
    let d = run(&f);
    assert_eq!(ids(&d), vec![WIN_BRUTE_KRB]);
    assert_eq!(d[0].user.as_deref(), Some("admin-hacker"));
    // EXPECTED.md T6/T7: at most 54 4771 per user in one hour.
    assert_eq!(
        count(
            &run_with(&f, &["win_bruteforce_kerberos.attempts=54"]),
            WIN_BRUTE_KRB
        ),
        1
    );
    assert_eq!(
        count(
            &run_with(&f, &["win_bruteforce_kerberos.attempts=55"]),
            WIN_BRUTE_KRB
        ),
        0
    );
}

#[test]
fn smb_password_guessing_is_brute_force_not_spray() {
    let d = run(&[fixture("smb-password-guessing-security-first200.jsonl")]);
    assert_eq!(ids(&d), vec![WIN_BRUTE]);
    assert_eq!(d[0].user.as_deref(), Some("Administrator"));
    assert_eq!(d[0].source.as_deref(), Some("192.168.198.149"));
}

#[test]
fn windows_negatives() {
    let d = run(&[
        fixture("accountrestore-local-bruteforce.evtx"),
        fixture("openssh-4625-valid-users.evtx"),
    ]);
    assert!(d.is_empty(), "{:?}", ids(&d));
}

#[test]
fn real_linux_auth_logs() {
    let d = run(&[fixture("elastic-auth.log")]);
    assert!(count(&d, LNX_SPRAY) >= 1, "{:?}", ids(&d));
    assert!(count(&d, LNX_BRUTE) >= 1, "{:?}", ids(&d));
    assert_eq!(count(&d, LNX_SUCCESS), 0);
    for x in &d {
        assert!(
            x.time.is_some_and(|t| t >= 1_774_569_600_000_000),
            "times in 2026: {:?}",
            x.time
        );
        assert!(x.events.iter().all(|e| e.line.is_some()));
    }
}

#[test]
fn entra_documented_record_is_read_without_detection() {
    let d = run(&[fixture("entra-azure-monitor-example.json")]);
    assert!(d.is_empty());
}

// ------------------------------------------------------------------ synthetic: Windows

fn win_spray(tmp: &Tmp, name: &str, users: u32, last_offset: i64, ip: &str) -> PathBuf {
    // `users` different accounts, spread evenly so the last is `last_offset` s after the first.
    let mut lines = Vec::new();
    for i in 0..users {
        let t = synth::T0 + last_offset * i64::from(i) / i64::from((users - 1).max(1));
        lines.push(synth::failed_4625(
            u64::from(i) + 1,
            t,
            &format!("user{i:02}"),
            ip,
            "0xc000006a",
        ));
    }
    tmp.file(name, &lines)
}

#[test]
fn windows_spray_window_edges() {
    let tmp = Tmp::new();
    // 10 users, the 10th exactly 5 minutes after the first: inside the window.
    let d = run(&[win_spray(&tmp, "a.jsonl", 10, 300, "203.0.113.9")]);
    assert_eq!(ids(&d), vec![WIN_SPRAY_4625]);
    assert_eq!(d[0].source.as_deref(), Some("203.0.113.9"));
    assert_eq!(d[0].events.len(), 10);
    // One second more: no spray.
    let d = run(&[win_spray(&tmp, "b.jsonl", 10, 301, "203.0.113.9")]);
    assert!(d.is_empty(), "{:?}", ids(&d));
    // Nine users: below the threshold.
    let d = run(&[win_spray(&tmp, "c.jsonl", 9, 60, "203.0.113.9")]);
    assert!(d.is_empty());
    // Raised threshold through a setting.
    let f = [win_spray(&tmp, "d.jsonl", 12, 60, "203.0.113.9")];
    assert_eq!(
        count(&run_with(&f, &["win_spray_4625.users=12"]), WIN_SPRAY_4625),
        1
    );
    assert_eq!(
        count(&run_with(&f, &["win_spray_4625.users=13"]), WIN_SPRAY_4625),
        0
    );
}

#[test]
fn windows_spray_across_two_files_in_event_time() {
    // Half of the spray in each file, interleaved in time: counts span files.
    let tmp = Tmp::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..10u32 {
        let line = synth::failed_4625(
            u64::from(i),
            synth::T0 + i64::from(i) * 20,
            &format!("u{i}"),
            "198.51.100.4",
            "0xc000006a",
        );
        if i % 2 == 0 {
            a.push(line)
        } else {
            b.push(line)
        }
    }
    let d = run(&[tmp.file("a.jsonl", &a), tmp.file("b.jsonl", &b)]);
    assert_eq!(ids(&d), vec![WIN_SPRAY_4625]);
    let files: std::collections::BTreeSet<&str> =
        d[0].events.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(files.len(), 2);
}

#[test]
fn windows_bruteforce_success_after_spray_and_ntlm() {
    let tmp = Tmp::new();
    let mut lines = Vec::new();
    // 20 failures for one account in 2 minutes: brute force (not a spray).
    for i in 0..20 {
        lines.push(synth::failed_4625(
            i,
            synth::T0 + i as i64 * 6,
            "administrator",
            "192.0.2.50",
            "0xc000006a",
        ));
    }
    // 19 for another account from another address: nothing.
    for i in 0..19 {
        lines.push(synth::failed_4625(
            100 + i,
            synth::T0 + i as i64 * 6,
            "backup",
            "192.0.2.51",
            "0xc000006a",
        ));
    }
    // A spray from 192.0.2.60, then a successful network logon from it 10 minutes later,
    // and one from an unrelated address.
    for i in 0..10 {
        lines.push(synth::failed_4625(
            200 + i,
            synth::T0 + 1000 + i as i64 * 5,
            &format!("staff{i}"),
            "192.0.2.60",
            "0xc000006a",
        ));
    }
    lines.push(synth::win(
        300,
        synth::T0 + 1600,
        4624,
        &[
            ("TargetUserName", "staff3"),
            ("IpAddress", "192.0.2.60"),
            ("LogonType", "3"),
        ],
    ));
    lines.push(synth::win(
        301,
        synth::T0 + 1600,
        4624,
        &[
            ("TargetUserName", "staff4"),
            ("IpAddress", "192.0.2.99"),
            ("LogonType", "3"),
        ],
    ));
    // NTLM 4776 failures for 10 accounts from one workstation.
    for i in 0..10 {
        lines.push(synth::win(
            400 + i,
            synth::T0 + 5000 + i as i64,
            4776,
            &[
                ("TargetUserName", &format!("n{i}")),
                ("Workstation", "EVILPC"),
                ("Status", "0xc000006a"),
            ],
        ));
    }
    lines.sort_by_key(|l| l.find("SystemTime").map(|p| l[p..p + 40].to_string()));
    let d = run(&[tmp.file("w.jsonl", &lines)]);
    assert_eq!(ids(&d), {
        let mut v = vec![WIN_BRUTE, WIN_SPRAY_4625, WIN_SUCCESS, WIN_SPRAY_4776];
        v.sort();
        v
    });
    let s = d.iter().find(|x| x.rule_id == WIN_SUCCESS).unwrap();
    assert_eq!(s.level, Level::Critical);
    assert_eq!(s.source.as_deref(), Some("192.0.2.60"));
    let b = d.iter().find(|x| x.rule_id == WIN_BRUTE).unwrap();
    assert_eq!(b.user.as_deref(), Some("administrator"));
}

#[test]
fn windows_credential_stuffing() {
    // 30 users, one wrong-password attempt each, from 10 addresses (3 users each).
    let tmp = Tmp::new();
    let lines: Vec<String> = (0..30)
        .map(|i| {
            synth::failed_4625(
                i,
                synth::T0 + i as i64 * 10,
                &format!("emp{i}"),
                &format!("100.64.0.{}", i % 10),
                "0xc000006a",
            )
        })
        .collect();
    let d = run(&[tmp.file("s.jsonl", &lines)]);
    assert_eq!(ids(&d), vec![WIN_STUFFING]);
    // Same, but unknown users (0xC0000064) instead of wrong passwords: not stuffing.
    let lines: Vec<String> = (0..30)
        .map(|i| {
            synth::failed_4625(
                i,
                synth::T0 + i as i64 * 10,
                &format!("emp{i}"),
                &format!("100.64.0.{}", i % 10),
                "0xc0000064",
            )
        })
        .collect();
    assert!(run(&[tmp.file("n.jsonl", &lines)]).is_empty());
}

// ------------------------------------------------------------------ synthetic: Linux

#[test]
fn linux_spray_bruteforce_success_and_edges() {
    let tmp = Tmp::new();
    let mut lines = Vec::new();
    // Spray from 203.0.113.7: 10 users, the last exactly 300 s after the first; then success.
    for i in 0..10 {
        let msg = if i % 2 == 0 {
            format!(
                "Failed password for user{i} from 203.0.113.7 port {} ssh2",
                40000 + i
            )
        } else {
            format!(
                "Failed password for invalid user user{i} from 203.0.113.7 port {} ssh2",
                40000 + i
            )
        };
        lines.push(synth::syslog(synth::T0 + i * 300 / 9, "web1", &msg));
    }
    lines.push(synth::syslog(
        synth::T0 + 900,
        "web1",
        "Accepted password for user4 from 203.0.113.7 port 41000 ssh2",
    ));
    // Nearly a spray from 203.0.113.8: the 10th user is 301 s after the first.
    for i in 0..10 {
        let t = synth::T0 + 2000 + if i == 9 { 301 } else { i * 10 };
        lines.push(synth::syslog(
            t,
            "web1",
            &format!("Failed password for u{i} from 203.0.113.8 port 5000 ssh2"),
        ));
    }
    // Brute force: 20 failures for root from 198.51.100.23 in 100 s.
    for i in 0..20 {
        lines.push(synth::syslog(
            synth::T0 + 4000 + i * 5,
            "web1",
            "Failed password for root from 198.51.100.23 port 6000 ssh2",
        ));
    }
    lines.sort_by_key(|l| l.get(..15).map(String::from));
    let d = run(&[tmp.file("auth.log", &lines)]);
    assert_eq!(ids(&d), {
        let mut v = vec![LNX_SPRAY, LNX_SUCCESS, LNX_BRUTE];
        v.sort();
        v
    });
    let spray = d.iter().find(|x| x.rule_id == LNX_SPRAY).unwrap();
    assert_eq!(spray.source.as_deref(), Some("203.0.113.7"));
    assert_eq!(spray.host.as_deref(), Some("web1"));
    // Syslog without a year: the year comes from --year (2026 here).
    assert_eq!(spray.time.map(|t| t / 1_000_000), Some(synth::T0 + 300));
    assert_eq!(spray.events[0].line, Some(1));
}

#[test]
fn linux_credential_stuffing() {
    let tmp = Tmp::new();
    let lines: Vec<String> = (0..30)
        .map(|i| {
            synth::syslog(
                synth::T0 + i * 15,
                "mail1",
                &format!(
                    "Failed password for staff{i} from 100.64.1.{} port 5000 ssh2",
                    i % 10
                ),
            )
        })
        .collect();
    let d = run(&[tmp.file("auth.log", &lines)]);
    assert_eq!(ids(&d), vec![LNX_STUFFING]);
}

// ------------------------------------------------------------------ synthetic: Entra

#[test]
fn entra_spray_success_bruteforce_and_time_zones() {
    let tmp = Tmp::new();
    let mut lines = Vec::new();
    // Spray: 10 users in 9 minutes from one IP; half the records carry a +02:00 offset.
    for i in 0..10 {
        let zone = if i % 2 == 0 { Some(2) } else { None };
        lines.push(synth::entra(
            synth::T0 + i * 60,
            "50126",
            &format!("u{i}@contoso.example"),
            "198.51.100.7",
            "Office 365",
            zone,
        ));
    }
    lines.push(synth::entra(
        synth::T0 + 1200,
        "0",
        "u3@contoso.example",
        "198.51.100.7",
        "Office 365",
        Some(-5),
    ));
    // Brute force: 20 failures for one user from one IP in 5 minutes, 3 of them lockouts.
    for i in 0..20 {
        let code = if i >= 17 { "50053" } else { "50126" };
        lines.push(synth::entra(
            synth::T0 + 7200 + i * 15,
            code,
            "ceo@contoso.example",
            "192.0.2.77",
            "Azure Portal",
            None,
        ));
    }
    let d = run(&[tmp.file("signins.jsonl", &lines)]);
    assert_eq!(ids(&d), {
        let mut v = vec![ENTRA_SPRAY, ENTRA_SUCCESS, ENTRA_BRUTE];
        v.sort();
        v
    });
    // If the offsets were ignored, the spray would be spread over two hours and
    // not fire; the spray's window end is the 10th record's instant.
    let spray = d.iter().find(|x| x.rule_id == ENTRA_SPRAY).unwrap();
    assert_eq!(spray.time.map(|t| t / 1_000_000), Some(synth::T0 + 540));
}

#[test]
fn entra_spray_by_asn_and_stuffing() {
    let tmp = Tmp::new();
    // 30 users, one attempt each, from 10 addresses of one ASN.
    let lines: Vec<String> = (0..30)
        .map(|i| {
            synth::entra(
                synth::T0 + i * 10,
                "50126",
                &format!("p{i}@contoso.example"),
                &format!("203.0.113.{}", i % 10),
                "Office 365",
                None,
            )
        })
        .collect();
    let d = run(&[tmp.file("s.jsonl", &lines)]);
    assert_eq!(ids(&d), {
        let mut v = vec![ENTRA_SPRAY_ASN, ENTRA_STUFFING];
        v.sort();
        v
    });
    // Unknown users (50034) are not wrong passwords: nothing.
    let lines: Vec<String> = (0..30)
        .map(|i| {
            synth::entra(
                synth::T0 + i * 10,
                "50034",
                &format!("p{i}@contoso.example"),
                &format!("203.0.113.{}", i % 10),
                "Office 365",
                None,
            )
        })
        .collect();
    assert!(run(&[tmp.file("n.jsonl", &lines)]).is_empty());
}

#[test]
fn mixed_directory_with_damaged_and_foreign_files() {
    let tmp = Tmp::new();
    let dir = tmp.dir.path().join("logs/nested");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        fixture("kerberos_pwd_spray_4771.jsonl"),
        dir.join("k.jsonl"),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "hello\n").unwrap();
    // An EVTX header followed by garbage: reported, not a crash.
    let mut bad = std::fs::read(fixture("openssh-4625-valid-users.evtx")).unwrap();
    bad.truncate(6000);
    bad.extend(std::iter::repeat_n(0xAB, 70_000));
    std::fs::write(dir.join("damaged.evtx"), bad).unwrap();
    let options = HuntOptions {
        year: Some(2026),
        ..HuntOptions::default()
    };
    let (hunt, _) = Hunt::new(options);
    let mut out = Vec::new();
    let report = hunt.run(&[tmp.dir.path().join("logs")], &mut |d| out.push(d));
    assert_eq!(ids(&out), vec![WIN_KERBEROS]);
    assert_eq!(report.files_read, 2);
    assert_eq!(report.files_unrecognised, 1);
    assert!(
        !report.diagnostics.is_empty(),
        "the damaged EVTX is reported"
    );
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.path.ends_with("damaged.evtx")));
}

#[test]
fn correlation_state_cap_is_reported() {
    // Two sprays interleaved in time; with room for one group only, the cap
    // is hit and reported.
    let tmp = Tmp::new();
    let mut lines = Vec::new();
    for i in 0..10u32 {
        for (k, ip) in ["192.0.2.1", "192.0.2.2"].iter().enumerate() {
            lines.push(synth::failed_4625(
                u64::from(i * 2) + k as u64,
                synth::T0 + i64::from(i) * 5,
                &format!("v{i}"),
                ip,
                "0xc000006a",
            ));
        }
    }
    let path = tmp.file("two.jsonl", &lines);
    let run_cap = |cap: usize| {
        let options = HuntOptions {
            correlation_state_cap: cap,
            ..HuntOptions::default()
        };
        let (hunt, _) = Hunt::new(options);
        let mut out = Vec::new();
        let report = hunt.run(std::slice::from_ref(&path), &mut |d| out.push(d));
        (
            count(&out, WIN_SPRAY_4625),
            report.correlation.state_cap_hits,
        )
    };
    assert_eq!(run_cap(100_000), (2, 0));
    let (n, hits) = run_cap(1);
    assert!(hits > 0, "cap hits reported");
    assert!(n < 2);
}

/// A big file read in byte ranges on both workers reports exactly what a
/// whole-file read reports: same detections, times, line numbers and
/// fields (elastic's auth.log: spray and brute force; a JSONL 4625 spray).
#[test]
fn ranges_of_one_file_give_the_same_detections() {
    let run_split = |path: PathBuf, split: u64| -> Vec<String> {
        let options = HuntOptions {
            year: Some(2026),
            threads: 2,
            min_level: Level::Informational,
            split_bytes: split,
            range_bytes: 20_000,
            ..HuntOptions::default()
        };
        let (hunt, _) = Hunt::new(options);
        let mut out = Vec::new();
        let report = hunt.run(&[path], &mut |d| {
            out.push(serde_json::to_string(&portcullis_hunt::output::detection_json(&d)).unwrap())
        });
        assert_eq!(report.files_read, 1);
        assert!(report.unreadable.is_empty());
        out.sort();
        out
    };
    for name in ["elastic-auth.log", "password-spray.jsonl"] {
        let whole = run_split(fixture(name), 0);
        let split = run_split(fixture(name), 1);
        assert!(!whole.is_empty(), "{name}");
        assert_eq!(whole, split, "{name}");
    }
    // The elastic log is cut into many ranges (about 800 KB / 20 KB).
    let size = std::fs::metadata(fixture("elastic-auth.log"))
        .unwrap()
        .len();
    let ranges = portcullis_events::split_file(
        &fixture("elastic-auth.log"),
        portcullis_events::Format::Syslog,
        &portcullis_events::ReadOptions { year: Some(2026) },
        20_000,
        2,
    )
    .unwrap();
    assert!(ranges.len() as u64 >= size / 20_000);
}
