//! Throughput of the EVTX reader over a directory, one file at a time on
//! one thread: `evtx_throughput DIR [--floor]`. `--floor` only renders
//! each record to XML with the evtx crate (the parse floor), for comparison.
use portcullis_events::{read_path, walk, Format, ReadOptions};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: evtx_throughput DIR [--floor]");
    let floor = args.next().as_deref() == Some("--floor");
    let (files, _) = walk(std::path::Path::new(&dir));
    let files: Vec<_> = files
        .into_iter()
        .filter(|(_, f)| *f == Format::Evtx)
        .collect();
    let bytes: u64 = files
        .iter()
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let start = Instant::now();
    let (mut events, mut diags, mut fields) = (0u64, 0usize, 0u64);
    for (p, _) in &files {
        if floor {
            let Ok(parser) = evtx::EvtxParser::from_path(p) else {
                continue;
            };
            let mut parser =
                parser.with_configuration(evtx::ParserSettings::new().num_threads(1).indent(false));
            for r in parser.records_bytes() {
                if let Ok(r) = r {
                    events += 1;
                    fields += r.data.len() as u64;
                } else {
                    diags += 1;
                }
            }
        } else {
            diags += read_path(p, Format::Evtx, &ReadOptions::default(), &mut |e| {
                events += 1;
                fields += e.fields.len() as u64;
            })
            .len();
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{} files, {:.1} MB, {events} events, {diags} diagnostics, {fields} fields/bytes, {s:.3} s, {:.0} events/s, {:.1} MB/s",
        files.len(),
        bytes as f64 / 1e6,
        events as f64 / s,
        bytes as f64 / 1e6 / s
    );
}
