//! Cross-check against the RedHatProductSecurity `cvss` Python library
//! (version 3.6): every vector in the fixtures was scored by it with
//! `fixtures/gen_expected.py`, and our score must be identical.

use portcullis_cvss::{base_score, CvssVersion};

/// Vectors on which we knowingly disagree with the reference library, with
/// our score. Empty: none so far.
const KNOWN_DISAGREEMENTS: &[(&str, f64)] = &[];

struct Case<'a> {
    kind: &'a str,
    vector: &'a str,
    expected: f64,
}

fn cases(tsv: &str) -> Vec<Case<'_>> {
    tsv.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let (Some(kind), Some(vector), Some(expected), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                panic!("bad fixture line {line:?}");
            };
            let expected = expected
                .parse()
                .unwrap_or_else(|_| panic!("bad expected score in {line:?}"));
            Case {
                kind,
                vector,
                expected,
            }
        })
        .collect()
}

/// Scores every case; returns the mismatches as readable lines.
fn mismatches(cases: &[Case<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for case in cases {
        let known = KNOWN_DISAGREEMENTS
            .iter()
            .find(|(v, _)| *v == case.vector)
            .map(|(_, s)| *s);
        match base_score(case.kind, case.vector) {
            Ok(score) => {
                let want = known.unwrap_or(case.expected);
                if score.base != want {
                    out.push(format!(
                        "{} {}: got {}, reference {}",
                        case.kind, case.vector, score.base, case.expected
                    ));
                }
            }
            Err(e) => out.push(format!("{} {}: error {e}", case.kind, case.vector)),
        }
    }
    out
}

fn count(cases: &[Case<'_>], kind: &str) -> usize {
    cases.iter().filter(|c| c.kind == kind).count()
}

#[test]
fn every_osv_corpus_vector_matches_reference_library() {
    let cases = cases(include_str!("fixtures/osv-vectors.tsv"));
    // The corpus has no CVSS_V2 vectors; these counts pin the fixture.
    assert_eq!(cases.len(), 759);
    assert_eq!(count(&cases, "CVSS_V3"), 446);
    assert_eq!(count(&cases, "CVSS_V4"), 313);
    let bad = mismatches(&cases);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn osv_corpus_versions_are_detected() {
    let cases = cases(include_str!("fixtures/osv-vectors.tsv"));
    for case in &cases {
        let version = base_score(case.kind, case.vector).map(|s| s.version).ok();
        let want = if case.vector.starts_with("CVSS:3.0/") {
            CvssVersion::V3_0
        } else if case.vector.starts_with("CVSS:3.1/") {
            CvssVersion::V3_1
        } else {
            CvssVersion::V4_0
        };
        assert_eq!(version, Some(want), "{}", case.vector);
    }
}

#[test]
fn every_v2_and_v3_base_vector_and_v4_sample_matches_reference_library() {
    let cases = cases(include_str!("fixtures/synthetic-vectors.tsv"));
    assert_eq!(count(&cases, "CVSS_V2"), 729);
    assert_eq!(count(&cases, "CVSS_V3"), 2 * 2592);
    assert_eq!(count(&cases, "CVSS_V4"), 3000);
    let bad = mismatches(&cases);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
