//! The access policy over generated situations: any group settings, any membership of the
//! actor (none, another user's, or theirs in any state and role, with a ban that is lasting,
//! in force or expired), any target membership, and the site-admin flag.
//!
//! The properties, for a user who is not a site admin (site admins moderate every group, by
//! policy, so they are generated only where the property is about them):
//!
//! 1. Standing: with no membership of their own they are an outsider; a ban in force makes them
//!    `Banned`, an expired one an outsider; otherwise the standing is the membership's state.
//! 2. Unless their own membership is ACTIVE (so: no membership, PENDING, INVITED, BANNED,
//!    including after a ban has expired) they are granted no write: every policy predicate is
//!    false, every content command (start a thread, reply, edit, delete, redact, pin, lock,
//!    mark an answer, react, share or delete a presentation) fails even on their own content,
//!    every moderation command fails, even on their own membership, and so does changing the
//!    group's settings; while a ban is in force, joining fails too.
//! 3. Moderation needs an ACTIVE moderator or owner membership, settings an ACTIVE owner.
//! 4. An ACTIVE member writes in any group, and a site admin writes in any group, member or
//!    not: the two sides of the line in 2, so that 2 cannot hold by refusing everyone.

use chrono::{DateTime, Duration, TimeZone, Utc};
use convene_domain::content::{self, NewPresentation, Scope, ThreadFlag};
use convene_domain::ids::{MembershipId, PostId, PresentationId, RevisionId, ThreadId};
use convene_domain::membership::{self, Command, Context, GroupChanges};
use convene_domain::policy::{self, Standing};
use convene_domain::values::{
    Description, PostBody, PresentationTitle, Reason, RecordingUrl, ThreadTitle,
};
use convene_domain::{
    Actor, DomainError, Group, GroupId, JoinPolicy, Membership, MembershipState, Post,
    PostRevision, Presentation, Role, Thread, UserId, Visibility,
};
use proptest::prelude::*;
use proptest::sample::select;
use uuid::Uuid;

use super::config;

const ACTOR: UserId = UserId::from_uuid(Uuid::from_u128(1));
const OTHER: UserId = UserId::from_uuid(Uuid::from_u128(2));
const GROUP: GroupId = GroupId::from_uuid(Uuid::from_u128(3));

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_750_000_000, 0)
        .single()
        .expect("a valid instant")
}

/// How a generated ban ends, relative to now.
#[derive(Debug, Clone, Copy)]
enum BanEnd {
    Never,
    Later,
    Passed,
}

#[derive(Debug, Clone)]
struct Situation {
    actor: Actor,
    group: Group,
    /// What the store would load as the actor's membership (it may be someone else's, which
    /// the policy must ignore).
    membership: Option<Membership>,
    /// The membership a moderation command targets; sometimes the actor's own.
    target: Option<Membership>,
    owner_count: u64,
    thread_locked: bool,
}

impl Situation {
    /// The actor's own membership, read without the policy's help.
    fn own(&self) -> Option<&Membership> {
        self.membership
            .as_ref()
            .filter(|m| m.user_id == self.actor.user_id)
    }

    fn is_active_member(&self) -> bool {
        self.own()
            .is_some_and(|m| m.state == MembershipState::Active)
    }

    fn is_banned(&self) -> bool {
        self.own().is_some_and(|m| {
            m.state == MembershipState::Banned && m.banned_until.is_none_or(|until| until > now())
        })
    }

    fn active_role(&self) -> Option<Role> {
        self.own()
            .filter(|m| m.state == MembershipState::Active)
            .map(|m| m.role)
    }

    fn standing(&self) -> Standing {
        Standing::of(Some(self.actor), self.membership.as_ref(), now())
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            now: now(),
            actor: self.actor,
            standing: self.standing(),
            group: &self.group,
        }
    }

    fn context(&self) -> Context {
        Context {
            now: now(),
            actor: self.actor,
            group: self.group.clone(),
            actor_membership: self.membership.clone(),
            target: self.target.clone(),
            owner_count: self.owner_count,
        }
    }
}

fn membership_of(user: UserId) -> impl Strategy<Value = Membership> {
    (
        select(Role::ALL),
        select(MembershipState::ALL),
        select(&[BanEnd::Never, BanEnd::Later, BanEnd::Passed][..]),
        any::<u128>(),
    )
        .prop_map(move |(role, state, ban, id)| Membership {
            id: MembershipId::from_uuid(Uuid::from_u128(id)),
            group_id: GROUP,
            user_id: user,
            role,
            state,
            application: None,
            created_at: now() - Duration::days(30),
            decided_at: None,
            decided_by: None,
            banned_until: match ban {
                BanEnd::Never => None,
                BanEnd::Later => Some(now() + Duration::hours(1)),
                BanEnd::Passed => Some(now() - Duration::hours(1)),
            },
        })
}

