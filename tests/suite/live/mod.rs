//! Live subscriptions over websockets at `/graphql/ws`: delivery in commit order, replay from a
//! cursor, permission checked for as long as a subscription runs, the protocols' rules, slow
//! clients, several processes on PostgreSQL, and shutdown.

pub(crate) mod client;
pub(crate) mod fixtures;
mod process;

mod fanout;
mod processes;
mod protocol;
mod refusals;
mod replies;
mod revocation;
mod shutdown;
mod slow;
mod updates;
