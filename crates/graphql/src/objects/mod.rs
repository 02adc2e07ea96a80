//! GraphQL objects. Each wraps a domain type; none is an ORM row.

mod enums;
mod group;
mod log;
mod membership;
mod node;
mod post;
mod presentation;
mod session;
mod thread;
mod user;

use async_graphql::Context;
use chrono::Utc;
use convene_domain::ids::{GroupId, PostId, ThreadId, UserId};
use convene_domain::policy::{self, Standing};
use convene_domain::{DomainError, Group, Membership, Post, Thread, User};
use futures_util::FutureExt;

pub(crate) use enums::{
    GqlJoinPolicy, GqlReactionContent, GqlSubscriptionLevel, GqlVisibility, GroupMembershipFilter,
    MemberRole,
};
pub(crate) use group::GroupObject;
pub(crate) use log::LogEntryObject;
pub(crate) use membership::MembershipObject;
pub(crate) use node::{Node, resolve_node};
pub(crate) use post::{PostObject, RevisionObject};
pub(crate) use presentation::PresentationObject;
pub(crate) use session::SessionObject;
pub(crate) use thread::ThreadObject;
pub(crate) use user::UserObject;

use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::loaders::load_err;

/// The viewer's standing in a group, through the batched group loader.
pub(crate) async fn standing(ctx: &Context<'_>, group: GroupId) -> GqlResult<Standing> {
    let viewer = ctx.viewer()?;
    let membership = viewer_membership(ctx, group).await?;
    Ok(Standing::of(
        viewer.actor(),
        membership.as_ref(),
        Utc::now(),
    ))
}

pub(crate) async fn load_user(ctx: &Context<'_>, id: UserId) -> GqlResult<Option<User>> {
    ctx.loaders()?.users.load_one(id).await.map_err(load_err)
}

/// A user every reference must resolve to (foreign keys guarantee it).
pub(crate) async fn require_user(ctx: &Context<'_>, id: UserId) -> GqlResult<UserObject> {
    load_user(ctx, id).await?.map(UserObject).ok_or_else(|| {
        gql(DomainError::Internal(format!(
            "user {id} is referenced but missing"
        )))
    })
}

pub(crate) async fn load_group(ctx: &Context<'_>, id: GroupId) -> GqlResult<Option<Group>> {
    let found = ctx.loaders()?.groups.load_one(id).await.map_err(load_err)?;
    Ok(found.map(|(group, _)| group))
}

/// The viewer's own membership of a group (any state), read with the group.
pub(crate) async fn viewer_membership(
    ctx: &Context<'_>,
    group: GroupId,
) -> GqlResult<Option<Membership>> {
    if ctx.viewer()?.user.is_none() {
        return Ok(None);
    }
    let found = ctx
        .loaders()?
        .groups
        .load_one(group)
        .await
        .map_err(load_err)?;
    Ok(found.and_then(|(_, membership)| membership))
}

/// A group every reference must resolve to (foreign keys guarantee it).
pub(crate) async fn require_group(ctx: &Context<'_>, id: GroupId) -> GqlResult<GroupObject> {
    load_group(ctx, id).await?.map(GroupObject).ok_or_else(|| {
        gql(DomainError::Internal(format!(
            "group {id} is referenced but missing"
        )))
    })
}

pub(crate) async fn load_thread(ctx: &Context<'_>, id: ThreadId) -> GqlResult<Option<Thread>> {
    ctx.loaders()?.threads.load_one(id).await.map_err(load_err)
}

pub(crate) async fn load_post(ctx: &Context<'_>, id: PostId) -> GqlResult<Option<Post>> {
    ctx.loaders()?.posts.load_one(id).await.map_err(load_err)
}

/// The group and the viewer's standing in it.
pub(crate) async fn group_standing(ctx: &Context<'_>, id: GroupId) -> GqlResult<(Group, Standing)> {
    let group = load_group(ctx, id).await?.ok_or_else(|| {
        gql(DomainError::Internal(format!(
            "group {id} is referenced but missing"
        )))
    })?;
    let standing = standing(ctx, id).await?;
    Ok((group, standing))
}

/// Whether the viewer may read the content of the group.
pub(crate) async fn can_read(ctx: &Context<'_>, id: GroupId) -> GqlResult<bool> {
    let (group, standing) = group_standing(ctx, id).await?;
    Ok(policy::can_read_group(standing, group.visibility))
}

/// A group's (or one of its threads') presentations, oldest first.
pub(crate) async fn presentations(
    ctx: &Context<'_>,
    group: GroupId,
    thread: Option<ThreadId>,
    args: PageArgs,
) -> GqlResult<Conn<PresentationObject>> {
    let request = args.request()?;
    let store = ctx.services()?.content.clone();
    let page = store.presentations(group, thread, &request).await.gql()?;
    let total = TotalCount::new(move || {
        let store = store.clone();
        async move { store.count_presentations(group, thread).await }.boxed()
    });
    Ok(connection(
        page,
        total,
        |p| p.id.as_uuid(),
        PresentationObject,
    ))
}
