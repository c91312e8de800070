//! Version parsing and comparison under every scheme; checks antisymmetry.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_version::Scheme;

const SCHEMES: [Scheme; 14] = [
    Scheme::SemVer,
    Scheme::Go,
    Scheme::Pep440,
    Scheme::Debian,
    Scheme::Rpm,
    Scheme::Alpine,
    Scheme::Maven,
    Scheme::RubyGems,
    Scheme::NuGet,
    Scheme::Packagist,
    Scheme::Pub,
    Scheme::Cran,
    Scheme::Hackage,
    Scheme::Generic,
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, "1.0"));
    for s in SCHEMES {
        if let (Ok(x), Ok(y)) = (s.parse(a), s.parse(b)) {
            assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        }
    }
});