/// Which membership a moderation command targets.
#[derive(Debug, Clone, Copy)]
enum TargetChoice {
    None,
    Own,
    Other,
}

fn situation(is_admin: impl Strategy<Value = bool>) -> impl Strategy<Value = Situation> {
    (
        is_admin,
        select(Visibility::ALL),
        select(JoinPolicy::ALL),
        prop::option::of(prop_oneof![
            3 => membership_of(ACTOR),
            1 => membership_of(OTHER),
        ]),
        select(&[TargetChoice::None, TargetChoice::Own, TargetChoice::Other][..]),
        membership_of(OTHER),
        0u64..3,
        any::<bool>(),
    )
        .prop_map(
            |(is_admin, visibility, join_policy, membership, target, other, owners, locked)| {
                let target = match target {
                    TargetChoice::None => None,
                    TargetChoice::Own => membership.clone(),
                    TargetChoice::Other => Some(other),
                };
                Situation {
                    actor: Actor {
                        user_id: ACTOR,
                        is_admin,
                    },
                    group: Group {
                        id: GROUP,
                        slug: "g".into(),
                        name: "G".into(),
                        description: String::new(),
                        visibility,
                        join_policy,
                        created_at: now() - Duration::days(60),
                    },
                    membership,
                    target,
                    owner_count: owners,
                    thread_locked: locked,
                }
            },
        )
}

/// Content the actor wrote: writing to one's own content is where an author check could leak.
struct OwnContent {
    thread: Thread,
    post: Post,
    revision: PostRevision,
    presentation: Presentation,
}

fn own_content(locked: bool) -> OwnContent {
    let thread = Thread {
        id: ThreadId::from_uuid(Uuid::from_u128(10)),
        group_id: GROUP,
        author_id: ACTOR,
        title: "t".into(),
        created_at: now(),
        last_activity_at: now(),
        reply_count: 0,
        is_pinned: false,
        is_locked: locked,
        answer_id: None,
    };
    let post = Post {
        id: PostId::from_uuid(Uuid::from_u128(11)),
        thread_id: thread.id,
        group_id: GROUP,
        author_id: ACTOR,
        body: Some("b".into()),
        body_html: Some("<p>b</p>".into()),
        reply_to: None,
        created_at: now(),
        edited_at: None,
        edited_by: ACTOR,
        deleted_at: None,
    };
    let revision = PostRevision {
        id: RevisionId::from_uuid(Uuid::from_u128(12)),
        post_id: post.id,
        group_id: GROUP,
        body: "a".into(),
        editor_id: ACTOR,
        created_at: now(),
        redacted_at: None,
    };
    let presentation = Presentation {
        id: PresentationId::from_uuid(Uuid::from_u128(13)),
        group_id: GROUP,
        thread_id: Some(thread.id),
        uploader_id: ACTOR,
        title: "p".into(),
        description: String::new(),
        speakers: Vec::new(),
        event_date: None,
        recording_url: Some("https://example.org/r".into()),
        file: None,
        created_at: now(),
    };
    OwnContent {
        thread,
        post,
        revision,
        presentation,
    }
}

fn own_membership() -> Membership {
    Membership {
        id: MembershipId::from_uuid(Uuid::from_u128(20)),
        group_id: GROUP,
        user_id: ACTOR,
        role: Role::Member,
        state: MembershipState::Active,
        application: None,
        created_at: now(),
        decided_at: Some(now()),
        decided_by: None,
        banned_until: None,
    }
}

fn body() -> PostBody {
    PostBody::parse("a reply").expect("valid body")
}

fn new_presentation() -> NewPresentation {
    NewPresentation {
        title: PresentationTitle::parse("Slides").expect("valid title"),
        description: Description::parse("").expect("valid description"),
        speakers: Vec::new(),
        event_date: None,
        recording_url: Some(RecordingUrl::parse("https://example.org/r").expect("valid URL")),
    }
}

fn reason() -> Option<Reason> {
    Some(Reason::parse("because").expect("valid reason"))
}

