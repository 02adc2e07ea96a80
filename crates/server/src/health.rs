use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

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

/// Counters in the Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "# HELP convene_sql_statements_total SQL statements sent to the database.\n\
         # TYPE convene_sql_statements_total counter\n\
         convene_sql_statements_total {}\n",
        state.database.statements()
    );
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
