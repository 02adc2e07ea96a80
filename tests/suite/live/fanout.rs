//! Fan-out cost: what an event names is read once for all subscribers, so one reply heard by
//! ten connections costs the database no more than one heard by one.

use serde_json::json;

use super::fixtures::{circle, open, reply};
use crate::harness::each_backend;

/// A subscriber's usual view of a reply: its body and its author.
const WITH_AUTHOR: &str = "subscription($thread: ID!, $after: String) {
    replyAdded(threadId: $thread, after: $after) {
        cursor node { id body author { handle displayName } } } }";

#[tokio::test]
async fn a_reply_costs_the_same_statements_for_one_subscriber_and_for_ten() {
    each_backend(|server| async move {
        let c = circle(&server, "PUBLIC").await;
        // Each round subscribes from just before the newest reply: replaying it proves the
        // subscription registered before the measured reply commits.
        let mut cost = Vec::new();
        let mut previous = c.opening.cursor.clone();
        let mut newest = reply(&server, &c.owner, &c.thread, "Warm-up").await;
        for subscribers in [1, 10] {
            let mut sockets = Vec::new();
            for _ in 0..subscribers {
                let mut ws = open(&server, Some(&c.witness)).await;
                ws.subscribe(
                    "replies",
                    WITH_AUTHOR,
                    json!({ "thread": c.thread, "after": previous }),
                )
                .await;
                let replayed = ws.next_data("replies", "replyAdded").await;
                assert_eq!(replayed["node"]["id"], json!(newest.id));
                sockets.push(ws);
            }
            let before = server.metrics_statements().await;
            previous = newest.cursor.clone();
            newest = reply(&server, &c.owner, &c.thread, "Measured").await;
            for ws in &mut sockets {
                let heard = ws.next_data("replies", "replyAdded").await;
                assert_eq!(heard["node"]["id"], json!(newest.id));
                assert_eq!(heard["node"]["author"]["handle"], json!(c.owner.handle));
            }
            cost.push(server.metrics_statements().await - before);
            for ws in sockets {
                ws.close().await;
            }
        }
        assert_eq!(
            cost[0], cost[1],
            "[{:?}] statements for one reply heard by 1 and by 10 subscribers",
            server.backend
        );
    })
    .await;
}
