//! No member parser panics on arbitrary bytes, and assessing whatever they
//! produce never panics either.

use portcullis_winevidence::evidence as e;
use portcullis_winevidence::{assess_at, load_bytes, SecPolicy};
use proptest::prelude::*;
use std::io::Write;

type Parser = fn(&[u8], &mut Vec<portcullis_model::Diagnostic>) -> bool;

fn parsers() -> Vec<(&'static str, Parser)> {
    vec![
        ("manifest", |b, d| e::parse_manifest(b, d).is_ok()),
        ("secpol", |b, d| e::parse_secpol(b, d).is_ok()),
        ("netsh", |b, d| e::parse_netsh(b, d).is_ok()),
        ("profiles", |b, d| e::parse_firewall_profiles(b, d).is_ok()),
        ("rules", |b, d| e::parse_firewall_rules(b, d).is_ok()),
        ("defender", |b, d| e::parse_defender(b, d).is_ok()),
        ("security-center", |b, d| {
            e::parse_security_center(b, d).is_ok()
        }),
        ("hotfixes", |b, d| e::parse_hotfixes(b, d).is_ok()),
        ("programs", |b, d| e::parse_programs(b, d).is_ok()),
        ("users", |b, d| e::parse_local_users(b, d).is_ok()),
        ("admins", |b, d| e::parse_administrators(b, d).is_ok()),
        ("bitlocker", |b, d| e::parse_bitlocker(b, d).is_ok()),
        ("registry", |b, d| e::parse_registry(b, d).is_ok()),
        ("os", |b, d| e::parse_os(b, d).is_ok()),
        ("listening", |b, d| e::parse_listening(b, d).is_ok()),
    ]
}

/// Bytes that are often near-valid: JSON-ish, INF-ish, UTF-16 with a BOM.
fn inputs() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        "[\\[\\]{}\":,0-9a-zA-Z =\\\\/().\\-\r\n]{0,300}".prop_map(String::into_bytes),
        "[\\[\\]{}\":,0-9a-zA-Z =\\\\/().\\-\r\n]{0,300}".prop_map(|s| {
            let mut v = vec![0xFF, 0xFE];
            v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
            v
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn member_parsers_never_panic(bytes in inputs()) {
        for (_, p) in parsers() {
            let mut d = Vec::new();
            let _ = p(&bytes, &mut d);
        }
        let mut d = Vec::new();
        let _ = SecPolicy::parse(&String::from_utf8_lossy(&bytes), "secpol.inf", &mut d);
    }

    #[test]
    fn loading_and_assessing_never_panics(bytes in inputs(), which in 0usize..15) {
        // As a whole file (zip sniffing, Intune sniffing)…
        if let Ok(ev) = load_bytes("x", &bytes) {
            let _ = assess_at(&ev, 20_000);
        }
        // …and as one member of an otherwise empty archive.
        let name = e::member::ALL[which];
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            w.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(&bytes).unwrap();
            w.finish().unwrap();
        }
        let ev = load_bytes("x.zip", buf.get_ref()).unwrap();
        let rs = assess_at(&ev, 20_000);
        prop_assert_eq!(rs.len(), portcullis_winevidence::CHECKS.len());
    }

    #[test]
    fn intune_like_json_never_panics(s in "\\{\"settings\": \\[\\{\"(settingDefinitionId|definitionId)\": \"[a-z_]{0,20}\", \"(valueJson|value|choiceSettingValue)\": [\\[\\]{}\":,0-9a-z]{0,40}\\}\\]\\}") {
        if let Ok(ev) = load_bytes("p.json", s.as_bytes()) {
            let _ = assess_at(&ev, 20_000);
        }
    }
}

#[test]
fn garbage_json_members_are_errors_not_panics() {
    for (name, p) in parsers() {
        let mut d = Vec::new();
        if name == "secpol" || name == "netsh" {
            assert!(!p(b"", &mut d), "{name}");
        } else {
            assert!(!p(b"{\"a\": [1, 2", &mut d), "{name}");
            assert_eq!(d.len(), 1, "{name}: {d:?}");
            assert!(d[0].is_error());
        }
    }
}
