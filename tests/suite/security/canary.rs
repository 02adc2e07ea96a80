//! The canary sweep (SECURITY.md): a unique word is put everywhere a PRIVATE group keeps
//! content — thread title, opening post, replies, an earlier revision, a presentation and its
//! file, the member list, a join request, the moderation log — and then every query and file
//! route that could reach it is run as each kind of outsider. The word never appears, and each
//! hidden object answers exactly like one that never existed.
//!
//! The group's listing (slug, name, description) is public for PRIVATE groups by design, so the
//! canary stays out of it. So are a user's handle and display name: the canary member's own
//! profile is public, and the sweep checks only that it does not lead to the group.

use serde_json::{Value, json};

use crate::harness::{TestServer, User, each_backend, error_code};
use crate::membership::{join, mutate};
use crate::presentations::{FilePart, download, share, shared, status_and_body};

const SLUG: &str = "practice-circle";

/// Every field a viewer could read a group's content through.
const GROUP_CONTENT: &str = "id slug name description visibility joinPolicy memberCount \
     viewerMembership { id state application } \
     members(first: 100) { totalCount nodes { id role state user { id handle displayName } } } \
     pendingMemberships(first: 100) { totalCount \
         nodes { id application user { handle displayName } } } \
     moderationLog(first: 100) { totalCount nodes { id action reason actor { handle } \
         targetUser { handle displayName } targetThread { title } targetPost { body } } } \
     presentations(first: 100) { totalCount nodes { id title description speakers recordingUrl \
         uploader { handle } file { filename contentType byteSize sha256 downloadUrl } } } \
     threads(first: 100) { totalCount nodes { id title author { handle displayName } \
         answer { body } \
         posts(first: 100) { totalCount nodes { id body bodyHtml author { handle displayName } \
             replyTo { body } \
             revisions(first: 100) { totalCount nodes { id body editor { handle } } } } } \
         presentations(first: 100) { totalCount \
             nodes { id title description speakers file { filename } } } } }";

/// The members-only fields of [`GROUP_CONTENT`]: null with `FORBIDDEN` for outsiders.
const MEMBERS_ONLY: [&str; 5] = [
    "members",
    "pendingMemberships",
    "moderationLog",
    "presentations",
    "threads",
];

/// Everything any node could carry.
const NODE_CONTENT: &str = "id __typename \
     ... on Group { members(first: 100) { nodes { user { handle displayName } } } \
         threads(first: 100) { nodes { title } } } \
     ... on Thread { title \
         posts(first: 100) { nodes { body bodyHtml revisions(first: 100) { nodes { body } } } } \
         presentations(first: 100) { nodes { title description speakers file { filename } } } } \
     ... on Post { body bodyHtml thread { title } revisions(first: 100) { nodes { body } } } \
     ... on PostRevision { body editor { handle displayName } } \
     ... on Presentation { title description speakers recordingUrl file { filename } \
         thread { title } } \
     ... on Membership { application user { handle displayName } group { slug } } \
     ... on ModerationLogEntry { reason targetUser { handle displayName } targetThread { title } }";

