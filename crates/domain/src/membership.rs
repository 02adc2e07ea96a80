//! The membership rules: given what is stored now, what a command changes.
//!
//! A store loads a [`Context`] inside its transaction, calls [`decide`], and writes the
//! [`Decision`]'s effects and log entry in that same transaction, so a decision never acts
//! on stale state and nothing is half-written.

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult};
use crate::ids::{GroupId, LogEntryId, MembershipId, UserId};
use crate::model::{
    Actor, Group, JoinPolicy, Membership, MembershipState, ModerationAction, ModerationLogEntry,
    Role, Visibility,
};
use crate::policy::{self, Standing};
use crate::values::{Application, Description, GroupName, GroupSlug, Reason};

/// What a user or moderator asks to change about a membership.
#[derive(Debug, Clone)]
pub enum Command {
    Join {
        group: GroupId,
        application: Option<Application>,
    },
    Leave {
        group: GroupId,
    },
    Approve {
        membership: MembershipId,
        reason: Option<Reason>,
    },
    Reject {
        membership: MembershipId,
        reason: Option<Reason>,
    },
    Invite {
        group: GroupId,
        user: UserId,
    },
    Accept {
        membership: MembershipId,
    },
    Decline {
        membership: MembershipId,
    },
    Remove {
        membership: MembershipId,
        reason: Option<Reason>,
    },
    Ban {
        group: GroupId,
        user: UserId,
        until: Option<DateTime<Utc>>,
        reason: Option<Reason>,
    },
    Unban {
        group: GroupId,
        user: UserId,
    },
    SetRole {
        membership: MembershipId,
        role: Role,
    },
}

/// Which membership a command acts on, so that a store knows what to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The actor's own membership in the group (it may not exist yet).
    Own(GroupId),
    /// A membership by ID; the group is the membership's.
    Membership(MembershipId),
    /// The membership of a given user in the group (it may not exist).
    UserIn(GroupId, UserId),
}

impl Command {
    pub fn target(&self) -> Target {
        match *self {
            Command::Join { group, .. } | Command::Leave { group } => Target::Own(group),
            Command::Approve { membership, .. }
            | Command::Reject { membership, .. }
            | Command::Accept { membership }
            | Command::Decline { membership }
            | Command::Remove { membership, .. }
            | Command::SetRole { membership, .. } => Target::Membership(membership),
            Command::Invite { group, user }
            | Command::Ban { group, user, .. }
            | Command::Unban { group, user } => Target::UserIn(group, user),
        }
    }
}

/// The stored state a decision needs, read inside the command's transaction.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: DateTime<Utc>,
    pub actor: Actor,
    pub group: Group,
    pub actor_membership: Option<Membership>,
    /// The membership the command targets, when it exists.
    pub target: Option<Membership>,
    /// Active owners of the group.
    pub owner_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Insert(Membership),
    Update(Membership),
    Delete(MembershipId),
}

/// What the command returns to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Membership(Membership),
    Deleted(MembershipId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Applied in order.
    pub effects: Vec<Effect>,
    pub log: Option<ModerationLogEntry>,
    pub outcome: Outcome,
}

impl Decision {
    fn new(effect: Effect) -> Self {
        let outcome = match &effect {
            Effect::Insert(m) | Effect::Update(m) => Outcome::Membership(m.clone()),
            Effect::Delete(id) => Outcome::Deleted(*id),
        };
        Self {
            effects: vec![effect],
            log: None,
            outcome,
        }
    }

    fn logged(
        mut self,
        ctx: &Context,
        action: ModerationAction,
        target_user: UserId,
        reason: Option<Reason>,
    ) -> Self {
        self.log = Some(log_entry(ctx, action, Some(target_user), reason));
        self
    }

    /// Runs `first` before this decision's own effects.
    fn after(mut self, first: Option<Effect>) -> Self {
        if let Some(first) = first {
            self.effects.insert(0, first);
        }
        self
    }
}

fn log_entry(
    ctx: &Context,
    action: ModerationAction,
    target_user_id: Option<UserId>,
    reason: Option<Reason>,
) -> ModerationLogEntry {
    ModerationLogEntry {
        id: LogEntryId::generate(),
        group_id: ctx.group.id,
        actor_id: ctx.actor.user_id,
        action,
        target_user_id,
        target_thread_id: None,
        target_post_id: None,
        reason: reason.map(Reason::into_inner).filter(|r| !r.is_empty()),
        created_at: ctx.now,
    }
}

const NOT_PENDING: &str = "the membership is not a pending request";
const NOT_INVITED: &str = "the membership is not an invitation";

