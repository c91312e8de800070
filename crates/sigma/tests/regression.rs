//! SigmaHQ regression data (all 202 labelled samples, copied into
//! tests/fixtures/regression with their rules): each sample must fire its
//! rule. The anchors: Hayabusa 194/202 (96.0 %), Chainsaw 176/202 (87.1 %).
//! The same check over the full SigmaHQ tree runs in `sigma_tree.rs`.

mod common;

use portcullis_sigma::{Engine, IdentityMapping, RuleSet};

#[test]
fn fixture_regression_samples_fire() {
    let fx = common::fixtures();
    let (set, problems) = RuleSet::load(&[fx.join("regression-rules")]);
    assert!(problems.is_empty(), "{problems:?}");
    let (engine, _) = Engine::compile(set, &IdentityMapping);
    let o = common::regression_run(&fx.join("regression"), &engine);
    for m in &o.misses {
        println!("miss: {} ({})", m.0, m.1);
    }
    assert_eq!(o.total, 202);
    let names: Vec<&str> = o.misses.iter().map(|m| m.0.as_str()).collect();
    let known: Vec<&str> = common::KNOWN_MISSES.iter().map(|m| m.0).collect();
    assert_eq!(names, known);
    assert_eq!(o.hits, 201);
    println!("{} rule matches over {} samples", o.all_matches, o.total);
    // most samples fire their own rule and a few related ones, not hundreds
    assert!(o.all_matches < 2 * o.total, "{} matches", o.all_matches);
}
