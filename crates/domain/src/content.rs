//! The rules for threads, posts, revisions, reactions and presentations: who may do what,
//! and what each action writes. Stores load the state inside their transaction, call these
//! functions, and write what they return.

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult};
use crate::ids::{LogEntryId, PostId, PresentationId, RevisionId, ThreadId};
use crate::model::{
    Actor, Group, ModerationAction, ModerationLogEntry, Post, PostRevision, Presentation,
    StoredFile, Thread,
};
use crate::policy::{self, Standing};
use crate::values::{
    Description, PostBody, PresentationTitle, Reason, RecordingUrl, SpeakerName, ThreadTitle,
};

/// The actor and their standing in the group the content belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub now: DateTime<Utc>,
    pub actor: Actor,
    pub standing: Standing,
    pub group: &'a Group,
}

impl Scope<'_> {
    /// Content of a group the actor may not read does not exist for them.
    pub fn require_read(&self) -> DomainResult<()> {
        if policy::can_read_group(self.standing, self.group.visibility) {
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }

    fn require_post(&self) -> DomainResult<()> {
        self.require_read()?;
        if policy::can_post(self.standing) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "only active members may write in this group",
            ))
        }
    }

    fn moderates(&self) -> bool {
        policy::can_moderate(self.standing)
    }

    fn require_moderator(&self) -> DomainResult<()> {
        self.require_read()?;
        if self.moderates() {
            Ok(())
        } else {
            Err(DomainError::Forbidden("only moderators may do this"))
        }
    }

    /// The author (still allowed to write) or a moderator.
    fn require_author_or_moderator(
        &self,
        author: crate::ids::UserId,
        what: &'static str,
    ) -> DomainResult<()> {
        self.require_read()?;
        if policy::is_author_or_moderator(Some(self.actor), self.standing, author) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(what))
        }
    }

    fn log(
        &self,
        action: ModerationAction,
        target: (Option<crate::ids::UserId>, Option<ThreadId>, Option<PostId>),
        reason: Option<Reason>,
    ) -> ModerationLogEntry {
        ModerationLogEntry {
            id: LogEntryId::generate(),
            group_id: self.group.id,
            actor_id: self.actor.user_id,
            action,
            target_user_id: target.0,
            target_thread_id: target.1,
            target_post_id: target.2,
            reason: reason.map(Reason::into_inner).filter(|r| !r.is_empty()),
            created_at: self.now,
        }
    }
}

/// Whether the viewer may reply to the thread now: active members, and only moderators once
/// it is locked.
pub fn can_reply(
    standing: Standing,
    visibility: crate::model::Visibility,
    thread: &Thread,
) -> bool {
    policy::can_read_group(standing, visibility)
        && policy::can_post(standing)
        && (!thread.is_locked || policy::can_moderate(standing))
}

/// The ID of the next post of a thread: time-ordered, and always after the thread's last post,
/// so that a thread's posts are in commit order even across processes whose clocks differ.
pub fn next_post_id(last: Option<PostId>) -> PostId {
    let fresh = PostId::generate();
    match last {
        Some(last) if fresh <= last => {
            PostId::from_uuid(uuid::Uuid::from_u128(last.as_uuid().as_u128() + 1))
        }
        _ => fresh,
    }
}

fn new_post(
    scope: &Scope<'_>,
    id: PostId,
    thread: ThreadId,
    body: PostBody,
    reply_to: Option<PostId>,
) -> Post {
    let html = crate::markdown::render(body.as_str());
    Post {
        id,
        thread_id: thread,
        group_id: scope.group.id,
        author_id: scope.actor.user_id,
        body: Some(body.into_inner()),
        body_html: Some(html),
        reply_to,
        created_at: scope.now,
        edited_at: None,
        edited_by: scope.actor.user_id,
        deleted_at: None,
    }
}

/// A new thread and its opening post.
pub fn start_thread(
    scope: &Scope<'_>,
    title: ThreadTitle,
    body: PostBody,
) -> DomainResult<(Thread, Post)> {
    scope.require_post()?;
    let thread = Thread {
        id: ThreadId::generate(),
        group_id: scope.group.id,
        author_id: scope.actor.user_id,
        title: title.into_inner(),
        created_at: scope.now,
        last_activity_at: scope.now,
        reply_count: 0,
        is_pinned: false,
        is_locked: false,
        answer_id: None,
    };
    let post = new_post(scope, next_post_id(None), thread.id, body, None);
    Ok((thread, post))
}

