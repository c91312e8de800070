//! Package URLs: parse, print, parse again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_model::Purl;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Purl::parse(&text) {
        let printed = p.to_string();
        let _ = Purl::parse(&printed);
        let _ = portcullis_model::package::ecosystem_of_purl(&p);
    }
});
