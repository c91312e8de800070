//! CVSS vectors and base scores.
//!
//! - [`base_score`] takes an OSV severity `type` (`CVSS_V2`, `CVSS_V3`,
//!   `CVSS_V4`) and vector string and returns the base score, or an error
//!   naming what is wrong with the vector.
//!
//! Supported: CVSS v2.0 (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in
//! parentheses or with a `CVSS:2.0/` prefix), v3.0 and v3.1
//! (`CVSS:3.x/AV:N/...`) and v4.0 (`CVSS:4.0/AV:N/...`). For v4.0 the
//! threat and environmental metrics present in the vector are applied, so the
//! returned value is the CVSS-B, -BT, -BE or -BTE score as appropriate. For
//! v2 and v3 only the base metrics count; temporal and environmental metrics
//! are validated and otherwise ignored.
//!
//! No input makes these functions panic; vectors longer than 1 KiB are
//! rejected.
#![deny(missing_docs)]

mod parse;
mod v2;
mod v3;
mod v4;

use std::fmt;

use parse::{quoted, MAX_VECTOR_LEN};

/// A vector that cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CvssError(pub String);

impl fmt::Display for CvssError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid CVSS vector: {}", self.0)
    }
}

impl std::error::Error for CvssError {}

/// Which CVSS version a vector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvssVersion {
    /// CVSS v2.0.
    V2,
    /// CVSS v3.0.
    V3_0,
    /// CVSS v3.1.
    V3_1,
    /// CVSS v4.0.
    V4_0,
}

impl CvssVersion {
    /// The version as usually written: `2.0`, `3.0`, `3.1`, `4.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvssVersion::V2 => "2.0",
            CvssVersion::V3_0 => "3.0",
            CvssVersion::V3_1 => "3.1",
            CvssVersion::V4_0 => "4.0",
        }
    }
}

impl fmt::Display for CvssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The version.
    pub version: CvssVersion,
    /// The base score, 0.0–10.0, rounded as the specification says.
    pub base: f64,
}

/// Score a vector. `kind` is the OSV severity type, used only when the vector lacks a prefix (v2).
///
/// A vector starting with `CVSS:` is scored by the version its prefix names,
/// whatever `kind` says. A vector without a prefix is read as CVSS v2 unless
/// `kind` is `CVSS_V3` or `CVSS_V4`, whose vectors must carry their prefix.
/// Surrounding ASCII whitespace is ignored.
///
/// ```
/// use portcullis_cvss::{base_score, CvssVersion};
///
/// let s = base_score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").unwrap();
/// assert_eq!((s.version, s.base), (CvssVersion::V3_1, 6.1));
/// let s = base_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P").unwrap();
/// assert_eq!((s.version, s.base), (CvssVersion::V2, 7.5));
/// let s = base_score(
///     "CVSS_V4",
///     "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
/// )
/// .unwrap();
/// assert_eq!(s.base, 8.1);
/// assert!(base_score("CVSS_V3", "CVSS:3.1/AV:N").is_err());
/// ```
pub fn base_score(kind: &str, vector: &str) -> Result<Score, CvssError> {
    if vector.len() > MAX_VECTOR_LEN {
        return Err(CvssError(format!(
            "vector is {} bytes long (at most {MAX_VECTOR_LEN} accepted)",
            vector.len()
        )));
    }
    let vector = vector.trim_matches(|c: char| c.is_ascii_whitespace());
    if vector.is_empty() {
        return Err(CvssError("vector is empty".into()));
    }
    if let Some(rest) = vector.strip_prefix("CVSS:") {
        let (version, body) = rest.split_once('/').unwrap_or((rest, ""));
        return match version {
            "3.0" => v3::score(body, false).map(|base| Score {
                version: CvssVersion::V3_0,
                base,
            }),
            "3.1" => v3::score(body, true).map(|base| Score {
                version: CvssVersion::V3_1,
                base,
            }),
            "4.0" => v4::score(body).map(|base| Score {
                version: CvssVersion::V4_0,
                base,
            }),
            "2.0" => score_v2(body),
            _ => Err(CvssError(format!(
                "unsupported CVSS version {} (expected 2.0, 3.0, 3.1 or 4.0)",
                quoted(version)
            ))),
        };
    }
    match kind {
        "CVSS_V3" => Err(CvssError(
            "CVSS v3 vector must start with `CVSS:3.0/` or `CVSS:3.1/`".into(),
        )),
        "CVSS_V4" => Err(CvssError(
            "CVSS v4 vector must start with `CVSS:4.0/`".into(),
        )),
        _ => {
            let body = vector
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or(vector);
            score_v2(body)
        }
    }
}

fn score_v2(body: &str) -> Result<Score, CvssError> {
    v2::score(body).map(|base| Score {
        version: CvssVersion::V2,
        base,
    })
}
