//! Threads and posts through the public API: keyset paging while replies arrive, idempotent
//! creation, the statement count of a thread page, edits and revisions, deletion, locking and
//! pinning, answers, reactions, read marks and input checks. Sanitized HTML is
//! `security::markdown`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use crate::harness::{TestServer, User, assert_code, each_backend};
use crate::membership::{join, mutate};

/// The people of a PUBLIC, OPEN group: its owner, a moderator, two members and an outsider
/// who never joined.
pub(crate) struct Community {
    pub(crate) group: String,
    pub(crate) slug: &'static str,
    pub(crate) owner: User,
    pub(crate) moderator: User,
    pub(crate) ben: User,
    pub(crate) carl: User,
    pub(crate) outsider: User,
}

pub(crate) async fn community(server: &TestServer) -> Community {
    let owner = server.register("olga").await;
    let moderator = server.register("maya").await;
    let ben = server.register("ben").await;
    let carl = server.register("carl").await;
    let outsider = server.register("nina").await;
    let slug = "practice";
    let group = server.create_group(&owner, slug, "PUBLIC", "OPEN").await;
    let mut memberships = Vec::new();
    for user in [&moderator, &ben, &carl] {
        let body = join(server, user, &group, None).await;
        assert!(body.get("errors").is_none(), "join: {body:#}");
        memberships.push(id_of(&body["data"]["joinGroup"]["membership"]));
    }
    let body = mutate(
        server,
        Some(&owner),
        "setMemberRole",
        json!({ "membershipId": memberships[0], "role": "MODERATOR" }),
        "membership { role }",
    )
    .await;
    assert_eq!(
        payload(&body, "setMemberRole")["membership"]["role"],
        "MODERATOR"
    );
    Community {
        group,
        slug,
        owner,
        moderator,
        ben,
        carl,
        outsider,
    }
}

/// The payload of a mutation that must have succeeded.
#[track_caller]
pub(crate) fn payload<'a>(body: &'a Value, mutation: &str) -> &'a Value {
    assert!(body.get("errors").is_none(), "{mutation}: {body:#}");
    &body["data"][mutation]
}

#[track_caller]
pub(crate) fn id_of(value: &Value) -> String {
    value["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id in {value:#}"))
        .to_owned()
}

const START: &str = "thread { id title replyCount } post { id body bodyHtml }";
const REPLY: &str = "post { id body bodyHtml replyTo { id } } edge { cursor node { id } }";

pub(crate) async fn start_thread_raw(
    server: &TestServer,
    user: Option<&User>,
    input: Value,
) -> Value {
    mutate(server, user, "startThread", input, START).await
}

/// Starts a thread and returns its ID and its opening post's ID.
async fn start_thread(
    server: &TestServer,
    user: &User,
    group: &str,
    title: &str,
    body: &str,
) -> (String, String) {
    let response = start_thread_raw(
        server,
        Some(user),
        json!({ "groupId": group, "title": title, "body": body }),
    )
    .await;
    let started = payload(&response, "startThread");
    (id_of(&started["thread"]), id_of(&started["post"]))
}

pub(crate) async fn reply_raw(server: &TestServer, user: Option<&User>, input: Value) -> Value {
    mutate(server, user, "postReply", input, REPLY).await
}

/// Replies to a thread and returns the reply's ID and its edge's cursor.
async fn reply(server: &TestServer, user: &User, thread: &str, body: &str) -> (String, String) {
    let response = reply_raw(
        server,
        Some(user),
        json!({ "threadId": thread, "body": body }),
    )
    .await;
    let replied = payload(&response, "postReply");
    assert_eq!(replied["edge"]["node"]["id"], replied["post"]["id"]);
    (
        id_of(&replied["post"]),
        replied["edge"]["cursor"]
            .as_str()
            .expect("cursor")
            .to_owned(),
    )
}

/// A thread as `viewer` sees it, through `node(id:)`.
async fn thread_info(server: &TestServer, viewer: Option<&User>, thread: &str) -> Value {
    server
        .ok(
            viewer.map(|u| u.token.as_str()),
            "query($id: ID!) { node(id: $id) { ... on Thread { id title replyCount isLocked isPinned
                unreadCount viewerSubscription viewerCanReply answer { id }
                posts(first: 1) { totalCount } } } }",
            json!({ "id": thread }),
        )
        .await["node"]
        .clone()
}

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("a count, not {value}"))
}

const POSTS_PAGE: &str =
    "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    node(id: $id) { ... on Thread { replyCount
        posts(first: $first, after: $after, last: $last, before: $before) {
            totalCount
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { id } } } } } }";

/// One page of `Thread.posts`, read anonymously (the groups here are PUBLIC); `args` holds the
/// paging arguments.
async fn posts_page(server: &TestServer, thread: &str, mut args: Value) -> Value {
    args["id"] = json!(thread);
    server.ok(None, POSTS_PAGE, args).await["node"]["posts"].clone()
}

/// The `(id, cursor)` of every edge of a page.
fn edges(page: &Value) -> Vec<(String, String)> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                id_of(&e["node"]),
                e["cursor"].as_str().expect("cursor").to_owned(),
            )
        })
        .collect()
}

fn ids(edges: &[(String, String)]) -> Vec<String> {
    edges.iter().map(|(id, _)| id.clone()).collect()
}

fn page_flag(page: &Value, flag: &str) -> bool {
    page["pageInfo"][flag].as_bool().expect("pageInfo flag")
}

fn page_cursor(page: &Value, which: &str) -> String {
    page["pageInfo"][which]
        .as_str()
        .expect("pageInfo cursor")
        .to_owned()
}

/// Every post of a thread, paging forward `size` at a time.
async fn forward_walk(server: &TestServer, thread: &str, size: usize) -> Vec<(String, String)> {
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = posts_page(server, thread, json!({ "first": size, "after": after })).await;
        let edges = edges(&page);
        assert!(edges.len() <= size, "a page holds at most {size}");
        walked.extend(edges);
        if !page_flag(&page, "hasNextPage") {
            return walked;
        }
        after = Some(page_cursor(&page, "endCursor"));
    }
}

/// Every post of a thread, paging backward from the end `size` at a time, in list order.
async fn backward_walk(server: &TestServer, thread: &str, size: usize) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = posts_page(server, thread, json!({ "last": size, "before": before })).await;
        let edges = edges(&page);
        assert!(edges.len() <= size, "a page holds at most {size}");
        pages.push(edges);
        if !page_flag(&page, "hasPreviousPage") {
            return pages.into_iter().rev().flatten().collect();
        }
        before = Some(page_cursor(&page, "startCursor"));
    }
}

