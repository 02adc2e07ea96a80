//! The ports: what the domain needs from storage and from the password hasher. The
//! persistence crate implements the stores; the server crate wires them in.
//!
//! Error contract shared by every method: storage failures are `DomainError::Internal`; the
//! other variants are returned only where a method's documentation says so.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::content::{NewPresentation, ThreadFlag};
use crate::error::DomainResult;
use crate::events::Event;
use crate::ids::{
    GroupId, LogEntryId, MembershipId, PostId, PresentationId, RevisionId, SessionId, ThreadId,
    UserId,
};
use crate::membership::{Command, GroupChanges, Outcome};
use crate::model::{
    Actor, Group, Membership, ModerationLogEntry, Post, PostRevision, Presentation,
    ReactionContent, ReactionGroup, Role, Session, StoredFile, SubscriptionLevel, Thread, User,
};
use crate::page::{Page, PageRequest, ThreadKey, ThreadOrder};
use crate::values::{Password, PostBody, Reason, ThreadTitle};

/// Where committed events go: the live-subscription hub of this process.
///
/// Stores call it only after the event's transaction has committed, in commit order. Across
/// processes (PostgreSQL), every process's sink hears every event exactly once.
pub trait EventSink: Send + Sync {
    /// Hands over one committed event. MUST NOT block: it runs on the commit path.
    fn publish(&self, event: Event);

    /// Events may have been missed (the bus's connection dropped and came back): every
    /// subscription must re-check its access and catch up from the database.
    fn resync(&self);
}