/// Every content command the actor could try, by name, with whether it was allowed.
fn content_commands(s: &Situation) -> Vec<(&'static str, bool)> {
    let scope = s.scope();
    let own = own_content(s.thread_locked);
    let title = ThreadTitle::parse("A thread").expect("valid title");
    let mut results = vec![
        (
            "startThread",
            content::start_thread(&scope, title, body()).is_ok(),
        ),
        (
            "postReply",
            content::reply(
                &scope,
                &own.thread,
                Some(own.post.id),
                body(),
                Some(&own.post),
            )
            .is_ok(),
        ),
        (
            "editPost (own)",
            content::edit(&scope, &own.post, body()).is_ok(),
        ),
        (
            "deletePost (own)",
            content::delete(&scope, &own.post, reason()).is_ok(),
        ),
        (
            "redactRevision",
            content::redact(&scope, &own.post, &own.revision, reason()).is_ok(),
        ),
        (
            "markAnswer (own thread)",
            content::mark_answer(&scope, &own.thread, Some(&own.post)).is_ok(),
        ),
        (
            "addReaction",
            content::check_react(&scope, &own.post).is_ok(),
        ),
        (
            "sharePresentation",
            content::share(&scope, Some(&own.thread), new_presentation(), None).is_ok(),
        ),
        (
            "deletePresentation (own)",
            content::delete_presentation(&scope, &own.presentation).is_ok(),
        ),
    ];
    for flag in [
        ThreadFlag::Pin,
        ThreadFlag::Unpin,
        ThreadFlag::Lock,
        ThreadFlag::Unlock,
    ] {
        results.push((
            "pin/unpin/lock/unlock",
            content::flag(&scope, &own.thread, flag).is_ok(),
        ));
    }
    results
}

