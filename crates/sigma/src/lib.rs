//! A Sigma rule engine. (Interface to be designed by its work item; see
//! `crates/sigma/README.md` once written.)
