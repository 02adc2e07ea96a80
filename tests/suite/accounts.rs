//! Accounts and sessions: register, login, logout, password change, session listing and
//! revocation, what other users may see, and tokens kept out of the logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer, assert_code, each_backend, error_code};

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id handle email } } }";
const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { token viewer { id handle } } }";
const LOGOUT: &str = "mutation { logout { clientMutationId } }";
const CHANGE_PASSWORD: &str = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { viewer { handle } } }";
const REVOKE_SESSION: &str =
    "mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { deletedId } }";
const VIEWER: &str = "{ viewer { id handle email } }";
const SESSIONS: &str = "{ viewer { sessions { totalCount nodes { id isCurrent } } } }";
const NEW_PASSWORD: &str = "a brand new passphrase";

fn register_input(handle: &str, email: &str, password: &str, display_name: &str) -> Value {
    json!({ "input": {
        "handle": handle,
        "email": email,
        "password": password,
        "displayName": display_name,
    }})
}

/// Sends `login` and returns the whole response body.
async fn login(server: &TestServer, login: &str, password: &str) -> Value {
    server
        .gql(
            None,
            LOGIN,
            json!({ "input": { "login": login, "password": password } }),
        )
        .await
}

/// Logs in, asserting success, and returns the new token.
async fn login_token(server: &TestServer, handle: &str, password: &str) -> String {
    let body = login(server, handle, password).await;
    assert!(
        body.get("errors").is_none(),
        "login as {handle} failed: {body:#}"
    );
    body["data"]["login"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// Posts a GraphQL request authenticated by the session cookie only.
async fn gql_with_cookie(server: &TestServer, token: &str, query: &str) -> Value {
    let response = server
        .client
        .post(format!("{}/graphql", server.url))
        .header(COOKIE, format!("theme=dark; convene_session={token}"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON body")
}

/// Asserts a request carrying `token` fails as a whole with `UNAUTHENTICATED`.
#[track_caller]
fn assert_refused(body: &Value) {
    assert_code(body, "UNAUTHENTICATED");
    assert!(
        body["data"].is_null(),
        "no data for an invalid token: {body:#}"
    );
}

/// The viewer's sessions as `(id, isCurrent)`.
async fn sessions(server: &TestServer, token: &str) -> Vec<(String, bool)> {
    let data = server.ok(Some(token), SESSIONS, json!({})).await;
    let nodes = data["viewer"]["sessions"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(
        data["viewer"]["sessions"]["totalCount"].as_u64(),
        Some(nodes.len() as u64),
        "totalCount counts the listed sessions"
    );
    nodes
        .iter()
        .map(|n| {
            let id = n["id"].as_str().expect("session id").to_owned();
            (id, n["isCurrent"].as_bool().expect("isCurrent"))
        })
        .collect()
}

/// The ID of the session `token` belongs to, from that session's own point of view.
async fn current_session(server: &TestServer, token: &str) -> String {
    let current: Vec<_> = sessions(server, token)
        .await
        .into_iter()
        .filter(|(_, is_current)| *is_current)
        .collect();
    assert_eq!(
        current.len(),
        1,
        "exactly one session is current: {current:?}"
    );
    current[0].0.clone()
}

#[tokio::test]
async fn register_signs_in_with_a_token_and_an_http_only_cookie() {
    each_backend(|server| async move {
        let response = server
            .client
            .post(format!("{}/graphql", server.url))
            .json(&json!({
                "query": REGISTER,
                "variables": register_input("ana", "ana@example.org", PASSWORD, "Ana Lima"),
            }))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200);
        let cookies: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII cookie").to_owned())
            .collect();
        let body: Value = response.json().await.expect("JSON body");
        assert!(body.get("errors").is_none(), "{body:#}");
        let token = body["data"]["register"]["token"]
            .as_str()
            .expect("token")
            .to_owned();
        assert_eq!(body["data"]["register"]["viewer"]["handle"], "ana");

        let session_cookie = cookies
            .iter()
            .find(|c| c.starts_with("convene_session="))
            .unwrap_or_else(|| panic!("a convene_session cookie is set: {cookies:?}"));
        let mut parts = session_cookie.split(';').map(str::trim);
        assert_eq!(
            parts.next(),
            Some(format!("convene_session={token}").as_str())
        );
        let attributes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
        assert!(
            attributes.iter().any(|a| a == "httponly"),
            "{session_cookie}"
        );
        assert!(
            attributes.iter().any(|a| a == "samesite=lax"),
            "{session_cookie}"
        );

        let data = server.ok(Some(&token), VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["handle"], "ana");
        assert_eq!(data["viewer"]["email"], "ana@example.org");

        let by_cookie = gql_with_cookie(&server, &token, VIEWER).await;
        assert!(by_cookie.get("errors").is_none(), "{by_cookie:#}");
        assert_eq!(by_cookie["data"]["viewer"]["handle"], "ana");
        assert_eq!(by_cookie["data"]["viewer"]["email"], "ana@example.org");

        let anonymous = server.ok(None, VIEWER, json!({})).await;
        assert!(anonymous["viewer"].is_null());
    })
    .await;
}

#[tokio::test]
async fn login_accepts_the_handle_or_the_email_in_any_case() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        for name in ["ana", "ANA", "ana@example.org", "Ana@Example.ORG"] {
            let token = login_token(&server, name, PASSWORD).await;
            assert_ne!(token, ana.token, "every login opens a new session");
            let data = server.ok(Some(&token), VIEWER, json!({})).await;
            assert_eq!(data["viewer"]["id"], ana.id.as_str(), "login as {name}");
            assert_eq!(data["viewer"]["handle"], ana.handle.as_str());
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_error() {
    each_backend(|server| async move {
        server.register("ana").await;
        let wrong_password = login(&server, "ana", "not the right password").await;
        let unknown_user = login(&server, "nobody", "not the right password").await;
        let unknown_email = login(&server, "nobody@example.org", PASSWORD).await;
        assert_code(&wrong_password, "UNAUTHENTICATED");
        assert_eq!(wrong_password["errors"][0]["path"], json!(["login"]));
        assert!(wrong_password["data"].is_null(), "{wrong_password:#}");
        assert_eq!(wrong_password["errors"], unknown_user["errors"]);
        assert_eq!(wrong_password["errors"], unknown_email["errors"]);
        assert_eq!(wrong_password, unknown_user);
    })
    .await;
}

#[tokio::test]
async fn invalid_registrations_are_refused_and_write_nothing() {
    each_backend(|server| async move {
        // Each case: the refused input, then valid input reusing its handle and email.
        let cases = [
            (
                "handle 'ab'",
                register_input("ab", "u1@example.org", PASSWORD, "U"),
                "user1",
            ),
            (
                "handle with a space",
                register_input("bad handle", "u2@example.org", PASSWORD, "U"),
                "user2",
            ),
            (
                "11-character password",
                register_input("user3", "u3@example.org", &"p".repeat(11), "U"),
                "user3",
            ),
            (
                "129-character password",
                register_input("user4", "u4@example.org", &"p".repeat(129), "U"),
                "user4",
            ),
            (
                "email without a domain dot",
                register_input("user5", "u5@example", PASSWORD, "U"),
                "user5",
            ),
            (
                "email without @",
                register_input("user6", "u6.example.org", PASSWORD, "U"),
                "user6",
            ),
            (
                "empty displayName",
                register_input("user7", "u7@example.org", PASSWORD, ""),
                "user7",
            ),
            (
                "81-character displayName",
                register_input("user8", "u8@example.org", PASSWORD, &"d".repeat(81)),
                "user8",
            ),
        ];
        for (i, (what, input, handle)) in cases.iter().enumerate() {
            let body = server.gql(None, REGISTER, input.clone()).await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{what}: {body:#}"
            );
            assert!(body["data"].is_null(), "{what}: {body:#}");

            let email = format!("u{}@example.org", i + 1);
            let again = server
                .gql(
                    None,
                    REGISTER,
                    register_input(handle, &email, PASSWORD, "U"),
                )
                .await;
            assert!(
                again.get("errors").is_none(),
                "after {what}, {handle} registers: {again:#}"
            );
            assert_eq!(again["data"]["register"]["viewer"]["handle"], *handle);
        }

        // The limits themselves are accepted.
        let edge = register_input("edge", "edge@example.org", &"p".repeat(12), &"d".repeat(80));
        server.ok(None, REGISTER, edge).await;
        let edge = register_input("edge2", "edge2@example.org", &"p".repeat(128), "D");
        server.ok(None, REGISTER, edge).await;
    })
    .await;
}

#[tokio::test]
async fn duplicate_handles_and_emails_conflict_ignoring_case() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let cases = [
            (
                "same handle",
                register_input("ana", "other1@example.org", PASSWORD, "A"),
            ),
            (
                "handle in upper case",
                register_input("ANA", "other2@example.org", PASSWORD, "A"),
            ),
            (
                "email in another case",
                register_input("ana2", "ANA@Example.org", PASSWORD, "A"),
            ),
        ];
        for (what, input) in cases {
            let body = server.gql(None, REGISTER, input).await;
            assert_eq!(error_code(&body), Some("CONFLICT"), "{what}: {body:#}");
        }
        let missing = server
            .gql(None, "{ user(handle: \"ana2\") { id } }", json!({}))
            .await;
        assert_code(&missing, "NOT_FOUND");
        let token = login_token(&server, "ANA@EXAMPLE.ORG", PASSWORD).await;
        let data = server.ok(Some(&token), VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["id"], ana.id.as_str());
        assert_eq!(data["viewer"]["email"], "ana@example.org");
    })
    .await;
}

#[tokio::test]
async fn a_register_retried_with_its_idempotency_key_returns_the_first_user() {
    each_backend(|server| async move {
        let mut input = register_input("ana", "ana@example.org", PASSWORD, "Ana");
        input["input"]["idempotencyKey"] = json!("register-ana-1");
        let first = server.ok(None, REGISTER, input.clone()).await;
        let second = server.ok(None, REGISTER, input.clone()).await;
        let id = first["register"]["viewer"]["id"].as_str().expect("id");
        assert_eq!(second["register"]["viewer"]["id"], id);
        for data in [&first, &second] {
            let token = data["register"]["token"].as_str().expect("token");
            let viewer = server.ok(Some(token), VIEWER, json!({})).await;
            assert_eq!(viewer["viewer"]["id"], id);
        }

        let user = server
            .ok(None, "{ user(handle: \"ana\") { id } }", json!({}))
            .await;
        assert_eq!(user["user"]["id"], id);
        let without_key = server
            .gql(
                None,
                REGISTER,
                register_input("ana", "ana@example.org", PASSWORD, "Ana"),
            )
            .await;
        assert_code(&without_key, "CONFLICT");

        let mut wrong_password = input.clone();
        wrong_password["input"]["password"] = json!("some other passphrase");
        let body = server.gql(None, REGISTER, wrong_password).await;
        assert_code(&body, "CONFLICT");
        assert_code(
            &login(&server, "ana", "some other passphrase").await,
            "UNAUTHENTICATED",
        );
    })
    .await;
}

#[tokio::test]
async fn logout_invalidates_the_token_for_every_request() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let other = login_token(&server, "ana", PASSWORD).await;

        let response = server
            .client
            .post(format!("{}/graphql", server.url))
            .bearer_auth(&ana.token)
            .json(&json!({ "query": LOGOUT }))
            .send()
            .await
            .expect("request sent");
        let cleared = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| {
                c.starts_with("convene_session=;") && c.to_ascii_lowercase().contains("max-age=0")
            });
        let body: Value = response.json().await.expect("JSON body");
        assert!(body.get("errors").is_none(), "{body:#}");
        assert!(cleared, "logout clears the session cookie");

        assert_refused(
            &server
                .gql(Some(&ana.token), "{ __typename }", json!({}))
                .await,
        );
        assert_refused(&server.gql(Some(&ana.token), VIEWER, json!({})).await);
        assert_refused(&server.gql(Some(&ana.token), LOGOUT, json!({})).await);
        assert_refused(&gql_with_cookie(&server, &ana.token, "{ __typename }").await);

        let data = server.ok(Some(&other), VIEWER, json!({})).await;
        assert_eq!(
            data["viewer"]["id"],
            ana.id.as_str(),
            "other sessions live on"
        );

        let session_id = format!("ses_{}", uuid::Uuid::now_v7().simple());
        let revoke = json!({ "input": { "sessionId": session_id } });
        assert_code(
            &server.gql(None, LOGOUT, json!({})).await,
            "UNAUTHENTICATED",
        );
        assert_code(
            &server.gql(None, REVOKE_SESSION, revoke).await,
            "UNAUTHENTICATED",
        );

        let random = format!(
            "{}{}",
            uuid::Uuid::now_v7().simple(),
            uuid::Uuid::now_v7().simple()
        );
        assert_refused(&server.gql(Some(&random), "{ __typename }", json!({})).await);
        assert_refused(&gql_with_cookie(&server, &random, "{ __typename }").await);
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let other = login_token(&server, "ana", PASSWORD).await;

        let wrong = server
            .gql(
                Some(&ana.token),
                CHANGE_PASSWORD,
                json!({ "input": { "currentPassword": "not the right password", "newPassword": NEW_PASSWORD } }),
            )
            .await;
        assert_code(&wrong, "BAD_USER_INPUT");
        let short = server
            .gql(
                Some(&ana.token),
                CHANGE_PASSWORD,
                json!({ "input": { "currentPassword": PASSWORD, "newPassword": "p".repeat(11) } }),
            )
            .await;
        assert_code(&short, "BAD_USER_INPUT");
        assert_code(&login(&server, "ana", &"p".repeat(11)).await, "UNAUTHENTICATED");
        server.ok(Some(&other), VIEWER, json!({})).await;
        assert_code(&login(&server, "ana", NEW_PASSWORD).await, "UNAUTHENTICATED");
        login_token(&server, "ana", PASSWORD).await;

        let data = server
            .ok(
                Some(&ana.token),
                CHANGE_PASSWORD,
                json!({ "input": { "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD } }),
            )
            .await;
        assert_eq!(data["changePassword"]["viewer"]["handle"], "ana");

        assert_refused(&server.gql(Some(&other), "{ __typename }", json!({})).await);
        let data = server.ok(Some(&ana.token), VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["id"], ana.id.as_str());
        assert_eq!(sessions(&server, &ana.token).await.len(), 1);

        assert_code(&login(&server, "ana", PASSWORD).await, "UNAUTHENTICATED");
        let fresh = login_token(&server, "ana", NEW_PASSWORD).await;
        server.ok(Some(&fresh), VIEWER, json!({})).await;
    })
    .await;
}

#[tokio::test]
async fn the_viewer_lists_and_revokes_their_own_sessions() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let phone = login_token(&server, "ana", PASSWORD).await;
        let laptop = login_token(&server, "ana", PASSWORD).await;

        let listed = sessions(&server, &ana.token).await;
        assert_eq!(listed.len(), 3, "{listed:?}");
        assert_eq!(
            listed.iter().filter(|(_, current)| *current).count(),
            1,
            "{listed:?}"
        );
        let own = current_session(&server, &ana.token).await;
        let phone_id = current_session(&server, &phone).await;
        assert_ne!(own, phone_id);
        assert!(listed.iter().any(|(id, _)| *id == phone_id));

        let data = server
            .ok(
                Some(&ana.token),
                REVOKE_SESSION,
                json!({ "input": { "sessionId": phone_id } }),
            )
            .await;
        assert_eq!(data["revokeSession"]["deletedId"], phone_id.as_str());
        assert_refused(&server.gql(Some(&phone), "{ __typename }", json!({})).await);
        server.ok(Some(&laptop), VIEWER, json!({})).await;
        let listed = sessions(&server, &ana.token).await;
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(!listed.iter().any(|(id, _)| *id == phone_id));

        let bob = server.register("bob").await;
        let bobs = current_session(&server, &bob.token).await;
        let foreign = server
            .gql(
                Some(&ana.token),
                REVOKE_SESSION,
                json!({ "input": { "sessionId": bobs } }),
            )
            .await;
        assert_code(&foreign, "NOT_FOUND");
        let unknown = format!("ses_{}", uuid::Uuid::now_v7().simple());
        let never = server
            .gql(
                Some(&ana.token),
                REVOKE_SESSION,
                json!({ "input": { "sessionId": unknown } }),
            )
            .await;
        assert_eq!(
            foreign["errors"], never["errors"],
            "another user's session looks like none"
        );
        let data = server.ok(Some(&bob.token), VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["handle"], "bob");

        for malformed in ["ses_xyz", "not-an-id", &bobs.to_uppercase()] {
            let body = server
                .gql(
                    Some(&ana.token),
                    REVOKE_SESSION,
                    json!({ "input": { "sessionId": malformed } }),
                )
                .await;
            assert_eq!(
                error_code(&body),
                Some("BAD_USER_INPUT"),
                "{malformed}: {body:#}"
            );
        }
        assert_eq!(sessions(&server, &ana.token).await.len(), 2);

        let data = server
            .ok(
                Some(&ana.token),
                REVOKE_SESSION,
                json!({ "input": { "sessionId": own } }),
            )
            .await;
        assert_eq!(data["revokeSession"]["deletedId"], own.as_str());
        assert_refused(
            &server
                .gql(Some(&ana.token), "{ __typename }", json!({}))
                .await,
        );
        assert_eq!(sessions(&server, &laptop).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn another_users_email_and_sessions_are_null() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        server.register("bob").await;
        let query =
            "query($h: String!) { user(handle: $h) { handle email sessions { totalCount } } }";
        for token in [Some(ana.token.as_str()), None] {
            let data = server.ok(token, query, json!({ "h": "bob" })).await;
            assert_eq!(data["user"]["handle"], "bob");
            assert!(data["user"]["email"].is_null(), "{data:#}");
            assert!(data["user"]["sessions"].is_null(), "{data:#}");
        }
        let own = server
            .ok(Some(&ana.token), query, json!({ "h": "ana" }))
            .await;
        assert_eq!(own["user"]["email"], "ana@example.org");
        assert_eq!(own["user"]["sessions"]["totalCount"], 1);
    })
    .await;
}