/// What a probe must answer, besides never containing the canary.
enum Expect {
    /// Answers without errors, and what it answers passes the check.
    Answers(fn(&Value, &Fixture) -> Result<(), &'static str>),
    /// Each of these paths is null with a `FORBIDDEN` error there.
    ForbiddenAt(Vec<Vec<&'static str>>),
    /// `NOT_FOUND`, identical to the answer for this never-existing ID.
    NotFoundLike(String),
}

struct Probe {
    what: String,
    query: String,
    variables: Value,
    expect: Expect,
}

/// What the owner set up, and the IDs they can see.
struct Fixture {
    canary: String,
    group_id: String,
    canary_handle: String,
    /// Every thread, post, revision, presentation, membership and log entry ID, including
    /// the removed member's former membership.
    hidden_ids: Vec<String>,
    /// The removed member's former membership: it no longer exists, for anyone.
    removed_membership: String,
    /// Presentations with a file.
    files: Vec<String>,
}

fn unknown_like(id: &str) -> String {
    let prefix = id.split('_').next().expect("prefix");
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Every value of an `id` key, anywhere in `value`.
fn collect_ids(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("id", Value::String(id)) => into.push(id.clone()),
                    _ => collect_ids(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, into)),
        _ => {}
    }
}

async fn register(server: &TestServer, handle: &str, display_name: &str) -> User {
    let body = mutate(
        server,
        None,
        "register",
        json!({
            "handle": handle,
            "email": format!("{handle}@example.org"),
            "password": crate::harness::PASSWORD,
            "displayName": display_name,
        }),
        "token viewer { id }",
    )
    .await;
    assert!(body.get("errors").is_none(), "register: {body:#}");
    User {
        id: body["data"]["register"]["viewer"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
        handle: handle.to_owned(),
        token: body["data"]["register"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
    }
}

/// Runs a mutation that must succeed and returns its payload.
async fn must(
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

/// Asks to join and has the owner approve; returns the membership ID.
async fn admit(server: &TestServer, owner: &User, user: &User, group: &str) -> String {
    let asked = join(server, user, group, Some("I work on this")).await;
    let id = asked["data"]["joinGroup"]["membership"]["id"].clone();
    must(
        server,
        owner,
        "approveMembership",
        json!({ "membershipId": id }),
        "membership { id }",
    )
    .await;
    id.as_str().expect("membership id").to_owned()
}

fn pdf_with(canary: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% Notes on {canary}\n1 0 obj\n<< /Title ({canary}) >>\nendobj\n%%EOF\n")
        .into_bytes()
}

/// Puts the canary everywhere in a PRIVATE group; returns what the probes need, and the
/// removed and banned members.
async fn plant(server: &TestServer, owner: &User) -> (Fixture, User, User) {
    let canary = format!("canary{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let group = server.create_group(owner, SLUG, "PRIVATE", "REQUEST").await;

    // The member list: a member named after the canary.
    let canary_handle = format!("m-{canary}");
    let bird = register(server, &canary_handle, &format!("Member {canary}")).await;
    admit(server, owner, &bird, &group).await;
    let ben = server.register("ben").await;
    admit(server, owner, &ben, &group).await;
    let rita = server.register("rita").await;
    let ritas = admit(server, owner, &rita, &group).await;
    let bea = server.register("bea").await;
    admit(server, owner, &bea, &group).await;
    // A join request that stays pending.
    let paul = server.register("paul").await;
    let asked = join(server, &paul, &group, Some(&format!("About {canary}"))).await;
    assert_eq!(
        asked["data"]["joinGroup"]["membership"]["state"], "PENDING",
        "{asked:#}"
    );

    // A thread, its opening post and replies, one of them by the member who will be removed.
    let started = must(
        server,
        &ben,
        "startThread",
        json!({
            "groupId": group,
            "title": format!("Thread on {canary}"),
            "body": format!("Opening {canary}"),
        }),
        "thread { id } post { id }",
    )
    .await;
    let thread = started["thread"]["id"].as_str().expect("thread").to_owned();
    let opening = started["post"]["id"].clone();
    let reply = |body: String| json!({ "threadId": thread, "body": body, "replyToId": opening });
    let post = "post { id }";
    must(
        server,
        &bird,
        "postReply",
        reply(format!("Reply with **{canary}**")),
        post,
    )
    .await;
    must(
        server,
        &rita,
        "postReply",
        reply(format!("Rita on {canary}")),
        post,
    )
    .await;
    let answer = must(
        server,
        &bea,
        "postReply",
        reply(format!("[{canary}](https://example.org/{canary})")),
        post,
    )
    .await;
    let answer = &answer["post"]["id"];
    must(
        server,
        &ben,
        "markAnswer",
        json!({ "postId": answer }),
        "thread { id }",
    )
    .await;

    // A post whose earlier version alone holds the canary.
    let edited = must(
        server,
        &ben,
        "postReply",
        reply(format!("Draft mentioning {canary}")),
        post,
    )
    .await;
    let edited = &edited["post"]["id"];
    let post = must(
        server,
        &ben,
        "editPost",
        json!({ "postId": edited, "body": "Edited: nothing to see here" }),
        "post { body revisions { nodes { body } } }",
    )
    .await;
    assert!(
        !post["post"]["body"]
            .as_str()
            .expect("body")
            .contains(&canary)
    );
    assert!(
        post["post"]["revisions"].to_string().contains(&canary),
        "{post:#}"
    );

    // Presentations: one with a file in the thread, one link only.
    let file = pdf_with(&canary);
    let filename = format!("{canary}.pdf");
    let with_file = shared(
        &share(
            server,
            &ben,
            json!({
                "groupId": group,
                "threadId": thread,
                "title": format!("Slides {canary}"),
                "description": format!("About {canary}"),
                "speakers": [format!("Dr. {canary}")],
            }),
            Some(FilePart::pdf(&filename, &file)),
        )
        .await,
    );
    shared(
        &share(
            server,
            &bird,
            json!({
                "groupId": group,
                "title": format!("Recording {canary}"),
                "recordingUrl": format!("https://video.example.org/{canary}"),
            }),
            None,
        )
        .await,
    );

    // Moderation: the log names the thread and the canary member, and carries reasons.
    server
        .ok(
            Some(&owner.token),
            "mutation($input: PinThreadInput!) { pinThread(input: $input) { thread { isPinned } } }",
            json!({ "input": { "threadId": thread } }),
        )
        .await;
    must(
        server,
        owner,
        "removeMember",
        json!({ "membershipId": ritas, "reason": format!("Removed: {canary}") }),
        "deletedId",
    )
    .await;
    must(
        server,
        owner,
        "banMember",
        json!({ "groupId": group, "userId": bea.id, "reason": format!("Banned: {canary}") }),
        "membership { id }",
    )
    .await;

    // What the owner sees: every ID, and the canary in it.
    let seen = server
        .ok(
            Some(&owner.token),
            &format!("query($slug: String!) {{ group(slug: $slug) {{ {GROUP_CONTENT} }} }}"),
            json!({ "slug": SLUG }),
        )
        .await;
    let text = seen.to_string().to_lowercase();
    for place in [
        format!("thread on {canary}"),
        format!("opening {canary}"),
        format!("rita on {canary}"),
        format!("draft mentioning {canary}"),
        format!("slides {canary}"),
        format!("dr. {canary}"),
        filename.clone(),
        canary_handle.clone(),
        format!("member {canary}"),
        format!("about {canary}"),
        format!("removed: {canary}"),
        format!("banned: {canary}"),
    ] {
        assert!(text.contains(&place), "the owner reads {place:?}: {seen:#}");
    }
    let mut hidden_ids = Vec::new();
    collect_ids(&seen["group"], &mut hidden_ids);
    hidden_ids.retain(|id| !id.starts_with("usr_") && !id.starts_with("grp_"));
    hidden_ids.sort();
    hidden_ids.dedup();
    hidden_ids.push(ritas.clone());
    for prefix in ["thr_", "pst_", "rev_", "prs_", "mem_", "log_"] {
        assert!(
            hidden_ids.iter().any(|id| id.starts_with(prefix)),
            "an ID of kind {prefix}"
        );
    }
    let with_file = with_file["id"].as_str().expect("id").to_owned();
    let fixture = Fixture {
        canary,
        group_id: group,
        canary_handle,
        hidden_ids,
        removed_membership: ritas,
        files: vec![with_file],
    };
    (fixture, rita, bea)
}

const GROUPS: &str = "query($q: String, $mine: GroupMembershipFilter! = ALL) { \
     groups(first: 100, query: $q, membership: $mine) { totalCount \
     nodes { id slug name description memberCount viewerMembership { id state } } } }";
const USER: &str = "query($h: String!) { user(handle: $h) { id bio organization \
     groups(first: 100) { totalCount nodes { id slug name description } } } }";
const VIEWER: &str = "{ viewer { id handle displayName \
     groups(first: 100) { totalCount nodes { id slug name description } } } }";

/// The probe table: every query that could reach the group's content, and what it must
/// answer besides never carrying the canary.
fn probes(fixture: &Fixture) -> Vec<Probe> {
    let canary = fixture.canary.as_str();
    let group = &format!("query($slug: String!) {{ group(slug: $slug) {{ {GROUP_CONTENT} }} }}");
    let group_node =
        &format!("query($id: ID!) {{ node(id: $id) {{ ... on Group {{ {GROUP_CONTENT} }} }} }}");
    let node = &format!("query($id: ID!) {{ node(id: $id) {{ {NODE_CONTENT} }} }}");
    let nodes = &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_CONTENT} }} }}");
    let forbidden = |root| MEMBERS_ONLY.iter().map(|&f| vec![root, f]).collect();
    let mut probes = vec![
        probe(
            "groups",
            GROUPS,
            json!({}),
            Expect::Answers(lists_the_group),
        ),
        probe(
            "groups(query: canary)",
            GROUPS,
            json!({ "q": canary }),
            Expect::Answers(no_group),
        ),
        probe(
            "groups(query: canary, membership: MINE)",
            GROUPS,
            json!({ "q": canary, "mine": "MINE" }),
            Expect::Answers(no_group),
        ),
        probe(
            "group(slug:) with every members-only field",
            group,
            json!({ "slug": SLUG }),
            Expect::ForbiddenAt(forbidden("group")),
        ),
        probe(
            "node(id: group) with every members-only field",
            group_node,
            json!({ "id": fixture.group_id }),
            Expect::ForbiddenAt(forbidden("node")),
        ),
        probe(
            "nodes(ids:) of every hidden object",
            nodes,
            json!({ "ids": fixture.hidden_ids }),
            Expect::Answers(all_null),
        ),
        probe(
            "viewer { groups }",
            VIEWER,
            json!({}),
            Expect::Answers(viewer_in_no_group),
        ),
    ];
    // Handles and display names are public by design (the canary member's is checked at the
    // end), so these ask only for what could lead to the group.
    for handle in [
        fixture.canary_handle.as_str(),
        "olga",
        "ben",
        "rita",
        "bea",
        "paul",
    ] {
        probes.push(probe(
            &format!("user(handle: {handle}) {{ groups }}"),
            USER,
            json!({ "h": handle }),
            Expect::Answers(user_not_in_group),
        ));
    }
    for id in &fixture.hidden_ids {
        probes.push(probe(
            &format!("node(id: {id})"),
            node,
            json!({ "id": id }),
            Expect::NotFoundLike(unknown_like(id)),
        ));
    }
    probes
}

