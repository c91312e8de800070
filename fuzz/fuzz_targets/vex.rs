//! Accepted-risk files: portcullis.toml, OpenVEX and CycloneDX VEX.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for name in ["portcullis.toml", "x.openvex.json", "x.cdx.json", "unknown"] {
        let _ = portcullis_vex::Policy::parse(name, &text);
    }
});
