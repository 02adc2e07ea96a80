//! The thread page as clients fetch it, from Convene (GraphQL) and from the reference
//! (`GET /thread/{id}`), with the same body check on both sides.

use std::time::Duration;

use serde_json::{Value, json};

use crate::client::{Gql, error_code, http_client, json_body};
use crate::fixture::{Dataset, global_id};
use crate::load::{self, Outcome};

/// The thread with its `last` newest posts, each with author and reaction groups.
pub const QUERY: &str = "query($thread: ID!, $last: Int!) { node(id: $thread) { ... on Thread { posts(last: $last) { edges { cursor node { id body bodyHtml createdAt author { id handle displayName } reactionGroups { content count viewerHasReacted } } } } } } }";

/// How a load loop fetches pages.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// A page must be a body without `errors` holding exactly `last` edges.
pub fn check(body: &Value, last: usize) -> Result<(), String> {
    if let Some(code) = error_code(body) {
        return Err(format!("errors ({code}): {}", body["errors"]));
    }
    match body["data"]["node"]["posts"]["edges"].as_array() {
        Some(edges) if edges.len() == last => Ok(()),
        Some(edges) => Err(format!("{} edges instead of {last}", edges.len())),
        None => Err(format!("no edges in {body}")),
    }
}

/// Fetches one page from Convene as an anonymous reader (the group is PUBLIC).
pub async fn fetch(gql: &Gql, thread: &str, last: usize) -> Result<Value, String> {
    let body = gql
        .body(None, QUERY, json!({ "thread": thread, "last": last }))
        .await?;
    check(&body, last)?;
    Ok(body)
}

/// Fetches one page from the reference.
pub async fn fetch_reference(
    http: &reqwest::Client,
    url: &str,
    last: usize,
) -> Result<Value, String> {
    let body = json_body(http.get(url).send().await).await?;
    check(&body, last)?;
    Ok(body)
}

pub fn reference_url(base_url: &str, data: &Dataset, last: usize) -> String {
    format!(
        "{base_url}/thread/{}?last={last}",
        data.landmarks.hot_thread
    )
}

/// Pages of 50 from Convene under `load`.
pub async fn load_convene(data: &Dataset, load: Load) -> Outcome {
    let gql = Gql::new(&data.server.base_url);
    let thread = global_id("thr", data.landmarks.hot_thread);
    load::run(load.concurrency, load.warmup, load.duration, move |_, _| {
        let gql = gql.clone();
        let thread = thread.clone();
        async move { fetch(&gql, &thread, 50).await.map(drop) }
    })
    .await
}

/// Pages of 50 from the reference under the same `load`.
pub async fn load_reference(url: String, load: Load) -> Outcome {
    let http = http_client();
    load::run(load.concurrency, load.warmup, load.duration, move |_, _| {
        let http = http.clone();
        let url = url.clone();
        async move { fetch_reference(&http, &url, 50).await.map(drop) }
    })
    .await
}
