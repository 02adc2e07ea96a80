//! The membership lifecycle for each join policy, through the public API.

use serde_json::{Value, json};

use crate::harness::{TestServer, User, assert_code, each_backend};

const MEMBERSHIP_FIELDS: &str =
    "id state role application decidedAt decidedBy { handle } bannedUntil user { handle }";

pub async fn join(
    server: &TestServer,
    user: &User,
    group: &str,
    application: Option<&str>,
) -> Value {
    server
        .gql(
            Some(&user.token),
            &format!("mutation($input: JoinGroupInput!) {{ joinGroup(input: $input) {{ clientMutationId membership {{ {MEMBERSHIP_FIELDS} }} }} }}"),
            json!({ "input": { "groupId": group, "application": application, "clientMutationId": "join-1" } }),
        )
        .await
}

/// Runs a mutation whose input is `input`, returning the whole response.
pub async fn mutate(
    server: &TestServer,
    user: Option<&User>,
    name: &str,
    input: Value,
    selection: &str,
) -> Value {
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    server
        .gql(
            user.map(|u| u.token.as_str()),
            &format!(
                "mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"
            ),
            json!({ "input": input }),
        )
        .await
}

/// Runs a mutation as `user` that must succeed, and returns its payload.
pub async fn mutate_ok(
    server: &TestServer,
    user: &User,
    name: &str,
    input: Value,
    selection: &str,
) -> Value {
    let body = mutate(server, Some(user), name, input, selection).await;
    assert!(body.get("errors").is_none(), "{name}: {body:#}");
    body["data"][name].clone()
}

fn membership(body: &Value, mutation: &str) -> Value {
    assert!(body.get("errors").is_none(), "{mutation}: {body:#}");
    body["data"][mutation]["membership"].clone()
}

fn deleted_id(body: &Value, mutation: &str) -> String {
    assert!(body.get("errors").is_none(), "{mutation}: {body:#}");
    body["data"][mutation]["deletedId"]
        .as_str()
        .expect("deletedId")
        .to_owned()
}

async fn member_handles(server: &TestServer, viewer: &User, slug: &str) -> Vec<String> {
    let data = server
        .ok(
            Some(&viewer.token),
            "query($slug: String!) { group(slug: $slug) { memberCount members(first: 100) { totalCount nodes { user { handle } } } } }",
            json!({ "slug": slug }),
        )
        .await;
    let group = &data["group"];
    assert_eq!(group["memberCount"], group["members"]["totalCount"]);
    group["members"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["user"]["handle"].as_str().expect("handle").to_owned())
        .collect()
}

async fn log_actions(
    server: &TestServer,
    viewer: &User,
    slug: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    let data = server
        .ok(
            Some(&viewer.token),
            "query($slug: String!) { group(slug: $slug) { moderationLog(first: 100) { nodes { action reason actor { handle } targetUser { handle } } } } }",
            json!({ "slug": slug }),
        )
        .await;
    data["group"]["moderationLog"]["nodes"]
        .as_array()
        .expect("log")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().expect("action").to_owned(),
                e["targetUser"]["handle"].as_str().map(str::to_owned),
                e["reason"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn open_groups_admit_at_once_and_members_may_leave_and_return() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server
            .create_group(&ana, "open-circle", "PUBLIC", "OPEN")
            .await;

        let body = join(&server, &ben, &group, None).await;
        assert_eq!(body["data"]["joinGroup"]["clientMutationId"], "join-1");
        let first = membership(&body, "joinGroup");
        assert_eq!(first["state"], "ACTIVE");
        assert_eq!(first["role"], "MEMBER");
        assert_eq!(
            member_handles(&server, &ana, "open-circle").await,
            ["ana", "ben"]
        );
        assert_code(&join(&server, &ben, &group, None).await, "CONFLICT");

        let left = mutate(
            &server,
            Some(&ben),
            "leaveGroup",
            json!({ "groupId": group }),
            "deletedId",
        )
        .await;
        assert_eq!(
            deleted_id(&left, "leaveGroup"),
            first["id"].as_str().expect("id")
        );
        assert_eq!(member_handles(&server, &ana, "open-circle").await, ["ana"]);
        let gone = server
            .gql(
                Some(&ana.token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": first["id"] }),
            )
            .await;
        assert_code(&gone, "NOT_FOUND");

        let again = membership(&join(&server, &ben, &group, None).await, "joinGroup");
        assert_ne!(again["id"], first["id"], "a new membership gets a new ID");
        assert_eq!(again["state"], "ACTIVE");
    })
    .await;
}

