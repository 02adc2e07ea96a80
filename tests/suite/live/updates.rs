//! The subscriptions besides `replyAdded`: `threadAdded`, `postUpdated` (edits, reactions,
//! deletions) and `membershipChanged`, which shows moderators the join requests as they arrive
//! and is refused to plain members, as `pendingMemberships` is.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::Ws;
use super::fixtures::{
    MEMBERSHIP_CHANGED, POST_UPDATED, THREAD_ADDED, circle, id_of, open, payload, reply, settle,
    start_thread,
};
use crate::harness::{TestServer, User, each_backend};
use crate::membership::{join, mutate};

#[tokio::test]
async fn thread_added_announces_each_new_thread_of_the_group() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let mut ws = open(&server, Some(&c.member)).await;
        ws.subscribe("threads", THREAD_ADDED, json!({ "group": c.group }))
            .await;
        let (server_ref, c_ref) = (&server, &c);
        let warm_up = settle(
            &mut ws,
            "threads",
            "threadAdded",
            |i| async move {
                let title = format!("Warm-up {i}");
                start_thread(server_ref, &c_ref.owner, &c_ref.group, &title, "Body").await
            },
            id_of,
        )
        .await;
        assert!(
            warm_up["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Warm-up"))
        );

        // Neither a reply nor another group's thread is a new thread of this group.
        reply(&server, &c.owner, &c.thread, "Not a thread").await;
        let elsewhere = server
            .create_group(&c.owner, "elsewhere", "PUBLIC", "OPEN")
            .await;
        start_thread(&server, &c.owner, &elsewhere, "Elsewhere", "Body").await;
        let thread = start_thread(&server, &c.witness, &c.group, "Agenda for Lyon", "Items").await;
        assert_eq!(
            ws.next_data("threads", "threadAdded").await,
            json!({ "id": thread, "title": "Agenda for Lyon" })
        );
    })
    .await;
}

async fn change_post(server: &TestServer, user: &User, mutation: &str, input: Value) {
    payload(
        &mutate(server, Some(user), mutation, input, "post { id }").await,
        mutation,
    );
}

#[tokio::test]
async fn post_updated_carries_edits_reactions_and_deletions() {
    each_backend(|server| async move {
        let c = circle(&server, "PRIVATE").await;
        let post = reply(&server, &c.member, &c.thread, "First draft").await;
        let mut ws = open(&server, Some(&c.witness)).await;
        ws.subscribe("updates", POST_UPDATED, json!({ "thread": c.thread }))
            .await;
        let (server_ref, c_ref, post_ref) = (&server, &c, &post);
        settle(
            &mut ws,
            "updates",
            "postUpdated",
            |i| async move {
                let body = format!("Draft {i}");
                let input = json!({ "postId": post_ref.id, "body": body });
                change_post(server_ref, &c_ref.member, "editPost", input).await;
                body
            },
            |event| event["body"].as_str().expect("body").to_owned(),
        )
        .await;

        let input = json!({ "postId": post.id, "body": "Final wording" });
        change_post(&server, &c.member, "editPost", input).await;
        let edited = ws.next_data("updates", "postUpdated").await;
        assert_eq!(edited["id"], post.id.as_str());
        assert_eq!(edited["body"], "Final wording");
        assert!(edited["editedAt"].is_string(), "{edited:#}");
        assert_eq!(edited["isDeleted"], false);

        let input = json!({ "subjectId": post.id, "content": "HEART" });
        change_post(&server, &c.owner, "addReaction", input).await;
        let reacted = ws.next_data("updates", "postUpdated").await;
        assert_eq!(reacted["id"], post.id.as_str());
        let heart = reacted["reactionGroups"]
            .as_array()
            .expect("reactionGroups")
            .iter()
            .find(|g| g["content"] == "HEART")
            .cloned();
        assert_eq!(heart, Some(json!({ "content": "HEART", "count": 1 })));

        let input = json!({ "postId": post.id, "reason": "posted in the wrong thread" });
        change_post(&server, &c.member, "deletePost", input).await;
        let deleted = ws.next_data("updates", "postUpdated").await;
        assert_eq!(deleted["id"], post.id.as_str());
        assert_eq!(deleted["isDeleted"], true);
        assert_eq!(deleted["body"], "");
    })
    .await;
}

