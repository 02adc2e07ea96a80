//! Validated values: each is parsed once at the edge and cannot hold an invalid string.

use std::fmt;

use crate::error::ValidationError;

macro_rules! string_value {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
}

string_value! {
    /// A user's handle: lowercase, `^[a-z0-9][a-z0-9_-]{2,29}$`. Input is lowercased first,
    /// so handles are unique ignoring case.
    Handle
}

impl Handle {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let handle = raw.to_lowercase();
        let bytes = handle.as_bytes();
        let valid = (3..=30).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(handle))
        } else {
            Err(ValidationError::new(
                "handle",
                "must be 3 to 30 characters of a-z, 0-9, '_' or '-', starting with a letter or digit",
            ))
        }
    }
}

string_value! {
    /// An email address as the user typed it (trimmed). Compared by [`Email::normalized`].
    Email
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim();
        let invalid = || ValidationError::new("email", "must be a valid email address");
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.');
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email.to_owned()))
    }

    /// The form compared for uniqueness: emails are equal ignoring case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A plaintext password, 12 to 128 characters. Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if (12..=128).contains(&chars) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(field, "must be 12 to 128 characters"))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

string_value! {
    /// A group's URL name: `^[a-z0-9][a-z0-9-]{1,62}$`, unique.
    GroupSlug
}

impl GroupSlug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let bytes = raw.as_bytes();
        let valid = (2..=63).contains(&bytes.len())
            && bytes[0].is_ascii_alphanumeric()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::new(
                "slug",
                "must be 2 to 63 characters of a-z, 0-9 or '-', starting with a letter or digit",
            ))
        }
    }
}

/// Parses free text that must hold between `min` and `max` characters (after trimming when
/// `min` is positive, so that a blank name is refused).
fn bounded_text(
    raw: &str,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let text = if min > 0 { raw.trim() } else { raw };
    let chars = text.chars().count();
    if chars < min || chars > max {
        let message = if min > 0 {
            format!("must be {min} to {max} characters")
        } else {
            format!("must be at most {max} characters")
        };
        return Err(ValidationError::new(field, message));
    }
    Ok(text.to_owned())
}

macro_rules! bounded_value {
    ($(#[$meta:meta])* $name:ident, $field:literal, $min:literal, $max:literal) => {
        string_value! { $(#[$meta])* $name }

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                bounded_text(raw, $field, $min, $max).map(Self)
            }
        }
    };
}

bounded_value!(
    /// How a user is shown: 1 to 80 characters.
    DisplayName, "displayName", 1, 80
);
bounded_value!(
    /// A group's name: 1 to 100 characters.
    GroupName, "name", 1, 100
);
bounded_value!(
    /// A group's description: at most 4,000 characters.
    Description, "description", 0, 4000
);
bounded_value!(
    /// Why a moderator acted: at most 1,000 characters.
    Reason, "reason", 0, 1000
);
bounded_value!(
    /// What an applicant tells the moderators: at most 4,000 characters.
    Application, "application", 0, 4000
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_lowercased_and_checked() {
        assert_eq!(
            Handle::parse("Ana_Lima-2").map(Handle::into_inner),
            Ok("ana_lima-2".into())
        );
        for bad in [
            "ab",
            "_abc",
            "-abc",
            "a b c",
            "abc!",
            "é-abc",
            &"a".repeat(31),
            "",
        ] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
        assert!(Handle::parse(&"a".repeat(30)).is_ok());
    }

    #[test]
    fn emails_need_one_at_and_a_dotted_domain() {
        assert!(Email::parse("ana@example.org").is_ok());
        for bad in [
            "ana",
            "ana@example",
            "@example.org",
            "a@b@example.org",
            "ana@.org",
            "a na@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
        assert_eq!(
            Email::parse("Ana@Example.ORG").map(|e| e.normalized()),
            Ok("ana@example.org".into())
        );
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(Password::parse("short", "password").is_err());
        assert!(Password::parse(&"é".repeat(12), "password").is_ok());
        assert!(Password::parse(&"x".repeat(128), "password").is_ok());
        assert!(Password::parse(&"x".repeat(129), "password").is_err());
        assert_eq!(
            format!("{:?}", Password::parse(&"s".repeat(12), "p")),
            "Ok(Password(..))"
        );
    }

    #[test]
    fn slugs_and_bounded_texts() {
        assert!(GroupSlug::parse("counter-trafficking").is_ok());
        for bad in ["a", "-ab", "Counter", "a_b", &"a".repeat(64)] {
            assert!(GroupSlug::parse(bad).is_err(), "{bad}");
        }
        assert!(GroupName::parse("   ").is_err());
        assert_eq!(
            GroupName::parse("  Counter-Trafficking ").map(GroupName::into_inner),
            Ok("Counter-Trafficking".into())
        );
        assert!(GroupName::parse(&"n".repeat(101)).is_err());
        assert!(Description::parse("").is_ok());
        assert!(Description::parse(&"d".repeat(4001)).is_err());
        assert!(Reason::parse(&"r".repeat(1001)).is_err());
        assert!(DisplayName::parse(&"名".repeat(80)).is_ok());
    }
}

bounded_value!(
    /// A thread's title: 1 to 200 characters.
    ThreadTitle, "title", 1, 200
);
bounded_value!(
    /// A presentation's title: 1 to 200 characters.
    PresentationTitle, "title", 1, 200
);
bounded_value!(
    /// A speaker's name: 1 to 200 characters.
    SpeakerName, "speakers", 1, 200
);

string_value! {
    /// A post's markdown: 1 to 65,536 bytes, not blank.
    PostBody
}

impl PostBody {
    pub const MAX_BYTES: usize = 65_536;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.trim().is_empty() || raw.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(
                "body",
                "must be 1 to 65,536 bytes of text",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

string_value! {
    /// A link to a recording: an absolute `http` or `https` URL of at most 2,000 characters.
    RecordingUrl
}

impl RecordingUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let url = raw.trim();
        let invalid = || ValidationError::new("recordingUrl", "must be an http or https URL");
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(invalid)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty()
            || url.len() > 2000
            || url.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid());
        }
        Ok(Self(url.to_owned()))
    }
}

#[cfg(test)]
mod content_tests {
    use super::*;

    #[test]
    fn bodies_are_bounded_in_bytes_and_not_blank() {
        assert!(PostBody::parse("hello").is_ok());
        assert!(PostBody::parse(" \n ").is_err());
        assert!(PostBody::parse(&"x".repeat(65_536)).is_ok());
        assert!(PostBody::parse(&"x".repeat(65_537)).is_err());
        assert!(
            PostBody::parse(&"é".repeat(32_769)).is_err(),
            "bytes, not characters"
        );
    }

    #[test]
    fn recording_urls_are_http_or_https() {
        for good in [
            "https://example.org/webinar",
            "http://media.example.org:8080/a?b=c#t=10",
            "HTTPS://EXAMPLE.ORG",
        ] {
            assert!(RecordingUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "ftp://example.org/a",
            "data:text/html,x",
            "https://",
            "//example.org",
            "https://exa mple.org",
            "example.org",
        ] {
            assert!(RecordingUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles_are_bounded() {
        assert!(ThreadTitle::parse("Unveiling research").is_ok());
        assert!(ThreadTitle::parse("").is_err());
        assert!(ThreadTitle::parse(&"t".repeat(201)).is_err());
    }
}