/// The `convene` binary as a child process, killed when dropped (even when the test panics),
/// with everything it prints collected.
struct Convene {
    child: Child,
    lines: mpsc::Receiver<String>,
    readers: Vec<JoinHandle<()>>,
    output: String,
}

impl Convene {
    fn serve(data_dir: &std::path::Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_convene"));
        command
            .arg("serve")
            .current_dir(data_dir)
            .env_remove("DATABASE_URL")
            .env("CONVENE_LISTEN", "127.0.0.1:0")
            .env("CONVENE_DATA_DIR", data_dir)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars() {
            if name.starts_with("CONVENE_")
                && name != "CONVENE_LISTEN"
                && name != "CONVENE_DATA_DIR"
            {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("convene starts");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let readers = vec![forward(stdout, tx.clone()), forward(stderr, tx)];
        Self {
            child,
            lines,
            readers,
            output: String::new(),
        }
    }

    /// Waits for the "listening" log line and returns the address it names.
    fn address(&mut self) -> String {
        loop {
            let line = match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(err) => panic!(
                    "no 'listening' line ({err}); output so far:\n{}",
                    self.output
                ),
            };
            self.output.push_str(&line);
            self.output.push('\n');
            let plain = strip_ansi(&line);
            if plain.contains("listening") {
                if let Some(address) = plain
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("address="))
                {
                    return address.to_owned();
                }
            }
        }
    }