#[track_caller]
fn assert_strictly_increasing(ids: &[String]) {
    for pair in ids.windows(2) {
        assert!(
            pair[0] < pair[1],
            "posts out of order or repeated: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test]
async fn a_250_post_thread_pages_forward_and_backward_also_while_replies_arrive() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, opening) =
            start_thread(&server, &c.ben, &c.group, "Field notes", "The opening post").await;

        // 249 replies, eight in flight at a time, from three authors.
        let authors = [&c.ben, &c.carl, &c.moderator];
        let (server_ref, thread_ref) = (&server, thread.as_str());
        let replies: Vec<(String, String)> = stream::iter(1..250usize)
            .map(|i| async move {
                reply(
                    server_ref,
                    authors[i % 3],
                    thread_ref,
                    &format!("Reply {i}"),
                )
                .await
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut cursors: HashMap<String, String> = replies.iter().cloned().collect();
        assert_eq!(cursors.len(), 249, "every reply has its own ID");

        // The server orders by ID, which is commit order.
        let mut created: Vec<String> = ids(&replies);
        created.push(opening.clone());
        created.sort();
        assert_eq!(created[0], opening, "the opening post comes first");

        let forward = forward_walk(&server, &thread, 30).await;
        assert_eq!(ids(&forward), created, "forward: every post once, in order");
        let backward = backward_walk(&server, &thread, 30).await;
        assert_eq!(
            ids(&backward),
            created,
            "backward: every post once, in order"
        );
        assert_eq!(
            forward, backward,
            "a post has one cursor, whichever way one pages"
        );
        for (id, cursor) in &forward {
            if let Some(from_reply) = cursors.get(id) {
                assert_eq!(from_reply, cursor, "postReply's edge cursor of {id}");
            }
        }
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 249);
        assert_eq!(info["posts"]["totalCount"], 250);

        // Now page again while another task keeps replying: before each next page, at least
        // two more replies have committed.
        let stop = AtomicBool::new(false);
        let (progress, mut progressed) = tokio::sync::watch::channel(0usize);
        let writer = {
            let (server, stop, author) = (&server, &stop, &c.carl);
            async move {
                let mut live = Vec::new();
                while !stop.load(Ordering::SeqCst) && live.len() < 300 {
                    let body = format!("Live reply {}", live.len());
                    live.push(reply(server, author, thread_ref, &body).await);
                    progress.send_replace(live.len());
                }
                live
            }
        };
        let reader = async {
            let mut wait_for_writer = async || {
                let target = *progressed.borrow() + 2;
                // Err: the writer has stopped; go on without it.
                let _ = progressed.wait_for(|&n| n >= target).await;
            };
            let mut forward = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page =
                    posts_page(&server, &thread, json!({ "first": 30, "after": after })).await;
                forward.extend(edges(&page));
                if !page_flag(&page, "hasNextPage") {
                    break;
                }
                after = Some(page_cursor(&page, "endCursor"));
                wait_for_writer().await;
            }
            let mut pages = Vec::new();
            let mut before: Option<String> = None;
            loop {
                let page =
                    posts_page(&server, &thread, json!({ "last": 30, "before": before })).await;
                pages.push(edges(&page));
                if !page_flag(&page, "hasPreviousPage") {
                    break;
                }
                before = Some(page_cursor(&page, "startCursor"));
                wait_for_writer().await;
            }
            stop.store(true, Ordering::SeqCst);
            let backward: Vec<(String, String)> = pages.into_iter().rev().flatten().collect();
            (forward, backward)
        };
        let (live, (walked, walked_back)) = tokio::join!(writer, reader);
        assert!(live.len() >= 2, "replies were added while paging");
        let live_ids: HashSet<String> = ids(&live).into_iter().collect();
        cursors.extend(live.iter().cloned());

        for (what, walk) in [("forward", &walked), ("backward", &walked_back)] {
            let walk_ids = ids(walk);
            assert_strictly_increasing(&walk_ids);
            assert_eq!(
                walk_ids[..created.len()],
                created[..],
                "{what}: every post that existed before paging, in order"
            );
            for id in &walk_ids[created.len()..] {
                assert!(
                    live_ids.contains(id),
                    "{what}: {id} is a reply added while paging"
                );
            }
        }

        let info = thread_info(&server, None, &thread).await;
        let replies_now = count(&info["replyCount"]);
        assert_eq!(replies_now, 249 + live.len() as u64);
        assert_eq!(count(&info["posts"]["totalCount"]), 1 + replies_now);

        // Once the writer has stopped, both directions return everything, with the cursors
        // that postReply gave.
        let mut everything = created.clone();
        everything.extend(live_ids.iter().cloned());
        everything.sort();
        let forward = forward_walk(&server, &thread, 30).await;
        assert_eq!(ids(&forward), everything);
        assert_eq!(backward_walk(&server, &thread, 30).await, forward);
        for (id, cursor) in &forward {
            if *id != opening {
                assert_eq!(cursors[id], *cursor, "postReply's edge cursor of {id}");
            }
        }
        // Cursors seen while replies arrived are the same afterwards.
        let stable: HashMap<&String, &String> = forward.iter().map(|(i, c)| (i, c)).collect();
        for (id, cursor) in walked.iter().chain(&walked_back) {
            assert_eq!(stable[id], cursor, "the cursor of {id} did not change");
        }
    })
    .await;
}

pub(crate) async fn group_threads(server: &TestServer, viewer: &User, slug: &str) -> Value {
    server
        .ok(
            Some(&viewer.token),
            "query($slug: String!) { group(slug: $slug) { threads(first: 100) { totalCount nodes { id title replyCount } } } }",
            json!({ "slug": slug }),
        )
        .await["group"]["threads"]
        .clone()
}

