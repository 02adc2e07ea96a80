//! What live subscribers hear about: one event per committed change, carrying IDs only.
//!
//! Events cross process boundaries (PostgreSQL `NOTIFY`), so they have a compact text form:
//! a kind word and the IDs in simple hex, far below `NOTIFY`'s 8000-byte payload limit.
//! Subscribers load what they show from the database, through the same permission checks as
//! any query.

use std::fmt;

use uuid::Uuid;

use crate::ids::{GroupId, MembershipId, PostId, ThreadId, UserId};

/// A committed change that a live subscription may need to hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// A reply was added to a thread.
    ReplyAdded {
        group: GroupId,
        thread: ThreadId,
        post: PostId,
    },
    /// A thread was started in a group.
    ThreadAdded { group: GroupId, thread: ThreadId },
    /// A post was edited, deleted, redacted, reacted to, or marked or unmarked as the answer.
    PostUpdated {
        group: GroupId,
        thread: ThreadId,
        post: PostId,
    },
    /// A user's membership of a group was created or changed, or (`membership: None`) removed.
    MembershipChanged {
        group: GroupId,
        user: UserId,
        membership: Option<MembershipId>,
    },
    /// A group's settings changed, so who may read it may have changed.
    GroupUpdated { group: GroupId },
    /// A user's sessions or site role changed: logout, revocation, password change, admin grant.
    AccountChanged { user: UserId },
}

/// Where an event is heard: the hub files subscriptions under these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Replies and post updates of one thread.
    Thread(ThreadId),
    /// New threads and membership changes of one group.
    Group(GroupId),
    /// Changes of who may read one group: its settings.
    Access(GroupId),
    /// Changes of one user's access: their memberships, sessions and role.
    User(UserId),
}

impl Event {
    /// The topics whose subscribers hear this event.
    pub fn topics(&self) -> Topics {
        match *self {
            Event::ReplyAdded { thread, .. } | Event::PostUpdated { thread, .. } => {
                Topics::one(Topic::Thread(thread))
            }
            Event::ThreadAdded { group, .. } => Topics::one(Topic::Group(group)),
            Event::GroupUpdated { group } => Topics::one(Topic::Access(group)),
            Event::MembershipChanged { group, user, .. } => Topics {
                first: Topic::Group(group),
                second: Some(Topic::User(user)),
            },
            Event::AccountChanged { user } => Topics::one(Topic::User(user)),
        }
    }

    /// Parses the form [`Event`]'s `Display` writes.
    pub fn parse(raw: &str) -> Option<Event> {
        let mut words = raw.split(' ');
        let kind = words.next()?;
        let mut next = || words.next().and_then(|word| Uuid::try_parse(word).ok());
        let event = match kind {
            "reply" => Event::ReplyAdded {
                group: GroupId::from_uuid(next()?),
                thread: ThreadId::from_uuid(next()?),
                post: PostId::from_uuid(next()?),
            },
            "thread" => Event::ThreadAdded {
                group: GroupId::from_uuid(next()?),
                thread: ThreadId::from_uuid(next()?),
            },
            "post" => Event::PostUpdated {
                group: GroupId::from_uuid(next()?),
                thread: ThreadId::from_uuid(next()?),
                post: PostId::from_uuid(next()?),
            },
            "member" => Event::MembershipChanged {
                group: GroupId::from_uuid(next()?),
                user: UserId::from_uuid(next()?),
                membership: next().map(MembershipId::from_uuid),
            },
            "group" => Event::GroupUpdated {
                group: GroupId::from_uuid(next()?),
            },
            "account" => Event::AccountChanged {
                user: UserId::from_uuid(next()?),
            },
            _ => return None,
        };
        words.next().is_none().then_some(event)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |id: Uuid| id.simple();
        match *self {
            Event::ReplyAdded {
                group,
                thread,
                post,
            } => write!(
                f,
                "reply {} {} {}",
                hex(group.as_uuid()),
                hex(thread.as_uuid()),
                hex(post.as_uuid())
            ),
            Event::ThreadAdded { group, thread } => write!(
                f,
                "thread {} {}",
                hex(group.as_uuid()),
                hex(thread.as_uuid())
            ),
            Event::PostUpdated {
                group,
                thread,
                post,
            } => write!(
                f,
                "post {} {} {}",
                hex(group.as_uuid()),
                hex(thread.as_uuid()),
                hex(post.as_uuid())
            ),
            Event::MembershipChanged {
                group,
                user,
                membership,
            } => {
                write!(f, "member {} {}", hex(group.as_uuid()), hex(user.as_uuid()))?;
                match membership {
                    Some(id) => write!(f, " {}", hex(id.as_uuid())),
                    None => Ok(()),
                }
            }
            Event::GroupUpdated { group } => write!(f, "group {}", hex(group.as_uuid())),
            Event::AccountChanged { user } => write!(f, "account {}", hex(user.as_uuid())),
        }
    }
}

/// The one or two topics of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topics {
    first: Topic,
    second: Option<Topic>,
}

impl Topics {
    fn one(topic: Topic) -> Self {
        Self {
            first: topic,
            second: None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Topic> + use<> {
        std::iter::once(self.first).chain(self.second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Uuid {
        Uuid::now_v7()
    }

    fn all_kinds() -> Vec<Event> {
        vec![
            Event::ReplyAdded {
                group: GroupId::from_uuid(id()),
                thread: ThreadId::from_uuid(id()),
                post: PostId::from_uuid(id()),
            },
            Event::ThreadAdded {
                group: GroupId::from_uuid(id()),
                thread: ThreadId::from_uuid(id()),
            },
            Event::PostUpdated {
                group: GroupId::from_uuid(id()),
                thread: ThreadId::from_uuid(id()),
                post: PostId::from_uuid(id()),
            },
            Event::MembershipChanged {
                group: GroupId::from_uuid(id()),
                user: UserId::from_uuid(id()),
                membership: Some(MembershipId::from_uuid(id())),
            },
            Event::MembershipChanged {
                group: GroupId::from_uuid(id()),
                user: UserId::from_uuid(id()),
                membership: None,
            },
            Event::GroupUpdated {
                group: GroupId::from_uuid(id()),
            },
            Event::AccountChanged {
                user: UserId::from_uuid(id()),
            },
        ]
    }

    #[test]
    fn every_event_survives_its_text_form() {
        for event in all_kinds() {
            let text = event.to_string();
            assert!(text.len() < 200, "{text}");
            assert_eq!(Event::parse(&text), Some(event), "{text}");
        }
    }

    #[test]
    fn damaged_text_is_refused() {
        let text = all_kinds()[0].to_string();
        for damaged in [
            String::new(),
            "reply".to_owned(),
            text.replace("reply", "replies"),
            format!("{text} extra"),
            text[..text.len() - 1].to_owned(),
        ] {
            assert_eq!(Event::parse(&damaged), None, "{damaged:?}");
        }
    }

    #[test]
    fn a_membership_change_reaches_the_group_and_the_member() {
        let group = GroupId::from_uuid(id());
        let user = UserId::from_uuid(id());
        let event = Event::MembershipChanged {
            group,
            user,
            membership: None,
        };
        let topics: Vec<_> = event.topics().iter().collect();
        assert_eq!(topics, [Topic::Group(group), Topic::User(user)]);
    }
}