fn probe(what: &str, query: &str, variables: Value, expect: Expect) -> Probe {
    Probe {
        what: what.to_owned(),
        query: query.to_owned(),
        variables,
        expect,
    }
}

/// The listing of a PRIVATE group is public by design.
fn lists_the_group(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let listed = data["groups"]["nodes"].as_array().ok_or("a list")?;
    match listed.iter().any(|g| g["id"] == fixture.group_id.as_str()) {
        true => Ok(()),
        false => Err("the PRIVATE group is listed"),
    }
}

fn no_group(data: &Value, _: &Fixture) -> Result<(), &'static str> {
    match data["groups"]["totalCount"] == 0 {
        true => Ok(()),
        false => Err("searching for the canary finds no group"),
    }
}

fn all_null(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let nodes = data["nodes"].as_array().ok_or("a list")?;
    match nodes.len() == fixture.hidden_ids.len() && nodes.iter().all(Value::is_null) {
        true => Ok(()),
        false => Err("every hidden node is null"),
    }
}

fn viewer_in_no_group(data: &Value, _: &Fixture) -> Result<(), &'static str> {
    match data["viewer"]["groups"]["totalCount"].as_u64().unwrap_or(0) {
        0 => Ok(()),
        _ => Err("the viewer is in no group"),
    }
}

