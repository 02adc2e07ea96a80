//! Per-request DataLoaders: every object that refers to another (a membership's user, a
//! group's member count…) is fetched in one batched query per kind, never one per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
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
by_id_loader!(GroupLoader, GroupStore, GroupId, Group, groups_by_ids);
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
pub(crate) struct ViewerMembershipLoader {
    store: Arc<dyn GroupStore>,
    viewer: Option<UserId>,
}

impl Loader<GroupId> for ViewerMembershipLoader {
    type Value = Membership;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Membership>, LoadError> {
        let Some(viewer) = self.viewer else {
            return Ok(HashMap::new());
        };
        let memberships = self.store.memberships_of(viewer, keys).await?;
        Ok(memberships.into_iter().map(|m| (m.group_id, m)).collect())
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

/// The loaders of one request. They batch and do not cache, so a mutation's payload never
/// shows what an earlier field of the same request read before the change.
pub(crate) struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub groups: DataLoader<GroupLoader>,
    pub memberships: DataLoader<MembershipLoader>,
    pub log_entries: DataLoader<LogEntryLoader>,
    pub viewer_memberships: DataLoader<ViewerMembershipLoader>,
    pub member_counts: DataLoader<MemberCountLoader>,
    pub threads: DataLoader<ThreadLoader>,
    pub posts: DataLoader<PostLoader>,
    pub revisions: DataLoader<RevisionLoader>,
    pub presentations: DataLoader<PresentationLoader>,
    pub reaction_groups: DataLoader<ReactionGroupsLoader>,
    pub unread_counts: DataLoader<UnreadCountLoader>,
    pub subscriptions: DataLoader<SubscriptionLoader>,
}

impl Loaders {
    pub(crate) fn new(services: &Services, viewer: &Viewer) -> Self {
        let viewer_id = viewer.user.as_ref().map(|u| u.id);
        let content = &services.content;
        Self {
            threads: DataLoader::new(ThreadLoader(content.clone()), tokio::spawn),
            posts: DataLoader::new(PostLoader(content.clone()), tokio::spawn),
            revisions: DataLoader::new(RevisionLoader(content.clone()), tokio::spawn),
            presentations: DataLoader::new(PresentationLoader(content.clone()), tokio::spawn),
            reaction_groups: DataLoader::new(
                ReactionGroupsLoader {
                    store: content.clone(),
                    viewer: viewer_id,
                },
                tokio::spawn,
            ),
            unread_counts: DataLoader::new(
                UnreadCountLoader {
                    store: content.clone(),
                    viewer: viewer_id,
                },
                tokio::spawn,
            ),
            subscriptions: DataLoader::new(
                SubscriptionLoader {
                    store: content.clone(),
                    viewer: viewer_id,
                },
                tokio::spawn,
            ),
            users: DataLoader::new(UserLoader(services.accounts.clone()), tokio::spawn),
            groups: DataLoader::new(GroupLoader(services.groups.clone()), tokio::spawn),
            memberships: DataLoader::new(MembershipLoader(services.groups.clone()), tokio::spawn),
            log_entries: DataLoader::new(LogEntryLoader(services.groups.clone()), tokio::spawn),
            viewer_memberships: DataLoader::new(
                ViewerMembershipLoader {
                    store: services.groups.clone(),
                    viewer: viewer_id,
                },
                tokio::spawn,
            ),
            member_counts: DataLoader::new(
                MemberCountLoader(services.groups.clone()),
                tokio::spawn,
            ),
        }
    }
}

/// Turns a loader's shared error back into a GraphQL error.
pub(crate) fn load_err(err: LoadError) -> async_graphql::Error {
    let err =
        Arc::try_unwrap(err).unwrap_or_else(|shared| DomainError::Internal(shared.to_string()));
    crate::error::gql(err)
}
