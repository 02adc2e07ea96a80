//! The Convene domain: entities as plain types, validated values, the permission policy,
//! the membership rules, and the ports the outer layers implement.
//!
//! This crate names no ORM, web framework or GraphQL library; `tests/suite/contract.rs` proves it.

pub mod content;
pub mod error;
pub mod events;
pub mod ids;
pub mod markdown;
pub mod membership;
pub mod model;
pub mod page;
pub mod policy;
pub mod ports;
pub mod session_token;
pub mod values;

pub use error::{DomainError, DomainResult, ValidationError};
pub use events::{Event, Topic};
pub use ids::{GlobalId, GroupId, LogEntryId, MembershipId, SessionId, UserId};
pub use model::*;
pub use page::{Page, PageRequest, ThreadKey, ThreadOrder};
pub use session_token::SessionToken;
