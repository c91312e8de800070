//! Every modifier, with the Sigma specification's examples where it has them.

use portcullis_events::{Event, LogKind, Origin, Value};
use portcullis_sigma::{Engine, IdentityMapping, LoadOptions, ProblemKind, RuleSet};
use std::path::Path;
use std::sync::Arc;

fn ev(fields: &[(&str, Value)]) -> Event {
    Event {
        origin: Origin {
            file: Arc::from("t"),
            record_id: None,
            line: None,
            seq: 0,
        },
        time: Some(0),
        kind: LogKind::Windows,
        fields: fields
            .iter()
            .map(|(k, v)| (portcullis_events::field_name(k), v.clone()))
            .collect(),
    }
}

fn s(v: &str) -> Value {
    Value::Str(v.into())
}

fn rule(detection: &str) -> String {
    format!("title: t\nid: r1\nlogsource:\n    product: windows\ndetection:\n{detection}\n")
}

fn engine_for(detection: &str) -> Engine {
    let (set, problems) = RuleSet::from_str(&rule(detection), Path::new("t.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(set.len(), 1);
    Engine::compile(set, &IdentityMapping).0
}

fn fires(detection: &str, fields: &[(&str, Value)]) -> bool {
    let e = engine_for(detection);
    let mut sc = e.scratch();
    let mut out = Vec::new();
    e.matches(&ev(fields), &mut sc, &mut out);
    !out.is_empty()
}

fn problem(detection: &str) -> ProblemKind {
    let (set, problems) = RuleSet::from_str(&rule(detection), Path::new("t.yml"));
    assert!(set.is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
    problems[0].kind
}

#[test]
fn plain_equality_is_case_insensitive_and_typed_loosely() {
    let d = "    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel";
    assert!(fires(d, &[("Image", s("c:\\windows\\CMD.EXE"))]));
    assert!(!fires(d, &[("Image", s("c:\\windows\\cmd.exe2"))]));
    assert!(!fires(d, &[("Other", s("c:\\windows\\cmd.exe"))]));
    // YAML int vs event int and numeric text
    let d = "    sel:\n        EventID: 4625\n    condition: sel";
    assert!(fires(d, &[("EventID", Value::Int(4625))]));
    assert!(fires(d, &[("EventID", s("4625"))]));
    assert!(!fires(d, &[("EventID", Value::Int(4624))]));
    // bool
    let d = "    sel:\n        isCompliant: 'false'\n    condition: sel";
    assert!(fires(d, &[("isCompliant", Value::Bool(false))]));
    // list values inside the event
    let d = "    sel:\n        Tags: b\n    condition: sel";
    assert!(fires(d, &[("Tags", Value::List(vec![s("a"), s("B")]))]));
}

#[test]
fn lists_or_maps_and_cased() {
    let d =
        "    sel:\n        A:\n            - x\n            - y\n        B: z\n    condition: sel";
    assert!(fires(d, &[("A", s("y")), ("B", s("Z"))]));
    assert!(!fires(d, &[("A", s("y"))]));
    let d = "    sel:\n        A|cased: Foo\n    condition: sel";
    assert!(fires(d, &[("A", s("Foo"))]));
    assert!(!fires(d, &[("A", s("foo"))]));
    // list of maps = OR
    let d = "    sel:\n        - A: x\n        - B: y\n    condition: sel";
    assert!(fires(d, &[("B", s("y"))]));
}

#[test]
fn contains_startswith_endswith_all() {
    let d = "    sel:\n        CommandLine|contains|all:\n            - ' -enc '\n            - 'hidden'\n    condition: sel";
    assert!(fires(
        d,
        &[("CommandLine", s("powershell -w HIDDEN -enc AAAA"))]
    ));
    assert!(!fires(d, &[("CommandLine", s("powershell -enc AAAA"))]));
    let d = "    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel";
    assert!(fires(d, &[("Image", s("C:\\x\\CMD.exe"))]));
    assert!(!fires(d, &[("Image", s("C:\\x\\cmd.exe.bak"))]));
    let d = "    sel:\n        Image|startswith: 'C:\\Users\\'\n    condition: sel";
    assert!(fires(d, &[("Image", s("c:\\users\\bob\\a.exe"))]));
    assert!(!fires(d, &[("Image", s("D:\\users\\bob\\a.exe"))]));
}

#[test]
fn wildcards_and_escapes() {
    let d = "    sel:\n        A: 'a*c?e'\n    condition: sel";
    assert!(fires(d, &[("A", s("abbbcde"))]));
    assert!(!fires(d, &[("A", s("abbbce"))]));
    let d = "    sel:\n        A: 'lit\\*eral'\n    condition: sel";
    assert!(fires(d, &[("A", s("lit*eral"))]));
    assert!(!fires(d, &[("A", s("litXeral"))]));
    let d = "    sel:\n        A|contains: '\\\\*'\n    condition: sel";
    assert!(
        fires(d, &[("A", s("x\\y"))]),
        "escaped backslash then wildcard"
    );
}

#[test]
fn base64_and_base64offset() {
    // spec example: base64offset|contains of '/bin/bash'
    let d = "    sel:\n        CommandLine|base64offset|contains: '/bin/bash'\n    condition: sel";
    for enc in [
        "echo L2Jpbi9iYXNo | base64 -d",
        "xx9iaW4vYmFzaAyy",
        "qvYmluL2Jhc2g=",
    ] {
        assert!(fires(d, &[("CommandLine", s(enc))]), "{enc}");
    }
    assert!(!fires(d, &[("CommandLine", s("L2Jpbi9zaA=="))]));
    let d = "    sel:\n        A|base64: 'sigma rules!'\n    condition: sel";
    assert!(fires(d, &[("A", s("c2lnbWEgcnVsZXMh"))]));
    // base64 is case-sensitive in meaning but matching stays case-insensitive by default;
    // with cased it is exact
    let d = "    sel:\n        A|base64|cased: 'sigma rules!'\n    condition: sel";
    assert!(!fires(d, &[("A", s("C2LNBWEGCNVSZXMH"))]));
}

#[test]
fn utf16_variants_and_wide() {
    // spec: utf16le|base64offset|contains of 'ping'
    let d = "    sel:\n        A|wide|base64offset|contains: 'ping'\n    condition: sel";
    assert!(fires(d, &[("A", s("powershell -enc cABpAG4AZwA="))]));
    let d = "    sel:\n        A|utf16le|base64: 'ab'\n    condition: sel";
    assert!(fires(d, &[("A", s("YQBiAA=="))]));
    let d = "    sel:\n        A|utf16be|base64: 'ab'\n    condition: sel";
    assert!(fires(d, &[("A", s("AGEAYg=="))]));
    let d = "    sel:\n        A|utf16|base64: 'ab'\n    condition: sel";
    assert!(fires(d, &[("A", s("//5hAGIA"))]));
}

#[test]
fn windash() {
    let d = "    sel:\n        CommandLine|windash|contains: ' -urlcache '\n    condition: sel";
    for c in [
        " -urlcache ",
        " /urlcache ",
        " \u{2013}urlcache ",
        " \u{2014}urlcache ",
        " \u{2015}urlcache ",
    ] {
        assert!(
            fires(d, &[("CommandLine", s(&format!("certutil{c}x")))]),
            "{c}"
        );
    }
    assert!(!fires(d, &[("CommandLine", s("certutil +urlcache x"))]));
}

#[test]
fn regex_with_flags() {
    let d = "    sel:\n        A|re: '^ab+c$'\n    condition: sel";
    assert!(fires(d, &[("A", s("abbc"))]));
    assert!(
        !fires(d, &[("A", s("ABBC"))]),
        "re is case-sensitive by default"
    );
    let d = "    sel:\n        A|re|i: '^ab+c$'\n    condition: sel";
    assert!(fires(d, &[("A", s("ABBC"))]));
    let d = "    sel:\n        A|re|m: '^second$'\n    condition: sel";
    assert!(fires(d, &[("A", s("first\nsecond"))]));
    let d = "    sel:\n        A|re|s: 'a.b'\n    condition: sel";
    assert!(fires(d, &[("A", s("a\nb"))]));
    assert_eq!(
        problem("    sel:\n        A|re: '(unclosed'\n    condition: sel"),
        ProblemKind::BadRegex
    );
}

#[test]
fn cidr_v4_v6() {
    let d = "    sel:\n        IpAddress|cidr:\n            - '10.0.0.0/8'\n            - 'fd00::/8'\n    condition: sel";
    assert!(fires(d, &[("IpAddress", s("10.20.30.40"))]));
    assert!(fires(d, &[("IpAddress", s("fd12::1"))]));
    assert!(fires(d, &[("IpAddress", s("::ffff:10.1.1.1"))]));
    assert!(!fires(d, &[("IpAddress", s("192.168.1.1"))]));
    assert!(!fires(d, &[("IpAddress", s("-"))]));
    assert_eq!(
        problem("    sel:\n        A|cidr: '10.0.0.0/40'\n    condition: sel"),
        ProblemKind::Malformed
    );
}

#[test]
fn exists_and_null() {
    let d = "    sel:\n        A|exists: true\n    condition: sel";
    assert!(fires(d, &[("A", s(""))]));
    assert!(!fires(d, &[("B", s("x"))]));
    let d = "    sel:\n        A|exists: false\n    condition: sel";
    assert!(fires(d, &[("B", s("x"))]));
    let d = "    sel:\n        A: null\n    condition: sel";
    assert!(fires(d, &[("B", s("x"))]));
    assert!(fires(d, &[("A", Value::Null)]));
    assert!(fires(d, &[("A", s(""))]));
    assert!(!fires(d, &[("A", s("x"))]));
}

#[test]
fn fieldref() {
    let d = "    sel:\n        SubjectUserName|fieldref: TargetUserName\n    condition: sel";
    assert!(fires(
        d,
        &[("SubjectUserName", s("Bob")), ("TargetUserName", s("bob"))]
    ));
    assert!(!fires(
        d,
        &[
            ("SubjectUserName", s("Bob")),
            ("TargetUserName", s("alice"))
        ]
    ));
    assert!(!fires(d, &[("SubjectUserName", s("Bob"))]));
    let d = "    sel:\n        A|fieldref|startswith: B\n    condition: sel";
    assert!(fires(d, &[("A", s("prefix-rest")), ("B", s("prefix"))]));
}

#[test]
fn numeric_comparisons() {
    let d = "    sel:\n        A|gt: -5\n    condition: sel";
    assert!(fires(d, &[("A", Value::Int(-4))]));
    assert!(!fires(d, &[("A", Value::Int(-5))]));
    let d = "    sel:\n        A|gte: 1.5\n    condition: sel";
    assert!(fires(d, &[("A", s("1.5"))]));
    assert!(fires(d, &[("A", Value::Float(2.25))]));
    assert!(!fires(d, &[("A", s("abc"))]));
    let d = "    sel:\n        A|lt: '100'\n    condition: sel";
    assert!(fires(d, &[("A", s("0x10"))]));
    let d = "    sel:\n        A|lte: 3\n    condition: sel";
    assert!(fires(d, &[("A", Value::Int(3))]));
    assert!(!fires(d, &[("A", Value::Int(4))]));
    assert_eq!(
        problem("    sel:\n        A|lt: abc\n    condition: sel"),
        ProblemKind::Malformed
    );
}

#[test]
fn neq() {
    let d = "    sel:\n        A|neq:\n            - x\n            - y\n    condition: sel";
    assert!(fires(d, &[("A", s("z"))]));
    assert!(!fires(d, &[("A", s("X"))]));
    assert!(!fires(d, &[("B", s("z"))]), "absent field is not `neq`");
}

#[test]
fn expand_placeholders() {
    let text = rule("    sel:\n        User|expand: '%admins%'\n    condition: sel");
    let (set, problems) = RuleSet::from_str(&text, Path::new("t.yml"));
    assert!(set.is_empty());
    assert_eq!(problems[0].kind, ProblemKind::UnresolvedPlaceholder);
    let mut opts = LoadOptions::default();
    opts.placeholders
        .insert("admins".into(), vec!["root".into(), "adm_*".into()]);
    let (set, problems) = RuleSet::from_str_with(&text, Path::new("t.yml"), &opts);
    assert!(problems.is_empty());
    let (e, _) = Engine::compile(set, &IdentityMapping);
    let mut sc = e.scratch();
    let mut out = Vec::new();
    e.matches(&ev(&[("User", s("adm_bob"))]), &mut sc, &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    e.matches(&ev(&[("User", s("bob"))]), &mut sc, &mut out);
    assert!(out.is_empty());
}

#[test]
fn keywords_and_keyword_all() {
    let d = "    keywords:\n        - 'mimikatz'\n        - 'sekurlsa'\n    condition: keywords";
    assert!(fires(
        d,
        &[("A", s("x")), ("CommandLine", s("run Mimikatz.exe"))]
    ));
    assert!(!fires(d, &[("A", s("x"))]));
    let d = "    keywords:\n        '|all':\n            - 'foo'\n            - 'bar'\n    condition: keywords";
    assert!(fires(d, &[("A", s("foo")), ("B", s("xbarx"))]));
    assert!(!fires(d, &[("A", s("foo"))]));
}

#[test]
fn conditions() {
    let d = "    sel_a:\n        A: 1\n    sel_b:\n        B: 2\n    filter:\n        C: 3\n    condition: (1 of sel_*) and not filter";
    assert!(fires(d, &[("B", Value::Int(2))]));
    assert!(!fires(d, &[("B", Value::Int(2)), ("C", Value::Int(3))]));
    let d = "    sel_a:\n        A: 1\n    sel_b:\n        B: 2\n    condition: all of sel_*";
    assert!(!fires(d, &[("B", Value::Int(2))]));
    assert!(fires(d, &[("A", Value::Int(1)), ("B", Value::Int(2))]));
    let d = "    sel_a:\n        A: 1\n    sel_b:\n        B: 2\n    condition: 1 of them";
    assert!(fires(d, &[("A", Value::Int(1))]));
    let d = "    sel_a:\n        A: 1\n    sel_b:\n        B: 2\n    condition: all of them";
    assert!(!fires(d, &[("A", Value::Int(1))]));
}

#[test]
fn matched_fields_are_reported() {
    let e = engine_for("    sel:\n        A|contains: x\n        B: y\n    other:\n        C: z\n    condition: sel or other");
    let mut sc = e.scratch();
    let mut out = Vec::new();
    e.matches(
        &ev(&[("A", s("axa")), ("B", s("y")), ("D", s("z"))]),
        &mut sc,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].fields, vec!["A", "B"]);
}

#[test]
fn unsupported_and_unknown_are_problems() {
    assert_eq!(
        problem("    sel:\n        A|foo: x\n    condition: sel"),
        ProblemKind::UnknownModifier
    );
    assert_eq!(
        problem("    sel:\n        A: x\n    condition: sel | count() by B > 3"),
        ProblemKind::Unsupported
    );
    assert_eq!(
        problem("    sel:\n        A: x\n    b:\n        B: y\n    condition: sel near b"),
        ProblemKind::Unsupported
    );
    assert_eq!(
        problem("    sel:\n        A|minute: 5\n    condition: sel"),
        ProblemKind::Unsupported
    );
    assert_eq!(
        problem("    sel:\n        A|contains|startswith: x\n    condition: sel"),
        ProblemKind::Malformed
    );
    assert_eq!(
        problem("    sel:\n        A: x\n    condition: nothere"),
        ProblemKind::Malformed
    );
}

/// With many literals on one field the engine uses its automaton pre-filter;
/// results must be the same as plain evaluation.
#[test]
fn literal_prefilter_agrees_with_plain_evaluation() {
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "title: r{i}\nid: r{i}\ndetection:\n  sel:\n    CommandLine|contains: 'needle{i}x'\n  other:\n    Image|endswith: '\\\\tool{i}.exe'\n  condition: sel or other\n---\n"
        ));
    }
    text.push_str(
        "title: num\nid: num\ndetection:\n  sel:\n    CommandLine: 4625\n  condition: sel\n---\n",
    );
    text.push_str("title: neg\nid: neg\ndetection:\n  sel:\n    CommandLine|contains: 'needle7x'\n  f:\n    Image|endswith: '\\\\tool7.exe'\n  condition: sel and not f\n");
    let (set, problems) = RuleSet::from_str(&text, Path::new("many.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    let (e, _) = Engine::compile(set, &IdentityMapping);
    let mut sc = e.scratch();
    let ids = |fields: &[(&str, Value)], sc: &mut portcullis_sigma::Scratch| -> Vec<String> {
        let mut out = Vec::new();
        e.matches(&ev(fields), sc, &mut out);
        out.iter()
            .map(|m| e.rule_set().rules()[m.rule].id.clone().unwrap())
            .collect()
    };
    assert_eq!(
        ids(&[("CommandLine", s("run NEEDLE3X and needle12x"))], &mut sc),
        vec!["r3", "r12"]
    );
    assert_eq!(
        ids(
            &[
                ("CommandLine", s("needle7x")),
                ("Image", s("C:\\TOOL7.EXE"))
            ],
            &mut sc
        ),
        vec!["r7"]
    );
    assert_eq!(
        ids(&[("CommandLine", s("needle7x"))], &mut sc),
        vec!["r7", "neg"]
    );
    assert_eq!(
        ids(&[("CommandLine", Value::Int(4625))], &mut sc),
        vec!["num"]
    );
    assert_eq!(
        ids(
            &[("CommandLine", Value::List(vec![s("a"), s("needle5x")]))],
            &mut sc
        ),
        vec!["r5"]
    );
    assert!(ids(&[("CommandLine", s("needle"))], &mut sc).is_empty());
    assert!(
        ids(&[("Image", s("tool3.exe"))], &mut sc).is_empty(),
        "needs the backslash"
    );
}

#[test]
fn filter_meta_rules_exclude_matches() {
    let text = "title: base\nid: base-1\nname: base\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\\\rar.exe'\n  condition: sel\n---\ntitle: admins are fine\nlogsource: {product: windows, category: process_creation}\nfilter:\n  rules:\n    - base-1\n  selection:\n    User|startswith: 'adm_'\n  condition: selection\n---\ntitle: other logsource\nlogsource: {product: windows, category: file_event}\nfilter:\n  rules: [base]\n  selection:\n    User: 'bob'\n  condition: selection\n";
    let (set, problems) = RuleSet::from_str(text, Path::new("f.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(set.len(), 3);
    let (e, problems) = Engine::compile(set, &IdentityMapping);
    // the file_event filter does not fit the process_creation rule
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::UnknownReference);
    let mut sc = e.scratch();
    let mut out = Vec::new();
    e.matches(
        &ev(&[("Image", s("C:\\rar.exe")), ("User", s("bob"))]),
        &mut sc,
        &mut out,
    );
    assert_eq!(out.len(), 1);
    out.clear();
    e.matches(
        &ev(&[("Image", s("C:\\rar.exe")), ("User", s("ADM_bob"))]),
        &mut sc,
        &mut out,
    );
    assert!(out.is_empty());
}

/// Keyword rules are pre-filtered by one automaton over every field's
/// lowercased text; the verdicts must equal plain evaluation, also when one
/// scratch sees events with more, then fewer fields, and with keyword
/// searches mixed with selections, negations and numbers.
#[test]
fn keyword_prefilter_keeps_verdicts() {
    let rules = "title: a\nid: ka\nlogsource: {product: windows}\ndetection:\n  keywords: ['Failed password', 'Invalid User']\n  condition: keywords\n---\ntitle: b\nid: kb\nlogsource: {product: windows}\ndetection:\n  keywords: ['segfault']\n  sel: {A: x}\n  condition: keywords or sel\n---\ntitle: c\nid: kc\nlogsource: {product: windows}\ndetection:\n  keywords: ['1234']\n  filter: {B: y}\n  condition: keywords and not filter\n---\ntitle: d\nid: kd\nlogsource: {product: windows}\ndetection:\n  keywords: ['zzz']\n  condition: not keywords\n";
    let (set, problems) = RuleSet::from_str(rules, Path::new("k.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    let e = Engine::compile(set, &IdentityMapping).0;
    let mut sc = e.scratch();
    let mut ids = |fields: &[(&str, Value)]| -> Vec<String> {
        let mut out = Vec::new();
        e.matches(&ev(fields), &mut sc, &mut out);
        out.iter()
            .map(|m| e.rule_set().rules()[m.rule].id.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        ids(&[
            ("m", s("x")),
            ("n", s("y")),
            ("msg", s("FAILED PASSWORD for root")),
            ("pid", Value::Int(1234)),
        ]),
        ["ka", "kc", "kd"]
    );
    // fewer fields: the earlier event's texts must not count
    assert_eq!(ids(&[("m", s("nothing"))]), ["kd"]);
    assert_eq!(ids(&[("A", s("x"))]), ["kb", "kd"]);
    assert_eq!(ids(&[("A", s("kernel: segfault at 0"))]), ["kb", "kd"]);
    assert_eq!(ids(&[("B", s("y")), ("C", Value::Int(1234))]), ["kd"]);
    assert_eq!(
        ids(&[("L", Value::List(vec![s("a"), s("invalid user bob")]))]),
        ["ka", "kd"]
    );
    assert_eq!(ids(&[("Z", s("zzz"))]), Vec::<String>::new());
}

/// A conjunction is pre-filtered on its most selective side (here the
/// tools' names, not the one-byte `:`/`@` every line holds); the verdicts
/// stay those of plain evaluation whichever side is missing.
#[test]
fn conjunction_prefilter_keeps_verdicts() {
    let rules = "title: copy\nid: cp\nlogsource: {product: linux}\ndetection:\n  tools: ['scp ', 'rsync ', 'sftp ']\n  filter: ['@', ':']\n  condition: tools and filter\n---\ntitle: all\nid: al\nlogsource: {product: linux}\ndetection:\n  a:\n    M|contains: ['x', 'y']\n  b:\n    M|contains: 'new user'\n  condition: a and b\n";
    let (set, problems) = RuleSet::from_str(rules, Path::new("c.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    let e = Engine::compile(set, &IdentityMapping).0;
    let mut sc = e.scratch();
    let mut ids = |fields: &[(&str, Value)]| -> Vec<String> {
        let mut out = Vec::new();
        e.matches(&ev(fields), &mut sc, &mut out);
        out.iter()
            .map(|m| e.rule_set().rules()[m.rule].id.clone().unwrap_or_default())
            .collect()
    };
    assert_eq!(
        ids(&[("M", s("SCP /etc/shadow bob@10.0.0.1:/tmp"))]),
        ["cp"]
    );
    assert_eq!(
        ids(&[("M", s("scp /etc/shadow /tmp"))]),
        Vec::<String>::new()
    );
    assert_eq!(ids(&[("M", s("host: bob@x"))]), Vec::<String>::new());
    assert_eq!(ids(&[("M", s("new user: name=x"))]), ["al"]);
    assert_eq!(ids(&[("M", s("new user: name=bob"))]), Vec::<String>::new());
    assert_eq!(ids(&[("M", s("name=x"))]), Vec::<String>::new());
}

/// `*`-only wildcards are matched segment by segment; the verdicts are the
/// wildcard semantics (anchored ends, segments in order, no overlap).
#[test]
fn star_wildcards() {
    let d = |p: &str| format!("    sel:\n        A: '{p}'\n    condition: sel");
    let cases: &[(&str, &str, bool)] = &[
        ("wget * http*", "WGET -q HTTP://x", true),
        ("wget * http*", "curl wget -q http://x", false),
        ("*/bin/*sh -c*", "/usr/bin/bash -c id", true),
        ("*/bin/*sh -c*", "/usr/bin/bash", false),
        ("ab*ba", "aba", false),
        ("ab*ba", "abba", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxcyyb", false),
        ("*x*y", "zzxzzy", true),
        ("*x*y", "zzxzzyz", false),
        ("a?c*", "abcd", true),
        ("a?c*", "acd", false),
    ];
    for (pat, value, want) in cases {
        assert_eq!(
            fires(&d(pat), &[("A", s(value))]),
            *want,
            "{pat} on {value}"
        );
    }
    let k = "    keywords:\n        - 'failed * for * from'\n    condition: keywords";
    assert!(fires(
        k,
        &[("M", s("Failed password for root from 1.2.3.4"))]
    ));
    assert!(!fires(k, &[("M", s("Failed password for root"))]));
}

/// Keyword rules are pre-filtered by an automaton holding only the
/// literals some rule needs (`keywords|all` by its longest one; `':'` not
/// at all when the rule's other search is narrower): the results must be
/// those of plain evaluation, numbers and lists included.
#[test]
fn keyword_prefilter_agrees_with_plain_evaluation() {
    let text = "title: all\nid: all\ndetection:\n  keywords:\n    '|all':\n      - 'tmp/'\n      - 'jexws'\n  condition: keywords\n---\n\
title: copy\nid: copy\ndetection:\n  tools:\n    - 'scp '\n    - 'rsync '\n  filter:\n    - '@'\n    - ':'\n  condition: tools and filter\n---\n\
title: pid\nid: pid\ndetection:\n  keywords:\n    - '4242'\n  condition: keywords\n---\n\
title: listed\nid: listed\ndetection:\n  keywords:\n    - 'bad thing'\n  condition: keywords\n";
    let (set, problems) = RuleSet::from_str(text, Path::new("kw.yml"));
    assert!(problems.is_empty(), "{problems:?}");
    let (e, _) = Engine::compile(set, &IdentityMapping);
    let mut sc = e.scratch();
    let mut ids = |fields: &[(&str, Value)]| -> Vec<String> {
        let mut out = Vec::new();
        e.matches(&ev(fields), &mut sc, &mut out);
        out.iter()
            .map(|m| e.rule_set().rules()[m.rule].id.clone().unwrap())
            .collect()
    };
    assert_eq!(ids(&[("message", s("GET /TMP/x JEXWS4.jsp"))]), vec!["all"]);
    assert_eq!(
        ids(&[("a", s("/tmp/")), ("b", s("jexws"))]),
        vec!["all"],
        "the two keywords may sit in different fields"
    );
    assert!(ids(&[("message", s("jexws only"))]).is_empty());
    assert!(ids(&[("message", s("tmp/ only"))]).is_empty());
    assert_eq!(ids(&[("message", s("SCP a.txt bob@host"))]), vec!["copy"]);
    assert_eq!(ids(&[("message", s("rsync x y:/z"))]), vec!["copy"]);
    assert!(ids(&[("message", s("rsync x y"))]).is_empty());
    assert!(ids(&[("message", s("user bob: from 1.2.3.4"))]).is_empty());
    assert_eq!(ids(&[("pid", Value::Int(4242))]), vec!["pid"]);
    assert_eq!(
        ids(&[("m", Value::List(vec![s("x"), s("a BAD THING")]))]),
        vec!["listed"]
    );
}