#[tokio::test]
async fn request_groups_queue_applications_for_moderators() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server.create_group(&ana, "counter-trafficking", "PRIVATE", "REQUEST").await;

        let request = membership(&join(&server, &ben, &group, Some("I run a shelter in Lyon")).await, "joinGroup");
        assert_eq!(request["state"], "PENDING");
        assert_eq!(request["application"], "I run a shelter in Lyon");
        let pending = server
            .ok(
                Some(&ana.token),
                "query($slug: String!) { group(slug: $slug) { pendingMemberships { totalCount nodes { id application user { handle } } } } }",
                json!({ "slug": "counter-trafficking" }),
            )
            .await;
        let queue = &pending["group"]["pendingMemberships"];
        assert_eq!(queue["totalCount"], 1);
        assert_eq!(queue["nodes"][0]["id"], request["id"]);
        assert_eq!(queue["nodes"][0]["application"], "I run a shelter in Lyon");

        let rejected = mutate(
            &server,
            Some(&ana),
            "rejectMembership",
            json!({ "membershipId": request["id"], "reason": "please apply with your work email" }),
            "deletedId",
        )
        .await;
        assert_eq!(deleted_id(&rejected, "rejectMembership"), request["id"].as_str().expect("id"));

        let second = membership(&join(&server, &ben, &group, Some("second try")).await, "joinGroup");
        assert_ne!(second["id"], request["id"]);
        assert_eq!(second["state"], "PENDING");
        let approved = mutate(
            &server,
            Some(&ana),
            "approveMembership",
            json!({ "membershipId": second["id"], "reason": "welcome" }),
            &format!("membership {{ {MEMBERSHIP_FIELDS} }}"),
        )
        .await;
        let approved = membership(&approved, "approveMembership");
        assert_eq!(approved["state"], "ACTIVE");
        assert_eq!(approved["decidedBy"]["handle"], "ana");
        assert!(approved["decidedAt"].is_string());
        assert_eq!(member_handles(&server, &ben, "counter-trafficking").await, ["ana", "ben"]);

        assert_eq!(
            log_actions(&server, &ben, "counter-trafficking").await,
            [
                ("MEMBER_REJECTED".into(), Some("ben".into()), Some("please apply with your work email".into())),
                ("MEMBER_APPROVED".into(), Some("ben".into()), Some("welcome".into())),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn invite_groups_admit_only_by_invitation() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server.create_group(&ana, "inner-circle", "SECRET", "INVITE").await;
        // A SECRET group does not exist for ben yet.
        assert_code(&join(&server, &ben, &group, None).await, "NOT_FOUND");

        let invited = mutate(
            &server,
            Some(&ana),
            "inviteMember",
            json!({ "groupId": group, "handle": "BEN" }),
            &format!("membership {{ {MEMBERSHIP_FIELDS} }}"),
        )
        .await;
        let invitation = membership(&invited, "inviteMember");
        assert_eq!(invitation["state"], "INVITED");
        assert_eq!(invitation["user"]["handle"], "ben");

        // The invitee now sees the group's listing, but not its members, and cannot join around the invitation.
        let listing = server
            .gql(Some(&ben.token), "query { group(slug: \"inner-circle\") { name viewerMembership { state } members { totalCount } } }", json!({}))
            .await;
        assert_eq!(listing["data"]["group"]["name"], "Group inner-circle");
        assert_eq!(listing["data"]["group"]["viewerMembership"]["state"], "INVITED");
        assert_code(&listing, "FORBIDDEN");
        assert_code(&join(&server, &ben, &group, None).await, "CONFLICT");

        let declined = mutate(&server, Some(&ben), "declineInvitation", json!({ "membershipId": invitation["id"] }), "deletedId").await;
        assert_eq!(deleted_id(&declined, "declineInvitation"), invitation["id"].as_str().expect("id"));
        assert_code(&join(&server, &ben, &group, None).await, "NOT_FOUND");

        let again = membership(
            &mutate(&server, Some(&ana), "inviteMember", json!({ "groupId": group, "handle": "ben" }), "membership { id }").await,
            "inviteMember",
        );
        let accepted = membership(
            &mutate(&server, Some(&ben), "acceptInvitation", json!({ "membershipId": again["id"] }), "membership { state role }").await,
            "acceptInvitation",
        );
        assert_eq!(accepted["state"], "ACTIVE");
        assert_eq!(member_handles(&server, &ben, "inner-circle").await, ["ana", "ben"]);
        assert_eq!(
            log_actions(&server, &ana, "inner-circle").await.into_iter().map(|e| e.0).collect::<Vec<_>>(),
            ["MEMBER_INVITED", "MEMBER_INVITED"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_ban_bars_rejoining_until_lifted() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server.create_group(&ana, "open-circle", "PRIVATE", "OPEN").await;
        membership(&join(&server, &ben, &group, None).await, "joinGroup");

        let past = mutate(
            &server,
            Some(&ana),
            "banMember",
            json!({ "groupId": group, "userId": ben.id, "until": "2001-01-01T00:00:00Z" }),
            "membership { id }",
        )
        .await;
        assert_code(&past, "BAD_USER_INPUT");

        let banned = membership(
            &mutate(
                &server,
                Some(&ana),
                "banMember",
                json!({ "groupId": group, "userId": ben.id, "reason": "shared a survivor's name", "until": "2099-01-01T00:00:00Z" }),
                &format!("membership {{ {MEMBERSHIP_FIELDS} }}"),
            )
            .await,
            "banMember",
        );
        assert_eq!(banned["state"], "BANNED");
        assert_eq!(banned["bannedUntil"], "2099-01-01T00:00:00+00:00");
        assert_eq!(member_handles(&server, &ana, "open-circle").await, ["ana"]);

        // Banned: no rejoining, and nothing of the private group is readable.
        assert_code(&join(&server, &ben, &group, None).await, "FORBIDDEN");
        let read = server
            .gql(Some(&ben.token), "query { group(slug: \"open-circle\") { viewerCanJoin members { totalCount } } }", json!({}))
            .await;
        assert_eq!(read["data"]["group"]["viewerCanJoin"], false);
        assert_code(&read, "FORBIDDEN");
        assert_code(
            &mutate(&server, Some(&ben), "leaveGroup", json!({ "groupId": group }), "deletedId").await,
            "FORBIDDEN",
        );

        let lifted = mutate(&server, Some(&ana), "unbanMember", json!({ "groupId": group, "userId": ben.id }), "deletedId").await;
        assert_eq!(deleted_id(&lifted, "unbanMember"), banned["id"].as_str().expect("id"));
        assert_eq!(membership(&join(&server, &ben, &group, None).await, "joinGroup")["state"], "ACTIVE");

        // A user who never joined can be banned too.
        let carl = server.register("carl").await;
        let preemptive = membership(
            &mutate(&server, Some(&ana), "banMember", json!({ "groupId": group, "userId": carl.id }), "membership { state bannedUntil }").await,
            "banMember",
        );
        assert_eq!(preemptive["state"], "BANNED");
        assert!(preemptive["bannedUntil"].is_null());
        assert_code(&join(&server, &carl, &group, None).await, "FORBIDDEN");

        assert_eq!(
            log_actions(&server, &ana, "open-circle").await,
            [
                ("MEMBER_BANNED".into(), Some("ben".into()), Some("shared a survivor's name".into())),
                ("MEMBER_UNBANNED".into(), Some("ben".into()), None),
                ("MEMBER_BANNED".into(), Some("carl".into()), None),
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_group_always_keeps_an_owner() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server
            .create_group(&ana, "open-circle", "PUBLIC", "OPEN")
            .await;
        let ben_membership = membership(&join(&server, &ben, &group, None).await, "joinGroup");
        let ana_membership = server
            .ok(
                Some(&ana.token),
                "query { group(slug: \"open-circle\") { viewerMembership { id role } } }",
                json!({}),
            )
            .await["group"]["viewerMembership"]
            .clone();
        assert_eq!(ana_membership["role"], "OWNER");

        assert_code(
            &mutate(
                &server,
                Some(&ana),
                "leaveGroup",
                json!({ "groupId": group }),
                "deletedId",
            )
            .await,
            "CONFLICT",
        );
        assert_code(
            &mutate(
                &server,
                Some(&ana),
                "setMemberRole",
                json!({ "membershipId": ana_membership["id"], "role": "MEMBER" }),
                "membership { role }",
            )
            .await,
            "CONFLICT",
        );

        let promoted = membership(
            &mutate(
                &server,
                Some(&ana),
                "setMemberRole",
                json!({ "membershipId": ben_membership["id"], "role": "OWNER" }),
                "membership { role }",
            )
            .await,
            "setMemberRole",
        );
        assert_eq!(promoted["role"], "OWNER");
        let left = mutate(
            &server,
            Some(&ana),
            "leaveGroup",
            json!({ "groupId": group }),
            "deletedId",
        )
        .await;
        assert_eq!(
            deleted_id(&left, "leaveGroup"),
            ana_membership["id"].as_str().expect("id")
        );
        assert_eq!(member_handles(&server, &ben, "open-circle").await, ["ben"]);
        assert_code(
            &mutate(
                &server,
                Some(&ben),
                "leaveGroup",
                json!({ "groupId": group }),
                "deletedId",
            )
            .await,
            "CONFLICT",
        );
    })
    .await;
}

#[tokio::test]
async fn removed_members_may_ask_again() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = server.create_group(&ana, "counter-trafficking", "PRIVATE", "REQUEST").await;
        let request = membership(&join(&server, &ben, &group, None).await, "joinGroup");
        membership(
            &mutate(&server, Some(&ana), "approveMembership", json!({ "membershipId": request["id"] }), "membership { id }").await,
            "approveMembership",
        );
        let removed = mutate(
            &server,
            Some(&ana),
            "removeMember",
            json!({ "membershipId": request["id"], "reason": "inactive" }),
            "deletedId",
        )
        .await;
        assert_eq!(deleted_id(&removed, "removeMember"), request["id"].as_str().expect("id"));
        let read = server
            .gql(Some(&ben.token), "query { group(slug: \"counter-trafficking\") { viewerMembership { id } members { totalCount } } }", json!({}))
            .await;
        assert!(read["data"]["group"]["viewerMembership"].is_null());
        assert_code(&read, "FORBIDDEN");
        let again = membership(&join(&server, &ben, &group, None).await, "joinGroup");
        assert_eq!(again["state"], "PENDING");
        assert_ne!(again["id"], request["id"]);
        assert_eq!(
            log_actions(&server, &ana, "counter-trafficking").await,
            [
                ("MEMBER_APPROVED".into(), Some("ben".into()), None),
                ("MEMBER_REMOVED".into(), Some("ben".into()), Some("inactive".into())),
            ]
        );
    })
    .await;
}
