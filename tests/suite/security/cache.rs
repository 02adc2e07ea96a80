//! Caching (SECURITY.md): every response that carries private data — GraphQL over POST, GET and
//! multipart, with or without a viewer, errors included, and the files of groups that are not
//! PUBLIC — is `Cache-Control: private, no-store`, so that no shared cache or browser history
//! keeps it.

use reqwest::header::CACHE_CONTROL;
use serde_json::json;

use crate::harness::{TestServer, each_backend};
use crate::http::{get, graphql_url};
use crate::presentations::{FilePart, PDF, download, share, share_request, shared};

#[tokio::test]
async fn graphql_responses_are_never_cached() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let post = |token: Option<&str>, query: &str| {
            let mut request = server
                .client
                .post(graphql_url(&server))
                .json(&json!({ "query": query }));
            if let Some(token) = token {
                request = request.bearer_auth(token.to_owned());
            }
            async move { request.send().await.expect("request sent") }
        };
        let responses = [
            (
                "signed-in query",
                post(Some(&ana.token), "{ viewer { email } }").await,
            ),
            ("anonymous query", post(None, "{ __typename }").await),
            (
                "error",
                post(None, "{ user(handle: \"nobody\") { id } }").await,
            ),
            (
                "invalid token",
                post(Some("not-a-session"), "{ __typename }").await,
            ),
            ("GET", get(&server, &[("query", "{ __typename }")]).await),
        ];
        for (what, response) in responses {
            let cache = response
                .headers()
                .get(CACHE_CONTROL)
                .and_then(|v| v.to_str().ok());
            assert_eq!(cache, Some("private, no-store"), "{what}");
        }
    })
    .await;
}

fn cache_control(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn private_file(server: &TestServer, visibility: &str) -> (crate::harness::User, String) {
    let owner = server
        .register(&format!("owner-{}", visibility.to_lowercase()))
        .await;
    let slug = format!("{}-circle", visibility.to_lowercase());
    let join_policy = if visibility == "SECRET" {
        "INVITE"
    } else {
        "OPEN"
    };
    let group = server
        .create_group(&owner, &slug, visibility, join_policy)
        .await;
    let input = json!({ "groupId": group, "title": "Slides" });
    let presentation =
        shared(&share(server, &owner, input, Some(FilePart::pdf("s.pdf", PDF))).await);
    (owner, presentation["id"].as_str().expect("id").to_owned())
}

#[tokio::test]
async fn viewer_data_and_private_files_are_never_stored_by_caches() {
    each_backend(|server| async move {
        for visibility in ["PRIVATE", "SECRET"] {
            let (owner, file) = private_file(&server, visibility).await;
            for range in [None, Some("bytes=0-3")] {
                let response = download(&server, Some(&owner), &file, range).await;
                assert!(response.status().is_success(), "{visibility} {range:?}");
                assert_eq!(
                    cache_control(&response).as_deref(),
                    Some("private, no-store"),
                    "{visibility} file {range:?}"
                );
            }
            // The viewer's own data over GET, and an upload's answer.
            let response = server
                .client
                .get(graphql_url(&server))
                .query(&[("query", "{ viewer { email sessions { nodes { id } } } }")])
                .bearer_auth(&owner.token)
                .send()
                .await
                .expect("sent");
            assert_eq!(
                cache_control(&response).as_deref(),
                Some("private, no-store"),
                "GET with a viewer"
            );
            let body: serde_json::Value = response.json().await.expect("JSON");
            assert!(body["data"]["viewer"]["email"].is_string(), "{body:#}");
            let group = server
                .ok(
                    Some(&owner.token),
                    "{ viewer { groups { nodes { id } } } }",
                    json!({}),
                )
                .await;
            let group = group["viewer"]["groups"]["nodes"][0]["id"].clone();
            let response = share_request(
                &server,
                Some(&owner),
                json!({ "groupId": group, "title": "More" }),
                &[FilePart::pdf("m.pdf", PDF)],
                true,
            )
            .await;
            assert_eq!(response.status(), 200);
            assert_eq!(
                cache_control(&response).as_deref(),
                Some("private, no-store"),
                "an upload's answer"
            );
        }
    })
    .await;
}
