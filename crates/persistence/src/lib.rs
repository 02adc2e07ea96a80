//! Storage for Convene on SQLite or PostgreSQL through sea-orm: the implementations of the
//! domain's store ports, and the connection setup both backends need. Shared files go to an
//! object store instead (`Files`).

mod accounts;
mod content;
mod convert;
mod db;
mod entity;
mod error;
mod events;
mod files;
mod groups;
mod paginate;

pub use db::{Database, DatabaseKind, EventsGuard};
pub use events::{CHANNEL as EVENT_CHANNEL, LISTENER_NAME as EVENT_LISTENER_NAME};
pub use files::{Files, ReadFile};
