//! Being implemented.
#![deny(missing_docs)]
