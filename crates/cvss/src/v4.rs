//! CVSS v4.0 score (CVSS v4.0 Specification, section 8, and the FIRST
//! reference calculator's algorithm): macro-vector equivalence classes
//! EQ1–EQ6, the macro-vector score table, severity distances from the
//! highest-severity vectors of the macro-vector, and interpolation towards
//! the next lower macro-vectors. Threat (`E`) and environmental metrics
//! (`CR`/`IR`/`AR`, `M*`) are taken into account, so a vector carrying them
//! gets its CVSS-BT/BE/BTE score; supplemental metrics are accepted and
//! ignored, as the specification says.

use crate::parse::{opt, parse_metrics, req, MetricDef, ABSENT};
use crate::CvssError;

const X: &str = "X";

// Metric positions in `DEFS`.
const AV: usize = 0;
const AC: usize = 1;
const AT: usize = 2;
const PR: usize = 3;
const UI: usize = 4;
const VC: usize = 5;
const VI: usize = 6;
const VA: usize = 7;
const SC: usize = 8;
const SI: usize = 9;
const SA: usize = 10;
const E: usize = 11;
const CR: usize = 12;
const IR: usize = 13;
const AR: usize = 14;
/// `M` + base metric sits at `MODIFIED_OFFSET + base index` (MAV … MSA).
const MODIFIED_OFFSET: usize = 15;

const DEFS: [MetricDef; 32] = [
    req("AV", &["N", "A", "L", "P"]),
    req("AC", &["L", "H"]),
    req("AT", &["N", "P"]),
    req("PR", &["N", "L", "H"]),
    req("UI", &["N", "P", "A"]),
    req("VC", &["H", "L", "N"]),
    req("VI", &["H", "L", "N"]),
    req("VA", &["H", "L", "N"]),
    req("SC", &["H", "L", "N"]),
    req("SI", &["H", "L", "N"]),
    req("SA", &["H", "L", "N"]),
    opt("E", &[X, "A", "P", "U"]),
    opt("CR", &[X, "H", "M", "L"]),
    opt("IR", &[X, "H", "M", "L"]),
    opt("AR", &[X, "H", "M", "L"]),
    opt("MAV", &[X, "N", "A", "L", "P"]),
    opt("MAC", &[X, "L", "H"]),
    opt("MAT", &[X, "N", "P"]),
    opt("MPR", &[X, "N", "L", "H"]),
    opt("MUI", &[X, "N", "P", "A"]),
    opt("MVC", &[X, "H", "L", "N"]),
    opt("MVI", &[X, "H", "L", "N"]),
    opt("MVA", &[X, "H", "L", "N"]),
    opt("MSC", &[X, "H", "L", "N"]),
    opt("MSI", &[X, "S", "H", "L", "N"]),
    opt("MSA", &[X, "S", "H", "L", "N"]),
    opt("S", &[X, "N", "P"]),
    opt("AU", &[X, "N", "Y"]),
    opt("R", &[X, "A", "U", "I"]),
    opt("V", &[X, "D", "C"]),
    opt("RE", &[X, "L", "M", "H"]),
    opt("U", &[X, "Clear", "Green", "Amber", "Red"]),
];

/// Macro-vector scores ×10, indexed by [`macro_index`]; 0 marks a
/// macro-vector that does not exist (EQ3 = 2 with EQ6 = 0). Data from the
/// CVSS v4.0 specification's lookup table.
const LOOKUP: [u8; 324] = [
    100, 99, 98, 95, 95, 92, 100, 96, 93, 87, 91, 81, 93, 90, 89, 80, 81, 68, 98, 95, 95, 92, 90,
    84, 93, 92, 89, 81, 81, 65, 88, 80, 78, 70, 69, 48, 0, 92, 0, 82, 0, 72, 0, 79, 0, 69, 0, 50,
    0, 69, 0, 55, 0, 27, 99, 97, 95, 92, 92, 85, 95, 91, 90, 83, 84, 71, 92, 81, 82, 71, 72, 53,
    95, 93, 92, 85, 85, 73, 92, 82, 80, 72, 70, 59, 84, 70, 71, 52, 50, 30, 0, 86, 0, 75, 0, 52, 0,
    71, 0, 52, 0, 29, 0, 63, 0, 29, 0, 17, 98, 95, 94, 87, 91, 81, 94, 89, 86, 74, 77, 64, 87, 75,
    74, 63, 63, 49, 94, 89, 88, 77, 76, 67, 86, 76, 74, 58, 59, 50, 72, 57, 57, 52, 52, 25, 0, 83,
    0, 70, 0, 54, 0, 65, 0, 58, 0, 26, 0, 53, 0, 21, 0, 13, 95, 90, 88, 76, 76, 70, 90, 77, 75, 62,
    61, 53, 77, 66, 68, 59, 52, 30, 89, 78, 76, 67, 62, 58, 74, 59, 57, 57, 47, 23, 61, 52, 57, 29,
    24, 16, 0, 71, 0, 59, 0, 30, 0, 58, 0, 26, 0, 15, 0, 23, 0, 13, 0, 6, 93, 87, 86, 72, 75, 58,
    86, 74, 74, 61, 56, 34, 70, 54, 52, 40, 40, 22, 85, 75, 74, 55, 62, 51, 72, 57, 55, 41, 46, 19,
    53, 36, 34, 19, 19, 8, 0, 64, 0, 51, 0, 20, 0, 47, 0, 21, 0, 11, 0, 24, 0, 9, 0, 4, 88, 75, 73,
    53, 60, 50, 73, 55, 59, 40, 41, 20, 54, 43, 45, 22, 20, 11, 75, 55, 58, 45, 40, 21, 61, 51, 48,
    18, 20, 9, 46, 18, 17, 7, 8, 2, 0, 53, 0, 24, 0, 14, 0, 24, 0, 12, 0, 5, 0, 10, 0, 3, 0, 1,
];

