//! Drives arbitrary HTTP requests through the real axum router, in-process: method, path,
//! content type, `Authorization`, `Cookie`, the CSRF preflight headers and the body (JSON,
//! GraphQL documents with typed variables, batches, multipart uploads, raw bytes).
//!
//! The server is built once, on SQLite in a temporary directory, with one user who owns a group
//! that holds a thread, so that requests reach resolvers with real data. A request must never
//! panic, never get a 5xx status, and never get a GraphQL error coded `INTERNAL`: each of
//! those is the server failing on input, not the client being refused.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use convene_graphql::SESSION_COOKIE;
use convene_server::{Config, Secret, Server};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Number, Value, json};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// GraphQL documents the fuzzer starts from; their variables are fuzzed.
const DOCUMENTS: &[&str] = &[
    "{ viewer { id handle groups(first: 5) { edges { cursor node { id slug } } } sessions { edges { node { id } } } } }",
    "query($id: ID!) { node(id: $id) { id __typename ... on Thread { title posts { edges { cursor node { id bodyHtml } } } } } }",
    "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }",
    "query($handle: String!) { user(handle: $handle) { id handle displayName } }",
    "query($slug: String!, $first: Int, $after: String, $last: Int, $before: String) { group(slug: $slug) { id name visibility joinPolicy memberCount viewerCanJoin members(first: $first, after: $after, last: $last, before: $before) { totalCount edges { cursor node { id state role } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }",
    "query($slug: String!, $first: Int, $after: String, $last: Int, $before: String) { group(slug: $slug) { threads(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id title replyCount isLocked } } } presentations(first: $first) { edges { node { id title } } } moderationLog(first: $first) { edges { node { id action } } } pendingMemberships(first: $first) { totalCount } } }",
    "query($first: Int, $after: String, $last: Int, $before: String, $q: String) { groups(first: $first, after: $after, last: $last, before: $before, query: $q) { totalCount edges { cursor node { id slug } } pageInfo { hasNextPage endCursor } } }",
    "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id slug } } }",
    "mutation($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id name } } }",
    "mutation($input: JoinGroupInput!) { joinGroup(input: $input) { membership { id state } } }",
    "mutation($input: LeaveGroupInput!) { leaveGroup(input: $input) { clientMutationId } }",
    "mutation($input: StartThreadInput!) { startThread(input: $input) { thread { id } } }",
    "mutation($input: PostReplyInput!) { postReply(input: $input) { edge { cursor node { id bodyHtml } } } }",
    "mutation($input: EditPostInput!) { editPost(input: $input) { post { id bodyHtml } } }",
    "mutation($input: DeletePostInput!) { deletePost(input: $input) { post { id } } }",
    "mutation($input: AddReactionInput!) { addReaction(input: $input) { post { id } } }",
    "mutation($input: MarkThreadReadInput!) { markThreadRead(input: $input) { thread { id unreadCount } } }",
    "mutation($input: LockThreadInput!) { lockThread(input: $input) { thread { id isLocked } } }",
    "mutation($input: MarkAnswerInput!) { markAnswer(input: $input) { thread { id } } }",
    "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { membership { id state } } }",
    "mutation($input: BanMemberInput!) { banMember(input: $input) { membership { id state } } }",
    "mutation($input: SetMemberRoleInput!) { setMemberRole(input: $input) { membership { id role } } }",
    "mutation($input: SharePresentationInput!) { sharePresentation(input: $input) { presentation { id } } }",
    "mutation($input: DeletePresentationInput!) { deletePresentation(input: $input) { deletedId } }",
    "mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { clientMutationId } }",
];

/// Variable and input field names from the schema.
const KEYS: &[&str] = &[
    "input",
    "id",
    "ids",
    "slug",
    "handle",
    "first",
    "after",
    "last",
    "before",
    "q",
    "application",
    "body",
    "clientMutationId",
    "content",
    "description",
    "displayName",
    "email",
    "eventDate",
    "groupId",
    "idempotencyKey",
    "joinPolicy",
    "level",
    "login",
    "membershipId",
    "name",
    "password",
    "postId",
    "presentationId",
    "reason",
    "recordingUrl",
    "replyToId",
    "revisionId",
    "role",
    "sessionId",
    "speakers",
    "threadId",
    "title",
    "until",
    "userId",
    "visibility",
    "file",
];

