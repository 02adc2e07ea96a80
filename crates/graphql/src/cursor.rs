//! Cursors as clients hold them, for the property tests and fuzz targets outside this crate.
//! Resolvers use [`crate::connection`] directly; this adds no way in that they lack.

use async_graphql::connection::CursorType;
use convene_domain::{DomainError, ThreadKey};
use uuid::Uuid;

use crate::connection::Cursor;

/// The cursor of an item in a list ordered by ID.
pub fn encode(id: Uuid) -> String {
    Cursor(id).encode_cursor()
}

/// The ID a cursor of a list ordered by ID carries; `BAD_USER_INPUT` for anything else.
pub fn decode(raw: &str) -> Result<Uuid, DomainError> {
    Cursor::<Uuid>::decode_cursor(raw).map(|cursor| cursor.0)
}

/// The cursor of a thread in a group's thread list.
pub fn encode_thread(key: ThreadKey) -> String {
    Cursor(key).encode_cursor()
}

/// The key a cursor of a group's thread list carries; `BAD_USER_INPUT` for anything else.
pub fn decode_thread(raw: &str) -> Result<ThreadKey, DomainError> {
    Cursor::<ThreadKey>::decode_cursor(raw).map(|cursor| cursor.0)
}
