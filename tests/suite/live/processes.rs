//! Several server processes on one PostgreSQL database: a reply committed on one process
//! reaches the subscribers of another exactly once, also when the processes' `LISTEN`
//! connections are cut and they catch up from the database.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use super::client::{PATIENCE, Ws};
use super::fixtures::{Edge, circle, posts, reply_at, watch_replies};
use crate::harness::{Backend, each_backend};
use crate::process::ServerProcess;

/// The event listeners of every process on the test's database.
const LISTENERS: &str = "FROM pg_stat_activity \
    WHERE application_name = 'convene-events' AND datname = current_database()";

async fn listeners(db: &DatabaseConnection) -> usize {
    let sql = format!("SELECT pid {LISTENERS}");
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("pg_stat_activity")
        .len()
}

/// Terminates every listener connection; returns how many there were.
async fn cut_listeners(db: &DatabaseConnection) -> usize {
    let sql = format!("SELECT pg_terminate_backend(pid) {LISTENERS}");
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .expect("pg_terminate_backend")
        .len()
}

/// Waits until `n` listeners are connected again.
async fn listeners_back(db: &DatabaseConnection, n: usize) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while listeners(db).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the listeners did not reconnect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `counter` reaches `n`.
async fn reached(counter: &AtomicUsize, n: usize) {
    let deadline = tokio::time::Instant::now() + 6 * PATIENCE;
    while counter.load(Ordering::SeqCst) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the writers stalled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn replies_cross_processes_exactly_once_even_when_listeners_are_cut() {
    each_backend(|server| async move {
        if server.backend != Backend::Postgres {
            return;
        }
        let c = circle(&server, "PRIVATE").await;
        let a = ServerProcess::start(Some(server.database_url())).await;
        let b = ServerProcess::start(Some(server.database_url())).await;
        let http = reqwest::Client::new();

        let mut ws = Ws::to(&a.url).connect().await;
        ws.init(Some(&c.member.token)).await;
        watch_replies(&mut ws, "replies", &c.thread, Some(&c.opening.cursor)).await;
        let on_b = reply_at(&http, &b.url, &c.owner.token, &c.thread, "Posted on B").await;
        assert_eq!(Edge::of(&ws.next_data("replies", "replyAdded").await), on_b);
        let on_a = reply_at(&http, &a.url, &c.owner.token, &c.thread, "Posted on A").await;
        assert_eq!(
            Edge::of(&ws.next_data("replies", "replyAdded").await),
            on_a,
            "the reply from B came once"
        );

        let db = Database::connect(server.database_url())
            .await
            .expect("the test database");
        let listening = listeners(&db).await;
        assert!(listening >= 2, "A and B each listen: {listening}");

        let posted = AtomicUsize::new(0);
        let writers = [&c.owner, &c.member, &c.witness];
        let (http_ref, b_url, thread, posted_ref) =
            (&http, b.url.as_str(), c.thread.as_str(), &posted);
        let writing = stream::iter(0..100usize)
            .map(|i| async move {
                let token = &writers[i % 3].token;
                let edge = reply_at(http_ref, b_url, token, thread, &format!("Burst {i}")).await;
                posted_ref.fetch_add(1, Ordering::SeqCst);
                edge
            })
            .buffer_unordered(4)
            .collect::<Vec<Edge>>();
        let cutting = async {
            for threshold in [20, 50] {
                reached(posted_ref, threshold).await;
                assert!(
                    cut_listeners(&db).await >= 2,
                    "A's and B's listeners are cut"
                );
                listeners_back(&db, listening).await;
            }
        };
        let (burst, (), heard) =
            tokio::join!(writing, cutting, ws.collect("replies", "replyAdded", 100));
        let heard = Edge::all(&heard);

        let unique: HashSet<&Edge> = heard.iter().collect();
        assert_eq!(unique.len(), heard.len(), "no reply is heard twice");
        assert_eq!(unique, burst.iter().collect(), "every reply is heard");
        let all = posts(&server, &c.member, &c.thread).await;
        let at = all.iter().position(|e| *e == on_a).expect("A's reply");
        assert_eq!(heard, all[at + 1..], "in the thread's order");

        let last = reply_at(&http, &b.url, &c.owner.token, &c.thread, "The last word").await;
        assert_eq!(
            Edge::of(&ws.next_data("replies", "replyAdded").await),
            last,
            "nothing is left over"
        );
        let _ = db.close().await;
    })
    .await;
}
