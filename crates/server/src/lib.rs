//! The Portcullis service behind `portcullis serve`: storage (SQLite or
//! PostgreSQL), tenancy, and the versioned ingest API.
//!
//! Architecture invariant: every read and write of an organisation's data
//! goes through [`Store`], and every such function of it takes a [`Tenant`]
//! scope (see the crate README).
#![deny(missing_docs)]

pub mod background;
mod config;
mod db;
pub mod http;
pub mod notify;
pub mod store;
mod validate;
pub mod web;

pub use config::{Config, NotifyConfig, OidcConfig, SmtpConfig};
use serde::Serialize;

pub use http::{
    router, serve, shutdown_signal, ApiError, AppState, MAX_BODY_BYTES, SESSION_COOKIE,
};
pub use store::{
    Asset, AuditEntry, HostIdentity, NewSubmission, OrgId, Organisation, Receipt, Store, Tenant,
    TokenInfo, User,
};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] sqlx::Error),
    /// A blocking task failed.
    #[error("internal task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The scope does not cover the data.
    #[error("not permitted in this scope")]
    Forbidden,
    /// The token or credentials are unknown or revoked.
    #[error("unknown or revoked credentials")]
    Unauthorized,
    /// Nothing in scope has that ID.
    #[error("not found")]
    NotFound,
    /// The input breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// The input clashes with stored data.
    #[error("{0}")]
    Conflict(String),
    /// Stored data is not what the schema promises.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Maps a unique-constraint failure to `Conflict(message)`.
    fn conflict_as(self, message: &str) -> StoreError {
        let unique = match &self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            }
            StoreError::Postgres(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        };
        if unique {
            StoreError::Conflict(message.to_owned())
        } else {
            self
        }
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $s)] $v),+ }
        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The stored and wire name.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parses a stored or wire name.
            pub fn parse(s: &str) -> Option<$name> { match s { $($s => Some($name::$v),)+ _ => None } }
        }
    };
}

string_enum!(
    /// An organisation's sector.
    Sector {
        /// A central government department.
        CentralGovernment = "central_government",
        /// An NHS trust.
        NhsTrust = "nhs_trust",
        /// A GP practice.
        GpPractice = "gp_practice",
        /// A supplier to healthcare.
        HealthcareSupplier = "healthcare_supplier",
        /// A local authority.
        LocalAuthority = "local_authority",
        /// Anything else.
        Other = "other",
    }
);

string_enum!(
    /// A user's role.
    Role {
        /// Sees their organisation.
        Member = "member",
        /// Administers their organisation (users, tokens).
        OrgAdmin = "org_admin",
        /// Reviews Cyber Essentials self-assessments.
        Assessor = "assessor",
        /// Cyber-unit analyst: sees every organisation.
        Analyst = "analyst",
        /// Administers the service: sees every organisation.
        SiteAdmin = "site_admin",
    }
);

string_enum!(
    /// What a submission carries.
    SubmissionKind {
        /// `portcullis assess` results.
        Assessment = "assessment",
        /// `portcullis scan` results.
        Scan = "scan",
        /// A CycloneDX or SPDX SBOM.
        Sbom = "sbom",
        /// A practice report.
        Practice = "practice",
        /// Detections from `portcullis hunt`.
        Detections = "detections",
    }
);

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
