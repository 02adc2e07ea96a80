use async_graphql::{Context, ID, Interface};
use chrono::Utc;
use convene_domain::policy::{self, Standing};
use convene_domain::{DomainError, GlobalId};

use super::{GroupObject, LogEntryObject, MembershipObject, SessionObject, UserObject, standing};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::loaders::load_err;

/// Any object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub(crate) enum Node {
    User(UserObject),
    Group(GroupObject),
    Membership(MembershipObject),
    ModerationLogEntry(LogEntryObject),
    Session(SessionObject),
}

fn not_found() -> async_graphql::Error {
    gql(DomainError::NotFound)
}

/// Resolves a global ID to what the viewer may see, or `NOT_FOUND`, identical whether the
/// object does not exist or is hidden from the viewer.
pub(crate) async fn resolve_node(ctx: &Context<'_>, raw: &str) -> GqlResult<Node> {
    let id = GlobalId::parse(raw).map_err(DomainError::from).gql()?;
    let loaders = ctx.loaders()?;
    match id {
        GlobalId::User(id) => {
            let user = super::load_user(ctx, id).await?.ok_or_else(not_found)?;
            Ok(Node::User(UserObject(user)))
        }
        GlobalId::Group(id) => {
            let group = super::load_group(ctx, id).await?.ok_or_else(not_found)?;
            if policy::can_see_group(standing(ctx, id).await?, group.visibility) {
                Ok(Node::Group(GroupObject(group)))
            } else {
                Err(not_found())
            }
        }
        GlobalId::Membership(id) => {
            let membership = loaders
                .memberships
                .load_one(id)
                .await
                .map_err(load_err)?
                .ok_or_else(not_found)?;
            let group = super::load_group(ctx, membership.group_id)
                .await?
                .ok_or_else(not_found)?;
            let standing: Standing = standing(ctx, group.id).await?;
            let actor = ctx.viewer()?.actor();
            if policy::can_see_membership(actor, standing, group.visibility, &membership) {
                Ok(Node::Membership(MembershipObject(membership)))
            } else {
                Err(not_found())
            }
        }
        GlobalId::LogEntry(id) => {
            let entry = loaders
                .log_entries
                .load_one(id)
                .await
                .map_err(load_err)?
                .ok_or_else(not_found)?;
            let group = super::load_group(ctx, entry.group_id)
                .await?
                .ok_or_else(not_found)?;
            if policy::can_read_group(standing(ctx, group.id).await?, group.visibility) {
                Ok(Node::ModerationLogEntry(LogEntryObject(entry)))
            } else {
                Err(not_found())
            }
        }
        GlobalId::Session(id) => {
            let viewer = ctx.viewer()?;
            let user = viewer.user.as_ref().ok_or_else(not_found)?;
            let session = ctx
                .services()?
                .accounts
                .session_of(user.id, id, Utc::now())
                .await
                .gql()?
                .ok_or_else(not_found)?;
            let is_current = viewer.session == Some(id);
            Ok(Node::Session(SessionObject {
                session,
                is_current,
            }))
        }
        GlobalId::Thread(_)
        | GlobalId::Post(_)
        | GlobalId::Revision(_)
        | GlobalId::Presentation(_)
        | GlobalId::Report(_)
        | GlobalId::Notification(_) => Err(not_found()),
    }
}
