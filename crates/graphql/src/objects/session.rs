use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::Session;

/// A device where the viewer is signed in.
pub(crate) struct SessionObject {
    pub session: Session,
    pub is_current: bool,
}

#[Object(name = "Session")]
impl SessionObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.session.id.to_string())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.session.created_at
    }

    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.session.last_seen_at
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.session.expires_at
    }

    async fn user_agent(&self) -> Option<&str> {
        self.session.user_agent.as_deref()
    }

    /// Whether this is the session the request came with.
    async fn is_current(&self) -> bool {
        self.is_current
    }
}
