//! Reading one file as parallel byte ranges gives exactly the events of a
//! whole-file read: same times (year inference across December→January),
//! same line numbers, same diagnostics.

use portcullis_events::{read_path, read_range, split_file, Event, Format, ReadOptions, TextRange};
use portcullis_model::Diagnostic;
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn concat(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend(std::fs::read(fixture(p)).unwrap());
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
    }
    out
}

fn whole(path: &Path, format: Format, opts: &ReadOptions) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut ev = Vec::new();
    let d = read_path(path, format, opts, &mut |e| ev.push(e));
    (ev, d)
}

fn by_ranges(ranges: &[TextRange], path: &Path, format: Format) -> (Vec<Event>, Vec<Diagnostic>) {
    let mut ev = Vec::new();
    let mut d = Vec::new();
    for r in ranges {
        d.extend(read_range(path, format, r, &mut |e| ev.push(e)));
    }
    (ev, d)
}

#[test]
fn syslog_ranges_equal_whole_read_across_year_rollovers() {
    // Mar (elastic) → Dec (loghub) → Mar again (a new year) → fail2ban's
    // mixed months; the last line has no newline.
    let mut data = concat(&[
        "linux/elastic/auth.log",
        "linux/loghub/OpenSSH_2k.log",
        "linux/elastic/auth.log",
        "linux/fail2ban/sshd",
    ]);
    data.extend_from_slice(
        b"Mar  1 00:00:01 host sshd[1]: Failed password for root from 10.0.0.1 port 22 ssh2",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.log");
    std::fs::write(&path, &data).unwrap();
    for opts in [ReadOptions { year: None }, ReadOptions { year: Some(2019) }] {
        let (ev, diags) = whole(&path, Format::Syslog, &opts);
        let ranges = split_file(&path, Format::Syslog, &opts, 64 * 1024, 2).unwrap();
        assert!(ranges.len() >= 20, "{} ranges", ranges.len());
        assert_eq!(ranges[0].start, 0);
        assert_eq!(ranges.last().unwrap().end, data.len() as u64);
        for w in ranges.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(data[w[1].start as usize - 1], b'\n');
        }
        let (rev, rdiags) = by_ranges(&ranges, &path, Format::Syslog);
        assert_eq!(ev.len(), rev.len());
        assert!(ev == rev, "events differ");
        assert_eq!(diags.len(), rdiags.len());
        assert!(diags == rdiags);
        // The years really move on: the second elastic copy is a year later.
        let first = ev[0].time.unwrap();
        let later_march = ev
            .iter()
            .rev()
            .find(|e| e.get_str("message") == ev[0].get_str("message"))
            .unwrap();
        assert!(later_march.time.unwrap() - first > 360 * 86_400 * 1_000_000);
        if let Some(y) = opts.year {
            // 2019-03-27 13:06:56 UTC
            assert_eq!(first, 1_553_692_016_000_000, "year {y}");
        }
    }
}

#[test]
fn jsonl_ranges_equal_whole_read() {
    let one = std::fs::read(fixture("entra/signinlogs-loganalytics.jsonl")).unwrap();
    let mut data = Vec::new();
    for _ in 0..200 {
        data.extend_from_slice(&one);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signins.jsonl");
    std::fs::write(&path, &data).unwrap();
    let opts = ReadOptions::default();
    let (ev, diags) = whole(&path, Format::EntraJson, &opts);
    let ranges = split_file(&path, Format::EntraJson, &opts, 8 * 1024, 2).unwrap();
    assert!(ranges.len() > 10);
    let (rev, rdiags) = by_ranges(&ranges, &path, Format::EntraJson);
    assert!(!ev.is_empty());
    assert!(ev == rev);
    assert!(diags == rdiags);
    assert_eq!(
        rev.last().unwrap().origin.line,
        ev.last().unwrap().origin.line
    );
}

#[test]
fn gzip_pretty_json_small_files_and_evtx_are_not_split() {
    let opts = ReadOptions::default();
    let dir = tempfile::tempdir().unwrap();
    // gzip
    let gz = dir.path().join("auth.log.gz");
    let mut enc = flate2_free_gzip(&concat(&["linux/elastic/auth.log"]));
    std::fs::write(&gz, &mut enc).unwrap();
    assert!(split_file(&gz, Format::Syslog, &opts, 1024, 2).is_none());
    // a JSON array (not JSONL)
    let arr = fixture("entra/graph-signin-page.json");
    assert!(split_file(&arr, Format::EntraJson, &opts, 256, 2).is_none());
    // smaller than one range
    let small = fixture("linux/fail2ban/pam-generic");
    assert!(split_file(&small, Format::Syslog, &opts, 1 << 20, 2).is_none());
    assert!(split_file(&small, Format::Evtx, &opts, 16, 2).is_none());
}

/// A gzip member with stored (uncompressed) deflate blocks, so the test
/// needs no compression crate: magic, header, blocks, CRC32, size.
fn flate2_free_gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let n = c.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(c);
    }
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}
