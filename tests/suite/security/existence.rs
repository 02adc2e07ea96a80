//! The existence oracle (SECURITY.md): whatever a SECRET group holds answers an outsider exactly
//! as an ID that never existed does — the same bytes, message, code and path, and null data —
//! through `node`, `nodes`, every `ID` argument of every mutation and subscription, slug
//! lookups and the file route. `schema.graphql` lists the `ID` arguments; the test fails when
//! one of them has no case here.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::sdl::schema;
use crate::harness::{TestServer, User, assert_code, each_backend};
use crate::live::fixtures::open;
use crate::membership::{join, mutate, mutate_ok};
use crate::presentations::{FilePart, PDF, download, share, shared, status_and_body};
use crate::visibility::{group_by_slug, listed_slugs, node, unknown_id, user_groups};

/// The IDs a request names: those of the SECRET group's objects, or IDs that name nothing.
struct Ids {
    group: String,
    thread: String,
    post: String,
    revision: String,
    presentation: String,
    /// An active member's membership.
    membership: String,
    /// An invitation still waiting for its invitee.
    invitation: String,
    banned: String,
    /// The membership of a member who was removed: gone for everyone.
    removed: String,
    log_entry: String,
    /// The owner's session.
    session: String,
}

impl Ids {
    fn nothing() -> Self {
        Self {
            group: unknown_id("grp"),
            thread: unknown_id("thr"),
            post: unknown_id("pst"),
            revision: unknown_id("rev"),
            presentation: unknown_id("prs"),
            membership: unknown_id("mem"),
            invitation: unknown_id("mem"),
            banned: unknown_id("mem"),
            removed: unknown_id("mem"),
            log_entry: unknown_id("log"),
            session: unknown_id("ses"),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.group,
            &self.thread,
            &self.post,
            &self.revision,
            &self.presentation,
            &self.membership,
            &self.invitation,
            &self.banned,
            &self.removed,
            &self.log_entry,
            &self.session,
        ]
    }
}

/// What is readable to every signed-in viewer: a PUBLIC group they belong to, and its thread.
struct Public {
    group: String,
    thread: String,
    /// A user of the SECRET group, whose existence is public.
    member: String,
    banned: String,
}

/// One request naming IDs: which `ID` arguments of the schema it exercises, and the request.
struct Case {
    arguments: &'static [&'static str],
    what: String,
    query: String,
    variables: Value,
}

fn mutation(arguments: &'static [&'static str], name: &str, input: Value) -> Case {
    let input_type = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
    Case {
        arguments,
        what: format!("{name}({input})"),
        query: format!(
            "mutation($input: {input_type}!) {{ {name}(input: $input) {{ clientMutationId }} }}"
        ),
        variables: json!({ "input": input }),
    }
}