/// Every moderation command, aimed at the generated target, with whether it was allowed.
fn moderation_commands(s: &Situation) -> Vec<(&'static str, bool)> {
    let ctx = s.context();
    let target_id = s
        .target
        .as_ref()
        .map_or(MembershipId::from_uuid(Uuid::from_u128(99)), |m| m.id);
    let target_user = s.target.as_ref().map_or(OTHER, |m| m.user_id);
    let commands = [
        (
            "approveMembership",
            Command::Approve {
                membership: target_id,
                reason: reason(),
            },
        ),
        (
            "rejectMembership",
            Command::Reject {
                membership: target_id,
                reason: reason(),
            },
        ),
        (
            "removeMember",
            Command::Remove {
                membership: target_id,
                reason: reason(),
            },
        ),
        (
            "inviteMember",
            Command::Invite {
                group: GROUP,
                user: target_user,
            },
        ),
        (
            "banMember",
            Command::Ban {
                group: GROUP,
                user: target_user,
                until: None,
                reason: reason(),
            },
        ),
        (
            "unbanMember",
            Command::Unban {
                group: GROUP,
                user: target_user,
            },
        ),
        (
            "setMemberRole (owner)",
            Command::SetRole {
                membership: target_id,
                role: Role::Owner,
            },
        ),
        (
            "setMemberRole (moderator)",
            Command::SetRole {
                membership: target_id,
                role: Role::Moderator,
            },
        ),
    ];
    let mut results: Vec<(&'static str, bool)> = commands
        .into_iter()
        .map(|(name, command)| (name, membership::decide(&ctx, command).is_ok()))
        .collect();
    let changes = GroupChanges {
        join_policy: Some(JoinPolicy::Open),
        ..GroupChanges::default()
    };
    results.push((
        "updateGroup",
        membership::update_group(s.actor, s.membership.as_ref(), &s.group, changes, now()).is_ok(),
    ));
    results
}

fn granted(results: &[(&'static str, bool)]) -> Vec<&'static str> {
    results
        .iter()
        .filter(|(_, ok)| *ok)
        .map(|(name, _)| *name)
        .collect()
}

proptest! {
    #![proptest_config(config(256))]

    /// Property 1.
    #[test]
    fn standing_follows_the_own_membership(s in situation(Just(false))) {
        let expected = match s.own() {
            None => Standing::Outsider,
            Some(_) if s.is_banned() => Standing::Banned,
            Some(m) => match m.state {
                MembershipState::Active => Standing::Active(m.role),
                MembershipState::Pending => Standing::Pending,
                MembershipState::Invited => Standing::Invited,
                MembershipState::Banned => Standing::Outsider,
            },
        };
        prop_assert_eq!(s.standing(), expected);
        prop_assert_eq!(Standing::of(None, s.membership.as_ref(), now()), Standing::Anonymous);
    }

    /// Property 2.
    #[test]
    fn banned_users_and_non_members_are_granted_no_write(
        s in situation(Just(false)).prop_filter("not an active member", |s| !s.is_active_member())
    ) {
        let standing = s.standing();
        let thread = own_content(s.thread_locked).thread;
        for (name, allowed) in [
            ("can_post", policy::can_post(standing)),
            ("can_moderate", policy::can_moderate(standing)),
            ("can_administer", policy::can_administer(standing)),
            ("is_author_or_moderator", policy::is_author_or_moderator(Some(s.actor), standing, ACTOR)),
            ("can_reply", content::can_reply(standing, s.group.visibility, &thread)),
        ] {
            prop_assert!(!allowed, "{} granted to {:?}", name, standing);
        }
        let content = granted(&content_commands(&s));
        prop_assert!(content.is_empty(), "{:?} granted to {:?}", content, standing);
        let moderation = granted(&moderation_commands(&s));
        prop_assert!(moderation.is_empty(), "{:?} granted to {:?}", moderation, standing);
        if s.is_banned() {
            let join = membership::decide(&s.context(), Command::Join { group: GROUP, application: None });
            // FORBIDDEN, or NOT_FOUND where the group is SECRET and so not there for them.
            prop_assert!(
                matches!(join, Err(DomainError::Forbidden(_) | DomainError::NotFound)),
                "{:?}",
                join
            );
        }
    }

    /// Anonymous viewers hold no write predicate in any group.
    #[test]
    fn anonymous_viewers_are_granted_no_write(s in situation(Just(false))) {
        let standing = Standing::of(None, s.membership.as_ref(), now());
        let thread = own_content(s.thread_locked).thread;
        prop_assert!(!policy::can_post(standing));
        prop_assert!(!policy::can_moderate(standing));
        prop_assert!(!policy::can_administer(standing));
        prop_assert!(!policy::is_author_or_moderator(None, standing, ACTOR));
        prop_assert!(!content::can_reply(standing, s.group.visibility, &thread));
    }

    /// Property 3.
    #[test]
    fn only_active_moderators_moderate_and_only_active_owners_administer(s in situation(Just(false))) {
        let role = s.active_role();
        let standing = s.standing();
        prop_assert_eq!(
            policy::can_moderate(standing),
            matches!(role, Some(Role::Moderator | Role::Owner))
        );
        prop_assert_eq!(policy::can_administer(standing), role == Some(Role::Owner));
        if !matches!(role, Some(Role::Moderator | Role::Owner)) {
            let scope = s.scope();
            let own = own_content(s.thread_locked);
            prop_assert!(content::redact(&scope, &own.post, &own.revision, None).is_err());
            prop_assert!(content::flag(&scope, &own.thread, ThreadFlag::Lock).is_err());
            let moderation = granted(&moderation_commands(&s));
            prop_assert!(moderation.is_empty(), "{:?} granted to {:?}", moderation, standing);
        }
    }

    /// Property 4, members' side.
    #[test]
    fn active_members_write(mut s in situation(Just(false)), role in select(Role::ALL)) {
        s.membership = Some(Membership {
            role,
            state: MembershipState::Active,
            banned_until: None,
            user_id: ACTOR,
            ..own_membership()
        });
        prop_assert!(s.is_active_member());
        let scope = s.scope();
        let own = own_content(false);
        let title = ThreadTitle::parse("A thread").expect("valid title");
        prop_assert!(content::start_thread(&scope, title, body()).is_ok());
        prop_assert!(content::reply(&scope, &own.thread, None, body(), None).is_ok());
        prop_assert!(content::check_react(&scope, &own.post).is_ok());
        prop_assert!(content::share(&scope, None, new_presentation(), None).is_ok());
    }

    /// Property 4, site admins' side: they write and moderate in any group, member or not.
    #[test]
    fn site_admins_write_and_moderate_anywhere(s in situation(Just(true))) {
        let standing = s.standing();
        prop_assert_eq!(standing, Standing::Admin);
        let scope = s.scope();
        let own = own_content(s.thread_locked);
        let title = ThreadTitle::parse("A thread").expect("valid title");
        prop_assert!(content::start_thread(&scope, title, body()).is_ok());
        prop_assert!(content::reply(&scope, &own.thread, None, body(), None).is_ok());
        prop_assert!(content::flag(&scope, &own.thread, ThreadFlag::Pin).is_ok());
        prop_assert!(policy::can_administer(standing));
    }
}