/// Words the schema's enums and inputs accept.
const WORDS: &[&str] = &[
    "PUBLIC",
    "PRIVATE",
    "SECRET",
    "OPEN",
    "REQUEST",
    "INVITE",
    "OWNER",
    "MODERATOR",
    "MEMBER",
    "THUMBS_UP",
    "HEART",
    "WATCHING",
    "MUTED",
    "https://example.org/recording",
    "2030-01-01T00:00:00Z",
    "fuzz-group",
    "fuzzer",
    "",
];

/// What setup created: IDs and names that resolvers will find.
struct App {
    runtime: Runtime,
    router: Router,
    token: String,
    known: Vec<String>,
    /// Kept, not leaked, so that LeakSanitizer sees them reachable: the server's event wiring
    /// and the directory of its database live as long as the process.
    _server: Server,
    _dir: tempfile::TempDir,
}

static APP: OnceLock<App> = OnceLock::new();

fn setup() -> App {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(Secret::new(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("convene.db").display()
        ))),
        upload_limit: 64 * 1024,
        // A refused request is answered after a second: with the rate limits on, the fuzzer
        // would soon spend its time waiting. Their decoding is the same either way.
        login_per_account_per_minute: 0,
        posts_per_user_per_minute: 0,
        ..Config::default()
    };
    let server = runtime.block_on(Server::bind(config)).expect("server");
    let router = server.router();

    let call = |token: Option<&str>, query: &str, variables: Value| -> Value {
        let mut request = Request::post("/graphql").header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = json!({ "query": query, "variables": variables }).to_string();
        let request = request.body(Body::from(body)).expect("request");
        runtime.block_on(async {
            let response = router.clone().oneshot(request).await.expect("infallible");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            serde_json::from_slice(&bytes).expect("json")
        })
    };
    let registered = call(
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id handle } } }",
        json!({"input": {"handle": "fuzzer", "email": "fuzzer@example.org",
            "password": "correct horse battery staple", "displayName": "Fuzzer"}}),
    );
    let token = registered["data"]["register"]["token"]
        .as_str()
        .expect("registered")
        .to_owned();
    let user = registered["data"]["register"]["viewer"]["id"].clone();
    let group = call(
        Some(&token),
        "mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } } }",
        json!({"input": {"slug": "fuzz-group", "name": "Fuzz", "visibility": "PRIVATE",
            "joinPolicy": "REQUEST"}}),
    )["data"]["createGroup"]["group"]["id"]
        .clone();
    let thread = call(
        Some(&token),
        "mutation($input: StartThreadInput!) { startThread(input: $input) { thread { id posts { edges { node { id } } } } } }",
        json!({"input": {"groupId": group, "title": "First", "body": "*hello*"}}),
    );
    let thread = &thread["data"]["startThread"]["thread"];
    let known = [
        &user,
        &group,
        &thread["id"],
        &thread["posts"]["edges"][0]["node"]["id"],
    ]
    .iter()
    .map(|v| v.as_str().expect("seeded").to_owned())
    .collect();
    App {
        runtime,
        router,
        token,
        known,
        _server: server,
        _dir: dir,
    }
}

