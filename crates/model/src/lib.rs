//! Portcullis domain model.
//!
//! Plain data types shared by every engine and by the service: packages and
//! their package URLs, OSV advisories, findings, severities and parser
//! diagnostics.
//!
//! Architecture invariant: this crate knows no files, sockets or databases.
//! It depends on nothing of ours, and everything else may depend on it.
#![deny(missing_docs)]

pub mod assess;
pub mod diagnostic;
pub mod ecosystem;
pub mod finding;
pub mod osv;
pub mod package;
pub mod purl;
pub mod severity;

pub use assess::{CheckResult, CheckStatus, Control, Evidence};
pub use diagnostic::{Diagnostic, DiagnosticLevel};
pub use ecosystem::Ecosystem;
pub use finding::{Finding, Fix, ScanSummary};
pub use package::{DependencyScope, Location, Package};
pub use purl::{Purl, PurlError};
pub use severity::Severity;
