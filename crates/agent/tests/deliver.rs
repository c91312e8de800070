//! Delivery against a scripted HTTP server: 2xx acknowledges, 409/422 drop
//! and count (the queue is not blocked), 5xx and connection failures keep
//! the item, 401 stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use portcullis_agent::client::Client;
use portcullis_agent::deliver::{deliver_pending, Pass};
use portcullis_agent::queue::{Item, Queue};
use serde_json::json;

/// Answers each request with the next status of `script`; records the
/// idempotency keys and whether the body was gzip-compressed.
/// (idempotency key, gzip'd) of each request seen.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

fn serve(script: Vec<u16>) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for tcp in listener.incoming().flatten() {
            let mut r = BufReader::new(tcp);
            let (mut len, mut key, mut gz) = (0usize, String::new(), false);
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = line
                    .strip_prefix("idempotency-key:")
                    .or(line.strip_prefix("Idempotency-Key:"))
                {
                    key = v.trim().to_owned();
                }
                if lower.starts_with("content-encoding: gzip") {
                    gz = true;
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            let _ = r.read_exact(&mut body);
            log.lock().unwrap().push((key, gz));
            let status = script.next().unwrap_or(500);
            let answer = format!(r#"{{"error":{{"code":"x","message":"scripted {status}"}}}}"#);
            let mut s = r.into_inner();
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (port, seen)
}

fn item(n: usize, pad: usize) -> Item {
    Item {
        key: format!("key-{n}"),
        kind: "detections".into(),
        body: json!({"detections": [], "pad": "x".repeat(pad)}),
        queued_at: 0,
    }
}

#[test]
fn refusals_are_dropped_and_counted_failures_kept_and_401_stops() {
    let d = tempfile::tempdir().unwrap();
    let q = Mutex::new(Queue::open(d.path(), 1 << 20).unwrap());
    for n in 0..4 {
        q.lock()
            .unwrap()
            .enqueue(&item(n, if n == 0 { 10_000 } else { 10 }))
            .unwrap();
    }
    // 201, then 409 (dropped), 422 (dropped), then 503 (kept).
    let (port, seen) = serve(vec![201, 409, 422, 503, 200, 401]);
    let c = Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let logged = Mutex::new(Vec::<String>::new());
    let log = |m: &str| logged.lock().unwrap().push(m.to_owned());
    let pass = deliver_pending(&q, &c, "pch_t", &log);
    assert!(
        matches!(pass, Pass::Retry(ref m) if m.contains("503")),
        "{pass:?}"
    );
    {
        let mut q = q.lock().unwrap();
        assert_eq!(q.len(), 1, "the 503 item stays");
        assert_eq!(q.peek().unwrap().item.key, "key-3");
        assert_eq!(q.counters().rejected_total, 2);
    }
    assert_eq!(
        logged.lock().unwrap().len(),
        2,
        "{:?}",
        logged.lock().unwrap()
    );
    // The resend is a 200 (the server had it): acknowledged.
    assert_eq!(deliver_pending(&q, &c, "pch_t", &log), Pass::Drained);
    assert!(q.lock().unwrap().is_empty());
    let keys: Vec<(String, bool)> = seen.lock().unwrap().clone();
    assert_eq!(
        keys.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        ["key-0", "key-1", "key-2", "key-3", "key-3"]
    );
    assert!(keys[0].1, "a large body is gzip-compressed");
    assert!(!keys[1].1, "a small one is not");
    // 401: stop, keep the item.
    q.lock().unwrap().enqueue(&item(9, 1)).unwrap();
    let pass = deliver_pending(&q, &c, "pch_t", &log);
    assert!(
        matches!(pass, Pass::Revoked(ref m) if m.contains("revoked")),
        "{pass:?}"
    );
    assert_eq!(q.lock().unwrap().len(), 1);
}

#[test]
fn an_unreachable_server_keeps_everything() {
    let d = tempfile::tempdir().unwrap();
    let q = Mutex::new(Queue::open(d.path(), 1 << 20).unwrap());
    q.lock().unwrap().enqueue(&item(0, 1)).unwrap();
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::new(&format!("http://127.0.0.1:{port}"), None).unwrap();
    let pass = deliver_pending(&q, &c, "pch_t", &|_| {});
    assert!(matches!(pass, Pass::Retry(_)), "{pass:?}");
    assert_eq!(q.lock().unwrap().len(), 1);
}
