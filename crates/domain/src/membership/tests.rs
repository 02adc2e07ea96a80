use chrono::Duration;

use super::*;

struct World {
    now: DateTime<Utc>,
    group: Group,
}

impl World {
    fn new(visibility: Visibility, join_policy: JoinPolicy) -> Self {
        let now = Utc::now();
        let group = Group {
            id: GroupId::generate(),
            slug: "counter-trafficking".into(),
            name: "Counter-Trafficking".into(),
            description: String::new(),
            visibility,
            join_policy,
            created_at: now,
        };
        Self { now, group }
    }

    fn membership(&self, user: UserId, role: Role, state: MembershipState) -> Membership {
        Membership {
            id: MembershipId::generate(),
            group_id: self.group.id,
            user_id: user,
            role,
            state,
            application: None,
            created_at: self.now,
            decided_at: None,
            decided_by: None,
            banned_until: None,
        }
    }

    fn ctx(&self, actor: Option<&Membership>, target: Option<&Membership>, owners: u64) -> Context {
        let user_id = actor.map_or_else(UserId::generate, |m| m.user_id);
        Context {
            now: self.now,
            actor: Actor {
                user_id,
                is_admin: false,
            },
            group: self.group.clone(),
            actor_membership: actor.cloned(),
            target: target.cloned(),
            owner_count: owners,
        }
    }
}

fn code(result: DomainResult<Decision>) -> &'static str {
    match result {
        Ok(_) => "OK",
        Err(DomainError::NotFound) => "NOT_FOUND",
        Err(DomainError::Forbidden(_)) => "FORBIDDEN",
        Err(DomainError::Conflict(_)) => "CONFLICT",
        Err(DomainError::Invalid(_)) => "BAD_USER_INPUT",
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn joining_follows_the_join_policy() {
    for (policy, expected) in [
        (JoinPolicy::Open, Some(MembershipState::Active)),
        (JoinPolicy::Request, Some(MembershipState::Pending)),
        (JoinPolicy::Invite, None),
    ] {
        let world = World::new(Visibility::Public, policy);
        let ctx = world.ctx(None, None, 1);
        let decision = decide(
            &ctx,
            Command::Join {
                group: world.group.id,
                application: None,
            },
        );
        match (decision, expected) {
            (Ok(d), Some(state)) => match d.outcome {
                Outcome::Membership(m) => {
                    assert_eq!(m.state, state);
                    assert_eq!(m.role, Role::Member);
                    assert_eq!(m.user_id, ctx.actor.user_id);
                }
                other => panic!("{other:?}"),
            },
            (Err(DomainError::Forbidden(_)), None) => {}
            (other, _) => panic!("{policy:?}: {other:?}"),
        }
    }
}

#[test]
fn a_secret_group_is_not_found_for_outsiders() {
    let world = World::new(Visibility::Secret, JoinPolicy::Invite);
    let ctx = world.ctx(None, None, 1);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Join {
                group: world.group.id,
                application: None
            }
        )),
        "NOT_FOUND"
    );
    assert_eq!(
        code(decide(
            &ctx,
            Command::Leave {
                group: world.group.id
            }
        )),
        "NOT_FOUND"
    );
}

#[test]
fn a_banned_user_cannot_rejoin_until_the_ban_expires() {
    let world = World::new(Visibility::Public, JoinPolicy::Open);
    let user = UserId::generate();
    let mut ban = world.membership(user, Role::Member, MembershipState::Banned);
    let ctx = world.ctx(Some(&ban), Some(&ban), 1);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Join {
                group: world.group.id,
                application: None
            }
        )),
        "FORBIDDEN"
    );

    ban.banned_until = Some(world.now - Duration::minutes(1));
    let ctx = world.ctx(Some(&ban), Some(&ban), 1);
    let decision = decide(
        &ctx,
        Command::Join {
            group: world.group.id,
            application: None,
        },
    )
    .expect("an expired ban no longer bars joining");
    assert_eq!(decision.effects.first(), Some(&Effect::Delete(ban.id)));
    assert!(
        matches!(decision.effects.get(1), Some(Effect::Insert(m)) if m.state == MembershipState::Active)
    );
}

