//! `replyAdded`: replies in commit order with the cursors `postReply` gives; a replay from a
//! cursor that meets concurrent replies without gap or duplicate; a reconnect that misses
//! nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};

use super::client::PATIENCE;
use super::fixtures::{Edge, circle, open, posts, reply, settle, watch_replies};
use crate::harness::each_backend;

#[tokio::test]
async fn a_subscriber_hears_each_reply_in_commit_order_with_its_cursor() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let earlier = reply(&server, &c.witness, &c.thread, "Before anyone listened").await;

        let mut ws = open(&server, Some(&c.member)).await;
        watch_replies(&mut ws, "replies", &c.thread, None).await;
        // Without `after` nothing is replayed: settling fails on the earlier reply or the
        // opening post.
        let (server_ref, c_ref) = (&server, &c);
        settle(
            &mut ws,
            "replies",
            "replyAdded",
            |i| async move {
                reply(
                    server_ref,
                    &c_ref.owner,
                    &c_ref.thread,
                    &format!("Hello {i}"),
                )
                .await
                .id
            },
            |edge| Edge::of(edge).id,
        )
        .await;

        let mut sent = Vec::new();
        for i in 0..20 {
            let author = if i % 2 == 0 { &c.owner } else { &c.witness };
            sent.push(reply(&server, author, &c.thread, &format!("Reply {i}")).await);
        }
        let heard = ws.collect("replies", "replyAdded", 20).await;
        assert_eq!(
            Edge::all(&heard),
            sent,
            "every reply, in order, with its cursor"
        );
        for (i, edge) in heard.iter().enumerate() {
            assert_eq!(edge["node"]["body"], format!("Reply {i}"));
        }
        assert!(!Edge::all(&heard).contains(&earlier));

        // Nothing extra is pending: the next event is the next reply.
        let last = reply(&server, &c.owner, &c.thread, "The last word").await;
        assert_eq!(Edge::of(&ws.next_data("replies", "replyAdded").await), last);
    })
    .await;
}

#[tokio::test]
async fn a_replay_from_a_cursor_meets_concurrent_replies_without_gap_or_duplicate() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let mut before = Vec::new();
        for i in 0..10 {
            before.push(reply(&server, &c.owner, &c.thread, &format!("Before {i}")).await);
        }
        let from = before[4].clone();

        // Writers keep posting until the subscriber has heard part of its replay and some
        // more, so that the replay, the replies committed during it and the live events overlap
        // however fast the backend commits.
        let posted = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let writers = [&c.owner, &c.member, &c.witness];
        let (server_ref, thread, posted_ref, stop_ref) =
            (&server, c.thread.as_str(), &posted, &stop);
        let writing = stream::iter(0..MAX_CONCURRENT_REPLIES)
            .take_while(|_| std::future::ready(!stop_ref.load(Ordering::SeqCst)))
            .map(|i| async move {
                let edge = reply(
                    server_ref,
                    writers[i % 3],
                    thread,
                    &format!("Concurrent {i}"),
                )
                .await;
                posted_ref.fetch_add(1, Ordering::SeqCst);
                edge
            })
            .buffer_unordered(8)
            .collect::<Vec<Edge>>();
        let listening = async {
            let deadline = tokio::time::Instant::now() + 6 * PATIENCE;
            // Enough replies that the replay takes several pages, read while more commit.
            while posted_ref.load(Ordering::SeqCst) < 250 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the writers stalled"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut ws = open(server_ref, Some(&c.member)).await;
            watch_replies(&mut ws, "replies", thread, Some(&from.cursor)).await;
            let mut heard = ws.collect("replies", "replyAdded", 20).await;
            let seen = posted_ref.load(Ordering::SeqCst);
            while posted_ref.load(Ordering::SeqCst) < seen + 60 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the writers stalled"
                );
                heard.push(ws.next_data("replies", "replyAdded").await);
            }
            stop_ref.store(true, Ordering::SeqCst);
            (ws, heard)
        };
        let (concurrent, (mut ws, mut heard)) = tokio::join!(writing, listening);
        assert!(
            concurrent.len() < MAX_CONCURRENT_REPLIES,
            "the writers stopped because the subscriber was mid-stream"
        );
        let expected_count = 5 + concurrent.len();
        assert!(
            heard.len() <= expected_count,
            "more replies heard than posted"
        );
        let missing = expected_count - heard.len();
        heard.extend(ws.collect("replies", "replyAdded", missing).await);
        let heard = Edge::all(&heard);

        let unique: HashSet<&Edge> = heard.iter().collect();
        assert_eq!(unique.len(), heard.len(), "no reply is heard twice");
        let all = posts(&server, &c.member, &c.thread).await;
        let at = all
            .iter()
            .position(|e| *e == from)
            .expect("the cursor's post");
        assert_eq!(
            heard,
            all[at + 1..],
            "the replay and the live events are the thread after the cursor, in its order"
        );
        let expected: HashSet<&Edge> = before[5..].iter().chain(&concurrent).collect();
        assert_eq!(unique, expected, "exactly the replies after the cursor");

        let last = reply(&server, &c.owner, &c.thread, "The last word").await;
        assert_eq!(
            Edge::of(&ws.next_data("replies", "replyAdded").await),
            last,
            "nothing is left over"
        );
    })
    .await;
}

/// A bound on the replies the concurrent writers post before the subscriber stops them.
const MAX_CONCURRENT_REPLIES: usize = 2000;

#[tokio::test]
async fn a_client_that_reconnects_with_its_last_cursor_misses_nothing() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        for i in 0..3 {
            reply(&server, &c.owner, &c.thread, &format!("Early {i}")).await;
        }

        // From the opening post: every reply, the opening post itself being none.
        let mut ws = open(&server, Some(&c.member)).await;
        watch_replies(&mut ws, "replies", &c.thread, Some(&c.opening.cursor)).await;
        let mut heard = ws.collect("replies", "replyAdded", 3).await;
        for i in 0..3 {
            reply(&server, &c.witness, &c.thread, &format!("Live {i}")).await;
        }
        heard.extend(ws.collect("replies", "replyAdded", 3).await);
        ws.close().await;

        let mut missed = Vec::new();
        for i in 0..5 {
            missed.push(reply(&server, &c.owner, &c.thread, &format!("Missed {i}")).await);
        }
        let last = Edge::of(heard.last().expect("heard"));
        let mut ws = open(&server, Some(&c.member)).await;
        watch_replies(&mut ws, "replies", &c.thread, Some(&last.cursor)).await;
        let caught_up = Edge::all(&ws.collect("replies", "replyAdded", 5).await);
        assert_eq!(caught_up, missed, "exactly the missed replies");

        let mut live = Vec::new();
        for i in 0..3 {
            live.push(reply(&server, &c.witness, &c.thread, &format!("Back {i}")).await);
        }
        assert_eq!(
            Edge::all(&ws.collect("replies", "replyAdded", 3).await),
            live,
            "then the live ones"
        );

        let mut everything = Edge::all(&heard);
        everything.extend(caught_up);
        everything.extend(live);
        let all = posts(&server, &c.member, &c.thread).await;
        assert_eq!(
            everything,
            all[1..],
            "every reply once, in the thread's order"
        );
    })
    .await;
}
