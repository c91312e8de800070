//! OSV records: decoding, then evaluating every affected entry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_model::osv::Vulnerability;
use portcullis_model::Ecosystem;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Vulnerability>(data) else { return };
    let _ = portcullis_vulndb::record_severity(&v, None);
    for a in &v.affected {
        let eco = a
            .package
            .as_ref()
            .map_or(Ecosystem::Npm, |p| Ecosystem::parse_osv(&p.ecosystem).0);
        for version in ["0", "1.0.0", "2.3.4-rc.1", "1:2.3-4", ""] {
            let _ = portcullis_vulndb::evaluate_affected(a, &eco, version);
        }
        let _ = portcullis_vulndb::record_severity(&v, Some(a));
    }
});
