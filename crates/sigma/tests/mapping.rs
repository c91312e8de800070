//! Compilation against a caller's mapping: field renames, logsource
//! preconditions used for dispatch, unsupported logsources.

use portcullis_events::{Event, LogKind, Origin, Value};
use portcullis_sigma::{
    Engine, FieldMapping, LogSource, ProblemKind, RuleSet, SourceFilter, SourceMatch,
};
use std::path::Path;
use std::sync::Arc;

struct Map;

impl FieldMapping for Map {
    fn fields(&self, ls: &LogSource, field: &str) -> Vec<String> {
        match (ls.category.as_deref(), field) {
            // 4688 names the image differently; try Sysmon's name first
            (Some("process_creation"), "Image") => vec!["Image".into(), "NewProcessName".into()],
            _ => Vec::new(),
        }
    }
    fn source(&self, ls: &LogSource) -> SourceMatch {
        match (ls.category.as_deref(), ls.service.as_deref()) {
            (Some("process_creation"), _) => SourceMatch::Only(vec![
                SourceFilter {
                    kind: Some(LogKind::Windows),
                    conditions: vec![
                        (
                            "Channel".into(),
                            vec!["Microsoft-Windows-Sysmon/Operational".into()],
                        ),
                        ("EventID".into(), vec!["1".into()]),
                    ],
                },
                SourceFilter {
                    kind: Some(LogKind::Windows),
                    conditions: vec![
                        ("Channel".into(), vec!["Security".into()]),
                        ("EventID".into(), vec!["4688".into()]),
                    ],
                },
            ]),
            (_, Some("sshd")) => SourceMatch::Only(vec![SourceFilter {
                kind: Some(LogKind::LinuxAuth),
                conditions: vec![],
            }]),
            _ => SourceMatch::Unsupported,
        }
    }
}

fn ev(kind: LogKind, fields: &[(&str, Value)]) -> Event {
    Event {
        origin: Origin {
            file: Arc::from("t"),
            record_id: None,
            line: None,
            seq: 0,
        },
        time: None,
        kind,
        fields: fields
            .iter()
            .map(|(k, v)| (portcullis_events::field_name(k), v.clone()))
            .collect(),
    }
}

const RULES: &str = "title: proc\nid: p\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\\\evil.exe'\n  condition: sel\n---\ntitle: ssh\nid: s\nlogsource: {product: linux, service: sshd}\ndetection:\n  keywords: ['Failed password']\n  condition: keywords\n---\ntitle: dns\nid: d\nlogsource: {product: windows, category: dns_query}\ndetection:\n  sel: {QueryName: x}\n  condition: sel\n";

#[test]
fn mapping_renames_dispatches_and_reports() {
    let (set, problems) = RuleSet::from_str(RULES, Path::new("m.yml"));
    assert!(problems.is_empty());
    let (engine, problems) = Engine::compile(set, &Map);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::UnmappedLogsource);
    assert_eq!(problems[0].rule_id.as_deref(), Some("d"));
    assert_eq!(engine.active_detections(), 2);
    let mut sc = engine.scratch();
    let mut out = Vec::new();
    let s = |v: &str| Value::Str(v.into());
    let cases = [
        (
            ev(
                LogKind::Windows,
                &[
                    ("Channel", s("Microsoft-Windows-Sysmon/Operational")),
                    ("EventID", Value::Int(1)),
                    ("Image", s("C:\\evil.exe")),
                ],
            ),
            Some("p"),
        ),
        (
            ev(
                LogKind::Windows,
                &[
                    ("Channel", s("security")),
                    ("EventID", Value::Int(4688)),
                    ("NewProcessName", s("C:\\EVIL.exe")),
                ],
            ),
            Some("p"),
        ),
        // right field, wrong EventID / channel / kind
        (
            ev(
                LogKind::Windows,
                &[
                    ("Channel", s("Security")),
                    ("EventID", Value::Int(4689)),
                    ("NewProcessName", s("C:\\evil.exe")),
                ],
            ),
            None,
        ),
        (
            ev(
                LogKind::Windows,
                &[
                    ("Channel", s("System")),
                    ("EventID", Value::Int(4688)),
                    ("NewProcessName", s("C:\\evil.exe")),
                ],
            ),
            None,
        ),
        (
            ev(
                LogKind::Json,
                &[
                    ("Channel", s("Security")),
                    ("EventID", Value::Int(4688)),
                    ("NewProcessName", s("C:\\evil.exe")),
                ],
            ),
            None,
        ),
        (
            ev(
                LogKind::LinuxAuth,
                &[(
                    "message",
                    s("Failed password for root from 1.2.3.4 port 22 ssh2"),
                )],
            ),
            Some("s"),
        ),
        (
            ev(
                LogKind::Windows,
                &[("message", s("Failed password for root"))],
            ),
            None,
        ),
    ];
    for (i, (e, want)) in cases.iter().enumerate() {
        out.clear();
        engine.matches(e, &mut sc, &mut out);
        let got: Vec<&str> = out
            .iter()
            .map(|m| engine.rule_set().rules()[m.rule].id.as_deref().unwrap())
            .collect();
        assert_eq!(got, want.iter().copied().collect::<Vec<_>>(), "case {i}");
    }
    // the matched field is the event's own name
    out.clear();
    engine.matches(&cases[1].0, &mut sc, &mut out);
    assert_eq!(out[0].fields, vec!["NewProcessName"]);
}

#[test]
fn engine_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Engine>();
    assert_send_sync::<RuleSet>();
    fn assert_send<T: Send>() {}
    assert_send::<portcullis_sigma::Scratch>();
}
