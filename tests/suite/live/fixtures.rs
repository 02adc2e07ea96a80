//! What the live tests share: a group with a thread and its people, replies through the API,
//! the subscription documents, `/metrics` readings, and a way to know that a subscription
//! without replay is listening.

use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Reply, Ws, data_of};
use crate::harness::{TestServer, User};
use crate::membership::{join, mutate};

pub const REPLY_ADDED: &str = "subscription($thread: ID!, $after: String) {
    replyAdded(threadId: $thread, after: $after) { cursor node { id body } } }";
pub const THREAD_ADDED: &str =
    "subscription($group: ID!) { threadAdded(groupId: $group) { id title } }";
pub const POST_UPDATED: &str = "subscription($thread: ID!) { postUpdated(threadId: $thread) {
    id body editedAt isDeleted reactionGroups { content count } } }";
pub const MEMBERSHIP_CHANGED: &str = "subscription($group: ID!) {
    membershipChanged(groupId: $group) { id state application user { handle } } }";

/// A post as a position in its thread: what `Thread.posts`, `postReply` and `replyAdded` agree on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edge {
    pub id: String,
    pub cursor: String,
}

impl Edge {
    /// Reads `{ cursor node { id } }`.
    #[track_caller]
    pub fn of(edge: &Value) -> Self {
        Self {
            id: edge["node"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("an edge: {edge}"))
                .to_owned(),
            cursor: edge["cursor"]
                .as_str()
                .unwrap_or_else(|| panic!("an edge: {edge}"))
                .to_owned(),
        }
    }

    pub fn all(edges: &[Value]) -> Vec<Self> {
        edges.iter().map(Edge::of).collect()
    }
}

/// A group with one thread, its owner, two members and an outsider who never joined.
pub struct Circle {
    pub group: String,
    pub owner: User,
    /// The member whose subscriptions the tests end or refuse.
    pub member: User,
    pub member_membership: String,
    /// A member who keeps listening, to show that an event was sent.
    pub witness: User,
    pub outsider: User,
    pub thread: String,
    pub opening: Edge,
}

/// A `visibility` group that anyone may join at once, with a thread started by its owner.
pub async fn circle(server: &TestServer, visibility: &str) -> Circle {
    let owner = server.register("olga").await;
    let member = server.register("ben").await;
    let witness = server.register("carl").await;
    let outsider = server.register("nina").await;
    let group = server
        .create_group(&owner, "field-notes", visibility, "OPEN")
        .await;
    let mut memberships = Vec::new();
    for user in [&member, &witness] {
        let body = join(server, user, &group, None).await;
        assert!(body.get("errors").is_none(), "join: {body:#}");
        memberships.push(id_of(&body["data"]["joinGroup"]["membership"]));
    }
    let thread = start_thread(
        server,
        &owner,
        &group,
        "Field notes",
        "What we saw this week",
    )
    .await;
    let opening = posts(server, &owner, &thread).await[0].clone();
    Circle {
        group,
        owner,
        member,
        member_membership: memberships.remove(0),
        witness,
        outsider,
        thread,
        opening,
    }
}

#[track_caller]
pub fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id in {value:#}"))
        .to_owned()
}

/// The payload of a mutation that must have succeeded.
#[track_caller]
pub fn payload(body: &Value, mutation: &str) -> Value {
    assert!(body.get("errors").is_none(), "{mutation}: {body:#}");
    body["data"][mutation].clone()
}

/// Starts a thread and returns its ID.
pub async fn start_thread(
    server: &TestServer,
    user: &User,
    group: &str,
    title: &str,
    body: &str,
) -> String {
    let response = mutate(
        server,
        Some(user),
        "startThread",
        json!({ "groupId": group, "title": title, "body": body }),
        "thread { id }",
    )
    .await;
    id_of(&payload(&response, "startThread")["thread"])
}

/// Posts GraphQL to any server process, such as one the harness did not start.
pub async fn gql_at(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = client
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    assert_eq!(response.status(), 200, "GraphQL answers 200");
    response.json().await.expect("JSON body")
}

/// Replies on the server at `url` and returns the reply's edge as `postReply` gives it.
pub async fn reply_at(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    thread: &str,
    body: &str,
) -> Edge {
    let response = gql_at(
        client,
        url,
        Some(token),
        "mutation($input: PostReplyInput!) { postReply(input: $input) { edge { cursor node { id } } } }",
        json!({ "input": { "threadId": thread, "body": body } }),
    )
    .await;
    Edge::of(&payload(&response, "postReply")["edge"])
}

pub async fn reply(server: &TestServer, user: &User, thread: &str, body: &str) -> Edge {
    reply_at(&server.client, &server.url, &user.token, thread, body).await
}

/// Every post of a thread as `viewer` reads it, the opening post first.
pub async fn posts(server: &TestServer, viewer: &User, thread: &str) -> Vec<Edge> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = server
            .ok(
                Some(&viewer.token),
                "query($id: ID!, $after: String) { node(id: $id) { ... on Thread {
                    posts(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
                        edges { cursor node { id } } } } } }",
                json!({ "id": thread, "after": after }),
            )
            .await;
        let page = &data["node"]["posts"];
        all.extend(Edge::all(page["edges"].as_array().expect("edges")));
        if page["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// A connection of `user` (anonymous with `None`), past `connection_ack`.
pub async fn open(server: &TestServer, user: Option<&User>) -> Ws {
    let mut ws = Ws::to(&server.url).connect().await;
    ws.init(user.map(|u| u.token.as_str())).await;
    ws
}

/// Subscribes `id` to the replies of `thread` after `after`.
pub async fn watch_replies(ws: &mut Ws, id: &str, thread: &str, after: Option<&str>) {
    ws.subscribe(id, REPLY_ADDED, json!({ "thread": thread, "after": after }))
        .await;
}

/// Fires `trigger` until live-only subscription `id` hears one of the events it caused, and
/// returns the event of the last trigger fired. Such a subscription hears only what commits
/// once the server has set it up, and the protocol does not say when that is; a `trigger`
/// returns the key that `key` reads back from its event.
pub async fn settle<F, Fut>(
    ws: &mut Ws,
    id: &str,
    field: &str,
    mut trigger: F,
    key: impl Fn(&Value) -> String,
) -> Value
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = String>,
{
    let mut fired = Vec::new();
    for attempt in 0..20 {
        fired.push(trigger(attempt).await);
        while let Some(reply) = ws.receive_within(id, Duration::from_secs(1)).await {
            let event = match reply {
                Reply::Next(payload) => data_of(payload, field),
                other => panic!("{id} ended while settling: {other:?}"),
            };
            let heard = key(&event);
            assert!(
                fired.contains(&heard),
                "{id} heard something it was not sent after subscribing: {event:#}"
            );
            if fired.last() == Some(&heard) {
                return event;
            }
        }
    }
    panic!("{id} heard none of its 20 events")
}

/// The text of `GET /metrics`, read all at once so that several samples are consistent.
pub async fn metrics(server: &TestServer) -> Metrics {
    let response = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics request sent");
    assert_eq!(response.status(), 200, "/metrics answers 200");
    Metrics(response.text().await.expect("metrics body"))
}

pub struct Metrics(String);

impl Metrics {
    /// The sample of `name`, labels ignored (the first series wins).
    #[track_caller]
    pub fn read(&self, name: &str) -> f64 {
        self.0
            .lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| {
                let (series, value) = line.rsplit_once(' ')?;
                let series_name = series.split('{').next()?;
                (series_name == name).then(|| value.trim().parse().ok())?
            })
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{}", self.0))
    }
}
