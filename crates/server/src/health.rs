use std::sync::atomic::Ordering;

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
    let live = state.services.hub.stats();
    let metrics = [
        (
            "convene_sql_statements_total",
            "counter",
            "SQL statements sent to the database.",
            state.database.statements(),
        ),
        (
            "convene_password_hashes_total",
            "counter",
            "argon2id hashes and verifications run (unknown users are verified against a decoy).",
            state.password_work.load(Ordering::Relaxed),
        ),
        (
            "convene_ws_connections",
            "gauge",
            "Open websocket connections.",
            live.connections,
        ),
        (
            "convene_live_subscriptions",
            "gauge",
            "Live subscriptions.",
            live.subscriptions,
        ),
        (
            "convene_live_events_published_total",
            "counter",
            "Committed events this process's hub received.",
            live.published,
        ),
        (
            "convene_live_events_delivered_total",
            "counter",
            "Events queued for a subscription (once per subscription).",
            live.delivered,
        ),
        (
            "convene_live_queue_overflows_total",
            "counter",
            "Websocket connections closed because their event queue was full.",
            live.overflows,
        ),
        (
            "convene_live_queued_events",
            "gauge",
            "Events waiting in websocket queues.",
            live.queued,
        ),
    ];
    let body: String = metrics
        .iter()
        .map(|(name, kind, help, value)| {
            format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n")
        })
        .collect();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
