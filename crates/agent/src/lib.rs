//! The Portcullis agent: enrolment, a durable on-disk submission queue,
//! scheduled assessment and scanning, log following, and delivery to
//! `portcullis serve`.
#![deny(missing_docs)]