#[derive(Arbitrary, Debug)]
enum MethodChoice {
    Get,
    Post,
    Head,
    Put,
    Delete,
    Options,
    Patch,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Path {
    Graphql,
    /// `GET /graphql?query=…&variables=…&operationName=…`
    GraphqlQuery(Operation),
    GraphqlWs,
    Healthz,
    Readyz,
    Metrics,
    File(Scalar),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum ContentType {
    Missing,
    Json,
    JsonCharset,
    GraphqlResponseJson,
    /// With the boundary the multipart body uses.
    Multipart,
    MultipartOtherBoundary(String),
    TextPlain,
    Form,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Credential {
    None,
    /// The seeded user's live session token.
    Valid,
    ValidPadded,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Preflight {
    None,
    Csrf,
    Apollo,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: MethodChoice,
    path: Path,
    content_type: ContentType,
    authorization: Credential,
    lowercase_bearer: bool,
    cookie: Credential,
    preflight: Preflight,
    accept_graphql_json: bool,
    headers: Vec<(String, Vec<u8>)>,
    body: BodyChoice,
}

#[derive(Arbitrary, Debug)]
enum BodyChoice {
    Empty,
    Graphql(Operation),
    Batch(Vec<Operation>),
    Text(String),
    Bytes(Vec<u8>),
    Multipart(Multipart),
}

#[derive(Arbitrary, Debug)]
enum Document {
    Seed(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Operation {
    document: Document,
    variables: Vec<(Key, Variable)>,
    operation_name: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Key {
    Known(u8),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Variable {
    Scalar(Scalar),
    List(Vec<Scalar>),
    Object(Vec<(Key, Scalar)>),
}

#[derive(Arbitrary, Debug)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Word(u8),
    /// One of the seeded objects' IDs or names.
    Known(u8),
    /// A well-formed global ID of some kind that names nothing.
    Id(u8, u128),
    /// A well-formed cursor.
    Cursor(u128),
}

#[derive(Arbitrary, Debug)]
struct Multipart {
    operations: Operation,
    map: Option<String>,
    file: Vec<u8>,
    filename: String,
    part_content_type: Option<String>,
    raw_tail: Vec<u8>,
}

const BOUNDARY: &str = "fuzzboundary";

fn pick<'a>(items: &[&'a str], index: u8) -> &'a str {
    items[usize::from(index) % items.len()]
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Known(i) => pick(KEYS, *i).to_owned(),
            Key::Raw(raw) => raw.clone(),
        }
    }
}

impl Scalar {
    fn json(&self, app: &App) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(n) => Value::Number((*n).into()),
            Scalar::Float(x) => Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Scalar::Text(text) => Value::String(text.clone()),
            Scalar::Word(i) => Value::String(pick(WORDS, *i).to_owned()),
            Scalar::Known(i) => Value::String(app.known[usize::from(*i) % app.known.len()].clone()),
            Scalar::Id(kind, n) => {
                let prefixes = [
                    "usr", "grp", "mem", "thr", "pst", "rev", "prs", "rpt", "ntf", "log", "ses",
                ];
                Value::String(format!("{}_{n:032x}", pick(&prefixes, *kind)))
            }
            Scalar::Cursor(n) => {
                Value::String(convene_graphql::cursor::encode(uuid::Uuid::from_u128(*n)))
            }
        }
    }
}

impl Variable {
    fn json(&self, app: &App) -> Value {
        match self {
            Variable::Scalar(scalar) => scalar.json(app),
            Variable::List(items) => Value::Array(items.iter().map(|s| s.json(app)).collect()),
            Variable::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, value)| (key.text(), value.json(app)))
                    .collect(),
            ),
        }
    }
}

impl Operation {
    fn query(&self) -> String {
        match &self.document {
            Document::Seed(i) => pick(DOCUMENTS, *i).to_owned(),
            Document::Raw(raw) => raw.clone(),
        }
    }

    fn variables(&self, app: &App) -> Value {
        Value::Object(
            self.variables
                .iter()
                .map(|(key, value)| (key.text(), value.json(app)))
                .collect::<Map<_, _>>(),
        )
    }

    fn json(&self, app: &App) -> Value {
        let mut body = json!({ "query": self.query(), "variables": self.variables(app) });
        if let Some(name) = &self.operation_name {
            body["operationName"] = Value::String(name.clone());
        }
        body
    }