#[tokio::test]
async fn retried_creations_with_an_idempotency_key_write_nothing_new() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let start = json!({
            "groupId": c.group, "title": "Retry me", "body": "First body",
            "idempotencyKey": "start-1", "clientMutationId": "a",
        });
        let first = start_thread_raw(&server, Some(&c.ben), start.clone()).await;
        let first = payload(&first, "startThread").clone();
        let again = start_thread_raw(&server, Some(&c.ben), start.clone()).await;
        let again = payload(&again, "startThread");
        assert_eq!(again["thread"]["id"], first["thread"]["id"]);
        assert_eq!(again["post"]["id"], first["post"]["id"]);
        // A retry answers with the first result even if the rest of the input changed.
        let mut changed = start.clone();
        changed["body"] = json!("Second body");
        let changed = start_thread_raw(&server, Some(&c.ben), changed).await;
        let changed = payload(&changed, "startThread");
        assert_eq!(changed["thread"]["id"], first["thread"]["id"]);
        assert_eq!(changed["post"]["body"], "First body");
        let threads = group_threads(&server, &c.ben, c.slug).await;
        assert_eq!(threads["totalCount"], 1, "{threads:#}");
        let thread = first["thread"]["id"].as_str().expect("thread").to_owned();
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 0);
        assert_eq!(info["posts"]["totalCount"], 1);

        // The same key from another user is unrelated.
        let other = start_thread_raw(&server, Some(&c.carl), start.clone()).await;
        let other = payload(&other, "startThread");
        assert_ne!(other["thread"]["id"], first["thread"]["id"]);
        assert_ne!(other["post"]["id"], first["post"]["id"]);
        assert_eq!(
            group_threads(&server, &c.ben, c.slug).await["totalCount"],
            2
        );

        // Retries sent while the first request is still in flight: one thread, one answer.
        let mut impatient = start.clone();
        impatient["idempotencyKey"] = json!("start-2");
        let server_ref = &server;
        let answers: Vec<Value> = stream::iter(0..8)
            .map(|_| {
                let (input, ben) = (impatient.clone(), &c.ben);
                async move { start_thread_raw(server_ref, Some(ben), input).await }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let concurrent: HashSet<String> = answers
            .iter()
            .map(|body| id_of(&payload(body, "startThread")["thread"]))
            .collect();
        assert_eq!(
            concurrent.len(),
            1,
            "concurrent retries start one thread: {concurrent:?}"
        );
        assert_eq!(
            group_threads(&server, &c.ben, c.slug).await["totalCount"],
            3
        );

        // Replies.
        let input =
            json!({ "threadId": thread, "body": "Reply once", "idempotencyKey": "reply-1" });
        let first = reply_raw(&server, Some(&c.ben), input.clone()).await;
        let first = payload(&first, "postReply").clone();
        let again = reply_raw(&server, Some(&c.ben), input.clone()).await;
        let again = payload(&again, "postReply");
        assert_eq!(again["post"]["id"], first["post"]["id"]);
        assert_eq!(again["edge"]["cursor"], first["edge"]["cursor"]);
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 1);
        assert_eq!(info["posts"]["totalCount"], 2);

        let other = reply_raw(&server, Some(&c.carl), input.clone()).await;
        assert_ne!(
            payload(&other, "postReply")["post"]["id"],
            first["post"]["id"]
        );
        assert_eq!(thread_info(&server, None, &thread).await["replyCount"], 2);

        // Retries sent while the first request is still in flight: one post, one answer.
        let input = json!({ "threadId": thread, "body": "Impatient", "idempotencyKey": "reply-2" });
        let answers: Vec<Value> = stream::iter(0..8)
            .map(|_| {
                let (input, ben) = (input.clone(), &c.ben);
                async move { reply_raw(server_ref, Some(ben), input).await }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let concurrent: HashSet<String> = answers
            .iter()
            .map(|body| id_of(&payload(body, "postReply")["post"]))
            .collect();
        assert_eq!(
            concurrent.len(),
            1,
            "concurrent retries return one post: {concurrent:?}"
        );
        assert_eq!(thread_info(&server, None, &thread).await["replyCount"], 3);

        // Without a key, each request is a new post.
        let plain = json!({ "threadId": thread, "body": "Said twice" });
        let one = reply_raw(&server, Some(&c.ben), plain.clone()).await;
        let two = reply_raw(&server, Some(&c.ben), plain).await;
        assert_ne!(
            payload(&one, "postReply")["post"]["id"],
            payload(&two, "postReply")["post"]["id"]
        );
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 5);
        assert_eq!(info["posts"]["totalCount"], 6);
        assert_eq!(
            group_threads(&server, &c.ben, c.slug).await["totalCount"],
            3
        );
    })
    .await;
}

const REACTIONS: [&str; 5] = ["THUMBS_UP", "HEART", "CELEBRATE", "INSIGHTFUL", "QUESTION"];

async fn react(
    server: &TestServer,
    user: Option<&User>,
    add: bool,
    post: &str,
    content: &str,
) -> Value {
    mutate(
        server,
        user,
        if add { "addReaction" } else { "removeReaction" },
        json!({ "subjectId": post, "content": content }),
        "post { id reactionGroups { content count viewerHasReacted } }",
    )
    .await
}

#[tokio::test]
async fn a_thread_page_of_10_and_of_100_posts_costs_the_same_statements() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let dora = server.register("dora").await;
        let body = join(&server, &dora, &c.group, None).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        let users = [&c.owner, &c.moderator, &c.ben, &c.carl, &dora];

        let (thread, opening) = start_thread(
            &server,
            &c.owner,
            &c.group,
            "Busy thread",
            "Opening **post**",
        )
        .await;
        let (server_ref, thread_ref, opening_ref) = (&server, thread.as_str(), opening.as_str());
        let replies: Vec<(usize, String)> = stream::iter(1..100usize)
            .map(|i| async move {
                let mut input = json!({ "threadId": thread_ref, "body": format!("Reply _{i}_") });
                if i % 3 == 0 {
                    input["replyToId"] = json!(opening_ref);
                }
                let response = reply_raw(server_ref, Some(users[i % 5]), input).await;
                (i, id_of(&payload(&response, "postReply")["post"]))
            })
            .buffer_unordered(8)
            .collect()
            .await;
        let mut posts: Vec<(usize, String)> = replies;
        posts.push((0, opening.clone()));

        // Every post gets reactions from two different users.
        let reactions: Vec<(usize, &User, &str)> = posts
            .iter()
            .flat_map(|(i, _)| {
                [
                    (*i, users[i % 5], REACTIONS[i % 5]),
                    (*i, users[(i + 1) % 5], REACTIONS[(i + 3) % 5]),
                ]
            })
            .collect();
        let index: HashMap<usize, String> = posts.iter().cloned().collect();
        let index_ref = &index;
        stream::iter(reactions)
            .map(|(i, user, content)| async move {
                let body = react(server_ref, Some(user), true, &index_ref[&i], content).await;
                payload(&body, "addReaction");
            })
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;

        let query = "query($id: ID!, $n: Int!) { node(id: $id) { ... on Thread { posts(first: $n) {
            nodes { id body bodyHtml author { handle displayName }
                reactionGroups { content count viewerHasReacted } replyTo { id } } } } } }";
        let viewer = Some(c.ben.token.as_str());
        // A first request, so that anything done once per session (lastSeenAt) is done.
        server
            .ok(viewer, query, json!({ "id": thread, "n": 10 }))
            .await;

        let before = server.metrics_statements().await;
        let ten = server
            .ok(viewer, query, json!({ "id": thread, "n": 10 }))
            .await;
        let middle = server.metrics_statements().await;
        let hundred = server
            .ok(viewer, query, json!({ "id": thread, "n": 100 }))
            .await;
        let after = server.metrics_statements().await;
        let (d10, d100) = (middle - before, after - middle);
        println!(
            "[{:?}] SQL statements for a thread page: first 10 → {d10}, first 100 → {d100}",
            server.backend
        );

        assert_eq!(
            ten["node"]["posts"]["nodes"]
                .as_array()
                .expect("nodes")
                .len(),
            10
        );
        let nodes = hundred["node"]["posts"]["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 100);
        // The page is complete: the numbers below prove every loader answered for every post.
        let by_id: HashMap<&String, usize> = index.iter().map(|(i, id)| (id, *i)).collect();
        for node in nodes {
            let i = by_id[&id_of(node)];
            assert_eq!(node["author"]["handle"], users[i % 5].handle.as_str());
            assert_eq!(node["author"]["displayName"], users[i % 5].handle.as_str());
            assert!(node["bodyHtml"].as_str().expect("html").contains("<p>"));
            if i > 0 && i % 3 == 0 {
                assert_eq!(node["replyTo"]["id"], opening.as_str());
            } else {
                assert!(node["replyTo"].is_null());
            }
            let groups = node["reactionGroups"].as_array().expect("groups");
            let contents: Vec<&str> = groups
                .iter()
                .map(|g| g["content"].as_str().expect("content"))
                .collect();
            assert_eq!(contents, REACTIONS);
            let total: u64 = groups.iter().map(|g| count(&g["count"])).sum();
            assert_eq!(total, 2, "two reactions on post {i}");
            let mine = groups
                .iter()
                .filter(|g| g["viewerHasReacted"] == true)
                .count();
            let ben_reacted = i % 5 == 2 || (i + 1) % 5 == 2;
            assert_eq!(
                mine,
                usize::from(ben_reacted),
                "ben's reactions on post {i}"
            );
        }
        // Each loader must answer a whole page in one batch, whatever the page size and however
        // busy the machine: a difference means a loader split its keys over several queries.
        assert_eq!(
            d10, d100,
            "a page of 100 posts issues as many statements as a page of 10"
        );
    })
    .await;
}