fn user_not_in_group(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let groups = data["user"]["groups"]["nodes"].as_array().ok_or("a list")?;
    match groups.iter().any(|g| g["id"] == fixture.group_id.as_str()) {
        true => Err("the group is not among the user's groups"),
        false => Ok(()),
    }
}

/// Runs one probe as `viewer`; the failure, if any.
async fn run(
    server: &TestServer,
    fixture: &Fixture,
    viewer: Option<&User>,
    probe: &Probe,
) -> Result<(), String> {
    let token = viewer.map(|u| u.token.as_str());
    let body = server
        .gql(token, &probe.query, probe.variables.clone())
        .await;
    if body.to_string().to_lowercase().contains(&fixture.canary) {
        return Err(format!("the canary leaked: {body:#}"));
    }
    match &probe.expect {
        Expect::Answers(check) => {
            if body.get("errors").is_some() {
                return Err(format!("unexpected errors: {body:#}"));
            }
            check(&body["data"], fixture).map_err(|e| format!("{e}: {body:#}"))
        }
        Expect::ForbiddenAt(paths) => {
            let errors = body["errors"].as_array().cloned().unwrap_or_default();
            for path in paths {
                let mut value = &body["data"];
                for key in path {
                    value = &value[key];
                }
                if !value.is_null() {
                    return Err(format!("{path:?} is hidden: {body:#}"));
                }
                let forbidden = errors
                    .iter()
                    .any(|e| e["path"] == json!(path) && e["extensions"]["code"] == "FORBIDDEN");
                if !forbidden {
                    return Err(format!("a FORBIDDEN error at {path:?}: {body:#}"));
                }
            }
            Ok(())
        }
        Expect::NotFoundLike(unknown) => {
            let mut variables = probe.variables.clone();
            variables["id"] = json!(unknown);
            let missing = server.gql(token, &probe.query, variables).await;
            if error_code(&body) != Some("NOT_FOUND") || !body["data"]["node"].is_null() {
                return Err(format!("NOT_FOUND: {body:#}"));
            }
            if body != missing {
                return Err(format!(
                    "answers like an unknown ID: {body:#} vs {missing:#}"
                ));
            }
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_private_groups_content_never_reaches_outsiders() {
    each_backend(|server| async move {
        let owner = server.register("olga").await;
        let (fixture, removed, banned) = plant(&server, &owner).await;
        let outsider = server.register("nina").await;
        let viewers = [
            ("anonymous", None),
            ("non-member", Some(&outsider)),
            ("removed member", Some(&removed)),
            ("banned member", Some(&banned)),
        ];

        let mut failures = Vec::new();
        for (who, viewer) in viewers {
            for probe in probes(&fixture) {
                if let Err(failure) = run(&server, &fixture, viewer, &probe).await {
                    failures.push(format!(
                        "[{:?}] {who} / {}: {failure}",
                        server.backend, probe.what
                    ));
                }
            }
            for id in &fixture.files {
                for range in [None, Some("bytes=0-100"), Some("bytes=-20")] {
                    let hidden = status_and_body(download(&server, viewer, id, range).await).await;
                    let unknown =
                        status_and_body(download(&server, viewer, &unknown_like(id), range).await)
                            .await;
                    let leaked = String::from_utf8_lossy(&hidden.1)
                        .to_lowercase()
                        .contains(&fixture.canary);
                    if hidden.0 != 404 || hidden != unknown || leaked {
                        failures.push(format!(
                            "[{:?}] {who} / GET /files/{id} {range:?}: {} {:?}",
                            server.backend,
                            hidden.0,
                            String::from_utf8_lossy(&hidden.1)
                        ));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );

        // The canary member's own profile is public by design; only its groups are checked above.
        let profile = server
            .ok(
                None,
                "query($h: String!) { user(handle: $h) { handle } }",
                json!({ "h": fixture.canary_handle }),
            )
            .await;
        assert_eq!(profile["user"]["handle"], fixture.canary_handle.as_str());

        // Control: the same probes reach the content for the owner, so a leak would show.
        for id in &fixture.files {
            let response = download(&server, Some(&owner), id, None).await;
            assert_eq!(response.status(), 200);
            let bytes = response.bytes().await.expect("body");
            assert!(String::from_utf8_lossy(&bytes).contains(&fixture.canary));
        }
        for probe in probes(&fixture) {
            let body = server
                .gql(Some(&owner.token), &probe.query, probe.variables.clone())
                .await;
            match probe.expect {
                Expect::NotFoundLike(_)
                    if probe.variables["id"] == fixture.removed_membership.as_str() =>
                {
                    assert_eq!(
                        error_code(&body),
                        Some("NOT_FOUND"),
                        "a removed membership is gone"
                    );
                }
                Expect::NotFoundLike(_) => {
                    assert!(
                        body.get("errors").is_none(),
                        "owner / {}: {body:#}",
                        probe.what
                    );
                    assert!(!body["data"]["node"].is_null(), "owner / {}", probe.what);
                }
                Expect::ForbiddenAt(_) => {
                    assert!(
                        body.get("errors").is_none(),
                        "owner / {}: {body:#}",
                        probe.what
                    );
                    assert!(
                        body.to_string().to_lowercase().contains(&fixture.canary),
                        "owner / {} reaches the canary: {body:#}",
                        probe.what
                    );
                }
                Expect::Answers(_) => {}
            }
        }
        let nodes = server
            .ok(
                Some(&owner.token),
                &format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_CONTENT} }} }}"),
                json!({ "ids": fixture.hidden_ids }),
            )
            .await;
        assert!(nodes.to_string().to_lowercase().contains(&fixture.canary));
    })
    .await;
}
