//! Being implemented.
