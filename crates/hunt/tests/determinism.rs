//! Same input, same output: a hunt whose files are read in byte ranges on
//! several threads writes byte-identical JSONL on every run, whatever the
//! threads' timing (single-event detections, correlation detections and
//! their order included).

use portcullis_hunt::{output, Hunt, HuntOptions, Level};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A rule that fires on every failed SSH password (many single-event
/// detections from every range of the file).
const EVERY_FAILURE: &str = r#"title: Every SSH Password Failure
id: 0b6d0f0e-9a51-4d3e-9a43-2f3a54c1a001
status: test
level: low
logsource:
    product: linux
    service: sshd
detection:
    selection:
        action: ssh_failed
    condition: selection
"#;

/// A spray log whose lines are a little out of time order (pairs swapped),
/// with many sources, so correlation results depend on where the ordering
/// buffer is flushed.
fn shuffled_spray(dir: &Path) -> PathBuf {
    let mut lines = Vec::new();
    let base = 1_767_225_600i64; // 2026-01-01T00:00:00Z
    for i in 0..2_000i64 {
        let t = base + i * 7;
        let ts = jiff::Timestamp::from_second(t)
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string();
        let src = format!("203.0.113.{}", i % 3);
        let user = format!("user{}", (i * 7) % 61);
        let msg = if i % 97 == 0 {
            format!("Accepted password for {user} from {src} port 4{i:04} ssh2")
        } else {
            format!("Failed password for {user} from {src} port 4{i:04} ssh2")
        };
        lines.push(format!("{ts} gw{} sshd[{}]: {msg}", i % 3, 1000 + i));
    }
    for pair in lines.chunks_mut(2) {
        pair.reverse();
    }
    let p = dir.join("spray-shuffled.log");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn jsonl(paths: &[PathBuf], rules: &Path, threads: usize) -> (Vec<u8>, u64) {
    let options = HuntOptions {
        rule_paths: vec![rules.to_path_buf()],
        bundled: true,
        year: Some(2026),
        threads,
        min_level: Level::Informational,
        // Cut every file into many ranges and flush the ordering buffer
        // often, so any dependence on timing would show.
        split_bytes: 1,
        range_bytes: 8_192,
        correlation_buffer_cap: 300,
        ..HuntOptions::default()
    };
    let (hunt, issues) = Hunt::new(options);
    assert!(issues.is_empty(), "{issues:?}");
    let mut out = Vec::new();
    let report = hunt.run(paths, &mut |d| output::write_jsonl(&mut out, &d).unwrap());
    assert!(report.unreadable.is_empty(), "{:?}", report.unreadable);
    assert_eq!(report.files_read, paths.len() as u64 as usize);
    (out, report.detections)
}

#[test]
fn split_files_give_byte_identical_jsonl_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("every_failure.yml"), EVERY_FAILURE).unwrap();
    let paths = vec![fixture("elastic-auth.log"), shuffled_spray(dir.path())];
    // Both files are really cut into many ranges.
    for p in &paths {
        let ranges = portcullis_events::split_file(
            p,
            portcullis_events::Format::Syslog,
            &portcullis_events::ReadOptions { year: Some(2026) },
            8_192,
            4,
        )
        .expect("a plain syslog file can be split");
        assert!(
            ranges.len() >= 20,
            "{}: {} ranges",
            p.display(),
            ranges.len()
        );
    }

    let (first, detections) = jsonl(&paths, &rules, 4);
    let text = String::from_utf8(first.clone()).unwrap();
    // Many single-event detections, and correlations (spray, brute force,
    // success after spray) among them.
    assert!(detections > 1_000, "{detections} detections");
    assert!(text.contains("\"e7ca27e5-fcbf-46bf-a716-e9d20068a556\""));
    assert!(text.contains("\"6c3204df-2c75-4cf9-b05e-f3182c9354ad\""));
    assert!(text.contains("\"0b6d0f0e-9a51-4d3e-9a43-2f3a54c1a001\""));
    for run in 0..3 {
        let threads = [4, 2, 3][run % 3];
        let (again, _) = jsonl(&paths, &rules, threads);
        assert!(
            again == first,
            "run {run} with {threads} threads differs from the first run"
        );
    }
}
