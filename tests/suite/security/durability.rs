//! Crash durability (SECURITY.md, "Durability"): eight clients post replies to one thread while
//! the real `convene serve` is killed with SIGKILL at random moments and restarted on the same
//! data, five times. A client whose request a crash cut off sends it again once the server is
//! back, with the same body and idempotency key, until it is acknowledged. Then:
//!
//! - every post that was acknowledged is in the thread exactly once and whole: the ID, cursor,
//!   body and author it was acknowledged with;
//! - nothing else is there: no second copy from a retry, no post nobody was told about;
//! - a retry of a post that had committed before the crash was answered with that post;
//! - the counters agree with the posts listed: the thread's `replyCount`, `posts.totalCount`
//!   and `unreadCount` (counted from the rows), and the group's member and thread counts,
//!
//! on SQLite and on PostgreSQL. Each kill comes after a random pause of 100 to 600 ms, every
//! other one right at the next acknowledgment. The pauses come from a seed the test prints;
//! `DURABILITY_SEED=<seed>` replays them (how the clients interleave with them is up to the
//! machine).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use crate::harness::{
    Backend, REGISTER, User, backends, create_database, drop_database, register_variables,
};
use crate::process::ServerProcess;

const CLIENTS: usize = 8;
const CRASHES: usize = 5;
/// Clients post for 100 to 600 ms before each kill, and after the last restart.
const PAUSE_MS: (u64, u64) = (100, 600);
/// A guard against hangs, not a measure: how long a request or a round may take at most.
const PATIENCE: Duration = Duration::from_secs(60);
const OPENING: &str = "Field notes, one reply per visit.";

#[tokio::test]
async fn acknowledged_posts_survive_sigkill_exactly_once() {
    let seed = seed();
    for backend in backends() {
        crash_and_check(backend, seed).await;
    }
}

async fn crash_and_check(backend: Backend, seed: u64) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(create_database().await),
    };
    // The per-user posting rate limit is off: this test is about durability, not throughput
    // limits, and eight clients post as fast as the server answers.
    let env = [("CONVENE_POSTS_PER_USER_PER_MINUTE", "0")];
    let mut server = ServerProcess::start_on(dir.path(), database_url.as_deref(), &env).await;
    let forum = Forum::set_up(&server.url).await;

    let (phases, watching) = watch::channel(Phase {
        url: server.url.clone(),
        generation: 0,
        up: true,
        stopping: false,
    });
    let ledger = Ledger::default();
    let clients = forum
        .posters
        .iter()
        .enumerate()
        .map(|(n, user)| client(n + 1, user, &forum.thread, watching.clone(), &ledger));
    let mut rng = Rng(seed);
    let crashes = async {
        // What each restarted process found in the thread before the clients came back.
        let mut recovered = Vec::new();
        for crash in 1..=CRASHES {
            let before = ledger.acknowledged();
            tokio::time::sleep(rng.pause()).await;
            // Odd crashes strike when the pause ends, even ones right after the next
            // acknowledgment: the first kind catches replies committed but not yet acknowledged
            // (their retries must not add them twice), the second replies acknowledged but not
            // yet committed (they would be lost). Every process acknowledges something first.
            if crash % 2 == 0 || ledger.acknowledged() == before {
                ledger.next_ack().await;
            }
            phases.send_modify(|p| p.up = false);
            server.kill();
            server.restart().await;
            let found = by_id(read_posts(&server.url, &forum).await);
            ledger.assert_all_in(&found, &format!("[{backend:?}] after crash {crash}"));
            recovered.push(found);
            phases.send_modify(|p| {
                p.url = server.url.clone();
                p.generation = crash;
                p.up = true;
            });
        }
        tokio::time::sleep(rng.pause()).await;
        phases.send_modify(|p| p.stopping = true);
        recovered
    };
    let (_, recovered) = tokio::join!(join_all(clients), crashes);

    let acks = ledger.acks.into_inner().expect("ledger");
    let listed = read_posts(&server.url, &forum).await;
    let counters = read_counters(&server.url, &forum).await;
    let retried = check(backend, &forum, &acks, &recovered, &listed, &counters);
    println!(
        "[{backend:?}] seed {seed}: {} acknowledged posts checked; {} requests cut off by {CRASHES} \
         SIGKILLs; {} posts retried after a crash, {} of which had committed before it; {:.1?}",
        acks.len(),
        ledger.cut_off.load(Ordering::SeqCst),
        retried.retried,
        retried.committed_before,
        started.elapsed(),
    );
    drop(server);
    if let Some(url) = database_url {
        drop_database(&url).await;
    }
}

