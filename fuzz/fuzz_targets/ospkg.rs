//! OS package databases: dpkg status, apk installed, os-release, RPM headers,
//! NDB and Berkeley DB hash files. The first byte picks the reader.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_model::Ecosystem;
use portcullis_ospkg::{
    parse_apk_installed, parse_dpkg_status, parse_rpm_header, read_bdb_hash, read_ndb,
    DistroContext, OsRelease,
};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    match first % 6 {
        0 => {
            let (ctx, _) = DistroContext::new(None, Ecosystem::Debian);
            let _ = parse_dpkg_status("fuzz", &text, &ctx, first & 0x80 != 0);
        }
        1 => {
            let (ctx, _) = DistroContext::new(None, Ecosystem::Alpine);
            let _ = parse_apk_installed("fuzz", &text, &ctx);
        }
        2 => {
            let os = OsRelease::parse(&text);
            let _ = os.osv_ecosystem();
            let _ = DistroContext::new(Some(&os), Ecosystem::Debian);
        }
        3 => {
            let _ = parse_rpm_header(rest);
        }
        4 => {
            let (blobs, _) = read_ndb(rest);
            for b in blobs {
                let _ = parse_rpm_header(b);
            }
        }
        _ => {
            let (blobs, _) = read_bdb_hash(rest);
            for b in blobs {
                let _ = parse_rpm_header(&b);
            }
        }
    }
});
