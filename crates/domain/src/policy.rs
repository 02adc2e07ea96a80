//! Who may see and do what in a group: plain functions over the viewer's standing.
//!
//! The rules are API.md's "Who sees what". Every read path and every command asks these
//! functions; nothing else decides access.

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::model::{Actor, Group, JoinPolicy, Membership, MembershipState, Role, Visibility};

/// A viewer's relation to one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Anonymous,
    /// Signed in, with no membership (or only a ban that has expired).
    Outsider,
    Pending,
    Invited,
    Banned,
    Active(Role),
    /// A site admin moderates every group, member or not.
    Admin,
}

impl Standing {
    /// Derives the standing from the viewer and their membership in the group, if any.
    pub fn of(actor: Option<Actor>, membership: Option<&Membership>, now: DateTime<Utc>) -> Self {
        let Some(actor) = actor else {
            return Standing::Anonymous;
        };
        if actor.is_admin {
            return Standing::Admin;
        }
        match membership.filter(|m| m.user_id == actor.user_id) {
            None => Standing::Outsider,
            Some(m) => match m.state {
                MembershipState::Active => Standing::Active(m.role),
                MembershipState::Pending => Standing::Pending,
                MembershipState::Invited => Standing::Invited,
                MembershipState::Banned if m.is_banned_at(now) => Standing::Banned,
                MembershipState::Banned => Standing::Outsider,
            },
        }
    }

    pub const fn is_active_member(self) -> bool {
        matches!(self, Standing::Active(_))
    }
}

/// Whether the group exists for the viewer at all: its listing (id, slug, name, description,
/// visibility, join policy, member count). A SECRET group exists only for its active members
/// and the users it has invited.
pub fn can_see_group(standing: Standing, visibility: Visibility) -> bool {
    match visibility {
        Visibility::Public | Visibility::Private => true,
        Visibility::Secret => matches!(
            standing,
            Standing::Admin | Standing::Active(_) | Standing::Invited
        ),
    }
}

/// Whether the viewer may read the group's content, member list and moderation log.
/// PUBLIC groups are readable by anyone; otherwise only by active members.
pub fn can_read_group(standing: Standing, visibility: Visibility) -> bool {
    match visibility {
        Visibility::Public => true,
        Visibility::Private | Visibility::Secret => {
            matches!(standing, Standing::Admin | Standing::Active(_))
        }
    }
}

/// Moderators and owners of the group, and site admins.
pub fn can_moderate(standing: Standing) -> bool {
    match standing {
        Standing::Admin => true,
        Standing::Active(role) => role.moderates(),
        _ => false,
    }
}

/// Only active members (and site admins) write.
pub fn can_post(standing: Standing) -> bool {
    matches!(standing, Standing::Admin | Standing::Active(_))
}

/// The author of a post, thread or presentation (while still allowed to write) or a moderator:
/// who edits and deletes posts, chooses a thread's answer, and deletes a presentation.
pub fn is_author_or_moderator(actor: Option<Actor>, standing: Standing, author: UserId) -> bool {
    let is_author = actor.is_some_and(|a| a.user_id == author) && can_post(standing);
    is_author || can_moderate(standing)
}

/// Owners (and site admins) change the group's settings and members' roles.
pub fn can_administer(standing: Standing) -> bool {
    matches!(standing, Standing::Admin | Standing::Active(Role::Owner))
}

/// Whether `joinGroup` would succeed now.
pub fn can_join(standing: Standing, group: &Group) -> bool {
    matches!(standing, Standing::Outsider | Standing::Admin)
        && can_see_group(standing, group.visibility)
        && group.join_policy != JoinPolicy::Invite
}

