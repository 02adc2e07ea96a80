//! Per-request DataLoaders: every object that refers to another (a membership's user, a
//! group's member count…) is fetched in one batched query per kind, never one per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use convene_domain::ids::{
    GroupId, LogEntryId, MembershipId, PostId, PresentationId, RevisionId, ThreadId, UserId,
};
use convene_domain::ports::{AccountStore, ContentStore, GroupStore};
use convene_domain::{
    DomainError, Group, Membership, ModerationLogEntry, Post, PostRevision, Presentation,
    ReactionGroup, SubscriptionLevel, Thread, User,
};

use crate::Services;
use crate::context::Viewer;

type LoadError = Arc<DomainError>;

/// Declares a loader of objects by ID through one batched store call.
macro_rules! by_id_loader {
    ($name:ident, $store:ident, $key:ty, $value:ty, $method:ident) => {
        pub(crate) struct $name(Arc<dyn $store>);

        impl Loader<$key> for $name {
            type Value = $value;
            type Error = LoadError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, LoadError> {
                let found = self.0.$method(keys).await?;
                Ok(found.into_iter().map(|v| (v.id, v)).collect())
            }
        }
    };
}

by_id_loader!(UserLoader, AccountStore, UserId, User, users_by_ids);
by_id_loader!(
    MembershipLoader,
    GroupStore,
    MembershipId,
    Membership,
    memberships_by_ids
);
by_id_loader!(
    LogEntryLoader,
    GroupStore,
    LogEntryId,
    ModerationLogEntry,
    log_entries_by_ids
);
by_id_loader!(ThreadLoader, ContentStore, ThreadId, Thread, threads_by_ids);
by_id_loader!(PostLoader, ContentStore, PostId, Post, posts_by_ids);
by_id_loader!(
    RevisionLoader,
    ContentStore,
    RevisionId,
    PostRevision,
    revisions_by_ids
);
by_id_loader!(
    PresentationLoader,
    ContentStore,
    PresentationId,
    Presentation,
    presentations_by_ids
);

/// Reaction counts of each post, with the viewer's own reactions.
pub(crate) struct ReactionGroupsLoader {
    store: Arc<dyn ContentStore>,
    viewer: Option<UserId>,
}

impl Loader<PostId> for ReactionGroupsLoader {
    type Value = Vec<ReactionGroup>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PostId],
    ) -> Result<HashMap<PostId, Vec<ReactionGroup>>, LoadError> {
        Ok(self
            .store
            .reaction_groups(keys, self.viewer)
            .await?
            .into_iter()
            .collect())
    }
}

/// The viewer's unread posts per thread (nothing for anonymous viewers).
pub(crate) struct UnreadCountLoader {
    store: Arc<dyn ContentStore>,
    viewer: Option<UserId>,
}

impl Loader<ThreadId> for UnreadCountLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[ThreadId]) -> Result<HashMap<ThreadId, u64>, LoadError> {
        match self.viewer {
            Some(viewer) => Ok(self
                .store
                .unread_counts(viewer, keys)
                .await?
                .into_iter()
                .collect()),
            None => Ok(HashMap::new()),
        }
    }
}

/// The viewer's subscription level per thread.
pub(crate) struct SubscriptionLoader {
    store: Arc<dyn ContentStore>,
    viewer: Option<UserId>,
}

impl Loader<ThreadId> for SubscriptionLoader {
    type Value = SubscriptionLevel;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ThreadId],
    ) -> Result<HashMap<ThreadId, SubscriptionLevel>, LoadError> {
        match self.viewer {
            Some(viewer) => Ok(self
                .store
                .subscriptions(viewer, keys)
                .await?
                .into_iter()
                .collect()),
            None => Ok(HashMap::new()),
        }
    }
}

/// The viewer's own membership in each group (absent for anonymous viewers).
/// Groups with the viewer's own membership of each, in one query: what a group's page and
/// every permission check need together.
pub(crate) struct GroupLoader {
    store: Arc<dyn GroupStore>,
    viewer: Option<UserId>,
}

impl Loader<GroupId> for GroupLoader {
    type Value = (Group, Option<Membership>);
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[GroupId],
    ) -> Result<HashMap<GroupId, (Group, Option<Membership>)>, LoadError> {
        let found = self
            .store
            .groups_with_memberships(keys, self.viewer)
            .await?;
        Ok(found.into_iter().map(|(g, m)| (g.id, (g, m))).collect())
    }
}

