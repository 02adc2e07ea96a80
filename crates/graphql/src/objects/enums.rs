use async_graphql::Enum;
use convene_domain::{
    JoinPolicy, MembershipState, ModerationAction, ReactionContent, Role, SubscriptionLevel,
    ThreadOrder, Visibility,
};

/// Declares a GraphQL enum mirroring a domain enum, with conversions both ways.
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $gql:ident $(as $name:literal)? <=> $domain:ident { $($variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        $(#[graphql(name = $name)])?
        pub(crate) enum $gql {
            $($variant,)*
        }

        impl From<$domain> for $gql {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => $gql::$variant,)*
                }
            }
        }

        impl From<$gql> for $domain {
            fn from(value: $gql) -> Self {
                match value {
                    $($gql::$variant => $domain::$variant,)*
                }
            }
        }
    };
}

mirror_enum! {
    /// Who may see a group and its content.
    GqlVisibility as "GroupVisibility" <=> Visibility { Public, Private, Secret }
}

mirror_enum! {
    /// How a user becomes a member.
    GqlJoinPolicy as "JoinPolicy" <=> JoinPolicy { Open, Request, Invite }
}

mirror_enum! {
    MemberRole <=> Role { Owner, Moderator, Member }
}

mirror_enum! {
    GqlMembershipState as "MembershipState" <=> MembershipState { Active, Pending, Invited, Banned }
}

mirror_enum! {
    /// What a moderator did.
    GqlModerationAction as "ModerationAction" <=> ModerationAction {
        MemberApproved,
        MemberRejected,
        MemberInvited,
        MemberRemoved,
        MemberBanned,
        MemberUnbanned,
        RoleChanged,
        ThreadPinned,
        ThreadUnpinned,
        ThreadLocked,
        ThreadUnlocked,
        PostDeleted,
        RevisionRedacted,
        PresentationDeleted,
        ReportResolved,
        GroupUpdated,
    }
}

/// Which groups `groups` lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum GroupMembershipFilter {
    /// Every group the viewer can see.
    #[default]
    All,
    /// Only groups where the viewer is an active member.
    Mine,
}

mirror_enum! {
    /// A reaction to a post.
    GqlReactionContent as "ReactionContent" <=> ReactionContent { ThumbsUp, Heart, Celebrate, Insightful, Question }
}

mirror_enum! {
    /// How closely the viewer follows a thread.
    GqlSubscriptionLevel as "SubscriptionLevel" <=> SubscriptionLevel { Watching, Tracking, Muted }
}

mirror_enum! {
    /// How a group's threads are listed; pinned threads always come first.
    GqlThreadOrder as "ThreadOrder" <=> ThreadOrder { LastActivity, Created }
}