const EDITED: &str = "post { id body bodyHtml editedAt
    revisions(first: 100) { totalCount nodes { id body editor { handle } isRedacted } } }";

pub(crate) async fn edit(
    server: &TestServer,
    user: Option<&User>,
    post: &str,
    body: &str,
) -> Value {
    mutate(
        server,
        user,
        "editPost",
        json!({ "postId": post, "body": body }),
        EDITED,
    )
    .await
}

async fn post_node(server: &TestServer, viewer: Option<&User>, post: &str) -> Value {
    server
        .ok(
            viewer.map(|u| u.token.as_str()),
            "query($id: ID!) { node(id: $id) { ... on Post { id body bodyHtml isDeleted isAnswer editedAt
                revisions(first: 100) { totalCount nodes { id body editor { handle } isRedacted } } } } }",
            json!({ "id": post }),
        )
        .await["node"]
        .clone()
}

fn revision_bodies(post: &Value) -> Vec<(String, String, bool)> {
    post["revisions"]["nodes"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| {
            (
                r["body"].as_str().expect("body").to_owned(),
                r["editor"]["handle"].as_str().expect("editor").to_owned(),
                r["isRedacted"].as_bool().expect("isRedacted"),
            )
        })
        .collect()
}

fn rev(body: &str, editor: &str, redacted: bool) -> (String, String, bool) {
    (body.to_owned(), editor.to_owned(), redacted)
}

async fn moderation_log(server: &TestServer, viewer: &User, slug: &str) -> Vec<Value> {
    server
        .ok(
            Some(&viewer.token),
            "query($slug: String!) { group(slug: $slug) { moderationLog(first: 100) { nodes {
                action reason actor { handle } targetUser { handle } targetThread { id } targetPost { id } } } } }",
            json!({ "slug": slug }),
        )
        .await["group"]["moderationLog"]["nodes"]
        .as_array()
        .expect("log")
        .clone()
}

#[tokio::test]
async fn edits_keep_revisions_and_moderators_may_redact_them() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (_, post) = start_thread(&server, &c.ben, &c.group, "Edits", "Version one").await;
        let fresh = post_node(&server, None, &post).await;
        assert!(fresh["editedAt"].is_null());
        assert_eq!(fresh["revisions"]["totalCount"], 0);

        let body = edit(&server, Some(&c.ben), &post, "Version *two*").await;
        let edited = payload(&body, "editPost")["post"].clone();
        assert_eq!(edited["body"], "Version *two*");
        assert_eq!(edited["bodyHtml"], "<p>Version <em>two</em></p>\n");
        assert!(edited["editedAt"].is_string(), "{edited:#}");
        assert_eq!(revision_bodies(&edited), [rev("Version one", "ben", false)]);

        // A moderator may edit too; the version they replace keeps its editor.
        let body = edit(&server, Some(&c.moderator), &post, "Version three").await;
        let edited = payload(&body, "editPost")["post"].clone();
        assert_eq!(edited["body"], "Version three");
        assert_eq!(
            revision_bodies(&edited),
            [
                rev("Version one", "ben", false),
                rev("Version *two*", "ben", false)
            ]
        );

        // Another member, an outsider and anonymous users may not.
        assert_code(
            &edit(&server, Some(&c.carl), &post, "Carl's").await,
            "FORBIDDEN",
        );
        assert_code(
            &edit(&server, Some(&c.outsider), &post, "Nina's").await,
            "FORBIDDEN",
        );
        assert_code(
            &edit(&server, None, &post, "Nobody's").await,
            "UNAUTHENTICATED",
        );

        let body = edit(&server, Some(&c.ben), &post, "Version four").await;
        let edited = payload(&body, "editPost")["post"].clone();
        assert_eq!(
            revision_bodies(&edited),
            [
                rev("Version one", "ben", false),
                rev("Version *two*", "ben", false),
                rev("Version three", "maya", false),
            ]
        );
        let first_revision = id_of(&edited["revisions"]["nodes"][0]);

        // Redaction is for moderators.
        let redact = async |user: &User| {
            mutate(
                &server,
                Some(user),
                "redactRevision",
                json!({ "revisionId": first_revision, "reason": "personal data" }),
                "revision { id body isRedacted editor { handle } }",
            )
            .await
        };
        assert_code(&redact(&c.carl).await, "FORBIDDEN");
        assert_code(&redact(&c.ben).await, "FORBIDDEN");
        let body = redact(&c.moderator).await;
        let redacted = &payload(&body, "redactRevision")["revision"];
        assert_eq!(redacted["id"], first_revision.as_str());
        assert_eq!(redacted["body"], "");
        assert_eq!(redacted["isRedacted"], true);
        assert_code(&redact(&c.moderator).await, "CONFLICT");

        let read = post_node(&server, None, &post).await;
        assert_eq!(
            read["body"], "Version four",
            "the current version is untouched"
        );
        assert_eq!(
            revision_bodies(&read),
            [
                rev("", "ben", true),
                rev("Version *two*", "ben", false),
                rev("Version three", "maya", false),
            ]
        );

        let log = moderation_log(&server, &c.owner, c.slug).await;
        let entries: Vec<&Value> = log
            .iter()
            .filter(|e| e["action"] == "REVISION_REDACTED")
            .collect();
        assert_eq!(entries.len(), 1, "{log:#?}");
        assert_eq!(entries[0]["actor"]["handle"], "maya");
        assert_eq!(entries[0]["targetPost"]["id"], post.as_str());
        assert_eq!(entries[0]["reason"], "personal data");
    })
    .await;
}

const DELETED: &str = "post { id body bodyHtml isDeleted }";

async fn delete(server: &TestServer, user: &User, post: &str, reason: Option<&str>) -> Value {
    mutate(
        server,
        Some(user),
        "deletePost",
        json!({ "postId": post, "reason": reason }),
        DELETED,
    )
    .await
}

