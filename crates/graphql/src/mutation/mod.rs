//! Mutations: one `input` argument, one `…Payload` result, `clientMutationId` echoed.

mod accounts;
mod content;
mod groups;

use std::str::FromStr;

use async_graphql::{ID, MergedObject};
use convene_domain::DomainError;
use convene_domain::ids::IdError;

use crate::error::{DomainResultExt, GqlResult};

#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountMutations,
    groups::GroupMutations,
    content::ContentMutations,
);

/// Declares a payload type: `clientMutationId` plus the named fields.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $name {
            pub client_mutation_id: Option<String>,
            $(pub $field: $ty,)*
        }
    };
}
pub(crate) use payload;

/// Parses a global ID argument of the expected kind: malformed is `BAD_USER_INPUT`, another
/// kind is `NOT_FOUND`.
pub(crate) fn parse_id<T: FromStr<Err = IdError>>(raw: &ID) -> GqlResult<T> {
    raw.parse::<T>().map_err(DomainError::from).gql()
}

/// Parses an optional input value.
pub(crate) fn parse_opt<T, E: Into<DomainError>>(
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> GqlResult<Option<T>> {
    raw.map(parse).transpose().map_err(Into::into).gql()
}

/// Parses a required input value.
pub(crate) fn parse<T, E: Into<DomainError>>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> GqlResult<T> {
    parse(raw).map_err(Into::into).gql()
}
