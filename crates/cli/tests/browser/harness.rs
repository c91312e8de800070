//! The pieces every browser test needs: the real `portcullis serve` process,
//! a headless Chromium (or a skip when there is none), seeding through the
//! store and the JSON API, signing in like a person, and screenshots.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_server::{OrgId, Role, Sector, Store, Tenant};
use serde_json::{json, Value};

use super::cdp::Browser;
use super::totp;

/// The bootstrapped site admin.
pub const ADMIN_EMAIL: &str = "admin@cyber-unit.example";
/// Its password (given to `serve` through `PORTCULLIS_ADMIN_PASSWORD`).
pub const ADMIN_PASSWORD: &str = "correct horse battery staple 6";
/// The password of every user the tests create.
pub const PASSWORD: &str = "a long test password 42";

/// The CLI crate's directory (fixtures live under it).
pub fn cli_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `portcullis` binary under test.
pub fn portcullis_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}

/// A Chromium to drive, or `None` when the test should be skipped (no
/// browser and `PORTCULLIS_BROWSER_TESTS` is not `1`). With
/// `PORTCULLIS_BROWSER_TESTS=1` a missing browser is a failure.
pub fn browser_or_skip(test: &str) -> Option<Browser> {
    let Some(exe) = super::cdp::find_chromium() else {
        if std::env::var("PORTCULLIS_BROWSER_TESTS").as_deref() == Ok("1") {
            panic!(
                "{test}: PORTCULLIS_BROWSER_TESTS=1 but no Chromium was found: install it \
                 (scripts/browser-deps, or apt-get install chromium) or set PORTCULLIS_CHROMIUM"
            );
        }
        // Straight to stderr, past the test harness's capture, so that the
        // skip shows in an ordinary `cargo test` run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no Chromium found (looked for chromium, chromium-browser, \
             google-chrome on PATH and /usr/bin; set PORTCULLIS_CHROMIUM to its path, or run \
             scripts/browser-deps as root). Set PORTCULLIS_BROWSER_TESTS=1 to make this a failure."
        );
        return None;
    };
    match Browser::launch(&exe) {
        Ok(b) => Some(b),
        Err(e) => panic!("{test}: cannot start {}: {e}", exe.display()),
    }
}

/// A running `portcullis serve` on a fresh SQLite database.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
    rt: tokio::runtime::Runtime,
    store: Option<Store>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- portcullis serve log ---\n{}", self.log());
        }
    }
}

impl Server {
    /// Starts the server and waits for `listening on http://…`.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(portcullis_bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--admin-email", ADMIN_EMAIL])
            .env("PORTCULLIS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("PORTCULLIS_DATABASE_URL")
            .env_remove("PORTCULLIS_LISTEN")
            .env_remove("PORTCULLIS_BASE_URL")
            .env_remove("PORTCULLIS_WEBHOOKS")
            .env_remove("PORTCULLIS_SMTP")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start portcullis serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                        let _ = tx.send(addr);
                    }
                    // Never keep the first-start password line verbatim.
                    let shown = if line.contains(ADMIN_PASSWORD) {
                        line.replace(ADMIN_PASSWORD, "<password>")
                    } else {
                        line
                    };
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&shown);
                        l.push('\n');
                    }
                }
            });
        }
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.trim_end_matches('/').to_owned(),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "portcullis serve did not print `listening on` in 60 s:\n{}",
                    log.lock().map(|l| l.clone()).unwrap_or_default()
                );
            }
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        Server {
            child,
            base,
            dir,
            log,
            rt,
            store: None,
        }
    }

    /// The server's output so far (with the admin password masked).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same SQLite database the server uses (WAL mode lets both write).
    pub fn store(&mut self) -> Store {
        if self.store.is_none() {
            let path = self.dir.path().join("portcullis-server.db");
            let s = self
                .rt
                .block_on(Store::open(&path.to_string_lossy()))
                .expect("open the server's database");
            self.store = Some(s);
        }
        self.store.clone().expect("store")
    }

    /// Runs a future on this test's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Creates an organisation (as the cyber unit would).
    pub fn create_org(&mut self, name: &str, sector: Sector, size: i64) -> OrgId {
        let store = self.store();
        let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
        self.block_on(store.create_organisation(&all, name, sector, size))
            .unwrap_or_else(|e| panic!("create organisation {name}: {e}"))
    }

    /// Creates a user with [`PASSWORD`].
    pub fn create_user(&mut self, org: OrgId, email: &str, role: Role) {
        let store = self.store();
        let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
        self.block_on(store.create_user(&all, org, email, PASSWORD, role))
            .unwrap_or_else(|e| panic!("create user {email}: {e}"));
    }

    /// Enrols `host` in `org` through the JSON API; returns its host token.
    pub fn enrol_host(&mut self, org: OrgId, host: &str) -> String {
        let store = self.store();
        let all = Tenant::for_role(OrgId(0), Role::SiteAdmin);
        let (_, enrolment) = self
            .block_on(store.create_enrolment_token(&all, org, "browser test"))
            .expect("enrolment token");
        let (status, v) = post_json(
            &self.url("/api/v1/enrol"),
            None,
            None,
            &json!({"token": enrolment, "host": host}),
        );
        assert_eq!(status, 201, "enrol {host}: {v}");
        v["host_token"]
            .as_str()
            .unwrap_or_else(|| panic!("enrol {host}: no host_token in {v}"))
            .to_owned()
    }

    /// Submits `body` of `kind` as the host with `token`.
    pub fn submit(&self, token: &str, kind: &str, key: &str, body: &Value) {
        let (status, v) = post_json(
            &self.url("/api/v1/submissions"),
            Some(token),
            Some(key),
            &json!({"kind": kind, "body": body}),
        );
        assert!(
            status == 201 || status == 200,
            "submit {kind} {key}: HTTP {status}: {v}"
        );
    }
}

