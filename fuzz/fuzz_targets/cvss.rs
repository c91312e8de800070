//! CVSS vectors of every version.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in ["CVSS_V2", "CVSS_V3", "CVSS_V4"] {
        if let Ok(s) = portcullis_cvss::base_score(kind, &text) {
            assert!((0.0..=10.0).contains(&s.base));
        }
    }
});
