//! The correlation mini-suite (tests/fixtures/correlation, from
//! /work/shared/data/detection/correlation-tests; reference values in
//! EXPECTED.md there).

mod common;

use portcullis_events::Event;
use portcullis_sigma::{
    CorrelationEngine, CorrelationHit, CorrelationLimits, Engine, IdentityMapping, RuleSet,
};
use std::path::{Path, PathBuf};

fn corr_dir() -> PathBuf {
    common::fixtures().join("correlation")
}

fn rule_text(name: &str) -> String {
    std::fs::read_to_string(corr_dir().join("rules").join(name)).unwrap()
}

fn events(file: &str) -> Vec<Event> {
    let p = if file.starts_with("synthetic") {
        corr_dir().join(file)
    } else {
        corr_dir().join("evtx-jsonl").join(file)
    };
    let (mut evs, bad) = common::read_jsonl(&p);
    assert_eq!(bad, 0, "{file}");
    evs.sort_by_key(|e| e.time);
    evs
}

/// Run one rule file over events; hits of the file's first (top) rule.
fn run(rules: &str, evs: &[Event]) -> Vec<CorrelationHit> {
    let (set, problems) = RuleSet::from_str(rules, Path::new("t.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    let top = set.rules()[0].id.clone().unwrap();
    let (engine, problems) = Engine::compile(set, &IdentityMapping);
    assert!(problems.is_empty(), "{problems:?}");
    let top = engine.rule_set().find(&top).unwrap();
    let mut corr = CorrelationEngine::new(&engine, CorrelationLimits::default());
    let mut sc = engine.scratch();
    let mut ms = Vec::new();
    let mut hits = Vec::new();
    for ev in evs {
        ms.clear();
        engine.matches(ev, &mut sc, &mut ms);
        for m in &ms {
            corr.observe(m.rule, ev, &mut hits);
        }
    }
    corr.finish(&mut hits);
    hits.retain(|h| h.rule == top);
    hits
}

const FILES: &[&str] = &[
    "password-spray.jsonl",
    "smb-password-guessing-security.flat.jsonl",
    "ID4768-4771-Kerberos_brutforce_with_non_existing_users.jsonl",
    "ID4768-4771-Kerberos_user_enumeration__Kerbrute_.jsonl",
    "ID4771-Kerberos_brutforce_with_valid_user.jsonl",
    "kerberos_pwd_spray_4771.jsonl",
    "ID4625-OpenSSH_brutforce_with_non_existing_users.jsonl",
    "ID4625-OpenSSH_brutforce_with_valid_users.jsonl",
    "ID_4776_4625-AccountRestore_local_bruteforce.jsonl",
];

/// Files on which `rules` fires at least once.
fn firing(rules: &str) -> Vec<&'static str> {
    FILES
        .iter()
        .copied()
        .filter(|f| !run(rules, &events(f)).is_empty())
        .collect()
}

/// The largest threshold `gte: N` that still fires on `file`: the
/// maximum over sliding windows (compared with EXPECTED.md).
fn max_by_threshold(rule: &str, from: &str, file: &str, expected: u32) {
    let evs = events(file);
    let at = rule.replace(from, &format!("gte: {expected}"));
    let above = rule.replace(from, &format!("gte: {}", expected + 1));
    assert!(rule.contains(from));
    assert!(!run(&at, &evs).is_empty(), "{file}: no hit at {expected}");
    assert!(run(&above, &evs).is_empty(), "{file}: hit above {expected}");
}

#[test]
fn t1_value_count_spray() {
    let r = rule_text("t1_value_count_spray_4648.yml");
    assert_eq!(firing(&r), vec!["password-spray.jsonl"]);
    let hits = run(&r, &events("password-spray.jsonl"));
    let h = &hits[0];
    assert_eq!(h.group[0].0, "IpAddress");
    assert_eq!(h.count, 10);
    assert_eq!(h.distinct.len(), 10);
    assert!(h.window_end - h.window_start <= 300_000_000);
    assert!(!h.events.is_empty() && h.events.len() <= 16);
    // reference: max 41 distinct users per IP in 5 minutes
    max_by_threshold(&r, "gte: 10", "password-spray.jsonl", 41);
    max_by_threshold(
        &r,
        "gte: 10",
        "ID4625-OpenSSH_brutforce_with_valid_users.jsonl",
        2,
    );
}

#[test]
fn t2_event_count_bruteforce() {
    let r = rule_text("t2_event_count_bruteforce_4625.yml");
    assert_eq!(
        firing(&r),
        vec!["smb-password-guessing-security.flat.jsonl"]
    );
    let hits = run(&r, &events("smb-password-guessing-security.flat.jsonl"));
    // 3,561 events over 2 min 43 s: one hit per minute-long quiet period
    assert_eq!(hits.len(), 3);
    assert_eq!(
        hits[0].group,
        vec![("IpAddress".to_string(), "192.168.198.149".to_string())]
    );
    assert_eq!(hits[0].count, 100);
    max_by_threshold(
        &r,
        "gte: 100",
        "smb-password-guessing-security.flat.jsonl",
        1354,
    );
    max_by_threshold(
        &r,
        "gte: 100",
        "ID_4776_4625-AccountRestore_local_bruteforce.jsonl",
        16,
    );
    max_by_threshold(
        &r,
        "gte: 100",
        "ID4625-OpenSSH_brutforce_with_valid_users.jsonl",
        5,
    );
}

#[test]
fn t3_value_count_kerberos() {
    let r = rule_text("t3_value_count_kerberos.yml");
    assert_eq!(
        firing(&r),
        vec![
            "ID4768-4771-Kerberos_brutforce_with_non_existing_users.jsonl",
            "ID4768-4771-Kerberos_user_enumeration__Kerbrute_.jsonl",
            "kerberos_pwd_spray_4771.jsonl",
        ]
    );
    max_by_threshold(
        &r,
        "gte: 10",
        "ID4768-4771-Kerberos_brutforce_with_non_existing_users.jsonl",
        51,
    );
    max_by_threshold(
        &r,
        "gte: 10",
        "ID4768-4771-Kerberos_user_enumeration__Kerbrute_.jsonl",
        42,
    );
    max_by_threshold(&r, "gte: 10", "kerberos_pwd_spray_4771.jsonl", 10);
    max_by_threshold(
        &r,
        "gte: 10",
        "ID4771-Kerberos_brutforce_with_valid_user.jsonl",
        1,
    );
}

#[test]
fn t4_temporal_kerberos() {
    let r = rule_text("t4_temporal_kerberos.yml");
    assert_eq!(
        firing(&r),
        vec![
            "ID4768-4771-Kerberos_brutforce_with_non_existing_users.jsonl",
            "ID4768-4771-Kerberos_user_enumeration__Kerbrute_.jsonl",
            "kerberos_pwd_spray_4771.jsonl",
        ]
    );
    let hits = run(&r, &events("kerberos_pwd_spray_4771.jsonl"));
    assert_eq!(hits[0].count, 2);
    assert_eq!(hits[0].events.len(), 2);
}

#[test]
fn t5_aliases() {
    let r = rule_text("t5_temporal_aliases.yml");
    assert!(run(&r, &events("synthetic-jsonl/aliases_two_ips.jsonl")).is_empty());
    let hits = run(&r, &events("synthetic-jsonl/aliases_same_ip.jsonl"));
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].group,
        vec![("src".to_string(), "10.0.0.1".to_string())]
    );
    assert_eq!(hits[0].window_end - hits[0].window_start, 10_000_000);
}

