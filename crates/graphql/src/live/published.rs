//! One published event, shared by every subscription that hears it: what it refers to is read
//! from the database once per event, by the first subscription that needs it, however many
//! subscriptions there are.

use std::sync::Arc;

use convene_domain::ids::{MembershipId, PostId, ThreadId, UserId};
use convene_domain::ports::{AccountStore, ContentStore, GroupStore};
use convene_domain::{DomainResult, Event, Membership, Post, Thread, User};
use tokio::sync::OnceCell;

pub(crate) struct Published {
    pub event: Event,
    post: OnceCell<Option<Post>>,
    thread: OnceCell<Option<Thread>>,
    membership: OnceCell<Option<Membership>>,
    author: OnceCell<Option<User>>,
}

impl Published {
    pub(crate) fn new(event: Event) -> Self {
        Self {
            event,
            post: OnceCell::new(),
            thread: OnceCell::new(),
            membership: OnceCell::new(),
            author: OnceCell::new(),
        }
    }

    /// The post the event names, as committed (`None` if it is gone since).
    pub(crate) async fn post(
        &self,
        store: &Arc<dyn ContentStore>,
        id: PostId,
    ) -> DomainResult<Option<Post>> {
        self.post
            .get_or_try_init(|| async { Ok(store.posts_by_ids(&[id]).await?.pop()) })
            .await
            .cloned()
    }

    pub(crate) async fn thread(
        &self,
        store: &Arc<dyn ContentStore>,
        id: ThreadId,
    ) -> DomainResult<Option<Thread>> {
        self.thread
            .get_or_try_init(|| async { Ok(store.threads_by_ids(&[id]).await?.pop()) })
            .await
            .cloned()
    }

    /// The author of the event's post or thread, which most subscriptions show.
    pub(crate) async fn author(
        &self,
        store: &Arc<dyn AccountStore>,
        id: UserId,
    ) -> DomainResult<Option<User>> {
        self.author
            .get_or_try_init(|| async { Ok(store.users_by_ids(&[id]).await?.pop()) })
            .await
            .cloned()
    }

    pub(crate) async fn membership(
        &self,
        store: &Arc<dyn GroupStore>,
        id: MembershipId,
    ) -> DomainResult<Option<Membership>> {
        self.membership
            .get_or_try_init(|| async { Ok(store.memberships_by_ids(&[id]).await?.pop()) })
            .await
            .cloned()
    }
}