/// Every request, for IDs `ids`; called once with the SECRET group's and once with IDs that
/// name nothing, the two lists are compared case by case.
fn cases(ids: &Ids, public: &Public) -> Vec<Case> {
    let mut cases = Vec::new();
    for id in ids.all() {
        cases.push(Case {
            arguments: &["Query.node(id)"],
            what: format!("node({})", &id[..3]),
            query: "query($id: ID!) { node(id: $id) { id __typename } }".to_owned(),
            variables: json!({ "id": id }),
        });
    }
    cases.push(Case {
        arguments: &["Query.nodes(ids)"],
        what: "nodes(every kind)".to_owned(),
        query: "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }".to_owned(),
        variables: json!({ "ids": ids.all() }),
    });
    let ms = |id: &str| json!({ "membershipId": id });
    let thread = json!({ "threadId": ids.thread });
    let post = json!({ "postId": ids.post });
    cases.extend([
        mutation(&["Mutation.revokeSession(input.sessionId)"], "revokeSession", json!({ "sessionId": ids.session })),
        mutation(&["Mutation.updateGroup(input.groupId)"], "updateGroup", json!({ "groupId": ids.group, "name": "Renamed" })),
        mutation(&["Mutation.joinGroup(input.groupId)"], "joinGroup", json!({ "groupId": ids.group })),
        mutation(&["Mutation.leaveGroup(input.groupId)"], "leaveGroup", json!({ "groupId": ids.group })),
        mutation(&["Mutation.inviteMember(input.groupId)"], "inviteMember", json!({ "groupId": ids.group, "handle": "nina" })),
        // Users are public: the user stays real, the group is what must not show.
        mutation(&["Mutation.banMember(input.groupId)", "Mutation.banMember(input.userId)"], "banMember", json!({ "groupId": ids.group, "userId": public.member })),
        mutation(&["Mutation.unbanMember(input.groupId)", "Mutation.unbanMember(input.userId)"], "unbanMember", json!({ "groupId": ids.group, "userId": public.banned })),
        mutation(&["Mutation.startThread(input.groupId)"], "startThread", json!({ "groupId": ids.group, "title": "T", "body": "B" })),
        mutation(&["Mutation.sharePresentation(input.groupId)"], "sharePresentation", json!({ "groupId": ids.group, "title": "T", "recordingUrl": "https://example.org/r" })),
        mutation(&["Mutation.sharePresentation(input.threadId)"], "sharePresentation", json!({ "groupId": public.group, "threadId": ids.thread, "title": "T", "recordingUrl": "https://example.org/r" })),
        mutation(&["Mutation.postReply(input.threadId)"], "postReply", json!({ "threadId": ids.thread, "body": "B" })),
        mutation(&["Mutation.postReply(input.replyToId)"], "postReply", json!({ "threadId": ids.thread, "body": "B", "replyToId": ids.post })),
        mutation(&["Mutation.postReply(input.replyToId)"], "postReply", json!({ "threadId": public.thread, "body": "B", "replyToId": ids.post })),
        mutation(&["Mutation.editPost(input.postId)"], "editPost", json!({ "postId": ids.post, "body": "B" })),
        mutation(&["Mutation.deletePost(input.postId)"], "deletePost", post.clone()),
        mutation(&["Mutation.redactRevision(input.revisionId)"], "redactRevision", json!({ "revisionId": ids.revision })),
        mutation(&["Mutation.pinThread(input.threadId)"], "pinThread", thread.clone()),
        mutation(&["Mutation.unpinThread(input.threadId)"], "unpinThread", thread.clone()),
        mutation(&["Mutation.lockThread(input.threadId)"], "lockThread", thread.clone()),
        mutation(&["Mutation.unlockThread(input.threadId)"], "unlockThread", thread.clone()),
        mutation(&["Mutation.markAnswer(input.postId)"], "markAnswer", post.clone()),
        mutation(&["Mutation.unmarkAnswer(input.threadId)"], "unmarkAnswer", thread.clone()),
        mutation(&["Mutation.addReaction(input.subjectId)"], "addReaction", json!({ "subjectId": ids.post, "content": "HEART" })),
        mutation(&["Mutation.removeReaction(input.subjectId)"], "removeReaction", json!({ "subjectId": ids.post, "content": "HEART" })),
        mutation(&["Mutation.markThreadRead(input.threadId)", "Mutation.markThreadRead(input.postId)"], "markThreadRead", json!({ "threadId": ids.thread, "postId": ids.post })),
        mutation(&["Mutation.markThreadRead(input.postId)"], "markThreadRead", json!({ "threadId": public.thread, "postId": ids.post })),
        mutation(&["Mutation.setThreadSubscription(input.threadId)"], "setThreadSubscription", json!({ "threadId": ids.thread, "level": "WATCHING" })),
        mutation(&["Mutation.deletePresentation(input.presentationId)"], "deletePresentation", json!({ "presentationId": ids.presentation })),
    ]);
    for membership in [&ids.membership, &ids.invitation, &ids.banned, &ids.removed] {
        cases.extend([
            mutation(
                &["Mutation.approveMembership(input.membershipId)"],
                "approveMembership",
                ms(membership),
            ),
            mutation(
                &["Mutation.rejectMembership(input.membershipId)"],
                "rejectMembership",
                ms(membership),
            ),
            mutation(
                &["Mutation.acceptInvitation(input.membershipId)"],
                "acceptInvitation",
                ms(membership),
            ),
            mutation(
                &["Mutation.declineInvitation(input.membershipId)"],
                "declineInvitation",
                ms(membership),
            ),
            mutation(
                &["Mutation.removeMember(input.membershipId)"],
                "removeMember",
                ms(membership),
            ),
            mutation(
                &["Mutation.setMemberRole(input.membershipId)"],
                "setMemberRole",
                json!({ "membershipId": membership, "role": "MODERATOR" }),
            ),
        ]);
    }
    cases
}