#[test]
fn t6_range_condition_both_keys() {
    let r = rule_text("t6_range_condition.yml");
    assert!(firing(&r).is_empty());
    // the range really uses both keys: 54 is inside 50..=100, outside 55..
    let inside = r.replace("gte: 60", "gte: 50");
    assert_eq!(
        firing(&inside),
        vec!["ID4771-Kerberos_brutforce_with_valid_user.jsonl"]
    );
    let upper = r
        .replace("lte: 100", "lte: 53")
        .replace("gte: 60", "gte: 50");
    assert!(firing(&upper).is_empty());
}

#[test]
fn t7_neq_condition() {
    let r = rule_text("t7_neq_condition.yml");
    let evs = events("ID4771-Kerberos_brutforce_with_valid_user.jsonl");
    // one user with exactly 54 failures in the hour: neq 54 is false for it
    assert!(run(&r, &evs).is_empty());
    let eq = r.replace("neq: 54", "eq: 54");
    let hits = run(&eq, &evs);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 54);
    // users with one failure elsewhere: 1 != 54 fires
    assert!(!run(&r, &events("kerberos_pwd_spray_4771.jsonl")).is_empty());
}

#[test]
fn t8_temporal_ordered_chain() {
    let r = rule_text("t8_temporal_ordered_chain.yml");
    assert_eq!(
        firing(&r),
        vec!["smb-password-guessing-security.flat.jsonl"]
    );
    let hits = run(&r, &events("smb-password-guessing-security.flat.jsonl"));
    assert_eq!(
        hits[0].group,
        vec![("IpAddress".to_string(), "192.168.198.149".to_string())]
    );
}