/// Decides what `command` changes, or why it may not.
///
/// Errors follow API.md: `NOT_FOUND` when the viewer may not see the group or the targeted
/// membership (identical to an unknown ID), `FORBIDDEN` when they see it but may not act,
/// `CONFLICT` when the state forbids it (a duplicate, the last owner, a ban in force).
pub fn decide(ctx: &Context, command: Command) -> DomainResult<Decision> {
    let standing = Standing::of(Some(ctx.actor), ctx.actor_membership.as_ref(), ctx.now);
    let visibility = ctx.group.visibility;
    if !policy::can_see_group(standing, visibility) {
        return Err(DomainError::NotFound);
    }
    if let Target::Membership(_) = command.target() {
        let target = ctx.target.as_ref().ok_or(DomainError::NotFound)?;
        if !policy::can_see_membership(Some(ctx.actor), standing, visibility, target) {
            return Err(DomainError::NotFound);
        }
    }
    match command {
        Command::Join { application, .. } => join(ctx, standing, application),
        Command::Leave { .. } => leave(ctx),
        Command::Approve { reason, .. } => {
            let target = moderated_target(ctx, standing)?;
            if target.state != MembershipState::Pending {
                return Err(DomainError::Conflict(NOT_PENDING));
            }
            let approved = Membership {
                state: MembershipState::Active,
                decided_at: Some(ctx.now),
                decided_by: Some(ctx.actor.user_id),
                ..target.clone()
            };
            Ok(Decision::new(Effect::Update(approved)).logged(
                ctx,
                ModerationAction::MemberApproved,
                target.user_id,
                reason,
            ))
        }
        Command::Reject { reason, .. } => {
            let target = moderated_target(ctx, standing)?;
            if target.state != MembershipState::Pending {
                return Err(DomainError::Conflict(NOT_PENDING));
            }
            Ok(Decision::new(Effect::Delete(target.id)).logged(
                ctx,
                ModerationAction::MemberRejected,
                target.user_id,
                reason,
            ))
        }
        Command::Invite { user, .. } => invite(ctx, standing, user),
        Command::Accept { .. } | Command::Decline { .. } => {
            let accept = matches!(command, Command::Accept { .. });
            let target = ctx.target.as_ref().ok_or(DomainError::NotFound)?;
            if target.user_id != ctx.actor.user_id {
                return Err(DomainError::Forbidden(
                    "only the invited user may answer an invitation",
                ));
            }
            if target.state != MembershipState::Invited {
                return Err(DomainError::Conflict(NOT_INVITED));
            }
            if accept {
                let accepted = Membership {
                    state: MembershipState::Active,
                    decided_at: Some(ctx.now),
                    ..target.clone()
                };
                Ok(Decision::new(Effect::Update(accepted)))
            } else {
                Ok(Decision::new(Effect::Delete(target.id)))
            }
        }
        Command::Remove { reason, .. } => {
            let target = moderated_target(ctx, standing)?;
            match target.state {
                MembershipState::Active | MembershipState::Invited => {}
                MembershipState::Pending => {
                    return Err(DomainError::Conflict(
                        "a pending request is rejected, not removed",
                    ));
                }
                MembershipState::Banned => {
                    return Err(DomainError::Conflict("a ban is lifted with unbanMember"));
                }
            }
            check_outranks(ctx, standing, target)?;
            check_keeps_an_owner(ctx, target)?;
            Ok(Decision::new(Effect::Delete(target.id)).logged(
                ctx,
                ModerationAction::MemberRemoved,
                target.user_id,
                reason,
            ))
        }
        Command::Ban {
            user,
            until,
            reason,
            ..
        } => ban(ctx, standing, user, until, reason),
        Command::Unban { user, .. } => {
            require_moderator(standing)?;
            let target = ctx
                .target
                .as_ref()
                .filter(|m| m.state == MembershipState::Banned)
                .ok_or(DomainError::Conflict("the user is not banned"))?;
            Ok(Decision::new(Effect::Delete(target.id)).logged(
                ctx,
                ModerationAction::MemberUnbanned,
                user,
                None,
            ))
        }
        Command::SetRole { role, .. } => {
            if !policy::can_administer(standing) {
                return Err(DomainError::Forbidden("only owners change roles"));
            }
            let target = ctx.target.as_ref().ok_or(DomainError::NotFound)?;
            if !target.is_active() {
                return Err(DomainError::Conflict("only active members have a role"));
            }
            if target.role == Role::Owner && role != Role::Owner {
                check_keeps_an_owner(ctx, target)?;
            }
            let changed = Membership {
                role,
                ..target.clone()
            };
            Ok(Decision::new(Effect::Update(changed)).logged(
                ctx,
                ModerationAction::RoleChanged,
                target.user_id,
                None,
            ))
        }
    }
}

