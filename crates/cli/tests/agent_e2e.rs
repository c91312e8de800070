//! End to end: a real `portcullis serve`, an enrolled `portcullis agent
//! run` following an auth log; detections arrive, survive a server outage
//! and a `kill -9` of the agent exactly once, and a revoked token stops
//! the agent with exit code 4.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_server::{OrgId, Role, Sector, Store, SubmissionKind, Tenant};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {secs} s waiting for {what}");
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(data: &Path, port: u16) -> Proc {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.with_extension("server.log"))
        .unwrap();
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
        .stderr(log)
        .spawn()
        .unwrap();
    let p = Proc(child);
    wait_until("the server to listen", 30, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    p
}

struct Env {
    rt: tokio::runtime::Runtime,
    store: Store,
    org: OrgId,
    dir: tempfile::TempDir,
    port: u16,
}

impl Env {
    fn new() -> (Env, Proc) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let port = free_port();
        let server = start_server(&data, port);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let db = data.join("portcullis-server.db");
        let store = rt.block_on(Store::open(&db.to_string_lossy())).unwrap();
        let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
        let org = rt
            .block_on(store.create_organisation(&all, "E2E Trust", Sector::NhsTrust, 100))
            .unwrap();
        (
            Env {
                rt,
                store,
                org,
                dir,
                port,
            },
            server,
        )
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn enrol(&self) -> PathBuf {
        let scope = Tenant::for_role(self.org, Role::OrgAdmin);
        let (_, token) = self
            .rt
            .block_on(self.store.create_enrolment_token(&scope, self.org, "e2e"))
            .unwrap();
        let state = self.path("state");
        let out = Command::new(BIN)
            .args([
                "agent",
                "enrol",
                "--server",
                &self.url(),
                "--host",
                "e2e-host",
            ])
            .arg("--state-dir")
            .arg(&state)
            .env("PORTCULLIS_ENROL_TOKEN", &token)
            .output()
            .unwrap();
        let (so, se) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "enrol failed: {se}");
        assert!(se.contains("enrolled as e2e-host"), "{se}");
        // The host token is stored, never printed.
        let host_token = std::fs::read_to_string(state.join("host-token")).unwrap();
        assert!(host_token.starts_with("pch_"));
        assert!(!so.contains("pch_") && !se.contains("pch_"), "{so}{se}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&state), 0o700);
            assert_eq!(mode(&state.join("host-token")), 0o600);
            assert_eq!(mode(&state.join("config.json")), 0o600);
        }
        state
    }

    /// Every stored submission of `kind`: (client ID, body).
    fn bodies(&self, kind: SubmissionKind) -> Vec<(String, serde_json::Value)> {
        let scope = Tenant::for_role(self.org, Role::OrgAdmin);
        let list = self
            .rt
            .block_on(self.store.list_submissions(&scope, 1000))
            .unwrap();
        list.iter()
            .filter(|r| r.kind == kind)
            .map(|r| {
                let (_, body) = self
                    .rt
                    .block_on(self.store.get_submission(&scope, r.id))
                    .unwrap();
                (r.client_id.clone(), serde_json::from_str(&body).unwrap())
            })
            .collect()
    }

    /// The sources of every stored spray detection (one entry per detection).
    fn spray_sources(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, body) in self.bodies(SubmissionKind::Detections) {
            for d in body["detections"].as_array().unwrap() {
                if d["title"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Password Spray - SSH")
                {
                    out.push(d["source"].as_str().unwrap_or_default().to_owned());
                }
            }
        }
        out.sort();
        out
    }
}

