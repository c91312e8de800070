//! Generic `NAME:VALUE/NAME:VALUE` metric parsing shared by every version.

use crate::CvssError;

/// Marks a metric that the vector does not contain.
pub(crate) const ABSENT: u8 = u8::MAX;

/// Longest vector accepted; real vectors are well under 200 bytes.
pub(crate) const MAX_VECTOR_LEN: usize = 1024;

/// One metric a version knows: its abbreviation, allowed values, and whether
/// a vector must contain it.
pub(crate) struct MetricDef {
    pub(crate) name: &'static str,
    pub(crate) values: &'static [&'static str],
    pub(crate) mandatory: bool,
}

/// Shorthand for a mandatory metric.
pub(crate) const fn req(name: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        name,
        values,
        mandatory: true,
    }
}

/// Shorthand for an optional metric.
pub(crate) const fn opt(name: &'static str, values: &'static [&'static str]) -> MetricDef {
    MetricDef {
        name,
        values,
        mandatory: false,
    }
}

/// Quote at most a few dozen characters of untrusted input in a message.
pub(crate) fn quoted(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        None => format!("`{s}`"),
        Some((cut, _)) => format!("`{}…`", &s[..cut]),
    }
}

/// Parse the metric part of a vector (after any version prefix).
///
/// Returns, for each entry of `defs`, the index of its value in
/// `MetricDef::values`, or [`ABSENT`]. Metrics may come in any order; unknown,
/// duplicate and mandatory-but-missing metrics, empty components and values
/// not allowed for the metric are errors.
pub(crate) fn parse_metrics<const N: usize>(
    body: &str,
    defs: &[MetricDef; N],
    label: &str,
) -> Result<[u8; N], CvssError> {
    let mut out = [ABSENT; N];
    if body.is_empty() {
        return Err(CvssError(format!("{label} vector has no metrics")));
    }
    for component in body.split('/') {
        if component.is_empty() {
            return Err(CvssError(format!(
                "{label} vector has an empty metric (stray `/`)"
            )));
        }
        let Some((name, value)) = component.split_once(':') else {
            return Err(CvssError(format!(
                "{label} vector component {} is not METRIC:VALUE",
                quoted(component)
            )));
        };
        let Some(slot) = defs.iter().position(|d| d.name == name) else {
            return Err(CvssError(format!(
                "unknown metric {} in {label} vector",
                quoted(name)
            )));
        };
        let def = &defs[slot];
        let Some(value_index) = def.values.iter().position(|v| *v == value) else {
            return Err(CvssError(format!(
                "bad value {} for metric `{}` in {label} vector (expected one of {})",
                quoted(value),
                def.name,
                def.values.join(", ")
            )));
        };
        if out[slot] != ABSENT {
            return Err(CvssError(format!(
                "duplicate metric `{}` in {label} vector",
                def.name
            )));
        }
        // Value lists are tiny (< 10 entries), so the index fits in a u8.
        out[slot] = value_index as u8;
    }
    if let Some(missing) = defs
        .iter()
        .zip(out.iter())
        .find(|(d, v)| d.mandatory && **v == ABSENT)
    {
        return Err(CvssError(format!(
            "missing mandatory metric `{}` in {label} vector",
            missing.0.name
        )));
    }
    Ok(out)
}