fn join(
    ctx: &Context,
    standing: Standing,
    application: Option<Application>,
) -> DomainResult<Decision> {
    let clear_expired_ban = match (&ctx.actor_membership, standing) {
        (_, Standing::Banned) => {
            return Err(DomainError::Forbidden("you are banned from this group"));
        }
        (Some(expired), Standing::Outsider | Standing::Admin)
            if expired.state == MembershipState::Banned =>
        {
            Some(Effect::Delete(expired.id))
        }
        (Some(_), _) => {
            return Err(DomainError::Conflict(
                "you already belong to, asked to join or were invited to this group",
            ));
        }
        (None, _) => None,
    };
    let state = match ctx.group.join_policy {
        JoinPolicy::Open => MembershipState::Active,
        JoinPolicy::Request => MembershipState::Pending,
        JoinPolicy::Invite => {
            return Err(DomainError::Forbidden("this group is by invitation only"));
        }
    };
    let membership = Membership {
        id: MembershipId::generate(),
        group_id: ctx.group.id,
        user_id: ctx.actor.user_id,
        role: Role::Member,
        state,
        application: application
            .map(Application::into_inner)
            .filter(|a| !a.is_empty()),
        created_at: ctx.now,
        decided_at: (state == MembershipState::Active).then_some(ctx.now),
        decided_by: None,
        banned_until: None,
    };
    Ok(Decision::new(Effect::Insert(membership)).after(clear_expired_ban))
}

fn leave(ctx: &Context) -> DomainResult<Decision> {
    let own = ctx
        .actor_membership
        .as_ref()
        .ok_or(DomainError::Conflict("you are not a member of this group"))?;
    match own.state {
        MembershipState::Banned if own.is_banned_at(ctx.now) => {
            return Err(DomainError::Forbidden("you are banned from this group"));
        }
        MembershipState::Banned => {
            return Err(DomainError::Conflict("you are not a member of this group"));
        }
        _ => {}
    }
    if own.is_active() && own.role == Role::Owner {
        check_keeps_an_owner(ctx, own)?;
    }
    Ok(Decision::new(Effect::Delete(own.id)))
}

fn invite(ctx: &Context, standing: Standing, user: UserId) -> DomainResult<Decision> {
    require_moderator(standing)?;
    let clear_expired_ban = match &ctx.target {
        Some(m) if m.state == MembershipState::Banned && !m.is_banned_at(ctx.now) => {
            Some(Effect::Delete(m.id))
        }
        Some(m) if m.state == MembershipState::Banned => {
            return Err(DomainError::Conflict("the user is banned from this group"));
        }
        Some(_) => {
            return Err(DomainError::Conflict(
                "the user already belongs to, asked to join or was invited to this group",
            ));
        }
        None => None,
    };
    let invitation = Membership {
        id: MembershipId::generate(),
        group_id: ctx.group.id,
        user_id: user,
        role: Role::Member,
        state: MembershipState::Invited,
        application: None,
        created_at: ctx.now,
        decided_at: None,
        decided_by: Some(ctx.actor.user_id),
        banned_until: None,
    };
    Ok(Decision::new(Effect::Insert(invitation))
        .after(clear_expired_ban)
        .logged(ctx, ModerationAction::MemberInvited, user, None))
}

fn ban(
    ctx: &Context,
    standing: Standing,
    user: UserId,
    until: Option<DateTime<Utc>>,
    reason: Option<Reason>,
) -> DomainResult<Decision> {
    require_moderator(standing)?;
    if user == ctx.actor.user_id {
        return Err(DomainError::Forbidden("you cannot ban yourself"));
    }
    if until.is_some_and(|until| until <= ctx.now) {
        return Err(DomainError::invalid("until", "must be in the future"));
    }
    let effect = match &ctx.target {
        Some(target) => {
            if target.is_active() {
                check_outranks(ctx, standing, target)?;
                check_keeps_an_owner(ctx, target)?;
            }
            Effect::Update(Membership {
                role: Role::Member,
                state: MembershipState::Banned,
                decided_at: Some(ctx.now),
                decided_by: Some(ctx.actor.user_id),
                banned_until: until,
                ..target.clone()
            })
        }
        None => Effect::Insert(Membership {
            id: MembershipId::generate(),
            group_id: ctx.group.id,
            user_id: user,
            role: Role::Member,
            state: MembershipState::Banned,
            application: None,
            created_at: ctx.now,
            decided_at: Some(ctx.now),
            decided_by: Some(ctx.actor.user_id),
            banned_until: until,
        }),
    };
    Ok(Decision::new(effect).logged(ctx, ModerationAction::MemberBanned, user, reason))
}

