//! The HTTP API (axum): health, enrolment, submissions and the OpenAPI document.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use tower_http::decompression::RequestDecompressionLayer;

use crate::store::{AssetKind, AssetRef, NewSubmission, Store};
use crate::{StoreError, SubmissionKind};

/// The largest request body accepted, after decompression: 8 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The longest idempotency key accepted.
const MAX_KEY_LEN: usize = 200;

/// The OpenAPI 3.1 document, written by hand.
const OPENAPI: &str = include_str!("openapi.json");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The configuration.
    pub config: std::sync::Arc<crate::Config>,
}

impl AppState {
    /// State with the default configuration.
    pub fn new(store: Store) -> AppState {
        AppState::with_config(store, crate::Config::default())
    }

    /// State with `config`.
    pub fn with_config(store: Store, config: crate::Config) -> AppState {
        AppState {
            store,
            config: std::sync::Arc::new(config),
        }
    }
}

/// An API error: `{ "error": { "code": "…", "message": "…" } }`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
            StoreError::Unauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the token is unknown or revoked; enrol again or ask your organisation admin for a new token",
            ),
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            StoreError::Invalid(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string()),
        }
    }
}

/// The router with every route and layer.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/enrol", post(enrol))
        .route("/api/v1/submissions", post(submit).get(list_submissions))
        .route("/api/v1/submissions/{id}", get(get_submission))
        .route("/api/v1/session", post(login).delete(logout))
        .merge(crate::web::routes())
        .fallback(|uri: axum::http::Uri| async move {
            if uri.path().starts_with("/api/") {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route").into_response()
            } else {
                crate::web::PageError::NotFound.into_response()
            }
        })
        // The limit applies to the decompressed body, so a small gzip bomb
        // cannot expand past it.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestDecompressionLayer::new())
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(crate::background::run(state.clone(), async move {
        let mut rx = stop_rx;
        let _ = rx.wait_for(|stop| *stop).await;
    }));
    // The peer address reaches handlers as `ConnectInfo` (the login
    // defences count failures per source address).
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = jobs.await;
    result
}

/// Completes on Ctrl-C or (on Unix) SIGTERM: pass it to [`serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, never complete from this arm.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            Json(json!({ "status": "ok", "database": state.store.backend() })).into_response()
        }
        Err(e) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            e.to_string(),
        )
        .into_response(),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the token as `Authorization: Bearer <token>`",
            )
        })
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes (after decompression); split the submission"),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            format!("the body could not be read: {e}"),
        )
    }
}

fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("line {} column {}: {e}", e.line(), e.column()),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolRequest {
    token: String,
    host: String,
}

async fn enrol(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(body_error)?;
    let req: EnrolRequest = parse_json(&body)?;
    let (id, secret) = state.store.enrol(&req.token, &req.host).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "host": id.host, "token_id": id.token_id, "host_token": secret })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmissionRequest {
    kind: String,
    #[serde(default)]
    client_id: Option<String>,
    /// The asset the submission is about; the sending host when absent.
    #[serde(default)]
    asset: Option<AssetRef>,
    body: Json_,
}

