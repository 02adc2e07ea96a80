//! Black-box tests of the whole server over HTTP, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL.

// A failed expectation in a test is a test failure: panicking is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod harness;

mod accounts;
mod http;
mod smoke;