#[tokio::test]
async fn a_deleted_post_keeps_its_place_without_its_body() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, opening) =
            start_thread(&server, &c.ben, &c.group, "Deletions", "Opening").await;
        let (mine, _) = reply(&server, &c.ben, &thread, "Mine to delete").await;
        payload(
            &edit(&server, Some(&c.ben), &mine, "Mine, edited").await,
            "editPost",
        );
        let (carls, _) = reply(&server, &c.carl, &thread, "Carl's post").await;
        let (last, _) = reply(&server, &c.carl, &thread, "The last post").await;
        let order = [opening.clone(), mine.clone(), carls.clone(), last.clone()];

        // Another member may not delete.
        assert_code(&delete(&server, &c.ben, &carls, None).await, "FORBIDDEN");
        assert_code(
            &delete(&server, &c.outsider, &carls, None).await,
            "FORBIDDEN",
        );

        let body = delete(&server, &c.ben, &mine, None).await;
        let deleted = &payload(&body, "deletePost")["post"];
        assert_eq!(deleted["id"], mine.as_str());
        assert_eq!(deleted["body"], "");
        assert_eq!(deleted["bodyHtml"], "");
        assert_eq!(deleted["isDeleted"], true);

        for viewer in [None, Some(&c.ben), Some(&c.owner)] {
            let read = post_node(&server, viewer, &mine).await;
            assert_eq!(read["body"], "");
            assert_eq!(read["bodyHtml"], "");
            assert_eq!(read["isDeleted"], true);
            assert_eq!(
                read["revisions"]["totalCount"], 0,
                "earlier versions are gone too"
            );
            assert!(
                read["revisions"]["nodes"]
                    .as_array()
                    .expect("nodes")
                    .is_empty()
            );

            let listed = server
                .ok(
                    viewer.map(|u| u.token.as_str()),
                    "query($id: ID!) { node(id: $id) { ... on Thread { replyCount posts(first: 10) {
                        totalCount nodes { id body bodyHtml isDeleted } } } } }",
                    json!({ "id": thread }),
                )
                .await["node"]
                .clone();
            assert_eq!(listed["replyCount"], 3);
            assert_eq!(listed["posts"]["totalCount"], 4, "the post keeps its place");
            let nodes = listed["posts"]["nodes"].as_array().expect("nodes");
            let listed_ids: Vec<String> = nodes.iter().map(id_of).collect();
            assert_eq!(listed_ids, order);
            assert_eq!(nodes[1]["body"], "");
            assert_eq!(nodes[1]["bodyHtml"], "");
            assert_eq!(nodes[1]["isDeleted"], true);
            assert_eq!(nodes[2]["body"], "Carl's post");
            assert_eq!(nodes[2]["isDeleted"], false);
        }

        // A deleted post cannot be deleted again, edited or reacted to.
        assert_code(&delete(&server, &c.ben, &mine, None).await, "CONFLICT");
        assert_code(
            &delete(&server, &c.moderator, &mine, None).await,
            "CONFLICT",
        );
        assert_code(
            &edit(&server, Some(&c.ben), &mine, "Back again").await,
            "CONFLICT",
        );
        assert_code(
            &react(&server, Some(&c.carl), true, &mine, "HEART").await,
            "CONFLICT",
        );
        assert_eq!(post_node(&server, None, &mine).await["body"], "");

        // A moderator deleting someone else's post leaves a log entry with the reason.
        let body = delete(&server, &c.moderator, &carls, Some("off topic")).await;
        assert_eq!(payload(&body, "deletePost")["post"]["isDeleted"], true);
        assert_code(
            &delete(&server, &c.moderator, &carls, None).await,
            "CONFLICT",
        );
        let log = moderation_log(&server, &c.owner, c.slug).await;
        let entries: Vec<&Value> = log
            .iter()
            .filter(|e| e["action"] == "POST_DELETED")
            .collect();
        assert_eq!(
            entries.len(),
            1,
            "an author deleting their own post is not logged: {log:#?}"
        );
        assert_eq!(entries[0]["actor"]["handle"], "maya");
        assert_eq!(entries[0]["targetUser"]["handle"], "carl");
        assert_eq!(entries[0]["targetPost"]["id"], carls.as_str());
        assert_eq!(entries[0]["targetThread"]["id"], thread.as_str());
        assert_eq!(entries[0]["reason"], "off topic");
        assert_eq!(
            thread_info(&server, None, &thread).await["posts"]["totalCount"],
            4
        );
    })
    .await;
}

async fn flag(server: &TestServer, user: &User, mutation: &str, thread: &str) -> Value {
    mutate(
        server,
        Some(user),
        mutation,
        json!({ "threadId": thread }),
        "thread { id isLocked isPinned }",
    )
    .await
}

#[tokio::test]
async fn a_locked_thread_takes_replies_from_moderators_only() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, _) = start_thread(&server, &c.ben, &c.group, "Lock me", "Opening").await;

        assert_code(
            &flag(&server, &c.ben, "lockThread", &thread).await,
            "FORBIDDEN",
        );
        let body = flag(&server, &c.moderator, "lockThread", &thread).await;
        assert_eq!(payload(&body, "lockThread")["thread"]["isLocked"], true);

        let input = json!({ "threadId": thread, "body": "May I?" });
        assert_code(
            &reply_raw(&server, Some(&c.ben), input.clone()).await,
            "FORBIDDEN",
        );
        assert_code(
            &reply_raw(&server, Some(&c.carl), input.clone()).await,
            "FORBIDDEN",
        );
        assert_code(
            &reply_raw(&server, Some(&c.outsider), input.clone()).await,
            "FORBIDDEN",
        );
        assert_code(
            &reply_raw(&server, None, input.clone()).await,
            "UNAUTHENTICATED",
        );
        let info = thread_info(&server, Some(&c.ben), &thread).await;
        assert_eq!(info["isLocked"], true);
        assert_eq!(info["replyCount"], 0, "nothing was written");
        assert_eq!(info["viewerCanReply"], false);
        assert_eq!(
            thread_info(&server, Some(&c.moderator), &thread).await["viewerCanReply"],
            true
        );

        reply(&server, &c.moderator, &thread, "A moderator's word").await;
        reply(&server, &c.owner, &thread, "The owner's word").await;
        assert_eq!(thread_info(&server, None, &thread).await["replyCount"], 2);

        assert_code(
            &flag(&server, &c.ben, "unlockThread", &thread).await,
            "FORBIDDEN",
        );
        let body = flag(&server, &c.moderator, "unlockThread", &thread).await;
        assert_eq!(payload(&body, "unlockThread")["thread"]["isLocked"], false);
        assert_eq!(
            thread_info(&server, Some(&c.ben), &thread).await["viewerCanReply"],
            true
        );
        reply(&server, &c.ben, &thread, "Thanks").await;
        assert_eq!(thread_info(&server, None, &thread).await["replyCount"], 3);

        let log = moderation_log(&server, &c.owner, c.slug).await;
        let actions: Vec<&str> = log
            .iter()
            .filter(|e| e["targetThread"]["id"] == thread.as_str())
            .map(|e| e["action"].as_str().expect("action"))
            .collect();
        assert_eq!(actions, ["THREAD_LOCKED", "THREAD_UNLOCKED"]);
    })
    .await;
}