/// Position of a macro-vector in [`LOOKUP`], if all its digits are in range.
fn macro_index(eq: [usize; 6]) -> Option<usize> {
    const SIZES: [usize; 6] = [3, 2, 3, 3, 3, 2];
    let mut index = 0;
    for (digit, size) in eq.into_iter().zip(SIZES) {
        if digit >= size {
            return None;
        }
        index = index * size + digit;
    }
    Some(index)
}

/// The score of a macro-vector, or `None` if it does not exist.
fn lookup(eq: [usize; 6]) -> Option<f64> {
    let tenths = *LOOKUP.get(macro_index(eq)?)?;
    (tenths != 0).then(|| f64::from(tenths) / 10.0)
}

/// Effective metric values (one ASCII letter each) after applying the
/// specification's defaults and modified metrics.
struct Effective([u8; 15]);

impl Effective {
    fn new(m: &[u8; 32]) -> Self {
        let letter = |slot: usize| -> u8 {
            m.get(slot)
                .filter(|v| **v != ABSENT)
                .and_then(|v| DEFS.get(slot)?.values.get(usize::from(*v)))
                .and_then(|s| s.as_bytes().first().copied())
                .unwrap_or(b'X')
        };
        let mut out = [b'X'; 15];
        for (slot, value) in out.iter_mut().enumerate() {
            *value = letter(slot);
        }
        // Modified base metrics override the base values unless `X`.
        for (base, value) in out.iter_mut().enumerate().take(SA + 1) {
            let modified = letter(MODIFIED_OFFSET + base);
            if modified != b'X' {
                *value = modified;
            }
        }
        // E:X means the worst case E:A; CR/IR/AR:X mean the worst case H.
        if out[E] == b'X' {
            out[E] = b'A';
        }
        for slot in [CR, IR, AR] {
            if out[slot] == b'X' {
                out[slot] = b'H';
            }
        }
        Effective(out)
    }

    fn get(&self, slot: usize) -> u8 {
        self.0.get(slot).copied().unwrap_or(b'X')
    }

    fn is(&self, slot: usize, letter: u8) -> bool {
        self.get(slot) == letter
    }
}

/// Severity level of a metric value, as in the reference calculator.
fn level(slot: usize, letter: u8) -> f64 {
    match (slot, letter) {
        (AV, b'N') | (PR, b'N') | (UI, b'N') | (AC, b'L') | (AT, b'N') => 0.0,
        (AV, b'A') | (PR, b'L') | (UI, b'P') | (AC, b'H') | (AT, b'P') => 0.1,
        (AV, b'L') | (PR, b'H') | (UI, b'A') => 0.2,
        (AV, b'P') => 0.3,
        (VC | VI | VA | CR | IR | AR, b'H') => 0.0,
        (VC | VI | VA, b'L') | (CR | IR | AR, b'M') => 0.1,
        (VC | VI | VA, b'N') | (CR | IR | AR, b'L') => 0.2,
        (SI | SA, b'S') => 0.0,
        (SC | SI | SA, b'H') => 0.1,
        (SC | SI | SA, b'L') => 0.2,
        (SC | SI | SA, b'N') => 0.3,
        _ => 0.0,
    }
}

