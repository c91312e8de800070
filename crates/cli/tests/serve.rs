//! `portcullis serve` as an operator runs it: the real binary on a free
//! loopback port with a temporary data directory, spoken to over HTTP/1.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const PASSWORD: &str = "a long bootstrap passphrase";

/// A running server; killed when dropped.
struct Server {
    child: Child,
    addr: String,
    /// Everything it printed on stderr up to `listening on`.
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path, admin_email: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("PORTCULLIS_ADMIN_PASSWORD", PASSWORD)
        .env("PORTCULLIS_ADMIN_EMAIL", admin_email)
        .env_remove("PORTCULLIS_DATABASE_URL")
        .env_remove("PORTCULLIS_LISTEN")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut banner = String::new();
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            banner.push_str(&line);
            banner.push('\n');
            if !sent && line.starts_with("listening on http://") {
                let _ = tx.send(banner.clone());
                sent = true;
            }
        }
        if !sent {
            let _ = tx.send(banner);
        }
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server printed its address");
    let addr = banner
        .lines()
        .find_map(|l| l.strip_prefix("listening on http://"))
        .unwrap_or_else(|| panic!("no address in: {banner}"))
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    Server {
        child,
        addr,
        banner,
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn http(addr: &str, method: &str, path: &str, cookie: Option<&str>, form: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    let body = form.unwrap_or("");
    if form.is_some() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[test]
fn serve_bootstraps_one_admin_who_signs_in_and_must_set_up_mfa() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let server = start(&data, "admin@unit.example");
        assert!(
            server
                .banner
                .contains("created site admin admin@unit.example"),
            "{}",
            server.banner
        );
        assert!(
            !server.banner.contains(PASSWORD),
            "a password from the environment is never echoed"
        );
        assert!(data.join("portcullis-server.db").exists());

        let health = http(&server.addr, "GET", "/healthz", None, None);
        assert_eq!(health.status, 200);
        assert!(health.body.contains("\"status\":\"ok\""), "{}", health.body);
        assert!(health.body.contains("\"database\":\"sqlite\""));

        // A wrong password is refused; the right one starts a session that
        // must set up MFA first (site admins require it).
        let wrong = http(
            &server.addr,
            "POST",
            "/login",
            None,
            Some("email=admin%40unit.example&password=not+the+password"),
        );
        assert_eq!(wrong.status, 401);
        let form = format!(
            "email=admin%40unit.example&password={}",
            PASSWORD.replace(' ', "+")
        );
        let ok = http(&server.addr, "POST", "/login", None, Some(&form));
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.header("location"), Some("/mfa/setup"));
        let set_cookie = ok.header("set-cookie").unwrap();
        assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let setup = http(&server.addr, "GET", "/mfa/setup", Some(&cookie), None);
        assert_eq!(setup.status, 200);
        assert!(setup
            .body
            .contains("otpauth://totp/Portcullis%3Aadmin%40unit.example?secret="));
        // Every other page sends this session back to the set-up.
        let admin = http(&server.addr, "GET", "/admin", Some(&cookie), None);
        assert_eq!(admin.status, 303);
        assert!(admin.header("location").unwrap().starts_with("/mfa/setup"));
        // Without a session, pages redirect to sign-in.
        let anon = http(&server.addr, "GET", "/admin/users", None, None);
        assert_eq!(anon.status, 303);
        assert_eq!(anon.header("location"), Some("/login?next=/admin/users"));
    }
    // A second start with the same data keeps the one admin, whatever
    // address it is given.
    let server = start(&data, "second@unit.example");
    assert!(
        !server.banner.contains("created site admin"),
        "{}",
        server.banner
    );
    let form = format!(
        "email=admin%40unit.example&password={}",
        PASSWORD.replace(' ', "+")
    );
    let ok = http(&server.addr, "POST", "/login", None, Some(&form));
    assert_eq!(ok.status, 303);
    let second = form.replace("admin%40", "second%40");
    let refused = http(&server.addr, "POST", "/login", None, Some(&second));
    assert_eq!(refused.status, 401, "no second admin was created");
}

#[test]
fn single_sign_on_settings_are_checked_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], secret: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        c.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .env_remove("PORTCULLIS_OIDC_CLIENT_SECRET")
            .env_remove("PORTCULLIS_OIDC_CLIENT_ID")
            .env_remove("PORTCULLIS_BASE_URL")
            .env("NO_COLOR", "1");
        if let Some(s) = secret {
            c.env("PORTCULLIS_OIDC_CLIENT_SECRET", s);
        }
        let out = c.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = run(&["--oidc-issuer", "https://idp.example"], None);
    assert!(!ok && err.contains("--oidc-client-id"), "{err}");
    let (ok, err) = run(
        &[
            "--oidc-issuer",
            "https://idp.example",
            "--oidc-client-id",
            "p",
        ],
        None,
    );
    assert!(
        !ok && err.contains("PORTCULLIS_OIDC_CLIENT_SECRET"),
        "{err}"
    );
    let (ok, err) = run(
        &[
            "--oidc-issuer",
            "https://idp.example",
            "--oidc-client-id",
            "p",
        ],
        Some("s3cret"),
    );
    assert!(!ok && err.contains("--base-url"), "{err}");
    assert!(!err.contains("s3cret"));
}
