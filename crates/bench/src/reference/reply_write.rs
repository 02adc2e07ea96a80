//! Replies written by a raw insert loop: one transaction per reply that inserts the post and
//! bumps the thread's counters, with the server's durability (SQLite WAL + `synchronous=FULL`,
//! PostgreSQL's default commit) and, on SQLite, the server's one-writer-at-a-time lock.
//! Left out is what Convene adds: the session and membership checks, markdown rendering,
//! idempotency, events.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::db::{Kind, Target, stmt};
use crate::load::{self, Outcome};

const INSERT: &str = "INSERT INTO posts (id, thread_id, group_id, author_id, body, body_html, reply_to, created_at, edited_at, edited_by, deleted_at) \
     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, NULL, $4, NULL)";
const BUMP: &str =
    "UPDATE threads SET reply_count = reply_count + 1, last_activity_us = $1 WHERE id = $2";

struct Writer {
    conn: DatabaseConnection,
    kind: Kind,
    /// SQLite takes one writer at a time; waiting here beats `SQLITE_BUSY` retries.
    write_lock: Mutex<()>,
    thread: Uuid,
    group: Uuid,
    author: Uuid,
}

impl Writer {
    async fn reply(&self, body: String) -> Result<(), sea_orm::DbErr> {
        let _guard = match self.kind {
            Kind::Sqlite => Some(self.write_lock.lock().await),
            Kind::Postgres => None,
        };
        let now = Utc::now();
        let html = format!("<p>{body}</p>\n");
        let tx = self.conn.begin().await?;
        tx.execute_raw(stmt(
            self.kind,
            INSERT,
            vec![
                Uuid::now_v7().into(),
                self.thread.into(),
                self.group.into(),
                self.author.into(),
                body.into(),
                html.into(),
                now.into(),
            ],
        ))
        .await?;
        tx.execute_raw(stmt(
            self.kind,
            BUMP,
            vec![now.timestamp_micros().into(), self.thread.into()],
        ))
        .await?;
        tx.commit().await
    }
}

/// Runs the loop with `concurrency` writers, as the GraphQL case runs its clients.
pub async fn run(
    target: &Target,
    (thread, group, author): (Uuid, Uuid, Uuid),
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let size = if target.kind == Kind::Sqlite { 8 } else { 16 };
    let writer = Arc::new(Writer {
        conn: target.connect(size).await?,
        kind: target.kind,
        write_lock: Mutex::new(()),
        thread,
        group,
        author,
    });
    let outcome = load::run(concurrency, warmup, duration, move |worker, n| {
        let writer = writer.clone();
        async move {
            writer
                .reply(format!("reference reply {worker}-{n}"))
                .await
                .map_err(|e| e.to_string())
        }
    })
    .await;
    Ok(outcome)
}
