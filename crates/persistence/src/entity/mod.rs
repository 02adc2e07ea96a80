//! sea-orm models, one per table. They never leave this crate: `convert` turns them into
//! domain types.

pub mod group;
pub mod idempotency_key;
pub mod membership;
pub mod moderation_log;
pub mod post;
pub mod post_revision;
pub mod presentation;
pub mod reaction;
pub mod session;
pub mod thread;
pub mod thread_read;
pub mod thread_subscription;
pub mod user;
