//! The SBOM reader on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = portcullis_sbom::looks_like_sbom(&text);
    let _ = portcullis_sbom::read("fuzz", &text);
});
