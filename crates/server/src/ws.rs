//! `/graphql/ws`: GraphQL subscriptions over websockets, speaking `graphql-transport-ws` and
//! the legacy `graphql-ws`.
//!
//! async-graphql runs the protocol; this module adds what a public server needs around it:
//! the `Origin` check, authentication from `connection_init`, the protocol's close codes
//! (4400 bad message, 4401 subscribe before init, 4403 invalid token, 4408 init timeout, 4429
//! second init), small buffers, a bounded event queue per connection (closed with 1013 when a
//! client reads too slowly) and 1001 on shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{
    ClientMessage, WebSocket as GraphQLWebSocket, WebSocketProtocols as Protocols, WsMessage,
};
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use convene_domain::{DomainError, SessionToken};
use convene_graphql::{ConnectionQueue, RequestInfo, connection_data};
use futures_util::{SinkExt, StreamExt, future};
use tokio::sync::watch;

use crate::auth;
use crate::client_ip::{self, ClientIp};
use crate::server::AppState;

/// Each connection reads in chunks this small: an idle subscription should cost little.
const READ_BUFFER: usize = 1024;
/// Outgoing messages are written once this much is buffered (or on flush).
const WRITE_BUFFER: usize = 8 * 1024;
/// How long a closing handshake may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) async fn upgrade(
    State(state): State<AppState>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return (StatusCode::FORBIDDEN, "this origin may not open websockets").into_response();
    }
    // A malformed `Authorization` header on the handshake is refused like a bad token.
    let handshake_token = match auth::token_from(&headers) {
        Ok(token) => token,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    let limit = state.config.ws_message_limit;
    let upgrade = upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit);
    let protocol = upgrade
        .selected_protocol()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or(Protocols::GraphQLWS);
    let info = client_ip::request_info(&headers, client);
    upgrade.on_upgrade(move |socket| serve(socket, state, protocol, handshake_token, info))
}

/// Handshakes without `Origin` come from clients that are not browsers; a browser's must be
/// the server's own origin or a configured one.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let own = headers.get(HOST).and_then(|host| host.to_str().ok());
    own.is_some_and(|host| {
        ["http://", "https://"].iter().any(|scheme| {
            origin
                .strip_prefix(scheme)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        })
    })
}

/// Facts the incoming side tells the outgoing side.
#[derive(Default)]
struct Progress {
    /// `connection_init` arrived (the init timer stops).
    init_seen: AtomicBool,
    /// The token in `connection_init` was refused (close with 4403).
    init_refused: AtomicBool,
    /// Why reading stopped, as a close code: 1009 for a message over the limit.
    read_failure: AtomicU16,
}