fn require_moderator(standing: Standing) -> DomainResult<()> {
    if policy::can_moderate(standing) {
        Ok(())
    } else {
        Err(DomainError::Forbidden("only moderators may do this"))
    }
}

/// The targeted membership, once the actor is known to moderate the group.
fn moderated_target(ctx: &Context, standing: Standing) -> DomainResult<&Membership> {
    require_moderator(standing)?;
    ctx.target.as_ref().ok_or(DomainError::NotFound)
}

/// Moderators act on members only; owners and site admins act on anyone but themselves.
fn check_outranks(ctx: &Context, standing: Standing, target: &Membership) -> DomainResult<()> {
    if target.user_id == ctx.actor.user_id {
        return Err(DomainError::Forbidden("use leaveGroup to leave a group"));
    }
    let allowed = match standing {
        Standing::Admin | Standing::Active(Role::Owner) => true,
        Standing::Active(role) => !target.is_active() || role.rank() > target.role.rank(),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Forbidden("moderators act on members only"))
    }
}

/// A group always keeps at least one active owner.
fn check_keeps_an_owner(ctx: &Context, target: &Membership) -> DomainResult<()> {
    if target.is_active() && target.role == Role::Owner && ctx.owner_count <= 1 {
        Err(DomainError::Conflict(
            "a group must keep at least one owner",
        ))
    } else {
        Ok(())
    }
}

/// Validated input for a new group.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub slug: GroupSlug,
    pub name: GroupName,
    pub description: Description,
    pub visibility: Visibility,
    pub join_policy: JoinPolicy,
}

/// A SECRET group can only be joined by invitation.
fn check_policy_fits(visibility: Visibility, join_policy: JoinPolicy) -> DomainResult<()> {
    if visibility == Visibility::Secret && join_policy != JoinPolicy::Invite {
        Err(DomainError::invalid(
            "joinPolicy",
            "a SECRET group must use INVITE",
        ))
    } else {
        Ok(())
    }
}

/// The group and its creator's OWNER membership.
pub fn create_group(
    actor: Actor,
    new: NewGroup,
    now: DateTime<Utc>,
) -> DomainResult<(Group, Membership)> {
    check_policy_fits(new.visibility, new.join_policy)?;
    let group = Group {
        id: GroupId::generate(),
        slug: new.slug.into_inner(),
        name: new.name.into_inner(),
        description: new.description.into_inner(),
        visibility: new.visibility,
        join_policy: new.join_policy,
        created_at: now,
    };
    let owner = Membership {
        id: MembershipId::generate(),
        group_id: group.id,
        user_id: actor.user_id,
        role: Role::Owner,
        state: MembershipState::Active,
        application: None,
        created_at: now,
        decided_at: Some(now),
        decided_by: None,
        banned_until: None,
    };
    Ok((group, owner))
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct GroupChanges {
    pub name: Option<GroupName>,
    pub description: Option<Description>,
    pub join_policy: Option<JoinPolicy>,
}

/// The updated group and its log entry. Owners and site admins change settings.
pub fn update_group(
    actor: Actor,
    actor_membership: Option<&Membership>,
    group: &Group,
    changes: GroupChanges,
    now: DateTime<Utc>,
) -> DomainResult<(Group, ModerationLogEntry)> {
    let standing = Standing::of(Some(actor), actor_membership, now);
    if !policy::can_see_group(standing, group.visibility) {
        return Err(DomainError::NotFound);
    }
    if !policy::can_administer(standing) {
        return Err(DomainError::Forbidden(
            "only owners change a group's settings",
        ));
    }
    let updated = Group {
        name: changes
            .name
            .map_or_else(|| group.name.clone(), GroupName::into_inner),
        description: changes
            .description
            .map_or_else(|| group.description.clone(), Description::into_inner),
        join_policy: changes.join_policy.unwrap_or(group.join_policy),
        ..group.clone()
    };
    check_policy_fits(updated.visibility, updated.join_policy)?;
    let entry = ModerationLogEntry {
        id: LogEntryId::generate(),
        group_id: group.id,
        actor_id: actor.user_id,
        action: ModerationAction::GroupUpdated,
        target_user_id: None,
        target_thread_id: None,
        target_post_id: None,
        reason: None,
        created_at: now,
    };
    Ok((updated, entry))
}

#[cfg(test)]
mod tests;