/// The subscriptions that name an ID, with the variable that carries it.
const SUBSCRIPTIONS: &[(&str, &str, &str)] = &[
    (
        "Subscription.replyAdded(threadId)",
        "subscription($id: ID!) { replyAdded(threadId: $id) { cursor } }",
        "thread",
    ),
    (
        "Subscription.postUpdated(threadId)",
        "subscription($id: ID!) { postUpdated(threadId: $id) { id } }",
        "thread",
    ),
    (
        "Subscription.threadAdded(groupId)",
        "subscription($id: ID!) { threadAdded(groupId: $id) { id } }",
        "group",
    ),
    (
        "Subscription.membershipChanged(groupId)",
        "subscription($id: ID!) { membershipChanged(groupId: $id) { id } }",
        "group",
    ),
];

/// The raw response body, to compare byte for byte.
async fn raw(server: &TestServer, viewer: Option<&User>, query: &str, variables: &Value) -> String {
    let mut request = server
        .client
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(user) = viewer {
        request = request.bearer_auth(&user.token);
    }
    let response = request.send().await.expect("request sent");
    assert_eq!(response.status(), 200);
    response.text().await.expect("body")
}

/// Invites `user` and has them accept; returns the membership.
async fn invited(server: &TestServer, owner: &User, user: &User, group: &str) -> String {
    let body = mutate(
        server,
        Some(owner),
        "inviteMember",
        json!({ "groupId": group, "handle": user.handle }),
        "membership { id }",
    )
    .await;
    let id = body["data"]["inviteMember"]["membership"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body:#}"))
        .to_owned();
    let accepted = mutate(
        server,
        Some(user),
        "acceptInvitation",
        json!({ "membershipId": id }),
        "membership { id }",
    )
    .await;
    assert!(accepted.get("errors").is_none(), "{accepted:#}");
    id
}

#[tokio::test]
async fn every_id_a_request_can_name_answers_a_secret_object_like_nothing() {
    each_backend(|server| async move {
        let olga = server.register("olga").await;
        let mia = server.register("mia").await;
        let ivo = server.register("ivo").await;
        let nina = server.register("nina").await;
        let rita = server.register("rita").await;
        let bea = server.register("bea").await;
        let group = server.create_group(&olga, "hidden-circle", "SECRET", "INVITE").await;
        let membership = invited(&server, &olga, &mia, &group).await;
        let removed = invited(&server, &olga, &rita, &group).await;
        invited(&server, &olga, &bea, &group).await;
        let invitation = mutate_ok(&server, &olga, "inviteMember", json!({ "groupId": group, "handle": ivo.handle }), "membership { id }").await["membership"]["id"].as_str().expect("id").to_owned();
        let started = mutate_ok(&server, &olga, "startThread", json!({ "groupId": group, "title": "Hidden", "body": "Hidden body" }), "thread { id } post { id }").await;
        let thread = started["thread"]["id"].as_str().expect("thread").to_owned();
        let reply = mutate_ok(&server, &mia, "postReply", json!({ "threadId": thread, "body": "First" }), "post { id }").await["post"]["id"].as_str().expect("post").to_owned();
        let revision = mutate_ok(&server, &mia, "editPost", json!({ "postId": reply, "body": "Second" }), "post { revisions { nodes { id } } }").await["post"]["revisions"]["nodes"][0]["id"].as_str().expect("revision").to_owned();
        let presentation = shared(&share(&server, &mia, json!({ "groupId": group, "threadId": thread, "title": "Slides" }), Some(FilePart::pdf("s.pdf", PDF))).await)["id"].as_str().expect("id").to_owned();
        mutate_ok(&server, &olga, "pinThread", json!({ "threadId": thread }), "thread { id }").await;
        mutate_ok(&server, &olga, "removeMember", json!({ "membershipId": removed }), "deletedId").await;
        let banned = mutate_ok(&server, &olga, "banMember", json!({ "groupId": group, "userId": bea.id }), "membership { id }").await["membership"]["id"].as_str().expect("id").to_owned();
        let seen = server.ok(Some(&olga.token), "{ viewer { sessions { nodes { id } } } group(slug: \"hidden-circle\") { moderationLog { nodes { id } } } }", json!({})).await;
        let secret = Ids {
            group: group.clone(),
            thread,
            post: reply,
            revision,
            presentation,
            membership,
            invitation,
            banned,
            removed,
            log_entry: seen["group"]["moderationLog"]["nodes"][0]["id"].as_str().expect("log").to_owned(),
            session: seen["viewer"]["sessions"]["nodes"][0]["id"].as_str().expect("session").to_owned(),
        };

        // A PUBLIC group every signed-in viewer belongs to, for requests that pair a readable
        // object with a hidden one.
        let open_group = server.create_group(&olga, "open-circle", "PUBLIC", "OPEN").await;
        for user in [&nina, &rita, &bea] {
            assert!(join(&server, user, &open_group, None).await.get("errors").is_none());
        }
        let open_thread = mutate_ok(&server, &nina, "startThread", json!({ "groupId": open_group, "title": "Open", "body": "Open body" }), "thread { id }").await["thread"]["id"].as_str().expect("thread").to_owned();
        let public = Public { group: open_group, thread: open_thread, member: mia.id.clone(), banned: bea.id.clone() };

        let hidden = cases(&secret, &public);
        let mut covered: BTreeSet<String> = hidden.iter().flat_map(|c| c.arguments.iter().map(|a| (*a).to_owned())).collect();
        covered.extend(SUBSCRIPTIONS.iter().map(|(argument, _, _)| (*argument).to_owned()));
        assert_eq!(covered, schema().id_arguments(), "every ID argument of schema.graphql has a case");

        let viewers = [("anonymous", None), ("non-member", Some(&nina)), ("removed member", Some(&rita)), ("banned member", Some(&bea))];
        let mut failures = Vec::new();
        for (who, viewer) in viewers {
            let nothing = cases(&Ids::nothing(), &public);
            for (hidden, nothing) in hidden.iter().zip(&nothing) {
                let a = raw(&server, viewer, &hidden.query, &hidden.variables).await;
                let b = raw(&server, viewer, &nothing.query, &nothing.variables).await;
                let body: Value = serde_json::from_str(&a).expect("JSON");
                let refused = body["errors"].as_array().is_some_and(|e| !e.is_empty());
                let no_data = match &body["data"] {
                    Value::Null => true,
                    Value::Object(data) => data.values().all(|v| v.is_null() || v.as_array().is_some_and(|items| items.iter().all(Value::is_null))),
                    _ => false,
                };
                let expected = match (viewer, hidden.arguments[0]) {
                    (_, "Query.nodes(ids)") => !refused,
                    _ => refused,
                };
                if a != b || !expected || !no_data {
                    failures.push(format!("[{:?}] {who} / {}:\n  hidden:  {a}\n  nothing: {b}", server.backend, hidden.what));
                }
            }
            // The file route and the slug lookups.
            let file = status_and_body(download(&server, viewer, &secret.presentation, None).await).await;
            let no_file = status_and_body(download(&server, viewer, &unknown_id("prs"), None).await).await;
            if file.0 != 404 || file != no_file {
                failures.push(format!("[{:?}] {who} / GET /files: {file:?} vs {no_file:?}", server.backend));
            }
            let slug = "query($slug: String!) { group(slug: $slug) { id name } }";
            let a = raw(&server, viewer, slug, &json!({ "slug": "hidden-circle" })).await;
            let b = raw(&server, viewer, slug, &json!({ "slug": "nothing-circle" })).await;
            if a != b || !a.contains("NOT_FOUND") {
                failures.push(format!("[{:?}] {who} / group(slug:): {a} vs {b}", server.backend));
            }
            let search = "query($q: String!) { groups(first: 100, query: $q) { totalCount nodes { id } } }";
            // Compared as JSON: the order of `totalCount` and `nodes` varies from one request to
            // the next (async-graphql merges the connection's extra fields as they finish).
            let a: Value = serde_json::from_str(&raw(&server, viewer, search, &json!({ "q": "hidden" })).await).expect("JSON");
            let b: Value = serde_json::from_str(&raw(&server, viewer, search, &json!({ "q": "nothing-at-all" })).await).expect("JSON");
            if a != b {
                failures.push(format!("[{:?}] {who} / groups(query:): {a} vs {b}", server.backend));
            }
            // Subscriptions, refused as for a thread or group that never existed.
            let mut ws = open(&server, viewer).await;
            for (n, (argument, query, kind)) in SUBSCRIPTIONS.iter().enumerate() {
                let (hidden_id, nothing_id) = match *kind {
                    "thread" => (&secret.thread, unknown_id("thr")),
                    _ => (&secret.group, unknown_id("grp")),
                };
                ws.subscribe(&format!("h{n}"), query, json!({ "id": hidden_id })).await;
                let a = ws.expect_refusal(&format!("h{n}"), "NOT_FOUND").await;
                ws.subscribe(&format!("n{n}"), query, json!({ "id": nothing_id })).await;
                let b = ws.expect_refusal(&format!("n{n}"), "NOT_FOUND").await;
                if a != b {
                    failures.push(format!("[{:?}] {who} / {argument}: {a} vs {b}", server.backend));
                }
            }
            ws.close().await;
        }
        assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));

        // Control: the owner reads what the outsiders were told does not exist.
        for id in secret.all() {
            let body = node(&server, Some(&olga), id).await;
            let gone = id == secret.removed;
            assert_eq!(body.get("errors").is_some(), gone, "owner / node({id}): {body:#}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_secret_group_is_indistinguishable_from_nothing_for_outsiders() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let carl = server.register("carl").await;
        let secret = server
            .create_group(&ana, "secret-circle", "SECRET", "INVITE")
            .await;
        server
            .create_group(&ana, "open-circle", "PUBLIC", "OPEN")
            .await;

        for viewer in [None, Some(&carl)] {
            let hidden = group_by_slug(&server, viewer, "secret-circle").await;
            let missing = group_by_slug(&server, viewer, "no-such-group").await;
            assert_code(&hidden, "NOT_FOUND");
            assert_eq!(hidden, missing, "a hidden group answers like a missing one");

            let hidden = node(&server, viewer, &secret).await;
            let missing = node(&server, viewer, &unknown_id("grp")).await;
            assert_code(&hidden, "NOT_FOUND");
            assert_eq!(hidden, missing);

            assert_eq!(listed_slugs(&server, viewer, None).await, ["open-circle"]);
            assert!(
                listed_slugs(&server, viewer, Some("secret"))
                    .await
                    .is_empty()
            );
            assert_eq!(user_groups(&server, viewer, "ana").await, ["open-circle"]);
            let joined = join(&server, &carl, &secret, None).await;
            assert_eq!(
                joined["errors"],
                join(&server, &carl, &unknown_id("grp"), None).await["errors"]
            );
        }
        // The owner sees it everywhere.
        assert_eq!(
            listed_slugs(&server, Some(&ana), None).await,
            ["secret-circle", "open-circle"]
        );
        assert_eq!(
            user_groups(&server, Some(&ana), "ana").await,
            ["secret-circle", "open-circle"]
        );
        assert_eq!(
            group_by_slug(&server, Some(&ana), "secret-circle").await["data"]["group"]["id"],
            secret.as_str()
        );

        // A thread or membership ID of the secret group answers like an unknown one.
        let own = server
            .ok(
                Some(&ana.token),
                "query { group(slug: \"secret-circle\") { viewerMembership { id } } }",
                json!({}),
            )
            .await;
        let membership_id = own["group"]["viewerMembership"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        assert_eq!(
            node(&server, Some(&carl), &membership_id).await,
            node(&server, Some(&carl), &unknown_id("mem")).await
        );
        assert_eq!(
            node(&server, Some(&carl), &unknown_id("thr")).await,
            node(&server, Some(&carl), &unknown_id("mem")).await
        );
    })
    .await;
}

#[tokio::test]
async fn messages_never_echo_the_requested_id_or_slug() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let unknown = format!("grp_{}", uuid::Uuid::now_v7().simple());
        for body in [
            server
                .gql(
                    Some(&ana.token),
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": unknown }),
                )
                .await,
            server
                .gql(
                    None,
                    "query { group(slug: \"classified-slug\") { id } }",
                    json!({}),
                )
                .await,
            server
                .gql(
                    None,
                    "query { user(handle: \"classified-handle\") { id } }",
                    json!({}),
                )
                .await,
            mutate(
                &server,
                Some(&ana),
                "joinGroup",
                json!({ "groupId": unknown }),
                "clientMutationId",
            )
            .await,
        ] {
            assert_code(&body, "NOT_FOUND");
            let text = body["errors"].to_string();
            assert!(
                !text.contains(&unknown[4..]) && !text.contains("classified"),
                "{text}"
            );
        }
    })
    .await;
}
