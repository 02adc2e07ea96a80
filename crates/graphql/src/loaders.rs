//! Per-request DataLoaders: every object that refers to another (a membership's user, a
//! group's member count…) is fetched in one batched query per kind, never one per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use convene_domain::ids::{GroupId, LogEntryId, MembershipId, UserId};
use convene_domain::ports::{AccountStore, GroupStore};
use convene_domain::{DomainError, Group, Membership, ModerationLogEntry, User};

use crate::Services;
use crate::context::Viewer;

type LoadError = Arc<DomainError>;

pub(crate) struct UserLoader(Arc<dyn AccountStore>);

impl Loader<UserId> for UserLoader {
    type Value = User;
    type Error = LoadError;

    async fn load(&self, keys: &[UserId]) -> Result<HashMap<UserId, User>, LoadError> {
        let users = self.0.users_by_ids(keys).await?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

pub(crate) struct GroupLoader(Arc<dyn GroupStore>);

impl Loader<GroupId> for GroupLoader {
    type Value = Group;
    type Error = LoadError;

    async fn load(&self, keys: &[GroupId]) -> Result<HashMap<GroupId, Group>, LoadError> {
        let groups = self.0.groups_by_ids(keys).await?;
        Ok(groups.into_iter().map(|g| (g.id, g)).collect())
    }
}

pub(crate) struct MembershipLoader(Arc<dyn GroupStore>);

impl Loader<MembershipId> for MembershipLoader {
    type Value = Membership;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[MembershipId],
    ) -> Result<HashMap<MembershipId, Membership>, LoadError> {
        let memberships = self.0.memberships_by_ids(keys).await?;
        Ok(memberships.into_iter().map(|m| (m.id, m)).collect())
    }
}

pub(crate) struct LogEntryLoader(Arc<dyn GroupStore>);

impl Loader<LogEntryId> for LogEntryLoader {
    type Value = ModerationLogEntry;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[LogEntryId],
    ) -> Result<HashMap<LogEntryId, ModerationLogEntry>, LoadError> {
        let entries = self.0.log_entries_by_ids(keys).await?;
        Ok(entries.into_iter().map(|e| (e.id, e)).collect())
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
}

impl Loaders {
    pub(crate) fn new(services: &Services, viewer: &Viewer) -> Self {
        Self {
            users: DataLoader::new(UserLoader(services.accounts.clone()), tokio::spawn),
            groups: DataLoader::new(GroupLoader(services.groups.clone()), tokio::spawn),
            memberships: DataLoader::new(MembershipLoader(services.groups.clone()), tokio::spawn),
            log_entries: DataLoader::new(LogEntryLoader(services.groups.clone()), tokio::spawn),
            viewer_memberships: DataLoader::new(
                ViewerMembershipLoader {
                    store: services.groups.clone(),
                    viewer: viewer.user.as_ref().map(|u| u.id),
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
