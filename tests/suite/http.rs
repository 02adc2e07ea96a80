//! GraphQL over HTTP: GET for queries, response media types, body limits, HTTP 200 for
//! GraphQL errors and health checks. Forgery (CSRF) and caching are `security::csrf` and
//! `security::cache`.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer, assert_code, each_backend};

const ONE_MIB: usize = 1024 * 1024;

pub(crate) fn graphql_url(server: &TestServer) -> String {
    format!("{}/graphql", server.url)
}

/// `GET /graphql` with the given query parameters.
pub(crate) async fn get(server: &TestServer, params: &[(&str, &str)]) -> Response {
    server
        .client
        .get(graphql_url(server))
        .query(params)
        .send()
        .await
        .expect("request sent")
}

/// The media type of a response, without parameters.
fn media_type(response: &Response) -> String {
    let value = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub(crate) fn register_body(handle: &str) -> Value {
    json!({
        "query": "mutation($input: RegisterInput!) { register(input: $input) { token } }",
        "variables": { "input": {
            "handle": handle,
            "email": format!("{handle}@example.org"),
            "password": PASSWORD,
            "displayName": handle,
        }},
    })
}

/// Asserts no user has `handle`.
pub(crate) async fn assert_no_user(server: &TestServer, handle: &str) {
    let body = server
        .gql(
            None,
            "query($h: String!) { user(handle: $h) { id } }",
            json!({ "h": handle }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
}

#[tokio::test]
async fn get_runs_queries() {
    each_backend(|server| async move {
        server.register("ana").await;
        let response = get(
            &server,
            &[("query", "{ user(handle: \"ana\") { handle } }")],
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(media_type(&response), "application/json");
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body, json!({ "data": { "user": { "handle": "ana" } } }));

        let response = get(
            &server,
            &[
                (
                    "query",
                    "query Who($h: String!) { user(handle: $h) { handle } }",
                ),
                ("variables", r#"{"h":"ana"}"#),
                ("operationName", "Who"),
            ],
        )
        .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(body["data"]["user"]["handle"], "ana");
    })
    .await;
}

#[tokio::test]
async fn the_response_media_type_follows_accept() {
    each_backend(|server| async move {
        let query = json!({ "query": "{ __typename }" });
        let cases = [
            (
                Some("application/graphql-response+json"),
                "application/graphql-response+json",
            ),
            (
                Some("application/graphql-response+json, application/json;q=0.9"),
                "application/graphql-response+json",
            ),
            (Some("application/json"), "application/json"),
            (Some("*/*"), "application/json"),
            (None, "application/json"),
        ];
        for (accept, expected) in cases {
            let mut request = server.client.post(graphql_url(&server)).json(&query);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            let response = request.send().await.expect("request sent");
            assert_eq!(response.status(), 200);
            assert_eq!(media_type(&response), expected, "Accept: {accept:?}");
            let body: Value = response.json().await.expect("JSON body");
            assert_eq!(body["data"]["__typename"], "Query");
        }
        let response = server
            .client
            .post(graphql_url(&server))
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(query.to_string())
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 200, "a charset parameter is accepted");
        assert_eq!(media_type(&response), "application/json");

        let response = server
            .client
            .get(graphql_url(&server))
            .query(&[("query", "{ __typename }")])
            .header(ACCEPT, "application/graphql-response+json")
            .send()
            .await
            .expect("request sent");
        assert_eq!(media_type(&response), "application/graphql-response+json");
    })
    .await;
}

/// A `register` request for `handle` padded with an unused variable to exactly `len` bytes.
/// A `register` request of exactly `len` bytes, padded with trailing whitespace (the variables
/// have a smaller limit of their own).
fn padded_register_body(handle: &str, len: usize) -> String {
    let mut text = register_body(handle).to_string();
    let padding = len - text.len();
    text.push_str(&" ".repeat(padding));
    text
}

async fn post_json(server: &TestServer, body: String) -> Response {
    server
        .client
        .post(graphql_url(server))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn a_json_body_over_one_mib_is_413() {
    each_backend(|server| async move {
        let response = post_json(&server, padded_register_body("ana", ONE_MIB + 1)).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_no_user(&server, "ana").await;

        let response = post_json(&server, padded_register_body("ana", 2 * ONE_MIB)).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_no_user(&server, "ana").await;

        let response = post_json(&server, padded_register_body("ana", ONE_MIB)).await;
        assert_eq!(
            response.status(),
            200,
            "a body of exactly the limit is served"
        );
        let body: Value = response.json().await.expect("JSON body");
        assert!(body.get("errors").is_none(), "{body:#}");
        server
            .ok(None, "{ user(handle: \"ana\") { id } }", json!({}))
            .await;
    })
    .await;
}

#[tokio::test]
async fn health_checks_answer_200() {
    each_backend(|server| async move {
        for path in ["/healthz", "/readyz"] {
            let response = server
                .client
                .get(format!("{}{path}", server.url))
                .send()
                .await
                .expect("request sent");
            assert_eq!(response.status(), 200, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn graphql_errors_are_http_200() {
    each_backend(|server| async move {
        let cases = [
            ("syntax error", json!({ "query": "{ viewer { " })),
            ("unknown field", json!({ "query": "{ nonsense }" })),
            (
                "resolver error",
                json!({ "query": "{ user(handle: \"nobody\") { id } }" }),
            ),
            (
                "missing variable",
                json!({ "query": "query($h: String!) { user(handle: $h) { id } }" }),
            ),
        ];
        for (what, request) in cases {
            let response = server
                .client
                .post(graphql_url(&server))
                .json(&request)
                .send()
                .await
                .expect("request sent");
            assert_eq!(response.status(), 200, "{what}");
            assert_eq!(media_type(&response), "application/json", "{what}");
            let body: Value = response.json().await.expect("JSON body");
            let errors = body["errors"].as_array().map_or(0, Vec::len);
            assert!(errors > 0, "{what} is reported in errors: {body:#}");
        }
    })
    .await;
}