/// Highest-severity vectors of each macro-vector level, per EQ group.
/// Each entry lists the group's metric values in `*_METRICS` order.
const EQ1_METRICS: [usize; 3] = [AV, PR, UI];
const EQ1_MAX: [&[&[u8; 3]]; 3] = [&[b"NNN"], &[b"ANN", b"NLN", b"NNP"], &[b"PNN", b"ALP"]];
const EQ2_METRICS: [usize; 2] = [AC, AT];
const EQ2_MAX: [&[&[u8; 2]]; 2] = [&[b"LN"], &[b"HN", b"LP"]];
const EQ3_EQ6_METRICS: [usize; 6] = [VC, VI, VA, CR, IR, AR];
/// Indexed `[eq3][eq6]`.
const EQ3_EQ6_MAX: [[&[&[u8; 6]]; 2]; 3] = [
    [&[b"HHHHHH"], &[b"HHLMMH", b"HHHMMM"]],
    [
        &[b"LHHHHH", b"HLHHHH"],
        &[b"LHLHMH", b"LHHHMM", b"HLHMHM", b"HLLMHH", b"LLHHHM"],
    ],
    [&[], &[b"LLLHHH"]],
];
const EQ4_METRICS: [usize; 3] = [SC, SI, SA];
const EQ4_MAX: [&[&[u8; 3]]; 3] = [&[b"HSS"], &[b"HHH"], &[b"LLL"]];

/// Maximal severity depth of each macro-vector level (×0.1 when used).
const EQ1_DEPTH: [f64; 3] = [1.0, 4.0, 5.0];
const EQ2_DEPTH: [f64; 2] = [1.0, 2.0];
/// Indexed `[eq3][eq6]`; EQ3 = 2 with EQ6 = 0 does not exist.
const EQ3_EQ6_DEPTH: [[f64; 2]; 3] = [[7.0, 6.0], [8.0, 8.0], [f64::NAN, 10.0]];
const EQ4_DEPTH: [f64; 3] = [6.0, 5.0, 4.0];

/// Per-metric severity distances of `eff` from the first highest-severity
/// vector of the group that is at least as severe in every metric (falling
/// back to the last candidate, as the reference calculator does).
fn distances<const K: usize>(
    eff: &Effective,
    metrics: &[usize; K],
    candidates: &[&[u8; K]],
) -> [f64; K] {
    let mut result = [0.0; K];
    for candidate in candidates {
        for (i, (slot, max)) in metrics.iter().zip(candidate.iter()).enumerate() {
            result[i] = level(*slot, eff.get(*slot)) - level(*slot, *max);
        }
        if result.iter().all(|d| *d >= 0.0) {
            break;
        }
    }
    result
}

/// Left-to-right sum, matching the reference calculator's evaluation order.
fn sum(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |acc, v| acc + v)
}

/// Score the metric part of a v4.0 vector (after `CVSS:4.0/`).
pub(crate) fn score(body: &str) -> Result<f64, CvssError> {
    let m = parse_metrics(body, &DEFS, "CVSS v4.0")?;
    let eff = Effective::new(&m);
    Ok(score_effective(&eff))
}

