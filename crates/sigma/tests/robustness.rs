//! Malformed and hostile rule text gives problems, never panics.

use portcullis_sigma::{Engine, IdentityMapping, ProblemKind, RuleSet};
use std::path::Path;

fn load(text: &str) -> (RuleSet, Vec<portcullis_sigma::RuleProblem>) {
    RuleSet::from_str(text, Path::new("bad.yml"))
}

#[test]
fn yaml_errors_are_reported_with_lines() {
    let (set, problems) = load("title: ok\ndetection:\n  sel: [unclosed\n  condition: sel\n");
    assert!(set.is_empty());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::Yaml);
    assert!(problems[0].line >= 3, "{:?}", problems[0]);
    let d = problems[0].to_diagnostic();
    assert_eq!(d.path, "bad.yml");
}

#[test]
fn good_documents_survive_a_bad_one() {
    let text = "title: a\nid: a\nlogsource: {product: windows}\ndetection:\n  sel: {A: 1}\n  condition: sel\n---\ntitle: b\nid: b\ndetection:\n  sel: {A|nosuch: 1}\n  condition: sel\n---\ntitle: c\nid: c\ndetection:\n  sel: {A: 1}\n  condition: sel\n";
    let (set, problems) = load(text);
    assert_eq!(set.len(), 2);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].rule_id.as_deref(), Some("b"));
    assert_eq!(problems[0].title.as_deref(), Some("b"));
    assert_eq!(problems[0].line, 8);
    assert_eq!(problems[0].kind, ProblemKind::UnknownModifier);
}

#[test]
fn duplicate_ids_are_reported() {
    let one = "title: a\nid: same\ndetection:\n  sel: {A: 1}\n  condition: sel\n";
    let (set, problems) = load(&format!("{one}---\n{one}"));
    assert_eq!(set.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::DuplicateId);
}

#[test]
fn hostile_inputs_do_not_panic() {
    let deep_flow = format!(
        "title: x\ndetection: {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_block: String = (0..3000)
        .map(|i| format!("{}- \n", " ".repeat(i)))
        .collect();
    let dashes = format!(
        "title: x\ndetection:\n  sel:\n    A: {}\n  condition: sel\n",
        "- ".repeat(50_000)
    );
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let cond = format!(
        "title: x\ndetection:\n  sel: {{A: 1}}\n  condition: {}sel{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let windash = format!(
        "title: x\ndetection:\n  sel:\n    A|windash: '{}'\n  condition: sel\n",
        " -a".repeat(40)
    );
    let inputs: Vec<String> = vec![
        String::new(),
        "\u{0}\u{1}garbage: [".into(),
        ": : :".into(),
        "title: [1, 2]\ndetection: 5".into(),
        "- a\n- b".into(),
        "title: x\ndetection:\n  condition: 5\n".into(),
        "title: x\ndetection:\n  sel: []\n  condition: sel\n".into(),
        "title: x\ndetection:\n  sel: {A: [[1]]}\n  condition: sel\n".into(),
        "title: x\ncorrelation:\n  type: event_count\n  rules: x\n  timespan: 99999999999999999999d\n".into(),
        "title: x\ncorrelation:\n  type: value_count\n  rules: [x]\n  timespan: 5m\n  condition: {gte: 1}\n".into(),
        "title: x\ncorrelation: {type: temporal, rules: [x], timespan: '-5m'}\n".into(),
        "title: x\nfilter: {rules: [], condition: sel}\n".into(),
        "title: x\nlevel: extreme\ndetection: {sel: {A: 1}, condition: sel}\n".into(),
        "*alias_without_anchor".into(),
        deep_flow,
        deep_block,
        dashes,
        laughs.into(),
        cond,
        windash,
    ];
    for text in &inputs {
        let (set, problems) = load(text);
        // every input here is invalid as a rule
        assert!(set.is_empty(), "accepted: {text:.80}");
        assert!(
            !problems.is_empty() || text.trim().is_empty() || text.starts_with("- a"),
            "silent: {text:.80}"
        );
        let _ = Engine::compile(set, &IdentityMapping);
    }
    // truncations of a real rule at every byte boundary
    let rule = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/correlation/rules/t8_temporal_ordered_chain.yml"),
    )
    .unwrap();
    for cut in 0..rule.len() {
        if rule.is_char_boundary(cut) {
            let (set, _) = load(&rule[..cut]);
            let _ = Engine::compile(set, &IdentityMapping);
        }
    }
}

#[test]
fn correlation_references_are_checked() {
    let text = "title: c\nid: c\ncorrelation:\n  type: event_count\n  rules: [missing]\n  group-by: [A]\n  timespan: 5m\n  condition: {gte: 2}\n";
    let (set, problems) = load(text);
    assert!(problems.is_empty());
    let (engine, problems) = Engine::compile(set, &IdentityMapping);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::UnknownReference);
    assert_eq!(engine.active_correlations(), 0);
    // a cycle of correlations
    let cyc = "title: a\nid: a\ncorrelation: {type: event_count, rules: [b], group-by: [A], timespan: 5m, condition: {gte: 2}}\n---\ntitle: b\nid: b\ncorrelation: {type: event_count, rules: [a], group-by: [A], timespan: 5m, condition: {gte: 2}}\n";
    let (set, _) = load(cyc);
    let (engine, problems) = Engine::compile(set, &IdentityMapping);
    assert_eq!(problems.len(), 2);
    assert_eq!(engine.active_correlations(), 0);
    // value_percentile is reported, not silently changed
    let p = "title: p\ncorrelation: {type: value_percentile, rules: [x], group-by: [A], timespan: 5m, condition: {field: F, lte: 1}}\n";
    let (_, problems) = load(p);
    assert_eq!(problems[0].kind, ProblemKind::Unsupported);
}