/// Twelve failed logins for different invalid users from one address,
/// within a minute: the bundled SSH spray rule (10 users in 5 minutes).
fn spray(log: &Path, batch: u32) {
    let mut s = String::new();
    for i in 0..12 {
        s.push_str(&format!(
            "2026-01-10T1{batch}:00:{i:02}+00:00 web sshd[{}]: Failed password for invalid user user{i} from 203.0.113.{} port {} ssh2\n",
            1000 + i,
            batch + 1,
            40000 + i
        ));
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    f.write_all(s.as_bytes()).unwrap();
}

fn ip(batch: u32) -> String {
    format!("203.0.113.{}", batch + 1)
}

fn start_agent(env: &Env, state: &Path, log: &Path) -> Proc {
    let err = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env.path("agent.log"))
        .unwrap();
    Proc(
        Command::new(BIN)
            .args(["agent", "run", "--no-collect", "--max-backoff", "1"])
            .arg("--state-dir")
            .arg(state)
            .arg("--log")
            .arg(log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap(),
    )
}

fn queued(state: &Path) -> usize {
    std::fs::read_dir(state.join("queue"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.ends_with(".item") && !n.starts_with("tmp-")
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn detections_arrive_exactly_once_through_outages_and_kills() {
    let (env, server) = Env::new();
    let state = env.enrol();
    let log = env.path("auth.log");
    std::fs::write(&log, "").unwrap();
    let agent = start_agent(&env, &state, &log);
    let expect = |n: u32| -> Vec<String> { (0..n).map(ip).collect() };

    // 1. A spray arrives.
    spray(&log, 0);
    wait_until("the first spray detection", 30, || {
        env.spray_sources() == expect(1)
    });

    // 2. The server goes down; a spray is queued on disk; the server comes
    //    back on the same port and the spray arrives.
    drop(server);
    spray(&log, 1);
    wait_until("the detection to be queued", 30, || queued(&state) == 1);
    let server = start_server(&env.path("data"), env.port);
    wait_until("the queued spray detection", 30, || {
        env.spray_sources() == expect(2)
    });

    // 3. The server goes down again; a spray is queued; the agent is killed
    //    with SIGKILL while it holds it; more lines come while it is down;
    //    both arrive after the restarts, once each.
    drop(server);
    spray(&log, 2);
    wait_until("the detection to be queued", 30, || queued(&state) == 1);
    drop(agent); // SIGKILL
    spray(&log, 3);
    let _server = start_server(&env.path("data"), env.port);
    let mut agent = start_agent(&env, &state, &log);
    wait_until("all four spray detections", 30, || {
        env.spray_sources() == expect(4)
    });
    // Nothing else trickles in, and the queue is empty.
    wait_until("the queue to empty", 10, || queued(&state) == 0);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(env.spray_sources(), expect(4), "a detection arrived twice");
    // Each submission stored once, with the agent's counters.
    let bodies = env.bodies(SubmissionKind::Detections);
    assert_eq!(bodies.len(), 4);
    for (key, b) in &bodies {
        assert!(key.starts_with("det-"), "{key}");
        assert_eq!(b["agent"]["host"], "e2e-host");
        assert_eq!(b["agent"]["queue"]["dropped_total"], 0);
    }
    let text = std::fs::read_to_string(env.path("agent.log")).unwrap();
    assert!(
        text.contains("retried"),
        "the agent said nothing of the outage: {text}"
    );

    // 4. The host token is revoked: the next submission stops the agent
    //    with exit code 4 and says why.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("config.json")).unwrap()).unwrap();
    let token_id = config["token_id"].as_i64().unwrap();
    env.rt
        .block_on(
            env.store
                .revoke_token(&Tenant::for_role(env.org, Role::OrgAdmin), token_id),
        )
        .unwrap();
    spray(&log, 4);
    let mut status = None;
    wait_until("the agent to stop after revocation", 30, || {
        status = agent.0.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.and_then(|s| s.code()), Some(4));
    let text = std::fs::read_to_string(env.path("agent.log")).unwrap();
    assert!(text.contains("revoked"), "{text}");
    // The refused detections stay queued for after a new enrolment.
    assert_eq!(queued(&state), 1);
}

#[test]
fn once_submits_the_assessment_and_scan_of_a_root() {
    let (env, _server) = Env::new();
    let state = env.enrol();
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assess/tests/fixtures/debian12-defaults");
    let out = Command::new(BIN)
        .args(["agent", "run", "--once", "--journal"])
        .arg("--db")
        .arg(env.path("osv.db"))
        .arg("--state-dir")
        .arg(&state)
        .arg("--root")
        .arg(&root)
        .env("PATH", "")
        .output()
        .unwrap();
    let se = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{se}");
    // journalctl is not on the (empty) PATH: said once, not fatal.
    assert!(se.contains("journalctl: cannot run"), "{se}");
    let a = env.bodies(SubmissionKind::Assessment);
    assert_eq!(a.len(), 1, "{se}");
    let doc = &a[0].1;
    assert_eq!(doc["schema"], "portcullis.assess/v1");
    // Sent exactly as `portcullis assess --format json` writes it.
    assert!(doc.get("results").is_none());
    assert!(doc["checks"].as_array().unwrap().len() > 10);
    let s = env.bodies(SubmissionKind::Scan);
    assert_eq!(s.len(), 1, "{se}");
    assert_eq!(s[0].1["schema"], "portcullis.scan/v1");
    assert!(
        s[0].1["summary"]["packages"].as_u64().unwrap_or(0) > 0
            || s[0].1["package_count"].as_u64().unwrap_or(0) > 0,
        "{}",
        s[0].1
    );
    assert!(s[0].1["findings"].is_array());
    assert_eq!(s[0].1["agent"]["host"], "e2e-host");
    // Nothing left queued.
    assert_eq!(queued(&state), 0);
}

#[test]
fn run_without_enrolment_and_bad_options_are_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["agent", "run", "--no-collect", "--state-dir"])
        .arg(d.path().join("none"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(se.contains("not enrolled"), "{se}");
    let out = Command::new(BIN)
        .args([
            "agent",
            "enrol",
            "--server",
            "ftp://x",
            "--token",
            "pce_x",
            "--state-dir",
        ])
        .arg(d.path().join("s"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http:// or https://"));
    // Nothing listens on port 1.
    let out = Command::new(BIN)
        .args([
            "agent",
            "enrol",
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "pce_x",
            "--state-dir",
        ])
        .arg(d.path().join("s"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(
        se.contains("cannot reach the server") && !se.contains("pce_x"),
        "{se}"
    );
}
