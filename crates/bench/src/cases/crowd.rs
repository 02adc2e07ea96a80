//! Many `replyAdded` subscribers, each on its own websocket connection, whose events all flow
//! into one channel stamped with the instant they were read.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{StreamExt, stream};
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::client::{self, Arrival, REPLY_ADDED};

/// Connections opened at once: enough to be quick, few enough for the listen backlog.
const OPENING: usize = 64;

pub struct Crowd {
    tasks: Vec<JoinHandle<()>>,
    pub arrivals: UnboundedReceiver<Arrival>,
}

impl Crowd {
    /// Opens `n` connections to `addr`, each subscribed to `thread` with `token`.
    pub async fn open(
        addr: &str,
        token: Option<&str>,
        thread: &str,
        n: usize,
    ) -> anyhow::Result<Self> {
        let (tx, arrivals) = unbounded_channel();
        let variables = json!({ "thread": thread });
        let sockets: Vec<anyhow::Result<_>> = stream::iter(0..n)
            .map(|_| client::subscribe(addr, token, REPLY_ADDED, variables.clone()))
            .buffer_unordered(OPENING)
            .collect()
            .await;
        let mut tasks = Vec::with_capacity(n);
        for socket in sockets {
            let socket = socket.context("opening a subscriber")?;
            tasks.push(tokio::spawn(client::listen(socket, tx.clone())));
        }
        Ok(Self { tasks, arrivals })
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Drops every connection.
    pub fn close(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Polls `check` until it holds, or fails after `within`; `check` returns whether it holds and
/// what it saw.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<(bool, f64)>>,
{
    let deadline = Instant::now() + within;
    loop {
        let (holds, seen) = check().await?;
        if holds {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what}: still {seen} after {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
