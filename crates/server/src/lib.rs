//! The Convene HTTP server: configuration, the axum router, authentication, and the
//! composition root that wires storage into the GraphQL schema.

mod auth;
mod client_ip;
mod config;
mod demo;
mod files;
mod graphql;
mod health;
mod limits;
mod passwords;
mod range;
mod server;
mod ws;

pub use client_ip::Cidr;
pub use config::{Config, ConfigError, Secret};
pub use demo::{DemoReport, seed_demo};
pub use server::{AppState, Server, init_tracing, open_database, shutdown_signal};