/// What the clients are told about the server.
#[derive(Debug, Clone)]
struct Phase {
    url: String,
    /// 0 for the first process, `k` for the one started after crash `k`.
    generation: usize,
    /// False from just before a kill until the next process is ready.
    up: bool,
    /// Post nothing new; finish what a crash cut off.
    stopping: bool,
}

/// A reply a client means to post, under its own idempotency key.
struct Attempt {
    key: String,
    body: String,
    /// How many times a crash cut this request off.
    cut_off: usize,
}

/// An acknowledged reply: what the client sent and what the server answered.
struct Ack {
    key: String,
    body: String,
    author: String,
    post: Seen,
    cut_off: usize,
    /// The process that answered.
    generation: usize,
}

/// What all clients were told, shared with the crashes.
#[derive(Default)]
struct Ledger {
    acks: Mutex<Vec<Ack>>,
    /// Woken at every acknowledgment.
    acked: Notify,
    cut_off: AtomicUsize,
}

impl Ledger {
    fn acknowledged(&self) -> usize {
        self.acks.lock().expect("ledger").len()
    }

    fn record(&self, ack: Ack) {
        self.acks.lock().expect("ledger").push(ack);
        self.acked.notify_one();
    }

    /// Returns as soon as one more post is acknowledged.
    async fn next_ack(&self) {
        let seen = self.acknowledged();
        let next = async {
            while self.acknowledged() == seen {
                self.acked.notified().await;
            }
        };
        tokio::time::timeout(PATIENCE, next)
            .await
            .expect("the clients stalled");
    }

    /// Every post acknowledged so far is in `found` under its ID, with its body.
    fn assert_all_in(&self, found: &HashMap<String, Seen>, when: &str) {
        for ack in self.acks.lock().expect("ledger").iter() {
            let post = found.get(&ack.post.id);
            assert!(
                post.is_some_and(|p| p.body == ack.body),
                "{when}: acknowledged {} is gone: {post:?}",
                ack.key
            );
        }
    }
}

/// One client: posts replies one after the other until told to stop. A request that a crash
/// cut off is sent again, once the next process is up, until it is acknowledged.
async fn client(
    n: usize,
    user: &User,
    thread: &str,
    mut phases: watch::Receiver<Phase>,
    ledger: &Ledger,
) {
    let mut http = (0, new_http());
    let mut retry: Option<Attempt> = None;
    let mut posted = 0;
    loop {
        let phase = phases.wait_for(|p| p.up).await.expect("phases").clone();
        if phase.stopping && retry.is_none() {
            return;
        }
        let attempt = retry.take().unwrap_or_else(|| {
            posted += 1;
            Attempt {
                key: format!("client-{n}-post-{posted}"),
                body: format!("Client {n}, post {posted}"),
                cut_off: 0,
            }
        });
        // A restarted server is a new connection pool, as a client reconnects.
        if http.0 != phase.generation {
            http = (phase.generation, new_http());
        }
        match post_reply(&http.1, &phase.url, &user.token, thread, &attempt).await {
            Ok(post) => {
                assert_eq!(
                    post.body, attempt.body,
                    "the answer to {} has its body",
                    attempt.key
                );
                ledger.record(Ack {
                    key: attempt.key,
                    body: attempt.body,
                    author: user.id.clone(),
                    post,
                    cut_off: attempt.cut_off,
                    generation: phase.generation,
                });
            }
            Err(error) => {
                let still_up = {
                    let now = phases.borrow();
                    now.up && now.generation == phase.generation
                };
                assert!(
                    !still_up,
                    "{} failed while the server was up: {error}",
                    attempt.key
                );
                ledger.cut_off.fetch_add(1, Ordering::SeqCst);
                retry = Some(Attempt {
                    cut_off: attempt.cut_off + 1,
                    ..attempt
                });
                phases
                    .wait_for(|p| p.up && p.generation > phase.generation)
                    .await
                    .expect("phases");
            }
        }
    }
}

fn new_http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("HTTP client")
}

