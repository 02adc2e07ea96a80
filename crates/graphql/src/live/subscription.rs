//! The `Subscription` root of API.md.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use async_graphql::connection::{CursorType, Edge, EmptyFields};
use async_graphql::{Context, ID, Subscription};
use convene_domain::ids::{GroupId, PostId, ThreadId};
use convene_domain::{DomainError, DomainResult, Event, PageRequest, Post, Thread, Topic, User};
use futures_util::future::BoxFuture;
use futures_util::{Stream, stream};

use super::LiveConnection;
use super::access::{Access, Need};
use super::hub::{Delivery, Listening, SubscriptionSlot};
use super::published::Published;
use crate::Services;
use crate::connection::Cursor;
use crate::context::Ctx;
use crate::error::{DomainResultExt, ErrorCode, GqlResult, coded, gql};
use crate::loaders::Loaders;
use crate::mutation::parse_id;
use crate::objects::{MembershipObject, PostObject, ThreadObject};

type PostEdge = Edge<Cursor, PostObject, EmptyFields>;

/// How many replies one catch-up read fetches.
const CATCH_UP_PAGE: u64 = 100;

#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every reply committed to the thread, in commit order. With `after` (a post cursor),
    /// first the replies after it, read from the database, then the live ones, with no gap and
    /// no duplicate: a client that reconnects with its last cursor misses nothing.
    async fn reply_added(
        &self,
        ctx: &Context<'_>,
        thread_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = GqlResult<PostEdge>> + use<>, async_graphql::Error> {
        // Subscribing is boxed, so that its future, kept inline by async-graphql for the
        // subscription's whole life, is only a pointer once it has run.
        Box::pin(subscribe_replies(ctx, thread_id, after)).await
    }

    /// Every thread started in the group.
    async fn thread_added(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
    ) -> Result<impl Stream<Item = GqlResult<ThreadObject>> + use<>, async_graphql::Error> {
        let group: GroupId = parse_id(&group_id)?;
        let feed = Box::pin(Feed::open(ctx, group, Need::Read, Topic::Group(group))).await?;
        Ok(objects(feed, |published, services| match published.event {
            Event::ThreadAdded { thread, .. } => {
                let store = services.content.clone();
                Some(Box::pin(async move {
                    let found = published.thread(&store, thread).await?;
                    Ok(found.map(|thread| (ThreadObject(thread), None)))
                }))
            }
            _ => None,
        }))
    }

    /// Every change to a post of the thread: edits, deletions, reactions, answers.
    async fn post_updated(
        &self,
        ctx: &Context<'_>,
        thread_id: ID,
    ) -> Result<impl Stream<Item = GqlResult<PostObject>> + use<>, async_graphql::Error> {
        let thread_id: ThreadId = parse_id(&thread_id)?;
        let thread = thread(ctx.services()?, thread_id).await?;
        let feed = Box::pin(Feed::open(
            ctx,
            thread.group_id,
            Need::Read,
            Topic::Thread(thread_id),
        ))
        .await?;
        Ok(objects(feed, |published, services| match published.event {
            Event::PostUpdated { post, .. } => {
                let services = services.clone();
                Some(Box::pin(async move {
                    let found = post_and_author(published, &services, post).await?;
                    Ok(found.map(|(post, author)| (PostObject(post), author)))
                }))
            }
            _ => None,
        }))
    }

    /// Memberships of the group as they are requested, decided and changed; for its moderators.
    async fn membership_changed(
        &self,
        ctx: &Context<'_>,
        group_id: ID,
    ) -> Result<impl Stream<Item = GqlResult<MembershipObject>> + use<>, async_graphql::Error> {
        let group: GroupId = parse_id(&group_id)?;
        let feed = Box::pin(Feed::open(ctx, group, Need::Moderate, Topic::Group(group))).await?;
        Ok(objects(feed, |published, services| match published.event {
            Event::MembershipChanged {
                membership: Some(membership),
                ..
            } => {
                let store = services.groups.clone();
                Some(Box::pin(async move {
                    let found = published.membership(&store, membership).await?;
                    Ok(found.map(|membership| (MembershipObject(membership), None)))
                }))
            }
            _ => None,
        }))
    }
}

/// The thread a subscription follows; its group's access is checked by [`Feed::open`].
async fn thread(services: &Services, id: ThreadId) -> GqlResult<Thread> {
    let found = services.content.threads_by_ids(&[id]).await.gql()?.pop();
    found.ok_or_else(|| gql(DomainError::NotFound))
}

