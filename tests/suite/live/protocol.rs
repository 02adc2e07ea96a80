//! The websocket protocols themselves: graphql-transport-ws close codes for clients that break
//! its rules, the message size limit, and the legacy `graphql-ws` end to end.

use std::time::Duration;

use serde_json::json;

use super::client::{Protocol, Ws};
use super::fixtures::{Edge, REPLY_ADDED, circle, open, reply, watch_replies};
use crate::harness::{each_backend, each_backend_with};

#[tokio::test]
async fn the_server_answers_with_the_protocol_the_client_asks_for() {
    each_backend(|server| async move {
        for protocol in [Protocol::TransportWs, Protocol::Legacy] {
            let ws = Ws::to(&server.url).protocol(protocol).connect().await;
            assert_eq!(ws.subprotocol(), Some(protocol.name()));
        }
    })
    .await;
}

#[tokio::test]
async fn an_unparsable_message_closes_with_4400() {
    each_backend(|server| async move {
        let mut ws = open(&server, None).await;
        ws.send_text("{ this is not json").await;
        assert_eq!(ws.expect_close().await, Some(4400));
    })
    .await;
}

#[tokio::test]
async fn subscribing_before_connection_init_closes_with_4401() {
    each_backend(|server| async move {
        let c = circle(&server, "PUBLIC").await;
        let mut ws = Ws::to(&server.url).connect().await;
        ws.subscribe("early", REPLY_ADDED, json!({ "thread": c.thread }))
            .await;
        assert_eq!(ws.expect_close().await, Some(4401));
    })
    .await;
}

#[tokio::test]
async fn a_client_that_never_sends_connection_init_is_closed_with_4408() {
    each_backend_with(
        |config| config.ws_init_timeout_secs = 1,
        |server| async move {
            let mut ws = Ws::to(&server.url).connect().await;
            assert_eq!(ws.expect_close().await, Some(4408));
            // A prompt client is unaffected.
            let mut prompt = Ws::to(&server.url).connect().await;
            prompt.init(None).await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    each_backend(|server| async move {
        let mut ws = open(&server, None).await;
        ws.send_init(None).await;
        assert_eq!(ws.expect_close().await, Some(4429));
    })
    .await;
}

#[tokio::test]
async fn a_message_over_the_limit_closes_the_connection_and_the_server_serves_on() {
    each_backend_with(
        |config| config.ws_message_limit = 4096,
        |server| async move {
            let c = circle(&server, "PUBLIC").await;
            let mut ws = open(&server, None).await;
            let padding = " ".repeat(8192);
            ws.subscribe(
                "big",
                &format!("{REPLY_ADDED}{padding}"),
                json!({ "thread": c.thread }),
            )
            .await;
            ws.expect_close().await;

            let mut next = open(&server, None).await;
            watch_replies(&mut next, "replies", &c.thread, Some(&c.opening.cursor)).await;
            let sent = reply(&server, &c.owner, &c.thread, "Still here").await;
            assert_eq!(
                Edge::of(&next.next_data("replies", "replyAdded").await),
                sent
            );
        },
    )
    .await;
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_works_end_to_end() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let mut ws = Ws::to(&server.url)
            .protocol(Protocol::Legacy)
            .connect()
            .await;
        assert_eq!(ws.subprotocol(), Some("graphql-ws"));
        ws.init(Some(&c.member.token)).await;
        watch_replies(&mut ws, "replies", &c.thread, Some(&c.opening.cursor)).await;
        let first = reply(&server, &c.owner, &c.thread, "Over the old protocol").await;
        let event = ws.next_data("replies", "replyAdded").await;
        assert_eq!(Edge::of(&event), first);
        assert_eq!(event["node"]["body"], "Over the old protocol");

        // After `stop` the subscription hears nothing more.
        ws.stop("replies").await;
        let mut witness = open(&server, Some(&c.witness)).await;
        watch_replies(&mut witness, "replies", &c.thread, Some(&first.cursor)).await;
        let second = reply(&server, &c.owner, &c.thread, "After stop").await;
        assert_eq!(
            Edge::of(&witness.next_data("replies", "replyAdded").await),
            second
        );
        let late = ws.quiet(Duration::from_millis(500)).await;
        assert!(
            late.iter()
                .all(|m| m["id"] != "replies" || m["type"] == "complete"),
            "nothing but complete after stop: {late:#?}"
        );

        // The legacy protocol refuses as the new one does.
        ws.subscribe(
            "outsider",
            REPLY_ADDED,
            json!({ "thread": format!("thr_{}", uuid::Uuid::now_v7().simple()) }),
        )
        .await;
        ws.expect_refusal("outsider", "NOT_FOUND").await;
    })
    .await;
}
