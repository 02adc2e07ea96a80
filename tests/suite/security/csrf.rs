//! Cross-site request forgery (SECURITY.md): a browser on another site can send a session
//! cookie with a `text/plain`, form or multipart body, or with a GET; each is refused before
//! anything runs, and a read afterwards proves nothing was written. No CORS grant lets a page
//! elsewhere send JSON. Bearer clients, which no browser forges, are unaffected.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::harness::{TestServer, User, assert_code, each_backend};
use crate::http::{assert_no_user, get, graphql_url, register_body};
use crate::presentations::{FilePart, PDF, files_under, share_request, storage_dir};

#[tokio::test]
async fn a_mutation_over_get_is_405_and_writes_nothing() {
    each_backend(|server| async move {
        let register = "mutation { register(input: { handle: \"ana\", email: \"ana@example.org\", \
                        password: \"correct horse battery staple\", displayName: \"Ana\" }) { token } }";
        let response = get(&server, &[("query", register)]).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_no_user(&server, "ana").await;

        let bob = server.register("bob").await;
        let response = server
            .client
            .get(graphql_url(&server))
            .query(&[("query", "mutation { logout { clientMutationId } }")])
            .header(COOKIE, format!("convene_session={}", bob.token))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let data = server.ok(Some(&bob.token), "{ viewer { handle } }", json!({})).await;
        assert_eq!(data["viewer"]["handle"], "bob", "the session survives");

        let named = "query Q { __typename } mutation M { logout { clientMutationId } }";
        let response = get(&server, &[("query", named), ("operationName", "M")]).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let response = get(&server, &[("query", named), ("operationName", "Q")]).await;
        assert_eq!(response.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn text_and_form_bodies_are_refused_and_write_nothing() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let create_group = json!({
            "query": "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }",
            "variables": { "input": {
                "slug": "forged",
                "name": "Forged",
                "visibility": "PUBLIC",
                "joinPolicy": "OPEN",
            }},
        });
        for content_type in ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded"] {
            for body in [create_group.to_string(), register_body("mallory").to_string()] {
                let response = server
                    .client
                    .post(graphql_url(&server))
                    .header(CONTENT_TYPE, content_type)
                    .header(COOKIE, format!("convene_session={}", ana.token))
                    .body(body)
                    .send()
                    .await
                    .expect("request sent");
                assert!(
                    response.status().is_client_error(),
                    "{content_type} is refused, got {}",
                    response.status()
                );
            }
        }
        let group = server
            .gql(Some(&ana.token), "{ group(slug: \"forged\") { id } }", json!({}))
            .await;
        assert_code(&group, "NOT_FOUND");
        assert_no_user(&server, "mallory").await;
    })
    .await;
}

const CREATE_GROUP: &str =
    "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }";

fn create_group(slug: &str) -> Value {
    json!({
        "query": CREATE_GROUP,
        "variables": { "input": { "slug": slug, "name": "Forged", "visibility": "PUBLIC", "joinPolicy": "OPEN" } },
    })
}

/// A GraphQL multipart request whose operations create a group, with `headers`.
async fn multipart(
    server: &TestServer,
    cookie: &User,
    slug: &str,
    headers: &[(&str, &str)],
) -> StatusCode {
    let body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n\
         --b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{}}\r\n--b--\r\n",
        create_group(slug)
    );
    let mut request = server
        .client
        .post(graphql_url(server))
        .header(COOKIE, format!("convene_session={}", cookie.token))
        .header(CONTENT_TYPE, "multipart/form-data; boundary=b")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent").status()
}

