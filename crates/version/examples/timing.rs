//! Rough timing of parse and compare over the vector data:
//! `cargo run --release -p portcullis-version --example timing`.

use portcullis_version::{Scheme, Version};
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let files = [
        ("alpine-versions-generated.txt", Scheme::Alpine),
        ("debian-versions-generated.txt", Scheme::Debian),
        ("maven-versions-generated.txt", Scheme::Maven),
        ("packagist-versions-generated.txt", Scheme::Packagist),
        ("pypi-versions-generated.txt", Scheme::Pep440),
        ("rubygems-versions-generated.txt", Scheme::RubyGems),
        ("redhat-versions.txt", Scheme::Rpm),
        ("semver-versions.txt", Scheme::SemVer),
    ];
    for (name, scheme) in files {
        let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("data file");
        let strs: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("//"))
            .flat_map(|l| {
                let p: Vec<&str> = l.split_whitespace().collect();
                [
                    p.first().copied().unwrap_or(""),
                    p.get(2).copied().unwrap_or(""),
                ]
            })
            .collect();
        let rounds = 20;
        let t = Instant::now();
        let mut parsed: Vec<Version> = Vec::new();
        for _ in 0..rounds {
            parsed = strs.iter().filter_map(|s| scheme.parse(s).ok()).collect();
        }
        let parse_ns = t.elapsed().as_nanos() as f64 / (rounds * strs.len()) as f64;
        let t = Instant::now();
        let mut less = 0usize;
        for _ in 0..rounds {
            for w in parsed.chunks_exact(2) {
                if let [a, b] = w {
                    less += usize::from(a < b);
                }
            }
        }
        let cmp_ns = t.elapsed().as_nanos() as f64 / (rounds * parsed.len() / 2) as f64;
        println!(
            "{name:36} {:6} versions  parse {parse_ns:7.1} ns  compare {cmp_ns:6.1} ns  ({less})",
            strs.len()
        );
    }
}