/// A PRIVATE group joined on request, owned by `olga`.
async fn intake(server: &TestServer) -> (User, String) {
    let owner = server.register("olga").await;
    let group = server
        .create_group(&owner, "intake", "PRIVATE", "REQUEST")
        .await;
    (owner, group)
}

/// Registers `handle` and asks to join `group` with `application`; returns the membership ID.
async fn apply(server: &TestServer, handle: &str, group: &str, application: &str) -> String {
    let user = server.register(handle).await;
    let body = join(server, &user, group, Some(application)).await;
    let membership = payload(&body, "joinGroup")["membership"].clone();
    assert_eq!(membership["state"], "PENDING");
    id_of(&membership)
}

/// Settles the moderator's `membershipChanged` subscription `id` with join requests carrying
/// `application`, and returns the last request's event.
async fn settle_with_requests(
    server: &TestServer,
    ws: &mut Ws,
    id: &str,
    group: &str,
    application: &str,
) -> Value {
    settle(
        ws,
        id,
        "membershipChanged",
        |i| async move { apply(server, &format!("applicant-{i}"), group, application).await },
        id_of,
    )
    .await
}

#[tokio::test]
async fn moderators_see_join_requests_arrive() {
    each_backend(|server| async move {
        let (owner, group) = intake(&server).await;
        let mut ws = open(&server, Some(&owner)).await;
        ws.subscribe("members", MEMBERSHIP_CHANGED, json!({ "group": group }))
            .await;
        let warm_up = settle_with_requests(&server, &mut ws, "members", &group, "Warm-up").await;
        assert_eq!(warm_up["state"], "PENDING");
        assert_eq!(warm_up["application"], "Warm-up");

        let request = apply(&server, "dana", &group, "I run a shelter in Lyon").await;
        assert_eq!(
            ws.next_data("members", "membershipChanged").await,
            json!({
                "id": request,
                "state": "PENDING",
                "application": "I run a shelter in Lyon",
                "user": { "handle": "dana" },
            })
        );
    })
    .await;
}

#[tokio::test]
async fn plain_members_may_not_watch_membership_changes() {
    each_backend(|server| async move {
        let (owner, group) = intake(&server).await;
        let ben = server.register("ben").await;
        let body = join(&server, &ben, &group, Some("Ben here")).await;
        let request = id_of(&payload(&body, "joinGroup")["membership"]);
        let approved = mutate(
            &server,
            Some(&owner),
            "approveMembership",
            json!({ "membershipId": request }),
            "membership { state }",
        )
        .await;
        assert_eq!(
            payload(&approved, "approveMembership")["membership"]["state"],
            "ACTIVE"
        );

        // As `pendingMemberships`: the group is readable to a member, its requests are not.
        let mut member = open(&server, Some(&ben)).await;
        member
            .subscribe("members", MEMBERSHIP_CHANGED, json!({ "group": group }))
            .await;
        member.expect_refusal("members", "FORBIDDEN").await;

        let canary = format!("canary-{}", uuid::Uuid::now_v7().simple());
        let mut moderator = open(&server, Some(&owner)).await;
        moderator
            .subscribe("members", MEMBERSHIP_CHANGED, json!({ "group": group }))
            .await;
        settle_with_requests(&server, &mut moderator, "members", &group, &canary).await;
        let late = member.quiet(Duration::from_millis(500)).await;
        assert!(late.is_empty(), "the member heard more: {late:#?}");
        assert!(!member.transcript().contains(&canary));
    })
    .await;
}
