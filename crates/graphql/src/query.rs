use async_graphql::{Context, ID, Object};
use convene_domain::DomainError;
use convene_domain::policy;
use convene_domain::ports::GroupFilter;
use futures_util::FutureExt;

use crate::connection::{Conn, PageArgs, TotalCount, connection};
use crate::context::Ctx;
use crate::error::{DomainResultExt, GqlResult, gql};
use crate::objects::{
    GroupMembershipFilter, GroupObject, Node, UserObject, resolve_node, standing,
};

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user; null when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> GqlResult<Option<UserObject>> {
        Ok(ctx.viewer()?.user.clone().map(UserObject))
    }

    /// Any object by its global ID.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Node>> {
        resolve_node(ctx, &id).await.map(Some)
    }

    /// Objects by global ID, in the same order; null where an ID names nothing the viewer may see.
    #[graphql(complexity = "crate::limits::list_cost(ids.len(), child_complexity)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> GqlResult<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(gql(DomainError::invalid("ids", "at most 100 IDs")));
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            convene_domain::GlobalId::parse(id)
                .map_err(DomainError::from)
                .gql()?;
        }
        let resolved =
            futures_util::future::join_all(ids.iter().map(|id| resolve_node(ctx, id))).await;
        for node in resolved {
            match node {
                Ok(node) => nodes.push(Some(node)),
                Err(err) if is_not_found(&err) => nodes.push(None),
                Err(err) => return Err(err),
            }
        }
        Ok(nodes)
    }

    /// A user by handle (case-insensitive).
    async fn user(&self, ctx: &Context<'_>, handle: String) -> GqlResult<Option<UserObject>> {
        let user = ctx
            .services()?
            .accounts
            .user_by_handle(&handle)
            .await
            .gql()?;
        user.map(UserObject)
            .map(Some)
            .ok_or_else(|| gql(DomainError::NotFound))
    }

    /// A group by slug; `NOT_FOUND` when it does not exist for the viewer.
    async fn group(&self, ctx: &Context<'_>, slug: String) -> GqlResult<Option<GroupObject>> {
        let group = ctx
            .services()?
            .groups
            .group_by_slug(&slug)
            .await
            .gql()?
            .ok_or_else(|| gql(DomainError::NotFound))?;
        if policy::can_see_group(standing(ctx, group.id).await?, group.visibility) {
            Ok(Some(GroupObject(group)))
        } else {
            Err(gql(DomainError::NotFound))
        }
    }

    /// Groups the viewer can see, oldest first. `query` matches slug, name or description,
    /// ignoring case.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        query: Option<String>,
        #[graphql(default)] membership: GroupMembershipFilter,
    ) -> GqlResult<Conn<GroupObject>> {
        let request = PageArgs::new(first, after, last, before).request()?;
        let viewer = ctx.viewer()?.actor();
        let filter = GroupFilter {
            query,
            mine: membership == GroupMembershipFilter::Mine,
        };
        let store = ctx.services()?.groups.clone();
        let page = store.groups(viewer, &filter, &request).await.gql()?;
        let total = TotalCount::new(move || {
            let (store, filter) = (store.clone(), filter.clone());
            async move { store.count_groups(viewer, &filter).await }.boxed()
        });
        Ok(connection(page, total, |g| g.id.as_uuid(), GroupObject))
    }
}

fn is_not_found(err: &async_graphql::Error) -> bool {
    err.extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .is_some_and(|code| *code == async_graphql::Value::from("NOT_FOUND"))
}
