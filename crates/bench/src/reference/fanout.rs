//! Fan-out without Convene's live machinery: a tokio broadcast channel and axum's websocket
//! (tungstenite underneath, as in Convene) sending one prepared text frame to every socket.
//! It speaks just enough `graphql-transport-ws` (ack, subscribe, ping) for the bench's
//! subscribers to be the very same code on both sides.
//!
//! `POST /publish` with a post ID as the body builds the `next` frame once, broadcasts it and
//! answers; `GET /subscribers` says how many sockets have subscribed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::{any, get, post};
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// The server's default `ws_queue_capacity`: events that may wait for one connection.
const QUEUE: usize = 256;

#[derive(Clone)]
struct AppState {
    frames: broadcast::Sender<Utf8Bytes>,
    subscribers: Arc<AtomicUsize>,
}

/// Serves until the process is killed.
pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let (frames, _) = broadcast::channel(QUEUE);
    let state = AppState {
        frames,
        subscribers: Arc::default(),
    };
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/graphql/ws", any(upgrade))
        .route("/publish", post(publish))
        .route(
            "/subscribers",
            get(|State(state): State<AppState>| async move {
                state.subscribers.load(Ordering::Relaxed).to_string()
            }),
        )
        .with_state(state);
    super::serve(listen, app).await
}

/// One frame for everyone, shaped as Convene's `replyAdded` event for subscription `"1"`.
async fn publish(State(state): State<AppState>, post_id: String) -> &'static str {
    let frame = json!({
        "id": "1",
        "type": "next",
        "payload": { "data": { "replyAdded": {
            "cursor": "azE6AZXQmbNweQCbhqcDdhHdXA",
            "node": {
                "id": post_id,
                "bodyHtml": "<p>a reply of about the usual length, sent to every subscriber of the thread</p>\n",
                "createdAt": Utc::now().to_rfc3339(),
                "author": { "id": "usr_0195d099b37079009b86a7037611dd5c", "handle": "bench", "displayName": "Bench" },
            },
        }}},
    });
    // No receiver yet is not an error: nobody subscribed.
    let _ = state.frames.send(Utf8Bytes::from(frame.to_string()));
    "ok"
}

async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.protocols(["graphql-transport-ws"])
        .read_buffer_size(4096)
        .on_upgrade(move |socket| connection(socket, state))
}

async fn connection(mut socket: WebSocket, state: AppState) {
    let mut frames: Option<broadcast::Receiver<Utf8Bytes>> = None;
    loop {
        let frame = async {
            match frames.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                let Message::Text(text) = message else { continue };
                let message: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                let reply = match message["type"].as_str() {
                    Some("connection_init") => Some(json!({ "type": "connection_ack" })),
                    Some("ping") => Some(json!({ "type": "pong" })),
                    Some("subscribe") if frames.is_none() => {
                        frames = Some(state.frames.subscribe());
                        state.subscribers.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                    _ => None,
                };
                if let Some(reply) = reply {
                    if socket.send(Message::text(reply.to_string())).await.is_err() {
                        break;
                    }
                }
            }
            frame = frame => match frame {
                Ok(frame) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        break;
                    }
                }
                // Too slow for the queue: close with 1013, as Convene does.
                Err(_) => {
                    let _ = socket.send(Message::Close(Some(axum::extract::ws::CloseFrame {
                        code: 1013,
                        reason: Utf8Bytes::from_static("too slow"),
                    }))).await;
                    break;
                }
            },
        }
    }
    if frames.is_some() {
        state.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}
