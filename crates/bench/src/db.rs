//! The databases a run measures: a fresh SQLite file, or a fresh database on the PostgreSQL
//! server of `--database-url`, created for the run and dropped after it. The bench's own SQL
//! (seeding, references) goes through sea-orm's raw statements, so that values are encoded
//! exactly as the server encodes them on either backend.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Kind::Postgres
        } else {
            Kind::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgresql",
        }
    }

    fn backend(self) -> DatabaseBackend {
        match self {
            Kind::Sqlite => DatabaseBackend::Sqlite,
            Kind::Postgres => DatabaseBackend::Postgres,
        }
    }
}

/// A raw statement with `$1`-style placeholders, which both backends accept.
pub fn stmt(kind: Kind, sql: impl Into<String>, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(kind.backend(), sql, values)
}

/// One database the bench created.
pub struct Target {
    pub kind: Kind,
    pub url: String,
    /// The database the PostgreSQL one was created from, to drop it again.
    admin_url: Option<String>,
    name: String,
}

static CREATED: AtomicU32 = AtomicU32::new(0);

impl Target {
    /// A new, empty database: `<dir>/convene.db`, or `convene_bench_<pid>_<n>` next to the
    /// database of `postgres_url`.
    pub async fn fresh(postgres_url: Option<&str>, dir: &Path) -> anyhow::Result<Self> {
        let Some(admin_url) = postgres_url else {
            let path = dir.join("convene.db");
            return Ok(Self {
                kind: Kind::Sqlite,
                url: format!("sqlite://{}?mode=rwc", path.display()),
                admin_url: None,
                name: path.display().to_string(),
            });
        };
        if Kind::of(admin_url) != Kind::Postgres {
            bail!("--database-url must be a postgres:// URL, got {admin_url}");
        }
        let name = format!(
            "convene_bench_{}_{}",
            std::process::id(),
            CREATED.fetch_add(1, Ordering::Relaxed)
        );
        let admin = sea_orm::Database::connect(admin_url)
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .context("dropping a leftover bench database")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .with_context(|| format!("creating database {name}"))?;
        admin
            .close()
            .await
            .context("closing the admin connection")?;
        Ok(Self {
            kind: Kind::Postgres,
            url: with_database(admin_url, &name),
            admin_url: Some(admin_url.to_owned()),
            name,
        })
    }

    /// A database that exists already, which the bench will not drop.
    pub fn existing(url: &str) -> Self {
        Self {
            kind: Kind::of(url),
            url: url.to_owned(),
            admin_url: None,
            name: "an existing database".to_owned(),
        }
    }

    /// A pool set up as the server sets up its own: WAL, `synchronous=FULL` and foreign keys
    /// on SQLite, so that the references pay for the same durability.
    pub async fn connect(&self, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
        let mut options = ConnectOptions::new(self.url.clone());
        options
            .sqlx_logging(false)
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30));
        if self.kind == Kind::Sqlite {
            options.map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        sea_orm::Database::connect(options)
            .await
            .with_context(|| format!("connecting to {}", self.name))
    }

    /// Drops a PostgreSQL database (a SQLite file goes with its temporary directory).
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        let Some(admin_url) = &self.admin_url else {
            return Ok(());
        };
        let admin = sea_orm::Database::connect(admin_url.as_str())
            .await
            .with_context(|| format!("connecting to {admin_url}"))?;
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await
            .with_context(|| format!("dropping {}", self.name))?;
        Ok(())
    }

    pub fn describe(&self) -> &str {
        &self.name
    }
}

/// `url` with its database name replaced by `name`, query parameters kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "b"),
            "postgres://u:p@h/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "b"),
            "postgres://h:5432/b"
        );
    }
}
