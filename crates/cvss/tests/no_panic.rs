//! Property tests: no input makes the scorer panic, and every score it
//! returns is a valid CVSS score with one decimal place.

use portcullis_cvss::base_score;
use proptest::prelude::*;

fn check(kind: &str, vector: &str) {
    if let Ok(score) = base_score(kind, vector) {
        assert!((0.0..=10.0).contains(&score.base), "{vector}: {score:?}");
        let tenths = score.base * 10.0;
        assert_eq!(tenths, tenths.round(), "{vector}: {score:?}");
    }
}

const KINDS: [&str; 4] = ["CVSS_V2", "CVSS_V3", "CVSS_V4", ""];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_strings_never_panic(kind in 0usize..4, vector in ".{0,200}") {
        check(KINDS[kind], &vector);
    }

    #[test]
    fn vector_like_strings_never_panic(
        kind in 0usize..4,
        prefix in prop::sample::select(vec!["", "CVSS:2.0/", "CVSS:3.0/", "CVSS:3.1/", "CVSS:4.0/", "CVSS:", "("]),
        parts in prop::collection::vec(
            ("[A-Za-z]{0,3}", "[A-Za-z:]{0,3}"),
            0..40,
        ),
    ) {
        let body: Vec<String> = parts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        check(KINDS[kind], &format!("{prefix}{}", body.join("/")));
    }

    /// Valid v4 vectors built from the metric grammar always score.
    #[test]
    fn well_formed_v4_vectors_score(
        base in prop::collection::vec(0usize..4, 11),
        extra in prop::collection::vec(0usize..5, 15),
    ) {
        const BASE: [(&str, &[&str]); 11] = [
            ("AV", &["N", "A", "L", "P"]), ("AC", &["L", "H"]), ("AT", &["N", "P"]),
            ("PR", &["N", "L", "H"]), ("UI", &["N", "P", "A"]), ("VC", &["H", "L", "N"]),
            ("VI", &["H", "L", "N"]), ("VA", &["H", "L", "N"]), ("SC", &["H", "L", "N"]),
            ("SI", &["H", "L", "N"]), ("SA", &["H", "L", "N"]),
        ];
        const EXTRA: [(&str, &[&str]); 15] = [
            ("E", &["X", "A", "P", "U"]), ("CR", &["X", "H", "M", "L"]),
            ("IR", &["X", "H", "M", "L"]), ("AR", &["X", "H", "M", "L"]),
            ("MAV", &["X", "N", "A", "L", "P"]), ("MAC", &["X", "L", "H"]),
            ("MAT", &["X", "N", "P"]), ("MPR", &["X", "N", "L", "H"]),
            ("MUI", &["X", "N", "P", "A"]), ("MVC", &["X", "H", "L", "N"]),
            ("MVI", &["X", "H", "L", "N"]), ("MVA", &["X", "H", "L", "N"]),
            ("MSC", &["X", "H", "L", "N"]), ("MSI", &["X", "S", "H", "L", "N"]),
            ("MSA", &["X", "S", "H", "L", "N"]),
        ];
        let mut parts = Vec::new();
        for ((name, values), pick) in BASE.iter().zip(&base) {
            parts.push(format!("{name}:{}", values[pick % values.len()]));
        }
        for ((name, values), pick) in EXTRA.iter().zip(&extra) {
            parts.push(format!("{name}:{}", values[pick % values.len()]));
        }
        let vector = format!("CVSS:4.0/{}", parts.join("/"));
        let score = base_score("CVSS_V4", &vector);
        prop_assert!(score.is_ok(), "{vector}: {score:?}");
        check("CVSS_V4", &vector);
    }
}
