//! Reader tests over real lockfiles (see tests/fixtures/README.md) and
//! hand-made ones for format versions the corpus lacks.

use portcullis_lockfile::{parse, Format, Parsed};
use portcullis_model::{DependencyScope, Package};

fn fixture(rel: &str) -> String {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(format: Format, rel: &str) -> Parsed {
    let p = parse(format, rel, &fixture(rel));
    assert!(p.diagnostics.is_empty(), "{rel}: {:?}", p.diagnostics);
    p
}

fn find<'a>(p: &'a Parsed, name: &str, version: &str) -> &'a Package {
    p.packages
        .iter()
        .find(|k| k.name == name && k.version == version)
        .unwrap_or_else(|| panic!("{name} {version} not found"))
}

/// (purl, scope, line) of a package.
fn facts(p: &Package) -> (String, DependencyScope, Option<u32>) {
    (p.purl.to_string(), p.scope, p.location.line)
}

fn assert_unique(p: &Parsed) {
    let mut keys: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.purl.to_string(), k.name.clone()))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate packages");
}

// ---------------------------------------------------------------- Cargo.lock

#[test]
fn cargo_vector_matches_independent_count() {
    let text = fixture("cargo/vector/Cargo.lock");
    // Independent count: [[package]] tables that have a `source` line.
    let independent = text
        .split("[[package]]")
        .skip(1)
        .filter(|t| t.lines().any(|l| l.starts_with("source = ")))
        .count();
    assert_eq!(independent, 1249);
    let p = read(Format::CargoLock, "cargo/vector/Cargo.lock");
    assert_eq!(p.packages.len(), independent);
    assert_eq!(text.matches("[[package]]").count(), 1286);
    assert!(p
        .packages
        .iter()
        .all(|k| k.ecosystem.to_string() == "crates.io"));
    // Path crates of the workspace are not reported.
    assert!(!p.packages.iter().any(|k| k.name == "vector"));
    assert_eq!(
        facts(find(&p, "aead", "0.6.1")),
        (
            "pkg:cargo/aead@0.6.1".into(),
            DependencyScope::Runtime,
            Some(21)
        )
    );
    assert_eq!(
        facts(find(&p, "zstd-sys", "2.0.16+zstd.1.5.7")),
        (
            "pkg:cargo/zstd-sys@2.0.16%2Bzstd.1.5.7".into(),
            DependencyScope::Runtime,
            Some(15134)
        )
    );
    assert_eq!(
        find(&p, "ntapi", "0.3.7").purl.to_string(),
        "pkg:cargo/ntapi@0.3.7?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2FMSxDOS%2Fntapi.git%4024fc1e47677fc9f6e38e5f154e6011dc9b270da6"
    );
}

#[test]
fn cargo_hayabusa() {
    let p = read(Format::CargoLock, "cargo/hayabusa/Cargo.lock");
    assert_eq!(p.packages.len(), 295);
    assert_eq!(find(&p, "aho-corasick", "1.1.4").location.line, Some(11));
    let git: Vec<_> = p
        .packages
        .iter()
        .filter(|k| k.purl.qualifiers.contains_key("vcs_url"))
        .collect();
    assert_eq!(git.len(), 1);
    assert_eq!(git[0].name, "evtx");
}

#[test]
fn cargo_v1_with_metadata_any_key_order() {
    let p = read(Format::CargoLock, "handmade/cargo-v1.lock");
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.version.as_str(), k.location.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("libc", "0.2.66", Some(9)),
            ("smallvec", "0.6.13", Some(14)),
            ("mygit", "0.3.0", Some(19))
        ]
    );
    assert_eq!(
        p.packages[2]
            .purl
            .qualifiers
            .get("vcs_url")
            .map(String::as_str),
        Some("git+https://github.com/example/mygit@0123456789abcdef0123456789abcdef01234567")
    );
}

