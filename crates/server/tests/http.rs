//! HTTP tests through the real router (`tower::ServiceExt::oneshot`), and
//! one through a real socket with graceful shutdown.

mod common;

use std::io::Write;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{fresh, site_admin, two_orgs, SBOM};
use portcullis_server::{router, AppState, Role, Sector, Tenant, MAX_BODY_BYTES};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024)
        .await
        .unwrap();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, v)
}

fn submit_req(token: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post("/api/v1/submissions")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    b.body(body.into()).unwrap()
}

fn sbom_submission() -> String {
    format!(r#"{{"kind":"sbom","body":{SBOM}}}"#)
}

fn err_code(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {v}"))
}

#[tokio::test]
async fn healthz_and_openapi_list_every_route() {
    let env = fresh().await;
    let app = router(AppState::new(env.store.clone()));
    let (st, v) = call(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "ok");
    let (st, doc) = call(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/api/v1/enrol",
            "/api/v1/openapi.json",
            "/api/v1/session",
            "/api/v1/submissions",
            "/api/v1/submissions/{id}",
            "/healthz"
        ]
    );
    // Every operation the document lists is routed (neither the 404
    // fallback nor 405), and the router has no route the document lacks.
    let mut operations = 0;
    for p in &paths {
        for method in doc["paths"][p].as_object().unwrap().keys() {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(*p)
                .body(Body::empty())
                .unwrap();
            let (st, v) = call(&app, req).await;
            assert!(
                st != StatusCode::NOT_FOUND || v["error"]["message"] != "no such route",
                "{method} {p}"
            );
            assert_ne!(st, StatusCode::METHOD_NOT_ALLOWED, "{method} {p}");
            operations += 1;
        }
    }
    assert_eq!(operations, 8);
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/").skip(1) {
        let target = part.split('"').next().unwrap();
        let mut node = &doc;
        for seg in target.split('/') {
            node = &node[seg];
        }
        assert!(!node.is_null(), "dangling $ref {target}");
    }
    let (st, v) = call(&app, Request::get("/api/nope").body(Body::empty()).unwrap()).await;
    assert_eq!((st, err_code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    // Outside the API, an unknown path is the HTML "Not found" page.
    let (st, v) = call(&app, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(v.as_str().unwrap().contains("<h1>Not found</h1>"));
}

#[tokio::test]
async fn enrol_submit_resend_and_refusals() {
    let env = fresh().await;
    let s = &env.store;
    let a = s
        .create_organisation(&site_admin(), "Org A", Sector::NhsTrust, 4000)
        .await
        .unwrap();
    let (_, enrol_secret) = s
        .create_enrolment_token(&site_admin(), a, "ci")
        .await
        .unwrap();
    let app = router(AppState::new(s.clone()));

    // Enrol.
    let req = Request::post("/api/v1/enrol")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"token": enrol_secret, "host": "web-01"}).to_string(),
        ))
        .unwrap();
    let (st, v) = call(&app, req).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["host"], "web-01");
    let token = v["host_token"].as_str().unwrap().to_owned();
    // A wrong enrolment token.
    let req = Request::post("/api/v1/enrol")
        .body(Body::from(r#"{"token":"pce_x","host":"h"}"#))
        .unwrap();
    let (st, v) = call(&app, req).await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    // Submit, then resend: 201 then 200 with the same receipt.
    let (st, first) = call(&app, submit_req(&token, Some("run-1"), sbom_submission())).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["created"], true);
    assert_eq!(first["submission"]["host"], "web-01");
    assert_eq!(first["submission"]["kind"], "sbom");
    let (st, again) = call(&app, submit_req(&token, Some("run-1"), sbom_submission())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(again["submission"], first["submission"]);
    assert_eq!(again["created"], false);
    // The client ID may come in the body instead.
    let body = json!({"kind": "scan", "client_id": "run-2", "body": {"findings": []}}).to_string();
    let (st, v) = call(&app, submit_req(&token, None, body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["submission"]["client_id"], "run-2");

    // Refusals, each with its code, none stored.
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            submit_req(&token, Some("k1"), "{\"kind\": \"sbom\", \"body\": {"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            submit_req(&token, Some("k2"), "\u{0}\u{1}garbage"),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            submit_req(&token, Some("k3"), r#"{"kind":"virus","body":{}}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_kind",
        ),
        (
            submit_req(
                &token,
                Some("k4"),
                r#"{"kind":"scan","body":{"findings":[{"id":"CVE-1"}]}}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            submit_req(&token, Some("k5"), r#"{"kind":"sbom","body":{},"extra":1}"#),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            submit_req(&token, None, r#"{"kind":"scan","body":{"findings":[]}}"#),
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
        ),
        (
            submit_req(
                &token,
                Some(""),
                r#"{"kind":"scan","body":{"findings":[]}}"#,
            ),
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
        ),
        (
            submit_req(
                &token,
                Some("k6"),
                r#"{"kind":"scan","client_id":"k7","body":{"findings":[]}}"#,
            ),
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
        ),
        // Same key, different body.
        (
            submit_req(
                &token,
                Some("run-1"),
                r#"{"kind":"scan","body":{"findings":[]}}"#,
            ),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            submit_req("pch_wrong", Some("k8"), sbom_submission()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Request::post("/api/v1/submissions")
                .body(Body::from(sbom_submission()))
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            submit_req(&token, Some("k9"), vec![b' '; MAX_BODY_BYTES + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (i, (req, status, code)) in cases.into_iter().enumerate() {
        let (st, v) = call(&app, req).await;
        assert_eq!((st, err_code(&v)), (status, code), "case {i}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
    }
    let scope = Tenant::for_role(a, Role::Member);
    let stored = s.list_submissions(&scope, 100).await.unwrap();
    assert_eq!(
        stored
            .iter()
            .map(|r| r.client_id.as_str())
            .collect::<Vec<_>>(),
        ["run-2", "run-1"]
    );

    // A revoked host token is refused.
    let host = s.authenticate_host(&token).await.unwrap();
    s.revoke_token(&scope, host.token_id).await.unwrap();
    let (st, v) = call(&app, submit_req(&token, Some("run-3"), sbom_submission())).await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert_eq!(s.list_submissions(&scope, 100).await.unwrap().len(), 2);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn gzip_bodies_accepted_and_gzip_bombs_refused() {
    let env = fresh().await;
    let o = two_orgs(&env.store).await;
    let app = router(AppState::new(env.store.clone()));
    let mut req = submit_req(
        &o.a_host_token,
        Some("gz-1"),
        gzip(sbom_submission().as_bytes()),
    );
    req.headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    let (st, v) = call(&app, req).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, body) = env
        .store
        .get_submission(&site_admin(), v["submission"]["id"].as_i64().unwrap())
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["components"][0]["name"], "@hpcc-js/wasm");

    // 64 MiB of spaces compresses to ~64 KiB: refused after decompression.
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 200 * 1024);
    let mut req = submit_req(&o.a_host_token, Some("gz-2"), bomb);
    req.headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    let (st, v) = call(&app, req).await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    // Not gzip at all, though it says so.
    let mut req = submit_req(&o.a_host_token, Some("gz-3"), "plainly not gzip");
    req.headers_mut()
        .insert("content-encoding", "gzip".parse().unwrap());
    let (st, v) = call(&app, req).await;
    assert_eq!((st, err_code(&v)), (StatusCode::BAD_REQUEST, "bad_body"));
    assert_eq!(
        env.store
            .list_submissions(&site_admin(), 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn host_tokens_write_only_to_their_own_organisation() {
    let env = fresh().await;
    let o = two_orgs(&env.store).await;
    let app = router(AppState::new(env.store.clone()));
    let (st, b) = call(
        &app,
        submit_req(&o.b_host_token, Some("same"), sbom_submission()),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    // A's host with B's key: a new submission in A; B's is not returned.
    let (st, a) = call(
        &app,
        submit_req(&o.a_host_token, Some("same"), sbom_submission()),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert_ne!(a["submission"]["id"], b["submission"]["id"]);
    assert_eq!(a["submission"]["org"], o.a.0);
    assert_eq!(b["submission"]["org"], o.b.0);
}

#[test]
fn real_socket_and_graceful_shutdown() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let env = fresh().await;
        let o = two_orgs(&env.store).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(portcullis_server::serve(
            listener,
            AppState::new(env.store.clone()),
            async {
                let _ = stopped.await;
            },
        ));
        let token = o.a_host_token.clone();
        let (health, submitted) = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            let health = agent
                .get(format!("http://{addr}/healthz"))
                .call()
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap();
            let resp = agent
                .post(format!("http://{addr}/api/v1/submissions"))
                .header("authorization", format!("Bearer {token}"))
                .header("idempotency-key", "sock-1")
                .header("content-type", "application/json")
                .send(sbom_submission())
                .unwrap();
            (health, resp.status().as_u16())
        })
        .await
        .unwrap();
        assert!(health.contains("\"status\":\"ok\""), "{health}");
        assert_eq!(submitted, 201);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    });
}

async fn sign_in(app: &axum::Router, email: &str, password: &str) -> (StatusCode, Option<String>) {
    let req = Request::post("/api/v1/session")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, cookie)
}

/// A fully signed-in session (TOTP set up and confirmed), as a cookie.
async fn full_session(s: &portcullis_server::Store, email: &str, pw: &str) -> String {
    use portcullis_server::store::{totp_code, SessionStage};
    let user = s.login(email, pw).await.unwrap().unwrap();
    let (mut secret, stage) = s.start_session(&user, None).await.unwrap();
    if stage == SessionStage::Setup {
        let totp = s.totp_setup_secret(&user).await.unwrap().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let code = totp_code(&totp, now).unwrap();
        secret = s
            .confirm_totp(&secret, &code, None)
            .await
            .unwrap()
            .unwrap()
            .0;
    }
    format!("portcullis_session={secret}")
}

fn get_with(uri: &str, cookie: &str) -> Request<Body> {
    Request::get(uri)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn sessions_scope_reads_to_the_users_organisation() {
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let pw = "correct horse battery staple";
    s.create_user(&site_admin(), o.a, "member@a.example", pw, Role::Member)
        .await
        .unwrap();
    s.create_user(
        &site_admin(),
        o.a,
        "analyst@unit.example",
        pw,
        Role::Analyst,
    )
    .await
    .unwrap();
    let app = router(AppState::new(s.clone()));
    let (_, a) = call(
        &app,
        submit_req(&o.a_host_token, Some("a1"), sbom_submission()),
    )
    .await;
    let (_, b) = call(
        &app,
        submit_req(&o.b_host_token, Some("b1"), sbom_submission()),
    )
    .await;
    let (a_id, b_id) = (
        a["submission"]["id"].as_i64().unwrap(),
        b["submission"]["id"].as_i64().unwrap(),
    );

    // No session, a made-up session, a wrong password.
    let (st, v) = call(
        &app,
        Request::get("/api/v1/submissions")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (st, _) = call(
        &app,
        get_with("/api/v1/submissions", "portcullis_session=pcs_forged"),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in(&app, "member@a.example", "not the password").await,
        (StatusCode::UNAUTHORIZED, None)
    );

    let (st, cookie) = sign_in(&app, "member@a.example", pw).await;
    assert_eq!(st, StatusCode::OK);
    let member = cookie.unwrap();
    let (st, v) = call(&app, get_with("/api/v1/submissions", &member)).await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<i64> = v["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a_id]);
    let (st, v) = call(
        &app,
        get_with(&format!("/api/v1/submissions/{a_id}"), &member),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["body"]["components"].as_array().unwrap().len(), 67);
    // B's submission does not exist for A's member.
    let (st, v) = call(
        &app,
        get_with(&format!("/api/v1/submissions/{b_id}"), &member),
    )
    .await;
    assert_eq!((st, err_code(&v)), (StatusCode::NOT_FOUND, "not_found"));
    let (st, _) = call(&app, get_with("/api/v1/submissions/not-a-number", &member)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // The analyst must use multi-factor sign-in: the API refuses a password
    // alone and leaves no session behind.
    let (st, analyst) = sign_in(&app, "analyst@unit.example", pw).await;
    assert_eq!((st, analyst), (StatusCode::FORBIDDEN, None));
    // Signed in with the one-time code (the web flow, done through the
    // store here), the analyst (a member of A's organisation record) sees both.
    let analyst = full_session(s, "analyst@unit.example", pw).await;
    let (_, v) = call(&app, get_with("/api/v1/submissions?limit=10", &analyst)).await;
    assert_eq!(v["submissions"].as_array().unwrap().len(), 2);
    let (st, _) = call(
        &app,
        get_with(&format!("/api/v1/submissions/{b_id}"), &analyst),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // Signing out ends the session.
    let req = Request::delete("/api/v1/session")
        .header("cookie", &member)
        .body(Body::empty())
        .unwrap();
    let (st, _) = call(&app, req).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = call(&app, get_with("/api/v1/submissions", &member)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

/// Real `portcullis scan/assess/hunt` output submitted as the CLI writes it,
/// for the host and for a project; the OpenAPI document describes both.
#[tokio::test]
async fn cli_reports_and_project_submissions_over_http() {
    use portcullis_server::store::AssetKind;
    const SCAN: &str = include_str!("fixtures/risk/scan-cargo.json");
    const ASSESS: &str = include_str!("fixtures/risk/assess-debian12.json");
    const HUNT: &str = include_str!("fixtures/risk/hunt.jsonl");
    let env = fresh().await;
    let s = &env.store;
    let t = two_orgs(s).await;
    let app = router(AppState::new(s.clone()));

    let (_, doc) = call(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let req = &doc["components"]["schemas"]["SubmissionRequest"]["properties"];
    assert_eq!(req["asset"]["$ref"], "#/components/schemas/AssetRef");
    assert_eq!(
        doc["components"]["schemas"]["AssetRef"]["properties"]["kind"]["enum"],
        json!(["host", "project"])
    );
    let titles: Vec<&str> = req["body"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].as_str().unwrap())
        .collect();
    for kind in ["scan", "assessment", "detections", "practice"] {
        assert!(titles.contains(&kind), "{kind} shape not documented");
    }
    assert!(doc["paths"]["/api/v1/submissions"]["post"]["responses"]["403"].is_object());

    let hunt: Vec<Value> = HUNT
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bodies = [
        ("scan", SCAN.to_owned()),
        ("assessment", ASSESS.to_owned()),
        ("detections", json!({ "detections": hunt }).to_string()),
    ];
    for (i, (kind, body)) in bodies.iter().enumerate() {
        let req = format!(r#"{{"kind":"{kind}","body":{body}}}"#);
        let (st, v) = call(
            &app,
            submit_req(&t.a_host_token, Some(&format!("h{i}")), req),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{kind}: {v}");
    }
    // The same scan for a project of the organisation (a CI job).
    let req = format!(
        r#"{{"kind":"scan","asset":{{"kind":"project","name":"github.com/example/app"}},"body":{SCAN}}}"#
    );
    let (st, v) = call(&app, submit_req(&t.a_host_token, Some("p1"), req)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["submission"]["host"], "github.com/example/app");
    // Naming another host: 403, nothing stored.
    let req =
        format!(r#"{{"kind":"scan","asset":{{"kind":"host","name":"b-host"}},"body":{SCAN}}}"#);
    let (st, v) = call(&app, submit_req(&t.a_host_token, Some("x1"), req)).await;
    assert_eq!((st, err_code(&v)), (StatusCode::FORBIDDEN, "forbidden"));
    assert!(v["error"]["message"].as_str().unwrap().contains("a-host"));
    // An unknown asset kind is malformed.
    let req = format!(r#"{{"kind":"scan","asset":{{"kind":"repo","name":"x"}},"body":{SCAN}}}"#);
    let (st, v) = call(&app, submit_req(&t.a_host_token, Some("x2"), req)).await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    // A scan report sent as an assessment is refused, naming the schema.
    let req = format!(r#"{{"kind":"assessment","body":{SCAN}}}"#);
    let (st, v) = call(&app, submit_req(&t.a_host_token, Some("x3"), req)).await;
    assert_eq!(
        (st, err_code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("portcullis.assess/v1"));

    let a = Tenant::for_role(t.a, Role::Member);
    let d = s.org_detail(&a, t.a).await.unwrap();
    let kinds: Vec<(&str, AssetKind, i64)> = d
        .assets
        .iter()
        .map(|x| (x.name.as_str(), x.kind, x.vulns))
        .collect();
    assert_eq!(
        kinds,
        [
            ("a-host", AssetKind::Host, 21),
            ("github.com/example/app", AssetKind::Project, 21)
        ]
    );
    assert_eq!(d.detections.len(), 11);
    assert_eq!(d.risk.checks_failed, 6);
    assert_eq!(s.list_submissions(&a, 100).await.unwrap().len(), 4);
}

#[tokio::test]
async fn api_sign_in_takes_the_one_time_code_and_refuses_without_it() {
    use portcullis_server::store::totp_code;
    let env = fresh().await;
    let s = &env.store;
    let o = two_orgs(s).await;
    let pw = "correct horse battery staple";
    s.create_user(
        &site_admin(),
        o.a,
        "analyst@unit.example",
        pw,
        Role::Analyst,
    )
    .await
    .unwrap();
    let app = router(AppState::new(s.clone()));
    // MFA not yet set up: the API sends the person to the web page.
    let (status, cookie) = sign_in(&app, "analyst@unit.example", pw).await;
    assert_eq!((status, cookie.is_some()), (StatusCode::FORBIDDEN, false));
    // Set up (as the web page does), then sign out of that session.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let user = s.login("analyst@unit.example", pw).await.unwrap().unwrap();
    let (half, _) = s.start_session(&user, None).await.unwrap();
    let totp = s.totp_setup_secret(&user).await.unwrap().unwrap();
    let (full, _) = s
        .confirm_totp(&half, &totp_code(&totp, now).unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    s.end_session(&full).await.unwrap();
    // Without a code: 403 mfa_required, no cookie.
    let (status, cookie) = sign_in(&app, "analyst@unit.example", pw).await;
    assert_eq!((status, cookie.is_some()), (StatusCode::FORBIDDEN, false));
    // A wrong code: 401, no cookie.
    let with_code = |code: String| {
        Request::post("/api/v1/session")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"email": "analyst@unit.example", "password": pw, "code": code}).to_string(),
            ))
            .unwrap()
    };
    let resp = app
        .clone()
        .oneshot(with_code("000000".into()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get("set-cookie").is_none());
    // The right code (the next step: the current one was used at set-up).
    let code = totp_code(&totp, now + 30).unwrap();
    let resp = app.clone().oneshot(with_code(code)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let resp = app
        .clone()
        .oneshot(get_with("/api/v1/submissions", &cookie))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