#[test]
fn the_last_owner_cannot_leave_or_be_demoted() {
    let world = World::new(Visibility::Private, JoinPolicy::Request);
    let owner = world.membership(UserId::generate(), Role::Owner, MembershipState::Active);
    let ctx = world.ctx(Some(&owner), Some(&owner), 1);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Leave {
                group: world.group.id
            }
        )),
        "CONFLICT"
    );
    assert_eq!(
        code(decide(
            &ctx,
            Command::SetRole {
                membership: owner.id,
                role: Role::Member
            }
        )),
        "CONFLICT"
    );
    let ctx = world.ctx(Some(&owner), Some(&owner), 2);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Leave {
                group: world.group.id
            }
        )),
        "OK"
    );
}

#[test]
fn moderators_act_on_members_but_not_on_moderators_or_owners() {
    let world = World::new(Visibility::Private, JoinPolicy::Request);
    let moderator = world.membership(UserId::generate(), Role::Moderator, MembershipState::Active);
    for (role, expected) in [
        (Role::Member, "OK"),
        (Role::Moderator, "FORBIDDEN"),
        (Role::Owner, "FORBIDDEN"),
    ] {
        let target = world.membership(UserId::generate(), role, MembershipState::Active);
        let ctx = world.ctx(Some(&moderator), Some(&target), 2);
        assert_eq!(
            code(decide(
                &ctx,
                Command::Remove {
                    membership: target.id,
                    reason: None
                }
            )),
            expected,
            "{role:?}"
        );
        let ban = Command::Ban {
            group: world.group.id,
            user: target.user_id,
            until: None,
            reason: None,
        };
        assert_eq!(code(decide(&ctx, ban)), expected, "{role:?}");
    }
}

#[test]
fn every_moderator_action_is_logged_with_its_reason() {
    let world = World::new(Visibility::Private, JoinPolicy::Request);
    let owner = world.membership(UserId::generate(), Role::Owner, MembershipState::Active);
    let pending = world.membership(UserId::generate(), Role::Member, MembershipState::Pending);
    let ctx = world.ctx(Some(&owner), Some(&pending), 1);
    let reason = Reason::parse("welcome").ok();
    let decision = decide(
        &ctx,
        Command::Approve {
            membership: pending.id,
            reason,
        },
    )
    .expect("approve");
    let log = decision.log.expect("logged");
    assert_eq!(log.action, ModerationAction::MemberApproved);
    assert_eq!(log.target_user_id, Some(pending.user_id));
    assert_eq!(log.actor_id, owner.user_id);
    assert_eq!(log.reason.as_deref(), Some("welcome"));
}

#[test]
fn others_requests_are_invisible_to_plain_members() {
    let world = World::new(Visibility::Private, JoinPolicy::Request);
    let member = world.membership(UserId::generate(), Role::Member, MembershipState::Active);
    let pending = world.membership(UserId::generate(), Role::Member, MembershipState::Pending);
    let ctx = world.ctx(Some(&member), Some(&pending), 1);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Approve {
                membership: pending.id,
                reason: None
            }
        )),
        "NOT_FOUND"
    );
    let active = world.membership(UserId::generate(), Role::Member, MembershipState::Active);
    let ctx = world.ctx(Some(&member), Some(&active), 1);
    assert_eq!(
        code(decide(
            &ctx,
            Command::Remove {
                membership: active.id,
                reason: None
            }
        )),
        "FORBIDDEN"
    );
}

#[test]
fn a_ban_must_end_in_the_future() {
    let world = World::new(Visibility::Public, JoinPolicy::Open);
    let owner = world.membership(UserId::generate(), Role::Owner, MembershipState::Active);
    let ctx = world.ctx(Some(&owner), None, 1);
    let ban = Command::Ban {
        group: world.group.id,
        user: UserId::generate(),
        until: Some(world.now - Duration::seconds(1)),
        reason: None,
    };
    assert_eq!(code(decide(&ctx, ban)), "BAD_USER_INPUT");
}

#[test]
fn secret_groups_must_be_invite_only() {
    let actor = Actor {
        user_id: UserId::generate(),
        is_admin: false,
    };
    let new = |join_policy| NewGroup {
        slug: GroupSlug::parse("secret-circle").expect("slug"),
        name: GroupName::parse("Secret circle").expect("name"),
        description: Description::parse("").expect("description"),
        visibility: Visibility::Secret,
        join_policy,
    };
    assert!(create_group(actor, new(JoinPolicy::Open), Utc::now()).is_err());
    let (group, owner) = create_group(actor, new(JoinPolicy::Invite), Utc::now()).expect("created");
    assert_eq!(owner.group_id, group.id);
    assert_eq!(
        (owner.role, owner.state),
        (Role::Owner, MembershipState::Active)
    );
}
