//! Specific behaviour per scheme: normalisation, special forms, errors.

use portcullis_model::Ecosystem;
use portcullis_version::{Scheme, Version, MAX_VERSION_LEN};
use std::cmp::Ordering::{self, Equal, Greater, Less};

fn cmp(s: Scheme, a: &str, b: &str) -> Ordering {
    s.compare(a, b).unwrap_or_else(|e| panic!("{e}"))
}

fn check(s: Scheme, cases: &[(&str, Ordering, &str)]) {
    for &(a, want, b) in cases {
        assert_eq!(cmp(s, a, b), want, "{s:?}: {a} vs {b}");
        assert_eq!(cmp(s, b, a), want.reverse(), "{s:?}: {b} vs {a}");
    }
}

#[test]
fn ecosystem_mapping() {
    use Ecosystem as E;
    let cases = [
        (E::CratesIo, Scheme::SemVer),
        (E::Npm, Scheme::SemVer),
        (E::Hex, Scheme::SemVer),
        (E::Bitnami, Scheme::SemVer),
        (E::SwiftUrl, Scheme::SemVer),
        (E::GitHubActions, Scheme::SemVer),
        (E::Go, Scheme::Go),
        (E::PyPI, Scheme::Pep440),
        (E::Debian, Scheme::Debian),
        (E::Ubuntu, Scheme::Debian),
        (E::RedHat, Scheme::Rpm),
        (E::AlmaLinux, Scheme::Rpm),
        (E::RockyLinux, Scheme::Rpm),
        (E::Suse, Scheme::Rpm),
        (E::OpenSuse, Scheme::Rpm),
        (E::Mageia, Scheme::Rpm),
        (E::OpenEuler, Scheme::Rpm),
        (E::AzureLinux, Scheme::Rpm),
        (E::PhotonOs, Scheme::Rpm),
        (E::Alpine, Scheme::Alpine),
        (E::Wolfi, Scheme::Alpine),
        (E::Chainguard, Scheme::Alpine),
        (E::Maven, Scheme::Maven),
        (E::RubyGems, Scheme::RubyGems),
        (E::NuGet, Scheme::NuGet),
        (E::Packagist, Scheme::Packagist),
        (E::Pub, Scheme::Pub),
        (E::Cran, Scheme::Cran),
        (E::Hackage, Scheme::Hackage),
        (E::OssFuzz, Scheme::Generic),
        (E::Other("MinimOS".into()), Scheme::Generic),
    ];
    for (eco, want) in cases {
        assert_eq!(Scheme::for_ecosystem(&eco), want, "{eco:?}");
    }
}

#[test]
fn semver_and_go() {
    check(
        Scheme::SemVer,
        &[
            ("1.0.0-alpha", Less, "1.0.0-alpha.1"),
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("v1.2.3", Equal, "1.2.3"),
            ("1.2.3+build.5", Equal, "1.2.3"),
            ("1.2.3-beta.11", Greater, "1.2.3-beta.2"),
        ],
    );
    check(
        Scheme::Go,
        &[
            ("v0.0.0-20191109021931-daa7c04131f5", Less, "v0.1.0"),
            (
                "v0.0.0-20191109021931-daa7c04131f5",
                Less,
                "v0.0.0-20200101000000-aaaaaaaaaaaa",
            ),
            ("v1.2.4-0.20191109021931-daa7c04131f5", Greater, "v1.2.3"),
            ("v1.2.4-0.20191109021931-daa7c04131f5", Less, "v1.2.4"),
            ("v2.0.0+incompatible", Equal, "v2.0.0"),
            ("v2.0.1+incompatible", Greater, "2.0.0"),
        ],
    );
}

#[test]
fn pep440_normalisation() {
    check(
        Scheme::Pep440,
        &[
            ("1.0-alpha1", Equal, "1.0a1"),
            ("1.0.ALPHA.1", Equal, "1.0a1"),
            ("1.0.post-1", Equal, "1.0.post1"),
            ("1.0-1", Equal, "1.0.post1"),
            ("1.0rev2", Equal, "1.0.post2"),
            ("1.0RC1", Equal, "1.0rc1"),
            ("1.0c1", Equal, "1.0rc1"),
            ("1.0-preview2", Equal, "1.0rc2"),
            ("v1.0", Equal, "1.0"),
            ("  1.0\t", Equal, "1.0"),
            ("1.0", Equal, "1.0.0"),
            ("1!0.1", Greater, "2.0"),
            ("1.0.dev0", Less, "1.0a0"),
            ("1.0a1", Less, "1.0b1"),
            ("1.0rc1", Less, "1.0"),
            ("1.0", Less, "1.0.post0"),
            ("1.0.post0.dev1", Less, "1.0.post0"),
            ("1.0+abc", Greater, "1.0"),
            ("1.0+abc.5", Greater, "1.0+abc.4"),
            ("1.0+5", Greater, "1.0+abc"),
            ("1.0+ABC", Equal, "1.0+abc"),
            // legacy (non-PEP 440) versions sort before every PEP 440 one
            ("not-a-version", Less, "0.0.0.dev0"),
            ("1.0-bulbasaur", Less, "1.0-charmander"),
        ],
    );
}

