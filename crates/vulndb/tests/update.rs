//! `db update` against a real HTTP server on loopback.

use portcullis_model::{Ecosystem, Location, Package};
use portcullis_vulndb::{
    match_packages, update, Database, EcosystemUpdate, MatchOptions, UpdateOptions,
};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Serve `/crates.io/all.zip` with an ETag (304 when it matches), a
/// truncated archive at `/Broken/all.zip`, and 404 elsewhere.
fn serve(zip: Vec<u8>, requests: Arc<AtomicUsize>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut stream) = stream else { continue };
            requests.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut if_none_match = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("if-none-match:") {
                    if_none_match = Some(v.trim().to_string());
                }
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let (status, body): (&str, Vec<u8>) = match path.as_str() {
                "/crates.io/all.zip" if if_none_match.as_deref() == Some("\"v1\"") => {
                    ("304 Not Modified", vec![])
                }
                "/crates.io/all.zip" => ("200 OK", zip.clone()),
                "/Broken/all.zip" => ("200 OK", zip[..zip.len() / 2].to_vec()),
                _ => ("404 Not Found", b"no such ecosystem".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
            let mut rest = Vec::new();
            let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = stream.read_to_end(&mut rest);
        }
    });
    format!("http://{addr}")
}

fn fixture_zip() -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv");
        for name in ["RUSTSEC-2019-0031.json", "GHSA-p6mc-m468-83gw.json"] {
            z.start_file(name, opts).unwrap();
            z.write_all(&std::fs::read(dir.join(name)).unwrap())
                .unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn downloads_imports_and_then_asks_only_if_changed() {
    let requests = Arc::new(AtomicUsize::new(0));
    let base = serve(fixture_zip(), requests.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("osv.db")).unwrap();
    let options = UpdateOptions {
        base_url: base.clone(),
        ecosystems: vec!["crates.io".into(), "Nope".into(), "Broken".into()],
        timeout: Duration::from_secs(10),
    };
    let report = update(&mut db, &options, &mut |_, _| {}).unwrap();
    assert_eq!(report.ecosystems.len(), 3);
    match &report.ecosystems[0] {
        EcosystemUpdate::Updated {
            ecosystem,
            bytes,
            import,
        } => {
            assert_eq!(ecosystem, "crates.io");
            assert!(*bytes > 500);
            assert_eq!((import.added, import.withdrawn), (1, 1));
        }
        other => panic!("expected an update, got {other:?}"),
    }
    match &report.ecosystems[1] {
        EcosystemUpdate::Failed { error, .. } => assert!(error.contains("HTTP 404"), "{error}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(matches!(
        report.ecosystems[2],
        EcosystemUpdate::Failed { .. }
    ));
    assert!(!report.all_failed());
    let status = db.status().unwrap();
    let src = status
        .sources
        .iter()
        .find(|s| s.name == "osv:crates.io")
        .unwrap();
    assert_eq!(src.kind, "download");
    assert!(src.location.ends_with("/crates.io/all.zip"));
    // The broken download changed nothing.
    assert!(status.sources.iter().all(|s| s.name != "osv:Broken"));
    assert_eq!(status.records, 1);
    let found = match_packages(
        &db,
        &[Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.0",
            Location::default(),
        )],
        &MatchOptions::default(),
    )
    .unwrap();
    assert_eq!(found.findings.len(), 1);

    // The second time the server answers 304 and nothing is re-imported.
    let again = update(
        &mut db,
        &UpdateOptions {
            ecosystems: vec!["crates.io".into()],
            ..options
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert!(
        matches!(again.ecosystems[0], EcosystemUpdate::NotModified { .. }),
        "{again:?}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 4);
}

#[test]
fn an_unreachable_server_is_a_clean_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("osv.db")).unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    let report = update(
        &mut db,
        &UpdateOptions {
            base_url: "http://127.0.0.1:9".into(),
            ecosystems: vec!["PyPI".into()],
            timeout: Duration::from_secs(5),
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert!(report.all_failed());
    assert!(db.is_empty().unwrap());
}
