//! Typed configuration: built-in defaults, then `convene.toml`, then environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

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
    /// Where shared files are stored (`CONVENE_STORAGE`): a directory; default `<data_dir>/files`.
    pub storage: Option<PathBuf>,
    /// The largest JSON request body, in bytes (`CONVENE_BODY_LIMIT`).
    pub body_limit: usize,
    /// The largest uploaded file, in bytes (`CONVENE_UPLOAD_LIMIT`).
    pub upload_limit: u64,
    /// Mark session cookies `Secure` (`CONVENE_SECURE_COOKIES`); set it when serving over TLS.
    pub secure_cookies: bool,
    /// How long shutdown waits for in-flight requests, in seconds.
    pub shutdown_grace_secs: u64,
    /// Origins allowed to open a websocket (`CONVENE_ALLOWED_ORIGINS`, comma-separated), such
    /// as `https://forum.example.org`. The server's own origin is always allowed, and so are
    /// handshakes without `Origin` (clients that are not browsers).
    #[serde(deserialize_with = "comma_separated")]
    pub allowed_origins: Vec<String>,
    /// Events that may wait for one websocket connection before it is closed as too slow
    /// (`CONVENE_WS_QUEUE_CAPACITY`).
    pub ws_queue_capacity: usize,
    /// The largest message a websocket client may send, in bytes (`CONVENE_WS_MESSAGE_LIMIT`).
    pub ws_message_limit: usize,
    /// How long a websocket client has to send `connection_init`, in seconds
    /// (`CONVENE_WS_INIT_TIMEOUT_SECS`).
    pub ws_init_timeout_secs: u64,
}

/// Accepts a list or one comma-separated string (as environment variables carry lists).
fn comma_separated<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        List(Vec<String>),
        One(String),
    }
    let items = match Raw::deserialize(d)? {
        Raw::List(items) => items,
        Raw::One(joined) => joined.split(',').map(str::to_owned).collect(),
    };
    Ok(items
        .into_iter()
        .map(|item| item.trim().trim_end_matches('/').to_owned())
        .filter(|item| !item.is_empty())
        .collect())
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            storage: None,
            body_limit: 1024 * 1024,
            upload_limit: 100 * 1024 * 1024,
            secure_cookies: false,
            shutdown_grace_secs: 10,
            allowed_origins: Vec::new(),
            ws_queue_capacity: 256,
            ws_message_limit: 64 * 1024,
            ws_init_timeout_secs: 10,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
}

impl Config {
    /// Loads the configuration: defaults, then the TOML file, then the environment. The file
    /// is `path`, which must exist, or else `convene.toml` in the working directory if present.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from("convene.toml")).filter(|p| p.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::prefixed("CONVENE_"))
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))
    }

    /// The directory shared files are stored in.
    pub fn storage_dir(&self) -> PathBuf {
        self.storage
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
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

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its large error type
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
            jail.set_env("DATABASE_URL", "postgres://localhost/convene");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, SocketAddr::from(([0, 0, 0, 0], 9000)));
            assert_eq!(config.database_url(), "postgres://localhost/convene");
            Ok(())
        });
    }

    #[test]
    fn the_file_is_read_and_the_environment_wins() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "convene.toml",
                "listen = \"127.0.0.1:7000\"\nbody_limit = 2048\n",
            )?;
            jail.set_env("CONVENE_BODY_LIMIT", "4096");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 7000)));
            assert_eq!(config.body_limit, 4096);
            Ok(())
        });
    }

    #[test]
    fn allowed_origins_come_comma_separated_or_as_a_list() {
        figment::Jail::expect_with(|jail| {
            jail.set_env(
                "CONVENE_ALLOWED_ORIGINS",
                "https://a.example, https://b.example/",
            );
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(
                config.allowed_origins,
                ["https://a.example", "https://b.example"]
            );
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "convene.toml",
                "allowed_origins = [\"https://c.example\"]\n",
            )?;
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.allowed_origins, ["https://c.example"]);
            Ok(())
        });
    }

    #[test]
    fn a_named_file_must_exist() {
        let missing = Path::new("/nonexistent/convene.toml");
        assert!(matches!(
            Config::load(Some(missing)),
            Err(ConfigError::MissingFile(_))
        ));
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let config = Config::default();
        assert_eq!(config.database_url(), "sqlite://./data/convene.db?mode=rwc");
    }
}
