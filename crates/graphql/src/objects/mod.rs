//! GraphQL objects. Each wraps a domain type; none is an ORM row.

mod enums;
mod group;
mod log;
mod membership;
mod node;
mod session;
mod user;

use async_graphql::Context;
use chrono::Utc;
use convene_domain::ids::{GroupId, UserId};
use convene_domain::policy::Standing;
use convene_domain::{DomainError, Group, User};

pub(crate) use enums::{GqlJoinPolicy, GqlVisibility, GroupMembershipFilter, MemberRole};
pub(crate) use group::GroupObject;
pub(crate) use log::LogEntryObject;
pub(crate) use membership::MembershipObject;
pub(crate) use node::{Node, resolve_node};
pub(crate) use session::SessionObject;
pub(crate) use user::UserObject;

use crate::context::Ctx;
use crate::error::{GqlResult, gql};
use crate::loaders::load_err;

/// The viewer's standing in a group, through the batched membership loader.
pub(crate) async fn standing(ctx: &Context<'_>, group: GroupId) -> GqlResult<Standing> {
    let viewer = ctx.viewer()?;
    let membership = match viewer.user {
        Some(_) => ctx
            .loaders()?
            .viewer_memberships
            .load_one(group)
            .await
            .map_err(load_err)?,
        None => None,
    };
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
    ctx.loaders()?.groups.load_one(id).await.map_err(load_err)
}