#[test]
fn cargo_malformed_entries() {
    let text = "version = 3\n\n[[package]]\nname = \"a\"\nversion = 1.0\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\nsource = \"sparse+https://index.crates.io/\"\n\n[[package]]\nname = \"c\nversion = \"3.0.0\"\nsource = \"registry+https://my.registry/index\"\n[[package]]\nname = \"d\"\nversion = \"4.0.0\"\nsource = \"registry+https://my.registry/index\"\n";
    let p = parse(Format::CargoLock, "Cargo.lock", text);
    let names: Vec<_> = p.packages.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, vec!["b", "d"]);
    assert_eq!(
        p.packages[1].purl.to_string(),
        "pkg:cargo/d@4.0.0?repository_url=https%3A%2F%2Fmy.registry%2Findex"
    );
    let lines: Vec<_> = p
        .diagnostics
        .iter()
        .map(|d| (d.line, d.is_error()))
        .collect();
    // bad version (line 5) then its table; bad name (line 14) then its table.
    assert_eq!(
        lines,
        vec![
            (Some(5), true),
            (Some(3), true),
            (Some(14), true),
            (Some(13), true)
        ]
    );
}

// ------------------------------------------------------------------------ npm

#[test]
fn npm_v3_real() {
    let p = read(
        Format::NpmLock,
        "npm/rust-analyzer-editors-code/package-lock.json",
    );
    assert_eq!(p.packages.len(), 538);
    assert_unique(&p);
    let d3 = p.packages.iter().find(|k| k.name == "d3").expect("d3");
    assert_eq!(d3.scope, DependencyScope::Runtime);
    assert_eq!(d3.direct, Some(true));
    assert_eq!(
        facts(find(&p, "@azu/format-text", "1.0.2")),
        (
            "pkg:npm/%40azu/format-text@1.0.2".into(),
            DependencyScope::Dev,
            Some(45)
        )
    );
    assert_eq!(find(&p, "yocto-queue", "0.1.0").location.line, Some(7570));
    assert!(!p.packages.iter().any(|k| k.name == "rust-analyzer"));
}

#[test]
fn npm_v2_handmade() {
    let p = read(Format::NpmLock, "handmade/package-lock-v2.json");
    let mut got: Vec<_> = p
        .packages
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                k.version.as_str(),
                k.scope,
                k.location.line,
                k.direct,
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "@types/node",
                "17.0.0",
                DependencyScope::Dev,
                Some(29),
                Some(false)
            ),
            (
                "fsevents",
                "2.3.2",
                DependencyScope::Optional,
                Some(33),
                Some(false)
            ),
            // Once, although also nested under mocha as dev: run time wins.
            (
                "minimist",
                "1.2.5",
                DependencyScope::Runtime,
                Some(18),
                Some(true)
            ),
            ("mocha", "9.2.2", DependencyScope::Dev, Some(21), Some(true)),
        ]
    );
}

#[test]
fn npm_v1_handmade() {
    let p = read(Format::NpmLock, "handmade/package-lock-v1.json");
    let mut got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.version.as_str(), k.scope))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("@babel/code-frame", "7.12.13", DependencyScope::Dev),
            ("fsevents", "2.3.2", DependencyScope::Optional),
            ("left-pad", "1.3.0", DependencyScope::Runtime),
            ("lodash", "4.17.20", DependencyScope::Runtime),
            ("lodash", "4.17.21", DependencyScope::Dev),
        ]
    );
}

#[test]
fn npm_garbage() {
    let p = parse(
        Format::NpmLock,
        "package-lock.json",
        "{\"packages\": {\"node_modules/a\": {\"version\": ",
    );
    assert!(p.packages.is_empty());
    assert_eq!(p.diagnostics.len(), 1);
    assert!(p.diagnostics[0].is_error());
    assert_eq!(p.diagnostics[0].line, Some(1));
    let p = parse(Format::NpmLock, "package-lock.json", "[1,2]");
    assert_eq!(p.diagnostics.len(), 1);
    let p = parse(
        Format::NpmLock,
        "package-lock.json",
        "{\"packages\": {\"node_modules/a\": 3, \"node_modules/b\": {}, \"node_modules/c\": {\"version\": \"1.0.0\"}}}",
    );
    assert_eq!(p.packages.len(), 1);
    assert_eq!(p.diagnostics.len(), 2);
}

