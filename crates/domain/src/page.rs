//! Keyset pagination. Every list is ordered by a key that never repeats (IDs are UUIDv7, so
//! ordering by ID is ordering by creation); a cursor is the key of an item, never an offset.

use uuid::Uuid;

/// Which slice of a list to read: `limit` items after `after` (forward) or the last `limit`
/// items before `before` (backward). Both bounds may be set in either direction.
///
/// `K` is the list's sort key: an ID for lists in creation order, or a composite key such as
/// [`ThreadKey`] for lists in another order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<K = Uuid> {
    pub limit: u64,
    pub after: Option<K>,
    pub before: Option<K>,
    pub backward: bool,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u64 = 20;
    pub const MAX_LIMIT: u64 = 100;
}

impl<K> PageRequest<K> {
    pub fn first(limit: u64) -> Self {
        Self {
            limit,
            after: None,
            before: None,
            backward: false,
        }
    }
}

/// One page of a list, in list order, with what lies beyond it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    pub has_previous: bool,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in scan order (ascending forward,
    /// descending backward): the extra row only tells that more exist.
    pub fn from_scan<K>(mut rows: Vec<T>, request: &PageRequest<K>) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        if request.backward {
            rows.reverse();
            Self {
                items: rows,
                has_next: request.before.is_some(),
                has_previous: more,
            }
        } else {
            Self {
                items: rows,
                has_next: more,
                has_previous: request.after.is_some(),
            }
        }
    }

    /// Converts every item, failing on the first that does not convert.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            has_next: self.has_next,
            has_previous: self.has_previous,
        })
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next: self.has_next,
            has_previous: self.has_previous,
        }
    }
}

/// Where a thread stands in a group's list: pinned threads first, then by time (last activity
/// or creation), newest first; the ID breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadKey {
    pub pinned: bool,
    /// Microseconds since the Unix epoch.
    pub at_micros: i64,
    pub id: Uuid,
}

/// How a group's threads are listed (pinned threads always first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadOrder {
    /// Most recent reply first.
    LastActivity,
    /// Newest thread first.
    Created,
}

impl ThreadKey {
    /// Where `thread` stands in a list in `order`. In creation order the ID (a UUIDv7) is the
    /// time, so `at_micros` is not used.
    pub fn of(thread: &crate::model::Thread, order: ThreadOrder) -> Self {
        Self {
            pinned: thread.is_pinned,
            at_micros: match order {
                ThreadOrder::LastActivity => thread.last_activity_at.timestamp_micros(),
                ThreadOrder::Created => 0,
            },
            id: thread.id.as_uuid(),
        }
    }
}
