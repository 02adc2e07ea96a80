//! Relay connections over keyset pages: argument checks, opaque cursors and `totalCount`.

use std::sync::Arc;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Object, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convene_domain::{DomainError, DomainResult, Page, PageRequest, ThreadKey};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::error::{DomainResultExt, GqlResult};

/// A sort key that a cursor can carry.
pub(crate) trait CursorKey: Sized + Copy + Send + Sync + 'static {
    /// Tells this kind of cursor from others, so that a cursor of one list is refused by another.
    const TAG: &'static [u8];
    fn to_bytes(&self) -> Vec<u8>;
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

impl CursorKey for Uuid {
    const TAG: &'static [u8] = b"k1:";

    fn to_bytes(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Uuid::from_slice(bytes).ok()
    }
}

impl CursorKey for ThreadKey {
    const TAG: &'static [u8] = b"t1:";

    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![u8::from(self.pinned)];
        bytes.extend_from_slice(&self.at_micros.to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (&pinned, rest) = bytes.split_first()?;
        let (at, id) = rest.split_at_checked(8)?;
        Some(ThreadKey {
            pinned: match pinned {
                0 => false,
                1 => true,
                _ => return None,
            },
            at_micros: i64::from_be_bytes(at.try_into().ok()?),
            id: Uuid::from_slice(id).ok()?,
        })
    }
}

/// An opaque cursor: the keyset position of an item, never an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor<K = Uuid>(pub K);

impl<K: CursorKey> CursorType for Cursor<K> {
    type Error = DomainError;

    fn decode_cursor(raw: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid("cursor", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let key = bytes.strip_prefix(K::TAG).ok_or_else(invalid)?;
        K::from_bytes(key).map(Cursor).ok_or_else(invalid)
    }

    fn encode_cursor(&self) -> String {
        let mut bytes = K::TAG.to_vec();
        bytes.extend_from_slice(&self.0.to_bytes());
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

    /// Like [`PageArgs::request`], for a list sorted by another key than the ID.
    pub fn request_keyed<K: CursorKey>(&self) -> GqlResult<PageRequest<K>> {
        self.parse().gql()
    }

    fn parse<K: CursorKey>(&self) -> DomainResult<PageRequest<K>> {
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
        let decode =
            |raw: &Option<String>| raw.as_deref().map(Cursor::<K>::decode_cursor).transpose();
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

pub(crate) type Conn<N, K = Uuid> = Connection<Cursor<K>, N, TotalCount>;

/// Builds a connection from a page of items; `key` gives each item's cursor.
pub(crate) fn connection<T, N: OutputType, K: CursorKey>(
    page: Page<T>,
    total: TotalCount,
    key: impl Fn(&T) -> K,
    mut node: impl FnMut(T) -> N,
) -> Conn<N, K> {
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
            assert!(Cursor::<Uuid>::decode_cursor(bad).is_err(), "{bad}");
        }
        let thread = Cursor(ThreadKey {
            pinned: true,
            at_micros: -5,
            id: Uuid::now_v7(),
        });
        assert_eq!(
            Cursor::decode_cursor(&thread.encode_cursor()).ok(),
            Some(thread)
        );
        assert!(
            Cursor::<ThreadKey>::decode_cursor(&cursor.encode_cursor()).is_err(),
            "another list's cursor"
        );
    }

    #[test]
    fn page_arguments_are_bounded() {
        let args = |first, last| PageArgs::new(first, None, last, None).parse::<Uuid>();
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
