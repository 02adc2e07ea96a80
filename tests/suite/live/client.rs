//! A small GraphQL-over-websocket client: `graphql-transport-ws` and the legacy `graphql-ws`
//! (subscriptions-transport-ws), over a TCP socket whose receive buffer a test may shrink to
//! play a client that stops reading.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// How long any awaited message may take before the test fails: a bound on failure, never a
/// measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`: `subscribe`, `next`, `complete`.
    TransportWs,
    /// The legacy `graphql-ws`: `start`, `data`, `stop`.
    Legacy,
}

impl Protocol {
    /// The name sent in `Sec-WebSocket-Protocol`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
}

/// What the server said about one subscription.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A `next` (legacy: `data`) payload: `{ data, errors }`.
    Next(Value),
    /// An `error` message's payload.
    Error(Value),
    Complete,
}

/// What arrived on the socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A protocol message, keep-alives left out.
    Message(Value),
    /// The connection ended: with a close frame's code, or without a close frame.
    Closed(Option<u16>),
}

/// How to open a connection; [`Ws::to`] starts one.
pub struct Connect {
    addr: String,
    protocol: Protocol,
    origin: Option<String>,
    cookie: Option<String>,
    recv_buffer: Option<u32>,
}

impl Connect {
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sends this `Origin` header (none by default, as a client that is not a browser).
    pub fn origin(mut self, origin: &str) -> Self {
        self.origin = Some(origin.to_owned());
        self
    }

    /// Authenticates the handshake with the `convene_session` cookie.
    pub fn cookie(mut self, token: &str) -> Self {
        self.cookie = Some(format!("theme=dark; convene_session={token}"));
        self
    }

    /// Shrinks the socket's receive buffer, so that a client that stops reading makes the
    /// server's writes block after little data.
    pub fn recv_buffer(mut self, bytes: u32) -> Self {
        self.recv_buffer = Some(bytes);
        self
    }

    /// Opens the connection; the error is the handshake's (an HTTP refusal is `Error::Http`).
    pub async fn try_connect(self) -> Result<Ws, WsError> {
        let addr: SocketAddr = self.addr.parse().expect("a socket address");
        let socket = TcpSocket::new_v4()?;
        if let Some(bytes) = self.recv_buffer {
            socket.set_recv_buffer_size(bytes)?;
        }
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut request = format!("ws://{}/graphql/ws", self.addr).into_client_request()?;
        let headers = request.headers_mut();
        headers.insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(self.protocol.name()),
        );
        if let Some(origin) = &self.origin {
            headers.insert("Origin", HeaderValue::from_str(origin).expect("header"));
        }
        if let Some(cookie) = &self.cookie {
            headers.insert("Cookie", HeaderValue::from_str(cookie).expect("header"));
        }
        let (stream, response) = tokio_tungstenite::client_async(request, stream).await?;
        let subprotocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Ws {
            stream,
            protocol: self.protocol,
            subprotocol,
            stash: VecDeque::new(),
            transcript: String::new(),
            closed: None,
        })
    }

    pub async fn connect(self) -> Ws {
        self.try_connect().await.expect("websocket handshake")
    }
}

/// One websocket connection to `/graphql/ws`.
pub struct Ws {
    stream: WebSocketStream<TcpStream>,
    protocol: Protocol,
    subprotocol: Option<String>,
    /// Messages read while waiting for another subscription's.
    stash: VecDeque<Value>,
    transcript: String,
    closed: Option<Option<u16>>,
}

impl Ws {
    /// A connection to the server at `base_url` (`http://host:port`).
    pub fn to(base_url: &str) -> Connect {
        Connect {
            addr: base_url
                .strip_prefix("http://")
                .expect("an http:// URL")
                .trim_end_matches('/')
                .to_owned(),
            protocol: Protocol::TransportWs,
            origin: None,
            cookie: None,
            recv_buffer: None,
        }
    }

    /// The subprotocol the server chose in its handshake response.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Every text message received so far, for checking that a word never reached this client.
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    pub async fn send_text(&mut self, raw: &str) {
        self.stream
            .send(Message::text(raw))
            .await
            .expect("websocket send");
    }

