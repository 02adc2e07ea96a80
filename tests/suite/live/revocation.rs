//! Permission is checked again while a subscription runs: a member removed or banned from a
//! PRIVATE group, or whose session ends, hears one `FORBIDDEN` and nothing more. A PUBLIC
//! thread stays readable by anyone, so there the subscription goes on.

use std::time::Duration;

use serde_json::json;

use super::client::{Reply, Ws, data_of};
use super::fixtures::{Circle, Edge, circle, id_of, open, payload, reply, watch_replies};
use crate::harness::{PASSWORD, TestServer, each_backend};
use crate::membership::mutate;

/// How long a revoked subscriber keeps being read after the witness heard the next reply.
const AFTERMATH: Duration = Duration::from_millis(500);

/// What ends the member's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Removal,
    Ban,
    RevokedSession,
    Logout,
    PasswordChange,
}

/// The ID of the session `token` belongs to.
async fn session_id(server: &TestServer, token: &str) -> String {
    let data = server
        .ok(
            Some(token),
            "{ viewer { sessions { nodes { id isCurrent } } } }",
            json!({}),
        )
        .await;
    let nodes = data["viewer"]["sessions"]["nodes"]
        .as_array()
        .expect("sessions");
    let current = nodes
        .iter()
        .find(|n| n["isCurrent"] == true)
        .expect("a current session");
    id_of(current)
}

/// Does what `ending` says to the member, whose websocket runs on `session`.
async fn end_access(server: &TestServer, c: &Circle, ending: Ending, session: &str) {
    let (mutation, user, input, selection) = match ending {
        Ending::Removal => (
            "removeMember",
            &c.owner,
            json!({ "membershipId": c.member_membership, "reason": "inactive" }),
            "deletedId",
        ),
        Ending::Ban => (
            "banMember",
            &c.owner,
            json!({ "groupId": c.group, "userId": c.member.id, "reason": "leaked a name" }),
            "membership { state }",
        ),
        Ending::RevokedSession => (
            "revokeSession",
            &c.member,
            json!({ "sessionId": session_id(server, session).await }),
            "deletedId",
        ),
        Ending::PasswordChange => (
            "changePassword",
            &c.member,
            json!({ "currentPassword": PASSWORD, "newPassword": "a brand new passphrase" }),
            "viewer { id }",
        ),
        Ending::Logout => {
            let data = server
                .ok(
                    Some(session),
                    "mutation { logout { clientMutationId } }",
                    json!({}),
                )
                .await;
            assert!(data["logout"].is_object(), "{data:#}");
            return;
        }
    };
    payload(
        &mutate(server, Some(user), mutation, input, selection).await,
        mutation,
    );
}

/// The member and a witness listen to a PRIVATE thread; `ending` happens; the member hears one
/// `FORBIDDEN` then `complete`, and not the reply that follows, which the witness hears.
async fn a_private_subscription_ends_on(server: &TestServer, ending: Ending) {
    let c = circle(server, "PRIVATE").await;
    let session = match ending {
        Ending::Removal | Ending::Ban => c.member.token.clone(),
        // A second session, so that the first can end it.
        _ => server.login(&c.member).await,
    };
    // The cookie on the handshake authenticates as well as `connection_init` does.
    let mut connect = Ws::to(&server.url);
    if ending == Ending::Logout {
        connect = connect.cookie(&session);
    }
    let mut ws = connect.connect().await;
    ws.init((ending != Ending::Logout).then_some(session.as_str()))
        .await;
    watch_replies(&mut ws, "replies", &c.thread, Some(&c.opening.cursor)).await;
    let mut witness = open(server, Some(&c.witness)).await;
    watch_replies(&mut witness, "replies", &c.thread, Some(&c.opening.cursor)).await;

    let before = reply(server, &c.owner, &c.thread, "Before the change").await;
    assert_eq!(
        Edge::of(&ws.next_data("replies", "replyAdded").await),
        before
    );
    assert_eq!(
        Edge::of(&witness.next_data("replies", "replyAdded").await),
        before
    );

    end_access(server, &c, ending, &session).await;
    let canary = format!("canary-{}", uuid::Uuid::now_v7().simple());
    let after = reply(server, &c.owner, &c.thread, &canary).await;

    ws.expect_refusal("replies", "FORBIDDEN").await;
    assert_eq!(
        Edge::of(&witness.next_data("replies", "replyAdded").await),
        after
    );
    let late = ws.quiet(AFTERMATH).await;
    assert!(
        late.iter().all(|m| m["id"] != "replies"),
        "{ending:?}: nothing after complete: {late:#?}"
    );
    assert!(
        !ws.transcript().contains(&canary),
        "{ending:?}: the reply after the change never reached the member"
    );
}

#[tokio::test]
async fn removal_from_a_private_group_ends_the_subscription() {
    each_backend(|server| async move {
        a_private_subscription_ends_on(&server, Ending::Removal).await;
    })
    .await;
}

#[tokio::test]
async fn a_ban_from_a_private_group_ends_the_subscription() {
    each_backend(|server| async move {
        a_private_subscription_ends_on(&server, Ending::Ban).await;
    })
    .await;
}

#[tokio::test]
async fn revoking_the_session_ends_the_subscription() {
    each_backend(|server| async move {
        a_private_subscription_ends_on(&server, Ending::RevokedSession).await;
    })
    .await;
}

#[tokio::test]
async fn logging_out_ends_the_subscription_of_a_cookie_session() {
    each_backend(|server| async move {
        a_private_subscription_ends_on(&server, Ending::Logout).await;
    })
    .await;
}

#[tokio::test]
async fn a_password_change_ends_the_subscriptions_of_other_sessions() {
    each_backend(|server| async move {
        a_private_subscription_ends_on(&server, Ending::PasswordChange).await;
    })
    .await;
}

#[tokio::test]
async fn removal_or_ban_from_a_public_group_keeps_the_subscription() {
    each_backend(|server| async move {
        let c = circle(&server, "PUBLIC").await;
        let mut ws = open(&server, Some(&c.member)).await;
        watch_replies(&mut ws, "replies", &c.thread, Some(&c.opening.cursor)).await;

        let removal = json!({ "membershipId": c.member_membership });
        let ban = json!({ "groupId": c.group, "userId": c.member.id });
        for (mutation, input, selection) in [
            ("removeMember", removal, "deletedId"),
            ("banMember", ban, "membership { state }"),
        ] {
            payload(
                &mutate(&server, Some(&c.owner), mutation, input, selection).await,
                mutation,
            );
            let body = format!("After {mutation}");
            let sent = reply(&server, &c.owner, &c.thread, &body).await;
            let event = match ws.receive("replies").await {
                Reply::Next(payload) => data_of(payload, "replyAdded"),
                other => panic!("after {mutation} the PUBLIC thread stays readable: {other:?}"),
            };
            assert_eq!(Edge::of(&event), sent);
            assert_eq!(event["node"]["body"], body);
        }
    })
    .await;
}
