//! Abuse limits (SECURITY.md, "GraphQL abuse" and the rate limits of "Accounts"): documents too
//! deep, too costly, too aliased or too long, batches, huge variables, oversized headers, slow
//! requests, too many subscriptions on one websocket, and floods of logins, registrations and
//! posts. Each is refused with a clear error and a stable code, nothing is written, and the
//! server goes on serving.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{PASSWORD, TestServer, User, assert_code, each_backend, each_backend_with};
use crate::live::client::Reply;
use crate::live::fixtures::{REPLY_ADDED, circle, open, posts, reply};
use crate::membership::mutate;

/// Posts a raw JSON body to `/graphql` and returns the status and the body as JSON.
async fn post_raw(server: &TestServer, body: String) -> (StatusCode, Value) {
    let response = server
        .client
        .post(format!("{}/graphql", server.url))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// Asserts `body` is a refusal with `BAD_USER_INPUT`, no data, and a message containing
/// `words`.
#[track_caller]
fn assert_refused(body: &Value, words: &str) {
    assert_code(body, "BAD_USER_INPUT");
    assert!(body["data"].is_null(), "no data on a refusal: {body:#}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(words),
        "the message should say {words:?}: {body:#}"
    );
}

/// The server still answers a plain query.
async fn still_serving(server: &TestServer) {
    let data = server.ok(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "Query");
}

/// A document that goes group → threads → nodes → group → threads … for `hops` hops below
/// `group(slug: "circle")`.
fn deep_query(hops: usize) -> String {
    let mut query = "id".to_owned();
    for hop in (0..hops).rev() {
        query = if hop % 2 == 0 {
            format!("threads(first: 1) {{ nodes {{ {query} }} }}")
        } else {
            format!("group {{ {query} }}")
        };
    }
    format!("{{ group(slug: \"circle\") {{ {query} }} }}")
}

#[tokio::test]
async fn abusive_documents_are_refused_with_a_clear_error_and_the_server_keeps_serving() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        server.create_group(&ana, "circle", "PUBLIC", "OPEN").await;

        // Depth: 13 levels of fields pass, 17 do not; nesting past 32 is refused while
        // parsing.
        server.ok(None, &deep_query(8), json!({})).await;
        let body = server.gql(None, &deep_query(10), json!({})).await;
        assert_refused(&body, "nested too deep");
        let body = server.gql(None, &deep_query(40), json!({})).await;
        assert_refused(&body, "recursion depth");

        // Complexity: connections cost their page size, so 100 threads × 100 posts is refused
        // although it is shallow; the same selection with small pages passes.
        let costly = |threads: u32, posts: u32| {
            format!(
                "{{ group(slug: \"circle\") {{ threads(first: {threads}) {{ nodes {{ \
                 posts(first: {posts}) {{ nodes {{ id body bodyHtml }} }} }} }} }} }}"
            )
        };
        server.ok(None, &costly(20, 20), json!({})).await;
        // The README's demo query: default pages of threads, each with its posts and
        // presentations.
        let demo = "{ group(slug: \"circle\") { threads { nodes { title replyCount \
            posts { nodes { author { handle } bodyHtml } } \
            presentations { nodes { title eventDate recordingUrl } } } } } }";
        server.ok(Some(&ana.token), demo, json!({})).await;
        let body = server.gql(None, &costly(100, 100), json!({})).await;
        assert_refused(&body, "too complex");

        // Aliases: 100 pass, 101 do not.
        let aliased = |n: usize| {
            let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
            format!("{{ {} }}", fields.join(" "))
        };
        server.ok(None, &aliased(100), json!({})).await;
        let body = server.gql(None, &aliased(101), json!({})).await;
        assert_refused(&body, "more than 100 aliases");

        // Directives: 5 on a field pass, 6 do not, and 10 000 are refused before parsing.
        let directed = |n: usize| format!("{{ __typename{} }}", " @include(if: true)".repeat(n));
        server.ok(None, &directed(5), json!({})).await;
        let body = server.gql(None, &directed(6), json!({})).await;
        assert_refused(&body, "directives");
        let body = server.gql(None, &directed(10_000), json!({})).await;
        assert_refused(&body, "longer than 32768 bytes");

        // Fragments spread 1 000 deep.
        let mut fragments = String::from("query { ...f0 }");
        for i in 0..1_000 {
            fragments.push_str(&format!(" fragment f{i} on Query{{...f{}}}", i + 1));
        }
        fragments.push_str(" fragment f1000 on Query{__typename}");
        let body = server.gql(None, &fragments, json!({})).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert!(body["data"].is_null(), "{body:#}");

        // Huge variables: more than 256 KiB of JSON, although the body is within its 1 MiB.
        let huge = json!({ "input": {
            "handle": "huge", "email": "huge@example.org", "password": PASSWORD,
            "displayName": "x".repeat(300 * 1024),
        }});
        let register =
            "mutation($input: RegisterInput!) { register(input: $input) { viewer { id } } }";
        let body = server.gql(None, register, huge).await;
        assert_refused(&body, "variables are larger than 262144 bytes");
        let body = server
            .gql(None, "{ user(handle: \"huge\") { id } }", json!({}))
            .await;
        assert_code(&body, "NOT_FOUND");

        // A JSON array batch.
        let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
        let (status, body) = post_raw(&server, batch.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_refused(&body, "batched requests");

        // Suggestions spell out the schema: not to anonymous clients.
        let body = server.gql(None, "{ viewr { id } }", json!({})).await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("viewr"), "{body:#}");
        assert!(!message.contains("Did you mean"), "{body:#}");
        let body = server
            .gql(Some(&ana.token), "{ viewr { id } }", json!({}))
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Did you mean \"viewer\""), "{body:#}");

        still_serving(&server).await;
    })
    .await;
}

