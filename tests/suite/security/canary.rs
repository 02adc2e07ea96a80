//! The canary sweep (SECURITY.md): a unique word is put everywhere a PRIVATE and a SECRET group
//! keep content — the SECRET group's slug, name and description, thread titles, opening posts,
//! replies, an earlier revision, presentations and their files, the member lists (a member's
//! handle and display name), a join request, the moderation log's reasons — and then every root
//! query field, every subscription and the file route are called as each kind of outsider. The
//! word never appears, and each hidden object answers exactly like one that never existed.
//!
//! The selections are generated from `schema.graphql`, so a field added to any type is swept
//! without touching this file; a root field added to `Query` fails the sweep until it has a
//! probe here, and every `Subscription` field is subscribed to with the IDs its arguments name.
//!
//! By design, a PRIVATE group's listing (slug, name, description) is public, so the canary stays
//! out of it; so are a user's handle and display name, so the canary member's own profile is
//! read without them.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::sdl::{Selection, assert_fits, schema};
use crate::harness::{TestServer, User, each_backend, error_code};
use crate::live::fixtures::{Edge, REPLY_ADDED, open};
use crate::membership::{join, mutate, mutate_ok};
use crate::presentations::{FilePart, download, share, shared, status_and_body};

const SLUG: &str = "practice-circle";

/// How long an outsider's websocket keeps being read after the witness heard the canary.
const AFTERMATH: Duration = Duration::from_millis(300);

