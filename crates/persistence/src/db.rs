use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use convene_domain::Event;
use convene_domain::ports::{AccountStore, ContentStore, EventSink, GroupStore};
use convene_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{Mutex, MutexGuard};

use crate::accounts::SqlAccountStore;
use crate::content::SqlContentStore;
use crate::events::{self, LocalBus};
use crate::groups::SqlGroupStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// A connection pool and what the stores need to write safely on its backend.
///
/// SQLite allows one writer at a time. Rather than letting concurrent write transactions
/// collide (`SQLITE_BUSY` on lock upgrade), every write transaction of this process takes
/// `write_lock` first; reads run concurrently on the pool (WAL). PostgreSQL needs no process
/// lock: stores lock the rows they decide on (`SELECT … FOR UPDATE`).
#[derive(Clone)]
pub struct Database {
    conn: DatabaseConnection,
    kind: DatabaseKind,
    write_lock: Arc<Mutex<()>>,
    statements: Arc<AtomicU64>,
    bus: Arc<LocalBus>,
    url: Arc<str>,
}

/// A write transaction, holding the SQLite write lock while it lives.
pub(crate) struct WriteTx<'a> {
    pub tx: DatabaseTransaction,
    guard: Option<MutexGuard<'a, ()>>,
    bus: &'a LocalBus,
}

impl WriteTx<'_> {
    /// Commits, then publishes `events`: through `NOTIFY` on PostgreSQL (sent on commit), or
    /// to this process's sink on SQLite, before the write lock is released so that events go
    /// out in commit order.
    pub(crate) async fn commit(self, events: &[Event]) -> Result<(), DbErr> {
        match self.guard {
            None => {
                events::notify(&self.tx, events).await?;
                self.tx.commit().await
            }
            Some(guard) => {
                self.tx.commit().await?;
                self.bus.publish(events);
                drop(guard);
                Ok(())
            }
        }
    }
}

/// Keeps the PostgreSQL event listener running; dropping it stops the listener.
pub struct EventsGuard(Option<tokio::task::AbortHandle>);

impl Drop for EventsGuard {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

impl Database {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite databases are
    /// opened in WAL mode with foreign keys on and `synchronous=FULL`, so that a committed
    /// transaction survives power loss.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let kind = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            DatabaseKind::Postgres
        } else {
            DatabaseKind::Sqlite
        };
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(10));
        match kind {
            DatabaseKind::Sqlite => {
                options
                    .max_connections(8)
                    .min_connections(1)
                    .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
                        opts.create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Full)
                            .foreign_keys(true)
                            .busy_timeout(Duration::from_secs(10))
                    });
            }
            DatabaseKind::Postgres => {
                options.max_connections(16).min_connections(1);
            }
        }
        let mut conn = sea_orm::Database::connect(options).await?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Ok(Self {
            conn,
            kind,
            write_lock: Arc::new(Mutex::new(())),
            statements,
            bus: Arc::default(),
            url: url.into(),
        })
    }

    /// Feeds `sink` with every committed event: this process's own on SQLite, or every
    /// process's through `LISTEN` on PostgreSQL (the listening connection is up when this
    /// returns). Events go to one sink per database handle; a second call is an error.
    pub async fn start_events(&self, sink: Arc<dyn EventSink>) -> Result<EventsGuard, DbErr> {
        match self.kind {
            DatabaseKind::Sqlite => {
                if !self.bus.attach(sink) {
                    return Err(DbErr::Custom("events already have a sink".into()));
                }
                Ok(EventsGuard(None))
            }
            DatabaseKind::Postgres => {
                let task = events::listen(self.url.to_string(), sink).await?;
                Ok(EventsGuard(Some(task)))
            }
        }
    }

    /// SQL statements sent through this pool since it opened.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.conn, None).await
    }

    /// Whether the database answers and no migration is pending.
    pub async fn is_ready(&self) -> bool {
        if self.conn.ping().await.is_err() {
            return false;
        }
        matches!(Migrator::get_pending_migrations(&self.conn).await, Ok(pending) if pending.is_empty())
    }

    pub async fn close(self) -> Result<(), DbErr> {
        self.conn.close().await
    }

    pub fn account_store(&self) -> Arc<dyn AccountStore> {
        Arc::new(SqlAccountStore::new(self.clone()))
    }

    pub fn group_store(&self) -> Arc<dyn GroupStore> {
        Arc::new(SqlGroupStore::new(self.clone()))
    }

    pub fn content_store(&self) -> Arc<dyn ContentStore> {
        Arc::new(SqlContentStore::new(self.clone()))
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) async fn begin_write(&self) -> Result<WriteTx<'_>, DbErr> {
        let guard = match self.kind {
            DatabaseKind::Sqlite => Some(self.write_lock.lock().await),
            DatabaseKind::Postgres => None,
        };
        let tx = self.conn.begin().await?;
        Ok(WriteTx {
            tx,
            guard,
            bus: &self.bus,
        })
    }
}
