//! CVSS v2.0 base score (CVSS v2 Complete Guide, section 3.2.1).
//!
//! Computed in exact fixed-point integer arithmetic, so the "round to one
//! decimal" step never suffers from binary floating-point artefacts.

use crate::parse::{opt, parse_metrics, req, MetricDef};
use crate::CvssError;

const ND: &str = "ND";

const DEFS: [MetricDef; 14] = [
    req("AV", &["L", "A", "N"]),
    req("AC", &["H", "M", "L"]),
    req("Au", &["M", "S", "N"]),
    req("C", &["N", "P", "C"]),
    req("I", &["N", "P", "C"]),
    req("A", &["N", "P", "C"]),
    opt("E", &["U", "POC", "F", "H", ND]),
    opt("RL", &["OF", "TF", "W", "U", ND]),
    opt("RC", &["UC", "UR", "C", ND]),
    opt("CDP", &["N", "L", "LM", "MH", "H", ND]),
    opt("TD", &["N", "L", "M", "H", ND]),
    opt("CR", &["L", "M", "H", ND]),
    opt("IR", &["L", "M", "H", ND]),
    opt("AR", &["L", "M", "H", ND]),
];

/// Access Vector weights ×1000, indexed like `DEFS[0].values`.
const AV: [i128; 3] = [395, 646, 1000];
/// Access Complexity weights ×100.
const AC: [i128; 3] = [35, 61, 71];
/// Authentication weights ×1000.
const AU: [i128; 3] = [450, 560, 704];
/// Confidentiality/Integrity/Availability impact weights ×1000.
const CIA: [i128; 3] = [0, 275, 660];

fn weight(table: &[i128; 3], index: u8) -> i128 {
    table.get(usize::from(index)).copied().unwrap_or(0)
}

/// Score the metric part of a v2 vector (no prefix, no parentheses).
pub(crate) fn score(body: &str) -> Result<f64, CvssError> {
    let m = parse_metrics(body, &DEFS, "CVSS v2")?;
    let one_minus = |i: usize| 1000 - weight(&CIA, m[i]);
    // (1 - C)(1 - I)(1 - A), scale 10^9.
    let untouched = one_minus(3) * one_minus(4) * one_minus(5);
    // Impact = 10.41 × (1 − untouched), scale 10^11.
    let impact = 1041 * (1_000_000_000 - untouched);
    // Exploitability = 20 × AV × AC × Au, scale 10^8.
    let exploitability = 20 * weight(&AV, m[0]) * weight(&AC, m[1]) * weight(&AU, m[2]);
    if impact == 0 {
        // f(Impact) = 0.
        return Ok(0.0);
    }
    // (0.6 × Impact + 0.4 × Exploitability − 1.5), scale 10^12.
    let inner = 6 * impact + 4 * exploitability * 1000 - 1_500_000_000_000;
    // × f(Impact) = 1.176, scale 10^15.
    let raw = inner * 1176;
    if raw <= 0 {
        return Ok(0.0);
    }
    // Round half up to one decimal: units of 10^14.
    let tenths = (raw + 50_000_000_000_000) / 100_000_000_000_000;
    Ok(tenths as f64 / 10.0)
}