/// How a post is read, in `postReply`'s edge and in `Thread.posts`.
const EDGE: &str = "cursor node { id body isDeleted author { id } }";

/// A post as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    id: String,
    cursor: String,
    body: String,
    author: String,
    deleted: bool,
}

impl Seen {
    #[track_caller]
    fn of(edge: &Value) -> Self {
        let text = |value: &Value| {
            value
                .as_str()
                .unwrap_or_else(|| panic!("a post edge: {edge:#}"))
                .to_owned()
        };
        let node = &edge["node"];
        Self {
            id: text(&node["id"]),
            cursor: text(&edge["cursor"]),
            body: text(&node["body"]),
            author: text(&node["author"]["id"]),
            deleted: node["isDeleted"]
                .as_bool()
                .unwrap_or_else(|| panic!("a post edge: {edge:#}")),
        }
    }
}

/// Sends one `postReply`. `Err` is a request the server never answered in full: a crash cut
/// it off. Any answer but a success fails the test: nothing here should be refused.
async fn post_reply(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    thread: &str,
    attempt: &Attempt,
) -> Result<Seen, reqwest::Error> {
    let response = http
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": format!("mutation($input: PostReplyInput!) {{ postReply(input: $input) {{ edge {{ {EDGE} }} }} }}"),
            "variables": { "input": {
                "threadId": thread,
                "body": attempt.body,
                "idempotencyKey": attempt.key,
            }},
        }))
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(
        status == 200 && answer.get("errors").is_none() && answer["data"].is_object(),
        "{} was refused ({status}): {}",
        attempt.key,
        String::from_utf8_lossy(&bytes)
    );
    Ok(Seen::of(&answer["data"]["postReply"]["edge"]))
}

/// Every post of the thread as the host reads it, the opening one first, page by page.
async fn read_posts(url: &str, forum: &Forum) -> Vec<Seen> {
    let query = format!(
        "query($id: ID!, $after: String) {{ node(id: $id) {{ ... on Thread {{
            posts(first: 100, after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ {EDGE} }} }} }} }} }}"
    );
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = ok(
            url,
            Some(&forum.host.token),
            &query,
            json!({ "id": forum.thread, "after": after }),
        )
        .await;
        let page = &data["node"]["posts"];
        all.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(Seen::of),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            return all;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

fn by_id(posts: Vec<Seen>) -> HashMap<String, Seen> {
    posts.into_iter().map(|p| (p.id.clone(), p)).collect()
}

/// The thread's and the group's counters, as the host (who never marked anything read) sees
/// them.
async fn read_counters(url: &str, forum: &Forum) -> Value {
    ok(
        url,
        Some(&forum.host.token),
        "query($id: ID!) { node(id: $id) { ... on Thread {
            replyCount unreadCount posts(first: 1) { totalCount }
            group { memberCount threads(first: 10) { totalCount nodes { id replyCount } } } } } }",
        json!({ "id": forum.thread }),
    )
    .await["node"]
        .clone()
}

/// How the retries went.
struct Retried {
    retried: usize,
    committed_before: usize,
}

