//! CVSS vectors and base scores. (Interface fixed; implementation in progress.)
//!
//! - [`base_score`] takes an OSV severity `type` (`CVSS_V2`, `CVSS_V3`,
//!   `CVSS_V4`) and vector string and returns the base score, or an error
//!   naming what is wrong with the vector.
#![deny(missing_docs)]

use std::fmt;

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

/// A scored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The version.
    pub version: CvssVersion,
    /// The base score, 0.0–10.0, rounded as the specification says.
    pub base: f64,
}

/// Score a vector. `kind` is the OSV severity type, used only when the vector lacks a prefix (v2).
pub fn base_score(kind: &str, vector: &str) -> Result<Score, CvssError> {
    let _ = (kind, vector);
    Err(CvssError("not implemented yet".into()))
}
