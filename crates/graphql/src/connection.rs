//! Relay connections over keyset pages: argument checks, opaque cursors and `totalCount`.

use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_domain::{DomainError, DomainResult, Page, PageRequest};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::error::{DomainResultExt, GqlResult};

const CURSOR_PREFIX: &[u8] = b"k1:";

/// An opaque cursor: the keyset position of an item (its UUIDv7 key), never an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor(pub Uuid);

impl CursorType for Cursor {
    type Error = DomainError;

    fn decode_cursor(raw: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid("cursor", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let key = bytes.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
        Uuid::from_slice(key).map(Cursor).map_err(|_| invalid())
    }

    fn encode_cursor(&self) -> String {
        let mut bytes = CURSOR_PREFIX.to_vec();
        bytes.extend_from_slice(self.0.as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

/// The pagination arguments every connection field takes.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }

    /// Checks the arguments (`first`/`last` within 1..=100, not both, valid cursors).
    pub fn request(&self) -> GqlResult<PageRequest> {
        self.parse().gql()
    }

    fn parse(&self) -> DomainResult<PageRequest> {
        if self.first.is_some() && self.last.is_some() {
            return Err(DomainError::invalid(
                "first",
                "pass either first or last, not both",
            ));
        }
        let (field, count) = match (self.first, self.last) {
            (_, Some(last)) => ("last", Some(last)),
            (first, None) => ("first", first),
        };
        let limit = match count {
            None => PageRequest::DEFAULT_LIMIT,
            Some(n) => u64::try_from(n)
                .ok()
                .filter(|n| (1..=PageRequest::MAX_LIMIT).contains(n))
                .ok_or_else(|| DomainError::invalid(field, "must be between 1 and 100"))?,
        };
        let decode = |raw: &Option<String>| raw.as_deref().map(Cursor::decode_cursor).transpose();
        Ok(PageRequest {
            limit,
            after: decode(&self.after)?.map(|c| c.0),
            before: decode(&self.before)?.map(|c| c.0),
            backward: self.last.is_some(),
        })
    }
}

type CountFn = dyn Fn() -> BoxFuture<'static, DomainResult<u64>> + Send + Sync;

/// `totalCount`, computed only when asked for.
pub(crate) struct TotalCount(Arc<CountFn>);

impl TotalCount {
    pub fn new(
        count: impl Fn() -> BoxFuture<'static, DomainResult<u64>> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(count))
    }
}

#[Object]
impl TotalCount {
    /// How many items the whole list holds.
    async fn total_count(&self) -> GqlResult<i64> {
        let count = (self.0)().await.gql()?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

pub(crate) type Conn<N> = Connection<Cursor, N, TotalCount>;

/// Builds a connection from a page of items; `key` gives each item's cursor.
pub(crate) fn connection<T, N: OutputType>(
    page: Page<T>,
    total: TotalCount,
    key: impl Fn(&T) -> Uuid,
    mut node: impl FnMut(T) -> N,
) -> Conn<N> {
    let mut connection =
        Connection::with_additional_fields(page.has_previous, page.has_next, total);
    connection.edges.extend(page.items.into_iter().map(|item| {
        let cursor = Cursor(key(&item));
        Edge::new(cursor, node(item))
    }));
    connection
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor(Uuid::now_v7());
        assert_eq!(
            Cursor::decode_cursor(&cursor.encode_cursor()).ok(),
            Some(cursor)
        );
        for bad in ["", "abc", "!!!!", &URL_SAFE_NO_PAD.encode(b"k1:short")] {
            assert!(Cursor::decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_arguments_are_bounded() {
        let args = |first, last| PageArgs::new(first, None, last, None).parse();
        assert_eq!(args(None, None).map(|r| r.limit).ok(), Some(20));
        assert_eq!(args(Some(100), None).map(|r| r.limit).ok(), Some(100));
        assert!(args(Some(0), None).is_err());
        assert!(args(Some(101), None).is_err());
        assert!(args(None, Some(-1)).is_err());
        assert!(args(Some(5), Some(5)).is_err());
        assert_eq!(
            args(None, Some(7)).map(|r| (r.limit, r.backward)).ok(),
            Some((7, true))
        );
    }
}
