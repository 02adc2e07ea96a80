//! Typed configuration: built-in defaults, then `convene.toml`, then environment variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use convene_graphql::{QueryLimits, RateLimitSettings};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::client_ip::Cidr;

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
    /// The most subscriptions one websocket connection may hold at once
    /// (`CONVENE_WS_SUBSCRIPTION_LIMIT`).
    pub ws_subscription_limit: usize,
    /// The most bytes of request headers (`CONVENE_HEADER_LIMIT`); beyond it, HTTP 431.
    pub header_limit: usize,
    /// How long a request may take, in seconds (`CONVENE_REQUEST_TIMEOUT_SECS`); beyond it,
    /// HTTP 408. Uploads have `upload_timeout_secs` instead.
    pub request_timeout_secs: u64,
    /// How long a multipart (upload) request may take, in seconds
    /// (`CONVENE_UPLOAD_TIMEOUT_SECS`).
    pub upload_timeout_secs: u64,
    /// Proxies whose `X-Forwarded-For` names the client (`CONVENE_TRUSTED_PROXIES`,
    /// comma-separated addresses or blocks such as `10.0.0.0/8`). Default: none, so the
    /// peer address is the client.
    #[serde(deserialize_with = "comma_separated_parsed")]
    pub trusted_proxies: Vec<Cidr>,
    /// The deepest nesting of fields in a GraphQL document (`CONVENE_MAX_QUERY_DEPTH`).
    pub max_query_depth: usize,
    /// The largest cost of a GraphQL document (`CONVENE_MAX_QUERY_COMPLEXITY`): one per field,
    /// times the page size for connections.
    pub max_query_complexity: usize,
    /// The deepest nesting of selections and fragment spreads (`CONVENE_MAX_RECURSIVE_DEPTH`).
    pub max_recursive_depth: usize,
    /// The most directives on one field (`CONVENE_MAX_DIRECTIVES`).
    pub max_directives: usize,
    /// The most aliased fields in a document (`CONVENE_MAX_ALIASES`).
    pub max_aliases: usize,
    /// The longest GraphQL query text, in bytes (`CONVENE_MAX_QUERY_BYTES`).
    pub max_query_bytes: usize,
    /// The largest variables object, in bytes of JSON (`CONVENE_MAX_VARIABLES_BYTES`).
    pub max_variables_bytes: usize,
    /// `login` attempts per client IP per minute (`CONVENE_LOGIN_PER_IP_PER_MINUTE`; 0: off).
    pub login_per_ip_per_minute: u32,
    /// `login` attempts per account, and `register` attempts per email, per minute
    /// (`CONVENE_LOGIN_PER_ACCOUNT_PER_MINUTE`; 0: off).
    pub login_per_account_per_minute: u32,
    /// `register` attempts per client IP per minute (`CONVENE_REGISTER_PER_IP_PER_MINUTE`;
    /// 0: off).
    pub register_per_ip_per_minute: u32,
    /// New threads, replies and presentations per user per minute
    /// (`CONVENE_POSTS_PER_USER_PER_MINUTE`; 0: off).
    pub posts_per_user_per_minute: u32,
}

/// Like [`comma_separated`], each item parsed.
fn comma_separated_parsed<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    comma_separated(d)?
        .iter()
        .map(|item| item.parse().map_err(serde::de::Error::custom))
        .collect()
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
        let query = QueryLimits::default();
        let rates = RateLimitSettings::default();
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
            ws_subscription_limit: 100,
            header_limit: 16 * 1024,
            request_timeout_secs: 30,
            upload_timeout_secs: 600,
            trusted_proxies: Vec::new(),
            max_query_depth: query.depth,
            max_query_complexity: query.complexity,
            max_recursive_depth: query.recursive_depth,
            max_directives: query.directives,
            max_aliases: query.aliases,
            max_query_bytes: query.query_bytes,
            max_variables_bytes: query.variables_bytes,
            login_per_ip_per_minute: rates.login_per_ip,
            login_per_account_per_minute: rates.login_per_account,
            register_per_ip_per_minute: rates.register_per_ip,
            posts_per_user_per_minute: rates.posts_per_user,
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

    /// The GraphQL document limits in force.
    pub fn query_limits(&self) -> QueryLimits {
        QueryLimits {
            depth: self.max_query_depth,
            complexity: self.max_query_complexity,
            recursive_depth: self.max_recursive_depth,
            directives: self.max_directives,
            aliases: self.max_aliases,
            query_bytes: self.max_query_bytes,
            variables_bytes: self.max_variables_bytes,
        }
    }

    /// The rate limits in force.
    pub fn rate_limits(&self) -> RateLimitSettings {
        RateLimitSettings {
            login_per_ip: self.login_per_ip_per_minute,
            login_per_account: self.login_per_account_per_minute,
            register_per_ip: self.register_per_ip_per_minute,
            posts_per_user: self.posts_per_user_per_minute,
        }
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
    fn limits_come_from_the_environment_and_bad_proxies_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CONVENE_TRUSTED_PROXIES", "10.0.0.0/8, ::1");
            jail.set_env("CONVENE_POSTS_PER_USER_PER_MINUTE", "0");
            jail.set_env("CONVENE_MAX_QUERY_DEPTH", "7");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            let proxies: Vec<String> = config
                .trusted_proxies
                .iter()
                .map(|c| c.to_string())
                .collect();
            assert_eq!(proxies, ["10.0.0.0/8", "::1/128"]);
            assert_eq!(config.rate_limits().posts_per_user, 0);
            assert_eq!(config.rate_limits().login_per_ip, 30);
            assert_eq!(config.query_limits().depth, 7);
            jail.set_env("CONVENE_TRUSTED_PROXIES", "10.0.0.0/40");
            let refused = Config::load(None).map(|_| ()).map_err(|e| e.to_string());
            assert!(
                refused.as_ref().is_err_and(|e| e.contains("10.0.0.0/40")),
                "{refused:?}"
            );
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
