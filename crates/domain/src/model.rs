//! Entities as plain data. Persistence maps them to rows, GraphQL to objects.

use chrono::{DateTime, Utc};

use crate::ids::{
    GroupId, LogEntryId, MembershipId, PostId, PresentationId, RevisionId, SessionId, ThreadId,
    UserId,
};
use crate::values::{Email, Handle};

macro_rules! str_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The stored and wire form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            pub fn from_str_opt(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

str_enum! {
    /// Who may see a group and its content.
    Visibility { Public => "PUBLIC", Private => "PRIVATE", Secret => "SECRET" }
}

str_enum! {
    /// How a user becomes a member.
    JoinPolicy { Open => "OPEN", Request => "REQUEST", Invite => "INVITE" }
}

str_enum! {
    /// A member's role; the order is rank (an owner outranks a moderator).
    Role { Owner => "OWNER", Moderator => "MODERATOR", Member => "MEMBER" }
}

impl Role {
    /// Higher is more powerful.
    pub const fn rank(self) -> u8 {
        match self {
            Role::Owner => 3,
            Role::Moderator => 2,
            Role::Member => 1,
        }
    }

    pub const fn moderates(self) -> bool {
        matches!(self, Role::Owner | Role::Moderator)
    }
}

str_enum! {
    MembershipState { Active => "ACTIVE", Pending => "PENDING", Invited => "INVITED", Banned => "BANNED" }
}

str_enum! {
    /// What a moderator did; each action writes one log entry.
    ModerationAction {
        MemberApproved => "MEMBER_APPROVED",
        MemberRejected => "MEMBER_REJECTED",
        MemberInvited => "MEMBER_INVITED",
        MemberRemoved => "MEMBER_REMOVED",
        MemberBanned => "MEMBER_BANNED",
        MemberUnbanned => "MEMBER_UNBANNED",
        RoleChanged => "ROLE_CHANGED",
        ThreadPinned => "THREAD_PINNED",
        ThreadUnpinned => "THREAD_UNPINNED",
        ThreadLocked => "THREAD_LOCKED",
        ThreadUnlocked => "THREAD_UNLOCKED",
        PostDeleted => "POST_DELETED",
        RevisionRedacted => "REVISION_REDACTED",
        PresentationDeleted => "PRESENTATION_DELETED",
        ReportResolved => "REPORT_RESOLVED",
        GroupUpdated => "GROUP_UPDATED",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub handle: Handle,
    pub email: Email,
    pub display_name: String,
    pub bio: Option<String>,
    pub organization: Option<String>,
    /// Site admins moderate every group.
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
}

/// A signed-in device. The token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    pub join_policy: JoinPolicy,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub id: MembershipId,
    pub group_id: GroupId,
    pub user_id: UserId,
    pub role: Role,
    pub state: MembershipState,
    pub application: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<UserId>,
    pub banned_until: Option<DateTime<Utc>>,
}

impl Membership {
    pub fn is_active(&self) -> bool {
        self.state == MembershipState::Active
    }

    /// A ban in force at `now` (a ban whose `banned_until` has passed no longer counts).
    pub fn is_banned_at(&self, now: DateTime<Utc>) -> bool {
        self.state == MembershipState::Banned && self.banned_until.is_none_or(|until| until > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationLogEntry {
    pub id: LogEntryId,
    pub group_id: GroupId,
    pub actor_id: UserId,
    pub action: ModerationAction,
    pub target_user_id: Option<UserId>,
    pub target_thread_id: Option<ThreadId>,
    pub target_post_id: Option<PostId>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Who is acting: the signed-in user, with what the policy needs to know about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub is_admin: bool,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Self {
        Self {
            user_id: user.id,
            is_admin: user.is_admin,
        }
    }
}

str_enum! {
    /// A reaction a member can add to a post, once per kind.
    ReactionContent {
        ThumbsUp => "THUMBS_UP",
        Heart => "HEART",
        Celebrate => "CELEBRATE",
        Insightful => "INSIGHTFUL",
        Question => "QUESTION",
    }
}

str_enum! {
    /// How closely a user follows a thread.
    SubscriptionLevel { Watching => "WATCHING", Tracking => "TRACKING", Muted => "MUTED" }
}

/// A discussion in a group: a title and its posts, the opening post first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: ThreadId,
    pub group_id: GroupId,
    pub author_id: UserId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    /// Posts minus the opening one.
    pub reply_count: u64,
    pub is_pinned: bool,
    pub is_locked: bool,
    pub answer_id: Option<PostId>,
}

/// A post in a thread. A deleted post keeps its place but has no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: PostId,
    pub thread_id: ThreadId,
    pub group_id: GroupId,
    pub author_id: UserId,
    /// Markdown; `None` once deleted.
    pub body: Option<String>,
    /// Sanitized HTML rendered from `body` when it was written; `None` once deleted.
    pub body_html: Option<String>,
    pub reply_to: Option<PostId>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Who wrote the current body: the author, or the moderator who last edited it.
    pub edited_by: UserId,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Post {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// An earlier version of a post's body, kept when the post is edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostRevision {
    pub id: RevisionId,
    pub post_id: PostId,
    pub group_id: GroupId,
    /// Empty once redacted.
    pub body: String,
    /// Who wrote this version.
    pub editor_id: UserId,
    /// When this version was written.
    pub created_at: DateTime<Utc>,
    pub redacted_at: Option<DateTime<Utc>>,
}

/// How many users reacted to a post with one kind of reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReactionGroup {
    pub content: ReactionContent,
    pub count: u64,
    pub viewer_has_reacted: bool,
}

/// A file kept in storage: the key is generated, never taken from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub key: String,
    /// The client's file name, for display and for `Content-Disposition` only.
    pub filename: String,
    /// Decided from the bytes, from an allow-list.
    pub content_type: String,
    pub byte_size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Slides, a paper or a recording shared after a webinar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    pub id: PresentationId,
    pub group_id: GroupId,
    pub thread_id: Option<ThreadId>,
    pub uploader_id: UserId,
    pub title: String,
    pub description: String,
    pub speakers: Vec<String>,
    pub event_date: Option<DateTime<Utc>>,
    pub recording_url: Option<String>,
    pub file: Option<StoredFile>,
    pub created_at: DateTime<Utc>,
}