#[test]
fn debian_rules() {
    check(
        Scheme::Debian,
        &[
            ("1:1.0", Greater, "2.0"),
            ("1.0~rc1", Less, "1.0"),
            ("1.0~~", Less, "1.0~"),
            ("1.0a", Less, "1.0+"),
            ("1.0-1ubuntu1", Greater, "1.0-1"),
            ("1.0-1~deb12u1", Less, "1.0-1"),
            ("2.30-0", Equal, "2.30"),
            // upstream not starting with a digit: accepted, ordered the same way
            ("abc", Less, "abd"),
            ("abc", Greater, "1.0"), // dpkg: a letter sorts after the end of a part
        ],
    );
}

#[test]
fn rpm_rules() {
    check(
        Scheme::Rpm,
        &[
            ("1:1.0-1", Greater, "2.0-1"),
            ("0:1.0-1", Equal, "1.0-1"),
            ("1.0~rc1-1", Less, "1.0-1"),
            ("1.0^git1", Greater, "1.0"),
            ("1.0^git1", Less, "1.0.1"),
            ("3.10.0-229.el7", Less, "3.10.0-229.1.2.el7"),
            ("1.10", Greater, "1.9"),
            ("1.0a", Less, "1.0.1"),
        ],
    );
}

#[test]
fn alpine_rules() {
    check(
        Scheme::Alpine,
        &[
            ("1.2.3_rc1-r0", Less, "1.2.3-r0"),
            ("1.2.3-r0", Less, "1.2.3_p1-r0"),
            ("1.2.3_alpha", Less, "1.2.3_beta"),
            ("1.2.3_beta", Less, "1.2.3_pre"),
            ("1.2.3_pre", Less, "1.2.3_rc"),
            ("1.2.3-r10", Greater, "1.2.3-r9"),
            ("1.2.3a", Greater, "1.2.3"),
            ("1.2.3a", Less, "1.2.4"),
            ("1.2.3~abc123-r0", Equal, "1.2.3-r0"),
        ],
    );
}

#[test]
fn maven_rules() {
    check(
        Scheme::Maven,
        &[
            ("1.0-SNAPSHOT", Less, "1.0"),
            ("1.0-alpha-1", Less, "1.0-beta-1"),
            ("1.0-milestone-1", Less, "1.0-rc-1"),
            ("1.0-rc1", Equal, "1.0-cr1"),
            ("1.0-RC1", Equal, "1.0-rc1"),
            ("1.0.0", Equal, "1"),
            ("1.0-ga", Equal, "1.0"),
            ("1.0.Final", Equal, "1.0"),
            ("1.0-sp1", Greater, "1.0"),
            ("1.0-a1", Equal, "1.0-alpha-1"),
            ("1.0-foo", Greater, "1.0-sp"),
            ("2.0-1", Less, "2.0.1"),
        ],
    );
}

#[test]
fn other_language_schemes() {
    check(
        Scheme::NuGet,
        &[
            ("1.0.0.0", Equal, "1.0"),
            ("1.0.0-BETA", Equal, "1.0.0-beta"),
            ("1.0.0.1", Greater, "1.0"),
            ("1.0.0-beta", Less, "1.0.0"),
        ],
    );
    check(
        Scheme::Packagist,
        &[
            ("v1.0.0", Equal, "1.0.0"),
            ("1.0.0-beta1", Less, "1.0.0"),
            ("1.0.0-pl1", Greater, "1.0.0"),
            ("1.0.0-dev", Less, "1.0.0-alpha"),
            ("1.0.0-RC1", Equal, "1.0.0rc1"),
            ("1.0.0-patch1", Greater, "1.0.0"),
        ],
    );
    check(
        Scheme::RubyGems,
        &[
            ("1.0.a", Less, "1.0"),
            ("1.0.0", Equal, "1"),
            ("1.0.beta2", Greater, "1.0.beta1"),
            ("1.0.b1", Less, "1.0.c"),
        ],
    );
    check(
        Scheme::Pub,
        &[
            ("1.0.0+1", Greater, "1.0.0"),
            ("1.0.0-dev", Less, "1.0.0"),
            ("1.0.0+10", Greater, "1.0.0+9"),
        ],
    );
    check(
        Scheme::Cran,
        &[
            ("1.0-1", Equal, "1.0.1"),
            ("1.0", Less, "1.0-0"),
            ("0.9", Less, "0.10"),
        ],
    );
    check(
        Scheme::Hackage,
        &[("1.0", Less, "1.0.0"), ("0.10", Greater, "0.9.1")],
    );
    check(
        Scheme::Generic,
        &[
            ("1.0", Less, "1.0.1"),
            ("1.0rc1", Less, "1.0"),
            ("1.0", Less, "1.1rc1"),
            ("2024.01.05", Greater, "2023.12.31"),
        ],
    );
}

