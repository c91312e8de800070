//! Loading the whole SigmaHQ tree (when /work/shared is present) and the
//! bundled fixture rules (always).

mod common;

use portcullis_sigma::{Engine, IdentityMapping, ProblemKind, RuleSet};
use std::collections::BTreeMap;
use std::time::Instant;

#[test]
fn full_sigmahq_tree_loads() {
    let Some(root) = common::shared() else { return };
    let sigma = root.join("sigma");
    let dirs = [
        "rules",
        "rules-threat-hunting",
        "rules-emerging-threats",
        "rules-placeholder",
        "unsupported",
    ];
    let mut total_rules = 0;
    let mut hunt_set = RuleSet::default();
    let mut total_problems = 0;
    for d in dirs {
        let t = Instant::now();
        let (set, problems) = RuleSet::load(&[sigma.join(d)]);
        let elapsed = t.elapsed();
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &problems {
            *by.entry(p.kind.as_str()).or_default() += 1;
        }
        println!(
            "{d}: {} rules loaded, {} problems {:?} in {:?}",
            set.len(),
            problems.len(),
            by,
            elapsed
        );
        for p in problems
            .iter()
            .filter(|p| !matches!(p.kind, ProblemKind::UnresolvedPlaceholder))
            .take(40)
        {
            println!("  {p}");
        }
        let t = Instant::now();
        let (engine, cproblems) = Engine::compile(set.clone(), &IdentityMapping);
        println!(
            "  compiled {} detections in {:?} ({} compile problems)",
            engine.active_detections(),
            t.elapsed(),
            cproblems.len()
        );
        total_rules += set.len();
        if matches!(
            d,
            "rules" | "rules-threat-hunting" | "rules-emerging-threats"
        ) {
            hunt_set.extend(set.clone());
        }
        total_problems += problems.len();
        match d {
            // no rule in rules/ may be rejected for an unknown modifier or a parse bug
            "rules" => {
                assert!(
                    set.len() >= 3100,
                    "only {} of 3,141 rules loaded",
                    set.len()
                );
                assert!(!by.contains_key("unknown-modifier"));
                assert!(
                    !by.contains_key("malformed"),
                    "malformed: {:?}",
                    problems
                        .iter()
                        .filter(|p| p.kind == ProblemKind::Malformed)
                        .collect::<Vec<_>>()
                );
            }
            // placeholders are unresolved without a placeholder map
            "rules-threat-hunting" => assert_eq!((set.len(), problems.len()), (140, 0)),
            "rules-emerging-threats" => assert_eq!(
                (set.len(), by.get("unresolved-placeholder").copied()),
                (471, Some(2))
            ),
            "rules-placeholder" => {
                assert!(by.get("unresolved-placeholder").copied().unwrap_or(0) > 0)
            }
            // legacy aggregations are reported, never loaded with a changed meaning
            "unsupported" => assert!(by.get("unsupported").copied().unwrap_or(0) >= 50),
            _ => {}
        }
    }
    println!("total: {total_rules} rules, {total_problems} problems");

    // regression data against the full tree (as Chainsaw was measured)
    let (engine, _) = Engine::compile(hunt_set, &IdentityMapping);
    let o = common::regression_run(&sigma.join("regression_data"), &engine);
    println!(
        "regression: {}/{} = {:.1} % (Hayabusa 96.0 %, Chainsaw 87.1 %); {} matches in all",
        o.hits,
        o.total,
        100.0 * o.hits as f64 / o.total.max(1) as f64,
        o.all_matches
    );
    for m in &o.misses {
        println!("miss: {} ({})", m.0, m.1);
    }
    let names: Vec<&str> = o.misses.iter().map(|m| m.0.as_str()).collect();
    let known: Vec<&str> = common::KNOWN_MISSES.iter().map(|m| m.0).collect();
    assert_eq!(names, known);
    assert_eq!(o.total, 202);
}