/// Loads what an event names, and the author to prime, if the subscription wants that kind of
/// event.
type Load<T> = fn(
    Arc<Published>,
    &Services,
) -> Option<BoxFuture<'static, DomainResult<Option<(T, Option<User>)>>>>;

/// The post an event names and its author, each read once for all subscribers.
async fn post_and_author(
    published: Arc<Published>,
    services: &Services,
    id: PostId,
) -> DomainResult<Option<(Post, Option<User>)>> {
    let Some(post) = published.post(&services.content, id).await? else {
        return Ok(None);
    };
    let author = published.author(&services.accounts, post.author_id).await?;
    Ok(Some((post, author)))
}

/// The objects that the events `load` picks name, as they are when the event arrives; events
/// whose object is gone since are skipped.
fn objects<T: Send + 'static>(feed: Feed, load: Load<T>) -> impl Stream<Item = GqlResult<T>> {
    feed_stream(feed, move |mut feed: Feed| async move {
        loop {
            let published = match feed.step().await? {
                Ok(Some(published)) => published,
                Ok(None) => continue,
                Err(err) => return Some((Err(err), feed)),
            };
            let Some(loading) = load(published, &feed.services) else {
                continue;
            };
            match loading.await {
                Ok(Some((object, author))) => {
                    return Some((Ok(Box::pin(feed.item(object, author)).await), feed));
                }
                Ok(None) => continue,
                Err(err) => return Some((Err(gql(err)), feed)),
            }
        }
    })
}

/// Subscribes to a thread's replies: after `after`, or after its newest post.
async fn subscribe_replies(
    ctx: &Context<'_>,
    thread_id: ID,
    after: Option<String>,
) -> GqlResult<impl Stream<Item = GqlResult<PostEdge>> + use<>> {
    let thread_id: ThreadId = parse_id(&thread_id)?;
    let after = after
        .map(|raw| Cursor::decode_cursor(&raw).map(|c| PostId::from_uuid(c.0)))
        .transpose()
        .gql()?;
    let services = ctx.services()?;
    let thread = thread(services, thread_id).await?;
    let feed = Feed::open(ctx, thread.group_id, Need::Read, Topic::Thread(thread_id)).await?;
    // Without a cursor, the feed starts after the newest post at subscribe time.
    let last = match after {
        Some(after) => after,
        None => {
            let newest = PageRequest {
                limit: 1,
                after: None,
                before: None,
                backward: true,
            };
            let page = services
                .content
                .thread_posts(thread_id, &newest)
                .await
                .gql()?;
            page.items
                .last()
                .map(|p| p.id)
                .ok_or_else(|| gql(DomainError::Internal("a thread without posts".into())))?
        }
    };
    let replies = Replies {
        feed,
        thread: thread_id,
        last,
        backlog: VecDeque::new(),
        catching_up: after.is_some(),
    };
    Ok(feed_stream(replies, Replies::next))
}

/// A stream over `state`, advanced by `next`; it ends after the first error (a revoked
/// subscription sends its `FORBIDDEN`, then completes).
fn feed_stream<S, T, F, Fut>(state: S, next: F) -> impl Stream<Item = GqlResult<T>>
where
    S: Send + 'static,
    T: Send + 'static,
    F: Fn(S) -> Fut + Send + 'static,
    Fut: Future<Output = Option<(GqlResult<T>, S)>> + Send,
{
    stream::unfold(Some(state), move |state| {
        let step = state.map(&next);
        async move {
            let (item, state) = step?.await?;
            let state = item.is_ok().then_some(state);
            Some((item, state))
        }
    })
}

/// The refusal of a subscription beyond the connection's maximum. It is `RATE_LIMITED` without
/// `retryAfter`: the client may subscribe again once it completes another.
fn too_many_subscriptions(max: usize) -> async_graphql::Error {
    coded(
        format!("a connection may hold at most {max} subscriptions; complete one first"),
        ErrorCode::RateLimited,
    )
}

/// One subscription's registration with the hub and its access to the group.
struct Feed {
    /// Held for the subscription's life: the connection's count of subscriptions.
    _slot: SubscriptionSlot,
    services: Services,
    access: Access,
    listening: Listening,
    loaders: Arc<Loaders>,
}