/// A retry token from a create mutation, scoped to whoever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// Who the key belongs to: keys of different viewers never meet.
    pub scope: String,
    pub key: String,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Stores a new user with their password hash. With `idempotency`, records the key in the
    /// same transaction. MUST return `Conflict` when the handle or the email (ignoring case) is
    /// taken, and write nothing then.
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        idempotency: Option<&IdempotencyKey>,
    ) -> DomainResult<()>;

    /// The user a create mutation's key already produced, if the key is known and younger than
    /// `since`.
    async fn user_for_key(
        &self,
        key: &IdempotencyKey,
        since: DateTime<Utc>,
    ) -> DomainResult<Option<UserId>>;

    /// The user whose handle or (normalized) email is `login`, with their password hash.
    async fn credentials(&self, login: &str) -> DomainResult<Option<(User, String)>>;

    /// The user's password hash.
    async fn password_hash(&self, user: UserId) -> DomainResult<Option<String>>;

    /// Users by ID, in no particular order; unknown IDs are skipped.
    async fn users_by_ids(&self, ids: &[UserId]) -> DomainResult<Vec<User>>;

    async fn user_by_handle(&self, handle: &str) -> DomainResult<Option<User>>;

    /// Makes the user a site admin (or not). MUST return `NotFound` for an unknown handle.
    async fn set_admin(&self, handle: &str, is_admin: bool) -> DomainResult<User>;

    /// Stores a session under the SHA-256 of its token.
    async fn create_session(&self, session: &Session, token_hash: &[u8; 32]) -> DomainResult<()>;

    /// The unexpired session with this token hash, and its user.
    async fn session_by_token_hash(
        &self,
        token_hash: &[u8; 32],
        now: DateTime<Utc>,
    ) -> DomainResult<Option<(Session, User)>>;

    /// Records activity on a session.
    async fn touch_session(&self, id: SessionId, now: DateTime<Utc>) -> DomainResult<()>;

    /// Ends one of the user's sessions. MUST return `NotFound` when the user has no such session.
    async fn delete_session(&self, user: UserId, id: SessionId) -> DomainResult<()>;

    /// Replaces the password hash and ends every other session of the user, atomically.
    async fn change_password(
        &self,
        user: UserId,
        password_hash: &str,
        keep: SessionId,
    ) -> DomainResult<()>;

    /// The user's unexpired sessions, oldest first.
    async fn sessions(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> DomainResult<Page<Session>>;

    async fn count_sessions(&self, user: UserId, now: DateTime<Utc>) -> DomainResult<u64>;

    /// One of the user's unexpired sessions.
    async fn session_of(
        &self,
        user: UserId,
        id: SessionId,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<Session>>;
}

/// Which groups a listing shows.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Case-insensitive substring of slug, name or description.
    pub query: Option<String>,
    /// Only groups where the viewer is an active member.
    pub mine: bool,
}

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Stores a new group and its owner's membership together. MUST return `Conflict` when the
    /// slug is taken, and write nothing then.
    async fn create_group(&self, group: &Group, owner: &Membership) -> DomainResult<()>;

    /// Applies `membership::update_group` to the stored group in one transaction with its
    /// log entry. MUST return `NotFound` for an unknown group.
    async fn update_group(
        &self,
        actor: Actor,
        group: GroupId,
        changes: GroupChanges,
        now: DateTime<Utc>,
    ) -> DomainResult<Group>;

    /// Loads the command's context, applies `membership::decide` and writes its effects and
    /// log entry, all in one transaction serialized with the group's other membership changes.
    /// MUST return `NotFound` for an unknown group or membership, and the decision's error
    /// otherwise, writing nothing.
    async fn execute(
        &self,
        actor: Actor,
        command: Command,
        now: DateTime<Utc>,
    ) -> DomainResult<Outcome>;

    async fn groups_by_ids(&self, ids: &[GroupId]) -> DomainResult<Vec<Group>>;

    /// Like [`GroupStore::groups_by_ids`], each group with `viewer`'s membership of it (in any
    /// state), read together.
    async fn groups_with_memberships(
        &self,
        ids: &[GroupId],
        viewer: Option<UserId>,
    ) -> DomainResult<Vec<(Group, Option<Membership>)>>;

    async fn group_by_slug(&self, slug: &str) -> DomainResult<Option<Group>>;

    /// Groups the viewer can see (SECRET ones only where they are active or invited, all of
    /// them for a site admin), oldest first.
    async fn groups(
        &self,
        viewer: Option<Actor>,
        filter: &GroupFilter,
        page: &PageRequest,
    ) -> DomainResult<Page<Group>>;

    async fn count_groups(&self, viewer: Option<Actor>, filter: &GroupFilter) -> DomainResult<u64>;

    async fn memberships_by_ids(&self, ids: &[MembershipId]) -> DomainResult<Vec<Membership>>;

    /// One user's memberships (any state) in the given groups.
    async fn memberships_of(
        &self,
        user: UserId,
        groups: &[GroupId],
    ) -> DomainResult<Vec<Membership>>;

    /// Active members per group; groups without members are absent.
    async fn member_counts(&self, groups: &[GroupId]) -> DomainResult<Vec<(GroupId, u64)>>;

    /// Active memberships of the group, optionally of one role, oldest first.
    async fn members(
        &self,
        group: GroupId,
        role: Option<Role>,
        page: &PageRequest,
    ) -> DomainResult<Page<Membership>>;

    async fn count_members(&self, group: GroupId, role: Option<Role>) -> DomainResult<u64>;

    /// Requests waiting for a moderator, oldest first.
    async fn pending(&self, group: GroupId, page: &PageRequest) -> DomainResult<Page<Membership>>;

    async fn count_pending(&self, group: GroupId) -> DomainResult<u64>;

    /// The moderation log, oldest first.
    async fn log(
        &self,
        group: GroupId,
        page: &PageRequest,
    ) -> DomainResult<Page<ModerationLogEntry>>;

    async fn count_log(&self, group: GroupId) -> DomainResult<u64>;

    async fn log_entries_by_ids(&self, ids: &[LogEntryId])
    -> DomainResult<Vec<ModerationLogEntry>>;

    /// `user`'s active memberships in groups whose member list `viewer` may read, oldest first.
    async fn user_groups(
        &self,
        user: UserId,
        viewer: Option<Actor>,
        page: &PageRequest,
    ) -> DomainResult<Page<Membership>>;

    async fn count_user_groups(&self, user: UserId, viewer: Option<Actor>) -> DomainResult<u64>;
}

