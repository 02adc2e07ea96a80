//! Accounts: registering and signing in, by handle or email, with the session cookie, input
//! checks and idempotent retries. What keeps accounts safe (hashing, the same answer for an
//! unknown user, tokens, revocation) is `security::accounts`.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer, assert_code, each_backend, error_code};

pub(crate) const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id handle email } } }";
pub(crate) const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { token viewer { id handle } } }";
pub(crate) const LOGOUT: &str = "mutation { logout { clientMutationId } }";
pub(crate) const CHANGE_PASSWORD: &str = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { viewer { handle } } }";
pub(crate) const REVOKE_SESSION: &str =
    "mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { deletedId } }";
pub(crate) const VIEWER: &str = "{ viewer { id handle email } }";
pub(crate) const SESSIONS: &str = "{ viewer { sessions { totalCount nodes { id isCurrent } } } }";
pub(crate) const NEW_PASSWORD: &str = "a brand new passphrase";

pub(crate) fn register_input(
    handle: &str,
    email: &str,
    password: &str,
    display_name: &str,
) -> Value {
    json!({ "input": {
        "handle": handle,
        "email": email,
        "password": password,
        "displayName": display_name,
    }})
}

/// Sends `login` and returns the whole response body.
pub(crate) async fn login(server: &TestServer, login: &str, password: &str) -> Value {
    server
        .gql(
            None,
            LOGIN,
            json!({ "input": { "login": login, "password": password } }),
        )
        .await
}

/// Logs in, asserting success, and returns the new token.
pub(crate) async fn login_token(server: &TestServer, handle: &str, password: &str) -> String {
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
pub(crate) async fn gql_with_cookie(server: &TestServer, token: &str, query: &str) -> Value {
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
pub(crate) fn assert_refused(body: &Value) {
    assert_code(body, "UNAUTHENTICATED");
    assert!(
        body["data"].is_null(),
        "no data for an invalid token: {body:#}"
    );
}

/// The viewer's sessions as `(id, isCurrent)`.
pub(crate) async fn sessions(server: &TestServer, token: &str) -> Vec<(String, bool)> {
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
pub(crate) async fn current_session(server: &TestServer, token: &str) -> String {
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
