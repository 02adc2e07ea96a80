//! Newtype IDs and the global ID format `<prefix>_<32 lowercase hex>` (a UUIDv7, simple form).

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::ValidationError;

macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident => $prefix:literal, $variant:ident;)*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(Uuid);

            impl $name {
                pub const PREFIX: &'static str = $prefix;

                /// A fresh, time-ordered ID.
                pub fn generate() -> Self {
                    Self(Uuid::now_v7())
                }

                pub const fn from_uuid(uuid: Uuid) -> Self {
                    Self(uuid)
                }

                pub const fn as_uuid(&self) -> Uuid {
                    self.0
                }
            }

            impl fmt::Display for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write!(f, "{}_{}", $prefix, self.0.simple())
                }
            }

            impl FromStr for $name {
                type Err = IdError;

                /// Parses a global ID that must name this kind of object.
                fn from_str(raw: &str) -> Result<Self, IdError> {
                    match GlobalId::parse(raw)? {
                        GlobalId::$variant(id) => Ok(id),
                        _ => Err(IdError::WrongKind),
                    }
                }
            }

            impl From<$name> for GlobalId {
                fn from(id: $name) -> Self {
                    GlobalId::$variant(id)
                }
            }
        )*

        /// Any object's ID, tagged with its kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum GlobalId {
            $($variant($name),)*
        }

        impl GlobalId {
            /// Parses `<prefix>_<32 lowercase hex>`.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let (prefix, hex) = raw.split_once('_').ok_or(IdError::Malformed)?;
                let uuid = parse_lower_hex(hex).ok_or(IdError::Malformed)?;
                match prefix {
                    $($prefix => Ok(GlobalId::$variant($name(uuid))),)*
                    _ => Err(IdError::Malformed),
                }
            }
        }

        impl fmt::Display for GlobalId {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(GlobalId::$variant(id) => id.fmt(f),)*
                }
            }
        }
    };
}

ids! {
    UserId => "usr", User;
    GroupId => "grp", Group;
    MembershipId => "mem", Membership;
    ThreadId => "thr", Thread;
    PostId => "pst", Post;
    RevisionId => "rev", Revision;
    PresentationId => "prs", Presentation;
    ReportId => "rpt", Report;
    NotificationId => "ntf", Notification;
    LogEntryId => "log", LogEntry;
    SessionId => "ses", Session;
}

/// Why a string is not an ID of the requested kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Not `<known prefix>_<32 lowercase hex>`: the client's mistake (`BAD_USER_INPUT`).
    Malformed,
    /// Well formed, but names another kind of object: it names nothing of this kind (`NOT_FOUND`).
    WrongKind,
}

impl From<IdError> for crate::DomainError {
    fn from(err: IdError) -> Self {
        match err {
            IdError::Malformed => ValidationError::new("id", "malformed ID").into(),
            IdError::WrongKind => crate::DomainError::NotFound,
        }
    }
}

fn parse_lower_hex(hex: &str) -> Option<Uuid> {
    if hex.len() != 32
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    Uuid::try_parse(hex).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let id = ThreadId::generate();
        let text = id.to_string();
        assert!(text.starts_with("thr_"));
        assert_eq!(text.len(), 36);
        assert_eq!(GlobalId::parse(&text), Ok(GlobalId::Thread(id)));
        assert_eq!(text.parse::<ThreadId>(), Ok(id));
    }

    #[test]
    fn rejects_malformed_ids() {
        let hex = Uuid::now_v7().simple().to_string();
        for raw in [
            String::new(),
            "usr".to_owned(),
            format!("xyz_{hex}"),
            format!("usr_{}", hex.to_uppercase()),
            format!("usr_{}", &hex[1..]),
            format!("usr_{hex}0"),
            format!("usr_{}g", &hex[1..]),
            format!("usr-{hex}"),
            format!("USR_{hex}"),
        ] {
            assert_eq!(GlobalId::parse(&raw), Err(IdError::Malformed), "{raw}");
        }
    }

    #[test]
    fn a_wrong_kind_is_not_malformed() {
        let group = GroupId::generate().to_string();
        assert_eq!(group.parse::<UserId>(), Err(IdError::WrongKind));
    }
}
