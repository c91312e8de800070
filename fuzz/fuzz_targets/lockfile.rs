//! Every lockfile reader on arbitrary text: the first byte picks the format.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis_lockfile::{parse, Format};

const FORMATS: [Format; 15] = [
    Format::CargoLock,
    Format::NpmLock,
    Format::YarnLock,
    Format::PnpmLock,
    Format::Requirements,
    Format::PoetryLock,
    Format::PipfileLock,
    Format::UvLock,
    Format::GoMod,
    Format::GoSum,
    Format::PomXml,
    Format::GradleLock,
    Format::GemfileLock,
    Format::ComposerLock,
    Format::NugetLock,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let format = FORMATS[usize::from(first) % FORMATS.len()];
    let text = String::from_utf8_lossy(rest);
    let _ = parse(format, "fuzz", &text);
});
