//! Every membership and account mutation × every standing a caller can have in the group,
//! each cell asserting success or the exact error code (SECURITY.md's role matrix).
//!
//! Each cell runs in a fresh PRIVATE, REQUEST-policy group, so that one cell's success cannot
//! change another's outcome, and a refused cell must leave its group exactly as it was. The
//! tables must name every mutation of `schema.graphql`.

use futures_util::{StreamExt, stream};
use serde_json::{Value, json};

use super::sdl::schema;
use crate::harness::{PASSWORD, TestServer, User, each_backend, error_code};
use crate::membership::{join, mutate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    NonMember,
    Pending,
    Member,
    Banned,
    ModeratorElsewhere,
    Moderator,
    Owner,
    Admin,
}

const ROLES: [Role; 9] = [
    Role::Anonymous,
    Role::NonMember,
    Role::Pending,
    Role::Member,
    Role::Banned,
    Role::ModeratorElsewhere,
    Role::Moderator,
    Role::Owner,
    Role::Admin,
];

const OK: &str = "OK";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBID: &str = "FORBIDDEN";
const MISSING: &str = "NOT_FOUND";
const CONFLICT: &str = "CONFLICT";

/// The policy, one row per mutation, columns in the order of [`ROLES`]:
/// anonymous, non-member, pending, member, banned, moderator elsewhere, moderator, owner, admin.
#[rustfmt::skip]
const GROUP_MATRIX: &[(&str, [&str; 9])] = &[
    ("createGroup",       [UNAUTH, OK,       OK,       OK,       OK,      OK,       OK,       OK,       OK]),
    ("updateGroup",       [UNAUTH, FORBID,   FORBID,   FORBID,   FORBID,  FORBID,   FORBID,   OK,       OK]),
    ("joinGroup",         [UNAUTH, OK,       CONFLICT, CONFLICT, FORBID,  OK,       CONFLICT, CONFLICT, OK]),
    ("leaveGroup",        [UNAUTH, CONFLICT, OK,       OK,       FORBID,  CONFLICT, OK,       OK,       CONFLICT]),
    ("approveMembership", [UNAUTH, MISSING,  MISSING,  MISSING,  MISSING, MISSING,  OK,       OK,       OK]),
    ("rejectMembership",  [UNAUTH, MISSING,  MISSING,  MISSING,  MISSING, MISSING,  OK,       OK,       OK]),
    ("inviteMember",      [UNAUTH, FORBID,   FORBID,   FORBID,   FORBID,  FORBID,   OK,       OK,       OK]),
    ("acceptInvitation",  [UNAUTH, MISSING,  MISSING,  MISSING,  MISSING, MISSING,  FORBID,   FORBID,   FORBID]),
    ("declineInvitation", [UNAUTH, MISSING,  MISSING,  MISSING,  MISSING, MISSING,  FORBID,   FORBID,   FORBID]),
    ("removeMember",      [UNAUTH, MISSING,  MISSING,  FORBID,   MISSING, MISSING,  OK,       OK,       OK]),
    ("banMember",         [UNAUTH, FORBID,   FORBID,   FORBID,   FORBID,  FORBID,   OK,       OK,       OK]),
    ("unbanMember",       [UNAUTH, FORBID,   FORBID,   FORBID,   FORBID,  FORBID,   OK,       OK,       OK]),
    ("setMemberRole",     [UNAUTH, MISSING,  MISSING,  FORBID,   MISSING, MISSING,  FORBID,   OK,       OK]),
];

