use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use convene_domain::User;
use futures_util::FutureExt;

use super::{GroupObject, SessionObject};
use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult};
use crate::loaders::load_err;

/// A practitioner with an account.
pub(crate) struct UserObject(pub User);

#[Object(name = "User")]
impl UserObject {
    pub(crate) async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn handle(&self) -> &str {
        self.0.handle.as_str()
    }

    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    async fn bio(&self) -> Option<&str> {
        self.0.bio.as_deref()
    }

    async fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The email address; only on the viewer's own user, null elsewhere.
    async fn email(&self, ctx: &Context<'_>) -> GqlResult<Option<&str>> {
        Ok(self.is_viewer(ctx)?.then(|| self.0.email.as_str()))
    }

    /// Whether this user is a site admin; only on the viewer's own user, null elsewhere.
    async fn is_admin(&self, ctx: &Context<'_>) -> GqlResult<Option<bool>> {
        Ok(self.is_viewer(ctx)?.then_some(self.0.is_admin))
    }

    /// The groups this user is an active member of, among those whose member list the viewer
    /// may read.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Conn<GroupObject>> {
        let request = PageArgs::new(first, after, last, before).request()?;
        let store = ctx.services()?.groups.clone();
        let viewer = ctx.viewer()?.actor();
        let user = self.0.id;
        let page = store.user_groups(user, viewer, &request).await.gql()?;
        let groups = ctx
            .loaders()?
            .groups
            .load_many(page.items.iter().map(|m| m.group_id))
            .await
            .map_err(load_err)?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_user_groups(user, viewer).await }.boxed()
        });
        let page = page.map(|m| (m.id, groups.get(&m.group_id).map(|(g, _)| g.clone())));
        let page = convene_domain::Page {
            items: page
                .items
                .into_iter()
                .filter_map(|(id, group)| group.map(|g| (id, g)))
                .collect(),
            has_next: page.has_next,
            has_previous: page.has_previous,
        };
        Ok(connection(
            page,
            total,
            |(id, _)| id.as_uuid(),
            |(_, g)| GroupObject(g),
        ))
    }

    /// The viewer's signed-in sessions; only on the viewer's own user, null elsewhere.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<Option<Conn<SessionObject>>> {
        if !self.is_viewer(ctx)? {
            return Ok(None);
        }
        let request = PageArgs::new(first, after, last, before).request()?;
        let current = ctx.viewer()?.session;
        let store = ctx.services()?.accounts.clone();
        let user = self.0.id;
        let now = Utc::now();
        let page = store.sessions(user, now, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let store = store.clone();
            async move { store.count_sessions(user, now).await }.boxed()
        });
        Ok(Some(connection(
            page,
            total,
            |s| s.id.as_uuid(),
            |s| {
                let is_current = current == Some(s.id);
                SessionObject {
                    session: s,
                    is_current,
                }
            },
        )))
    }
}

impl UserObject {
    fn is_viewer(&self, ctx: &Context<'_>) -> GqlResult<bool> {
        Ok(ctx
            .viewer()?
            .user
            .as_ref()
            .is_some_and(|v| v.id == self.0.id))
    }
}