/// The proof: what the thread holds is exactly what was acknowledged, and the counters agree.
fn check(
    backend: Backend,
    forum: &Forum,
    acks: &[Ack],
    recovered: &[HashMap<String, Seen>],
    listed: &[Seen],
    counters: &Value,
) -> Retried {
    let at = format!("[{backend:?}]");
    let (opening, replies) = listed.split_first().expect("the opening post");
    assert_eq!(
        (opening.body.as_str(), opening.author.as_str()),
        (OPENING, forum.host.id.as_str()),
        "{at} the opening post comes first"
    );

    // No post is listed twice, and no body is there twice.
    let ids: HashSet<&str> = listed.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), listed.len(), "{at} a post is listed twice");
    let mut bodies = HashSet::new();
    for post in replies {
        assert!(
            bodies.insert(&post.body),
            "{at} {:?} is there twice",
            post.body
        );
    }

    // Every acknowledged post is there, whole, as it was acknowledged.
    let listed_by_id: HashMap<&str, &Seen> = listed.iter().map(|p| (p.id.as_str(), p)).collect();
    let acked: HashSet<&str> = acks.iter().map(|a| a.post.id.as_str()).collect();
    assert_eq!(
        acked.len(),
        acks.len(),
        "{at} two posts acknowledged as one"
    );
    for ack in acks {
        let post = listed_by_id.get(ack.post.id.as_str());
        assert_eq!(
            post,
            Some(&&ack.post),
            "{at} acknowledged {} is missing or changed",
            ack.key
        );
        assert_eq!(
            (
                ack.post.body.as_str(),
                ack.post.author.as_str(),
                ack.post.deleted
            ),
            (ack.body.as_str(), ack.author.as_str(), false),
            "{at} {} as it was sent",
            ack.key
        );
    }
    // Nothing else: every request a crash cut off was sent again until acknowledged, so a
    // reply not acknowledged is a duplicate or a ghost.
    assert_eq!(
        replies.len(),
        acks.len(),
        "{at} the thread holds replies that were never acknowledged"
    );

    // A retry of a post that committed before its crash answered that very post.
    let mut retried = Retried {
        retried: 0,
        committed_before: 0,
    };
    for ack in acks.iter().filter(|a| a.cut_off > 0) {
        retried.retried += 1;
        let found = &recovered[ack.generation - 1];
        if let Some(first) = found.values().find(|p| p.body == ack.body) {
            assert_eq!(
                first, &ack.post,
                "{at} the retry of {} answered its first result",
                ack.key
            );
            retried.committed_before += 1;
        }
    }

    // The counters agree with the rows.
    let posts = i64::try_from(listed.len()).expect("a count");
    let expected = json!({
        "replyCount": posts - 1,
        "unreadCount": posts,
        "posts": { "totalCount": posts },
        "group": {
            "memberCount": CLIENTS + 1,
            "threads": { "totalCount": 1, "nodes": [{ "id": forum.thread, "replyCount": posts - 1 }] },
        },
    });
    assert_eq!(counters, &expected, "{at} the counters");
    retried
}

/// The people and the place: a host who opened a PUBLIC, OPEN group and one thread in it, and
/// the members who post there.
struct Forum {
    host: User,
    posters: Vec<User>,
    thread: String,
}

impl Forum {
    async fn set_up(url: &str) -> Self {
        let host = register(url, "host").await;
        let created = ok(
            url,
            Some(&host.token),
            "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }",
            json!({ "input": {
                "slug": "field-notes", "name": "Field notes", "visibility": "PUBLIC", "joinPolicy": "OPEN",
            }}),
        )
        .await;
        let group = created["createGroup"]["group"]["id"].clone();
        let mut posters = Vec::new();
        for n in 1..=CLIENTS {
            let poster = register(url, &format!("poster-{n}")).await;
            let joined = ok(
                url,
                Some(&poster.token),
                "mutation($input: JoinGroupInput!) { joinGroup(input: $input) { membership { state } } }",
                json!({ "input": { "groupId": group } }),
            )
            .await;
            assert_eq!(joined["joinGroup"]["membership"]["state"], "ACTIVE");
            posters.push(poster);
        }
        let started = ok(
            url,
            Some(&host.token),
            "mutation($input: StartThreadInput!) { startThread(input: $input) { thread { id } } }",
            json!({ "input": { "groupId": group, "title": "Visits", "body": OPENING } }),
        )
        .await;
        let thread = started["startThread"]["thread"]["id"]
            .as_str()
            .expect("thread id")
            .to_owned();
        Self {
            host,
            posters,
            thread,
        }
    }
}

async fn register(url: &str, handle: &str) -> User {
    let data = ok(url, None, REGISTER, register_variables(handle)).await;
    User::registered(&data, handle)
}

/// Runs a GraphQL request that must succeed, and returns its `data`.
async fn ok(url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON body");
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"].clone()
}

/// `DURABILITY_SEED` if set, else one from the clock; printed, so that a failure can be replayed.
fn seed() -> u64 {
    let seed = match std::env::var("DURABILITY_SEED") {
        Ok(seed) => seed.parse().expect("DURABILITY_SEED is a number"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    };
    println!("durability: seed {seed} (DURABILITY_SEED={seed} replays the kill schedule)");
    seed
}

/// SplitMix64: enough randomness for a kill schedule, and the same schedule from the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pause(&mut self) -> Duration {
        let (low, high) = PAUSE_MS;
        Duration::from_millis(low + self.next() % (high - low + 1))
    }
}
