//! Rows to domain types. A stored value the domain does not know is a corrupt row: internal.

use convene_domain::ids::{GroupId, LogEntryId, MembershipId, SessionId, UserId};
use convene_domain::values::{Email, Handle};
use convene_domain::{
    DomainError, Group, JoinPolicy, Membership, MembershipState, ModerationAction,
    ModerationLogEntry, Role, Session, User, Visibility,
};

use crate::entity::{group, membership, moderation_log, session, user};

fn corrupt(what: &str, value: &str) -> DomainError {
    DomainError::Internal(format!("stored {what} {value:?} is not valid"))
}

macro_rules! parse_enum {
    ($ty:ty, $value:expr) => {
        <$ty>::from_str_opt(&$value).ok_or_else(|| corrupt(stringify!($ty), &$value))
    };
}

pub(crate) fn user(row: user::Model) -> Result<User, DomainError> {
    Ok(User {
        id: UserId::from_uuid(row.id),
        handle: Handle::parse(&row.handle).map_err(|_| corrupt("handle", &row.handle))?,
        email: Email::parse(&row.email).map_err(|_| corrupt("email", &row.email))?,
        display_name: row.display_name,
        bio: row.bio,
        organization: row.organization,
        is_admin: row.is_admin,
        created_at: row.created_at,
    })
}

pub(crate) fn session(row: session::Model) -> Session {
    Session {
        id: SessionId::from_uuid(row.id),
        user_id: UserId::from_uuid(row.user_id),
        created_at: row.created_at,
        last_seen_at: row.last_seen_at,
        expires_at: row.expires_at,
        user_agent: row.user_agent,
    }
}

pub(crate) fn group(row: group::Model) -> Result<Group, DomainError> {
    Ok(Group {
        id: GroupId::from_uuid(row.id),
        visibility: parse_enum!(Visibility, row.visibility)?,
        join_policy: parse_enum!(JoinPolicy, row.join_policy)?,
        slug: row.slug,
        name: row.name,
        description: row.description,
        created_at: row.created_at,
    })
}

pub(crate) fn group_row(group: &Group) -> group::Model {
    group::Model {
        id: group.id.as_uuid(),
        slug: group.slug.clone(),
        name: group.name.clone(),
        description: group.description.clone(),
        visibility: group.visibility.as_str().to_owned(),
        join_policy: group.join_policy.as_str().to_owned(),
        created_at: group.created_at,
    }
}

pub(crate) fn membership(row: membership::Model) -> Result<Membership, DomainError> {
    Ok(Membership {
        id: MembershipId::from_uuid(row.id),
        group_id: GroupId::from_uuid(row.group_id),
        user_id: UserId::from_uuid(row.user_id),
        role: parse_enum!(Role, row.role)?,
        state: parse_enum!(MembershipState, row.state)?,
        application: row.application,
        created_at: row.created_at,
        decided_at: row.decided_at,
        decided_by: row.decided_by.map(UserId::from_uuid),
        banned_until: row.banned_until,
    })
}

pub(crate) fn membership_row(m: &Membership) -> membership::Model {
    membership::Model {
        id: m.id.as_uuid(),
        group_id: m.group_id.as_uuid(),
        user_id: m.user_id.as_uuid(),
        role: m.role.as_str().to_owned(),
        state: m.state.as_str().to_owned(),
        application: m.application.clone(),
        created_at: m.created_at,
        decided_at: m.decided_at,
        decided_by: m.decided_by.map(|id| id.as_uuid()),
        banned_until: m.banned_until,
    }
}

pub(crate) fn log_entry(row: moderation_log::Model) -> Result<ModerationLogEntry, DomainError> {
    Ok(ModerationLogEntry {
        id: LogEntryId::from_uuid(row.id),
        group_id: GroupId::from_uuid(row.group_id),
        actor_id: UserId::from_uuid(row.actor_id),
        action: parse_enum!(ModerationAction, row.action)?,
        target_user_id: row.target_user_id.map(UserId::from_uuid),
        reason: row.reason,
        created_at: row.created_at,
    })
}

pub(crate) fn log_row(entry: &ModerationLogEntry) -> moderation_log::Model {
    moderation_log::Model {
        id: entry.id.as_uuid(),
        group_id: entry.group_id.as_uuid(),
        actor_id: entry.actor_id.as_uuid(),
        action: entry.action.as_str().to_owned(),
        target_user_id: entry.target_user_id.map(|id| id.as_uuid()),
        reason: entry.reason.clone(),
        created_at: entry.created_at,
    }
}

/// Converts every row, failing on the first corrupt one.
pub(crate) fn all<R, T>(
    rows: Vec<R>,
    convert: impl FnMut(R) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    rows.into_iter().map(convert).collect()
}
