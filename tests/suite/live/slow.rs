//! A client that stops reading costs the server a bounded queue, then its connection (1013),
//! while the other subscribers of the thread hear every reply.

use std::time::Duration;

use serde_json::Value;

use super::client::{PATIENCE, Ws};
use super::fixtures::{Edge, circle, metrics, open, reply, watch_replies};
use crate::harness::{TestServer, User, each_backend_with};

const CAPACITY: usize = 8;

/// A failure bound: a stalled client's queue must overflow long before this many large replies.
const MAX_REPLIES: usize = 300;

/// The body of the steady subscriber's last reply.
const END: &str = "The end";

/// A body near the 65,536-byte limit, so that few replies fill the socket buffers.
fn large_body(i: usize) -> String {
    format!("Reply {i}: {}", "lorem ipsum ".repeat(5_000))
}

/// Posts large replies until the stalled client's queue has overflowed, checking on the way
/// that the queued events stay within the capacity of the open connections. Returns the
/// replies, the last one being [`END`].
async fn flood(server: &TestServer, writer: &User, thread: &str) -> Vec<Edge> {
    let mut sent = Vec::new();
    let mut overflowed_at = None;
    for i in 0..MAX_REPLIES {
        sent.push(reply(server, writer, thread, &large_body(i)).await);
        if i % 5 == 4 {
            let m = metrics(server).await;
            let queued = m.read("convene_live_queued_events");
            let bound = CAPACITY as f64 * m.read("convene_ws_connections");
            assert!(
                queued <= bound,
                "{queued} events queued, more than {CAPACITY} per connection ({bound})"
            );
            if overflowed_at.is_none() && m.read("convene_live_queue_overflows_total") >= 1.0 {
                overflowed_at = Some(i);
            }
        }
        // A few more after the overflow show that the others are unaffected.
        if overflowed_at.is_some_and(|at| i >= at + 10) {
            break;
        }
    }
    assert!(
        overflowed_at.is_some(),
        "no queue overflowed in {MAX_REPLIES} replies of 60 kB to a client that never reads"
    );
    sent.push(reply(server, writer, thread, END).await);
    sent
}

/// Reads `id` until the reply whose body is [`END`].
async fn hear_until_the_end(ws: &mut Ws, id: &str) -> Vec<Edge> {
    let mut heard = Vec::new();
    loop {
        let event: Value = ws.next_data(id, "replyAdded").await;
        heard.push(Edge::of(&event));
        if event["node"]["body"] == END {
            return heard;
        }
    }
}

#[tokio::test]
async fn a_client_that_never_reads_is_disconnected_and_the_others_hear_everything() {
    each_backend_with(
        |config| config.ws_queue_capacity = CAPACITY,
        |server| async move {
            let c = circle(&server, "PUBLIC").await;
            let mut stalled = Ws::to(&server.url).recv_buffer(4096).connect().await;
            stalled.init(Some(&c.member.token)).await;
            watch_replies(&mut stalled, "replies", &c.thread, Some(&c.opening.cursor)).await;
            let mut steady = open(&server, Some(&c.witness)).await;
            watch_replies(&mut steady, "replies", &c.thread, Some(&c.opening.cursor)).await;

            let (sent, heard) = tokio::join!(
                flood(&server, &c.owner, &c.thread),
                hear_until_the_end(&mut steady, "replies"),
            );
            assert_eq!(
                heard, sent,
                "the steady subscriber hears every reply, in order"
            );

            let code = stalled.expect_close().await;
            assert!(
                matches!(code, None | Some(1013)),
                "the stalled client is closed with 1013 (or without a frame), not {code:?}"
            );

            // Only the steady connection and its subscription remain.
            let deadline = tokio::time::Instant::now() + PATIENCE;
            loop {
                let m = metrics(&server).await;
                let open = (
                    m.read("convene_ws_connections"),
                    m.read("convene_live_subscriptions"),
                );
                if open == (1.0, 1.0) {
                    assert!(m.read("convene_live_queue_overflows_total") >= 1.0);
                    assert!(m.read("convene_live_events_published_total") >= sent.len() as f64);
                    assert!(m.read("convene_live_events_delivered_total") >= heard.len() as f64);
                    assert!(m.read("convene_live_queued_events") <= CAPACITY as f64);
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "still open (connections, subscriptions): {open:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        },
    )
    .await;
}
