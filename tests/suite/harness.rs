//! The black-box harness: a real server on port 0 over a fresh database per test, and a small
//! GraphQL client.
//!
//! Every test runs on SQLite; when `TEST_DATABASE_URL` names a PostgreSQL server it runs there
//! too, each time in a database of its own. With `CI=true` PostgreSQL is required.

use std::future::Future;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use convene_server::{Config, Secret, Server};
use sea_orm::{ConnectionTrait, Database as SeaDatabase};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends this run covers.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => backends.push(Backend::Postgres),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true requires TEST_DATABASE_URL: the suite must run on PostgreSQL too")
        }
        _ => {}
    }
    backends
}

/// Runs `test` once per backend, each on a fresh server and database.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(|_| {}, test).await;
}

/// Like [`each_backend`], on servers whose configuration `tweak` adjusts.
pub async fn each_backend_with<T, F, Fut>(tweak: T, test: F)
where
    T: Fn(&mut Config),
    F: Fn(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in backends() {
        let server = TestServer::start_with(backend, &tweak).await;
        let cleanup = server.cleanup_handle();
        test(server).await;
        cleanup.finish().await;
    }
}

pub struct TestServer {
    pub backend: Backend,
    pub url: String,
    pub client: reqwest::Client,
    database_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Stops the server and drops its PostgreSQL database once the test body is done.
pub struct Cleanup {
    backend: Backend,
    database_url: String,
}

impl Cleanup {
    async fn finish(self) {
        if self.backend == Backend::Postgres {
            drop_database(&self.database_url).await;
        }
    }
}

impl TestServer {
    /// Starts a server on a fresh database, its configuration adjusted by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("convene.db").display()
            ),
            Backend::Postgres => create_database().await,
        };
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(Secret::new(database_url.clone())),
            // Every test's clients share 127.0.0.1, and some post hundreds of replies a second
            // as one user: the per-IP and posting limits are off here, and their own tests
            // turn them back on. Every other limit is the default.
            login_per_ip_per_minute: 0,
            register_per_ip_per_minute: 0,
            posts_per_user_per_minute: 0,
            ..Config::default()
        };
        tweak(&mut config);
        let server = Server::bind(config).await.expect("server starts");
        let addr = server.local_addr().expect("bound");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            server
                .run(async move {
                    let _ = rx.await;
                })
                .await
                .expect("server runs");
        });
        Self {
            backend,
            url: format!("http://{addr}"),
            client: reqwest::Client::new(),
            database_url,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// The server's data directory (shared files go to its `files` directory).
    pub fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    /// The database this server uses, so that other processes can share it.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    fn cleanup_handle(&self) -> Cleanup {
        Cleanup {
            backend: self.backend,
            database_url: self.database_url.clone(),
        }
    }

    /// Posts a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        assert_eq!(response.status(), 200, "GraphQL answers 200");
        response.json().await.expect("JSON body")
    }

    /// Like [`TestServer::gql`], asserting there are no errors, and returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "[{:?}] unexpected errors: {body:#}",
            self.backend
        );
        body["data"].clone()
    }

    /// Registers a user and returns its session.
    pub async fn register(&self, handle: &str) -> User {
        let data = self.ok(None, REGISTER, register_variables(handle)).await;
        User::registered(&data, handle)
    }

    /// Signs `user` in again and returns the new session's token.
    pub async fn login(&self, user: &User) -> String {
        let data = self
            .ok(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { token } }",
                json!({ "input": { "login": user.handle, "password": PASSWORD } }),
            )
            .await;
        data["login"]["token"].as_str().expect("token").to_owned()
    }

    /// Creates a group owned by `owner` and returns its ID.
    pub async fn create_group(
        &self,
        owner: &User,
        slug: &str,
        visibility: &str,
        join_policy: &str,
    ) -> String {
        let data = self
            .ok(
                Some(&owner.token),
                "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }",
                json!({ "input": {
                    "slug": slug,
                    "name": format!("Group {slug}"),
                    "description": format!("About {slug}"),
                    "visibility": visibility,
                    "joinPolicy": join_policy,
                }}),
            )
            .await;
        data["createGroup"]["group"]["id"]
            .as_str()
            .expect("group id")
            .to_owned()
    }
}

