//! The clients of the load generator: GraphQL over HTTP, and `graphql-transport-ws`
//! subscribers. Every body is read and checked: a 200 carrying `errors` is a failure.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// GraphQL over `POST /graphql`.
#[derive(Clone)]
pub struct Gql {
    http: reqwest::Client,
    url: String,
}

impl Gql {
    pub fn new(base_url: &str) -> Self {
        Self {
            http: http_client(),
            url: format!("{base_url}/graphql"),
        }
    }

    /// The whole response body; `Err` unless it is HTTP 200 with a JSON object.
    pub async fn body(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let body = json_body(request.send().await).await?;
        if !body.is_object() {
            return Err(format!("not a JSON object: {body}"));
        }
        Ok(body)
    }

    /// `data` of a response that carries no `errors`.
    pub async fn data(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, String> {
        let body = self.body(token, query, variables).await?;
        match error_code(&body) {
            Some(code) => Err(format!("errors ({code}): {}", body["errors"])),
            None => Ok(body["data"].clone()),
        }
    }

    /// Like [`Gql::data`], for setup steps, where a failure ends the run.
    pub async fn must(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        self.data(token, query, variables)
            .await
            .map_err(anyhow::Error::msg)
    }
}

/// One reqwest client per load loop: keep-alive connections, no proxy from the environment.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap_or_default()
}

/// The first error's `extensions.code` (`"?"` without one), `None` when there is no error.
pub fn error_code(body: &Value) -> Option<String> {
    let errors = body.get("errors")?;
    if errors.is_null() || errors.as_array().is_some_and(Vec::is_empty) {
        return None;
    }
    Some(
        errors[0]["extensions"]["code"]
            .as_str()
            .unwrap_or("?")
            .to_owned(),
    )
}

/// A `replyAdded` subscriber's view of one event.
#[derive(Debug)]
pub enum Arrival {
    /// The post ID the event carried and when it was read off the socket.
    Event { post: String, at: Instant },
    /// Anything but a clean event: an error, a close, a message that makes no sense.
    Failure(String),
}

type Socket = WebSocketStream<TcpStream>;

/// Opens a `graphql-transport-ws` connection to `ws://<addr>/graphql/ws`, waits for
/// `connection_ack` and starts subscription `"1"`.
pub async fn subscribe(
    addr: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> anyhow::Result<Socket> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .context("websocket request")?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Thousands of idle sockets: small read buffers keep the bench's own memory modest.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut socket, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .context("websocket handshake")?;
    let payload = match token {
        Some(token) => json!({ "authorization": format!("Bearer {token}") }),
        None => json!({}),
    };
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await?;
    loop {
        let message = timeout(Duration::from_secs(30), next_json(&mut socket))
            .await
            .context("no connection_ack within 30 s")??;
        match message["type"].as_str() {
            Some("connection_ack") => break,
            Some("ping") => send(&mut socket, json!({ "type": "pong" })).await?,
            _ => bail!("expected connection_ack, got {message}"),
        }
    }
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await?;
    Ok(socket)
}

async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    socket
        .send(Message::text(message.to_string()))
        .await
        .context("websocket send")
}

async fn next_json(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).context("invalid JSON from the server");
            }
            Some(Ok(Message::Close(frame))) => bail!("closed: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(anyhow!(e).context("websocket read")),
            None => bail!("the connection ended"),
        }
    }
}

/// Reads events of subscription `"1"` until the socket ends, sending each arrival to `tx`.
/// The write half answers `ping`s.
pub async fn listen(socket: Socket, tx: UnboundedSender<Arrival>) {
    let (mut sink, mut stream): (SplitSink<Socket, Message>, SplitStream<Socket>) = socket.split();
    while let Some(frame) = stream.next().await {
        let at = Instant::now();
        let text = match frame {
            Ok(Message::Text(text)) => text,
            Ok(Message::Close(frame)) => {
                let _ = tx.send(Arrival::Failure(format!("closed by the server: {frame:?}")));
                return;
            }
            Ok(_) => continue,
            Err(e) => {
                let _ = tx.send(Arrival::Failure(format!("websocket read: {e}")));
                return;
            }
        };
        let arrival = match serde_json::from_str::<Value>(text.as_str()) {
            Ok(message) => match message["type"].as_str() {
                Some("ping") => {
                    let pong = Message::text(json!({ "type": "pong" }).to_string());
                    if sink.send(pong).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some("pong") => continue,
                Some("next") if message["id"] == "1" => event_of(&message["payload"], at),
                _ => Arrival::Failure(format!("unexpected message: {message}")),
            },
            Err(e) => Arrival::Failure(format!("invalid JSON: {e}")),
        };
        if tx.send(arrival).is_err() {
            return;
        }
    }
    let _ = tx.send(Arrival::Failure("the connection ended".to_owned()));
}

fn event_of(payload: &Value, at: Instant) -> Arrival {
    if let Some(code) = error_code(payload) {
        return Arrival::Failure(format!("event with errors ({code}): {payload}"));
    }
    match payload["data"]["replyAdded"]["node"]["id"].as_str() {
        Some(post) => Arrival::Event {
            post: post.to_owned(),
            at,
        },
        None => Arrival::Failure(format!("event without a post: {payload}")),
    }
}

/// The subscription every live case opens: what a client showing the thread needs.
pub const REPLY_ADDED: &str = "subscription($thread: ID!) { replyAdded(threadId: $thread) { cursor node { id bodyHtml createdAt author { id handle displayName } } } }";

/// The JSON body of a 200 response; anything else is a failure, described.
pub async fn json_body(
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<Value, String> {
    let response = response.map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| format!("body: {e}"))?;
    if status != 200 {
        return Err(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_errors_entry_is_a_failure_even_with_data() {
        let body = json!({ "data": { "x": 1 }, "errors": [{ "message": "no", "extensions": { "code": "RATE_LIMITED" } }] });
        assert_eq!(error_code(&body).as_deref(), Some("RATE_LIMITED"));
        assert_eq!(error_code(&json!({ "data": {} })), None);
        assert_eq!(error_code(&json!({ "data": {}, "errors": [] })), None);
        assert_eq!(
            error_code(&json!({ "errors": [{ "message": "?" }] })).as_deref(),
            Some("?")
        );
    }

    #[test]
    fn events_with_errors_are_failures() {
        let at = Instant::now();
        let good = json!({ "data": { "replyAdded": { "node": { "id": "pst_1" } } } });
        assert!(matches!(event_of(&good, at), Arrival::Event { post, .. } if post == "pst_1"));
        let bad = json!({ "data": null, "errors": [{ "message": "gone" }] });
        assert!(matches!(event_of(&bad, at), Arrival::Failure(_)));
    }
}
