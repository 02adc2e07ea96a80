//! The event bus: how committed events reach the hub of every server process.
//!
//! On SQLite, one process owns the database, so a store hands its events to the local sink
//! right after commit, still holding the write lock: the hub hears events in commit order.
//! On PostgreSQL, a store sends `NOTIFY` inside its transaction (PostgreSQL delivers it only on
//! commit, in commit order) and every process, this one included, hears it once through its own
//! `LISTEN` connection. When that connection drops, the listener reconnects and asks the sink
//! to resync, since events sent during the outage are gone.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use convene_domain::Event;
use convene_domain::ports::EventSink;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};

/// The `LISTEN`/`NOTIFY` channel of committed events.
pub const CHANNEL: &str = "convene_events";

/// The `application_name` of the listening connection, to find it in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "convene-events";

/// The sink of this process, once the server attaches one (command-line tools have none).
#[derive(Default)]
pub(crate) struct LocalBus {
    sink: OnceLock<Arc<dyn EventSink>>,
}

impl LocalBus {
    pub(crate) fn attach(&self, sink: Arc<dyn EventSink>) -> bool {
        self.sink.set(sink).is_ok()
    }

    pub(crate) fn publish(&self, events: &[Event]) {
        if let Some(sink) = self.sink.get() {
            for event in events {
                sink.publish(*event);
            }
        }
    }
}

/// Queues `events` on the transaction: PostgreSQL delivers them when it commits.
pub(crate) async fn notify(tx: &DatabaseTransaction, events: &[Event]) -> Result<(), DbErr> {
    for event in events {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), event.to_string().into()],
        ))
        .await?;
    }
    Ok(())
}

/// How long the listener waits before reconnecting after a failure.
const RECONNECT_DELAY: Duration = Duration::from_millis(200);

/// Connects the `LISTEN` connection once, then keeps it up in the background for as long as
/// the process runs, feeding `sink`.
pub(crate) async fn listen(
    url: String,
    sink: Arc<dyn EventSink>,
) -> Result<tokio::task::AbortHandle, DbErr> {
    let listener = connect(&url)
        .await
        .map_err(|e| DbErr::Custom(format!("listening for events: {e}")))?;
    Ok(tokio::spawn(run(url, listener, sink)).abort_handle())
}

async fn connect(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.application_name(LISTENER_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    // A lost connection is replaced here, not inside the listener, so that the resync
    // happens only once `LISTEN` is in place again.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn run(url: String, mut listener: PgListener, sink: Arc<dyn EventSink>) {
    loop {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match Event::parse(notification.payload()) {
                    Some(event) => sink.publish(event),
                    None => tracing::warn!(
                        payload = notification.payload(),
                        "ignoring a malformed event"
                    ),
                },
                Ok(None) => {
                    tracing::warn!("the event listener lost its connection; reconnecting");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "the event listener failed; reconnecting");
                    break;
                }
            }
        }
        listener = loop {
            match connect(&url).await {
                Ok(listener) => break listener,
                Err(error) => {
                    tracing::warn!(%error, "the event listener cannot reconnect yet");
                    tokio::time::sleep(RECONNECT_DELAY).await;
                }
            }
        };
        tracing::info!("the event listener is back; subscriptions catch up");
        sink.resync();
    }
}
