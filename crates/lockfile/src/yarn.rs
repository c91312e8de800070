//! Stub: to be implemented.

use crate::Parsed;

pub(crate) fn parse(path: &str, text: &str) -> Parsed {
    let _ = (path, text);
    Parsed::default()
}
