//! Secret-scanner precision: every text file of this repository's test
//! fixtures (real lockfiles, SBOMs, advisories, logs, rules, configs from
//! public projects) must give no secret finding.

use portcullis_practice::secrets::SecretScanner;
use std::path::{Path, PathBuf};

fn fixture_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .max_depth(5)
        .into_iter()
        .filter_entry(|e| {
            let n = e.file_name().to_string_lossy();
            !(n == "target" || n == ".git" || n == "node_modules")
        });
    for e in walker.flatten() {
        if e.file_type().is_dir() && (e.file_name() == "fixtures" || e.file_name() == "testdata") {
            out.push(e.path().to_path_buf());
        }
    }
    out
}

#[test]
fn no_secrets_in_the_test_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scanner = SecretScanner::new();
    let (mut files, mut bytes) = (0usize, 0usize);
    let mut hits = Vec::new();
    for dir in fixture_dirs(&root) {
        for e in walkdir::WalkDir::new(&dir).into_iter().flatten() {
            if !e.file_type().is_file() {
                continue;
            }
            let Ok(data) = std::fs::read(e.path()) else {
                continue;
            };
            if data.len() > 4 * 1024 * 1024
                || memchr::memchr(0, &data[..data.len().min(8000)]).is_some()
            {
                continue;
            }
            files += 1;
            bytes += data.len();
            // The agent's TLS test key is a private key on purpose (a test CA
            // and server for the pinned-CA test): the scanner must find it.
            if e.path().ends_with("agent/tests/fixtures/tls/server.key")
                || e.path().ends_with("agent/tests/fixtures/tls/ca.key")
            {
                let found = scanner.scan(&data);
                assert!(
                    found.iter().any(|h| h.rule == "private-key"),
                    "{}: the deliberate test key was not found",
                    e.path().display()
                );
                files += 1;
                bytes += data.len();
                continue;
            }
            for h in scanner.scan(&data) {
                hits.push(format!(
                    "{}:{}: {} {}",
                    e.path().display(),
                    h.line,
                    h.rule,
                    h.redacted
                ));
            }
        }
    }
    eprintln!("{files} fixture files, {bytes} bytes scanned");
    assert!(files > 100, "only {files} fixture files found");
    assert!(
        hits.is_empty(),
        "{} false positives in {files} files ({bytes} bytes):\n{}",
        hits.len(),
        hits.join("\n")
    );
}
