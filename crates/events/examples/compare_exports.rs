//! Check that EVTX files and their evtx_dump JSON exports read the same:
//! `compare_exports DIR...` pairs every `X.json`/`X.jsonl` with `X.evtx`
//! (same folder) and compares events field by field (as text).
use portcullis_events::{read_path, walk, Event, Format, ReadOptions};

fn events(p: &std::path::Path, f: Format) -> (Vec<Event>, usize) {
    let mut v = Vec::new();
    let d = read_path(p, f, &ReadOptions::default(), &mut |e| v.push(e));
    (v, d.len())
}

fn main() {
    let (mut pairs, mut same, mut diff) = (0, 0, 0);
    for dir in std::env::args().skip(1) {
        let (files, _) = walk(std::path::Path::new(&dir));
        for (p, f) in files {
            if f != Format::WindowsJson {
                continue;
            }
            let evtx = p.with_extension("evtx");
            if !evtx.exists() {
                continue;
            }
            pairs += 1;
            let (a, da) = events(&evtx, Format::Evtx);
            let (b, db) = events(&p, Format::WindowsJson);
            let key = |e: &Event| {
                e.fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_text().into_owned()))
                    .collect::<Vec<_>>()
            };
            let ok = da == 0
                && db == 0
                && a.len() == b.len()
                && a.iter()
                    .zip(&b)
                    .all(|(x, y)| key(x) == key(y) && x.time == y.time);
            if ok {
                same += 1;
            } else {
                diff += 1;
                println!(
                    "DIFF {} ({} vs {} events, {da}/{db} diagnostics)",
                    p.display(),
                    a.len(),
                    b.len()
                );
                if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| key(x) != key(y)) {
                    println!("  evtx: {:?}\n  json: {:?}", key(x), key(y));
                }
            }
        }
    }
    println!("{pairs} pairs, {same} identical, {diff} different");
}
