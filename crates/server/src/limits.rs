//! Limits on every HTTP request: the size of its headers, and how long it may take.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::AppState;

const MULTIPART: &str = "multipart/";

/// Refuses requests whose headers exceed `header_limit` bytes (HTTP 431), and answers HTTP 408
/// when a request takes longer than its timeout: `upload_timeout_secs` for multipart requests,
/// `request_timeout_secs` for the rest. A websocket's life and a download's body are not
/// bounded by it: their responses are ready at once, and only producing the response is timed.
pub(crate) async fn request_limits(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let config = &state.config;
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > config.header_limit {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request headers are too large",
        )
            .into_response();
    }
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().get(..MULTIPART.len()))
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(MULTIPART));
    let secs = if multipart {
        config.upload_timeout_secs
    } else {
        config.request_timeout_secs
    };
    match tokio::time::timeout(Duration::from_secs(secs), next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response(),
    }
}