impl Feed {
    /// Registers with the hub under `topic` and the group's access topics, then admits the
    /// viewer: registering first means no event committed after the check can be missed.
    async fn open(ctx: &Context<'_>, group: GroupId, need: Need, topic: Topic) -> GqlResult<Self> {
        let services = ctx.services()?.clone();
        let connection = ctx.data::<LiveConnection>().map_err(|_| {
            gql(DomainError::Internal(
                "subscriptions need a websocket connection".into(),
            ))
        })?;
        let slot = connection
            .queue
            .subscription_slot()
            .ok_or_else(|| too_many_subscriptions(connection.queue.max_subscriptions()))?;
        let access = Access::new(
            services.clone(),
            ctx.viewer()?,
            connection.token_hash,
            group,
            need,
        );
        let topics = std::iter::once(topic).chain(access.topics()).collect();
        let listening = services.hub.listen(topics, connection.queue.clone());
        access.admit().await.gql()?;
        Ok(Self {
            _slot: slot,
            services,
            access,
            listening,
            loaders: connection.loaders.clone(),
        })
    }

    /// The next event for this subscription: `Ok(None)` after a resync, an error once the
    /// viewer's access ended, `None` when the hub is gone.
    async fn step(&mut self) -> Option<GqlResult<Option<Arc<Published>>>> {
        let delivery = self.listening.recv().await?;
        let (published, recheck) = match delivery {
            Delivery::Resync => (None, true),
            Delivery::Event(published) => {
                let recheck = self.access.affected_by(&published.event);
                (Some(published), recheck)
            }
        };
        if recheck {
            // Boxed, as the other rare steps of a feed: an idle subscription's future then holds
            // little more than its wait for the next delivery.
            match Box::pin(self.access.still_allowed()).await {
                Ok(true) => {}
                Ok(false) => {
                    return Some(Err(gql(DomainError::Forbidden(
                        "your access to this group has ended",
                    ))));
                }
                Err(err) => return Some(Err(gql(err))),
            }
        }
        Some(Ok(published))
    }

    /// Hands an item over for resolution, with the connection's loader caches emptied so that
    /// it shows the data as it is now and the caches never outgrow one item. The event's
    /// author, read once for all subscribers, is primed in the emptied cache.
    async fn item<T>(&self, item: T, author: Option<User>) -> T {
        self.loaders.clear();
        if let Some(author) = author {
            self.loaders.users.feed_one(author.id, author).await;
        }
        item
    }
}

/// The state of a `replyAdded` subscription.
struct Replies {
    feed: Feed,
    thread: ThreadId,
    /// The newest reply handed over (or the client's cursor): nothing at or before it is sent.
    last: PostId,
    /// Replies to hand over, with their author when an event brought it.
    backlog: VecDeque<(Post, Option<User>)>,
    catching_up: bool,
}

impl Replies {
    async fn next(mut self) -> Option<(GqlResult<PostEdge>, Self)> {
        loop {
            if let Some((post, author)) = self.backlog.pop_front() {
                self.last = post.id;
                let edge = Edge::new(Cursor(post.id.as_uuid()), PostObject(post));
                return Some((Ok(Box::pin(self.feed.item(edge, author)).await), self));
            }
            if self.catching_up {
                if let Err(err) = Box::pin(self.catch_up()).await {
                    return Some((Err(gql(err)), self));
                }
                continue;
            }
            let published = match self.feed.step().await? {
                Ok(Some(published)) => published,
                Ok(None) => {
                    self.catching_up = true;
                    continue;
                }
                Err(err) => return Some((Err(err), self)),
            };
            let Event::ReplyAdded { post, .. } = published.event else {
                continue;
            };
            // Already read from the database during a catch-up.
            if post <= self.last {
                continue;
            }
            match Box::pin(post_and_author(published, &self.feed.services, post)).await {
                Ok(Some(found)) => self.backlog.push_back(found),
                Ok(None) => {}
                Err(err) => return Some((Err(gql(err)), self)),
            }
        }
    }

    /// Reads the next page of replies after `last` from the database.
    async fn catch_up(&mut self) -> DomainResult<()> {
        let request = PageRequest {
            limit: CATCH_UP_PAGE,
            after: Some(self.last.as_uuid()),
            before: None,
            backward: false,
        };
        let page = self
            .feed
            .services
            .content
            .thread_posts(self.thread, &request)
            .await?;
        self.catching_up = page.has_next;
        self.backlog
            .extend(page.items.into_iter().map(|post| (post, None)));
        Ok(())
    }
}
