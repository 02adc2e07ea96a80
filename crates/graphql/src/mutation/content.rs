use async_graphql::connection::{Edge, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object, Upload};
use chrono::{DateTime, Duration, Utc};
use convene_domain::content::{NewPresentation, ThreadFlag};
use convene_domain::ids::{GroupId, PostId, ThreadId};
use convene_domain::ports::IdempotencyKey;
use convene_domain::values::{
    Description, PostBody, PresentationTitle, Reason, RecordingUrl, SpeakerName, ThreadTitle,
};
use convene_domain::{Actor, DomainError, Presentation};

use super::{parse, parse_id, parse_opt, payload};
use crate::connection::Cursor;
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::objects::{
    GqlReactionContent, GqlSubscriptionLevel, PostObject, PresentationObject, RevisionObject,
    ThreadObject,
};

#[derive(Default)]
pub(crate) struct ContentMutations;

const MAX_IDEMPOTENCY_KEY: usize = 200;

#[derive(InputObject)]
pub(crate) struct StartThreadInput {
    group_id: ID,
    title: String,
    /// The opening post, in markdown.
    body: String,
    idempotency_key: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct PostReplyInput {
    thread_id: ID,
    body: String,
    /// A post of the same thread that this reply answers.
    reply_to_id: Option<ID>,
    idempotency_key: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct EditPostInput {
    post_id: ID,
    body: String,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct DeletePostInput {
    post_id: ID,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct RedactRevisionInput {
    revision_id: ID,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

/// Declares one input type per thread-flag mutation (the convention is one `XInput` per
/// mutation `x`), all carrying the thread.
macro_rules! flag_inputs {
    ($($name:ident),*) => {
        $(
            #[derive(InputObject)]
            pub(crate) struct $name {
                thread_id: ID,
                client_mutation_id: Option<String>,
            }

            impl From<$name> for FlagInput {
                fn from(input: $name) -> Self {
                    FlagInput { thread_id: input.thread_id, client_mutation_id: input.client_mutation_id }
                }
            }
        )*
    };
}

flag_inputs!(
    PinThreadInput,
    UnpinThreadInput,
    LockThreadInput,
    UnlockThreadInput
);

pub(crate) struct FlagInput {
    thread_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct MarkAnswerInput {
    post_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct UnmarkAnswerInput {
    thread_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct AddReactionInput {
    /// The post reacted to.
    subject_id: ID,
    content: GqlReactionContent,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct RemoveReactionInput {
    /// The post reacted to.
    subject_id: ID,
    content: GqlReactionContent,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct MarkThreadReadInput {
    thread_id: ID,
    /// The last post read.
    post_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct SetThreadSubscriptionInput {
    thread_id: ID,
    level: GqlSubscriptionLevel,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct SharePresentationInput {
    group_id: ID,
    thread_id: Option<ID>,
    title: String,
    description: Option<String>,
    #[graphql(default)]
    speakers: Vec<String>,
    event_date: Option<DateTime<Utc>>,
    /// An http or https link to the recording.
    recording_url: Option<String>,
    /// The slides or recording (PDF, PPTX, ODP, DOCX, MP4, WebM, PNG or JPEG).
    file: Option<Upload>,
    idempotency_key: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct DeletePresentationInput {
    presentation_id: ID,
    client_mutation_id: Option<String>,
}

payload!(StartThreadPayload {
    thread: ThreadObject,
    post: PostObject
});
payload!(PostReplyPayload { post: PostObject, edge: Edge<Cursor, PostObject, EmptyFields> });
payload!(EditPostPayload { post: PostObject });
payload!(DeletePostPayload { post: PostObject });
payload!(RedactRevisionPayload {
    revision: RevisionObject
});
payload!(PinThreadPayload {
    thread: ThreadObject
});
payload!(UnpinThreadPayload {
    thread: ThreadObject
});
payload!(LockThreadPayload {
    thread: ThreadObject
});
payload!(UnlockThreadPayload {
    thread: ThreadObject
});
payload!(MarkAnswerPayload {
    thread: ThreadObject
});
payload!(UnmarkAnswerPayload {
    thread: ThreadObject
});
payload!(AddReactionPayload { post: PostObject });
payload!(RemoveReactionPayload { post: PostObject });
payload!(MarkThreadReadPayload {
    thread: ThreadObject
});
payload!(SetThreadSubscriptionPayload {
    thread: ThreadObject
});
payload!(SharePresentationPayload {
    presentation: PresentationObject
});
payload!(DeletePresentationPayload { deleted_id: ID });

fn actor(ctx: &Context<'_>) -> GqlResult<Actor> {
    ctx.require_user().map(|(user, _)| Actor::from(user))
}

/// The viewer's idempotency key for one kind of creation: keys of different viewers or
/// mutations never meet.
fn idempotency(
    actor: Actor,
    mutation: &str,
    key: Option<String>,
) -> GqlResult<Option<IdempotencyKey>> {
    match key {
        Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY => Err(gql(
            DomainError::invalid("idempotencyKey", "must be 1 to 200 bytes"),
        )),
        Some(key) => Ok(Some(IdempotencyKey {
            scope: format!("{mutation}:{}", actor.user_id),
            key,
        })),
        None => Ok(None),
    }
}

fn reason(raw: Option<&str>) -> GqlResult<Option<Reason>> {
    parse_opt(raw, Reason::parse)
}

/// Sets a thread flag; returns the echoed `clientMutationId` and the thread.
async fn flag(
    ctx: &Context<'_>,
    input: FlagInput,
    flag: ThreadFlag,
) -> GqlResult<(Option<String>, ThreadObject)> {
    let actor = actor(ctx)?;
    let thread = ctx
        .services()?
        .content
        .flag_thread(actor, parse_id(&input.thread_id)?, flag, Utc::now())
        .await
        .gql()?;
    Ok((input.client_mutation_id, ThreadObject(thread)))
}

/// Adds or removes the viewer's reaction; returns the post.
async fn react(
    ctx: &Context<'_>,
    subject: &ID,
    content: GqlReactionContent,
    add: bool,
) -> GqlResult<PostObject> {
    let actor = actor(ctx)?;
    let post = ctx
        .services()?
        .content
        .react(actor, parse_id(subject)?, content.into(), add, Utc::now())
        .await
        .gql()?;
    Ok(PostObject(post))
}

#[Object]
impl ContentMutations {
    /// Starts a thread with its opening post.
    async fn start_thread(
        &self,
        ctx: &Context<'_>,
        input: StartThreadInput,
    ) -> GqlResult<StartThreadPayload> {
        let actor = actor(ctx)?;
        let group: GroupId = parse_id(&input.group_id)?;
        let title = parse(&input.title, ThreadTitle::parse)?;
        let body = parse(&input.body, PostBody::parse)?;
        let key = idempotency(actor, "startThread", input.idempotency_key)?;
        ctx.services()?.rate_limits.post(actor.user_id).gql()?;
        let (thread, post) = ctx
            .services()?
            .content
            .start_thread(actor, group, title, body, key.as_ref(), Utc::now())
            .await
            .gql()?;
        Ok(StartThreadPayload {
            client_mutation_id: input.client_mutation_id,
            thread: ThreadObject(thread),
            post: PostObject(post),
        })
    }

    /// Replies to a thread. The edge's cursor is the one `Thread.posts` gives this post.
    async fn post_reply(
        &self,
        ctx: &Context<'_>,
        input: PostReplyInput,
    ) -> GqlResult<PostReplyPayload> {
        let actor = actor(ctx)?;
        let thread: ThreadId = parse_id(&input.thread_id)?;
        let body = parse(&input.body, PostBody::parse)?;
        let reply_to: Option<PostId> = input.reply_to_id.as_ref().map(parse_id).transpose()?;
        let key = idempotency(actor, "postReply", input.idempotency_key)?;
        ctx.services()?.rate_limits.post(actor.user_id).gql()?;
        let post = ctx
            .services()?
            .content
            .reply(actor, thread, body, reply_to, key.as_ref(), Utc::now())
            .await
            .gql()?;
        Ok(PostReplyPayload {
            client_mutation_id: input.client_mutation_id,
            edge: Edge::new(Cursor(post.id.as_uuid()), PostObject(post.clone())),
            post: PostObject(post),
        })
    }

    /// Replaces a post's body, keeping the earlier version (the author or a moderator).
    async fn edit_post(
        &self,
        ctx: &Context<'_>,
        input: EditPostInput,
    ) -> GqlResult<EditPostPayload> {
        let actor = actor(ctx)?;
        let post: PostId = parse_id(&input.post_id)?;
        let body = parse(&input.body, PostBody::parse)?;
        let post = ctx
            .services()?
            .content
            .edit_post(actor, post, body, Utc::now())
            .await
            .gql()?;
        Ok(EditPostPayload {
            client_mutation_id: input.client_mutation_id,
            post: PostObject(post),
        })
    }

    /// Deletes a post's body and earlier versions; the post keeps its place in the thread.
    async fn delete_post(
        &self,
        ctx: &Context<'_>,
        input: DeletePostInput,
    ) -> GqlResult<DeletePostPayload> {
        let actor = actor(ctx)?;
        let post: PostId = parse_id(&input.post_id)?;
        let reason = reason(input.reason.as_deref())?;
        let post = ctx
            .services()?
            .content
            .delete_post(actor, post, reason, Utc::now())
            .await
            .gql()?;
        Ok(DeletePostPayload {
            client_mutation_id: input.client_mutation_id,
            post: PostObject(post),
        })
    }

    /// Blanks an earlier version of a post, for personal data posted by mistake (moderators).
    async fn redact_revision(
        &self,
        ctx: &Context<'_>,
        input: RedactRevisionInput,
    ) -> GqlResult<RedactRevisionPayload> {
        let actor = actor(ctx)?;
        let revision = parse_id(&input.revision_id)?;
        let reason = reason(input.reason.as_deref())?;
        let revision = ctx
            .services()?
            .content
            .redact_revision(actor, revision, reason, Utc::now())
            .await
            .gql()?;
        Ok(RedactRevisionPayload {
            client_mutation_id: input.client_mutation_id,
            revision: RevisionObject(revision),
        })
    }

    async fn pin_thread(
        &self,
        ctx: &Context<'_>,
        input: PinThreadInput,
    ) -> GqlResult<PinThreadPayload> {
        let (client_mutation_id, thread) = flag(ctx, input.into(), ThreadFlag::Pin).await?;
        Ok(PinThreadPayload {
            client_mutation_id,
            thread,
        })
    }

    async fn unpin_thread(
        &self,
        ctx: &Context<'_>,
        input: UnpinThreadInput,
    ) -> GqlResult<UnpinThreadPayload> {
        let (client_mutation_id, thread) = flag(ctx, input.into(), ThreadFlag::Unpin).await?;
        Ok(UnpinThreadPayload {
            client_mutation_id,
            thread,
        })
    }

    /// Locks a thread: only moderators may reply.
    async fn lock_thread(
        &self,
        ctx: &Context<'_>,
        input: LockThreadInput,
    ) -> GqlResult<LockThreadPayload> {
        let (client_mutation_id, thread) = flag(ctx, input.into(), ThreadFlag::Lock).await?;
        Ok(LockThreadPayload {
            client_mutation_id,
            thread,
        })
    }

    async fn unlock_thread(
        &self,
        ctx: &Context<'_>,
        input: UnlockThreadInput,
    ) -> GqlResult<UnlockThreadPayload> {
        let (client_mutation_id, thread) = flag(ctx, input.into(), ThreadFlag::Unlock).await?;
        Ok(UnlockThreadPayload {
            client_mutation_id,
            thread,
        })
    }

    /// Marks a post as its thread's answer (the thread's author or a moderator).
    async fn mark_answer(
        &self,
        ctx: &Context<'_>,
        input: MarkAnswerInput,
    ) -> GqlResult<MarkAnswerPayload> {
        let actor = actor(ctx)?;
        let thread = ctx
            .services()?
            .content
            .mark_answer(actor, parse_id(&input.post_id)?, Utc::now())
            .await
            .gql()?;
        Ok(MarkAnswerPayload {
            client_mutation_id: input.client_mutation_id,
            thread: ThreadObject(thread),
        })
    }

    async fn unmark_answer(
        &self,
        ctx: &Context<'_>,
        input: UnmarkAnswerInput,
    ) -> GqlResult<UnmarkAnswerPayload> {
        let actor = actor(ctx)?;
        let thread = ctx
            .services()?
            .content
            .unmark_answer(actor, parse_id(&input.thread_id)?, Utc::now())
            .await
            .gql()?;
        Ok(UnmarkAnswerPayload {
            client_mutation_id: input.client_mutation_id,
            thread: ThreadObject(thread),
        })
    }

    async fn add_reaction(
        &self,
        ctx: &Context<'_>,
        input: AddReactionInput,
    ) -> GqlResult<AddReactionPayload> {
        Ok(AddReactionPayload {
            post: react(ctx, &input.subject_id, input.content, true).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn remove_reaction(
        &self,
        ctx: &Context<'_>,
        input: RemoveReactionInput,
    ) -> GqlResult<RemoveReactionPayload> {
        Ok(RemoveReactionPayload {
            post: react(ctx, &input.subject_id, input.content, false).await?,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Records how far the viewer has read a thread (`Thread.unreadCount`).
    async fn mark_thread_read(
        &self,
        ctx: &Context<'_>,
        input: MarkThreadReadInput,
    ) -> GqlResult<MarkThreadReadPayload> {
        let actor = actor(ctx)?;
        let thread = ctx
            .services()?
            .content
            .mark_read(
                actor,
                parse_id(&input.thread_id)?,
                parse_id(&input.post_id)?,
                Utc::now(),
            )
            .await
            .gql()?;
        Ok(MarkThreadReadPayload {
            client_mutation_id: input.client_mutation_id,
            thread: ThreadObject(thread),
        })
    }

    async fn set_thread_subscription(
        &self,
        ctx: &Context<'_>,
        input: SetThreadSubscriptionInput,
    ) -> GqlResult<SetThreadSubscriptionPayload> {
        let actor = actor(ctx)?;
        let thread = ctx
            .services()?
            .content
            .set_subscription(
                actor,
                parse_id(&input.thread_id)?,
                input.level.into(),
                Utc::now(),
            )
            .await
            .gql()?;
        Ok(SetThreadSubscriptionPayload {
            client_mutation_id: input.client_mutation_id,
            thread: ThreadObject(thread),
        })
    }

    /// Shares slides or a recording with a group, optionally in one of its threads. Sent as a
    /// GraphQL multipart request when it carries a file.
    async fn share_presentation(
        &self,
        ctx: &Context<'_>,
        input: SharePresentationInput,
    ) -> GqlResult<SharePresentationPayload> {
        let actor = actor(ctx)?;
        let services = ctx.services()?;
        let group: GroupId = parse_id(&input.group_id)?;
        let thread: Option<ThreadId> = input.thread_id.as_ref().map(parse_id).transpose()?;
        let new = NewPresentation {
            title: parse(&input.title, PresentationTitle::parse)?,
            description: parse(
                input.description.as_deref().unwrap_or_default(),
                Description::parse,
            )?,
            speakers: input
                .speakers
                .iter()
                .map(|s| parse(s, SpeakerName::parse))
                .collect::<GqlResult<_>>()?,
            event_date: input.event_date,
            recording_url: parse_opt(input.recording_url.as_deref(), RecordingUrl::parse)?,
        };
        let key = idempotency(actor, "sharePresentation", input.idempotency_key)?;
        let now = Utc::now();
        if let Some(key) = &key {
            if let Some(first) = services
                .content
                .presentation_for_key(actor, key, now - Duration::hours(24), now)
                .await
                .gql()?
            {
                return Ok(SharePresentationPayload {
                    client_mutation_id: input.client_mutation_id,
                    presentation: PresentationObject(first),
                });
            }
        }
        services.rate_limits.post(actor.user_id).gql()?;
        let upload = input.file.as_ref().map(|f| f.value(ctx)).transpose()?;
        services
            .content
            .check_share(actor, group, thread, &new, upload.is_some(), now)
            .await
            .gql()?;
        let file = match upload {
            Some(upload) => Some(
                services
                    .files
                    .put(&upload.filename, upload.content)
                    .await
                    .gql()?,
            ),
            None => None,
        };
        let stored_key = file.as_ref().map(|f| f.key.clone());
        let shared: Result<Presentation, DomainError> = services
            .content
            .share_presentation(actor, group, thread, new, file, key.as_ref(), now)
            .await;
        let unused_file = match &shared {
            // A concurrent retry stored the presentation first: this request's file is unused.
            Ok(presentation) => {
                stored_key.filter(|key| presentation.file.as_ref().map(|f| &f.key) != Some(key))
            }
            Err(_) => stored_key,
        };
        if let Some(key) = unused_file {
            if let Err(cleanup) = services.files.delete(&key).await {
                tracing::error!(error = %cleanup, "removing the file of a presentation that was not stored");
            }
        }
        Ok(SharePresentationPayload {
            client_mutation_id: input.client_mutation_id,
            presentation: PresentationObject(shared.gql()?),
        })
    }

    /// Deletes a presentation and its file (the uploader or a moderator).
    async fn delete_presentation(
        &self,
        ctx: &Context<'_>,
        input: DeletePresentationInput,
    ) -> GqlResult<DeletePresentationPayload> {
        let actor = actor(ctx)?;
        let services = ctx.services()?;
        let deleted = services
            .content
            .delete_presentation(actor, parse_id(&input.presentation_id)?, Utc::now())
            .await
            .gql()?;
        if let Some(file) = &deleted.file {
            if let Err(err) = services.files.delete(&file.key).await {
                tracing::error!(error = %err, "removing a deleted presentation's file");
            }
        }
        Ok(DeletePresentationPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: ID(deleted.id.to_string()),
        })
    }
}
