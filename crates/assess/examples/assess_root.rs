//! Benchmark helper: assess a root directory without the vulnerability
//! match and print the wall time and each check's status.
//! `cargo run --release -p portcullis-assess --example assess_root -- ROOT [RUNS]`

use portcullis_assess::{assess, Host, Options, VulnScan};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next() else {
        eprintln!("usage: assess_root ROOT [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let host = Host::open_with(std::path::Path::new(&root), false);
        let a = assess(
            &host,
            &Options {
                now: portcullis_assess::now(),
                vulns: VulnScan::Unavailable("not matched in this benchmark".into()),
            },
        );
        times.push(t.elapsed().as_secs_f64());
        last = Some(a);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!(
        "median of {} runs: {median:.3} s (min {:.3} s)",
        times.len(),
        times.first().copied().unwrap_or(0.0)
    );
    if let Some(a) = last {
        for id in [
            "linux.updates.pending_security",
            "linux.updates.unsupported_software",
        ] {
            if let Some(c) = a.check(id) {
                println!("{id}: {:?}", c.status);
                if std::env::var_os("VERBOSE").is_some() {
                    for e in &c.evidence {
                        println!("    {}: {}", e.source, e.detail);
                    }
                }
            }
        }
    }
}
