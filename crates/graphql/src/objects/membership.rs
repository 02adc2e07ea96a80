use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::policy;
use convene_domain::{DomainError, Membership};

use super::enums::{GqlMembershipState, MemberRole};
use super::{GroupObject, UserObject, standing};
use crate::context::Ctx;
use crate::error::{GqlResult, gql};

/// A user's relation to a group: an active member, a request, an invitation or a ban.
pub(crate) struct MembershipObject(pub Membership);

#[Object(name = "Membership")]
impl MembershipObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn group(&self, ctx: &Context<'_>) -> GqlResult<GroupObject> {
        super::load_group(ctx, self.0.group_id)
            .await?
            .map(GroupObject)
            .ok_or_else(|| gql(DomainError::Internal("membership without its group".into())))
    }

    async fn user(&self, ctx: &Context<'_>) -> GqlResult<UserObject> {
        super::require_user(ctx, self.0.user_id).await
    }

    async fn role(&self) -> MemberRole {
        self.0.role.into()
    }

    async fn state(&self) -> GqlMembershipState {
        self.0.state.into()
    }

    /// What the applicant wrote; only for the applicant and the group's moderators.
    async fn application(&self, ctx: &Context<'_>) -> GqlResult<Option<&str>> {
        let own = ctx
            .viewer()?
            .user
            .as_ref()
            .is_some_and(|u| u.id == self.0.user_id);
        if own || policy::can_moderate(standing(ctx, self.0.group_id).await?) {
            Ok(self.0.application.as_deref())
        } else {
            Ok(None)
        }
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// The moderator who approved, invited or banned.
    async fn decided_by(&self, ctx: &Context<'_>) -> GqlResult<Option<UserObject>> {
        match self.0.decided_by {
            Some(id) => Ok(super::load_user(ctx, id).await?.map(UserObject)),
            None => Ok(None),
        }
    }

    /// When a ban ends; null for a permanent ban and for other states.
    async fn banned_until(&self) -> Option<DateTime<Utc>> {
        self.0.banned_until
    }
}