/// Whether the viewer may see one membership: in a group that exists for them, their own, any
/// of a group they moderate, and the active memberships of a group whose member list they may
/// read. Requests, invitations and
/// bans are between the user and the moderators.
pub fn can_see_membership(
    actor: Option<Actor>,
    standing: Standing,
    visibility: Visibility,
    membership: &Membership,
) -> bool {
    if !can_see_group(standing, visibility) {
        return false;
    }
    if actor.is_some_and(|a| a.user_id == membership.user_id) || can_moderate(standing) {
        return true;
    }
    membership.is_active() && can_read_group(standing, visibility)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{GroupId, MembershipId};

    fn group(visibility: Visibility, join_policy: JoinPolicy) -> Group {
        Group {
            id: GroupId::generate(),
            slug: "g".into(),
            name: "G".into(),
            description: String::new(),
            visibility,
            join_policy,
            created_at: Utc::now(),
        }
    }

    const EVERY_STANDING: [Standing; 9] = [
        Standing::Anonymous,
        Standing::Outsider,
        Standing::Pending,
        Standing::Invited,
        Standing::Banned,
        Standing::Active(Role::Member),
        Standing::Active(Role::Moderator),
        Standing::Active(Role::Owner),
        Standing::Admin,
    ];

    #[test]
    fn public_groups_are_readable_by_everyone() {
        for standing in EVERY_STANDING {
            assert!(can_see_group(standing, Visibility::Public));
            assert!(can_read_group(standing, Visibility::Public));
        }
    }

    #[test]
    fn private_groups_are_listed_but_read_only_by_active_members() {
        for standing in EVERY_STANDING {
            assert!(can_see_group(standing, Visibility::Private));
            let reads = matches!(standing, Standing::Active(_) | Standing::Admin);
            assert_eq!(
                can_read_group(standing, Visibility::Private),
                reads,
                "{standing:?}"
            );
        }
    }

    #[test]
    fn secret_groups_exist_only_for_members_and_invitees() {
        for standing in EVERY_STANDING {
            let sees = matches!(
                standing,
                Standing::Active(_) | Standing::Admin | Standing::Invited
            );
            assert_eq!(
                can_see_group(standing, Visibility::Secret),
                sees,
                "{standing:?}"
            );
            let reads = matches!(standing, Standing::Active(_) | Standing::Admin);
            assert_eq!(
                can_read_group(standing, Visibility::Secret),
                reads,
                "{standing:?}"
            );
        }
    }

    #[test]
    fn only_active_members_and_admins_post_and_only_moderators_moderate() {
        for standing in EVERY_STANDING {
            assert_eq!(
                can_post(standing),
                matches!(standing, Standing::Active(_) | Standing::Admin)
            );
            assert_eq!(
                can_moderate(standing),
                matches!(
                    standing,
                    Standing::Active(Role::Moderator | Role::Owner) | Standing::Admin
                )
            );
        }
    }

    #[test]
    fn an_expired_ban_is_no_ban() {
        let now = Utc::now();
        let user = UserId::generate();
        let mut ban = Membership {
            id: MembershipId::generate(),
            group_id: GroupId::generate(),
            user_id: user,
            role: Role::Member,
            state: MembershipState::Banned,
            application: None,
            created_at: now,
            decided_at: Some(now),
            decided_by: None,
            banned_until: Some(now + chrono::Duration::hours(1)),
        };
        let actor = Some(Actor {
            user_id: user,
            is_admin: false,
        });
        assert_eq!(Standing::of(actor, Some(&ban), now), Standing::Banned);
        ban.banned_until = Some(now - chrono::Duration::hours(1));
        assert_eq!(Standing::of(actor, Some(&ban), now), Standing::Outsider);
    }

    #[test]
    fn joining_needs_an_outsider_and_a_non_invite_policy() {
        let open = group(Visibility::Public, JoinPolicy::Open);
        let invite = group(Visibility::Private, JoinPolicy::Invite);
        assert!(can_join(Standing::Outsider, &open));
        assert!(!can_join(Standing::Anonymous, &open));
        assert!(!can_join(Standing::Banned, &open));
        assert!(!can_join(Standing::Active(Role::Member), &open));
        assert!(!can_join(Standing::Outsider, &invite));
    }
}
