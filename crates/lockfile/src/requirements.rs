//! Stub: to be implemented.

use crate::Parsed;
use std::path::Path;

pub(crate) fn is_requirements_name(name: &str) -> bool {
    name == "requirements.txt"
}

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let _ = (path, text);
    Parsed::default()
}

pub(crate) fn parse_file(path: &Path, display: &str) -> Parsed {
    let _ = (path, display);
    Parsed::default()
}
