//! Walker tests on temporary trees.

use portcullis_lockfile::{walk, Format, WalkOptions};
use std::fs;
use std::path::Path;

fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, "").unwrap();
}

fn found(root: &Path, include_skipped: bool) -> Vec<(String, Format)> {
    let r = walk(
        root,
        &WalkOptions {
            include_skipped,
            extra: None,
        },
    );
    r.files.into_iter().map(|(_, d, f)| (d, f)).collect()
}

#[test]
fn finds_sorted_skips_vendored_and_prefers_go_mod() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for rel in [
        "Cargo.lock",
        "web/package-lock.json",
        "web/node_modules/x/package-lock.json",
        "svc/go.mod",
        "svc/go.sum",
        "cache/go.sum",
        "target/Cargo.lock",
        ".git/yarn.lock",
        "a/vendor/composer.lock",
        "py/.venv/lib/site-packages/x/Pipfile.lock",
        "ruby/Gemfile.lock",
        "README.md",
        "dotnet/packages.lock.json",
    ] {
        touch(root, rel);
    }
    assert_eq!(
        found(root, false),
        vec![
            ("Cargo.lock".to_string(), Format::CargoLock),
            ("cache/go.sum".to_string(), Format::GoSum),
            ("dotnet/packages.lock.json".to_string(), Format::NugetLock),
            ("ruby/Gemfile.lock".to_string(), Format::GemfileLock),
            ("svc/go.mod".to_string(), Format::GoMod),
            ("web/package-lock.json".to_string(), Format::NpmLock),
        ]
    );
    let all = found(root, true);
    assert_eq!(all.len(), 11);
    assert!(all.contains(&(
        "web/node_modules/x/package-lock.json".to_string(),
        Format::NpmLock
    )));
    assert!(!all.iter().any(|(d, _)| d == "svc/go.sum"));
    // Absolute paths point at the files.
    let r = walk(root, &WalkOptions::default());
    assert!(r
        .files
        .iter()
        .all(|(p, _, _)| p.is_absolute() && p.is_file()));
    assert!(r.diagnostics.is_empty());
}

#[test]
fn root_file_is_returned_alone() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "x/yarn.lock");
    touch(dir.path(), "notes.txt");
    assert_eq!(
        found(&dir.path().join("x/yarn.lock"), false),
        vec![("yarn.lock".to_string(), Format::YarnLock)]
    );
    let r = walk(&dir.path().join("notes.txt"), &WalkOptions::default());
    assert!(r.files.is_empty());
    assert_eq!(r.diagnostics.len(), 1);
    let r = walk(&dir.path().join("missing"), &WalkOptions::default());
    assert!(r.diagnostics[0].is_error());
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    touch(outside.path(), "Cargo.lock");
    touch(outside.path(), "deep/yarn.lock");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    touch(root, "real/go.mod");
    std::os::unix::fs::symlink(outside.path().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("deep"), root.join("deep")).unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("inside")).unwrap();
    let r = walk(root, &WalkOptions::default());
    let files: Vec<_> = r.files.iter().map(|(_, d, _)| d.as_str()).collect();
    assert_eq!(files, vec!["real/go.mod"]);
    let mut warned: Vec<_> = r
        .diagnostics
        .iter()
        .map(|d| (d.path.as_str(), d.is_error()))
        .collect();
    warned.sort();
    assert_eq!(warned, vec![("Cargo.lock", false), ("deep", false)]);
}

#[test]
fn extra_names_are_collected_in_the_same_walk() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/node_modules")).unwrap();
    std::fs::write(dir.path().join("a/app.cdx.json"), "{}").unwrap();
    std::fs::write(dir.path().join("a/node_modules/x.cdx.json"), "{}").unwrap();
    std::fs::write(dir.path().join("a/other.json"), "{}").unwrap();
    let r = walk(
        dir.path(),
        &WalkOptions {
            include_skipped: false,
            extra: Some(|n: &str| n.ends_with(".cdx.json")),
        },
    );
    let names: Vec<&str> = r.extra_files.iter().map(|(_, rel)| rel.as_str()).collect();
    assert_eq!(names, ["a/app.cdx.json"]);
    assert!(r.files.is_empty());
}