#[tokio::test]
async fn document_limits_are_configurable() {
    let tweak = |config: &mut convene_server::Config| {
        config.max_aliases = 2;
        config.max_query_depth = 3;
        config.max_query_bytes = 200;
    };
    each_backend_with(tweak, |server| async move {
        server
            .ok(None, "{ a: __typename b: __typename }", json!({}))
            .await;
        let body = server
            .gql(
                None,
                "{ a: __typename b: __typename c: __typename }",
                json!({}),
            )
            .await;
        assert_refused(&body, "more than 2 aliases");
        let body = server.gql(None, &deep_query(4), json!({})).await;
        assert_refused(&body, "nested too deep");
        let long = format!("{{ __typename }} #{}", "x".repeat(200));
        let body = server.gql(None, &long, json!({})).await;
        assert_refused(&body, "longer than 200 bytes");
    })
    .await;
}

#[tokio::test]
async fn oversized_headers_get_431_and_slow_requests_408() {
    let tweak = |config: &mut convene_server::Config| config.request_timeout_secs = 1;
    each_backend_with(tweak, |server| async move {
        let response = server
            .client
            .post(format!("{}/graphql", server.url))
            .header(CONTENT_TYPE, "application/json")
            .header("x-padding", "x".repeat(17 * 1024))
            .body(json!({ "query": "{ __typename }" }).to_string())
            .send()
            .await
            .expect("request sent");
        assert_eq!(
            response.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );

        // A client that announces a body and sends it too slowly is cut off.
        let address = server.url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connects");
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n{{\"query\":"
        );
        stream.write_all(head.as_bytes()).await.expect("sent");
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("the server answers before the client gives up")
            .expect("read");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

        still_serving(&server).await;
    })
    .await;
}

#[tokio::test]
async fn a_websocket_connection_holds_a_bounded_number_of_subscriptions() {
    let tweak = |config: &mut convene_server::Config| config.ws_subscription_limit = 3;
    each_backend_with(tweak, |server| async move {
        let circle = circle(&server, "PUBLIC").await;
        let mut ws = open(&server, Some(&circle.member)).await;
        let watch = json!({ "thread": circle.thread, "after": circle.opening.cursor });
        for id in ["s1", "s2", "s3"] {
            ws.subscribe(id, REPLY_ADDED, watch.clone()).await;
        }
        // Once the three are set up (each has replayed the first reply)...
        let first = reply(&server, &circle.owner, &circle.thread, "First").await;
        for id in ["s1", "s2", "s3"] {
            let event = ws.next_data(id, "replyAdded").await;
            assert_eq!(event["cursor"], first.cursor, "{id}");
        }
        // ...a fourth is refused.
        ws.subscribe("s4", REPLY_ADDED, watch.clone()).await;
        let errors = ws.expect_refusal("s4", "RATE_LIMITED").await;
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("at most 3 subscriptions"), "{errors:#}");

        // Completing one makes room for another (as soon as the server has seen the stop). An
        // admitted subscription replays the first reply; a refused one gets the error.
        ws.stop("s1").await;
        let mut admitted = None;
        for attempt in 0..50 {
            let id = format!("again-{attempt}");
            ws.subscribe(&id, REPLY_ADDED, watch.clone()).await;
            let Reply::Next(payload) = ws.receive(&id).await else {
                panic!("{id}: neither an event nor a refusal");
            };
            if payload["errors"].is_null() {
                assert_eq!(payload["data"]["replyAdded"]["cursor"], first.cursor);
                admitted = Some(id);
                break;
            }
            assert_eq!(
                payload["errors"][0]["extensions"]["code"], "RATE_LIMITED",
                "{payload:#}"
            );
            assert_eq!(ws.receive(&id).await, Reply::Complete);
        }
        let admitted = admitted.expect("a slot frees once a subscription completes");

        // The subscriptions held hear what follows; so does another connection, which has a
        // count of its own.
        let mut other = open(&server, Some(&circle.witness)).await;
        let after_first = json!({ "thread": circle.thread, "after": first.cursor });
        other.subscribe("o1", REPLY_ADDED, after_first).await;
        let second = reply(&server, &circle.owner, &circle.thread, "Second").await;
        for id in ["s2", "s3", admitted.as_str()] {
            let event = ws.next_data(id, "replyAdded").await;
            assert_eq!(event["cursor"], second.cursor, "{id}");
        }
        let event = other.next_data("o1", "replyAdded").await;
        assert_eq!(event["cursor"], second.cursor);
    })
    .await;
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { token } }";

