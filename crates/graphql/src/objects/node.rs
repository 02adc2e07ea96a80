use async_graphql::{Context, ID, Interface};
use chrono::Utc;
use convene_domain::policy::{self, Standing};
use convene_domain::{DomainError, GlobalId};

use super::{
    GroupObject, LogEntryObject, MembershipObject, PostObject, PresentationObject, RevisionObject,
    SessionObject, ThreadObject, UserObject, can_read, standing,
};
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
    Thread(ThreadObject),
    Post(PostObject),
    PostRevision(RevisionObject),
    Presentation(PresentationObject),
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
            readable(ctx, entry.group_id).await?;
            Ok(Node::ModerationLogEntry(LogEntryObject(entry)))
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
        GlobalId::Thread(id) => {
            let thread = super::load_thread(ctx, id).await?.ok_or_else(not_found)?;
            readable(ctx, thread.group_id).await?;
            Ok(Node::Thread(ThreadObject(thread)))
        }
        GlobalId::Post(id) => {
            let post = super::load_post(ctx, id).await?.ok_or_else(not_found)?;
            readable(ctx, post.group_id).await?;
            Ok(Node::Post(PostObject(post)))
        }
        GlobalId::Revision(id) => {
            let revision = loaders
                .revisions
                .load_one(id)
                .await
                .map_err(load_err)?
                .ok_or_else(not_found)?;
            readable(ctx, revision.group_id).await?;
            Ok(Node::PostRevision(RevisionObject(revision)))
        }
        GlobalId::Presentation(id) => {
            let presentation = loaders
                .presentations
                .load_one(id)
                .await
                .map_err(load_err)?
                .ok_or_else(not_found)?;
            readable(ctx, presentation.group_id).await?;
            Ok(Node::Presentation(PresentationObject(presentation)))
        }
        GlobalId::Report(_) | GlobalId::Notification(_) => Err(not_found()),
    }
}

/// Content of a group the viewer may not read answers like content that does not exist.
async fn readable(ctx: &Context<'_>, group: convene_domain::ids::GroupId) -> GqlResult<()> {
    if can_read(ctx, group).await? {
        Ok(())
    } else {
        Err(not_found())
    }
}