#[test]
fn malformed_jsonl_is_skipped() {
    let (evs, bad) = common::read_jsonl(&corr_dir().join("synthetic-jsonl/malformed.jsonl"));
    assert_eq!(bad, 1);
    assert!(!evs.is_empty());
    let r = rule_text("t5_temporal_aliases.yml");
    let _ = run(&r, &evs);
}

#[test]
fn missing_group_field_is_not_lumped() {
    let rules = rule_text("t2_event_count_bruteforce_4625.yml").replace("gte: 100", "gte: 2");
    // two events without IpAddress must not form a group
    let mk = |t: &str| {
        let v: serde_json::Value = serde_json::from_str(&format!(
            r#"{{"@timestamp":"{t}","EventID":4625,"TargetUserName":"a"}}"#
        ))
        .unwrap();
        common::flat_event(&v, "x", 1).unwrap()
    };
    let evs = vec![mk("2024-01-01T00:00:00Z"), mk("2024-01-01T00:00:01Z")];
    assert!(run(&rules, &evs).is_empty());
}

#[test]
fn memory_is_bounded() {
    let rules = rule_text("t2_event_count_bruteforce_4625.yml");
    let (set, _) = RuleSet::from_str(&rules, Path::new("t.yml"));
    let (engine, _) = Engine::compile(set, &IdentityMapping);
    let limits = CorrelationLimits {
        max_groups: 50,
        ..CorrelationLimits::default()
    };
    let mut corr = CorrelationEngine::new(&engine, limits);
    let base = engine.rule_set().find("t2_failed_logon").unwrap();
    let mut hits = Vec::new();
    for i in 0..1000 {
        let v: serde_json::Value = serde_json::from_str(&format!(
            r#"{{"@timestamp":"2024-01-01T00:00:{:02}Z","EventID":4625,"IpAddress":"10.0.{}.{}"}}"#,
            i % 60,
            i / 250,
            i % 250
        ))
        .unwrap();
        let mut ev = common::flat_event(&v, "x", 1).unwrap();
        ev.time = Some(1_700_000_000_000_000 + i as i64 * 1000);
        corr.observe(base, &ev, &mut hits);
    }
    assert!(corr.live_groups() <= 50);
    assert_eq!(corr.stats().group_cap_hits, 950);
    // after the window passes, idle groups are evicted and new ones fit
    let v: serde_json::Value =
        serde_json::from_str(r#"{"EventID":4625,"IpAddress":"10.9.9.9"}"#).unwrap();
    let mut ev = common::flat_event(&v, "x", 1).unwrap();
    ev.time = Some(1_700_000_000_000_000 + 3_600_000_000);
    corr.observe(base, &ev, &mut hits);
    assert_eq!(corr.live_groups(), 1);
    assert_eq!(corr.stats().groups_evicted, 50);
}

#[test]
fn value_sum_and_avg() {
    let base = "title: base\nid: b\nname: xfer\nlogsource: {product: any}\ndetection:\n  sel: {action: send}\n  condition: sel\n";
    let mk = |t: &str, user: &str, bytes: i64| {
        let v: serde_json::Value = serde_json::from_str(&format!(
            r#"{{"@timestamp":"{t}","action":"send","User":"{user}","bytes_sent":{bytes}}}"#
        ))
        .unwrap();
        common::flat_event(&v, "x", 1).unwrap()
    };
    let evs = vec![
        mk("2024-01-01T00:00:00Z", "a", 60),
        mk("2024-01-01T00:10:00Z", "b", 500),
        mk("2024-01-01T00:20:00Z", "a", 50),
        mk("2024-01-01T02:00:00Z", "a", 100),
    ];
    let sum = format!("title: sum\nid: s\ncorrelation:\n  type: value_sum\n  rules: [xfer]\n  group-by: [User]\n  timespan: 1h\n  condition: {{field: bytes_sent, gt: 100}}\n---\n{base}");
    let hits = run(&sum, &evs);
    // a: 60 + 50 = 110 within the hour (the later 100 is alone); b: 500
    assert_eq!(hits.len(), 2);
    let a = hits.iter().find(|h| h.group[0].1 == "a").unwrap();
    assert_eq!(a.value, 110.0);
    assert_eq!(a.count, 2);
    let avg = sum
        .replace("value_sum", "value_avg")
        .replace("gt: 100", "gte: 55");
    let hits = run(&avg, &evs);
    let users: Vec<&str> = hits.iter().map(|h| h.group[0].1.as_str()).collect();
    assert!(users.contains(&"b"));
    assert!(users.iter().filter(|u| **u == "a").count() >= 1);
}