pub(crate) struct MemberCountLoader(Arc<dyn GroupStore>);

impl Loader<GroupId> for MemberCountLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, u64>, LoadError> {
        let counts = self.0.member_counts(keys).await?;
        Ok(counts.into_iter().collect())
    }
}

/// The loaders of one request. They batch, and cache for the request, so that a page can
/// prefetch what its items refer to; [`FreshAfterMutations`] empties the caches before each
/// mutation, so that a payload never shows what was read before the change.
pub(crate) struct Loaders {
    pub users: DataLoader<UserLoader, HashMapCache>,
    pub groups: DataLoader<GroupLoader, HashMapCache>,
    pub memberships: DataLoader<MembershipLoader, HashMapCache>,
    pub log_entries: DataLoader<LogEntryLoader, HashMapCache>,
    pub member_counts: DataLoader<MemberCountLoader, HashMapCache>,
    pub threads: DataLoader<ThreadLoader, HashMapCache>,
    pub posts: DataLoader<PostLoader, HashMapCache>,
    pub revisions: DataLoader<RevisionLoader, HashMapCache>,
    pub presentations: DataLoader<PresentationLoader, HashMapCache>,
    pub reaction_groups: DataLoader<ReactionGroupsLoader, HashMapCache>,
    pub unread_counts: DataLoader<UnreadCountLoader, HashMapCache>,
    pub subscriptions: DataLoader<SubscriptionLoader, HashMapCache>,
}

impl Loaders {
    pub(crate) fn new(services: &Services, viewer: &Viewer) -> Self {
        let viewer_id = viewer.user.as_ref().map(|u| u.id);
        let content = &services.content;
        Self {
            threads: cached(ThreadLoader(content.clone())),
            posts: cached(PostLoader(content.clone())),
            revisions: cached(RevisionLoader(content.clone())),
            presentations: cached(PresentationLoader(content.clone())),
            reaction_groups: cached(ReactionGroupsLoader {
                store: content.clone(),
                viewer: viewer_id,
            }),
            unread_counts: cached(UnreadCountLoader {
                store: content.clone(),
                viewer: viewer_id,
            }),
            subscriptions: cached(SubscriptionLoader {
                store: content.clone(),
                viewer: viewer_id,
            }),
            users: cached(UserLoader(services.accounts.clone())),
            groups: cached(GroupLoader {
                store: services.groups.clone(),
                viewer: viewer_id,
            }),
            memberships: cached(MembershipLoader(services.groups.clone())),
            log_entries: cached(LogEntryLoader(services.groups.clone())),
            member_counts: cached(MemberCountLoader(services.groups.clone())),
        }
    }
}

fn cached<T: Send + Sync + 'static>(loader: T) -> DataLoader<T, HashMapCache> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

impl Loaders {
    /// Forgets everything loaded so far.
    pub(crate) fn clear(&self) {
        self.users.clear::<UserId>();
        self.groups.clear::<GroupId>();
        self.memberships.clear::<MembershipId>();
        self.log_entries.clear::<LogEntryId>();
        self.member_counts.clear::<GroupId>();
        self.threads.clear::<ThreadId>();
        self.posts.clear::<PostId>();
        self.revisions.clear::<RevisionId>();
        self.presentations.clear::<PresentationId>();
        self.reaction_groups.clear::<PostId>();
        self.unread_counts.clear::<ThreadId>();
        self.subscriptions.clear::<ThreadId>();
    }
}

/// Empties the request's loader caches before each mutation field runs.
pub(crate) struct FreshAfterMutations;

impl ExtensionFactory for FreshAfterMutations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FreshAfterMutations)
    }
}

#[async_trait::async_trait]
impl Extension for FreshAfterMutations {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type == "Mutation" {
            if let Some(loaders) = ctx.data_opt::<Loaders>() {
                loaders.clear();
            }
        }
        next.run(ctx, info).await
    }
}

/// Turns a loader's shared error back into a GraphQL error.
pub(crate) fn load_err(err: LoadError) -> async_graphql::Error {
    let err =
        Arc::try_unwrap(err).unwrap_or_else(|shared| DomainError::Internal(shared.to_string()));
    crate::error::gql(err)
}