    fn query_string(&self, app: &App) -> String {
        let mut query = format!(
            "query={}&variables={}",
            percent_encode(&self.query()),
            percent_encode(&self.variables(app).to_string())
        );
        if let Some(name) = &self.operation_name {
            query.push_str("&operationName=");
            query.push_str(&percent_encode(name));
        }
        query
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Multipart {
    fn body(&self, app: &App) -> Vec<u8> {
        let map = self
            .map
            .clone()
            .unwrap_or_else(|| r#"{"0": ["variables.input.file"]}"#.to_owned());
        let mut body = Vec::new();
        let mut part = |headers: &str, content: &[u8]| {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        };
        part(
            "Content-Disposition: form-data; name=\"operations\"",
            self.operations.json(app).to_string().as_bytes(),
        );
        part(
            "Content-Disposition: form-data; name=\"map\"",
            map.as_bytes(),
        );
        let file_headers = format!(
            "Content-Disposition: form-data; name=\"0\"; filename=\"{}\"\r\nContent-Type: {}",
            self.filename,
            self.part_content_type
                .as_deref()
                .unwrap_or("application/pdf")
        );
        part(&file_headers, &self.file);
        body.extend_from_slice(&self.raw_tail);
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        body
    }
}

fn build(input: &Input, app: &App) -> Option<Request<Body>> {
    let method = match &input.method {
        MethodChoice::Get => Method::GET,
        MethodChoice::Post => Method::POST,
        MethodChoice::Head => Method::HEAD,
        MethodChoice::Put => Method::PUT,
        MethodChoice::Delete => Method::DELETE,
        MethodChoice::Options => Method::OPTIONS,
        MethodChoice::Patch => Method::PATCH,
        MethodChoice::Other(name) => Method::from_bytes(name.as_bytes()).ok()?,
    };
    let uri = match &input.path {
        Path::Graphql => "/graphql".to_owned(),
        Path::GraphqlQuery(operation) => format!("/graphql?{}", operation.query_string(app)),
        Path::GraphqlWs => "/graphql/ws".to_owned(),
        Path::Healthz => "/healthz".to_owned(),
        Path::Readyz => "/readyz".to_owned(),
        Path::Metrics => "/metrics".to_owned(),
        Path::File(scalar) => match scalar.json(app) {
            Value::String(id) => format!("/files/{}", percent_encode(&id)),
            other => format!("/files/{other}"),
        },
        Path::Raw(raw) => raw.clone(),
    };
    let mut request = Request::builder().method(method).uri(uri);
    let content_type = match &input.content_type {
        ContentType::Missing => None,
        ContentType::Json => Some("application/json".to_owned()),
        ContentType::JsonCharset => Some("Application/JSON; charset=utf-8".to_owned()),
        ContentType::GraphqlResponseJson => Some("application/graphql-response+json".to_owned()),
        ContentType::Multipart => Some(format!("multipart/form-data; boundary={BOUNDARY}")),
        ContentType::MultipartOtherBoundary(b) => {
            Some(format!("multipart/form-data; boundary={b}"))
        }
        ContentType::TextPlain => Some("text/plain".to_owned()),
        ContentType::Form => Some("application/x-www-form-urlencoded".to_owned()),
        ContentType::Raw(raw) => Some(raw.clone()),
    };
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(content_type) = content_type {
        headers.push(("content-type".to_owned(), content_type.into_bytes()));
    }
    let token = |credential: &Credential| match credential {
        Credential::None => None,
        Credential::Valid => Some(app.token.clone()),
        Credential::ValidPadded => Some(format!("  {}\t", app.token)),
        Credential::Raw(raw) => Some(raw.clone()),
    };
    if let Some(token) = token(&input.authorization) {
        let scheme = if input.lowercase_bearer {
            "bearer"
        } else {
            "Bearer"
        };
        headers.push((
            "authorization".to_owned(),
            format!("{scheme} {token}").into_bytes(),
        ));
    }
    if let Some(token) = token(&input.cookie) {
        let cookie = format!("theme=dark; {SESSION_COOKIE}={token}");
        headers.push(("cookie".to_owned(), cookie.into_bytes()));
    }
    match &input.preflight {
        Preflight::None => {}
        Preflight::Csrf => headers.push(("x-convene-csrf".to_owned(), b"1".to_vec())),
        Preflight::Apollo => {
            headers.push(("apollo-require-preflight".to_owned(), b"true".to_vec()));
        }
        Preflight::Raw(raw) => {
            headers.push(("x-convene-csrf".to_owned(), raw.clone().into_bytes()))
        }
    }
    if input.accept_graphql_json {
        headers.push((
            "accept".to_owned(),
            b"application/graphql-response+json".to_vec(),
        ));
    }
    headers.extend(input.headers.iter().cloned());
    for (name, value) in &headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(value).ok()?;
        request = request.header(name, value);
    }
    let body = match &input.body {
        BodyChoice::Empty => Vec::new(),
        BodyChoice::Graphql(operation) => operation.json(app).to_string().into_bytes(),
        BodyChoice::Batch(operations) => {
            Value::Array(operations.iter().map(|o| o.json(app)).collect())
                .to_string()
                .into_bytes()
        }
        BodyChoice::Text(text) => text.clone().into_bytes(),
        BodyChoice::Bytes(bytes) => bytes.clone(),
        BodyChoice::Multipart(multipart) => multipart.body(app),
    };
    request.body(Body::from(body)).ok()
}

fuzz_target!(|input: Input| {
    let app = APP.get_or_init(setup);
    let Some(request) = build(&input, app) else {
        return;
    };
    let (status, body) = app.runtime.block_on(async {
        let response = app
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        (status, body)
    });
    assert!(!status.is_server_error(), "{status} for {input:#?}");
    let body = body.expect("the response body is readable");
    if let Ok(Value::Object(response)) = serde_json::from_slice::<Value>(&body) {
        let internal = response
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|error| error["extensions"]["code"] == "INTERNAL");
        assert!(
            !internal,
            "INTERNAL error {} for {input:#?}",
            String::from_utf8_lossy(&body)
        );
    }
});
