use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::policy::{self, Standing};
use convene_domain::{DomainError, Group};
use futures_util::FutureExt;

use convene_domain::{ThreadKey, ThreadOrder};

use super::enums::{GqlJoinPolicy, GqlThreadOrder, GqlVisibility, MemberRole};
use super::{LogEntryObject, MembershipObject, PresentationObject, ThreadObject, standing};
use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::loaders::load_err;

/// A thematic group of practitioners, such as Counter-Trafficking.
pub(crate) struct GroupObject(pub Group);

const MEMBERS_ONLY: &str = "only members of this group may read this";
const MODERATORS_ONLY: &str = "only moderators of this group may read this";

#[Object(name = "Group")]
impl GroupObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn description(&self) -> &str {
        &self.0.description
    }

    async fn visibility(&self) -> GqlVisibility {
        self.0.visibility.into()
    }

    async fn join_policy(&self) -> GqlJoinPolicy {
        self.0.join_policy.into()
    }

    /// Active members.
    async fn member_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        let count = ctx
            .loaders()?
            .member_counts
            .load_one(self.0.id)
            .await
            .map_err(load_err)?
            .unwrap_or(0);
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The viewer's own membership (any state), if they have one.
    async fn viewer_membership(&self, ctx: &Context<'_>) -> GqlResult<Option<MembershipObject>> {
        let membership = super::viewer_membership(ctx, self.0.id).await?;
        Ok(membership.map(MembershipObject))
    }

    /// Whether `joinGroup` would succeed now.
    async fn viewer_can_join(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(policy::can_join(standing(ctx, self.0.id).await?, &self.0))
    }

    async fn viewer_can_post(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(policy::can_post(standing(ctx, self.0.id).await?))
    }

    async fn viewer_can_moderate(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(policy::can_moderate(standing(ctx, self.0.id).await?))
    }

    /// Active members, oldest first; for those who may read the group.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        role: Option<MemberRole>,
    ) -> GqlResult<Option<Conn<MembershipObject>>> {
        require(
            policy::can_read_group(self.standing(ctx).await?, self.0.visibility),
            MEMBERS_ONLY,
        )?;
        let request = PageArgs::new(first, after, last, before).request()?;
        let store = ctx.services()?.groups.clone();
        let (group, role) = (self.0.id, role.map(Into::into));
        let page = store.members(group, role, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_members(group, role).await }.boxed()
        });
        Ok(Some(connection(
            page,
            total,
            |m| m.id.as_uuid(),
            MembershipObject,
        )))
    }

    /// Requests waiting for a decision, oldest first; for moderators.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn pending_memberships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Option<Conn<MembershipObject>>> {
        let standing = self.standing(ctx).await?;
        require(
            policy::can_read_group(standing, self.0.visibility),
            MEMBERS_ONLY,
        )?;
        require(policy::can_moderate(standing), MODERATORS_ONLY)?;
        let request = PageArgs::new(first, after, last, before).request()?;
        let store = ctx.services()?.groups.clone();
        let group = self.0.id;
        let page = store.pending(group, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_pending(group).await }.boxed()
        });
        Ok(Some(connection(
            page,
            total,
            |m| m.id.as_uuid(),
            MembershipObject,
        )))
    }

    /// Threads, pinned first, then by `order` (default: most recent activity first).
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn threads(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(default_with = "GqlThreadOrder::LastActivity")] order: GqlThreadOrder,
    ) -> GqlResult<Option<Conn<ThreadObject, ThreadKey>>> {
        self.require_read(ctx).await?;
        let request = PageArgs::new(first, after, last, before).request_keyed::<ThreadKey>()?;
        let order: ThreadOrder = order.into();
        let store = ctx.services()?.content.clone();
        let group = self.0.id;
        let page = store.group_threads(group, order, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_group_threads(group).await }.boxed()
        });
        Ok(Some(connection(
            page,
            total,
            |t| ThreadKey::of(t, order),
            ThreadObject,
        )))
    }

    /// Presentations shared in the group, oldest first.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn presentations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Option<Conn<PresentationObject>>> {
        self.require_read(ctx).await?;
        super::presentations(
            ctx,
            self.0.id,
            None,
            PageArgs::new(first, after, last, before),
        )
        .await
        .map(Some)
    }

    /// Every moderator action, oldest first; for those who may read the group.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn moderation_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Option<Conn<LogEntryObject>>> {
        require(
            policy::can_read_group(self.standing(ctx).await?, self.0.visibility),
            MEMBERS_ONLY,
        )?;
        let request = PageArgs::new(first, after, last, before).request()?;
        let store = ctx.services()?.groups.clone();
        let group = self.0.id;
        let page = store.log(group, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_log(group).await }.boxed()
        });
        Ok(Some(connection(
            page,
            total,
            |e| e.id.as_uuid(),
            LogEntryObject,
        )))
    }
}

impl GroupObject {
    async fn require_read(&self, ctx: &Context<'_>) -> GqlResult<()> {
        require(
            policy::can_read_group(self.standing(ctx).await?, self.0.visibility),
            MEMBERS_ONLY,
        )
    }

    async fn standing(&self, ctx: &Context<'_>) -> GqlResult<Standing> {
        standing(ctx, self.0.id).await
    }
}

/// A members- or moderators-only field is null with `FORBIDDEN` for everyone else.
fn require(allowed: bool, message: &'static str) -> GqlResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(gql(DomainError::Forbidden(message)))
    }
}
