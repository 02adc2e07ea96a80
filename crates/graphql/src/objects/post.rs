use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use convene_domain::policy::{self, Standing};
use convene_domain::{Post, PostRevision};
use futures_util::FutureExt;

use super::enums::GqlReactionContent;
use super::{ThreadObject, UserObject, group_standing, load_post};
use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::loaders::load_err;

/// A post in a thread. A deleted post keeps its place with an empty body.
pub(crate) struct PostObject(pub Post);

/// How many users reacted with one kind of reaction.
#[derive(SimpleObject)]
#[graphql(name = "ReactionGroup")]
pub(crate) struct ReactionGroupObject {
    content: GqlReactionContent,
    count: i64,
    viewer_has_reacted: bool,
}

impl PostObject {
    async fn standing(&self, ctx: &Context<'_>) -> GqlResult<Standing> {
        Ok(group_standing(ctx, self.0.group_id).await?.1)
    }

    /// The author, still allowed to write, or a moderator.
    async fn author_or_moderator(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        if self.0.is_deleted() {
            return Ok(false);
        }
        let standing = self.standing(ctx).await?;
        Ok(policy::is_author_or_moderator(
            ctx.viewer()?.actor(),
            standing,
            self.0.author_id,
        ))
    }
}

#[Object(name = "Post")]
impl PostObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn thread(&self, ctx: &Context<'_>) -> GqlResult<ThreadObject> {
        super::load_thread(ctx, self.0.thread_id)
            .await?
            .map(ThreadObject)
            .ok_or_else(|| {
                gql(convene_domain::DomainError::Internal(
                    "post without its thread".into(),
                ))
            })
    }

    async fn author(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.author_id).await
    }

    /// Markdown; empty once deleted.
    async fn body(&self) -> &str {
        self.0.body.as_deref().unwrap_or_default()
    }

    /// The body rendered to sanitized HTML; empty once deleted.
    async fn body_html(&self) -> &str {
        self.0.body_html.as_deref().unwrap_or_default()
    }

    /// The post this one answers.
    async fn reply_to(&self, ctx: &Context<'_>) -> GqlResult<Option<PostObject>> {
        match self.0.reply_to {
            Some(id) => Ok(load_post(ctx, id).await?.map(PostObject)),
            None => Ok(None),
        }
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.0.edited_at
    }

    async fn is_deleted(&self) -> bool {
        self.0.is_deleted()
    }

    async fn is_answer(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let thread = super::load_thread(ctx, self.0.thread_id).await?;
        Ok(thread.is_some_and(|t| t.answer_id == Some(self.0.id)))
    }

    /// Earlier versions of the body, oldest first.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Conn<RevisionObject>> {
        let request = PageArgs::new(first, after, last, before).request()?;
        let store = ctx.services()?.content.clone();
        let post = self.0.id;
        let page = store.revisions(post, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_revisions(post).await }.boxed()
        });
        Ok(connection(page, total, |r| r.id.as_uuid(), RevisionObject))
    }

    /// One entry per kind of reaction, in a fixed order.
    async fn reaction_groups(&self, ctx: &Context<'_>) -> GqlResult<Vec<ReactionGroupObject>> {
        let groups = ctx
            .loaders()?
            .reaction_groups
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or_default();
        Ok(groups
            .into_iter()
            .map(|g| ReactionGroupObject {
                content: g.content.into(),
                count: i64::try_from(g.count).unwrap_or(i64::MAX),
                viewer_has_reacted: g.viewer_has_reacted,
            })
            .collect())
    }

    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        self.author_or_moderator(ctx).await
    }

    async fn viewer_can_delete(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        self.author_or_moderator(ctx).await
    }

    async fn viewer_can_react(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(!self.0.is_deleted() && policy::can_post(self.standing(ctx).await?))
    }

    async fn viewer_can_mark_answer(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        if self.0.is_deleted() {
            return Ok(false);
        }
        let standing = self.standing(ctx).await?;
        let thread = super::load_thread(ctx, self.0.thread_id).await?;
        let viewer = ctx.viewer()?.actor();
        Ok(thread.is_some_and(|t| policy::is_author_or_moderator(viewer, standing, t.author_id)))
    }
}

/// An earlier version of a post's body.
pub(crate) struct RevisionObject(pub PostRevision);

#[Object(name = "PostRevision")]
impl RevisionObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Empty once redacted.
    async fn body(&self) -> &str {
        &self.0.body
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Who wrote this version.
    async fn editor(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.editor_id).await
    }

    async fn is_redacted(&self) -> bool {
        self.0.redacted_at.is_some()
    }
}
