//! Shared presentations: `sharePresentation` over the GraphQL multipart request spec, the
//! `/files/{id}` route (downloads and ranges), input checks, deletion and idempotent retries.
//! The upload limits, the type allow-list and who may download are `security::uploads`.

use std::path::{Path, PathBuf};

use reqwest::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, COOKIE, RANGE,
};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::harness::{TestServer, User, assert_code, each_backend, error_code};
use crate::membership::{join, mutate};

/// Everything a `Presentation` says, for comparing whole objects.
pub const PRESENTATION_FIELDS: &str = "id title description speakers eventDate recordingUrl \
     group { id } thread { id } uploader { handle } \
     file { filename contentType byteSize sha256 downloadUrl }";

/// A small but well-formed PDF; the marker is what the server's sniffing looks for.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

/// A 1×1 PNG: signature, IHDR, IEND.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\
\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\
\x00\x00\x00\x00IEND\xaeB`\x82";

/// The start of a JFIF JPEG and its end marker.
pub(crate) const JPEG: &[u8] =
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";

/// A file part of a multipart request.
#[derive(Debug, Clone, Copy)]
pub struct FilePart<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl<'a> FilePart<'a> {
    pub fn pdf(filename: &'a str, bytes: &'a [u8]) -> Self {
        Self {
            filename,
            content_type: "application/pdf",
            bytes,
        }
    }
}

fn share_query() -> String {
    format!(
        "mutation($input: SharePresentationInput!) {{ sharePresentation(input: $input) \
         {{ clientMutationId presentation {{ {PRESENTATION_FIELDS} }} }} }}"
    )
}

/// Appends one `form-data` part to a multipart body.
fn push_part(
    body: &mut Vec<u8>,
    boundary: &str,
    name: &str,
    file: Option<&FilePart<'_>>,
    bytes: &[u8],
) {
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    match file {
        Some(file) => body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                file.filename, file.content_type
            )
            .as_bytes(),
        ),
        None => body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        ),
    }
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
}

/// `sharePresentation` as a GraphQL multipart request (operations, map, then the files), with
/// the anti-CSRF header when `preflight` is set. The first file is the input's `file`; any
/// further ones are parts the map does not name.
pub async fn share_request(
    server: &TestServer,
    user: Option<&User>,
    mut input: Value,
    files: &[FilePart<'_>],
    preflight: bool,
) -> Response {
    let boundary = format!("convene-test-{}", uuid::Uuid::now_v7().simple());
    if !files.is_empty() {
        input["file"] = Value::Null;
    }
    let operations = json!({ "query": share_query(), "variables": { "input": input } });
    let map = match files {
        [] => json!({}),
        _ => json!({ "0": ["variables.input.file"] }),
    };
    let mut body = Vec::new();
    push_part(
        &mut body,
        &boundary,
        "operations",
        None,
        operations.to_string().as_bytes(),
    );
    push_part(
        &mut body,
        &boundary,
        "map",
        None,
        map.to_string().as_bytes(),
    );
    for (n, file) in files.iter().enumerate() {
        push_part(&mut body, &boundary, &n.to_string(), Some(file), file.bytes);
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());

    let mut request = server
        .client
        .post(format!("{}/graphql", server.url))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    if preflight {
        request = request.header("x-convene-csrf", "1");
    }
    if let Some(user) = user {
        request = request.bearer_auth(&user.token);
    }
    request.send().await.expect("request sent")
}

/// `sharePresentation` as a proper multipart upload; returns the whole GraphQL response.
pub async fn share(
    server: &TestServer,
    user: &User,
    input: Value,
    file: Option<FilePart<'_>>,
) -> Value {
    let files: Vec<FilePart<'_>> = file.into_iter().collect();
    let response = share_request(server, Some(user), input, &files, true).await;
    assert_eq!(response.status(), 200, "GraphQL answers 200");
    response.json().await.expect("JSON body")
}

/// The shared presentation of a successful `share`.
#[track_caller]
pub fn shared(body: &Value) -> Value {
    assert!(body.get("errors").is_none(), "sharePresentation: {body:#}");
    body["data"]["sharePresentation"]["presentation"].clone()
}

/// `GET /files/{id}` as anonymous or with a bearer token, optionally with a `Range`.
pub async fn download(
    server: &TestServer,
    user: Option<&User>,
    id: &str,
    range: Option<&str>,
) -> Response {
    let mut request = server.client.get(format!("{}/files/{id}", server.url));
    if let Some(user) = user {
        request = request.bearer_auth(&user.token);
    }
    if let Some(range) = range {
        request = request.header(RANGE, range);
    }
    request.send().await.expect("request sent")
}

/// Status and body of a download, for comparing refusals.
pub async fn status_and_body(response: Response) -> (StatusCode, Vec<u8>) {
    let status = response.status();
    (status, response.bytes().await.expect("body").to_vec())
}

pub(crate) fn header(response: &Response, name: impl reqwest::header::AsHeaderName) -> &str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every regular file under `dir`, recursively (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let kind = std::fs::symlink_metadata(&path)
                .expect("metadata")
                .file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Where the test server keeps shared files (the default: `<data_dir>/files`).
pub fn storage_dir(server: &TestServer) -> PathBuf {
    server.data_dir().join("files")
}

/// The IDs of a group's presentations, as `viewer` lists them.
pub(crate) async fn listed(server: &TestServer, viewer: &User, slug: &str) -> Vec<String> {
    let data = server
        .ok(
            Some(&viewer.token),
            "query($slug: String!) { group(slug: $slug) { presentations(first: 100) { totalCount nodes { id } } } }",
            json!({ "slug": slug }),
        )
        .await;
    let connection = &data["group"]["presentations"];
    let nodes = connection["nodes"].as_array().expect("nodes");
    assert_eq!(connection["totalCount"], nodes.len());
    nodes
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Asserts a refused upload wrote nothing: no presentation and no stored file.
pub(crate) async fn assert_nothing_stored(
    server: &TestServer,
    viewer: &User,
    slug: &str,
    what: &str,
) {
    assert!(
        listed(server, viewer, slug).await.is_empty(),
        "{what}: no presentation is listed"
    );
    assert_eq!(
        files_under(&storage_dir(server)),
        Vec::<PathBuf>::new(),
        "{what}: no file is stored"
    );
}

/// A PRIVATE group owned by `ana`, with `ben` as a member; returns the group ID.
pub(crate) async fn private_group_with_member(
    server: &TestServer,
    ana: &User,
    ben: &User,
    slug: &str,
) -> String {
    let group = server.create_group(ana, slug, "PRIVATE", "OPEN").await;
    let joined = join(server, ben, &group, None).await;
    assert_eq!(
        joined["data"]["joinGroup"]["membership"]["state"], "ACTIVE",
        "{joined:#}"
    );
    group
}

async fn start_thread(server: &TestServer, author: &User, group: &str, title: &str) -> String {
    let body = mutate(
        server,
        Some(author),
        "startThread",
        json!({ "groupId": group, "title": title, "body": "Slides and recordings below." }),
        "thread { id }",
    )
    .await;
    assert!(body.get("errors").is_none(), "startThread: {body:#}");
    body["data"]["startThread"]["thread"]["id"]
        .as_str()
        .expect("thread id")
        .to_owned()
}

/// Shares `PDF` as `filename` in `group` and returns the presentation's ID.
async fn share_pdf(server: &TestServer, user: &User, group: &str, filename: &str) -> String {
    let input = json!({ "groupId": group, "title": "Slides" });
    id_of(&shared(
        &share(server, user, input, Some(FilePart::pdf(filename, PDF))).await,
    ))
}

async fn delete_presentation(server: &TestServer, user: &User, id: &str) -> Value {
    let input = json!({ "presentationId": id, "clientMutationId": "del" });
    mutate(
        server,
        Some(user),
        "deletePresentation",
        input,
        "clientMutationId deletedId",
    )
    .await
}

pub(crate) fn id_of(presentation: &Value) -> String {
    presentation["id"]
        .as_str()
        .expect("presentation id")
        .to_owned()
}

#[tokio::test]
async fn members_share_files_and_links_listed_in_the_group_and_thread() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let thread = start_thread(&server, &ana, &group, "Unveiling research").await;

        let cases = [
            ("slides.pdf", "application/pdf", PDF),
            ("diagram.png", "image/png", PNG),
            ("photo.jpg", "image/jpeg", JPEG),
        ];
        let mut ids = Vec::new();
        for (filename, content_type, bytes) in cases {
            let body = share(
                &server,
                &ben,
                json!({
                    "groupId": group,
                    "threadId": thread,
                    "title": format!("Shared {filename}"),
                    "description": "From the webinar",
                    "speakers": ["Dr. A", "Prof. B"],
                    "eventDate": "2024-07-15T13:00:00Z",
                    "clientMutationId": "share-1",
                }),
                Some(FilePart { filename, content_type, bytes }),
            )
            .await;
            assert_eq!(body["data"]["sharePresentation"]["clientMutationId"], "share-1");
            let presentation = shared(&body);
            let id = id_of(&presentation);
            assert!(id.starts_with("prs_"), "{id}");
            assert_eq!(presentation["title"], format!("Shared {filename}"));
            assert_eq!(presentation["description"], "From the webinar");
            assert_eq!(presentation["speakers"], json!(["Dr. A", "Prof. B"]));
            assert!(
                presentation["eventDate"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("2024-07-15T13:00:00")),
                "{presentation:#}"
            );
            assert!(presentation["recordingUrl"].is_null());
            assert_eq!(presentation["group"]["id"], group.as_str());
            assert_eq!(presentation["thread"]["id"], thread.as_str());
            assert_eq!(presentation["uploader"]["handle"], "ben");
            assert_eq!(
                presentation["file"],
                json!({
                    "filename": filename,
                    "contentType": content_type,
                    "byteSize": bytes.len(),
                    "sha256": sha256_hex(bytes),
                    "downloadUrl": format!("/files/{id}"),
                }),
                "{filename}"
            );
            // The bytes come back as they went in, with the sniffed type.
            let response = download(&server, Some(&ben), &id, None).await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, CONTENT_TYPE), content_type);
            assert_eq!(response.bytes().await.expect("body").as_ref(), bytes);
            ids.push(id);
        }

        // A recording link alone, without a thread.
        let link = shared(
            &share(
                &server,
                &ana,
                json!({
                    "groupId": group,
                    "title": "Recording",
                    "recordingUrl": "https://video.example.org/webinar-2024",
                }),
                None,
            )
            .await,
        );
        assert!(link["file"].is_null(), "{link:#}");
        assert!(link["thread"].is_null());
        assert_eq!(link["recordingUrl"], "https://video.example.org/webinar-2024");
        assert_eq!(link["speakers"], json!([]));
        assert_eq!(link["description"], "");
        let link_id = id_of(&link);
        // There is no file to download.
        assert_eq!(download(&server, Some(&ana), &link_id, None).await.status(), 404);

        // Group.presentations lists all four, oldest first; the thread lists its three.
        let mut everything = ids.clone();
        everything.push(link_id.clone());
        assert_eq!(listed(&server, &ana, "webinars").await, everything);
        assert_eq!(listed(&server, &ben, "webinars").await, everything);
        let data = server
            .ok(
                Some(&ana.token),
                "query($id: ID!) { node(id: $id) { ... on Thread { presentations { totalCount nodes { id file { filename } } } } } }",
                json!({ "id": thread }),
            )
            .await;
        let in_thread: Vec<&str> = data["node"]["presentations"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["id"].as_str().expect("id"))
            .collect();
        assert_eq!(in_thread, ids);
        assert_eq!(data["node"]["presentations"]["totalCount"], 3);
        // As a node, a presentation reads like it did in the payload.
        let node = server
            .ok(
                Some(&ana.token),
                &format!("query($id: ID!) {{ node(id: $id) {{ ... on Presentation {{ {PRESENTATION_FIELDS} }} }} }}"),
                json!({ "id": link_id }),
            )
            .await;
        assert_eq!(node["node"], link);
        assert_eq!(files_under(&storage_dir(&server)).len(), 3);
    })
    .await;
}

#[tokio::test]
async fn share_presentation_validates_its_input() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let other = server
            .create_group(&ana, "elsewhere", "PRIVATE", "OPEN")
            .await;
        let foreign_thread = start_thread(&server, &ana, &other, "Another group's thread").await;

        let base = json!({ "groupId": group, "title": "Talk" });
        let with = |extra: Value| {
            let mut input = base.clone();
            for (key, value) in extra.as_object().expect("object") {
                input[key] = value.clone();
            }
            input
        };
        let refused = [
            (
                "neither file nor recording",
                with(json!({})),
                None,
                "BAD_USER_INPUT",
            ),
            (
                "javascript: recording",
                with(json!({ "recordingUrl": "javascript:alert(1)" })),
                None,
                "BAD_USER_INPUT",
            ),
            (
                "ftp recording",
                with(json!({ "recordingUrl": "ftp://x" })),
                None,
                "BAD_USER_INPUT",
            ),
            (
                "javascript: recording with a file",
                with(json!({ "recordingUrl": "javascript:alert(1)" })),
                Some(FilePart::pdf("slides.pdf", PDF)),
                "BAD_USER_INPUT",
            ),
            (
                "another group's thread",
                with(
                    json!({ "threadId": foreign_thread, "recordingUrl": "https://example.org/r" }),
                ),
                None,
                "NOT_FOUND",
            ),
            (
                "another group's thread with a file",
                with(json!({ "threadId": foreign_thread })),
                Some(FilePart::pdf("slides.pdf", PDF)),
                "NOT_FOUND",
            ),
        ];
        for (what, input, file, code) in refused {
            let body = share(&server, &ben, input, file).await;
            assert_eq!(error_code(&body), Some(code), "{what}: {body:#}");
            assert!(body["data"].is_null(), "{what}: {body:#}");
        }
        assert_nothing_stored(&server, &ana, "webinars", "invalid input").await;
        assert!(listed(&server, &ana, "elsewhere").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn files_are_served_as_attachments_with_ranges() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let presentation = shared(
            &share(
                &server,
                &ben,
                json!({ "groupId": group, "title": "Slides" }),
                Some(FilePart::pdf("Geneva 2024.pdf", PDF)),
            )
            .await,
        );
        let id = id_of(&presentation);
        let size = PDF.len();

        let with_bearer = download(&server, Some(&ana), &id, None).await;
        let with_cookie = server
            .client
            .get(format!("{}/files/{id}", server.url))
            .header(COOKIE, format!("convene_session={}", ana.token))
            .send()
            .await
            .expect("request sent");
        for (how, response) in [("bearer", with_bearer), ("cookie", with_cookie)] {
            assert_eq!(response.status(), 200, "{how}");
            assert!(
                header(&response, CONTENT_DISPOSITION).starts_with("attachment;"),
                "{how}: {:?}",
                response.headers()
            );
            assert!(
                header(&response, CONTENT_DISPOSITION).contains("Geneva"),
                "{how}"
            );
            assert_eq!(
                header(&response, "x-content-type-options"),
                "nosniff",
                "{how}"
            );
            assert!(
                header(&response, CACHE_CONTROL).contains("private"),
                "{how}"
            );
            assert_eq!(header(&response, CONTENT_TYPE), "application/pdf", "{how}");
            assert_eq!(response.bytes().await.expect("body").as_ref(), PDF, "{how}");
        }

        let response = download(&server, Some(&ben), &id, Some("bytes=5-9")).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&response, CONTENT_RANGE),
            format!("bytes 5-9/{size}")
        );
        assert_eq!(response.bytes().await.expect("body").as_ref(), &PDF[5..10]);

        let response = download(&server, Some(&ben), &id, Some("bytes=-4")).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&response, CONTENT_RANGE),
            format!("bytes {}-{}/{size}", size - 4, size - 1)
        );
        assert_eq!(
            response.bytes().await.expect("body").as_ref(),
            &PDF[size - 4..]
        );

        let response = download(&server, Some(&ben), &id, Some(&format!("bytes={size}-"))).await;
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(header(&response, CONTENT_RANGE), format!("bytes */{size}"));
        let response = download(
            &server,
            Some(&ben),
            &id,
            Some(&format!("bytes={}-{}", size + 10, size + 20)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    })
    .await;
}

#[tokio::test]
async fn deleting_a_presentation_removes_its_file() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let carl = server.register("carl").await;
        let mona = server.register("mona").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        join(&server, &carl, &group, None).await;
        let monas =
            join(&server, &mona, &group, None).await["data"]["joinGroup"]["membership"]["id"]
                .clone();
        let promoted = mutate(
            &server,
            Some(&ana),
            "setMemberRole",
            json!({ "membershipId": monas, "role": "MODERATOR" }),
            "membership { role }",
        )
        .await;
        assert_eq!(
            promoted["data"]["setMemberRole"]["membership"]["role"], "MODERATOR",
            "{promoted:#}"
        );
        let storage = storage_dir(&server);

        // The uploader deletes their own: the row and the file go.
        let first = share_pdf(&server, &ben, &group, "a.pdf").await;
        assert_eq!(files_under(&storage).len(), 1);
        let body = delete_presentation(&server, &ben, &first).await;
        assert!(body.get("errors").is_none(), "{body:#}");
        assert_eq!(
            body["data"]["deletePresentation"]["deletedId"],
            first.as_str()
        );
        assert_eq!(
            body["data"]["deletePresentation"]["clientMutationId"],
            "del"
        );
        assert!(listed(&server, &ana, "webinars").await.is_empty());
        assert_eq!(
            download(&server, Some(&ben), &first, None).await.status(),
            404
        );
        assert_eq!(files_under(&storage), Vec::<PathBuf>::new());
        let gone = server
            .gql(
                Some(&ben.token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": first }),
            )
            .await;
        assert_code(&gone, "NOT_FOUND");
        // Deleting it again: it no longer exists.
        assert_code(
            &delete_presentation(&server, &ben, &first).await,
            "NOT_FOUND",
        );

        // Another member may not; a moderator may, and the log says so.
        let second = share_pdf(&server, &ben, &group, "b.pdf").await;
        assert_code(
            &delete_presentation(&server, &carl, &second).await,
            "FORBIDDEN",
        );
        assert_eq!(
            listed(&server, &ana, "webinars").await,
            std::slice::from_ref(&second)
        );
        assert_eq!(
            download(&server, Some(&carl), &second, None).await.status(),
            200
        );
        assert_eq!(files_under(&storage).len(), 1);

        let body = delete_presentation(&server, &mona, &second).await;
        assert_eq!(
            body["data"]["deletePresentation"]["deletedId"],
            second.as_str(),
            "{body:#}"
        );
        assert!(listed(&server, &ana, "webinars").await.is_empty());
        assert_eq!(
            download(&server, Some(&ben), &second, None).await.status(),
            404
        );
        assert_eq!(files_under(&storage), Vec::<PathBuf>::new());

        let log = server.ok(Some(&carl.token), LOG_QUERY, json!({})).await;
        let deletions: Vec<&Value> = log["group"]["moderationLog"]["nodes"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|e| e["action"] == "PRESENTATION_DELETED")
            .collect();
        let by_mona = json!({
            "action": "PRESENTATION_DELETED",
            "actor": { "handle": "mona" },
            "targetUser": { "handle": "ben" },
        });
        assert_eq!(
            deletions,
            [&by_mona],
            "only the moderator's deletion is a moderation action"
        );

        // A link-only presentation deletes just the same.
        let input =
            json!({ "groupId": group, "title": "Rec", "recordingUrl": "https://example.org/r" });
        let link = id_of(&shared(&share(&server, &ben, input, None).await));
        let body = delete_presentation(&server, &ana, &link).await;
        assert_eq!(
            body["data"]["deletePresentation"]["deletedId"],
            link.as_str(),
            "{body:#}"
        );
        assert!(listed(&server, &ana, "webinars").await.is_empty());
    })
    .await;
}

const LOG_QUERY: &str = "query { group(slug: \"webinars\") { moderationLog(first: 100) { nodes { \
     action actor { handle } targetUser { handle } } } } }";

#[tokio::test]
async fn a_retried_share_returns_the_first_presentation_and_stores_one_file() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let ben = server.register("ben").await;
        let group = private_group_with_member(&server, &ana, &ben, "webinars").await;
        let storage = storage_dir(&server);
        let input = json!({ "groupId": group, "title": "Slides", "idempotencyKey": "upload-7" });

        let first = shared(
            &share(
                &server,
                &ben,
                input.clone(),
                Some(FilePart::pdf("a.pdf", PDF)),
            )
            .await,
        );
        let retry = shared(
            &share(
                &server,
                &ben,
                input.clone(),
                Some(FilePart::pdf("a.pdf", PDF)),
            )
            .await,
        );
        assert_eq!(retry, first, "the retry returns the first result");
        assert_eq!(listed(&server, &ana, "webinars").await, [id_of(&first)]);
        assert_eq!(files_under(&storage).len(), 1);

        // Keys are per viewer: ana's identical key is unrelated to ben's.
        let anas = shared(&share(&server, &ana, input, Some(FilePart::pdf("a.pdf", PDF))).await);
        assert_ne!(anas["id"], first["id"]);
        assert_eq!(
            listed(&server, &ana, "webinars").await,
            [id_of(&first), id_of(&anas)]
        );
        assert_eq!(files_under(&storage).len(), 2);
    })
    .await;
}
