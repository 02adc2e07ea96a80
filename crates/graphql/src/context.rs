use async_graphql::Context;
use convene_domain::ids::SessionId;
use convene_domain::{Actor, DomainError, User};

use crate::Services;
use crate::error::GqlResult;
use crate::loaders::Loaders;

/// The cookie that carries the session token for browsers.
pub const SESSION_COOKIE: &str = "convene_session";

/// Who sent the request: a signed-in user and their session, or nobody.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user: Option<User>,
    pub session: Option<SessionId>,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Self::default()
    }

    pub fn actor(&self) -> Option<Actor> {
        self.user.as_ref().map(Actor::from)
    }
}

/// Facts about the HTTP request that some resolvers record.
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub user_agent: Option<String>,
    /// The client's address (see the server's `trusted_proxies`), for per-IP rate limits.
    pub client_ip: Option<std::net::IpAddr>,
}

/// Typed access to the request's context data.
pub(crate) trait Ctx {
    fn services(&self) -> GqlResult<&Services>;
    fn viewer(&self) -> GqlResult<&Viewer>;
    fn loaders(&self) -> GqlResult<&Loaders>;
    /// The signed-in user, or `UNAUTHENTICATED`.
    fn require_user(&self) -> GqlResult<(&User, SessionId)>;
}

impl Ctx for Context<'_> {
    fn services(&self) -> GqlResult<&Services> {
        self.data::<Services>().map_err(|_| missing("services"))
    }

    fn viewer(&self) -> GqlResult<&Viewer> {
        self.data::<Viewer>().map_err(|_| missing("viewer"))
    }

    fn loaders(&self) -> GqlResult<&Loaders> {
        // A request owns its loaders; a websocket connection shares its own between its
        // subscriptions.
        self.data_opt::<Loaders>()
            .or_else(|| {
                self.data_opt::<std::sync::Arc<Loaders>>()
                    .map(AsRef::as_ref)
            })
            .ok_or_else(|| missing("loaders"))
    }

    fn require_user(&self) -> GqlResult<(&User, SessionId)> {
        let viewer = self.viewer()?;
        match (&viewer.user, viewer.session) {
            (Some(user), Some(session)) => Ok((user, session)),
            _ => Err(crate::error::gql(DomainError::Unauthenticated)),
        }
    }
}

/// Request data the server failed to attach: a wiring bug, reported as `INTERNAL`.
fn missing(what: &str) -> async_graphql::Error {
    crate::error::gql(DomainError::Internal(format!(
        "request data missing: {what}"
    )))
}
