//! The composition root: storage, password hasher and schema wired into one router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use convene_graphql::{ConveneSchema, Hub, RateLimits, Services, build_schema};
use convene_persistence::{Database, DatabaseKind, EventsGuard, Files};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::passwords::Argon2Hasher;
use crate::{client_ip, files, graphql, health, limits, ws};

/// How long shutdown waits for websockets to finish their closing handshake.
const WEBSOCKET_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Everything a handler needs, built once at start-up.
#[derive(Clone)]
pub struct AppState {
    pub schema: ConveneSchema,
    pub services: Services,
    /// The file store, for downloads (uploads go through `services.files`).
    pub files: Files,
    pub database: Database,
    pub config: Arc<Config>,
    /// Turns `true` when the server starts shutting down: websockets close with 1001.
    pub shutdown: watch::Receiver<bool>,
    /// Password hashes and verifications run, for `/metrics`.
    pub password_work: Arc<AtomicU64>,
}

/// Installs the log subscriber: `RUST_LOG` filters, default `info`.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Opens (creating the SQLite file and its directory if needed) and migrates the database.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    let url = config.database_url();
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
    }
    let database = Database::connect(&url)
        .await
        .context("connecting to the database")?;
    database.migrate().await.context("migrating the database")?;
    let kind = match database.kind() {
        DatabaseKind::Sqlite => "SQLite",
        DatabaseKind::Postgres => "PostgreSQL",
    };
    tracing::info!(database = kind, "database ready");
    Ok(database)
}

/// A bound, ready-to-run server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    grace: Duration,
    stopping: watch::Sender<bool>,
    hub: Arc<Hub>,
    /// Keeps committed events flowing into the hub while the server runs.
    _events: EventsGuard,
}

impl Server {
    /// Opens the database, builds the app and binds the listener (port 0 picks a free port).
    pub async fn bind(config: Config) -> anyhow::Result<Self> {
        let database = open_database(&config).await?;
        Self::bind_with(config, database).await
    }

    /// Like [`Server::bind`], on an already opened and migrated database.
    pub async fn bind_with(config: Config, database: Database) -> anyhow::Result<Self> {
        let hasher = Arc::new(Argon2Hasher::new()?);
        let password_work = hasher.runs();
        let files = Files::local(&config.storage_dir()).with_context(|| {
            format!("opening file storage at {}", config.storage_dir().display())
        })?;
        let hub = Hub::new();
        let rate_limits = Arc::new(RateLimits::new(config.rate_limits()));
        forget_idle_callers(&rate_limits);
        let events = database
            .start_events(hub.clone())
            .await
            .context("starting the event listener")?;
        let services = Services {
            hub: hub.clone(),
            accounts: database.account_store(),
            groups: database.group_store(),
            content: database.content_store(),
            files: Arc::new(files.clone()),
            hasher,
            secure_cookies: config.secure_cookies,
            rate_limits,
        };
        let schema = build_schema(services.clone(), config.query_limits());
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let grace = Duration::from_secs(config.shutdown_grace_secs);
        let (stopping, shutdown) = ws::shutdown_channel();
        let state = AppState {
            schema,
            services,
            files,
            database,
            config: Arc::new(config),
            shutdown,
            password_work,
        };
        Ok(Self {
            listener,
            router: router(state),
            grace,
            stopping,
            hub,
            _events: events,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The app without the listener, for driving requests in-process (the fuzz targets).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves until `shutdown` completes, then stops accepting, closes websockets with 1001
    /// and gives in-flight requests the configured grace period to finish.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stopping = Arc::new(Notify::new());
        let notify = stopping.clone();
        let sockets = self.stopping;
        let app = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down");
            sockets.send_replace(true);
            notify.notify_one();
        });
        let grace = self.grace;
        let hub = self.hub;
        let served = async move {
            let result = serve.await;
            // Websockets are told to close with 1001 when shutdown starts; give their closing
            // handshakes a moment before the process goes.
            let deadline = tokio::time::Instant::now() + WEBSOCKET_CLOSE_WAIT;
            while hub.stats().connections > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            result
        };
        tokio::select! {
            result = served => result.context("serving HTTP"),
            () = async move {
                stopping.notified().await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!("in-flight requests did not finish within the grace period");
                Ok(())
            }
        }
    }
}

fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let limited = axum::middleware::from_fn_with_state(state.clone(), limits::request_limits);
    let client = axum::middleware::from_fn_with_state(state.clone(), client_ip::attach);
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/files/{id}", get(files::download))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(client)
        .layer(limited)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Every minute, lets the rate limiters forget callers whose quota has refilled; stops with
/// the server (once nothing else holds the limiters).
fn forget_idle_callers(limits: &Arc<RateLimits>) {
    let limits = Arc::downgrade(limits);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        every.tick().await;
        loop {
            every.tick().await;
            let Some(limits) = limits.upgrade() else {
                break;
            };
            limits.forget_idle();
        }
    });
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "listening for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
