//! Typed configuration: built-in defaults, then `convene.toml`, then environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};

/// A value that never prints (database URLs carry passwords).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Where to listen (`CONVENE_LISTEN`).
    pub listen: SocketAddr,
    /// Where the SQLite database and files live (`CONVENE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `DATABASE_URL`; default: SQLite at `<data_dir>/convene.db`.
    pub database_url: Option<Secret<String>>,
    /// Where uploaded files go (`CONVENE_STORAGE`); default: `<data_dir>/files`.
    pub storage: Option<String>,
    /// Origins allowed to open websockets (`CONVENE_ALLOWED_ORIGINS`, comma-separated);
    /// default: the server's own origin.
    #[serde(deserialize_with = "comma_list")]
    pub allowed_origins: Vec<String>,
    /// The largest JSON request body, in bytes (`CONVENE_BODY_LIMIT`).
    pub body_limit: usize,
    /// Mark session cookies `Secure` (`CONVENE_SECURE_COOKIES`); set it when serving over TLS.
    pub secure_cookies: bool,
    /// How long shutdown waits for in-flight requests, in seconds.
    pub shutdown_grace_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            storage: None,
            allowed_origins: Vec::new(),
            body_limit: 1024 * 1024,
            secure_cookies: false,
            shutdown_grace_secs: 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(#[from] Box<figment::Error>);

impl Config {
    /// Loads the configuration: defaults, then the TOML file (`path`, or `convene.toml` in the
    /// working directory when it exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = path.map_or_else(|| PathBuf::from("convene.toml"), Path::to_path_buf);
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CONVENE_"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| ConfigError(Box::new(e)))
    }

    /// The database URL in force: `DATABASE_URL`, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("convene.db").display()
            ),
        }
    }
}

/// Accepts `"a,b"` as well as `["a", "b"]`.
fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        One(String),
        Many(Vec<String>),
    }
    Ok(match List::deserialize(deserializer)? {
        List::One(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        List::Many(items) => items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let config = Config {
            database_url: Some(Secret::new("postgres://u:hunter2@db/x".into())),
            ..Config::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CONVENE_LISTEN", "0.0.0.0:9000");
            jail.set_env(
                "CONVENE_ALLOWED_ORIGINS",
                "https://a.example, https://b.example",
            );
            jail.set_env("DATABASE_URL", "postgres://localhost/convene");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
            assert_eq!(
                config.allowed_origins,
                ["https://a.example", "https://b.example"]
            );
            assert_eq!(config.database_url(), "postgres://localhost/convene");
            Ok(())
        });
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://./data/convene.db?mode=rwc");
    }
}