// ----------------------------------------------------------------------- yarn

#[test]
fn yarn_v1_real() {
    let p = read(Format::YarnLock, "yarn/vector-website/yarn.lock");
    assert_eq!(p.packages.len(), 474);
    assert_unique(&p);
    assert_eq!(
        facts(find(&p, "@algolia/autocomplete-js", "1.19.9")),
        (
            "pkg:npm/%40algolia/autocomplete-js@1.19.9".into(),
            DependencyScope::Runtime,
            Some(13)
        )
    );
    assert_eq!(find(&p, "yargs", "17.7.3").location.line, Some(3317));
    assert_eq!(find(&p, "color-name", "1.1.4").location.line, Some(1757));
}

#[test]
fn yarn_v1_aliases_locals_and_errors() {
    let text = "# yarn lockfile v1\n\n\nfoo@^1.0.0, foo@^1.1.0:\n  version \"1.2.0\"\n\n\"my-lp@npm:left-pad@^1.3.0\":\n  version \"1.3.0\"\n\n\"local@file:../local\":\n  version \"0.0.1\"\n\nfoo@1.2.0:\n  version \"1.2.0\"\n\nnoversion@1:\n  resolved \"x\"\n\nstray line\n";
    let p = parse(Format::YarnLock, "yarn.lock", text);
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.version.as_str(), k.location.line))
        .collect();
    assert_eq!(
        got,
        vec![("foo", "1.2.0", Some(4)), ("left-pad", "1.3.0", Some(7))]
    );
    let diags: Vec<_> = p.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(diags, vec![Some(16), Some(19)]);
}

#[test]
fn yarn_berry_handmade() {
    let p = read(Format::YarnLock, "handmade/yarn-berry.lock");
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.version.as_str(), k.location.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("@babel/code-frame", "7.12.13", Some(8)),
            ("left-pad", "1.3.0", Some(23)),
            ("resolve", "1.22.1", Some(29))
        ]
    );
}

// ----------------------------------------------------------------------- pnpm

#[test]
fn pnpm_v9_real() {
    let p = read(Format::PnpmLock, "pnpm/osv.dev-frontend3/pnpm-lock.yaml");
    assert_eq!(p.packages.len(), 416);
    assert_unique(&p);
    assert_eq!(
        facts(find(&p, "@discoveryjs/json-ext", "1.1.0")),
        (
            "pkg:npm/%40discoveryjs/json-ext@1.1.0".into(),
            DependencyScope::Runtime,
            Some(79)
        )
    );
    assert_eq!(find(&p, "express", "5.2.1").location.line, Some(903));
    assert_eq!(find(&p, "wsl-utils", "1.0.0").location.line, Some(1827));
}

#[test]
fn pnpm_v5_handmade() {
    let p = read(Format::PnpmLock, "handmade/pnpm-v5.yaml");
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                k.version.as_str(),
                k.scope,
                k.location.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("js-tokens", "4.0.0", DependencyScope::Runtime, Some(15)),
            ("react", "17.0.2", DependencyScope::Runtime, Some(19)),
            ("@babel/core", "7.17.0", DependencyScope::Dev, Some(26)),
            // Two peer variants folded into one; run time wins over dev.
            (
                "@emotion/react",
                "11.9.0",
                DependencyScope::Runtime,
                Some(31)
            ),
            ("fsevents", "2.3.2", DependencyScope::Optional, Some(41)),
            ("thing", "2.0.0", DependencyScope::Runtime, Some(46)),
        ]
    );
}

#[test]
fn pnpm_v6_handmade() {
    let p = read(Format::PnpmLock, "handmade/pnpm-v6.yaml");
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| {
            (
                k.name.as_str(),
                k.version.as_str(),
                k.scope,
                k.location.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("loose-envify", "1.4.0", DependencyScope::Runtime, Some(14)),
            ("react", "18.2.0", DependencyScope::Runtime, Some(21)),
            (
                "@testing-library/react",
                "14.0.0",
                DependencyScope::Dev,
                Some(26)
            ),
            ("js-tokens", "4.0.0", DependencyScope::Runtime, Some(30)),
        ]
    );
}

