//! Print the events of files (format detected), one debug line each, with
//! a count; `--count` prints only totals. Used to check readers by hand.
use portcullis_events::{detect_path, read_path, ReadOptions};
use std::path::Path;

fn main() {
    let mut count_only = false;
    for arg in std::env::args().skip(1) {
        if arg == "--count" {
            count_only = true;
            continue;
        }
        let p = Path::new(&arg);
        let Ok(Some(fmt)) = detect_path(p) else {
            eprintln!("{arg}: unknown format");
            continue;
        };
        let mut n = 0u64;
        let diags = read_path(p, fmt, &ReadOptions::default(), &mut |e| {
            n += 1;
            if !count_only {
                println!(
                    "{:?} {:?} {:?}",
                    e.origin.record_id.or(e.origin.line),
                    e.time,
                    e.fields
                );
            }
        });
        for d in diags {
            eprintln!("{}:{:?}: {}", d.path, d.line, d.message);
        }
        println!("{arg}: {fmt:?} {n} events");
    }
}
