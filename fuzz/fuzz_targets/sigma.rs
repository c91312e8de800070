//! Sigma rule loading from arbitrary YAML text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = portcullis_sigma::RuleSet::from_str(&text, std::path::Path::new("fuzz.yml"));
});
