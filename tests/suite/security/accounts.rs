//! Accounts (SECURITY.md): passwords hashed with argon2id; the same answer, in similar time,
//! for an unknown user and a wrong password; session tokens of 256 random bits, stored only as
//! their SHA-256, revocable one by one, all but one by a password change; tokens never in the
//! logs nor in any error. Rate limits are `security::abuse`'s.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::accounts::{
    CHANGE_PASSWORD, LOGIN, LOGOUT, NEW_PASSWORD, REGISTER, REVOKE_SESSION, SESSIONS, VIEWER,
    assert_refused, current_session, gql_with_cookie, login, login_token, register_input, sessions,
};
use crate::harness::{PASSWORD, TestServer, assert_code, each_backend, error_code};
use crate::http::graphql_url;

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

/// Every text the database holds, table by table, as the server's own tables store it.
async fn everything_stored(server: &TestServer) -> String {
    let db = Database::connect(server.database_url())
        .await
        .expect("database");
    let backend = db.get_database_backend();
    let tables = match backend {
        DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let names = db
        .query_all_raw(Statement::from_string(backend, tables))
        .await
        .expect("tables");
    let mut text = String::new();
    for row in names {
        let name: String = row.try_get("", "name").expect("table name");
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT * FROM \"{name}\""),
            ))
            .await
            .expect("rows");
        for row in rows {
            for i in 0..row.column_names().len() {
                if let Ok(Some(value)) = row.try_get_by_index::<Option<String>>(i) {
                    text.push_str(&value);
                } else if let Ok(Some(bytes)) = row.try_get_by_index::<Option<Vec<u8>>>(i) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
                text.push('\t');
            }
            text.push('\n');
        }
        text.push_str(&format!("== {name}\n"));
    }
    let _ = db.close().await;
    text
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn passwords_are_argon2id_and_tokens_256_random_bits_stored_hashed() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let mut tokens = vec![ana.token.clone()];
        for _ in 0..2 {
            tokens.push(login_token(&server, "ana", PASSWORD).await);
        }
        tokens.push(server.register("ben").await.token);
        for token in &tokens {
            assert!(
                token.len() == 64
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "a token is 32 random bytes in lowercase hex: {token}"
            );
        }
        let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(
            distinct.len(),
            tokens.len(),
            "every session gets a new token"
        );

        let stored = everything_stored(&server).await;
        assert!(
            stored.contains("== sessions") && stored.contains("== users"),
            "{stored}"
        );
        for token in &tokens {
            assert!(
                !stored.contains(token.as_str()),
                "the token itself is stored nowhere"
            );
            assert!(
                stored.contains(&hex_sha256(token)),
                "its SHA-256 is what is stored"
            );
        }
        assert!(!stored.contains(PASSWORD), "the password is stored nowhere");
        let hashes: Vec<&str> = stored
            .split(['\t', '\n'])
            .filter(|v| v.starts_with("$argon2"))
            .collect();
        assert_eq!(hashes.len(), 2, "one hash per user: {hashes:?}");
        for hash in hashes {
            assert!(
                hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
                "{hash}"
            );
        }
    })
    .await;
}

/// The `convene_password_hashes_total` counter of `/metrics`: argon2id runs.
async fn password_hashes(server: &TestServer) -> u64 {
    let text = server
        .client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix("convene_password_hashes_total "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no convene_password_hashes_total in /metrics: {text}"))
}

/// An unknown user is verified against a decoy hash, so that the answer costs what a wrong
/// password costs (one argon2id run), not the handful of microseconds a lookup takes. The work
/// is counted rather than timed.
#[tokio::test]
async fn an_unknown_user_costs_as_much_work_as_a_wrong_password() {
    each_backend(|server| async move {
        server.register("ana").await;
        for (name, what) in [("ana", "a wrong password"), ("nobody", "an unknown user")] {
            let before = password_hashes(&server).await;
            let body = login(&server, name, "not the password at all").await;
            assert_code(&body, "UNAUTHENTICATED");
            let runs = password_hashes(&server).await - before;
            assert_eq!(runs, 1, "{what} costs one argon2id verification");
        }
    })
    .await;
}

/// Asserts that no part of an answer — status line aside, its headers and body — holds `token`.
async fn assert_hides(response: reqwest::Response, token: &str, what: &str) {
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes());
        assert!(
            !value.contains(token),
            "{what}: header {name} holds the token"
        );
    }
    let status = response.status();
    let body = response.text().await.expect("body");
    assert!(!body.contains(token), "{what} ({status}): {body}");
}

#[tokio::test]
async fn tokens_never_appear_in_an_error() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let live = login_token(&server, "ana", PASSWORD).await;
        let ended = login_token(&server, "ana", PASSWORD).await;
        server.ok(Some(&ended), LOGOUT, json!({})).await;
        let url = graphql_url(&server);
        let client = &server.client;
        for token in [&ana.token, &live, &ended] {
            let bodies: Vec<(&str, reqwest::RequestBuilder)> = vec![
                ("syntax error", client.post(&url).bearer_auth(token).json(&json!({ "query": "{ viewer {" }))),
                ("unknown field", client.post(&url).bearer_auth(token).json(&json!({ "query": "{ secret }" }))),
                ("resolver error", client.post(&url).bearer_auth(token).json(&json!({ "query": "{ user(handle: \"nobody\") { id } }" }))),
                ("a malformed ID", client.post(&url).bearer_auth(token).json(&json!({ "query": "query($id: ID!) { node(id: $id) { id } }", "variables": { "id": token } }))),
                ("a token as a session ID", client.post(&url).bearer_auth(token).json(&json!({ "query": REVOKE_SESSION, "variables": { "input": { "sessionId": token } } }))),
                ("a wrong current password", client.post(&url).bearer_auth(token).json(&json!({ "query": CHANGE_PASSWORD, "variables": { "input": { "currentPassword": token, "newPassword": NEW_PASSWORD } } }))),
                ("a cookie and a bad body", client.post(&url).header(COOKIE, format!("convene_session={token}")).header(CONTENT_TYPE, "application/json").body("{ not json")),
                ("a cookie and text/plain", client.post(&url).header(COOKIE, format!("convene_session={token}")).header(CONTENT_TYPE, "text/plain").body("{}")),
                ("a mutation over GET", client.get(&url).query(&[("query", LOGOUT)]).bearer_auth(token)),
                ("GET without a query", client.get(&url).bearer_auth(token)),
                ("a malformed Authorization", client.post(&url).header(AUTHORIZATION, format!("Basic {token}")).json(&json!({ "query": VIEWER }))),
                ("a multipart without preflight", client.post(&url).bearer_auth(token).header(CONTENT_TYPE, "multipart/form-data; boundary=b").body("--b--\r\n")),
                ("a broken multipart", client.post(&url).bearer_auth(token).header("x-convene-csrf", "1").header(CONTENT_TYPE, "multipart/form-data; boundary=b").body("--b\r\nnonsense")),
                ("a missing file", client.get(format!("{}/files/prs_{}", server.url, uuid::Uuid::now_v7().simple())).bearer_auth(token)),
            ];
            for (what, request) in bodies {
                assert_hides(request.send().await.expect("sent"), token, what).await;
            }
        }
        // The ended token, refused outright, is not named either.
        let refused = client.post(&url).bearer_auth(&ended).json(&json!({ "query": VIEWER })).send().await.expect("sent");
        let body: Value = refused.json().await.expect("JSON");
        assert_refused(&body);
        assert!(!body.to_string().contains(&ended), "{body:#}");
        assert!(error_code(&body).is_some());
    })
    .await;
}
