use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::ModerationLogEntry;

use super::enums::GqlModerationAction;
use super::{PostObject, ThreadObject, UserObject};
use crate::error::GqlResult;

/// One moderator action, kept after the membership it changed is gone.
pub(crate) struct LogEntryObject(pub ModerationLogEntry);

#[Object(name = "ModerationLogEntry")]
impl LogEntryObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn actor(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.actor_id).await
    }

    async fn action(&self) -> GqlModerationAction {
        self.0.action.into()
    }

    async fn target_user(&self, ctx: &Context<'_>) -> GqlResult<Option<UserObject>> {
        match self.0.target_user_id {
            Some(id) => Ok(super::load_user(ctx, id).await?.map(UserObject)),
            None => Ok(None),
        }
    }

    async fn target_thread(&self, ctx: &Context<'_>) -> GqlResult<Option<ThreadObject>> {
        match self.0.target_thread_id {
            Some(id) => Ok(super::load_thread(ctx, id).await?.map(ThreadObject)),
            None => Ok(None),
        }
    }

    async fn target_post(&self, ctx: &Context<'_>) -> GqlResult<Option<PostObject>> {
        match self.0.target_post_id {
            Some(id) => Ok(super::load_post(ctx, id).await?.map(PostObject)),
            None => Ok(None),
        }
    }

    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