/// POSTs JSON; returns the status and the JSON answer.
pub fn post_json(url: &str, bearer: Option<&str>, key: Option<&str>, body: &Value) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut req = agent.post(url).header("Content-Type", "application/json");
    if let Some(t) = bearer {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let mut resp = req
        .send(body.to_string().as_bytes())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

/// Output of the real `portcullis` CLI (`args`). Exit codes 0, 1 (findings
/// / not ready) and 3 (partial: some checks need a person's attestation)
/// are all fine; `db` is the vulnerability database to use (built from the
/// bundled snapshot on first use).
pub fn cli_output(args: &[&str], db: &Path) -> String {
    let out = Command::new(portcullis_bin())
        .args(args)
        .env("PORTCULLIS_DB", db)
        .env("NO_COLOR", "1")
        .output()
        .expect("run portcullis");
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "portcullis {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// [`cli_output`] as one JSON document.
pub fn cli_json(args: &[&str], db: &Path) -> Value {
    let out = cli_output(args, db);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("portcullis {args:?}: not JSON ({e}): {out}"))
}

/// Signs in like a person: e-mail and password, then the second factor:
/// setting it up (reading the secret from the page) when the account has
/// none, or typing the current code. `mfa` holds the account's TOTP secret
/// and the last time step used (a code is accepted once), and is filled in
/// on set-up. Ends on whatever page the sign-in leads to.
pub fn sign_in(b: &mut Browser, base: &str, email: &str, password: &str, mfa: &mut Mfa) {
    b.goto(&format!("{base}/login")).expect("open /login");
    assert_eq!(b.h1().expect("h1"), "Sign in");
    b.fill("email", email).expect("e-mail");
    b.fill("password", password).expect("password");
    b.click_button("Sign in").expect("sign in");
    let path = b.path().expect("path");
    if path.starts_with("/mfa/setup") {
        set_up_mfa(b, mfa);
    } else if path.starts_with("/login/code") {
        assert_eq!(b.h1().expect("h1"), "Enter your code");
        let code = mfa.next_code();
        b.fill("code", &code).expect("code");
        b.click_button("Continue").expect("continue");
    }
    let h1 = b.h1().expect("h1");
    assert!(
        !matches!(h1.as_str(), "Sign in" | "Enter your code"),
        "{email} is not signed in: {}",
        b.text().unwrap_or_default()
    );
}

/// Sets up TOTP on `/mfa/setup`: reads the secret shown, types the current
/// code, and follows "Continue" past the recovery codes.
pub fn set_up_mfa(b: &mut Browser, mfa: &mut Mfa) {
    assert_eq!(
        b.h1().expect("h1"),
        "Set up two-factor authentication",
        "{}",
        b.text().unwrap_or_default()
    );
    let shown = b
        .eval("(document.querySelector('code.secret') || document.querySelector('.secret') || {innerText: ''}).innerText")
        .expect("secret");
    let uri = b
        .eval("(document.querySelector('code.uri') || {innerText: ''}).innerText")
        .expect("uri");
    let key = totp::secret_from_text(shown.as_str().unwrap_or(""))
        .or_else(|| totp::secret_from_text(uri.as_str().unwrap_or("")))
        .unwrap_or_else(|| panic!("no TOTP secret on the page: {shown} / {uri}"));
    mfa.key = Some(key);
    let code = mfa.next_code();
    b.fill("code", &code).expect("code");
    b.click_button("Turn on two-factor authentication")
        .expect("turn on");
    let text = b.text().expect("text");
    assert!(
        text.contains("Two-factor authentication is on"),
        "MFA was not turned on: {text}"
    );
    assert!(text.to_lowercase().contains("recovery code"), "{text}");
    let codes = b
        .eval("Array.from(document.querySelectorAll('li code')).map(c => c.innerText.trim())")
        .expect("recovery codes");
    mfa.recovery = serde_json::from_value(codes).unwrap_or_default();
    b.click_link("Continue").expect("continue");
}

/// An account's authenticator: its secret and the last step it used.
#[derive(Default)]
pub struct Mfa {
    /// The TOTP key, once set up.
    pub key: Option<Vec<u8>>,
    /// The recovery codes shown once at set-up.
    pub recovery: Vec<String>,
    last_step: u64,
}

impl Mfa {
    /// The code to type now: the current step's, or, when that one was
    /// already used (the server accepts each step once), the next step's,
    /// as an authenticator whose clock runs a little ahead would show (the
    /// server accepts one step of skew either way).
    pub fn next_code(&mut self) -> String {
        let key = self
            .key
            .clone()
            .expect("MFA is not set up for this account");
        let mut step = totp::now() / 30;
        if step <= self.last_step {
            step = self.last_step + 1;
        }
        if step > totp::now() / 30 + 1 {
            // Two sign-ins in one step: wait for the clock.
            std::thread::sleep(Duration::from_secs(30 - totp::now() % 30 + 1));
            step = totp::now() / 30;
        }
        self.last_step = step;
        totp::code_at(&key, step * 30)
    }
}

/// Signs out with the header's button; ends on the sign-in page.
pub fn sign_out(b: &mut Browser) {
    b.click_button("Sign out").expect("sign out");
    assert_eq!(b.h1().expect("h1"), "Sign in");
}

/// Saves a screenshot of the viewport as `docs/screenshots/<name>.png`, only
/// when `PORTCULLIS_SCREENSHOTS=1` (so ordinary test runs change no files).
pub fn screenshot(b: &mut Browser, name: &str) {
    if std::env::var("PORTCULLIS_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let png = b.screenshot().expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let dir = cli_dir().join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("docs/screenshots");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {} ({} KB)", path.display(), png.len() / 1024);
}

/// Panics unless the page passes [`accessibility_problems`].
pub fn assert_accessible(b: &mut Browser) {
    let problems = accessibility_problems(b);
    if !problems.is_empty() {
        let url = b.url().unwrap_or_default();
        panic!("{url} has accessibility problems: {problems:?}");
    }
}

/// The basics of an accessible page that it lacks: a language, one `h1`, a
/// label for every visible form field, text for every button, `alt` on
/// every image, header cells in every table.
pub fn accessibility_problems(b: &mut Browser) -> Vec<String> {
    let problems = b
        .eval(
            "(() => {
               const out = [];
               if (!document.documentElement.lang) out.push('no lang on <html>');
               const h1 = document.querySelectorAll('h1').length;
               if (h1 !== 1) out.push(h1 + ' h1 elements');
               for (const el of document.querySelectorAll('input, select, textarea')) {
                 if (el.type === 'hidden') continue;
                 const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
                   || el.getAttribute('aria-labelledby') || el.title;
                 if (!named) out.push('no label: ' + el.outerHTML.slice(0, 120));
               }
               for (const btn of document.querySelectorAll('button')) {
                 if (!(btn.innerText.trim() || btn.getAttribute('aria-label'))) out.push('button without text');
               }
               for (const img of document.querySelectorAll('img')) {
                 if (!img.hasAttribute('alt')) out.push('img without alt: ' + img.outerHTML.slice(0, 80));
               }
               for (const t of document.querySelectorAll('table')) {
                 if (!t.querySelector('th')) out.push('table without header cells');
               }
               return out;
             })()",
        )
        .expect("accessibility check");
    serde_json::from_value(problems).expect("a list of problems")
}
