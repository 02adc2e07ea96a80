//! sea-orm models, one per table. They never leave this crate: `convert` turns them into
//! domain types.

pub mod group;
pub mod idempotency_key;
pub mod membership;
pub mod moderation_log;
pub mod session;
pub mod user;
