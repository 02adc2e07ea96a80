//! Black-box tests of the whole server over HTTP, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL.

mod contract;
mod harness;

mod input;
mod membership;
mod role_matrix;
mod smoke;
mod visibility;