async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: Protocols,
    handshake_token: Option<SessionToken>,
    info: RequestInfo,
) {
    let queue = state.services.hub.connection_queue(
        state.config.ws_queue_capacity,
        state.config.ws_subscription_limit,
    );
    let progress = Arc::new(Progress::default());
    let (mut sink, source) = socket.split();

    let seen = progress.clone();
    let failed = progress.clone();
    let incoming = source
        .take_while(move |message| {
            if let Err(error) = message {
                // tungstenite reports an oversized message as a capacity error.
                let too_big = error.to_string().contains("Space limit exceeded");
                let code = if too_big { 1009 } else { 1002 };
                failed.read_failure.store(code, Ordering::Release);
            }
            future::ready(!matches!(message, Err(_) | Ok(Message::Close(_))))
        })
        .filter_map(move |message| {
            let parsed = match message {
                Ok(Message::Text(text)) => Some(ClientMessage::from_bytes(text.as_bytes())),
                Ok(Message::Binary(bytes)) => Some(ClientMessage::from_bytes(bytes)),
                _ => None,
            };
            if let Some(Ok(ClientMessage::ConnectionInit { .. })) = &parsed {
                seen.init_seen.store(true, Ordering::Release);
            }
            future::ready(parsed)
        });

    let services = state.services.clone();
    let refused = progress.clone();
    let connection_queue = queue.clone();
    let protocol_stream =
        GraphQLWebSocket::from_message_stream(state.schema.clone(), incoming, protocol)
            .on_connection_init(move |payload| async move {
                let data =
                    initialize(&services, payload, handshake_token, connection_queue, info).await;
                if data.is_err() {
                    refused.init_refused.store(true, Ordering::Release);
                }
                data
            });
    let mut protocol_stream = std::pin::pin!(protocol_stream);

    let mut shutdown = state.shutdown.clone();
    let init_timeout = tokio::time::sleep(Duration::from_secs(state.config.ws_init_timeout_secs));
    let mut init_timeout = std::pin::pin!(init_timeout);
    let shutting_down = || Some((1001, "the server is shutting down".to_owned()));
    let overflowed = || Some((1013, "too slow: resume from your last cursor".to_owned()));
    let close = loop {
        let outgoing = tokio::select! {
            biased;
            _ = shutdown.wait_for(|stopping| *stopping) => break shutting_down(),
            () = queue.overflowed() => break overflowed(),
            () = &mut init_timeout, if !progress.init_seen.load(Ordering::Acquire) => {
                break Some((4408, "Connection initialisation timeout".to_owned()));
            }
            outgoing = protocol_stream.next() => outgoing,
        };
        let message = match outgoing {
            None => match progress.read_failure.load(Ordering::Acquire) {
                0 => break Some((1000, String::new())),
                1009 => break Some((1009, "message too big".to_owned())),
                code => break Some((code, "unreadable message".to_owned())),
            },
            Some(WsMessage::Text(text)) => Message::Text(text.into()),
            Some(WsMessage::Close(code, reason)) => {
                break Some((close_code(code, &reason, &progress), reason));
            }
        };
        // A client that stops reading blocks this send; its queue then fills up.
        tokio::select! {
            biased;
            _ = shutdown.wait_for(|stopping| *stopping) => break shutting_down(),
            () = queue.overflowed() => break overflowed(),
            sent = sink.send(message) => if sent.is_err() { break None },
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// The close code this server sends for one that async-graphql chose.
fn close_code(code: u16, reason: &str, progress: &Progress) -> u16 {
    match code {
        1002 if progress.init_refused.load(Ordering::Acquire) => 4403,
        // The only other protocol error is a message that does not parse.
        1002 => 4400,
        1011 if reason.contains("handshake is not completed") => 4401,
        other => other,
    }
}

/// Authenticates the connection from `connection_init`'s `authorization` (or the handshake's
/// cookie) and builds its context data. An unknown, expired or revoked token is refused.
async fn initialize(
    services: &convene_graphql::Services,
    payload: serde_json::Value,
    handshake_token: Option<SessionToken>,
    queue: Arc<ConnectionQueue>,
    info: RequestInfo,
) -> async_graphql::Result<Data> {
    let refused = || async_graphql::Error::new("Forbidden");
    let token = match payload
        .get("authorization")
        .or(payload.get("Authorization"))
    {
        Some(value) => Some(
            value
                .as_str()
                .and_then(auth::bearer)
                .map(SessionToken::from_client)
                .ok_or_else(refused)?,
        ),
        None => handshake_token,
    };
    let (viewer, token_hash) = match token {
        Some(token) => {
            let viewer = auth::viewer_for(services.accounts.as_ref(), &token)
                .await
                .map_err(|err| match err {
                    DomainError::Unauthenticated => refused(),
                    other => {
                        tracing::error!(error = %other, "authenticating a websocket");
                        async_graphql::Error::new("internal error")
                    }
                })?;
            (viewer, Some(token.hash()))
        }
        None => (convene_graphql::Viewer::anonymous(), None),
    };
    Ok(connection_data(services, viewer, token_hash, queue, info))
}

/// The shutdown signal every websocket watches.
pub(crate) fn shutdown_channel() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&'static str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(HOST, HeaderValue::from_static("forum.example.org:8080"));
        if let Some(origin) = origin {
            map.insert(ORIGIN, HeaderValue::from_static(origin));
        }
        map
    }

    #[test]
    fn origins_are_checked_against_the_host_and_the_allow_list() {
        let allowed = ["https://app.example.org".to_owned()];
        assert!(origin_allowed(&headers(None), &allowed));
        assert!(origin_allowed(
            &headers(Some("http://forum.example.org:8080")),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(Some("https://app.example.org")),
            &allowed
        ));
        for foreign in [
            "https://evil.example",
            "https://forum.example.org",
            "http://forum.example.org:8080.evil.example",
            "null",
        ] {
            assert!(
                !origin_allowed(&headers(Some(foreign)), &allowed),
                "{foreign}"
            );
        }
    }
}
