use axum::extract::State;
use axum::http::StatusCode;

use crate::server::AppState;

/// The process is alive.
pub(crate) async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.database.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}