async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Authenticate first: an unauthenticated caller learns nothing about the body.
    let token = bearer(&headers)?;
    let from = state.store.authenticate_host(token).await?;
    let body = body.map_err(body_error)?;
    let req: SubmissionRequest = parse_json(&body)?;
    let kind = SubmissionKind::parse(&req.kind).ok_or_else(|| {
        let names: Vec<&str> = SubmissionKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_kind",
            format!("kind `{}` is not one of {}", req.kind, names.join(", ")),
        )
    })?;
    let header_key = match headers.get("idempotency-key") {
        Some(v) => Some(v.to_str().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_idempotency_key",
                "Idempotency-Key must be printable ASCII",
            )
        })?),
        None => None,
    };
    let client_id = match (header_key, req.client_id.as_deref()) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_idempotency_key",
                "the Idempotency-Key header and the body's client_id differ; send one, or the same in both",
            ))
        }
        (Some(k), _) | (None, Some(k)) => k.trim(),
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                "send an Idempotency-Key header (or a client_id in the body) so that a resend is not stored twice",
            ))
        }
    };
    if client_id.is_empty()
        || client_id.len() > MAX_KEY_LEN
        || client_id.chars().any(char::is_control)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            format!("the idempotency key must be 1 to {MAX_KEY_LEN} printable characters"),
        ));
    }
    let asset = req.asset.unwrap_or_else(|| AssetRef {
        kind: AssetKind::Host,
        name: from.host.clone(),
    });
    if asset.kind == AssetKind::Host && asset.name != from.host {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "this token belongs to host `{}`: it submits for that host or for a project (`\"asset\": {{\"kind\": \"project\", \"name\": …}}`)",
                from.host
            ),
        ));
    }
    crate::validate::validate(kind, &req.body)
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", m))?;
    let sub = NewSubmission {
        kind,
        client_id: client_id.to_owned(),
        body: req.body.to_string(),
    };
    let (receipt, created) = state.store.submit_for(&from, &asset, &sub).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({ "submission": receipt, "created": created })),
    )
        .into_response())
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "portcullis_session";

/// The `Set-Cookie` value for a session secret (`max_age` 0 ends it).
pub(crate) fn session_cookie(secret: &str, max_age: u32) -> String {
    format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}"
    )
}

/// The session secret from the request's cookies.
pub(crate) fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

async fn session_user(state: &AppState, headers: &HeaderMap) -> Result<crate::User, ApiError> {
    let secret = session_secret(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first (POST /api/v1/session)",
        )
    })?;
    state.store.session_user(secret).await.map_err(|e| match e {
        StoreError::Unauthorized => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the session has expired or ended; sign in again",
        ),
        other => other.into(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
    /// The current TOTP code (or a recovery code), for accounts with MFA.
    #[serde(default)]
    code: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    crate::web::auth::ClientIp(ip): crate::web::auth::ClientIp,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(body_error)?;
    let req: LoginRequest = parse_json(&body)?;
    let ip = ip.as_deref();
    // The same defences as the sign-in page: per account, per source
    // address, service-wide; one answer for every refusal.
    let refused = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong e-mail address, password or code, or sign-in is paused for this account or network after repeated failures",
        )
    };
    let Some(user) = state
        .store
        .login_from(&req.email, &req.password, ip)
        .await?
    else {
        return Err(refused());
    };
    let (secret, stage) = state.store.start_session(&user, ip).await?;
    let secret = match (stage, req.code.as_deref()) {
        (crate::store::SessionStage::Full, _) => secret,
        (crate::store::SessionStage::Code, Some(code)) => {
            match state.store.verify_second_factor(&secret, code, ip).await? {
                Some((_, full)) => full,
                None => {
                    state.store.end_session(&secret).await?;
                    return Err(refused());
                }
            }
        }
        (crate::store::SessionStage::Code, None) => {
            state.store.end_session(&secret).await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "mfa_required",
                "this account signs in with a one-time code: send it as `code` with the e-mail address and password",
            ));
        }
        (crate::store::SessionStage::Setup, _) => {
            // Setting up MFA happens on the web page; no half-signed-in
            // session is left behind.
            state.store.end_session(&secret).await?;
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "mfa_setup_required",
                "this account must set up two-factor authentication first: sign in on the web page (/login)",
            ));
        }
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200"
    );
    Ok((
        StatusCode::OK,
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "user": user })),
    )
        .into_response())
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = session_secret(&headers) {
        state.store.end_session(secret).await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
}

async fn list_submissions(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let user = session_user(&state, &headers).await?;
    let Query(q) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let list = state
        .store
        .list_submissions(&user.tenant(), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "submissions": list })).into_response())
}

async fn get_submission(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let user = session_user(&state, &headers).await?;
    let Path(id) =
        id.map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such submission"))?;
    let (receipt, body) = state.store.get_submission(&user.tenant(), id).await?;
    let body: Json_ = serde_json::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("stored body: {e}"),
        )
    })?;
    Ok(Json(json!({ "submission": receipt, "body": body })).into_response())
}