// ------------------------------------------------------------------------- Go

#[test]
fn go_mod_real() {
    let p = read(Format::GoMod, "go/osv-scanner/go.mod");
    // 206 require lines, no replace, plus stdlib.
    assert_eq!(p.packages.len(), 207);
    let stdlib = find(&p, "stdlib", "1.26.5");
    assert_eq!(
        (stdlib.location.line, stdlib.ecosystem.to_string()),
        (Some(3), "Go".to_string())
    );
    let g = find(&p, "charm.land/glamour/v2", "2.0.1");
    assert_eq!(
        (g.purl.to_string(), g.direct, g.location.line),
        (
            "pkg:golang/charm.land/glamour/v2@v2.0.1".into(),
            Some(true),
            Some(6)
        )
    );
    let gc = find(
        &p,
        "github.com/golang/groupcache",
        "0.0.0-20241129210726-2c02b8208cf8",
    );
    assert_eq!((gc.direct, gc.location.line), (Some(false), Some(112)));
    // 30 lines in the first (direct) require block, plus stdlib.
    assert_eq!(
        p.packages.iter().filter(|k| k.direct == Some(true)).count(),
        31
    );

    let v = read(Format::GoMod, "go/osv.dev-vulnfeeds/go.mod");
    assert_eq!(v.packages.len(), 117);
}

#[test]
fn go_sum_real() {
    let p = read(Format::GoSum, "go/osv-scanner/go.sum");
    assert_eq!(p.packages.len(), 397);
    assert_unique(&p);
    assert_eq!(
        find(&p, "charm.land/glamour/v2", "2.0.1").location.line,
        Some(3)
    );
}

// -------------------------------------------------------------------- Bundler

#[test]
fn gemfile_real() {
    let p = read(Format::GemfileLock, "bundler/osv-schema-docs/Gemfile.lock");
    assert_eq!(p.packages.len(), 110);
    let ffi: Vec<_> = p.packages.iter().filter(|k| k.name == "ffi").collect();
    assert!(ffi.len() > 1 && ffi.iter().all(|k| k.version == "1.17.3"));
    assert_eq!(
        ffi[0].purl.qualifiers.get("platform").map(String::as_str),
        Some("aarch64-linux-gnu")
    );
    let a = find(&p, "activesupport", "8.1.2.1");
    assert_eq!(
        (a.purl.to_string(), a.location.line, a.direct),
        ("pkg:gem/activesupport@8.1.2.1".into(), Some(4), Some(false))
    );
    assert_eq!(find(&p, "webrick", "1.9.2").direct, Some(true));
}

// ------------------------------------------------------------------- Composer

#[test]
fn composer_real() {
    let p = read(Format::ComposerLock, "composer/ilios/composer.lock");
    assert_eq!(p.packages.len(), 209);
    assert_eq!(
        p.packages
            .iter()
            .filter(|k| k.scope == DependencyScope::Dev)
            .count(),
        54
    );
    assert!(p.packages.iter().all(|k| !k.version.starts_with('v')));
    assert_eq!(
        facts(find(&p, "async-aws/core", "1.29.2")),
        (
            "pkg:composer/async-aws/core@1.29.2".into(),
            DependencyScope::Runtime,
            Some(10)
        )
    );
    assert_eq!(
        find(&p, "theseer/tokenizer", "2.0.1").scope,
        DependencyScope::Dev
    );
}

#[test]
fn composer_garbage() {
    let p = parse(Format::ComposerLock, "composer.lock", "{\"packages\": [{\"name\": \"a/b\"}, 4, {\"name\": \"c/d\", \"version\": \"v2.0.0\"}], \"packages-dev\": 3}");
    assert_eq!(p.packages.len(), 1);
    assert_eq!(p.packages[0].version, "2.0.0");
    assert_eq!(p.diagnostics.len(), 3);
}