/// The group's thread IDs in `order`, read whole and paged two at a time in both directions.
async fn thread_order(
    server: &TestServer,
    viewer: &User,
    slug: &str,
    order: Option<&str>,
) -> Vec<String> {
    let query = "query($slug: String!, $order: ThreadOrder!, $first: Int, $after: String, $last: Int, $before: String) {
        group(slug: $slug) { threads(order: $order, first: $first, after: $after, last: $last, before: $before) {
            totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } } }";
    let default_query =
        "query($slug: String!) { group(slug: $slug) { threads(first: 100) { nodes { id } } } }";
    let page = |args: Value| {
        let mut vars = args;
        vars["slug"] = json!(slug);
        vars["order"] = json!(order.unwrap_or("LAST_ACTIVITY"));
        async move { server.ok(Some(&viewer.token), query, vars).await["group"]["threads"].clone() }
    };
    let nodes = |page: &Value| -> Vec<String> {
        page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(id_of)
            .collect()
    };

    let whole = page(json!({ "first": 100 })).await;
    let all = nodes(&whole);
    assert_eq!(count(&whole["totalCount"]), all.len() as u64);
    if order.is_none() {
        let default = server
            .ok(Some(&viewer.token), default_query, json!({ "slug": slug }))
            .await;
        assert_eq!(
            nodes(&default["group"]["threads"]),
            all,
            "LAST_ACTIVITY is the default order"
        );
    }

    let mut forward = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(json!({ "first": 2, "after": after })).await;
        forward.extend(nodes(&p));
        if !page_flag(&p, "hasNextPage") {
            break;
        }
        after = Some(page_cursor(&p, "endCursor"));
    }
    assert_eq!(forward, all, "paging forward two at a time");

    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let p = page(json!({ "last": 2, "before": before })).await;
        pages.push(nodes(&p));
        if !page_flag(&p, "hasPreviousPage") {
            break;
        }
        before = Some(page_cursor(&p, "startCursor"));
    }
    let backward: Vec<String> = pages.into_iter().rev().flatten().collect();
    assert_eq!(backward, all, "paging backward two at a time");
    all
}

#[tokio::test]
async fn pinned_threads_come_first_then_the_chosen_order() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let mut t = Vec::new();
        for n in 1..=4 {
            let (thread, _) =
                start_thread(&server, &c.ben, &c.group, &format!("Thread {n}"), "Hello").await;
            t.push(thread);
        }
        let expect = |order: [usize; 4]| order.map(|n| t[n - 1].clone()).to_vec();
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, Some("CREATED")).await,
            expect([4, 3, 2, 1])
        );
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, None).await,
            expect([4, 3, 2, 1])
        );

        assert_code(
            &flag(&server, &c.ben, "pinThread", &t[1]).await,
            "FORBIDDEN",
        );
        for n in [2, 3] {
            let body = flag(&server, &c.moderator, "pinThread", &t[n - 1]).await;
            assert_eq!(payload(&body, "pinThread")["thread"]["isPinned"], true);
        }
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, Some("CREATED")).await,
            expect([3, 2, 4, 1])
        );
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, None).await,
            expect([3, 2, 4, 1])
        );

        // A fresh reply moves a thread up among the unpinned (or among the pinned).
        reply(&server, &c.carl, &t[0], "Bump").await;
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, None).await,
            expect([3, 2, 1, 4])
        );
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, Some("LAST_ACTIVITY")).await,
            expect([3, 2, 1, 4])
        );
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, Some("CREATED")).await,
            expect([3, 2, 4, 1])
        );
        reply(&server, &c.carl, &t[1], "Bump the pinned one").await;
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, None).await,
            expect([2, 3, 1, 4])
        );

        let body = flag(&server, &c.moderator, "unpinThread", &t[2]).await;
        assert_eq!(payload(&body, "unpinThread")["thread"]["isPinned"], false);
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, None).await,
            expect([2, 1, 4, 3])
        );
        assert_eq!(
            thread_order(&server, &c.ben, c.slug, Some("CREATED")).await,
            expect([2, 4, 3, 1])
        );

        let log = moderation_log(&server, &c.owner, c.slug).await;
        let actions: Vec<&str> = log
            .iter()
            .map(|e| e["action"].as_str().expect("action"))
            .collect();
        assert_eq!(
            actions,
            [
                "ROLE_CHANGED",
                "THREAD_PINNED",
                "THREAD_PINNED",
                "THREAD_UNPINNED"
            ]
        );
    })
    .await;
}

async fn mark_answer(server: &TestServer, user: &User, post: &str) -> Value {
    mutate(
        server,
        Some(user),
        "markAnswer",
        json!({ "postId": post }),
        "thread { id answer { id isAnswer } }",
    )
    .await
}

async fn unmark_answer(server: &TestServer, user: &User, thread: &str) -> Value {
    mutate(
        server,
        Some(user),
        "unmarkAnswer",
        json!({ "threadId": thread }),
        "thread { id answer { id } }",
    )
    .await
}

#[tokio::test]
async fn the_thread_author_or_a_moderator_chooses_the_answer() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, opening) = start_thread(&server, &c.ben, &c.group, "A question", "How?").await;
        let (carls, _) = reply(&server, &c.carl, &thread, "Like this").await;
        let (mayas, _) = reply(&server, &c.moderator, &thread, "Or like that").await;
        let is_answer = async |post: &str| post_node(&server, None, post).await["isAnswer"].clone();

        let body = mark_answer(&server, &c.ben, &carls).await;
        let answer = &payload(&body, "markAnswer")["thread"]["answer"];
        assert_eq!(answer["id"], carls.as_str());
        assert_eq!(answer["isAnswer"], true);
        assert_eq!(
            thread_info(&server, None, &thread).await["answer"]["id"],
            carls.as_str()
        );
        assert_eq!(is_answer(&carls).await, true);
        assert_eq!(is_answer(&mayas).await, false);
        assert_eq!(is_answer(&opening).await, false);

        // Another member, even the answer's author, may not choose or clear it.
        assert_code(&mark_answer(&server, &c.carl, &mayas).await, "FORBIDDEN");
        assert_code(&unmark_answer(&server, &c.carl, &thread).await, "FORBIDDEN");
        assert_code(
            &mark_answer(&server, &c.outsider, &mayas).await,
            "FORBIDDEN",
        );
        assert_eq!(
            thread_info(&server, None, &thread).await["answer"]["id"],
            carls.as_str()
        );

        let body = unmark_answer(&server, &c.ben, &thread).await;
        assert!(payload(&body, "unmarkAnswer")["thread"]["answer"].is_null());
        assert!(thread_info(&server, None, &thread).await["answer"].is_null());
        assert_eq!(is_answer(&carls).await, false);

        // A moderator may do both.
        let body = mark_answer(&server, &c.moderator, &mayas).await;
        assert_eq!(
            payload(&body, "markAnswer")["thread"]["answer"]["id"],
            mayas.as_str()
        );
        assert_eq!(is_answer(&mayas).await, true);
        let body = mark_answer(&server, &c.owner, &carls).await;
        assert_eq!(
            payload(&body, "markAnswer")["thread"]["answer"]["id"],
            carls.as_str()
        );
        assert_eq!(is_answer(&mayas).await, false);
        let body = unmark_answer(&server, &c.moderator, &thread).await;
        assert!(payload(&body, "unmarkAnswer")["thread"]["answer"].is_null());
        assert!(thread_info(&server, None, &thread).await["answer"].is_null());

        // Deleting the answer clears it, and a deleted post cannot become the answer.
        payload(&mark_answer(&server, &c.ben, &carls).await, "markAnswer");
        payload(&delete(&server, &c.carl, &carls, None).await, "deletePost");
        assert!(thread_info(&server, None, &thread).await["answer"].is_null());
        assert_eq!(is_answer(&carls).await, false);
        assert_code(&mark_answer(&server, &c.ben, &carls).await, "CONFLICT");
        // Marking a post of another thread changes that thread only.
        let (_, elsewhere) = start_thread(&server, &c.carl, &c.group, "Other", "Hi").await;
        let body = mark_answer(&server, &c.carl, &elsewhere).await;
        assert_eq!(
            payload(&body, "markAnswer")["thread"]["answer"]["id"],
            elsewhere.as_str()
        );
        assert!(thread_info(&server, None, &thread).await["answer"].is_null());
    })
    .await;
}

