//! Killing `portcullis serve` (SIGKILL) in the middle of ingest loses
//! nothing it acknowledged: every submission answered 201/200 before the
//! kill is stored after a restart, exactly once, with its extracted rows;
//! and resending everything afterwards stores nothing twice.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis_server::{OrgId, Role, Sector, Store, SubmissionKind, Tenant};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start_server(data: &Path, port: u16) -> Proc {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .env("PORTCULLIS_ADMIN_PASSWORD", "correct horse battery staple")
        .env_remove("PORTCULLIS_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let end = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "the server did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

/// Real `portcullis scan --format json` output (21 findings).
const SCAN: &str = include_str!("../../server/tests/fixtures/risk/scan-cargo.json");

/// A scan submission: the real report, as `kind: scan`.
fn scan_body() -> String {
    let report: serde_json::Value = serde_json::from_str(SCAN).unwrap();
    serde_json::json!({ "kind": "scan", "body": report }).to_string()
}

fn post(agent: &ureq::Agent, url: &str, token: &str, key: &str, body: &str) -> Option<u16> {
    match agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Idempotency-Key", key)
        .header("Content-Type", "application/json")
        .send(body)
    {
        Ok(r) => Some(r.status().as_u16()),
        Err(ureq::Error::StatusCode(code)) => Some(code),
        Err(_) => None,
    }
}

#[test]
fn a_kill_during_ingest_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let server = start_server(&data, port);
    let base = format!("http://127.0.0.1:{port}");

    // An organisation and an enrolled host (the store opened beside the
    // running server: SQLite in WAL mode allows it).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = data.join("portcullis-server.db");
    let store = rt.block_on(Store::open(&db.to_string_lossy())).unwrap();
    let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
    let org = rt
        .block_on(store.create_organisation(&all, "Crash Trust", Sector::NhsTrust, 10))
        .unwrap();
    let scope = Tenant::for_role(org, Role::OrgAdmin);
    let (_, enrol) = rt
        .block_on(store.create_enrolment_token(&scope, org, "crash"))
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let reply: serde_json::Value = agent
        .post(&format!("{base}/api/v1/enrol"))
        .header("Content-Type", "application/json")
        .send(serde_json::json!({"token": enrol, "host": "crash-host"}).to_string())
        .unwrap()
        .body_mut()
        .read_to_string()
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap();
    let token = reply["host_token"].as_str().unwrap().to_owned();

    // Four clients submit as fast as they can; the server is killed once
    // enough have been acknowledged, with requests still in flight.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let tried = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let url = format!("{base}/api/v1/submissions");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, tried, stop, count) =
                (acked.clone(), tried.clone(), stop.clone(), count.clone());
            let (url, token, agent) = (url.clone(), token.clone(), agent.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let key = format!("w{w}-{i}");
                    let body = scan_body();
                    tried.lock().unwrap().push(key.clone());
                    match post(&agent, &url, &token, &key, &body) {
                        Some(201 | 200) => {
                            acked.lock().unwrap().push(key);
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(other) => panic!("submission {key}: HTTP {other}"),
                        None => break, // the server is gone
                    }
                    i += 1;
                }
            })
        })
        .collect();
    let end = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::SeqCst) < 40 {
        assert!(Instant::now() < end, "too few submissions acknowledged");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(server); // SIGKILL, mid-ingest
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let tried = tried.lock().unwrap().clone();
    assert!(acked.len() >= 40);

    // After a restart: every acknowledged submission is there, with its
    // findings extracted; nothing is stored twice.
    drop(store);
    let _server = start_server(&data, port);
    let store = rt.block_on(Store::open(&db.to_string_lossy())).unwrap();
    let stored = rt.block_on(store.list_submissions(&scope, 1000)).unwrap();
    let keys: Vec<&str> = stored.iter().map(|r| r.client_id.as_str()).collect();
    for k in &acked {
        assert_eq!(
            keys.iter().filter(|s| *s == k).count(),
            1,
            "acknowledged submission {k} lost or duplicated after the kill"
        );
    }
    assert!(stored.iter().all(|r| r.kind == SubmissionKind::Scan));

    // Resending everything that was tried: acknowledged ones answer 200 with
    // the original receipt; the rest are stored now; none twice.
    for k in &tried {
        let code = post(&agent, &url, &token, k, &scan_body());
        let expect_200 = acked.contains(k);
        match code {
            Some(200) => {}
            Some(201) => assert!(!expect_200, "{k} was acknowledged but stored again"),
            other => panic!("resend of {k}: {other:?}"),
        }
    }
    let stored = rt.block_on(store.list_submissions(&scope, 1000)).unwrap();
    assert_eq!(stored.len(), tried.len());
    // The extracted rows survived with the receipts: the organisation's
    // page data lists the packages of the last acknowledged scan's host.
    let detail = rt.block_on(store.org_detail(&scope, org)).unwrap();
    assert!(!detail.packages.is_empty());
}
