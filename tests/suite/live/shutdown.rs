//! Graceful shutdown closes open websockets with 1001 (going away), so that clients know to
//! reconnect elsewhere rather than treat it as an error.

use serde_json::{Value, json};

use super::client::Ws;
use super::fixtures::{Edge, gql_at, reply_at, watch_replies};
use crate::harness::{Backend, PASSWORD, each_backend};
use crate::process::ServerProcess;

/// Runs `query` on the process, asserting success, and returns `data`.
async fn ok_at(
    process: &ServerProcess,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let body = gql_at(
        &reqwest::Client::new(),
        &process.url,
        token,
        query,
        variables,
    )
    .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

#[tokio::test]
async fn sigterm_closes_open_websockets_with_1001() {
    each_backend(|server| async move {
        let database = (server.backend == Backend::Postgres).then(|| server.database_url());
        let process = ServerProcess::start(database).await;

        let registered = ok_at(
            &process,
            None,
            "mutation($input: RegisterInput!) { register(input: $input) { token } }",
            json!({ "input": { "handle": "ana", "email": "ana@example.org", "password": PASSWORD, "displayName": "Ana" } }),
        )
        .await;
        let token = registered["register"]["token"].as_str().expect("token");
        let created = ok_at(
            &process,
            Some(token),
            "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }",
            json!({ "input": { "slug": "lobby", "name": "Lobby", "visibility": "PUBLIC", "joinPolicy": "OPEN" } }),
        )
        .await;
        let group = created["createGroup"]["group"]["id"].clone();
        let started = ok_at(
            &process,
            Some(token),
            "mutation($input: StartThreadInput!) { startThread(input: $input) {
                thread { id posts(first: 1) { edges { cursor node { id } } } } } }",
            json!({ "input": { "groupId": group, "title": "Welcome", "body": "Hello" } }),
        )
        .await;
        let thread = started["startThread"]["thread"].clone();
        let thread_id = thread["id"].as_str().expect("thread id");
        let opening = Edge::of(&thread["posts"]["edges"][0]);

        let mut ws = Ws::to(&process.url).connect().await;
        ws.init(Some(token)).await;
        watch_replies(&mut ws, "replies", thread_id, Some(&opening.cursor)).await;
        let sent = reply_at(&reqwest::Client::new(), &process.url, token, thread_id, "Hi").await;
        assert_eq!(Edge::of(&ws.next_data("replies", "replyAdded").await), sent);

        process.terminate();
        assert_eq!(
            ws.expect_close().await,
            Some(1001),
            "closed as going away; the log:\n{}",
            process.log()
        );
    })
    .await;
}