/// `(count, viewerHasReacted)` of one kind of reaction on a post, as `viewer` sees it.
async fn reaction(
    server: &TestServer,
    viewer: Option<&User>,
    post: &str,
    content: &str,
) -> (u64, bool) {
    let node = server
        .ok(
            viewer.map(|u| u.token.as_str()),
            "query($id: ID!) { node(id: $id) { ... on Post { reactionGroups { content count viewerHasReacted } } } }",
            json!({ "id": post }),
        )
        .await["node"]
        .clone();
    reaction_in(&node, content)
}

fn reaction_in(post: &Value, content: &str) -> (u64, bool) {
    let groups = post["reactionGroups"].as_array().expect("reactionGroups");
    let contents: Vec<&str> = groups
        .iter()
        .map(|g| g["content"].as_str().expect("content"))
        .collect();
    assert_eq!(contents, REACTIONS, "one group per kind, in a fixed order");
    let group = groups
        .iter()
        .find(|g| g["content"] == content)
        .expect("group");
    (
        count(&group["count"]),
        group["viewerHasReacted"].as_bool().expect("flag"),
    )
}

#[tokio::test]
async fn reactions_count_once_per_user_and_kind() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (_, post) = start_thread(&server, &c.ben, &c.group, "React", "Nice?").await;
        assert_eq!(
            reaction(&server, Some(&c.carl), &post, "HEART").await,
            (0, false)
        );

        for _ in 0..2 {
            let body = react(&server, Some(&c.carl), true, &post, "HEART").await;
            assert_eq!(
                reaction_in(&payload(&body, "addReaction")["post"], "HEART"),
                (1, true)
            );
        }
        assert_eq!(
            reaction(&server, Some(&c.carl), &post, "HEART").await,
            (1, true)
        );
        assert_eq!(
            reaction(&server, Some(&c.ben), &post, "HEART").await,
            (1, false)
        );
        assert_eq!(reaction(&server, None, &post, "HEART").await, (1, false));

        payload(
            &react(&server, Some(&c.ben), true, &post, "HEART").await,
            "addReaction",
        );
        payload(
            &react(&server, Some(&c.ben), true, &post, "QUESTION").await,
            "addReaction",
        );
        assert_eq!(
            reaction(&server, Some(&c.ben), &post, "HEART").await,
            (2, true)
        );
        assert_eq!(
            reaction(&server, Some(&c.ben), &post, "QUESTION").await,
            (1, true)
        );
        assert_eq!(
            reaction(&server, Some(&c.carl), &post, "QUESTION").await,
            (1, false)
        );

        let body = react(&server, Some(&c.carl), false, &post, "HEART").await;
        assert_eq!(
            reaction_in(&payload(&body, "removeReaction")["post"], "HEART"),
            (1, false)
        );
        assert_eq!(
            reaction(&server, Some(&c.carl), &post, "HEART").await,
            (1, false)
        );
        assert_eq!(
            reaction(&server, Some(&c.ben), &post, "HEART").await,
            (2 - 1, true)
        );

        // Anonymous users and non-members of a PUBLIC group may read but not react.
        assert_code(
            &react(&server, None, true, &post, "CELEBRATE").await,
            "UNAUTHENTICATED",
        );
        assert_code(
            &react(&server, Some(&c.outsider), true, &post, "CELEBRATE").await,
            "FORBIDDEN",
        );
        assert_code(
            &react(&server, Some(&c.outsider), false, &post, "HEART").await,
            "FORBIDDEN",
        );
        assert_eq!(
            reaction(&server, None, &post, "CELEBRATE").await,
            (0, false)
        );
        assert_eq!(reaction(&server, None, &post, "HEART").await, (1, false));
    })
    .await;
}

