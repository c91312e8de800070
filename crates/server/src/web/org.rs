//! Pages: org (see the crate README's "What remains").

use axum::Router;

use crate::http::AppState;

/// This area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
