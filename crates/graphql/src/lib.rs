//! The GraphQL API of API.md: objects, resolvers, DataLoaders, and the mapping of domain
//! errors to stable `extensions.code` values.

mod connection;
mod context;
pub mod cursor;
mod error;
mod limits;
mod live;
mod loaders;
mod mutation;
mod objects;
mod query;
mod rate;

use std::sync::Arc;

use async_graphql::Schema;
use convene_domain::ports::{AccountStore, ContentStore, FileStore, GroupStore, PasswordHasher};

pub use context::{RequestInfo, SESSION_COOKIE, Viewer};
pub use error::{ErrorCode, error_response};
pub use limits::QueryLimits;
pub use live::{ConnectionQueue, Hub, LiveStats, connection_data};
pub use rate::{RateLimitSettings, RateLimits};

use crate::live::SubscriptionRoot;
use crate::mutation::MutationRoot;
use crate::query::QueryRoot;

pub type ConveneSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The ports the resolvers use, shared by every request.
#[derive(Clone)]
pub struct Services {
    pub accounts: Arc<dyn AccountStore>,
    pub groups: Arc<dyn GroupStore>,
    pub content: Arc<dyn ContentStore>,
    pub files: Arc<dyn FileStore>,
    pub hasher: Arc<dyn PasswordHasher>,
    /// This process's hub of live subscriptions.
    pub hub: Arc<Hub>,
    /// Whether session cookies carry `Secure` (the server is reached over TLS).
    pub secure_cookies: bool,
    /// Limits on logins, registrations and posts.
    pub rate_limits: Arc<RateLimits>,
}

/// Builds the schema with `services` available to every resolver, refusing documents beyond
/// `limits`.
pub fn build_schema(services: Services, limits: QueryLimits) -> ConveneSchema {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .data(services)
        .limit_depth(limits.depth)
        .limit_complexity(limits.complexity)
        .limit_recursive_depth(limits.recursive_depth)
        .limit_directives(limits.directives)
        .extension(error::ErrorCodes)
        .extension(rate::SlowRefusals(rate::REFUSAL_DELAY))
        .extension(limits::DocumentLimits(limits))
        .extension(loaders::FreshAfterMutations)
        .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot::default(), SubscriptionRoot)
        .finish()
        .sdl()
}

/// Attaches what one request needs: the viewer, request facts and fresh DataLoaders.
pub fn prepare_request(
    request: async_graphql::Request,
    services: &Services,
    viewer: Viewer,
    info: RequestInfo,
) -> async_graphql::Request {
    let loaders = loaders::Loaders::new(services, &viewer);
    request.data(viewer).data(info).data(loaders)
}