#[test]
fn unparseable_versions_are_errors() {
    let all = [
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
    for s in all {
        let e = s.parse("").expect_err("empty must fail");
        assert_eq!(e.scheme, s);
        assert_eq!(e.input, "");
        let long = "1".repeat(MAX_VERSION_LEN + 1);
        let e = s.parse(&long).expect_err("too long must fail");
        assert!(e.reason.contains("longer than"), "{e}");
        // the longest accepted input still parses
        assert!(s.parse(&"1".repeat(MAX_VERSION_LEN)).is_ok(), "{s:?}");
    }
    let bad = [
        (Scheme::SemVer, "abc"),
        (Scheme::Go, "vX"),
        (Scheme::NuGet, "beta"),
        (Scheme::Hackage, "1.0-beta"),
        (Scheme::Cran, "1.a"),
        (Scheme::Cran, "1..2"),
        (Scheme::Debian, "a:1.0"),
        (Scheme::Debian, "   "),
        (Scheme::Pep440, " "),
        (Scheme::Generic, "..-"),
    ];
    for (s, v) in bad {
        let e = s.parse(v).expect_err(v);
        assert_eq!(e.input, v);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{v:?}")) && msg.contains(&format!("{s:?}")),
            "{msg}"
        );
    }
    assert!(Scheme::Debian.compare("1.0", "x:1").is_err());
}

#[test]
fn huge_numbers_compare_by_value() {
    let a = "9".repeat(50);
    let b = format!("1{}", "0".repeat(50));
    for s in [
        Scheme::SemVer,
        Scheme::Debian,
        Scheme::Rpm,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::Generic,
    ] {
        assert_eq!(cmp(s, &a, &b), Less, "{s:?}");
        assert_eq!(cmp(s, &format!("000{a}"), &a), Equal, "{s:?}");
    }
}

#[test]
fn version_api() {
    let v = Scheme::Pep440.parse("1.0.POST1").expect("valid");
    assert_eq!(v.as_str(), "1.0.POST1");
    assert_eq!(v.to_string(), "1.0.POST1");
    assert_eq!(v.scheme(), Scheme::Pep440);
    assert_eq!(v, Scheme::Pep440.parse("1.0.post1").expect("valid"));
    // different schemes order by scheme
    let s = Scheme::SemVer.parse("9.9.9").expect("valid");
    let d = Scheme::Debian.parse("0.1").expect("valid");
    assert!(s < d && s != d);

    let mut vs: Vec<Version> = ["1.10.0", "1.2.0", "1.2.0-rc.1", "v1.2.0-beta", "0.9.9"]
        .iter()
        .map(|s| Scheme::SemVer.parse(s).expect("valid"))
        .collect();
    vs.sort();
    let order: Vec<&str> = vs.iter().map(Version::as_str).collect();
    assert_eq!(
        order,
        ["0.9.9", "v1.2.0-beta", "1.2.0-rc.1", "1.2.0", "1.10.0"]
    );
}

#[test]
fn garbage_does_not_panic() {
    let inputs = [
        "\0", "😀", "1.😀.2", "::::", "----", "~~~", "^^^", "_p_p_p", "1!2!3", "+++", "1.0+", "v",
        "-r", "1-r-r-r", "..", "é1",
    ];
    for input in inputs {
        for s in [
            Scheme::SemVer,
            Scheme::Pep440,
            Scheme::Debian,
            Scheme::Rpm,
            Scheme::Alpine,
            Scheme::Maven,
            Scheme::RubyGems,
            Scheme::Packagist,
            Scheme::Generic,
        ] {
            if let Ok(v) = s.parse(input) {
                assert_eq!(v.cmp(&v), Equal);
            }
        }
    }
}