    async fn send_json(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends `connection_init`, carrying `token` in the payload as the API says.
    pub async fn send_init(&mut self, token: Option<&str>) {
        let payload = match token {
            Some(token) => json!({ "authorization": format!("Bearer {token}") }),
            None => json!({}),
        };
        self.send_json(json!({ "type": "connection_init", "payload": payload }))
            .await;
    }

    /// Sends `connection_init` and waits for `connection_ack`.
    pub async fn init(&mut self, token: Option<&str>) {
        self.send_init(token).await;
        match self.next_message(PATIENCE).await {
            Some(Incoming::Message(m)) if m["type"] == "connection_ack" => {}
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    /// Starts subscription `id` (legacy: `start`).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send_json(json!({
            "id": id,
            "type": kind,
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// Ends subscription `id` from the client's side (legacy: `stop`).
    pub async fn stop(&mut self, id: &str) {
        let kind = match self.protocol {
            Protocol::TransportWs => "complete",
            Protocol::Legacy => "stop",
        };
        self.send_json(json!({ "id": id, "type": kind })).await;
    }

    /// Closes the connection from the client's side.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }

    /// The next message or the end of the connection, `None` if nothing came within `within`.
    /// Answers `ping` and skips keep-alives.
    pub async fn next_message(&mut self, within: Duration) -> Option<Incoming> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(code) = self.closed {
                return Some(Incoming::Closed(code));
            }
            let frame = timeout_at(deadline, self.stream.next()).await.ok()?;
            let text = match frame {
                Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
                Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(frame.map(|f| u16::from(f.code)));
                    continue;
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    self.closed = Some(None);
                    continue;
                }
            };
            self.transcript.push_str(&text);
            self.transcript.push('\n');
            let message: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("the server sent invalid JSON ({e}): {text}"));
            match message["type"].as_str() {
                Some("ping") if self.protocol == Protocol::TransportWs => {
                    self.send_json(json!({ "type": "pong" })).await;
                }
                Some("pong" | "ka") => {}
                _ => return Some(Incoming::Message(message)),
            }
        }
    }

    /// The next thing the server says about subscription `id`, `None` if nothing came within
    /// `within`. Messages of other subscriptions wait in the stash for their turn.
    pub async fn receive_within(&mut self, id: &str, within: Duration) -> Option<Reply> {
        if let Some(at) = self.stash.iter().position(|m| m["id"] == id) {
            let message = self.stash.remove(at).expect("stashed");
            return Some(reply_of(message));
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_message(left).await? {
                Incoming::Message(m) if m["id"] == id => return Some(reply_of(m)),
                Incoming::Message(m) if m["id"].is_string() => self.stash.push_back(m),
                Incoming::Message(m) => panic!("unexpected message for no subscription: {m}"),
                Incoming::Closed(code) => {
                    panic!("the connection closed ({code:?}) while {id} waited")
                }
            }
        }
    }

    /// The next thing the server says about subscription `id`.
    pub async fn receive(&mut self, id: &str) -> Reply {
        self.receive_within(id, PATIENCE)
            .await
            .unwrap_or_else(|| panic!("nothing for subscription {id} within {PATIENCE:?}"))
    }

    /// The next event of subscription `id`, which must carry data and no error: its `field`.
    pub async fn next_data(&mut self, id: &str, field: &str) -> Value {
        match self.receive(id).await {
            Reply::Next(payload) => data_of(payload, field),
            other => panic!("expected data for {id}, got {other:?}"),
        }
    }

    /// The next `n` events of subscription `id`, as [`Ws::next_data`].
    pub async fn collect(&mut self, id: &str, field: &str, n: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(n);
        while events.len() < n {
            events.push(self.next_data(id, field).await);
        }
        events
    }

    /// Asserts subscription `id` ends as a refusal does: one `next` carrying an error with
    /// `code` and no data, then `complete`. Returns the errors.
    pub async fn expect_refusal(&mut self, id: &str, code: &str) -> Value {
        let payload = match self.receive(id).await {
            Reply::Next(payload) => payload,
            other => panic!("expected a next carrying {code} for {id}, got {other:?}"),
        };
        assert_eq!(
            payload["errors"][0]["extensions"]["code"], code,
            "{id}: {payload:#}"
        );
        let data_is_empty = payload["data"]
            .as_object()
            .is_none_or(|data| data.values().all(Value::is_null));
        assert!(data_is_empty, "a refusal carries no data: {payload:#}");
        assert_eq!(
            self.receive(id).await,
            Reply::Complete,
            "{id} completes after its refusal"
        );
        payload["errors"].clone()
    }

    /// Reads until the connection ends and returns the close frame's code (`None` when it ended
    /// without one). Messages still in flight are skipped.
    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.next_message(PATIENCE).await {
                Some(Incoming::Closed(code)) => return code,
                Some(Incoming::Message(_)) => {}
                None => panic!("the connection stayed open for {PATIENCE:?}"),
            }
        }
    }

    /// Every message that arrives within `window` (the stash first), stopping early if the
    /// connection ends: to assert that something does not arrive, once it would have.
    pub async fn quiet(&mut self, window: Duration) -> Vec<Value> {
        let mut heard: Vec<Value> = self.stash.drain(..).collect();
        let deadline = Instant::now() + window;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_message(left).await {
                Some(Incoming::Message(m)) => heard.push(m),
                Some(Incoming::Closed(_)) | None => return heard,
            }
        }
    }
}

/// The `field` of a `next` payload that must carry data and no error.
#[track_caller]
pub fn data_of(payload: Value, field: &str) -> Value {
    assert!(
        payload.get("errors").is_none_or(Value::is_null),
        "unexpected errors: {payload:#}"
    );
    let data = payload["data"][field].clone();
    assert!(!data.is_null(), "no {field} in {payload:#}");
    data
}

fn reply_of(message: Value) -> Reply {
    match message["type"].as_str() {
        Some("next" | "data") => Reply::Next(message["payload"].clone()),
        Some("error") => Reply::Error(message["payload"].clone()),
        Some("complete") => Reply::Complete,
        _ => panic!("unexpected message: {message}"),
    }
}
