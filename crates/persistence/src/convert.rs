//! Rows to domain types. A stored value the domain does not know is a corrupt row: internal.

use chrono::{DateTime, Utc};
use convene_domain::ids::{
    GroupId, LogEntryId, MembershipId, PostId, PresentationId, RevisionId, SessionId, ThreadId,
    UserId,
};
use convene_domain::values::{Email, Handle};
use convene_domain::{
    DomainError, Group, JoinPolicy, Membership, MembershipState, ModerationAction,
    ModerationLogEntry, Post, PostRevision, Presentation, Role, Session, StoredFile, Thread, User,
    Visibility,
};

use crate::entity::{
    group, membership, moderation_log, post, post_revision, presentation, session, thread, user,
};

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
        target_thread_id: row.target_thread_id.map(ThreadId::from_uuid),
        target_post_id: row.target_post_id.map(PostId::from_uuid),
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
        target_thread_id: entry.target_thread_id.map(|id| id.as_uuid()),
        target_post_id: entry.target_post_id.map(|id| id.as_uuid()),
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

/// Microseconds since the epoch, the stored form of times that lists are ordered by.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(micros: i64) -> Result<DateTime<Utc>, DomainError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("timestamp", &micros.to_string()))
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn thread(row: thread::Model) -> Result<Thread, DomainError> {
    Ok(Thread {
        id: ThreadId::from_uuid(row.id),
        group_id: GroupId::from_uuid(row.group_id),
        author_id: UserId::from_uuid(row.author_id),
        title: row.title,
        created_at: row.created_at,
        last_activity_at: from_micros(row.last_activity_us)?,
        reply_count: count(row.reply_count),
        is_pinned: row.is_pinned,
        is_locked: row.is_locked,
        answer_id: row.answer_id.map(PostId::from_uuid),
    })
}

pub(crate) fn thread_row(t: &Thread) -> thread::Model {
    thread::Model {
        id: t.id.as_uuid(),
        group_id: t.group_id.as_uuid(),
        author_id: t.author_id.as_uuid(),
        title: t.title.clone(),
        created_at: t.created_at,
        last_activity_us: micros(t.last_activity_at),
        reply_count: i64::try_from(t.reply_count).unwrap_or(i64::MAX),
        is_pinned: t.is_pinned,
        is_locked: t.is_locked,
        answer_id: t.answer_id.map(|id| id.as_uuid()),
    }
}

pub(crate) fn post(row: post::Model) -> Post {
    Post {
        id: PostId::from_uuid(row.id),
        thread_id: ThreadId::from_uuid(row.thread_id),
        group_id: GroupId::from_uuid(row.group_id),
        author_id: UserId::from_uuid(row.author_id),
        body: row.body,
        body_html: row.body_html,
        reply_to: row.reply_to.map(PostId::from_uuid),
        created_at: row.created_at,
        edited_at: row.edited_at,
        edited_by: UserId::from_uuid(row.edited_by),
        deleted_at: row.deleted_at,
    }
}

pub(crate) fn post_row(p: &Post) -> post::Model {
    post::Model {
        id: p.id.as_uuid(),
        thread_id: p.thread_id.as_uuid(),
        group_id: p.group_id.as_uuid(),
        author_id: p.author_id.as_uuid(),
        body: p.body.clone(),
        body_html: p.body_html.clone(),
        reply_to: p.reply_to.map(|id| id.as_uuid()),
        created_at: p.created_at,
        edited_at: p.edited_at,
        edited_by: p.edited_by.as_uuid(),
        deleted_at: p.deleted_at,
    }
}

pub(crate) fn revision(row: post_revision::Model) -> PostRevision {
    PostRevision {
        id: RevisionId::from_uuid(row.id),
        post_id: PostId::from_uuid(row.post_id),
        group_id: GroupId::from_uuid(row.group_id),
        body: row.body,
        editor_id: UserId::from_uuid(row.editor_id),
        created_at: row.created_at,
        redacted_at: row.redacted_at,
    }
}

pub(crate) fn revision_row(r: &PostRevision) -> post_revision::Model {
    post_revision::Model {
        id: r.id.as_uuid(),
        post_id: r.post_id.as_uuid(),
        group_id: r.group_id.as_uuid(),
        body: r.body.clone(),
        editor_id: r.editor_id.as_uuid(),
        created_at: r.created_at,
        redacted_at: r.redacted_at,
    }
}

pub(crate) fn presentation(row: presentation::Model) -> Result<Presentation, DomainError> {
    let speakers: Vec<String> =
        serde_json::from_str(&row.speakers).map_err(|_| corrupt("speakers", &row.speakers))?;
    let file = match (
        row.file_key,
        row.file_name,
        row.content_type,
        row.byte_size,
        row.sha256,
    ) {
        (Some(key), Some(filename), Some(content_type), Some(size), Some(sha256)) => {
            Some(StoredFile {
                key,
                filename,
                content_type,
                byte_size: count(size),
                sha256,
            })
        }
        _ => None,
    };
    Ok(Presentation {
        id: PresentationId::from_uuid(row.id),
        group_id: GroupId::from_uuid(row.group_id),
        thread_id: row.thread_id.map(ThreadId::from_uuid),
        uploader_id: UserId::from_uuid(row.uploader_id),
        title: row.title,
        description: row.description,
        speakers,
        event_date: row.event_date,
        recording_url: row.recording_url,
        file,
        created_at: row.created_at,
    })
}

pub(crate) fn presentation_row(p: &Presentation) -> Result<presentation::Model, DomainError> {
    let file = p.file.as_ref();
    Ok(presentation::Model {
        id: p.id.as_uuid(),
        group_id: p.group_id.as_uuid(),
        thread_id: p.thread_id.map(|id| id.as_uuid()),
        uploader_id: p.uploader_id.as_uuid(),
        title: p.title.clone(),
        description: p.description.clone(),
        speakers: serde_json::to_string(&p.speakers).map_err(DomainError::internal)?,
        event_date: p.event_date,
        recording_url: p.recording_url.clone(),
        file_key: file.map(|f| f.key.clone()),
        file_name: file.map(|f| f.filename.clone()),
        content_type: file.map(|f| f.content_type.clone()),
        byte_size: file.map(|f| i64::try_from(f.byte_size).unwrap_or(i64::MAX)),
        sha256: file.map(|f| f.sha256.clone()),
        created_at: p.created_at,
    })
}
