use convene_domain::DomainError;
use sea_orm::{DbErr, SqlErr};

/// Unique constraints and the conflict each one means. SQLite names the columns of a violated
/// index, PostgreSQL the index: both are matched.
const UNIQUE_CONSTRAINTS: &[(&str, &str, &str)] = &[
    ("users_handle_key", "users.handle", "the handle is taken"),
    (
        "users_email_key",
        "users.email_normalized",
        "the email is already registered",
    ),
    ("groups_slug_key", "groups.slug", "the slug is taken"),
    (
        "memberships_group_user_key",
        "memberships.group_id, memberships.user_id",
        "the user already has a membership in this group",
    ),
    (
        "idempotency_keys_pkey",
        "idempotency_keys.scope, idempotency_keys.key",
        "the idempotency key is already in use",
    ),
];

/// Maps a storage error to the domain: a known unique violation is a `Conflict`, anything
/// else is internal.
pub(crate) fn db_err(err: DbErr) -> DomainError {
    if let Some(SqlErr::UniqueConstraintViolation(detail)) = err.sql_err() {
        for (constraint, columns, message) in UNIQUE_CONSTRAINTS {
            if detail.contains(constraint) || detail.contains(columns) {
                return DomainError::Conflict(message);
            }
        }
    }
    DomainError::internal(err)
}

pub(crate) trait DbResultExt<T> {
    fn dom(self) -> Result<T, DomainError>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn dom(self) -> Result<T, DomainError> {
        self.map_err(db_err)
    }
}