// ---------------------------------------------------------------------- NuGet

#[test]
fn nuget_real() {
    let p = read(
        Format::NugetLock,
        "nuget/SimpleTweaksPlugin/packages.lock.json",
    );
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.purl.to_string(), k.direct, k.location.line))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "pkg:nuget/DalamudPackager@14.0.1".to_string(),
                Some(true),
                Some(5)
            ),
            (
                "pkg:nuget/DotNet.ReproducibleBuilds@1.2.39".to_string(),
                Some(true),
                Some(11)
            ),
            (
                "pkg:nuget/SixLabors.ImageSharp@3.1.12".to_string(),
                Some(false),
                Some(17)
            ),
        ]
    );
}

#[test]
fn nuget_frameworks_deduplicated() {
    let text = r#"{"version":1,"dependencies":{"net6.0":{"A":{"type":"Transitive","resolved":"1.0.0"},"P":{"type":"Project"}},"net8.0":{"A":{"type":"Direct","resolved":"1.0.0"},"B":{"type":"CentralTransitive","resolved":"2.0.0"},"C":{"type":"Direct"}}}}"#;
    let p = parse(Format::NugetLock, "packages.lock.json", text);
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.direct))
        .collect();
    assert_eq!(got, vec![("A", Some(true)), ("B", Some(false))]);
    assert_eq!(p.diagnostics.len(), 1);
}

// ------------------------------------------------------- truncation / garbage

#[test]
fn truncated_real_files_do_not_panic() {
    for (f, rel) in [
        (Format::CargoLock, "cargo/hayabusa/Cargo.lock"),
        (
            Format::NpmLock,
            "npm/rust-analyzer-editors-code/package-lock.json",
        ),
        (Format::YarnLock, "yarn/vector-website/yarn.lock"),
        (Format::PnpmLock, "pnpm/osv.dev-frontend3/pnpm-lock.yaml"),
        (Format::GoMod, "go/osv-scanner/go.mod"),
        (Format::GoSum, "go/osv-scanner/go.sum"),
        (Format::GemfileLock, "bundler/osv-schema-docs/Gemfile.lock"),
        (Format::ComposerLock, "composer/ilios/composer.lock"),
        (
            Format::NugetLock,
            "nuget/SimpleTweaksPlugin/packages.lock.json",
        ),
    ] {
        let text = fixture(rel);
        let full = parse(f, rel, &text).packages.len();
        for frac in [3, 2] {
            let mut cut = text.len() / frac;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let p = parse(f, rel, &text[..cut]);
            assert!(p.packages.len() <= full, "{rel}");
            if matches!(
                f,
                Format::NpmLock | Format::ComposerLock | Format::NugetLock
            ) {
                assert!(
                    p.diagnostics.iter().any(|d| d.is_error()),
                    "{rel}: truncated JSON must be reported"
                );
            }
        }
    }
}

