use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::Thread;
use convene_domain::content;
use convene_domain::policy;
use futures_util::FutureExt;

use super::enums::GqlSubscriptionLevel;
use super::{GroupObject, PostObject, PresentationObject, UserObject, group_standing, load_post};
use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult};
use crate::loaders::load_err;

/// A discussion in a group.
pub(crate) struct ThreadObject(pub Thread);

#[Object(name = "Thread")]
impl ThreadObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn group(&self, ctx: &Context<'_>) -> GqlResult<GroupObject> {
        super::require_group(ctx, self.0.group_id).await
    }

    async fn author(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.author_id).await
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn last_activity_at(&self) -> DateTime<Utc> {
        self.0.last_activity_at
    }

    /// Posts minus the opening one.
    async fn reply_count(&self) -> i64 {
        i64::try_from(self.0.reply_count).unwrap_or(i64::MAX)
    }

    async fn is_pinned(&self) -> bool {
        self.0.is_pinned
    }

    async fn is_locked(&self) -> bool {
        self.0.is_locked
    }

    /// The post marked as the thread's answer.
    async fn answer(&self, ctx: &Context<'_>) -> GqlResult<Option<PostObject>> {
        match self.0.answer_id {
            Some(id) => Ok(load_post(ctx, id).await?.map(PostObject)),
            None => Ok(None),
        }
    }

    /// The thread's posts, oldest first, the opening post first.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Conn<PostObject>> {
        let request = PageArgs::new(first, after, last, before).request()?;
        let content = &ctx.services()?.content;
        let page = if asks(ctx, "author") {
            // The authors come with the page, in the same query.
            let page = content
                .thread_posts_with_authors(self.0.id, &request)
                .await
                .gql()?;
            let authors = page.items.iter().map(|(p, a)| (p.author_id, a.clone()));
            ctx.loaders()?.users.feed_many(authors).await;
            page.map(|(post, _)| post)
        } else {
            content.thread_posts(self.0.id, &request).await.gql()?
        };
        prefetch(ctx, &page.items).await?;
        let total = self.0.reply_count + 1;
        let total = TotalCount::new(move || async move { Ok(total) }.boxed());
        Ok(connection(page, total, |p| p.id.as_uuid(), PostObject))
    }

    /// Presentations shared in this thread, oldest first.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn presentations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Conn<PresentationObject>> {
        super::presentations(
            ctx,
            self.0.group_id,
            Some(self.0.id),
            PageArgs::new(first, after, last, before),
        )
        .await
    }

    /// Posts after the one the viewer marked read (all of them if never marked; 0 when anonymous).
    async fn unread_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        if ctx.viewer()?.user.is_none() {
            return Ok(0);
        }
        let count = ctx
            .loaders()?
            .unread_counts
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or(0);
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }

    async fn viewer_subscription(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<GqlSubscriptionLevel>> {
        if ctx.viewer()?.user.is_none() {
            return Ok(None);
        }
        let level = ctx
            .loaders()?
            .subscriptions
            .load_one(self.0.id)
            .await
            .map_err(load_err)?;
        Ok(level.map(Into::into))
    }

    async fn viewer_can_reply(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let (group, standing) = group_standing(ctx, self.0.group_id).await?;
        Ok(content::can_reply(standing, group.visibility, &self.0))
    }

    async fn viewer_can_moderate(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        let (_, standing) = group_standing(ctx, self.0.group_id).await?;
        Ok(policy::can_moderate(standing))
    }
}

/// Whether the query asks for `field` of the page's posts.
fn asks(ctx: &Context<'_>, field: &str) -> bool {
    let look = ctx.look_ahead();
    look.field("nodes").field(field).exists()
        || look.field("edges").field("node").field(field).exists()
}

/// Loads, in one batch each, what the page's posts refer to and the query asks for (their
/// authors came with the page), so that a page costs the same number of statements whatever
/// its size.
async fn prefetch(ctx: &Context<'_>, posts: &[convene_domain::Post]) -> GqlResult<()> {
    let loaders = ctx.loaders()?;
    if asks(ctx, "reactionGroups") {
        loaders
            .reaction_groups
            .load_many(posts.iter().map(|p| p.id))
            .await
            .map_err(load_err)?;
    }
    if asks(ctx, "replyTo") {
        loaders
            .posts
            .load_many(posts.iter().filter_map(|p| p.reply_to))
            .await
            .map_err(load_err)?;
    }
    Ok(())
}