/// Content mutations, in the same group, against a thread started by the founder, a reply
/// (with an earlier revision) and a presentation by another member.
#[rustfmt::skip]
const CONTENT_MATRIX: &[(&str, [&str; 9])] = &[
    ("startThread",           [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("postReply",             [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("editPost",              [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("deletePost",            [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("redactRevision",        [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("pinThread",             [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("unpinThread",           [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("lockThread",            [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("unlockThread",          [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("markAnswer",            [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("unmarkAnswer",          [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
    ("addReaction",           [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("removeReaction",        [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("markThreadRead",        [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("setThreadSubscription", [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("sharePresentation",     [UNAUTH, MISSING, MISSING, OK,     MISSING, MISSING, OK, OK, OK]),
    ("deletePresentation",    [UNAUTH, MISSING, MISSING, FORBID, MISSING, MISSING, OK, OK, OK]),
];

/// Account mutations do not depend on the group; the caller's standing must not change them.
#[rustfmt::skip]
const ACCOUNT_MATRIX: &[(&str, [&str; 9])] = &[
    ("register",       [OK,     OK, OK, OK, OK, OK, OK, OK, OK]),
    ("login",          [OK,     OK, OK, OK, OK, OK, OK, OK, OK]),
    ("changePassword", [UNAUTH, OK, OK, OK, OK, OK, OK, OK, OK]),
    ("revokeSession",  [UNAUTH, OK, OK, OK, OK, OK, OK, OK, OK]),
    ("logout",         [UNAUTH, OK, OK, OK, OK, OK, OK, OK, OK]),
];

/// The people of one backend's run: a founder who owns every cell's group, one user per
/// standing, and the targets the mutations act on.
struct Cast {
    founder: User,
    actors: Vec<(Role, User)>,
    elsewhere_group: String,
    applicant: User,
    member: User,
    invitee: User,
    outsider: User,
    banned: User,
}

/// One cell's group, with every standing and target in place.
struct World {
    group: String,
    banned_target: String,
    pending_target: String,
    member_target: String,
    invitation: String,
    content: Option<Content>,
}

/// A thread started by the founder, with a reply (edited once) and a presentation by the
/// member target.
struct Content {
    thread: String,
    opening_post: String,
    reply: String,
    revision: String,
    presentation: String,
}

async fn cast(server: &TestServer) -> Cast {
    let founder = server.register("founder").await;
    let mut actors = Vec::new();
    for role in ROLES {
        if role != Role::Anonymous {
            actors.push((
                role,
                server.register(&format!("{role:?}").to_lowercase()).await,
            ));
        }
    }
    server.make_admin("admin").await;
    let elsewhere_group = server
        .create_group(&founder, "elsewhere", "PUBLIC", "OPEN")
        .await;
    let cast = Cast {
        founder,
        actors,
        elsewhere_group,
        applicant: server.register("applicant").await,
        member: server.register("member-target").await,
        invitee: server.register("invitee").await,
        outsider: server.register("outsider").await,
        banned: server.register("banned-target").await,
    };
    let moderator = cast.actor(Role::ModeratorElsewhere).clone();
    let id = membership_id(
        &join(server, &moderator, &cast.elsewhere_group, None).await,
        "joinGroup",
    );
    set_role(server, &cast.founder, &id, "MODERATOR").await;
    cast
}

impl Cast {
    fn actor(&self, role: Role) -> &User {
        &self
            .actors
            .iter()
            .find(|(r, _)| *r == role)
            .unwrap_or_else(|| panic!("no actor for {role:?}"))
            .1
    }
}

fn membership_id(body: &Value, mutation: &str) -> String {
    body["data"][mutation]["membership"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{mutation} failed: {body:#}"))
        .to_owned()
}

async fn set_role(server: &TestServer, owner: &User, membership: &str, role: &str) {
    let body = mutate(
        server,
        Some(owner),
        "setMemberRole",
        json!({ "membershipId": membership, "role": role }),
        "membership { id }",
    )
    .await;
    membership_id(&body, "setMemberRole");
}

async fn approve(server: &TestServer, moderator: &User, membership: &str) {
    let body = mutate(
        server,
        Some(moderator),
        "approveMembership",
        json!({ "membershipId": membership }),
        "membership { id }",
    )
    .await;
    membership_id(&body, "approveMembership");
}

async fn admitted(server: &TestServer, cast: &Cast, group: &str, user: &User) -> String {
    let id = membership_id(&join(server, user, group, None).await, "joinGroup");
    approve(server, &cast.founder, &id).await;
    id
}

async fn ban(server: &TestServer, cast: &Cast, group: &str, user: &User) -> String {
    let body = mutate(
        server,
        Some(&cast.founder),
        "banMember",
        json!({ "groupId": group, "userId": user.id }),
        "membership { id }",
    )
    .await;
    membership_id(&body, "banMember")
}

/// Everything about a cell's group that a mutation could change, as its founder reads it (a
/// cell's group holds a thread of two posts, so small pages see it all).
const SNAPSHOT: &str = "query($id: ID!, $ids: [ID!]!) { \
     created: groups(query: \"new-anonymous\") { totalCount } \
     nodes(ids: $ids) { id ... on Membership { state role } } \
     node(id: $id) { ... on Group { name description joinPolicy memberCount \
       members(first: 20) { nodes { id role state } } \
       pendingMemberships(first: 20) { nodes { id } } \
       moderationLog(first: 1) { totalCount } \
       presentations(first: 10) { nodes { id title } } \
       threads(first: 5) { nodes { id title isPinned isLocked answer { id } \
         posts(first: 5) { nodes { id body isDeleted \
           revisions(first: 5) { nodes { body isRedacted } } \
           reactionGroups { content count } } } } } } } }";

async fn snapshot(server: &TestServer, cast: &Cast, world: &World) -> Value {
    let ids = [
        &world.pending_target,
        &world.member_target,
        &world.invitation,
        &world.banned_target,
    ];
    server
        .ok(
            Some(&cast.founder.token),
            SNAPSHOT,
            json!({ "id": world.group, "ids": ids }),
        )
        .await
}

async fn world(server: &TestServer, cast: &Cast, slug: &str, with_content: bool) -> World {
    let group = server
        .create_group(&cast.founder, slug, "PRIVATE", "REQUEST")
        .await;
    membership_id(
        &join(server, cast.actor(Role::Pending), &group, None).await,
        "joinGroup",
    );
    admitted(server, cast, &group, cast.actor(Role::Member)).await;
    ban(server, cast, &group, cast.actor(Role::Banned)).await;
    let moderator = admitted(server, cast, &group, cast.actor(Role::Moderator)).await;
    set_role(server, &cast.founder, &moderator, "MODERATOR").await;
    let owner = admitted(server, cast, &group, cast.actor(Role::Owner)).await;
    set_role(server, &cast.founder, &owner, "OWNER").await;

    let pending_target = membership_id(
        &join(server, &cast.applicant, &group, None).await,
        "joinGroup",
    );
    let member_target = admitted(server, cast, &group, &cast.member).await;
    let invited = mutate(
        server,
        Some(&cast.founder),
        "inviteMember",
        json!({ "groupId": group, "handle": cast.invitee.handle }),
        "membership { id }",
    )
    .await;
    let invitation = membership_id(&invited, "inviteMember");
    let banned_target = ban(server, cast, &group, &cast.banned).await;
    let content = match with_content {
        true => Some(content(server, cast, &group).await),
        false => None,
    };
    World {
        group,
        banned_target,
        pending_target,
        member_target,
        invitation,
        content,
    }
}

/// Runs a mutation that must succeed and returns the value at `path` in its data.
async fn created(
    server: &TestServer,
    user: &User,
    mutation: &str,
    input: Value,
    selection: &str,
    path: &[&str],
) -> String {
    let body = mutate(server, Some(user), mutation, input, selection).await;
    let mut value = &body["data"][mutation];
    for key in path {
        value = &value[*key];
    }
    value
        .as_str()
        .unwrap_or_else(|| panic!("{mutation} failed: {body:#}"))
        .to_owned()
}

async fn content(server: &TestServer, cast: &Cast, group: &str) -> Content {
    let started = mutate(
        server,
        Some(&cast.founder),
        "startThread",
        json!({ "groupId": group, "title": "Referral pathways", "body": "What works for you?" }),
        "thread { id } post { id }",
    )
    .await;
    let thread = started["data"]["startThread"]["thread"]["id"]
        .as_str()
        .expect("thread")
        .to_owned();
    let opening_post = started["data"]["startThread"]["post"]["id"]
        .as_str()
        .expect("post")
        .to_owned();
    let reply = created(
        server,
        &cast.member,
        "postReply",
        json!({ "threadId": thread, "body": "Guardianship first." }),
        "post { id }",
        &["post", "id"],
    )
    .await;
    let edited = mutate(
        server,
        Some(&cast.member),
        "editPost",
        json!({ "postId": reply, "body": "Guardianship first, always." }),
        "post { revisions { nodes { id } } }",
    )
    .await;
    let revision = edited["data"]["editPost"]["post"]["revisions"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("editPost failed: {edited:#}"))
        .to_owned();
    let presentation = created(
        server,
        &cast.member,
        "sharePresentation",
        json!({ "groupId": group, "title": "Slides", "recordingUrl": "https://example.org/r" }),
        "presentation { id }",
        &["presentation", "id"],
    )
    .await;
    Content {
        thread,
        opening_post,
        reply,
        revision,
        presentation,
    }
}

/// Performs `mutation` as `actor` against `world`; returns the response.
async fn attempt(
    server: &TestServer,
    cast: &Cast,
    world: Option<&World>,
    mutation: &str,
    role: Role,
    actor: Option<&User>,
) -> Value {
    let world = || world.unwrap_or_else(|| panic!("{mutation} needs a group"));
    let content = || {
        world()
            .content
            .as_ref()
            .unwrap_or_else(|| panic!("{mutation} needs content"))
    };
    let (input, selection) = match mutation {
        "createGroup" => (
            json!({ "slug": format!("new-{}", role_slug(role)), "name": "New", "visibility": "PUBLIC", "joinPolicy": "OPEN" }),
            "group { id }",
        ),
        "updateGroup" => (
            json!({ "groupId": world().group, "name": "Renamed" }),
            "group { id }",
        ),
        "joinGroup" => (json!({ "groupId": world().group }), "membership { id }"),
        "leaveGroup" => (json!({ "groupId": world().group }), "deletedId"),
        "approveMembership" | "rejectMembership" => (
            json!({ "membershipId": world().pending_target }),
            if mutation == "approveMembership" {
                "membership { id }"
            } else {
                "deletedId"
            },
        ),
        "inviteMember" => (
            json!({ "groupId": world().group, "handle": cast.outsider.handle }),
            "membership { id }",
        ),
        "acceptInvitation" => (
            json!({ "membershipId": world().invitation }),
            "membership { id }",
        ),
        "declineInvitation" => (json!({ "membershipId": world().invitation }), "deletedId"),
        "removeMember" => (
            json!({ "membershipId": world().member_target }),
            "deletedId",
        ),
        "banMember" => (
            json!({ "groupId": world().group, "userId": cast.member.id }),
            "membership { id }",
        ),
        "unbanMember" => (
            json!({ "groupId": world().group, "userId": cast.banned.id }),
            "deletedId",
        ),
        "setMemberRole" => (
            json!({ "membershipId": world().member_target, "role": "MODERATOR" }),
            "membership { id }",
        ),
        "startThread" => (
            json!({ "groupId": world().group, "title": "New", "body": "Hello" }),
            "thread { id }",
        ),
        "postReply" => (
            json!({ "threadId": content().thread, "body": "Reply" }),
            "post { id }",
        ),
        "editPost" => (
            json!({ "postId": content().reply, "body": "Changed" }),
            "post { id }",
        ),
        "deletePost" => (json!({ "postId": content().reply }), "post { id }"),
        "redactRevision" => (
            json!({ "revisionId": content().revision }),
            "revision { id }",
        ),
        "pinThread" | "unpinThread" | "lockThread" | "unlockThread" => {
            (json!({ "threadId": content().thread }), "thread { id }")
        }
        "markAnswer" => (json!({ "postId": content().reply }), "thread { id }"),
        "unmarkAnswer" => (json!({ "threadId": content().thread }), "thread { id }"),
        "addReaction" | "removeReaction" => (
            json!({ "subjectId": content().reply, "content": "HEART" }),
            "post { id }",
        ),
        "markThreadRead" => (
            json!({ "threadId": content().thread, "postId": content().opening_post }),
            "thread { id }",
        ),
        "setThreadSubscription" => (
            json!({ "threadId": content().thread, "level": "WATCHING" }),
            "thread { id }",
        ),
        "sharePresentation" => (
            json!({ "groupId": world().group, "title": "Recording", "recordingUrl": "https://example.org/x" }),
            "presentation { id }",
        ),
        "deletePresentation" => (
            json!({ "presentationId": content().presentation }),
            "deletedId",
        ),
        "register" => (
            json!({
                "handle": format!("new-{}", role_slug(role)),
                "email": format!("new-{}@example.org", role_slug(role)),
                "password": PASSWORD,
                "displayName": "New",
            }),
            "token",
        ),
        "login" => (
            json!({ "login": actor.map_or("founder", |u| u.handle.as_str()), "password": PASSWORD }),
            "token",
        ),
        "changePassword" => (
            json!({ "currentPassword": PASSWORD, "newPassword": PASSWORD }),
            "viewer { id }",
        ),
        "revokeSession" => {
            let session = match actor {
                Some(actor) => current_session(server, actor).await,
                None => format!("ses_{}", uuid::Uuid::now_v7().simple()),
            };
            (json!({ "sessionId": session }), "deletedId")
        }
        "logout" => (json!({}), "clientMutationId"),
        other => panic!("no cell for {other}"),
    };
    mutate(server, actor, mutation, input, selection).await
}

async fn current_session(server: &TestServer, actor: &User) -> String {
    let data = server
        .ok(
            Some(&actor.token),
            "query { viewer { sessions(first: 100) { nodes { id isCurrent } } } }",
            json!({}),
        )
        .await;
    data["viewer"]["sessions"]["nodes"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["isCurrent"] == true)
        .and_then(|s| s["id"].as_str())
        .expect("current session")
        .to_owned()
}

fn role_slug(role: Role) -> String {
    format!("{role:?}").to_lowercase()
}

/// Account mutations end or change the caller's session; each such cell signs in afresh.
async fn fresh_session(server: &TestServer, user: &User) -> User {
    User {
        token: server.login(user).await,
        ..user.clone()
    }
}

/// Runs one cell and describes it when the outcome is not the expected one.
async fn cell(
    server: &TestServer,
    cast: &Cast,
    index: usize,
    mutation: &str,
    role: Role,
    expected: &str,
) -> Option<String> {
    let in_group = |matrix: &[(&str, [&str; 9])]| matrix.iter().any(|(m, _)| *m == mutation);
    let world = match (in_group(GROUP_MATRIX), in_group(CONTENT_MATRIX)) {
        (false, false) => None,
        (_, with_content) => {
            Some(world(server, cast, &format!("cell-{index}"), with_content).await)
        }
    };
    let actor = match role {
        Role::Anonymous => None,
        role if world.is_some() => Some(cast.actor(role).clone()),
        role => Some(fresh_session(server, cast.actor(role)).await),
    };
    let before = match &world {
        Some(world) if expected != OK => Some(snapshot(server, cast, world).await),
        _ => None,
    };
    let body = attempt(server, cast, world.as_ref(), mutation, role, actor.as_ref()).await;
    let outcome = match error_code(&body) {
        None if body["data"][mutation].is_object() => OK,
        None => "NO DATA",
        Some(code) => code,
    };
    if outcome != expected {
        return Some(format!(
            "{mutation} as {role:?}: expected {expected}, got {outcome}: {body}"
        ));
    }
    match (before, &world) {
        (Some(before), Some(world)) => {
            let after = snapshot(server, cast, world).await;
            (before != after).then(|| {
                format!("{mutation} as {role:?} was refused but wrote: {before} became {after}")
            })
        }
        _ => None,
    }
}

/// A mutation added to the schema fails here until the policy tables have a row for it.
#[test]
fn the_tables_name_every_mutation_of_the_schema() {
    let rows: Vec<&str> = GROUP_MATRIX
        .iter()
        .chain(CONTENT_MATRIX)
        .chain(ACCOUNT_MATRIX)
        .map(|(mutation, _)| *mutation)
        .collect();
    let named: std::collections::BTreeSet<String> = rows.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(named.len(), rows.len(), "each mutation has one row");
    assert_eq!(named, schema().field_names("Mutation"));
}

#[tokio::test]
async fn every_mutation_is_allowed_exactly_where_the_policy_says() {
    each_backend(|server| async move {
        let cast = cast(&server).await;
        let cells = |matrix: &'static [(&'static str, [&'static str; 9])]| {
            matrix.iter().flat_map(|(mutation, expected)| {
                ROLES
                    .iter()
                    .copied()
                    .zip(expected.iter().copied())
                    .map(move |(role, e)| (*mutation, role, e))
            })
        };
        // Group cells each have their own group, so they run concurrently. Account cells run
        // one at a time: `changePassword` ends the caller's other sessions.
        let mut failures: Vec<String> =
            stream::iter(cells(GROUP_MATRIX).chain(cells(CONTENT_MATRIX)).enumerate())
                .map(|(index, (mutation, role, expected))| {
                    cell(&server, &cast, index, mutation, role, expected)
                })
                .buffer_unordered(4)
                .filter_map(|failure| async move { failure })
                .collect()
                .await;
        for (mutation, role, expected) in cells(ACCOUNT_MATRIX) {
            failures.extend(cell(&server, &cast, 0, mutation, role, expected).await);
        }
        assert!(
            failures.is_empty(),
            "[{:?}] role matrix mismatches:\n{}",
            server.backend,
            failures.join("\n")
        );
    })
    .await;
}

/// In a PUBLIC group everyone reads, so those who may not write get `FORBIDDEN`, not
/// `NOT_FOUND`; a banned member too.
#[tokio::test]
async fn public_groups_are_read_by_all_and_written_by_members() {
    each_backend(|server| async move {
        let owner = server.register("owner").await;
        let outsider = server.register("outsider").await;
        let banned = server.register("banned").await;
        let group = server.create_group(&owner, "open-forum", "PUBLIC", "OPEN").await;
        join(&server, &banned, &group, None).await;
        let thread = created(
            &server,
            &owner,
            "startThread",
            json!({ "groupId": group, "title": "Welcome", "body": "Say hello" }),
            "thread { id }",
            &["thread", "id"],
        )
        .await;
        let ban = mutate(&server, Some(&owner), "banMember", json!({ "groupId": group, "userId": banned.id }), "membership { id }").await;
        membership_id(&ban, "banMember");

        for user in [&outsider, &banned] {
            let read = server
                .gql(
                    Some(&user.token),
                    "query($id: ID!) { node(id: $id) { ... on Thread { title viewerCanReply posts { totalCount } } } }",
                    json!({ "id": thread }),
                )
                .await;
            assert_eq!(read["data"]["node"]["title"], "Welcome", "{read:#}");
            assert_eq!(read["data"]["node"]["viewerCanReply"], false);
            for (mutation, input) in [
                ("startThread", json!({ "groupId": group, "title": "Mine", "body": "x" })),
                ("postReply", json!({ "threadId": thread, "body": "x" })),
                ("sharePresentation", json!({ "groupId": group, "title": "x", "recordingUrl": "https://example.org/x" })),
            ] {
                let body = mutate(&server, Some(user), mutation, input, "clientMutationId").await;
                assert_eq!(error_code(&body), Some(FORBID), "{mutation} as {}: {body:#}", user.handle);
            }
        }
    })
    .await;
}