/// A login request from `forwarded_for` (sent as `X-Forwarded-For`, which counts only when the
/// server trusts the peer).
async fn login_as(
    server: &TestServer,
    login: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Value {
    let mut request = server
        .client
        .post(format!("{}/graphql", server.url))
        .json(&json!({ "query": LOGIN,
            "variables": { "input": { "login": login, "password": password } } }));
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    request
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

/// The codes of the errors of `body`, field by field.
fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every rate limit at `QUOTA` a minute. The quota refills one every 20 s, far longer than
/// the few password hashes a test runs between its checks, so that what is refused does not
/// depend on how fast the machine is. (The defaults are larger; the mechanism is the same.)
fn small_quotas(config: &mut convene_server::Config) {
    config.login_per_ip_per_minute = QUOTA;
    config.login_per_account_per_minute = QUOTA;
    config.register_per_ip_per_minute = QUOTA;
    config.posts_per_user_per_minute = QUOTA;
}

const QUOTA: u32 = 3;

/// The `retryAfter` of a refusal: at most one refill away.
#[track_caller]
fn retry_after(error: &Value) -> u64 {
    assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{error:#}");
    let seconds = error["extensions"]["retryAfter"].as_u64().unwrap_or(0);
    assert!((1..=20).contains(&seconds), "{error:#}");
    seconds
}

#[tokio::test]
async fn an_aliased_batch_of_100_logins_counts_as_100() {
    each_backend_with(small_quotas, |server| async move {
        server.register("ana").await;
        // 100 logins in one request, each to another unknown name, so that only the per-IP
        // limit applies: the first 3 are checked, the other 97 refused.
        let fields: Vec<String> = (0..100)
            .map(|i| {
                format!(
                    "l{i}: login(input: {{ login: \"nobody-{i}\", password: \"{PASSWORD}\" }}) \
                     {{ token }}"
                )
            })
            .collect();
        let body = server
            .gql(
                None,
                &format!("mutation {{ {} }}", fields.join(" ")),
                json!({}),
            )
            .await;
        let codes = codes(&body);
        let quota = QUOTA as usize;
        assert_eq!(codes.len(), 100, "every login fails: {body:#}");
        assert!(
            codes[..quota].iter().all(|c| c == "UNAUTHENTICATED"),
            "{codes:?}"
        );
        assert!(
            codes[quota..].iter().all(|c| c == "RATE_LIMITED"),
            "{codes:?}"
        );
        retry_after(&body["errors"][quota]);

        // The quota is spent: even the right password is refused from this address now.
        let body = login_as(&server, "ana", PASSWORD, None).await;
        retry_after(&body["errors"][0]);
    })
    .await;
}

#[tokio::test]
async fn logins_are_limited_per_account_across_addresses_and_per_trusted_forwarded_address() {
    let tweak = |config: &mut convene_server::Config| {
        small_quotas(config);
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("an address")];
    };
    each_backend_with(tweak, |server| async move {
        let ana = server.register("ana").await;
        // Guessing ana's password from several addresses: the account's quota runs out, and
        // the next attempt is refused whatever the address and the password.
        for i in 0..QUOTA {
            let ip = format!("198.51.100.{i}");
            let body = login_as(&server, "ana", "wrong password!", Some(&ip)).await;
            assert_code(&body, "UNAUTHENTICATED");
        }
        let body = login_as(&server, "ana", PASSWORD, Some("198.51.100.99")).await;
        retry_after(&body["errors"][0]);
        // Another account is not affected, and ana's open session still works.
        let ben = server.register("ben").await;
        let body = login_as(&server, &ben.handle, PASSWORD, Some("198.51.100.1")).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body:#}");
        server
            .ok(Some(&ana.token), "{ viewer { id } }", json!({}))
            .await;

        // Per address, behind a trusted proxy: one forwarded client spends its quota, another
        // forwarded client still gets in.
        for i in 0..QUOTA {
            let body = login_as(&server, &format!("x{i}"), PASSWORD, Some("203.0.113.5")).await;
            assert_code(&body, "UNAUTHENTICATED");
        }
        let body = login_as(&server, "x-last", PASSWORD, Some("203.0.113.5")).await;
        retry_after(&body["errors"][0]);
        let body = login_as(&server, &ben.handle, PASSWORD, Some("203.0.113.6")).await;
        assert!(body["data"]["login"]["token"].is_string(), "{body:#}");
    })
    .await;
}

#[tokio::test]
async fn forwarded_addresses_from_an_untrusted_peer_are_ignored() {
    each_backend_with(small_quotas, |server| async move {
        // Without trusted proxies, X-Forwarded-For is the client's word and counts for
        // nothing: every attempt is the peer's, and its quota runs out although each attempt
        // claims another address.
        for i in 0..QUOTA {
            let forged = format!("192.0.2.{i}");
            let body = login_as(&server, &format!("x{i}"), PASSWORD, Some(&forged)).await;
            assert_code(&body, "UNAUTHENTICATED");
        }
        let body = login_as(&server, "x-last", PASSWORD, Some("192.0.2.200")).await;
        retry_after(&body["errors"][0]);
    })
    .await;
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    each_backend_with(small_quotas, |server| async move {
        for i in 0..QUOTA {
            server.register(&format!("user-{i}")).await;
        }
        let body = mutate(
            &server,
            None,
            "register",
            json!({ "handle": "one-more", "email": "one-more@example.org",
                    "password": PASSWORD, "displayName": "One more" }),
            "viewer { id }",
        )
        .await;
        retry_after(&body["errors"][0]);
        let body = server
            .gql(None, "{ user(handle: \"one-more\") { id } }", json!({}))
            .await;
        assert_code(&body, "NOT_FOUND");
    })
    .await;
}

#[tokio::test]
async fn posting_is_limited_per_user_and_a_refused_post_is_not_written() {
    // The circle registers four users from one address: registration is not limited here.
    let tweak = |config: &mut convene_server::Config| {
        small_quotas(config);
        config.register_per_ip_per_minute = 0;
    };
    each_backend_with(tweak, |server| async move {
        let circle = circle(&server, "PUBLIC").await;
        let (writer, other): (&User, &User) = (&circle.member, &circle.witness);
        let post = |user: &User, body: String| {
            let server = &server;
            let thread = circle.thread.clone();
            let user = user.clone();
            async move {
                mutate(
                    server,
                    Some(&user),
                    "postReply",
                    json!({ "threadId": thread, "body": body }),
                    "post { id }",
                )
                .await
            }
        };
        for i in 0..QUOTA {
            let body = post(writer, format!("reply {i}")).await;
            assert!(body.get("errors").is_none(), "reply {i}: {body:#}");
        }
        let body = post(writer, "one too many".to_owned()).await;
        retry_after(&body["errors"][0]);
        // Starting a thread counts as posting too.
        let body = mutate(
            &server,
            Some(writer),
            "startThread",
            json!({ "groupId": circle.group, "title": "More", "body": "More" }),
            "thread { id }",
        )
        .await;
        assert_code(&body, "RATE_LIMITED");

        // Another user posts as usual.
        let body = post(other, "mine".to_owned()).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        // Nothing of the refused posts was written: the opening post, 30 replies and the other
        // user's.
        let written = posts(&server, &circle.owner, &circle.thread).await;
        assert_eq!(written.len(), 1 + QUOTA as usize + 1);
        let data = server
            .ok(
                Some(&circle.owner.token),
                "query($group: ID!) { node(id: $group) { ... on Group { threads(first: 10) { totalCount } } } }",
                json!({ "group": circle.group }),
            )
            .await;
        assert_eq!(data["node"]["threads"]["totalCount"], 1, "{data:#}");
    })
    .await;
}