    /// Kills the server and returns all it printed.
    fn stop(mut self) -> String {
        self.kill();
        for reader in self.readers.drain(..) {
            reader.join().expect("output reader");
        }
        let mut output = std::mem::take(&mut self.output);
        for line in self.lines.try_iter() {
            output.push_str(&line);
            output.push('\n');
        }
        output
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Convene {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Sends each line `from` prints to `to` (lossily decoded: logs are text).
fn forward(from: impl Read + Send + 'static, to: mpsc::Sender<String>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(from);
        let mut buf = Vec::new();
        while matches!(reader.read_until(b'\n', &mut buf), Ok(n) if n > 0) {
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            buf.clear();
            if to.send(line).is_err() {
                break;
            }
        }
    })
}

/// `text` without ANSI colour sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[tokio::test]
async fn tokens_never_appear_in_the_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut convene = Convene::serve(dir.path());
    let address = convene.address();
    let server_url = format!("http://{address}/graphql");
    let client = reqwest::Client::new();
    let post = |body: Value| client.post(&server_url).json(&body);

    let registered: Value = post(json!({
        "query": REGISTER,
        "variables": register_input("ana", "ana@example.org", PASSWORD, "Ana"),
    }))
    .send()
    .await
    .expect("register sent")
    .json()
    .await
    .expect("JSON body");
    let register_token = registered["data"]["register"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("register failed: {registered:#}"))
        .to_owned();
    let logged_in: Value = post(json!({
        "query": LOGIN,
        "variables": { "input": { "login": "ana", "password": PASSWORD } },
    }))
    .send()
    .await
    .expect("login sent")
    .json()
    .await
    .expect("JSON body");
    let login_token = logged_in["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {logged_in:#}"))
        .to_owned();
    let unknown = format!(
        "{}{}",
        uuid::Uuid::now_v7().simple(),
        uuid::Uuid::now_v7().simple()
    );

    for token in [&register_token, &login_token] {
        let by_bearer: Value = post(json!({ "query": VIEWER }))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON body");
        assert_eq!(
            by_bearer["data"]["viewer"]["handle"], "ana",
            "{by_bearer:#}"
        );
        let by_cookie: Value = post(json!({ "query": SESSIONS }))
            .header(COOKIE, format!("convene_session={token}"))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON body");
        assert!(by_cookie.get("errors").is_none(), "{by_cookie:#}");
        let by_get = client
            .get(&server_url)
            .query(&[("query", VIEWER)])
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        assert_eq!(by_get.status(), 200);
    }
    let refused: Value = post(json!({ "query": VIEWER }))
        .bearer_auth(&unknown)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON body");
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"));
    let logged_out: Value = post(json!({ "query": LOGOUT }))
        .bearer_auth(&login_token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON body");
    assert!(logged_out.get("errors").is_none(), "{logged_out:#}");

    let output = convene.stop();
    let plain = strip_ansi(&output);
    assert!(
        plain.contains("DEBUG") && plain.contains("/graphql"),
        "the debug log of the requests was captured:\n{output}"
    );
    for (what, secret) in [
        ("the registration token", register_token.as_str()),
        ("the login token", login_token.as_str()),
        ("an unknown token", unknown.as_str()),
        ("the password", PASSWORD),
    ] {
        assert!(
            !output.contains(secret) && !plain.contains(secret),
            "{what} appears in the log:\n{output}"
        );
    }
}
