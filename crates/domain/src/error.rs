use std::fmt;

/// A rejected input value: which field, and a message safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Every failure an operation can report. The GraphQL layer maps each variant to one
/// stable `extensions.code`; the messages of the client-facing variants never contain an
/// identifier the client asked for, so an invisible object and a missing one look alike.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No valid session, or wrong credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// The viewer can see the object but may not do this to it.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The object does not exist, or the viewer may not know that it exists.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The request contradicts the current state (a duplicate, the last owner leaving…).
    #[error("{0}")]
    Conflict(&'static str),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// Anything unexpected: logged in full by the outer layer, sent as `INTERNAL`.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn internal(err: impl fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(ValidationError::new(field, message))
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
