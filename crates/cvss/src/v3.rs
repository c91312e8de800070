//! CVSS v3.0 and v3.1 base score (CVSS v3.1 Specification, section 7.1 and
//! Appendix A).

use crate::parse::{opt, parse_metrics, req, MetricDef};
use crate::CvssError;

const X: &str = "X";

const DEFS: [MetricDef; 22] = [
    req("AV", &["N", "A", "L", "P"]),
    req("AC", &["L", "H"]),
    req("PR", &["N", "L", "H"]),
    req("UI", &["N", "R"]),
    req("S", &["U", "C"]),
    req("C", &["H", "L", "N"]),
    req("I", &["H", "L", "N"]),
    req("A", &["H", "L", "N"]),
    opt("E", &[X, "U", "P", "F", "H"]),
    opt("RL", &[X, "O", "T", "W", "U"]),
    opt("RC", &[X, "U", "R", "C"]),
    opt("CR", &[X, "L", "M", "H"]),
    opt("IR", &[X, "L", "M", "H"]),
    opt("AR", &[X, "L", "M", "H"]),
    opt("MAV", &[X, "N", "A", "L", "P"]),
    opt("MAC", &[X, "L", "H"]),
    opt("MPR", &[X, "N", "L", "H"]),
    opt("MUI", &[X, "N", "R"]),
    opt("MS", &[X, "U", "C"]),
    opt("MC", &[X, "N", "L", "H"]),
    opt("MI", &[X, "N", "L", "H"]),
    opt("MA", &[X, "N", "L", "H"]),
];

const AV: [f64; 4] = [0.85, 0.62, 0.55, 0.2];
const AC: [f64; 2] = [0.77, 0.44];
const PR_UNCHANGED: [f64; 3] = [0.85, 0.62, 0.27];
const PR_CHANGED: [f64; 3] = [0.85, 0.68, 0.5];
const UI: [f64; 2] = [0.85, 0.62];
const CIA: [f64; 3] = [0.56, 0.22, 0.0];

fn weight<const K: usize>(table: &[f64; K], index: u8) -> f64 {
    table.get(usize::from(index)).copied().unwrap_or(0.0)
}

/// The CVSS v3.1 `Roundup` (Appendix A): the smallest number with one decimal
/// place that is at least `x`, computed on an integer scale so that binary
/// floating-point error (e.g. 4.000000000000001) does not push a score up by
/// 0.1.
pub(crate) fn roundup_v3_1(x: f64) -> f64 {
    // Scores are within [0, 10.8]; the cast cannot overflow.
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) as f64 + 1.0) / 10.0
    }
}

/// The CVSS v3.0 `Roundup` (v3.0 specification, section 8.1): the smallest
/// number with one decimal place that is at least `x`, as its reference
/// calculator computed it (`ceil(x × 10) / 10` in binary floating point).
/// Over all 2,592 base vectors it gives the same scores as the v3.1 function
/// and as exact decimal arithmetic.
pub(crate) fn roundup_v3_0(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// Score the metric part of a v3.x vector (after `CVSS:3.x/`).
/// `v3_1` selects the v3.1 rounding.
pub(crate) fn score(body: &str, v3_1: bool) -> Result<f64, CvssError> {
    let label = if v3_1 { "CVSS v3.1" } else { "CVSS v3.0" };
    let m = parse_metrics(body, &DEFS, label)?;
    let changed = m[4] == 1;
    let iss = 1.0
        - ((1.0 - weight(&CIA, m[5])) * (1.0 - weight(&CIA, m[6])) * (1.0 - weight(&CIA, m[7])));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let pr = if changed { &PR_CHANGED } else { &PR_UNCHANGED };
    let exploitability =
        8.22 * weight(&AV, m[0]) * weight(&AC, m[1]) * weight(pr, m[2]) * weight(&UI, m[3]);
    if impact <= 0.0 {
        return Ok(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Ok(if v3_1 {
        roundup_v3_1(raw)
    } else {
        roundup_v3_0(raw)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundup_matches_specification_examples() {
        // v3.1 specification, Appendix A.
        assert_eq!(roundup_v3_1(4.02), 4.1);
        assert_eq!(roundup_v3_1(4.00), 4.0);
        // The floating-point artefact Appendix A exists for.
        assert_eq!(roundup_v3_1(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup_v3_0(4.02), 4.1);
        assert_eq!(roundup_v3_0(4.00), 4.0);
        assert_eq!(roundup_v3_0(4.000_000_000_000_001), 4.1);
    }
}
