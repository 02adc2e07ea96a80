use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use convene_domain::ids::{GroupId, MembershipId, UserId};
use convene_domain::membership::{self, Command, GroupChanges, NewGroup, Outcome};
use convene_domain::values::{Application, Description, GroupName, GroupSlug, Reason};
use convene_domain::{Actor, DomainError};

use super::{parse, parse_id, parse_opt, payload};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::objects::{GqlJoinPolicy, GqlVisibility, GroupObject, MemberRole, MembershipObject};

#[derive(Default)]
pub(crate) struct GroupMutations;

#[derive(InputObject)]
pub(crate) struct CreateGroupInput {
    slug: String,
    name: String,
    description: Option<String>,
    visibility: GqlVisibility,
    join_policy: GqlJoinPolicy,
    client_mutation_id: Option<String>,
}

/// Omitted fields stay as they are.
#[derive(InputObject)]
pub(crate) struct UpdateGroupInput {
    group_id: ID,
    name: Option<String>,
    description: Option<String>,
    join_policy: Option<GqlJoinPolicy>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct JoinGroupInput {
    group_id: ID,
    /// What the applicant tells the moderators (REQUEST groups).
    application: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct LeaveGroupInput {
    group_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct ApproveMembershipInput {
    membership_id: ID,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct RejectMembershipInput {
    membership_id: ID,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct InviteMemberInput {
    group_id: ID,
    handle: String,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct AcceptInvitationInput {
    membership_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct DeclineInvitationInput {
    membership_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct RemoveMemberInput {
    membership_id: ID,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct BanMemberInput {
    group_id: ID,
    user_id: ID,
    /// When the ban ends; omitted for a permanent ban.
    until: Option<DateTime<Utc>>,
    reason: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct UnbanMemberInput {
    group_id: ID,
    user_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct SetMemberRoleInput {
    membership_id: ID,
    role: MemberRole,
    client_mutation_id: Option<String>,
}

payload!(CreateGroupPayload { group: GroupObject });
payload!(UpdateGroupPayload { group: GroupObject });
payload!(JoinGroupPayload {
    membership: MembershipObject
});
payload!(LeaveGroupPayload { deleted_id: ID });
payload!(ApproveMembershipPayload {
    membership: MembershipObject
});
payload!(RejectMembershipPayload { deleted_id: ID });
payload!(InviteMemberPayload {
    membership: MembershipObject
});
payload!(AcceptInvitationPayload {
    membership: MembershipObject
});
payload!(DeclineInvitationPayload { deleted_id: ID });
payload!(RemoveMemberPayload { deleted_id: ID });
payload!(BanMemberPayload {
    membership: MembershipObject
});
payload!(UnbanMemberPayload { deleted_id: ID });
payload!(SetMemberRolePayload {
    membership: MembershipObject
});

fn actor(ctx: &Context<'_>) -> GqlResult<Actor> {
    ctx.require_user().map(|(user, _)| Actor::from(user))
}

/// Runs a membership command for the signed-in viewer.
async fn execute(ctx: &Context<'_>, actor: Actor, command: Command) -> GqlResult<Outcome> {
    ctx.services()?
        .groups
        .execute(actor, command, Utc::now())
        .await
        .gql()
}

fn unexpected(outcome: &Outcome) -> async_graphql::Error {
    gql(DomainError::Internal(format!(
        "unexpected outcome {outcome:?}"
    )))
}

async fn membership_of(
    ctx: &Context<'_>,
    actor: Actor,
    command: Command,
) -> GqlResult<MembershipObject> {
    match execute(ctx, actor, command).await? {
        Outcome::Membership(m) => Ok(MembershipObject(m)),
        other => Err(unexpected(&other)),
    }
}

async fn deleted(ctx: &Context<'_>, actor: Actor, command: Command) -> GqlResult<ID> {
    match execute(ctx, actor, command).await? {
        Outcome::Deleted(id) => Ok(ID(id.to_string())),
        other => Err(unexpected(&other)),
    }
}

fn reason(raw: Option<&str>) -> GqlResult<Option<Reason>> {
    parse_opt(raw, Reason::parse)
}

#[Object]
impl GroupMutations {
    /// Creates a group; its creator becomes its OWNER.
    async fn create_group(
        &self,
        ctx: &Context<'_>,
        input: CreateGroupInput,
    ) -> GqlResult<CreateGroupPayload> {
        let actor = actor(ctx)?;
        let new = NewGroup {
            slug: parse(&input.slug, GroupSlug::parse)?,
            name: parse(&input.name, GroupName::parse)?,
            description: parse(
                input.description.as_deref().unwrap_or_default(),
                Description::parse,
            )?,
            visibility: input.visibility.into(),
            join_policy: input.join_policy.into(),
        };
        let (group, owner) = membership::create_group(actor, new, Utc::now()).gql()?;
        ctx.services()?
            .groups
            .create_group(&group, &owner)
            .await
            .gql()?;
        Ok(CreateGroupPayload {
            client_mutation_id: input.client_mutation_id,
            group: GroupObject(group),
        })
    }

    /// Changes a group's name, description or join policy (owners).
    async fn update_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateGroupInput,
    ) -> GqlResult<UpdateGroupPayload> {
        let actor = actor(ctx)?;
        let group: GroupId = parse_id(&input.group_id)?;
        let changes = GroupChanges {
            name: parse_opt(input.name.as_deref(), GroupName::parse)?,
            description: parse_opt(input.description.as_deref(), Description::parse)?,
            join_policy: input.join_policy.map(Into::into),
        };
        let group = ctx
            .services()?
            .groups
            .update_group(actor, group, changes, Utc::now())
            .await
            .gql()?;
        Ok(UpdateGroupPayload {
            client_mutation_id: input.client_mutation_id,
            group: GroupObject(group),
        })
    }

    /// Joins an OPEN group at once, or asks to join a REQUEST group.
    async fn join_group(
        &self,
        ctx: &Context<'_>,
        input: JoinGroupInput,
    ) -> GqlResult<JoinGroupPayload> {
        let actor = actor(ctx)?;
        let command = Command::Join {
            group: parse_id(&input.group_id)?,
            application: parse_opt(input.application.as_deref(), Application::parse)?,
        };
        Ok(JoinGroupPayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }

    /// Leaves a group, or withdraws a request. The last owner cannot leave.
    async fn leave_group(
        &self,
        ctx: &Context<'_>,
        input: LeaveGroupInput,
    ) -> GqlResult<LeaveGroupPayload> {
        let actor = actor(ctx)?;
        let command = Command::Leave {
            group: parse_id(&input.group_id)?,
        };
        Ok(LeaveGroupPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: deleted(ctx, actor, command).await?,
        })
    }

    async fn approve_membership(
        &self,
        ctx: &Context<'_>,
        input: ApproveMembershipInput,
    ) -> GqlResult<ApproveMembershipPayload> {
        let actor = actor(ctx)?;
        let command = Command::Approve {
            membership: parse_id(&input.membership_id)?,
            reason: reason(input.reason.as_deref())?,
        };
        Ok(ApproveMembershipPayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }

    async fn reject_membership(
        &self,
        ctx: &Context<'_>,
        input: RejectMembershipInput,
    ) -> GqlResult<RejectMembershipPayload> {
        let actor = actor(ctx)?;
        let command = Command::Reject {
            membership: parse_id(&input.membership_id)?,
            reason: reason(input.reason.as_deref())?,
        };
        Ok(RejectMembershipPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: deleted(ctx, actor, command).await?,
        })
    }

    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        input: InviteMemberInput,
    ) -> GqlResult<InviteMemberPayload> {
        let actor = actor(ctx)?;
        let group: GroupId = parse_id(&input.group_id)?;
        let user = ctx
            .services()?
            .accounts
            .user_by_handle(&input.handle)
            .await
            .gql()?
            .ok_or_else(|| gql(DomainError::NotFound))?;
        let command = Command::Invite {
            group,
            user: user.id,
        };
        Ok(InviteMemberPayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }

    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> GqlResult<AcceptInvitationPayload> {
        let actor = actor(ctx)?;
        let command = Command::Accept {
            membership: parse_id(&input.membership_id)?,
        };
        Ok(AcceptInvitationPayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }

    async fn decline_invitation(
        &self,
        ctx: &Context<'_>,
        input: DeclineInvitationInput,
    ) -> GqlResult<DeclineInvitationPayload> {
        let actor = actor(ctx)?;
        let command = Command::Decline {
            membership: parse_id(&input.membership_id)?,
        };
        Ok(DeclineInvitationPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: deleted(ctx, actor, command).await?,
        })
    }

    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        input: RemoveMemberInput,
    ) -> GqlResult<RemoveMemberPayload> {
        let actor = actor(ctx)?;
        let command = Command::Remove {
            membership: parse_id::<MembershipId>(&input.membership_id)?,
            reason: reason(input.reason.as_deref())?,
        };
        Ok(RemoveMemberPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: deleted(ctx, actor, command).await?,
        })
    }

    async fn ban_member(
        &self,
        ctx: &Context<'_>,
        input: BanMemberInput,
    ) -> GqlResult<BanMemberPayload> {
        let actor = actor(ctx)?;
        let command = Command::Ban {
            group: parse_id(&input.group_id)?,
            user: parse_id::<UserId>(&input.user_id)?,
            until: input.until,
            reason: reason(input.reason.as_deref())?,
        };
        Ok(BanMemberPayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }

    async fn unban_member(
        &self,
        ctx: &Context<'_>,
        input: UnbanMemberInput,
    ) -> GqlResult<UnbanMemberPayload> {
        let actor = actor(ctx)?;
        let command = Command::Unban {
            group: parse_id(&input.group_id)?,
            user: parse_id(&input.user_id)?,
        };
        Ok(UnbanMemberPayload {
            client_mutation_id: input.client_mutation_id,
            deleted_id: deleted(ctx, actor, command).await?,
        })
    }

    /// Promotes or demotes an active member (owners). A group keeps at least one owner.
    async fn set_member_role(
        &self,
        ctx: &Context<'_>,
        input: SetMemberRoleInput,
    ) -> GqlResult<SetMemberRolePayload> {
        let actor = actor(ctx)?;
        let command = Command::SetRole {
            membership: parse_id(&input.membership_id)?,
            role: input.role.into(),
        };
        Ok(SetMemberRolePayload {
            client_mutation_id: input.client_mutation_id,
            membership: membership_of(ctx, actor, command).await?,
        })
    }
}