async fn assert_no_group(server: &TestServer, viewer: &User, slug: &str) {
    let body = server
        .gql(
            Some(&viewer.token),
            "query($s: String!) { group(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
}

#[tokio::test]
async fn forgeable_requests_with_a_cookie_are_refused_and_write_nothing() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;

        // A real HTML form: `query=…` url-encoded, and a multipart form, both simple requests.
        let form = format!(
            "query={}",
            "mutation%20%7B%20logout%20%7B%20clientMutationId%20%7D%20%7D"
        );
        let response = server
            .client
            .post(graphql_url(&server))
            .header(COOKIE, format!("convene_session={}", ana.token))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_client_error(), "{}", response.status());

        // Multipart without a header that forces a preflight, or with a wrong value.
        for (n, headers) in [
            vec![],
            vec![("x-convene-csrf", "0")],
            vec![("x-convene-csrf", "")],
            vec![("apollo-require-preflight", "false")],
        ]
        .into_iter()
        .enumerate()
        {
            let slug = format!("forged-{n}");
            let status = multipart(&server, &ana, &slug, &headers).await;
            assert!(status.is_client_error(), "{headers:?}: {status}");
            assert_no_group(&server, &ana, &slug).await;
        }
        // An upload too: no presentation, no stored file.
        let group = server
            .create_group(&ana, "webinars", "PRIVATE", "OPEN")
            .await;
        let input = json!({ "groupId": group, "title": "Slides" });
        let response = share_request(
            &server,
            Some(&ana),
            input.clone(),
            &[FilePart::pdf("slides.pdf", PDF)],
            false,
        )
        .await;
        assert!(response.status().is_client_error(), "{}", response.status());
        assert!(
            files_under(&storage_dir(&server)).is_empty(),
            "no file is stored"
        );
        let listed = server
            .ok(
                Some(&ana.token),
                "{ group(slug: \"webinars\") { presentations { totalCount } } }",
                json!({}),
            )
            .await;
        assert_eq!(listed["group"]["presentations"]["totalCount"], 0);

        // A creating mutation over GET with the cookie.
        let forged = create_group("forged-get");
        let response = server
            .client
            .get(graphql_url(&server))
            .query(&[
                ("query", forged["query"].as_str().expect("query")),
                ("variables", &forged["variables"].to_string()),
            ])
            .header(COOKIE, format!("convene_session={}", ana.token))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_no_group(&server, &ana, "forged-get").await;

        // The session survived all of it.
        let viewer = server
            .ok(Some(&ana.token), "{ viewer { handle } }", json!({}))
            .await;
        assert_eq!(viewer["viewer"]["handle"], "ana");

        // No page elsewhere is allowed to send JSON with credentials.
        let preflight = server
            .client
            .request(reqwest::Method::OPTIONS, graphql_url(&server))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("sent");
        for name in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
        ] {
            assert!(
                preflight.headers().get(name).is_none(),
                "{name}: {:?}",
                preflight.headers()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn bearer_clients_and_preflighted_uploads_are_unaffected() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let created = server
            .client
            .post(graphql_url(&server))
            .bearer_auth(&ana.token)
            .json(&create_group("by-bearer"))
            .send()
            .await
            .expect("sent");
        assert_eq!(created.status(), 200);
        let body: Value = created.json().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{body:#}");

        // The same multipart that was refused goes through with either preflight header.
        for (slug, header) in [
            ("by-csrf-header", ("x-convene-csrf", "1")),
            ("by-apollo-header", ("apollo-require-preflight", "true")),
        ] {
            assert_eq!(
                multipart(&server, &ana, slug, &[header]).await,
                200,
                "{header:?}"
            );
            let body = server
                .gql(
                    Some(&ana.token),
                    "query($s: String!) { group(slug: $s) { id } }",
                    json!({ "s": slug }),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body:#}");
        }
        let group = server
            .create_group(&ana, "webinars", "PRIVATE", "OPEN")
            .await;
        let response = share_request(
            &server,
            Some(&ana),
            json!({ "groupId": group, "title": "Slides" }),
            &[FilePart::pdf("slides.pdf", PDF)],
            true,
        )
        .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(files_under(&storage_dir(&server)).len(), 1);
    })
    .await;
}