/// Password hashing, kept off the async workers.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> DomainResult<String>;

    /// Whether `password` matches `hash`. With no hash (an unknown user) it still spends the
    /// same work, so that the answer's timing does not tell whether the user exists.
    async fn verify(&self, password: &str, hash: Option<&str>) -> DomainResult<bool>;
}

/// Where shared files live (local disk or object storage).
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Stores `file` under a freshly generated key, reading it in chunks (never whole in
    /// memory) while computing its SHA-256 and size. The content type is decided from the
    /// bytes against the allow-list (PDF, PPTX, ODP, DOCX, MP4, WebM, PNG, JPEG), never from
    /// `filename`. MUST return `Invalid` for an empty file or a type outside the allow-list,
    /// and then leave nothing stored.
    async fn put(&self, filename: &str, file: std::fs::File) -> DomainResult<StoredFile>;

    /// Removes a stored file; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> DomainResult<()>;
}

/// Threads, posts, reactions, read marks and presentations.
///
/// Every write loads the group, the actor's membership and the targeted objects inside its
/// transaction, asks the `content` rules, and writes what they return with any log entry, so
/// nothing is half-written. Writes MUST return `NotFound` for an unknown object or one in a
/// group the actor may not read, and the rule's error otherwise.
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// With `idempotency`, a key already used within the last 24 hours returns the thread it
    /// created, writing nothing; `NotFound` if the actor may no longer read its group.
    async fn start_thread(
        &self,
        actor: Actor,
        group: GroupId,
        title: ThreadTitle,
        body: PostBody,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<(Thread, Post)>;

    /// Appends a reply; its ID orders after every earlier post of the thread. With
    /// `idempotency`, as `start_thread`.
    async fn reply(
        &self,
        actor: Actor,
        thread: ThreadId,
        body: PostBody,
        reply_to: Option<PostId>,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<Post>;

    async fn edit_post(
        &self,
        actor: Actor,
        post: PostId,
        body: PostBody,
        now: DateTime<Utc>,
    ) -> DomainResult<Post>;

    /// Deletes the post's body and its revisions; the post keeps its place.
    async fn delete_post(
        &self,
        actor: Actor,
        post: PostId,
        reason: Option<Reason>,
        now: DateTime<Utc>,
    ) -> DomainResult<Post>;

    async fn redact_revision(
        &self,
        actor: Actor,
        revision: RevisionId,
        reason: Option<Reason>,
        now: DateTime<Utc>,
    ) -> DomainResult<PostRevision>;

    async fn flag_thread(
        &self,
        actor: Actor,
        thread: ThreadId,
        flag: ThreadFlag,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread>;

    /// Marks a post as its thread's answer.
    async fn mark_answer(
        &self,
        actor: Actor,
        post: PostId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread>;

    async fn unmark_answer(
        &self,
        actor: Actor,
        thread: ThreadId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread>;

    /// Adds (or removes) the actor's reaction; adding twice or removing what is not there
    /// changes nothing.
    async fn react(
        &self,
        actor: Actor,
        post: PostId,
        content: ReactionContent,
        add: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<Post>;

    /// Records that the actor has read `thread` up to `post`. MUST return `Invalid` when the
    /// post is not one of the thread's.
    async fn mark_read(
        &self,
        actor: Actor,
        thread: ThreadId,
        post: PostId,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread>;

    async fn set_subscription(
        &self,
        actor: Actor,
        thread: ThreadId,
        level: SubscriptionLevel,
        now: DateTime<Utc>,
    ) -> DomainResult<Thread>;

    /// Checks that the actor may share in the group (and thread) before a file is stored.
    async fn check_share(
        &self,
        actor: Actor,
        group: GroupId,
        thread: Option<ThreadId>,
        new: &NewPresentation,
        has_file: bool,
        now: DateTime<Utc>,
    ) -> DomainResult<()>;

    /// The presentation an idempotency key already created since `since`. MUST return
    /// `NotFound` when the actor may no longer read its group.
    async fn presentation_for_key(
        &self,
        actor: Actor,
        key: &IdempotencyKey,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> DomainResult<Option<Presentation>>;

    /// Stores a presentation (its file already in the file store), re-checking permission.
    /// With `idempotency`, a key used within the last 24 hours (also by a request still in
    /// flight) returns the presentation it created, writing nothing (`NotFound` if the actor
    /// may no longer read its group): the caller then removes the file it stored.
    #[allow(clippy::too_many_arguments)]
    async fn share_presentation(
        &self,
        actor: Actor,
        group: GroupId,
        thread: Option<ThreadId>,
        new: NewPresentation,
        file: Option<StoredFile>,
        idempotency: Option<&IdempotencyKey>,
        now: DateTime<Utc>,
    ) -> DomainResult<Presentation>;

    /// Deletes the presentation; returns it so that its file can be removed.
    async fn delete_presentation(
        &self,
        actor: Actor,
        presentation: PresentationId,
        now: DateTime<Utc>,
    ) -> DomainResult<Presentation>;

    async fn threads_by_ids(&self, ids: &[ThreadId]) -> DomainResult<Vec<Thread>>;

    async fn posts_by_ids(&self, ids: &[PostId]) -> DomainResult<Vec<Post>>;

    async fn revisions_by_ids(&self, ids: &[RevisionId]) -> DomainResult<Vec<PostRevision>>;

    async fn presentations_by_ids(&self, ids: &[PresentationId])
    -> DomainResult<Vec<Presentation>>;

    async fn group_threads(
        &self,
        group: GroupId,
        order: ThreadOrder,
        page: &PageRequest<ThreadKey>,
    ) -> DomainResult<Page<Thread>>;

    async fn count_group_threads(&self, group: GroupId) -> DomainResult<u64>;

    /// A thread's posts, oldest first.
    async fn thread_posts(&self, thread: ThreadId, page: &PageRequest) -> DomainResult<Page<Post>>;

    /// Like [`ContentStore::thread_posts`], each post with its author, read together.
    async fn thread_posts_with_authors(
        &self,
        thread: ThreadId,
        page: &PageRequest,
    ) -> DomainResult<Page<(Post, User)>>;

    /// A post's earlier versions, oldest first.
    async fn revisions(&self, post: PostId, page: &PageRequest)
    -> DomainResult<Page<PostRevision>>;

    async fn count_revisions(&self, post: PostId) -> DomainResult<u64>;

    /// Reaction counts per post, and whether `viewer` reacted.
    async fn reaction_groups(
        &self,
        posts: &[PostId],
        viewer: Option<UserId>,
    ) -> DomainResult<Vec<(PostId, Vec<ReactionGroup>)>>;

    /// Posts after the user's read mark, per thread (all posts when never marked).
    async fn unread_counts(
        &self,
        user: UserId,
        threads: &[ThreadId],
    ) -> DomainResult<Vec<(ThreadId, u64)>>;

    async fn subscriptions(
        &self,
        user: UserId,
        threads: &[ThreadId],
    ) -> DomainResult<Vec<(ThreadId, SubscriptionLevel)>>;

    /// A group's presentations, or a thread's when `thread` is given, oldest first.
    async fn presentations(
        &self,
        group: GroupId,
        thread: Option<ThreadId>,
        page: &PageRequest,
    ) -> DomainResult<Page<Presentation>>;

    async fn count_presentations(
        &self,
        group: GroupId,
        thread: Option<ThreadId>,
    ) -> DomainResult<u64>;
}