/// A reply, and the thread with its counters moved on.
pub fn reply(
    scope: &Scope<'_>,
    thread: &Thread,
    last_post: Option<PostId>,
    body: PostBody,
    reply_to: Option<&Post>,
) -> DomainResult<(Thread, Post)> {
    scope.require_post()?;
    if thread.is_locked && !scope.moderates() {
        return Err(DomainError::Forbidden("the thread is locked"));
    }
    if reply_to.is_some_and(|p| p.thread_id != thread.id) {
        return Err(DomainError::invalid(
            "replyToId",
            "must be a post of the same thread",
        ));
    }
    let post = new_post(
        scope,
        next_post_id(last_post),
        thread.id,
        body,
        reply_to.map(|p| p.id),
    );
    let thread = Thread {
        reply_count: thread.reply_count + 1,
        last_activity_at: scope.now,
        ..thread.clone()
    };
    Ok((thread, post))
}

/// The edited post, and the earlier version kept as a revision.
pub fn edit(scope: &Scope<'_>, post: &Post, body: PostBody) -> DomainResult<(Post, PostRevision)> {
    scope.require_author_or_moderator(
        post.author_id,
        "only the author or a moderator may edit a post",
    )?;
    let Some(previous) = post.body.clone() else {
        return Err(DomainError::Conflict("the post is deleted"));
    };
    let revision = PostRevision {
        id: RevisionId::generate(),
        post_id: post.id,
        group_id: post.group_id,
        body: previous,
        editor_id: post.edited_by,
        created_at: post.edited_at.unwrap_or(post.created_at),
        redacted_at: None,
    };
    let html = crate::markdown::render(body.as_str());
    let edited = Post {
        body: Some(body.into_inner()),
        body_html: Some(html),
        edited_at: Some(scope.now),
        edited_by: scope.actor.user_id,
        ..post.clone()
    };
    Ok((edited, revision))
}

/// The deleted post (its body and its revisions are gone), and a log entry when a moderator
/// deleted someone else's post.
pub fn delete(
    scope: &Scope<'_>,
    post: &Post,
    reason: Option<Reason>,
) -> DomainResult<(Post, Option<ModerationLogEntry>)> {
    scope.require_author_or_moderator(
        post.author_id,
        "only the author or a moderator may delete a post",
    )?;
    if post.is_deleted() {
        return Err(DomainError::Conflict("the post is already deleted"));
    }
    let deleted = Post {
        body: None,
        body_html: None,
        deleted_at: Some(scope.now),
        ..post.clone()
    };
    let log = (post.author_id != scope.actor.user_id).then(|| {
        scope.log(
            ModerationAction::PostDeleted,
            (Some(post.author_id), Some(post.thread_id), Some(post.id)),
            reason,
        )
    });
    Ok((deleted, log))
}

/// The redacted revision and its log entry (moderators: personal data posted by mistake).
pub fn redact(
    scope: &Scope<'_>,
    post: &Post,
    revision: &PostRevision,
    reason: Option<Reason>,
) -> DomainResult<(PostRevision, ModerationLogEntry)> {
    scope.require_moderator()?;
    if revision.redacted_at.is_some() {
        return Err(DomainError::Conflict("the revision is already redacted"));
    }
    let redacted = PostRevision {
        body: String::new(),
        redacted_at: Some(scope.now),
        ..revision.clone()
    };
    let log = scope.log(
        ModerationAction::RevisionRedacted,
        (
            Some(revision.editor_id),
            Some(post.thread_id),
            Some(post.id),
        ),
        reason,
    );
    Ok((redacted, log))
}

/// What a moderator changes about a whole thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadFlag {
    Pin,
    Unpin,
    Lock,
    Unlock,
}