impl TestServer {
    /// The `convene_sql_statements_total` counter that `GET /metrics` reports.
    pub async fn metrics_statements(&self) -> u64 {
        let response = self
            .client
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics request sent");
        assert_eq!(response.status(), 200, "/metrics answers 200");
        let text = response.text().await.expect("metrics body");
        text.lines()
            .find_map(|line| line.strip_prefix("convene_sql_statements_total "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or_else(|| panic!("no convene_sql_statements_total in /metrics: {text}"))
    }
}

impl TestServer {
    /// Makes a registered user a site admin through the real `convene create-admin` command.
    pub async fn make_admin(&self, handle: &str) {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_convene"));
        command
            .args(["create-admin", handle])
            .env("DATABASE_URL", &self.database_url)
            .env("CONVENE_DATA_DIR", self._dir.path())
            .env("RUST_LOG", "warn");
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("joined")
            .expect("convene create-admin runs");
        assert!(output.status.success(), "create-admin failed: {output:?}");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub handle: String,
    pub token: String,
}

/// The `register` mutation the suite's users are made with.
pub const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id handle } } }";

/// The variables of [`REGISTER`] for `handle`, with the suite's password.
pub fn register_variables(handle: &str) -> Value {
    json!({ "input": {
        "handle": handle,
        "email": format!("{handle}@example.org"),
        "password": PASSWORD,
        "displayName": handle,
    }})
}

impl User {
    /// The user that [`REGISTER`]'s `data` describes.
    #[track_caller]
    pub fn registered(data: &Value, handle: &str) -> Self {
        let field = |value: &Value| value.as_str().expect("register answered").to_owned();
        User {
            id: field(&data["register"]["viewer"]["id"]),
            handle: handle.to_owned(),
            token: field(&data["register"]["token"]),
        }
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Asserts the response failed with `code`.
#[track_caller]
pub fn assert_code(body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "expected {code}: {body:#}");
}

/// A unique name for a test database: `convene_test_<unix seconds>_<random>`.
fn test_database_name() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("convene_test_{secs}_{}", uuid::Uuid::now_v7().simple())
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL")
}

/// `postgres://…/<name>` on the same server as `TEST_DATABASE_URL`.
fn url_for(name: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base.to_owned(), format!("?{query}")),
        None => (admin.clone(), String::new()),
    };
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{name}{query}")
}

/// Creates an empty database for one test on the server that `TEST_DATABASE_URL` names, and
/// returns its URL.
pub async fn create_database() -> String {
    let admin = SeaDatabase::connect(admin_url())
        .await
        .expect("TEST_DATABASE_URL is reachable");
    drop_stale_databases(&admin).await;
    let name = test_database_name();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    let _ = admin.close().await;
    url_for(&name)
}

/// Drops test databases left behind by runs that died more than two hours ago.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    use sea_orm::{FromQueryResult, Statement};

    #[derive(FromQueryResult)]
    struct Name {
        datname: String,
    }
    let Ok(rows) = Name::find_by_statement(Statement::from_string(
        sea_orm::DbBackend::Postgres,
        "SELECT datname FROM pg_database WHERE datname LIKE 'convene\\_test\\_%'",
    ))
    .all(admin)
    .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for row in rows {
        let created = row
            .datname
            .strip_prefix("convene_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| now.saturating_sub(secs) > 2 * 3600) {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    row.datname
                ))
                .await;
        }
    }
}

/// Drops a database that [`create_database`] made.
pub async fn drop_database(url: &str) {
    let name = url
        .rsplit_once('/')
        .map(|(_, rest)| rest.split('?').next().unwrap_or(rest).to_owned())
        .expect("database name");
    let admin = SeaDatabase::connect(admin_url())
        .await
        .expect("admin connection");
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .expect("drop test database");
    let _ = admin.close().await;
}
