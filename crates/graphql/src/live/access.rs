//! Whether a subscriber may still hear a group's events.
//!
//! The check runs at subscribe time, and again whenever an event says the answer may have
//! changed: the subscriber's membership of the group, their sessions or site role, or the
//! group's settings. Those events reach a subscription in commit order with its content events,
//! so a reply committed after a removal is never handed to the removed member: the removal's
//! event comes first and ends the subscription.

use chrono::Utc;
use convene_domain::ids::GroupId;
use convene_domain::policy::{self, Standing};
use convene_domain::{Actor, DomainError, DomainResult, Event, Topic, User};

use crate::Services;
use crate::context::Viewer;

/// What the subscriber must be allowed to do in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Read,
    Moderate,
}

pub(crate) struct Access {
    services: Services,
    user: Option<User>,
    /// The hash of the session token the connection authenticated with.
    token_hash: Option<[u8; 32]>,
    group: GroupId,
    need: Need,
}

impl Access {
    pub(crate) fn new(
        services: Services,
        viewer: &Viewer,
        token_hash: Option<[u8; 32]>,
        group: GroupId,
        need: Need,
    ) -> Self {
        Self {
            services,
            user: viewer.user.clone(),
            token_hash,
            group,
            need,
        }
    }

    /// The topics whose events may change the answer.
    pub(crate) fn topics(&self) -> impl Iterator<Item = Topic> + use<> {
        let user = self.user.as_ref().map(|u| Topic::User(u.id));
        std::iter::once(Topic::Access(self.group)).chain(user)
    }

    /// At subscribe time: `NOT_FOUND` unless the viewer may read the group, `FORBIDDEN` if
    /// they may read it but not do what the subscription needs.
    pub(crate) async fn admit(&self) -> DomainResult<()> {
        let (read, moderate) = self.decide().await?;
        match (read, self.need) {
            (false, _) => Err(DomainError::NotFound),
            (true, Need::Moderate) if !moderate => Err(DomainError::Forbidden(
                "only the group's moderators may follow its memberships",
            )),
            _ => Ok(()),
        }
    }

    /// Whether `event` may change the answer.
    pub(crate) fn affected_by(&self, event: &Event) -> bool {
        let me = self.user.as_ref().map(|u| u.id);
        match *event {
            Event::AccountChanged { user } => Some(user) == me,
            Event::MembershipChanged { group, user, .. } => group == self.group && Some(user) == me,
            Event::GroupUpdated { group } => group == self.group,
            Event::ReplyAdded { .. } | Event::ThreadAdded { .. } | Event::PostUpdated { .. } => {
                false
            }
        }
    }

    /// Checks again, from the database. `false`: the session ended, or the viewer may no
    /// longer do what the subscription needs.
    pub(crate) async fn still_allowed(&mut self) -> DomainResult<bool> {
        if let Some(hash) = &self.token_hash {
            match self
                .services
                .accounts
                .session_by_token_hash(hash, Utc::now())
                .await?
            {
                Some((_, user)) => self.user = Some(user),
                None => return Ok(false),
            }
        }
        let (read, moderate) = self.decide().await?;
        Ok(read && (self.need == Need::Read || moderate))
    }

    /// Whether the viewer may read the group, and moderate it.
    async fn decide(&self) -> DomainResult<(bool, bool)> {
        let viewer = self.user.as_ref().map(|u| u.id);
        let found = self
            .services
            .groups
            .groups_with_memberships(&[self.group], viewer)
            .await?
            .pop();
        let Some((group, membership)) = found else {
            return Ok((false, false));
        };
        let standing = Standing::of(
            self.user.as_ref().map(Actor::from),
            membership.as_ref(),
            Utc::now(),
        );
        Ok((
            policy::can_read_group(standing, group.visibility),
            policy::can_moderate(standing),
        ))
    }
}