fn score_effective(eff: &Effective) -> f64 {
    let is = |slot, letter| eff.is(slot, letter);

    // No impact on the vulnerable nor on subsequent systems.
    if [VC, VI, VA, SC, SI, SA].into_iter().all(|s| is(s, b'N')) {
        return 0.0;
    }

    let (av_n, pr_n, ui_n) = (is(AV, b'N'), is(PR, b'N'), is(UI, b'N'));
    let eq1 = if av_n && pr_n && ui_n {
        0
    } else if (av_n || pr_n || ui_n) && !is(AV, b'P') {
        1
    } else {
        2
    };
    let eq2 = if is(AC, b'L') && is(AT, b'N') { 0 } else { 1 };
    let (vc_h, vi_h, va_h) = (is(VC, b'H'), is(VI, b'H'), is(VA, b'H'));
    let eq3 = if vc_h && vi_h {
        0
    } else if vc_h || vi_h || va_h {
        1
    } else {
        2
    };
    let eq4 = if is(SI, b'S') || is(SA, b'S') {
        0
    } else if is(SC, b'H') || is(SI, b'H') || is(SA, b'H') {
        1
    } else {
        2
    };
    let eq5 = match eff.get(E) {
        b'P' => 1,
        b'U' => 2,
        _ => 0,
    };
    let eq6 = if (is(CR, b'H') && vc_h) || (is(IR, b'H') && vi_h) || (is(AR, b'H') && va_h) {
        0
    } else {
        1
    };

    let Some(value) = lookup([eq1, eq2, eq3, eq4, eq5, eq6]) else {
        // Unreachable for a parsed vector; a conservative fallback.
        return 0.0;
    };

    // Scores of the next lower macro-vectors (None when there is none).
    let lower_eq1 = lookup([eq1 + 1, eq2, eq3, eq4, eq5, eq6]);
    let lower_eq2 = lookup([eq1, eq2 + 1, eq3, eq4, eq5, eq6]);
    let lower_eq3eq6 = match (eq3, eq6) {
        (1, 1) | (0, 1) => lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6]),
        (1, 0) => lookup([eq1, eq2, eq3, eq4, eq5, eq6 + 1]),
        (0, 0) => {
            let left = lookup([eq1, eq2, eq3, eq4, eq5, eq6 + 1]);
            let right = lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6]);
            match (left, right) {
                (Some(l), Some(r)) => Some(l.max(r)),
                (l, r) => l.or(r),
            }
        }
        _ => lookup([eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1]),
    };
    let lower_eq4 = lookup([eq1, eq2, eq3, eq4 + 1, eq5, eq6]);
    let lower_eq5 = lookup([eq1, eq2, eq3, eq4, eq5 + 1, eq6]);

    // Severity distances from the macro-vector's highest-severity vector.
    let d1 = distances(eff, &EQ1_METRICS, EQ1_MAX.get(eq1).copied().unwrap_or(&[]));
    let d2 = distances(eff, &EQ2_METRICS, EQ2_MAX.get(eq2).copied().unwrap_or(&[]));
    let d36 = distances(
        eff,
        &EQ3_EQ6_METRICS,
        EQ3_EQ6_MAX
            .get(eq3)
            .and_then(|row| row.get(eq6))
            .copied()
            .unwrap_or(&[]),
    );
    let d4 = distances(eff, &EQ4_METRICS, EQ4_MAX.get(eq4).copied().unwrap_or(&[]));

    const STEP: f64 = 0.1;
    let depth1 = EQ1_DEPTH.get(eq1).copied().unwrap_or(f64::NAN) * STEP;
    let depth2 = EQ2_DEPTH.get(eq2).copied().unwrap_or(f64::NAN) * STEP;
    let depth36 = EQ3_EQ6_DEPTH
        .get(eq3)
        .and_then(|row| row.get(eq6))
        .copied()
        .unwrap_or(f64::NAN)
        * STEP;
    let depth4 = EQ4_DEPTH.get(eq4).copied().unwrap_or(f64::NAN) * STEP;

    let mut existing = 0u32;
    let mut total = 0.0;
    let mut add = |lower: Option<f64>, distance: f64, depth: f64| {
        if let Some(lower) = lower {
            existing += 1;
            total += (value - lower) * (distance / depth);
        }
    };
    add(lower_eq1, sum(&d1), depth1);
    add(lower_eq2, sum(&d2), depth2);
    add(lower_eq3eq6, sum(&d36), depth36);
    add(lower_eq4, sum(&d4), depth4);
    // EQ5's proportion is always 0, but an existing lower macro-vector still
    // counts towards the mean.
    if lower_eq5.is_some() {
        existing += 1;
    }
    let mean = if existing == 0 {
        0.0
    } else {
        total / f64::from(existing)
    };
    round_one_decimal((value - mean).clamp(0.0, 10.0))
}

/// Round half up to one decimal place, after lifting the value by 10⁻⁶.
///
/// The interpolation above is done in binary floating point, so a score that
/// is exactly `x.x5` in decimal arithmetic can come out one ULP below (for
/// example 8.6 − 7.15 = 1.4499999999999993). The lift makes such ties round
/// up as the specification intends; it is the rounding adopted by the FIRST
/// reference calculator (cvss-v4-calculator PR #67) and the RedHat `cvss`
/// library (PR #65). Genuine scores never lie within 10⁻⁶ below a tie.
fn round_one_decimal(x: f64) -> f64 {
    const LIFT: f64 = 1e-6;
    ((x + LIFT) * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_table_has_the_270_macro_vectors_of_the_specification() {
        assert_eq!(LOOKUP.iter().filter(|v| **v != 0).count(), 270);
        assert_eq!(lookup([0, 0, 0, 0, 0, 0]), Some(10.0));
        assert_eq!(lookup([1, 1, 1, 1, 1, 0]), Some(5.7));
        assert_eq!(lookup([2, 1, 2, 2, 2, 1]), Some(0.1));
        // EQ3 = 2 only exists with EQ6 = 1.
        assert_eq!(lookup([0, 0, 2, 0, 0, 0]), None);
        // Out-of-range digits are "no such macro-vector".
        assert_eq!(lookup([3, 0, 0, 0, 0, 0]), None);
        assert_eq!(lookup([0, 0, 3, 0, 0, 2]), None);
    }

    #[test]
    fn rounding_lifts_float_ties() {
        // 8.6 - 7.15 is 1.4499999999999993 in binary floating point.
        assert_eq!(round_one_decimal(8.6 - 7.15), 1.5);
        assert_eq!(round_one_decimal(1.44), 1.4);
        assert_eq!(round_one_decimal(10.0), 10.0);
        assert_eq!(round_one_decimal(0.0), 0.0);
    }
}
