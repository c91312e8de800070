//! TLS: a pinned CA (`--ca`) is trusted; without it, a server whose
//! certificate is signed by an unknown CA is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use portcullis_agent::client::Client;
use portcullis_agent::AgentError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A one-route HTTPS server answering every enrolment with 201.
fn serve() -> u16 {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = BufReader::new(rustls::StreamOwned::new(conn, tcp));
            let mut len = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                match tls.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            if tls.read_exact(&mut body).is_err() {
                continue; // the client refused our certificate
            }
            let answer = r#"{"host":"tls-host","token_id":5,"host_token":"pch_x"}"#;
            let mut s = tls.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = s.flush();
        }
    });
    port
}

#[test]
fn the_pinned_ca_is_trusted_and_an_unknown_one_is_not() {
    let port = serve();
    let url = format!("https://127.0.0.1:{port}");
    let pinned = Client::new(&url, Some(&fixture("ca.pem"))).unwrap();
    let (host, id, secret) = pinned.enrol("pce_t", "tls-host").unwrap();
    assert_eq!(
        (host.as_str(), id, secret.as_str()),
        ("tls-host", 5, "pch_x")
    );
    // System roots (or the built-in ones) do not know the test CA.
    let system = Client::new(&url, None).unwrap();
    let err = system.enrol("pce_t", "tls-host").unwrap_err();
    assert!(matches!(err, AgentError::Http(_)), "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    // A CA file that holds no certificate is a configuration error.
    let err = Client::new(&url, Some(&fixture("README.md"))).unwrap_err();
    assert!(matches!(err, AgentError::Config(_)), "{err}");
}
