//! Who may not subscribe: outsiders and anonymous viewers of a PRIVATE group hear `NOT_FOUND`
//! and never its content; an unknown token closes the socket; a handshake from a foreign
//! `Origin` is refused.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Error as WsError;

use super::client::Ws;
use super::fixtures::{
    Edge, MEMBERSHIP_CHANGED, POST_UPDATED, REPLY_ADDED, THREAD_ADDED, circle, open, payload,
    reply, start_thread, watch_replies,
};
use crate::harness::{TestServer, each_backend, each_backend_with};
use crate::membership::mutate;

/// How long a refused subscriber keeps being read after the witness heard the private reply.
const AFTERMATH: Duration = Duration::from_millis(500);

/// A well-formed ID that names nothing.
fn unknown(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Subscribes `ws` to everything live about `thread` and `group`, replies replayed from
/// `after`, each refused with `NOT_FOUND`, the thread's refusal identical to that of a thread
/// that never existed.
async fn refused_everything(ws: &mut Ws, thread: &str, group: &str, after: &str) {
    let attempts: [(&str, &str, Value); 5] = [
        (
            "replies",
            REPLY_ADDED,
            json!({ "thread": thread, "after": after }),
        ),
        (
            "nowhere",
            REPLY_ADDED,
            json!({ "thread": unknown("thr"), "after": after }),
        ),
        ("updates", POST_UPDATED, json!({ "thread": thread })),
        ("threads", THREAD_ADDED, json!({ "group": group })),
        ("members", MEMBERSHIP_CHANGED, json!({ "group": group })),
    ];
    for (id, query, variables) in &attempts {
        ws.subscribe(id, query, variables.clone()).await;
    }
    let mut errors = Vec::new();
    for (id, _, _) in &attempts {
        errors.push(ws.expect_refusal(id, "NOT_FOUND").await);
    }
    assert_eq!(
        errors[0], errors[1],
        "a private thread looks like one that never existed"
    );
}

#[tokio::test]
async fn outsiders_and_anonymous_viewers_hear_not_found_and_nothing_private() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let canary = format!("canary-{}", uuid::Uuid::now_v7().simple());
        // A replay from the opening post would carry this reply.
        reply(&server, &c.member, &c.thread, &format!("Early {canary}")).await;
        let mut outsider = open(&server, Some(&c.outsider)).await;
        let mut anonymous = open(&server, None).await;
        for ws in [&mut outsider, &mut anonymous] {
            refused_everything(ws, &c.thread, &c.group, &c.opening.cursor).await;
        }

        // The group lives on: a reply, an edit, a new thread, all carrying the canary.
        let mut witness = open(&server, Some(&c.witness)).await;
        let early = reply(&server, &c.owner, &c.thread, "Before the witness").await;
        watch_replies(&mut witness, "replies", &c.thread, Some(&early.cursor)).await;
        let sent = reply(&server, &c.owner, &c.thread, &format!("Reply {canary}")).await;
        let edited = mutate(
            &server,
            Some(&c.owner),
            "editPost",
            json!({ "postId": c.opening.id, "body": format!("Edited {canary}") }),
            "post { id }",
        )
        .await;
        payload(&edited, "editPost");
        start_thread(&server, &c.owner, &c.group, &canary, &canary).await;
        assert_eq!(
            Edge::of(&witness.next_data("replies", "replyAdded").await),
            sent
        );

        for (who, ws) in [("outsider", &mut outsider), ("anonymous", &mut anonymous)] {
            let late = ws.quiet(AFTERMATH).await;
            assert!(late.is_empty(), "{who} heard more: {late:#?}");
            assert!(
                !ws.transcript().contains(&canary),
                "{who} never sees the private content"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_unknown_or_ended_token_closes_the_socket_with_4403() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        server
            .ok(
                Some(&ana.token),
                "mutation { logout { clientMutationId } }",
                json!({}),
            )
            .await;
        let random = format!(
            "{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
        for token in [random.as_str(), ana.token.as_str()] {
            let mut ws = Ws::to(&server.url).connect().await;
            ws.send_init(Some(token)).await;
            assert_eq!(ws.expect_close().await, Some(4403));
        }
    })
    .await;
}

const ALLOWED: &str = "https://forum.example.org";

/// Opens a connection from `origin` (none with `None`), returning the handshake's HTTP status
/// when it is refused.
async fn handshake_from(server: &TestServer, origin: Option<&str>) -> Result<Ws, u16> {
    let mut connect = Ws::to(&server.url);
    if let Some(origin) = origin {
        connect = connect.origin(origin);
    }
    match connect.try_connect().await {
        Ok(ws) => Ok(ws),
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the handshake from {origin:?} failed otherwise: {other}"),
    }
}

#[tokio::test]
async fn handshakes_are_accepted_without_origin_or_from_allowed_origins_only() {
    each_backend_with(
        |config| config.allowed_origins = vec![ALLOWED.to_owned()],
        |server| async move {
            for foreign in [
                "https://elsewhere.example",
                "https://forum.example.org.elsewhere.example",
                "http://forum.example.org",
                "null",
            ] {
                assert_eq!(
                    handshake_from(&server, Some(foreign)).await.err(),
                    Some(403),
                    "{foreign} is refused"
                );
            }
            let own = server.url.clone();
            for origin in [Some(ALLOWED), Some(own.as_str()), None] {
                let mut ws = handshake_from(&server, origin)
                    .await
                    .unwrap_or_else(|status| panic!("{origin:?} is accepted, not {status}"));
                assert_eq!(ws.subprotocol(), Some("graphql-transport-ws"));
                ws.init(None).await;
            }
        },
    )
    .await;
}