#[test]
fn binary_garbage_gives_diagnostics() {
    let garbage = "\u{0}\u{1}PK\u{3}\u{4}���\n[[[ \"x\n\t\t}{";
    for f in [
        Format::CargoLock,
        Format::NpmLock,
        Format::YarnLock,
        Format::PnpmLock,
        Format::GoMod,
        Format::GoSum,
        Format::GemfileLock,
        Format::ComposerLock,
        Format::NugetLock,
    ] {
        let p = parse(f, "x", garbage);
        assert!(p.packages.is_empty(), "{f:?}");
        assert!(
            !p.diagnostics.is_empty(),
            "{f:?} reported nothing for garbage"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

    #[test]
    fn no_reader_panics_on_arbitrary_text(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for f in [
            Format::CargoLock, Format::NpmLock, Format::YarnLock, Format::PnpmLock, Format::GoMod,
            Format::GoSum, Format::GemfileLock, Format::ComposerLock, Format::NugetLock,
        ] {
            let _ = parse(f, "x", &text);
        }
    }

    #[test]
    fn no_reader_panics_on_lockfile_like_text(
        lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::prelude::Just("[[package]]".to_string()),
                proptest::prelude::Just("name = \"a\"".to_string()),
                proptest::prelude::Just("version = \"1\"".to_string()),
                proptest::prelude::Just("source = \"git+x#y\"".to_string()),
                proptest::prelude::Just("packages:".to_string()),
                proptest::prelude::Just("  '/a@1(b@2)':".to_string()),
                proptest::prelude::Just("    dev: true".to_string()),
                proptest::prelude::Just("__metadata:".to_string()),
                proptest::prelude::Just("\"a@npm:1\":".to_string()),
                proptest::prelude::Just("  resolution: \"a@patch:a@npm%3A1#x\"".to_string()),
                proptest::prelude::Just("  version \"1\"".to_string()),
                proptest::prelude::Just("require (".to_string()),
                proptest::prelude::Just("replace a => b v1".to_string()),
                proptest::prelude::Just(")".to_string()),
                proptest::prelude::Just("GEM".to_string()),
                proptest::prelude::Just("  specs:".to_string()),
                proptest::prelude::Just("    a (1-x)".to_string()),
                "[ -~]{0,12}",
            ],
            0..24,
        )
    ) {
        let text = lines.join("\n");
        for f in [Format::CargoLock, Format::YarnLock, Format::PnpmLock, Format::GoMod, Format::GoSum, Format::GemfileLock] {
            let _ = parse(f, "x", &text);
        }
    }
}

/// Timing of the Cargo.lock reader on a large file: run with
/// `PORTCULLIS_CARGO_LOCK_BENCH=path cargo test --release -p portcullis-lockfile --test readers -- --ignored`.
#[test]
#[ignore]
fn cargo_lock_timing() {
    let Ok(path) = std::env::var("PORTCULLIS_CARGO_LOCK_BENCH") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let mut best = std::time::Duration::MAX;
    let mut n = 0;
    for _ in 0..100 {
        let start = std::time::Instant::now();
        n = parse(Format::CargoLock, "Cargo.lock", &text).packages.len();
        best = best.min(start.elapsed());
    }
    eprintln!("{n} packages, best parse {best:?}");
}

#[test]
fn crlf_line_endings_read_the_same() {
    for (f, rel) in [
        (Format::CargoLock, "cargo/hayabusa/Cargo.lock"),
        (Format::YarnLock, "yarn/vector-website/yarn.lock"),
        (Format::YarnLock, "handmade/yarn-berry.lock"),
        (Format::PnpmLock, "pnpm/osv.dev-frontend3/pnpm-lock.yaml"),
        (Format::PnpmLock, "handmade/pnpm-v5.yaml"),
        (Format::GoMod, "go/osv-scanner/go.mod"),
        (Format::GoSum, "go/osv-scanner/go.sum"),
        (Format::GemfileLock, "bundler/osv-schema-docs/Gemfile.lock"),
        (
            Format::NpmLock,
            "npm/rust-analyzer-editors-code/package-lock.json",
        ),
    ] {
        let text = fixture(rel);
        let lf = parse(f, rel, &text);
        let crlf = parse(f, rel, &text.replace('\n', "\r\n"));
        assert!(
            crlf.diagnostics.is_empty(),
            "{rel}: {:?}",
            crlf.diagnostics.first()
        );
        assert_eq!(lf.packages, crlf.packages, "{rel}");
    }
}

#[test]
fn cargo_header_spacing_and_comments() {
    let text = "[[ package ]] # c\nname = 'a' # c\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"x\"\n[patch.unused]\nname = \"ignored\"\nversion = \"9\"\nsource = \"x\"\n";
    let p = parse(Format::CargoLock, "Cargo.lock", text);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    let got: Vec<_> = p
        .packages
        .iter()
        .map(|k| (k.name.as_str(), k.version.as_str(), k.location.line))
        .collect();
    assert_eq!(got, vec![("a", "1.0.0", Some(1))]);
}
