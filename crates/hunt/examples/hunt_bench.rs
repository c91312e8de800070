//! The hunt loop of `portcullis hunt --format jsonl`, without the rest of
//! the command line: lets the engine be profiled and timed on its own.
//!
//! `cargo run --release -p portcullis-hunt --example hunt_bench -- PATH…
//! [--rules DIR]… [--bundled] [--parse-only] [--threads N]`
//! JSONL goes to standard output; a summary line to standard error.

use portcullis_hunt::{output, Detection, Hunt, HuntOptions, Level};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut options = HuntOptions {
        bundled: false,
        min_level: Level::Low,
        ..HuntOptions::default()
    };
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rules" => options.rule_paths.extend(args.next().map(PathBuf::from)),
            "--bundled" => options.bundled = true,
            "--parse-only" => options.parse_only = true,
            "--threads" => options.threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    if options.rule_paths.is_empty() {
        options.bundled = true;
    }
    let started = Instant::now();
    let (hunt, issues) = Hunt::new(options);
    let loaded = started.elapsed();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let report = hunt.run(&paths, &mut |d: Detection| {
        let _ = output::write_jsonl(&mut out, &d);
    });
    let _ = out.flush();
    eprintln!(
        "note: {} events in {} files, {} detections, {:.2} s ({:.2} s loading {} rules, {} skipped)",
        report.events,
        report.files_read,
        report.detections,
        started.elapsed().as_secs_f64(),
        loaded.as_secs_f64(),
        hunt.rule_count(),
        issues.len()
    );
}