#[tokio::test]
async fn unread_counts_follow_the_read_mark_and_subscriptions_are_kept() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, opening) =
            start_thread(&server, &c.owner, &c.group, "Reading", "Post 1").await;
        let mut posts = vec![opening];
        for n in 2..=5 {
            posts.push(
                reply(&server, &c.owner, &thread, &format!("Post {n}"))
                    .await
                    .0,
            );
        }
        let unread = async |viewer: Option<&User>| {
            count(&thread_info(&server, viewer, &thread).await["unreadCount"])
        };
        assert_eq!(
            unread(Some(&c.ben)).await,
            5,
            "a new reader has read nothing"
        );
        assert_eq!(
            unread(None).await,
            0,
            "anonymous readers have nothing unread"
        );

        let body = mutate(
            &server,
            Some(&c.ben),
            "markThreadRead",
            json!({ "threadId": thread, "postId": posts[2] }),
            "thread { id unreadCount }",
        )
        .await;
        assert_eq!(payload(&body, "markThreadRead")["thread"]["unreadCount"], 2);
        assert_eq!(unread(Some(&c.ben)).await, 5 - 3);
        assert_eq!(unread(Some(&c.carl)).await, 5, "read marks are per user");

        reply(&server, &c.carl, &thread, "Post 6").await;
        reply(&server, &c.owner, &thread, "Post 7").await;
        assert_eq!(unread(Some(&c.ben)).await, 4);
        assert_eq!(unread(None).await, 0);

        // A post of another thread is no read mark for this one.
        let (_, elsewhere) = start_thread(&server, &c.owner, &c.group, "Elsewhere", "Hi").await;
        let body = mutate(
            &server,
            Some(&c.ben),
            "markThreadRead",
            json!({ "threadId": thread, "postId": elsewhere }),
            "thread { id }",
        )
        .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(unread(Some(&c.ben)).await, 4);
        let body = mutate(
            &server,
            None,
            "markThreadRead",
            json!({ "threadId": thread, "postId": posts[4] }),
            "thread { id }",
        )
        .await;
        assert_code(&body, "UNAUTHENTICATED");

        // Subscriptions.
        assert!(thread_info(&server, Some(&c.ben), &thread).await["viewerSubscription"].is_null());
        for level in ["WATCHING", "MUTED", "TRACKING"] {
            let body = mutate(
                &server,
                Some(&c.ben),
                "setThreadSubscription",
                json!({ "threadId": thread, "level": level }),
                "thread { id viewerSubscription }",
            )
            .await;
            assert_eq!(
                payload(&body, "setThreadSubscription")["thread"]["viewerSubscription"],
                level
            );
            assert_eq!(
                thread_info(&server, Some(&c.ben), &thread).await["viewerSubscription"],
                level
            );
        }
        assert!(thread_info(&server, Some(&c.carl), &thread).await["viewerSubscription"].is_null());
        assert!(thread_info(&server, None, &thread).await["viewerSubscription"].is_null());
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (thread, opening) =
            start_thread(&server, &c.ben, &c.group, "Valid", "Valid body").await;
        let (other_thread, other_post) =
            start_thread(&server, &c.ben, &c.group, "Other", "Elsewhere").await;

        let too_long_body = "x".repeat(65_537);
        let too_long_utf8 = "é".repeat(32_769);
        let long_title = "t".repeat(201);
        for (title, body) in [
            ("Fine", ""),
            ("Fine", "   \n\t "),
            ("Fine", too_long_body.as_str()),
            ("Fine", too_long_utf8.as_str()),
            (long_title.as_str(), "Fine"),
            ("", "Fine"),
            ("   ", "Fine"),
        ] {
            let response = start_thread_raw(
                &server,
                Some(&c.ben),
                json!({ "groupId": c.group, "title": title, "body": body }),
            )
            .await;
            assert_code(&response, "BAD_USER_INPUT");
        }
        assert_eq!(
            group_threads(&server, &c.ben, c.slug).await["totalCount"],
            2,
            "nothing written"
        );

        for body in [
            "",
            "   \n\t ",
            too_long_body.as_str(),
            too_long_utf8.as_str(),
        ] {
            let response = reply_raw(
                &server,
                Some(&c.ben),
                json!({ "threadId": thread, "body": body }),
            )
            .await;
            assert_code(&response, "BAD_USER_INPUT");
            assert_code(
                &edit(&server, Some(&c.ben), &opening, body).await,
                "BAD_USER_INPUT",
            );
        }
        let response = reply_raw(
            &server,
            Some(&c.ben),
            json!({ "threadId": thread, "body": "Fine", "replyToId": other_post }),
        )
        .await;
        assert_code(&response, "BAD_USER_INPUT");
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 0, "nothing written");
        assert_eq!(info["posts"]["totalCount"], 1);
        let post = post_node(&server, None, &opening).await;
        assert_eq!(post["body"], "Valid body");
        assert!(post["editedAt"].is_null());
        assert_eq!(post["revisions"]["totalCount"], 0);
        assert_eq!(
            thread_info(&server, None, &other_thread).await["replyCount"],
            0
        );

        // The limits themselves are allowed: 200 characters of title, 65,536 bytes of body.
        let title = "é".repeat(200);
        let body = "x".repeat(65_536);
        let response = start_thread_raw(
            &server,
            Some(&c.ben),
            json!({ "groupId": c.group, "title": title, "body": body }),
        )
        .await;
        let started = payload(&response, "startThread");
        assert_eq!(started["thread"]["title"], title.as_str());
        assert_eq!(started["post"]["body"].as_str().map(str::len), Some(65_536));
        let response = reply_raw(
            &server,
            Some(&c.ben),
            json!({ "threadId": thread, "body": "é".repeat(32_768) }),
        )
        .await;
        payload(&response, "postReply");

        // Malformed IDs are the client's mistake.
        let hex = thread.strip_prefix("thr_").expect("a thread ID");
        for bad in [
            String::new(),
            "thr_123".to_owned(),
            format!("thr_{}", hex.to_uppercase()),
            format!("thr-{hex}"),
            format!("xyz_{hex}"),
            format!("thr_{hex}0"),
            "not an id".to_owned(),
        ] {
            let response = reply_raw(
                &server,
                Some(&c.ben),
                json!({ "threadId": bad, "body": "Fine" }),
            )
            .await;
            assert_code(&response, "BAD_USER_INPUT");
            let response = start_thread_raw(
                &server,
                Some(&c.ben),
                json!({ "groupId": bad, "title": "Fine", "body": "Fine" }),
            )
            .await;
            assert_code(&response, "BAD_USER_INPUT");
            assert_code(
                &edit(&server, Some(&c.ben), &bad, "Fine").await,
                "BAD_USER_INPUT",
            );
            assert_code(&delete(&server, &c.ben, &bad, None).await, "BAD_USER_INPUT");
            assert_code(
                &react(&server, Some(&c.ben), true, &bad, "HEART").await,
                "BAD_USER_INPUT",
            );
            assert_code(&mark_answer(&server, &c.ben, &bad).await, "BAD_USER_INPUT");
            let response = reply_raw(
                &server,
                Some(&c.ben),
                json!({ "threadId": thread, "body": "Fine", "replyToId": bad }),
            )
            .await;
            assert_code(&response, "BAD_USER_INPUT");
            let response = server
                .gql(
                    None,
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": bad }),
                )
                .await;
            assert_code(&response, "BAD_USER_INPUT");
        }

        // Paging arguments outside 1..=100.
        for args in [
            json!({ "first": 0 }),
            json!({ "first": 101 }),
            json!({ "last": -1 }),
            json!({ "after": "not-a-cursor" }),
        ] {
            let mut vars = args;
            vars["id"] = json!(thread);
            let response = server.gql(None, POSTS_PAGE, vars).await;
            assert_code(&response, "BAD_USER_INPUT");
        }

        // Well-formed IDs that name no thread (or name something else) are NOT_FOUND.
        let unknown_thread = format!("thr_{}", uuid::Uuid::now_v7().simple());
        for missing in [unknown_thread.clone(), opening.clone(), c.group.clone()] {
            let response = reply_raw(
                &server,
                Some(&c.ben),
                json!({ "threadId": missing, "body": "Fine" }),
            )
            .await;
            assert_code(&response, "NOT_FOUND");
        }
        let unknown_post = format!("pst_{}", uuid::Uuid::now_v7().simple());
        assert_code(
            &edit(&server, Some(&c.ben), &unknown_post, "Fine").await,
            "NOT_FOUND",
        );
        assert_code(
            &delete(&server, &c.ben, &unknown_post, None).await,
            "NOT_FOUND",
        );
        let unknown_group = format!("grp_{}", uuid::Uuid::now_v7().simple());
        let response = start_thread_raw(
            &server,
            Some(&c.ben),
            json!({ "groupId": unknown_group, "title": "Fine", "body": "Fine" }),
        )
        .await;
        assert_code(&response, "NOT_FOUND");

        assert_eq!(
            group_threads(&server, &c.ben, c.slug).await["totalCount"],
            3
        );
        let info = thread_info(&server, None, &thread).await;
        assert_eq!(info["replyCount"], 1);
        assert_eq!(info["posts"]["totalCount"], 2);
    })
    .await;
}

/// Loaders cache within a request; each mutation of a request must still see the writes of the
/// ones before it.
#[tokio::test]
async fn each_mutation_of_a_request_sees_the_ones_before_it() {
    each_backend(|server| async move {
        let c = community(&server).await;
        let (_, post) = start_thread(&server, &c.ben, &c.group, "Fresh reads", "react here").await;
        let query = "mutation($post: ID!) { \
            before: addReaction(input: { subjectId: $post, content: HEART }) { post { reactionGroups { content count viewerHasReacted } } } \
            after: removeReaction(input: { subjectId: $post, content: HEART }) { post { reactionGroups { content count viewerHasReacted } } } \
            again: addReaction(input: { subjectId: $post, content: HEART }) { post { reactionGroups { content count viewerHasReacted } } } }";
        let body = server.ok(Some(&c.carl.token), query, json!({ "post": post })).await;
        let heart = |alias: &str| {
            body[alias]["post"]["reactionGroups"]
                .as_array()
                .expect("reaction groups")
                .iter()
                .find(|g| g["content"] == "HEART")
                .cloned()
                .expect("a HEART group")
        };
        assert_eq!(heart("before"), json!({ "content": "HEART", "count": 1, "viewerHasReacted": true }));
        assert_eq!(heart("after"), json!({ "content": "HEART", "count": 0, "viewerHasReacted": false }));
        assert_eq!(heart("again"), json!({ "content": "HEART", "count": 1, "viewerHasReacted": true }));
    })
    .await;
}