/// What a probe must answer, besides never containing the canary.
enum Expect {
    /// Answers, and what it answers passes the check; the only errors allowed are
    /// `FORBIDDEN` on the members-only fields of a group the viewer may list.
    Answers(fn(&Value, &Fixture) -> Result<(), &'static str>),
    /// The members-only field (second) of the group at this root (first) is null, with a
    /// `FORBIDDEN` error there.
    ForbiddenAt(&'static str, String),
    /// `NOT_FOUND`, byte for byte the answer to the same query with these variables, which
    /// name nothing.
    NotFoundLike(Value),
}

struct Probe {
    /// The `Query` field the probe calls.
    root: &'static str,
    what: String,
    query: String,
    variables: Value,
    expect: Expect,
}

/// What the owner set up, and the IDs they can see.
struct Fixture {
    canary: String,
    private_group: String,
    secret_group: String,
    secret_slug: String,
    canary_handle: String,
    /// Everyone who took part, whose profiles anyone may read.
    handles: Vec<String>,
    /// Every thread, post, revision, presentation, membership and log entry ID of both groups,
    /// including the removed members' former memberships, and the SECRET group's own ID.
    hidden_ids: Vec<String>,
    /// Memberships that no longer exist, for anyone.
    removed_memberships: Vec<String>,
    /// Presentations with a file.
    files: Vec<String>,
    /// The PRIVATE group's thread, and the SECRET group's.
    threads: [String; 2],
    /// The PRIVATE thread's opening post, as a position to replay from.
    opening: Edge,
    /// A post of each thread, to edit and react to once the outsiders listen.
    posts: [String; 2],
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

/// Asks to join and has the owner approve; returns the membership ID.
async fn admit(server: &TestServer, owner: &User, user: &User, group: &str) -> String {
    let asked = join(server, user, group, Some("I work on this")).await;
    let id = asked["data"]["joinGroup"]["membership"]["id"].clone();
    mutate_ok(
        server,
        owner,
        "approveMembership",
        json!({ "membershipId": id }),
        "membership { id }",
    )
    .await;
    id.as_str().expect("membership id").to_owned()
}

/// Invites `user` to a SECRET group and has them accept; returns the membership ID.
async fn invite(server: &TestServer, owner: &User, user: &User, group: &str) -> String {
    let invited = mutate_ok(
        server,
        owner,
        "inviteMember",
        json!({ "groupId": group, "handle": user.handle }),
        "membership { id }",
    )
    .await;
    let id = invited["membership"]["id"].clone();
    mutate_ok(
        server,
        user,
        "acceptInvitation",
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

/// A thread with its opening post; returns the thread's and the post's IDs.
async fn thread(server: &TestServer, author: &User, group: &str, title: &str) -> (String, String) {
    let started = mutate_ok(
        server,
        author,
        "startThread",
        json!({ "groupId": group, "title": title, "body": format!("Opening {title}") }),
        "thread { id } post { id }",
    )
    .await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
    (id(&started["thread"]), id(&started["post"]))
}

/// Puts the canary everywhere in a PRIVATE and a SECRET group; returns what the probes need,
/// and a member removed from both and one banned from both.
async fn plant(server: &TestServer, owner: &User) -> (Fixture, User, User) {
    let canary = format!("canary{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let group = server.create_group(owner, SLUG, "PRIVATE", "REQUEST").await;
    // The SECRET group carries the canary in its slug, and so in its name and description.
    let secret_slug = format!("hidden-{canary}");
    let secret = server
        .create_group(owner, &secret_slug, "SECRET", "INVITE")
        .await;

    // The member lists: a member named after the canary.
    let canary_handle = format!("m-{canary}");
    let bird = register(server, &canary_handle, &format!("Member {canary}")).await;
    admit(server, owner, &bird, &group).await;
    invite(server, owner, &bird, &secret).await;
    let ben = server.register("ben").await;
    admit(server, owner, &ben, &group).await;
    let rita = server.register("rita").await;
    let ritas = admit(server, owner, &rita, &group).await;
    let ritas_secret = invite(server, owner, &rita, &secret).await;
    let bea = server.register("bea").await;
    admit(server, owner, &bea, &group).await;
    invite(server, owner, &bea, &secret).await;
    // A join request that stays pending.
    let paul = server.register("paul").await;
    let asked = join(server, &paul, &group, Some(&format!("About {canary}"))).await;
    assert_eq!(
        asked["data"]["joinGroup"]["membership"]["state"], "PENDING",
        "{asked:#}"
    );

    // A thread, its opening post and replies, one of them by the member who will be removed.
    let started = mutate_ok(
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
    let private_thread = started["thread"]["id"].as_str().expect("thread").to_owned();
    let opening = started["post"]["id"].clone();
    let reply =
        |body: String| json!({ "threadId": private_thread, "body": body, "replyToId": opening });
    let post = "post { id }";
    mutate_ok(
        server,
        &bird,
        "postReply",
        reply(format!("Reply with **{canary}**")),
        post,
    )
    .await;
    mutate_ok(
        server,
        &rita,
        "postReply",
        reply(format!("Rita on {canary}")),
        post,
    )
    .await;
    let answer = mutate_ok(
        server,
        &bea,
        "postReply",
        reply(format!("[{canary}](https://example.org/{canary})")),
        post,
    )
    .await;
    let answer = &answer["post"]["id"];
    mutate_ok(
        server,
        &ben,
        "markAnswer",
        json!({ "postId": answer }),
        "thread { id }",
    )
    .await;

    // A post whose earlier version alone holds the canary.
    let edited = mutate_ok(
        server,
        &ben,
        "postReply",
        reply(format!("Draft mentioning {canary}")),
        post,
    )
    .await;
    let edited = &edited["post"]["id"];
    let post = mutate_ok(
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
                "threadId": private_thread,
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

    // The SECRET group's own thread and file.
    let (secret_thread, secret_post) =
        thread(server, owner, &secret, &format!("Secret {canary}")).await;
    let secret_file = shared(
        &share(
            server,
            &bird,
            json!({ "groupId": secret, "threadId": secret_thread, "title": format!("Secret slides {canary}") }),
            Some(FilePart::pdf(&format!("secret-{canary}.pdf"), &file)),
        )
        .await,
    );

    // Moderation: the logs name the threads and the canary member, and carry reasons.
    for thread in [&private_thread, &secret_thread] {
        mutate_ok(
            server,
            owner,
            "pinThread",
            json!({ "threadId": thread }),
            "thread { isPinned }",
        )
        .await;
    }
    for (membership, group) in [(&ritas, &group), (&ritas_secret, &secret)] {
        mutate_ok(
            server,
            owner,
            "removeMember",
            json!({ "membershipId": membership, "reason": format!("Removed: {canary} from {group}") }),
            "deletedId",
        )
        .await;
    }
    for group in [&group, &secret] {
        mutate_ok(
            server,
            owner,
            "banMember",
            json!({ "groupId": group, "userId": bea.id, "reason": format!("Banned: {canary}") }),
            "membership { id }",
        )
        .await;
    }

    // What the owner sees: every ID, and the canary in it.
    let mut hidden_ids = vec![secret.clone()];
    let mut seen_text = String::new();
    for slug in [SLUG, secret_slug.as_str()] {
        for seen in read_everything(server, &owner.token, slug).await {
            seen_text.push_str(&seen.to_string().to_lowercase());
            collect_ids(&seen, &mut hidden_ids);
        }
    }
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
        format!("secret {canary}"),
        format!("group {secret_slug}"),
        format!("secret-{canary}.pdf"),
    ] {
        assert!(
            seen_text.contains(&place),
            "the owner reads {place:?}: {seen_text}"
        );
    }
    hidden_ids.retain(|id| !id.starts_with("usr_") && id != &group);
    hidden_ids.sort();
    hidden_ids.dedup();
    hidden_ids.push(ritas.clone());
    hidden_ids.push(ritas_secret.clone());
    assert!(
        hidden_ids.len() <= 90,
        "nodes(ids:) takes them all within the document limits: {}",
        hidden_ids.len()
    );
    for prefix in ["thr_", "pst_", "rev_", "prs_", "mem_", "log_", "grp_"] {
        assert!(
            hidden_ids.iter().any(|id| id.starts_with(prefix)),
            "an ID of kind {prefix}"
        );
    }
    let private_opening = opening.as_str().expect("post id").to_owned();
    let cursor = server
        .ok(
            Some(&owner.token),
            "query($id: ID!) { node(id: $id) { ... on Thread { posts(first: 1) { edges { cursor node { id } } } } } }",
            json!({ "id": private_thread }),
        )
        .await;
    let fixture = Fixture {
        canary,
        private_group: group,
        secret_group: secret,
        secret_slug,
        canary_handle,
        handles: ["olga", "ben", "rita", "bea", "paul", "nina"]
            .map(str::to_owned)
            .to_vec(),
        hidden_ids,
        removed_memberships: vec![ritas, ritas_secret],
        files: [&with_file, &secret_file]
            .map(|p| p["id"].as_str().expect("id").to_owned())
            .to_vec(),
        threads: [private_thread, secret_thread],
        opening: Edge::of(&cursor["node"]["posts"]["edges"][0]),
        posts: [private_opening, secret_post],
    };
    (fixture, rita, bea)
}

/// Everything `token` reads of the group `slug`: each part of the group, then every thread and
/// post it lists, each through every field, in documents within the server's limits.
pub(super) async fn read_everything(server: &TestServer, token: &str, slug: &str) -> Vec<Value> {
    let schema = schema();
    let mut bodies = Vec::new();
    for (_, part) in schema.group_parts() {
        let query = format!(
            "query($slug: String!) {{ group(slug: $slug) {{ id {} }} }}",
            part.text
        );
        bodies.push(
            server
                .ok(Some(token), &query, json!({ "slug": slug }))
                .await,
        );
    }
    // Every item of every list of the group, page by page, however many there are.
    for (list, _) in schema.group_parts().iter().skip(1) {
        let mut after: Option<String> = None;
        loop {
            let query = format!(
                "query($slug: String!, $after: String) {{ group(slug: $slug) {{ \
                 {list}(first: 50, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }} }}"
            );
            let page = server
                .ok(Some(token), &query, json!({ "slug": slug, "after": after }))
                .await;
            let items = &page["group"][list];
            after = items["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            let more = items["pageInfo"]["hasNextPage"] == true;
            bodies.push(page);
            if !more {
                break;
            }
        }
    }
    // Then every object met so far and along the way, through every field.
    let mut queue = Vec::new();
    bodies.iter().for_each(|body| collect_ids(body, &mut queue));
    let mut seen = BTreeSet::new();
    while let Some(id) = queue.pop() {
        let kind = id.split('_').next().unwrap_or_default();
        if !["thr", "pst", "rev", "prs", "mem", "log"].contains(&kind) || !seen.insert(id.clone()) {
            continue;
        }
        let ty = type_of(&id);
        let query = format!(
            "query($id: ID!) {{ node(id: $id) {{ ... on {ty} {{ {} }} }} }}",
            schema.everything(ty, 1).text
        );
        let body = server.ok(Some(token), &query, json!({ "id": id })).await;
        collect_ids(&body, &mut queue);
        bodies.push(body);
    }
    bodies
}

/// The type an ID names, by its prefix.
fn type_of(id: &str) -> &'static str {
    match id.split('_').next() {
        Some("usr") => "User",
        Some("grp") => "Group",
        Some("mem") => "Membership",
        Some("thr") => "Thread",
        Some("pst") => "Post",
        Some("rev") => "PostRevision",
        Some("prs") => "Presentation",
        Some("log") => "ModerationLogEntry",
        Some("ses") => "Session",
        other => panic!("an ID of an unknown kind: {other:?}"),
    }
}

fn allow_anything(_: &Value, _: &Fixture) -> Result<(), &'static str> {
    Ok(())
}

/// The probe table: every root `Query` field, called every way that could reach the groups'
/// content, and what each must answer besides never carrying the canary. Selections are
/// generated from the schema, split into documents within the server's limits.
fn probes(fixture: &Fixture) -> Vec<Probe> {
    let schema = schema();
    let canary = fixture.canary.as_str();
    let members_only = schema.members_only_group_fields();
    let parts = schema.group_parts();
    let listing = &parts[0].1.text;
    let groups = format!(
        "query($q: String, $mine: GroupMembershipFilter! = ALL) {{ \
         groups(first: 50, query: $q, membership: $mine) {{ totalCount nodes {{ {listing} }} }} }}"
    );
    let mut probes = vec![
        probe(
            "groups",
            "groups",
            &groups,
            json!({}),
            Expect::Answers(lists_the_private_group_only),
        ),
        probe(
            "groups",
            "groups(query: canary)",
            &groups,
            json!({ "q": canary }),
            Expect::Answers(no_group),
        ),
        probe(
            "groups",
            "groups(query: canary, membership: MINE)",
            &groups,
            json!({ "q": canary, "mine": "MINE" }),
            Expect::Answers(no_group),
        ),
        probe(
            "groups",
            "groups(query: the SECRET slug)",
            &groups,
            json!({ "q": fixture.secret_slug }),
            Expect::Answers(no_group),
        ),
    ];
    let no_such_slug = format!(
        "hidden-canary{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    for (part, selection) in &parts {
        let by_slug = format!(
            "query($slug: String!) {{ group(slug: $slug) {{ id {} }} }}",
            selection.text
        );
        let by_id = format!(
            "query($id: ID!) {{ node(id: $id) {{ ... on Group {{ id {} }} }} }}",
            selection.text
        );
        let private = |root| match members_only.contains(part) {
            true => Expect::ForbiddenAt(root, part.clone()),
            false => Expect::Answers(allow_anything),
        };
        probes.push(probe(
            "group",
            &format!("group(slug:) of the PRIVATE group: {part}"),
            &by_slug,
            json!({ "slug": SLUG }),
            private("group"),
        ));
        probes.push(probe(
            "node",
            &format!("node(id:) of the PRIVATE group: {part}"),
            &by_id,
            json!({ "id": fixture.private_group }),
            private("node"),
        ));
        probes.push(probe(
            "group",
            &format!("group(slug:) of the SECRET group: {part}"),
            &by_slug,
            json!({ "slug": fixture.secret_slug }),
            Expect::NotFoundLike(json!({ "slug": no_such_slug })),
        ));
    }
    probes.push(probe(
        "nodes",
        "nodes(ids:) of every hidden object",
        &format!(
            "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {} }} }}",
            schema.select("Node", 0, &[]).text
        ),
        json!({ "ids": fixture.hidden_ids }),
        Expect::Answers(all_null),
    ));
    let user = schema.everything("User", 1).text;
    probes.push(probe(
        "viewer",
        "viewer, every field",
        &format!("{{ viewer {{ {user} }} }}"),
        json!({}),
        Expect::Answers(in_no_group),
    ));
    let profile = format!("query($h: String!) {{ user(handle: $h) {{ {user} }} }}");
    for handle in &fixture.handles {
        probes.push(probe(
            "user",
            &format!("user(handle: {handle}), every field"),
            &profile,
            json!({ "h": handle }),
            Expect::Answers(in_no_hidden_group),
        ));
    }
    // The canary member's handle and display name are public by design; everything else
    // about them is swept.
    let public_fields = schema.select_except("User", 2, &[20, 5], &["handle", "displayName"]);
    probes.push(probe(
        "user",
        "user(handle: the canary member), every field but the public name",
        &format!(
            "query($h: String!) {{ user(handle: $h) {{ {} }} }}",
            public_fields.text
        ),
        json!({ "h": fixture.canary_handle }),
        Expect::Answers(in_no_hidden_group),
    ));
    for id in &fixture.hidden_ids {
        let ty = type_of(id);
        probes.push(probe(
            "node",
            &format!("node(id: {id})"),
            &format!(
                "query($id: ID!) {{ node(id: $id) {{ id ... on {ty} {{ {} }} }} }}",
                schema.everything(ty, 1).text
            ),
            json!({ "id": id }),
            Expect::NotFoundLike(json!({ "id": unknown_like(id) })),
        ));
    }
    probes
}

fn probe(root: &'static str, what: &str, query: &str, variables: Value, expect: Expect) -> Probe {
    Probe {
        root,
        what: what.to_owned(),
        query: query.to_owned(),
        variables,
        expect,
    }
}

fn group_ids(connection: &Value) -> Result<Vec<&str>, &'static str> {
    connection["nodes"]
        .as_array()
        .ok_or("a list of groups")?
        .iter()
        .map(|g| g["id"].as_str().ok_or("a group ID"))
        .collect()
}

/// The listing of a PRIVATE group is public by design; the SECRET group is not listed.
fn lists_the_private_group_only(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let listed = group_ids(&data["groups"])?;
    if !listed.contains(&fixture.private_group.as_str()) {
        return Err("the PRIVATE group is listed");
    }
    match listed.contains(&fixture.secret_group.as_str()) {
        true => Err("the SECRET group is not listed"),
        false => Ok(()),
    }
}

fn no_group(data: &Value, _: &Fixture) -> Result<(), &'static str> {
    match data["groups"]["totalCount"] == 0 {
        true => Ok(()),
        false => Err("searching finds no group"),
    }
}

fn all_null(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let nodes = data["nodes"].as_array().ok_or("a list")?;
    match nodes.len() == fixture.hidden_ids.len() && nodes.iter().all(Value::is_null) {
        true => Ok(()),
        false => Err("every hidden node is null"),
    }
}

fn in_no_group(data: &Value, _: &Fixture) -> Result<(), &'static str> {
    match data["viewer"]["groups"]["totalCount"].as_u64().unwrap_or(0) {
        0 => Ok(()),
        _ => Err("the viewer is in no group"),
    }
}

fn in_no_hidden_group(data: &Value, fixture: &Fixture) -> Result<(), &'static str> {
    let groups = group_ids(&data["user"]["groups"])?;
    let hidden = [&fixture.private_group, &fixture.secret_group];
    match groups.iter().any(|g| hidden.iter().any(|h| h == g)) {
        true => Err("neither group is among the user's groups"),
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
    let members_only = schema().members_only_group_fields();
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    match &probe.expect {
        Expect::Answers(check) => {
            let unexpected = errors.iter().find(|e| {
                let last = e["path"].as_array().and_then(|p| p.last()).cloned();
                e["extensions"]["code"] != "FORBIDDEN"
                    || !last.is_some_and(|f| members_only.iter().any(|m| f == m.as_str()))
            });
            if let Some(error) = unexpected {
                return Err(format!("unexpected error {error}: {body:#}"));
            }
            check(&body["data"], fixture).map_err(|e| format!("{e}: {body:#}"))
        }
        Expect::ForbiddenAt(root, field) => {
            if !body["data"][root][field].is_null() {
                return Err(format!("{root}.{field} is hidden: {body:#}"));
            }
            let path = json!([root, field]);
            let forbidden = errors
                .iter()
                .any(|e| e["path"] == path && e["extensions"]["code"] == "FORBIDDEN");
            match forbidden && errors.len() == 1 {
                true => Ok(()),
                false => Err(format!("one FORBIDDEN error, at {path}: {body:#}")),
            }
        }
        Expect::NotFoundLike(nothing) => {
            let missing = server.gql(token, &probe.query, nothing.clone()).await;
            if error_code(&body) != Some("NOT_FOUND") {
                return Err(format!("NOT_FOUND: {body:#}"));
            }
            if body != missing {
                return Err(format!("answers like nothing: {body:#} vs {missing:#}"));
            }
            Ok(())
        }
    }
}

/// A subscription's variable: its name, its GraphQL type and its value.
type Variable = (String, String, Value);

/// Every `Subscription` field of the schema, once for each ID its arguments could name: the
/// subscription ID, the document and its variables.
fn subscriptions(fixture: &Fixture) -> Vec<(String, String, Value)> {
    let schema = schema();
    let mut out = Vec::new();
    for field in schema.fields("Subscription") {
        let mut targets: Vec<(String, Vec<Variable>)> = Vec::new();
        for arg in &field.args {
            let (ty, values): (&str, Vec<Value>) = match arg.name.as_str() {
                "threadId" => ("ID!", fixture.threads.iter().map(|t| json!(t)).collect()),
                "groupId" => (
                    "ID!",
                    vec![json!(fixture.private_group), json!(fixture.secret_group)],
                ),
                "after" => ("String", vec![json!(fixture.opening.cursor)]),
                other => panic!(
                    "Subscription.{}({other}:) is new: teach the canary sweep a value for it",
                    field.name
                ),
            };
            targets.push((
                arg.name.clone(),
                values
                    .into_iter()
                    .map(|v| (arg.name.clone(), ty.to_owned(), v))
                    .collect(),
            ));
        }
        // One subscription per value of the first argument; the others keep their first value.
        let first = targets.first().map(|(_, values)| values.len()).unwrap_or(1);
        for n in 0..first {
            let chosen: Vec<&Variable> = targets
                .iter()
                .enumerate()
                .map(|(i, (_, values))| &values[if i == 0 { n } else { 0 }])
                .collect();
            let declarations: Vec<String> = chosen
                .iter()
                .map(|(name, ty, _)| format!("${name}: {ty}"))
                .collect();
            let arguments: Vec<String> = chosen
                .iter()
                .map(|(name, _, _)| format!("{name}: ${name}"))
                .collect();
            let variables: serde_json::Map<String, Value> = chosen
                .iter()
                .map(|(name, _, value)| (name.clone(), value.clone()))
                .collect();
            let selection = schema.everything(&field.ty.name, 1).text;
            out.push((
                format!("{}-{n}", field.name),
                format!(
                    "subscription({}) {{ {}({}) {{ {selection} }} }}",
                    declarations.join(", "),
                    field.name,
                    arguments.join(", ")
                ),
                Value::Object(variables),
            ));
        }
    }
    out
}

#[tokio::test]
async fn a_private_or_secret_groups_content_never_reaches_outsiders() {
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

        // Every root field of Query has its probes.
        let probes = probes(&fixture);
        let swept: BTreeSet<String> = probes.iter().map(|p| p.root.to_owned()).collect();
        assert_eq!(
            swept,
            schema().field_names("Query"),
            "every Query field is swept; add probes for a new one"
        );

        let mut failures = Vec::new();
        for (who, viewer) in viewers {
            for probe in &probes {
                if let Err(failure) = run(&server, &fixture, viewer, probe).await {
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

        // Every subscription, as every outsider: refused exactly as for an ID that names
        // nothing, and silent while the groups live on.
        let subscriptions = subscriptions(&fixture);
        let mut sockets = Vec::new();
        for (who, viewer) in viewers {
            let mut ws = open(&server, viewer).await;
            for (id, query, variables) in &subscriptions {
                ws.subscribe(id, query, variables.clone()).await;
                let refused = ws.expect_refusal(id, "NOT_FOUND").await;
                let mut nothing = variables.clone();
                for (name, value) in nothing.as_object_mut().expect("variables") {
                    if let Some(id) = value.as_str().filter(|_| name.ends_with("Id")) {
                        *value = json!(unknown_like(id));
                    }
                }
                let never = format!("{id}-nothing");
                ws.subscribe(&never, query, nothing).await;
                assert_eq!(
                    refused,
                    ws.expect_refusal(&never, "NOT_FOUND").await,
                    "{who} / {id}: refused like an ID that names nothing"
                );
            }
            sockets.push((who, ws));
        }
        let mut witness = open(&server, Some(&owner)).await;
        witness
            .subscribe(
                "replies",
                REPLY_ADDED,
                json!({ "thread": fixture.threads[0], "after": fixture.opening.cursor }),
            )
            .await;
        let canary = &fixture.canary;
        for (thread, post) in fixture.threads.iter().zip(&fixture.posts) {
            mutate_ok(
                &server,
                &owner,
                "postReply",
                json!({ "threadId": thread, "body": format!("Live {canary}") }),
                "post { id }",
            )
            .await;
            mutate_ok(
                &server,
                &owner,
                "editPost",
                json!({ "postId": post, "body": format!("Live edit {canary}") }),
                "post { id }",
            )
            .await;
            mutate_ok(
                &server,
                &owner,
                "addReaction",
                json!({ "subjectId": post, "content": "HEART" }),
                "post { id }",
            )
            .await;
        }
        for group in [&fixture.private_group, &fixture.secret_group] {
            mutate_ok(
                &server,
                &owner,
                "startThread",
                json!({ "groupId": group, "title": format!("Live {canary}"), "body": canary }),
                "thread { id }",
            )
            .await;
        }
        let applicant = register(
            &server,
            &format!("a-{canary}"),
            &format!("Applicant {canary}"),
        )
        .await;
        join(&server, &applicant, &fixture.private_group, Some(canary)).await;
        loop {
            let event = witness.next_data("replies", "replyAdded").await;
            if event["node"]["body"] == format!("Live {canary}") {
                break;
            }
        }
        for (who, mut ws) in sockets {
            let late = ws.quiet(AFTERMATH).await;
            assert!(late.is_empty(), "{who} heard more: {late:#?}");
            assert!(
                !ws.transcript().to_lowercase().contains(canary),
                "{who} never hears the canary: {}",
                ws.transcript()
            );
            ws.close().await;
        }

        // Control: the same probes reach the content for the owner, so a leak would show.
        for id in &fixture.files {
            let response = download(&server, Some(&owner), id, None).await;
            assert_eq!(response.status(), 200);
            let bytes = response.bytes().await.expect("body");
            assert!(String::from_utf8_lossy(&bytes).contains(canary.as_str()));
        }
        for probe in &probes {
            let body = server
                .gql(Some(&owner.token), &probe.query, probe.variables.clone())
                .await;
            let removed = fixture
                .removed_memberships
                .iter()
                .any(|m| probe.variables["id"] == m.as_str());
            match probe.expect {
                Expect::NotFoundLike(_) if removed => {
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
                    let data = body["data"].as_object().expect("data");
                    assert!(
                        data.values().all(|v| !v.is_null()),
                        "owner / {}",
                        probe.what
                    );
                }
                Expect::ForbiddenAt(..) => {
                    assert!(
                        body.get("errors").is_none(),
                        "owner / {}: {body:#}",
                        probe.what
                    );
                    assert!(
                        body.to_string().to_lowercase().contains(canary.as_str()),
                        "owner / {} reaches the canary: {body:#}",
                        probe.what
                    );
                }
                Expect::Answers(_) => {}
            }
        }
        let mut owners = open(&server, Some(&owner)).await;
        for (id, query, variables) in &subscriptions {
            owners.subscribe(id, query, variables.clone()).await;
        }
        assert!(
            owners
                .quiet(AFTERMATH)
                .await
                .iter()
                .all(|m| m["type"] != "complete"),
            "the owner may subscribe to everything: {}",
            owners.transcript()
        );
    })
    .await;
}

/// A retried creation returns its first result (API.md), but only to a viewer who may still
/// read it: a member removed or banned since then, retrying with their old key, must not read
/// the thread as it is now.
#[tokio::test]
async fn a_retried_creation_shows_nothing_to_a_member_who_has_left() {
    each_backend(|server| async move {
        let owner = server.register("olga").await;
        let group = server.create_group(&owner, SLUG, "PRIVATE", "REQUEST").await;
        let (owners_thread, _) = thread(&server, &owner, &group, "Agenda").await;
        let removed = server.register("rita").await;
        let banned = server.register("bea").await;
        let memberships = [
            admit(&server, &owner, &removed, &group).await,
            admit(&server, &owner, &banned, &group).await,
        ];

        let thread_input = json!({ "groupId": group, "title": "Mine", "body": "Hello", "idempotencyKey": "t-1" });
        let reply_input = json!({ "threadId": owners_thread, "body": "Me too", "idempotencyKey": "r-1" });
        let share_input = json!({ "groupId": group, "threadId": owners_thread, "title": "Slides", "recordingUrl": "https://example.org/r", "idempotencyKey": "p-1" });
        let everything_thread = format!("thread {{ {} }}", schema().everything("Thread", 1).text);
        let everything_post = format!("post {{ {} }}", schema().everything("Post", 1).text);
        let everything_presentation = format!(
            "presentation {{ {} }}",
            schema().everything("Presentation", 1).text
        );
        let retries = [
            ("startThread", &thread_input, everything_thread.as_str()),
            ("postReply", &reply_input, everything_post.as_str()),
            ("sharePresentation", &share_input, everything_presentation.as_str()),
        ];
        let mut own_threads = Vec::new();
        for user in [&removed, &banned] {
            for (mutation, input, _) in &retries {
                let body = mutate(&server, Some(user), mutation, (*input).clone(), "clientMutationId").await;
                assert!(body.get("errors").is_none(), "{mutation}: {body:#}");
            }
            let mine = server
                .ok(Some(&user.token), "query($slug: String!) { group(slug: $slug) { threads { nodes { id author { id } } } } }", json!({ "slug": SLUG }))
                .await;
            own_threads.extend(
                mine["group"]["threads"]["nodes"]
                    .as_array()
                    .expect("threads")
                    .iter()
                    .filter(|t| t["author"]["id"] == user.id.as_str())
                    .map(|t| t["id"].as_str().expect("id").to_owned()),
            );
        }
        mutate_ok(&server, &owner, "removeMember", json!({ "membershipId": memberships[0] }), "deletedId").await;
        mutate_ok(&server, &owner, "banMember", json!({ "groupId": group, "userId": banned.id }), "membership { id }").await;

        let canary = format!("canary{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        for thread in own_threads.iter().chain([&owners_thread]) {
            mutate_ok(&server, &owner, "postReply", json!({ "threadId": thread, "body": format!("After {canary}") }), "post { id }").await;
        }
        for user in [&removed, &banned] {
            for (mutation, input, selection) in &retries {
                let body = mutate(&server, Some(user), mutation, (*input).clone(), selection).await;
                assert!(
                    !body.to_string().contains(&canary),
                    "{mutation} retried by {} reads what came after: {body:#}",
                    user.handle
                );
                assert_eq!(error_code(&body), Some("NOT_FOUND"), "{mutation} by {}: {body:#}", user.handle);
            }
        }
    })
    .await;
}

#[test]
fn the_subscription_table_covers_every_subscription() {
    let fixture = Fixture {
        canary: "c".into(),
        private_group: "grp_1".into(),
        secret_group: "grp_2".into(),
        secret_slug: "s".into(),
        canary_handle: "h".into(),
        handles: Vec::new(),
        hidden_ids: Vec::new(),
        removed_memberships: Vec::new(),
        files: Vec::new(),
        threads: ["thr_1".into(), "thr_2".into()],
        opening: Edge {
            id: "pst_1".into(),
            cursor: "c".into(),
        },
        posts: ["pst_1".into(), "pst_2".into()],
    };
    let subscribed: BTreeSet<String> = subscriptions(&fixture)
        .into_iter()
        .map(|(id, _, _)| id.rsplit_once('-').expect("n").0.to_owned())
        .collect();
    assert_eq!(subscribed, schema().field_names("Subscription"));
}

/// Every document the sweep sends stays within the server's default document limits, with
/// room to spare, on a fixture as large as the test's.
#[test]
fn every_probe_fits_the_document_limits() {
    let prefixes = ["thr", "pst", "rev", "prs", "mem", "log", "ses", "grp"];
    let fixture = Fixture {
        canary: "canary0123456789ab".into(),
        private_group: "grp_1".into(),
        secret_group: "grp_2".into(),
        secret_slug: "hidden-canary0123456789ab".into(),
        canary_handle: "m-canary0123456789ab".into(),
        handles: vec!["olga".into()],
        hidden_ids: (0..90)
            .map(|i| unknown_like(prefixes[i % prefixes.len()]))
            .collect(),
        removed_memberships: Vec::new(),
        files: Vec::new(),
        threads: ["thr_1".into(), "thr_2".into()],
        opening: Edge {
            id: "pst_1".into(),
            cursor: "c".into(),
        },
        posts: ["pst_1".into(), "pst_2".into()],
    };
    let listing = &schema().group_parts()[0].1;
    let groups = Selection {
        cost: 50 * listing.cost + 2,
        depth: listing.depth + 2,
        text: String::new(),
    };
    assert_fits("groups(first: 50)", "", &groups);
    let node = schema().select("Node", 0, &[]);
    let nodes = Selection {
        cost: 90 * node.cost + 1,
        ..node
    };
    assert_fits("nodes(ids:) of 90 IDs", &nodes.text, &nodes);
    for probe in probes(&fixture) {
        assert!(probe.query.len() <= super::sdl::MAX_BYTES, "{}", probe.what);
    }
    for (what, query, _) in subscriptions(&fixture) {
        assert!(query.len() <= super::sdl::MAX_BYTES, "{what}");
    }
}
