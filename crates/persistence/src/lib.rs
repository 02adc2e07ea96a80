//! Storage for Convene on SQLite or PostgreSQL through sea-orm: the implementations of the
//! domain's store ports, and the connection setup both backends need.

mod accounts;
mod convert;
mod db;
mod entity;
mod error;
mod groups;
mod paginate;

pub use db::{Database, DatabaseKind};