/// The thread with the flag set, and a log entry when it changed.
pub fn flag(
    scope: &Scope<'_>,
    thread: &Thread,
    flag: ThreadFlag,
) -> DomainResult<(Thread, Option<ModerationLogEntry>)> {
    scope.require_moderator()?;
    let (updated, action) = match flag {
        ThreadFlag::Pin => (
            Thread {
                is_pinned: true,
                ..thread.clone()
            },
            ModerationAction::ThreadPinned,
        ),
        ThreadFlag::Unpin => (
            Thread {
                is_pinned: false,
                ..thread.clone()
            },
            ModerationAction::ThreadUnpinned,
        ),
        ThreadFlag::Lock => (
            Thread {
                is_locked: true,
                ..thread.clone()
            },
            ModerationAction::ThreadLocked,
        ),
        ThreadFlag::Unlock => (
            Thread {
                is_locked: false,
                ..thread.clone()
            },
            ModerationAction::ThreadUnlocked,
        ),
    };
    let log = (updated != *thread).then(|| {
        scope.log(
            action,
            (Some(thread.author_id), Some(thread.id), None),
            None,
        )
    });
    Ok((updated, log))
}

/// Marks `post` (or, with `None`, no post) as the thread's answer: the thread's author or a
/// moderator.
pub fn mark_answer(
    scope: &Scope<'_>,
    thread: &Thread,
    post: Option<&Post>,
) -> DomainResult<Thread> {
    scope.require_author_or_moderator(
        thread.author_id,
        "only the thread's author or a moderator may choose its answer",
    )?;
    if let Some(post) = post {
        if post.thread_id != thread.id {
            return Err(DomainError::invalid(
                "postId",
                "must be a post of the thread",
            ));
        }
        if post.is_deleted() {
            return Err(DomainError::Conflict("a deleted post cannot be the answer"));
        }
    }
    Ok(Thread {
        answer_id: post.map(|p| p.id),
        ..thread.clone()
    })
}

/// Reactions, read marks and subscriptions need the right to write (reactions) or to read.
pub fn check_react(scope: &Scope<'_>, post: &Post) -> DomainResult<()> {
    scope.require_post()?;
    if post.is_deleted() {
        return Err(DomainError::Conflict("the post is deleted"));
    }
    Ok(())
}

/// Validated input for sharing a presentation.
#[derive(Debug, Clone)]
pub struct NewPresentation {
    pub title: PresentationTitle,
    pub description: Description,
    pub speakers: Vec<SpeakerName>,
    pub event_date: Option<DateTime<Utc>>,
    pub recording_url: Option<RecordingUrl>,
}

/// At most this many speakers per presentation.
pub const MAX_SPEAKERS: usize = 50;

/// Checks that the actor may share in the group (and thread), before any file is stored.
pub fn check_share(
    scope: &Scope<'_>,
    thread: Option<&Thread>,
    new: &NewPresentation,
    has_file: bool,
) -> DomainResult<()> {
    scope.require_post()?;
    if thread.is_some_and(|t| t.group_id != scope.group.id) {
        return Err(DomainError::invalid(
            "threadId",
            "must be a thread of the group",
        ));
    }
    if new.speakers.len() > MAX_SPEAKERS {
        return Err(DomainError::invalid("speakers", "at most 50 speakers"));
    }
    if !has_file && new.recording_url.is_none() {
        return Err(DomainError::invalid(
            "file",
            "share a file, a recording link, or both",
        ));
    }
    Ok(())
}

pub fn share(
    scope: &Scope<'_>,
    thread: Option<&Thread>,
    new: NewPresentation,
    file: Option<StoredFile>,
) -> DomainResult<Presentation> {
    check_share(scope, thread, &new, file.is_some())?;
    Ok(Presentation {
        id: PresentationId::generate(),
        group_id: scope.group.id,
        thread_id: thread.map(|t| t.id),
        uploader_id: scope.actor.user_id,
        title: new.title.into_inner(),
        description: new.description.into_inner(),
        speakers: new
            .speakers
            .into_iter()
            .map(SpeakerName::into_inner)
            .collect(),
        event_date: new.event_date,
        recording_url: new.recording_url.map(RecordingUrl::into_inner),
        file,
        created_at: scope.now,
    })
}

/// The uploader or a moderator deletes; a moderator deleting someone else's is logged.
pub fn delete_presentation(
    scope: &Scope<'_>,
    presentation: &Presentation,
) -> DomainResult<Option<ModerationLogEntry>> {
    scope.require_author_or_moderator(
        presentation.uploader_id,
        "only the uploader or a moderator may delete a presentation",
    )?;
    Ok((presentation.uploader_id != scope.actor.user_id).then(|| {
        scope.log(
            ModerationAction::PresentationDeleted,
            (Some(presentation.uploader_id), presentation.thread_id, None),
            None,
        )
    }))
}

#[cfg(test)]
mod tests;
