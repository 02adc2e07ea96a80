//! The Convene HTTP server: configuration, the axum router, authentication, and the
//! composition root that wires storage into the GraphQL schema.

mod auth;
mod config;
mod graphql;
mod health;
mod passwords;
// Used by the `/files/{id}` route, which is not written yet.
#[allow(dead_code)]
mod range;
mod server;

pub use config::{Config, ConfigError, Secret};
pub use server::{AppState, Server, init_tracing, open_database, shutdown_signal};
