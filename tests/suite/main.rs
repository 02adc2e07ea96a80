//! Black-box tests of the whole server over HTTP, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL.

// A failed expectation is a failed test here.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod harness;
mod process;

mod accounts;
mod contract;
mod http;
mod input;
mod live;
mod membership;
mod presentations;
mod properties;
mod security;
mod smoke;
mod threads;
mod visibility;
