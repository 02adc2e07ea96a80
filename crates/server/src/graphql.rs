//! GraphQL over HTTP: `POST /graphql` (JSON) and `GET /graphql` (queries only).

use std::collections::HashMap;

use async_graphql::ParseRequestError;
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use convene_domain::DomainError;
use convene_graphql::{ErrorCode, error_response, prepare_request};
use futures_util::{StreamExt, TryStreamExt};

use crate::auth::authenticate;
use crate::client_ip::{self, ClientIp};
use crate::server::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The most files one `sharePresentation` request may carry: a multipart request may hold
/// this many times the upload limit, plus the JSON body limit.
const MAX_UPLOADS: usize = 1;

/// The most parts a multipart request may have: its operations, its map and its files. Each
/// file part is spooled to a temporary file held open until the whole request is read, so parts
/// are counted as they arrive.
const MAX_PARTS: usize = 2 + MAX_UPLOADS;

/// Why [`limited`] cut a multipart request off after too many parts.
#[derive(Debug)]
struct TooManyParts;

impl std::fmt::Display for TooManyParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {MAX_PARTS} parts")
    }
}

impl std::error::Error for TooManyParts {}

pub(crate) async fn post(
    State(state): State<AppState>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = match media_type(&headers).as_deref() {
        Some("application/json") => json_request(&state, &headers, body).await,
        Some("multipart/form-data") => multipart_request(&state, &headers, body).await,
        _ => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST /graphql takes an application/json body, or multipart/form-data for uploads",
        )
            .into_response()),
    };
    match request {
        Ok(request) => execute(&state, client, &headers, request).await,
        Err(response) => response,
    }
}

async fn json_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<async_graphql::Request, Response> {
    let bytes = axum::body::to_bytes(body, state.config.body_limit)
        .await
        .map_err(|_| {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
                .into_response()
        })?;
    serde_json::from_slice(&bytes).map_err(|_| {
        let message = if bytes.trim_ascii_start().starts_with(b"[") {
            "batched requests (a JSON array) are not accepted: send one operation per request"
        } else {
            "the body is not a GraphQL request object"
        };
        let mut response = graphql_error(headers, message, ErrorCode::BadUserInput);
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    })
}

/// A GraphQL multipart request (uploads). Browsers send multipart forms cross-site without a
/// preflight, so one of the non-simple headers that force a preflight is required.
async fn multipart_request(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<async_graphql::Request, Response> {
    let preflighted = headers.get("x-convene-csrf").is_some_and(|v| v == "1")
        || headers
            .get("apollo-require-preflight")
            .is_some_and(|v| v == "true");
    if !preflighted {
        return Err((
            StatusCode::BAD_REQUEST,
            "multipart requests need the header x-convene-csrf: 1 (or apollo-require-preflight: true)",
        )
            .into_response());
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    // The whole request is capped here: async-graphql's `max_num_files` would cap it at
    // `max_file_size × max_num_files`, leaving no room for the operations and map parts, so
    // that a file at the limit would be refused.
    let limit = state
        .config
        .upload_limit
        .saturating_mul(MAX_UPLOADS as u64)
        .saturating_add(state.config.body_limit as u64);
    let stream = limited(body, limit, content_type.and_then(boundary));
    let options = MultipartOptions::default()
        .max_file_size(usize::try_from(state.config.upload_limit).unwrap_or(usize::MAX));
    match async_graphql::http::receive_body(content_type, stream.into_async_read(), options).await {
        Ok(request) => Ok(request),
        Err(err)
            if cut_off(&err, |io| {
                io.get_ref().is_some_and(|e| e.is::<TooManyParts>())
            }) =>
        {
            Err(graphql_error(
                headers,
                &format!("a request may carry at most {MAX_UPLOADS} file"),
                ErrorCode::PayloadTooLarge,
            ))
        }
        Err(ParseRequestError::PayloadTooLarge) => Err(graphql_error(
            headers,
            "the file is larger than the upload limit",
            ErrorCode::PayloadTooLarge,
        )),
        Err(err) if cut_off(&err, |io| io.kind() == std::io::ErrorKind::FileTooLarge) => {
            Err(graphql_error(
                headers,
                "the request is larger than the upload limit",
                ErrorCode::PayloadTooLarge,
            ))
        }
        Err(err) => Err(graphql_error(
            headers,
            &format!("invalid multipart request: {err}"),
            ErrorCode::BadUserInput,
        )),
    }
}

/// The `boundary` parameter of a multipart media type.
fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The body as a byte stream that fails once more than `limit` bytes arrive, or, given the
/// multipart `boundary`, more than [`MAX_PARTS`] parts.
fn limited(
    body: Body,
    limit: u64,
    boundary: Option<String>,
) -> impl futures_util::TryStream<Ok = axum::body::Bytes, Error = std::io::Error> + Send {
    let mut seen: u64 = 0;
    let delimiter = boundary.map(|b| format!("--{b}").into_bytes());
    // The end of the previous chunk, where a delimiter split across chunks begins.
    let mut tail: Vec<u8> = Vec::new();
    let mut delimiters = 0;
    body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen = seen.saturating_add(chunk.len() as u64);
        if seen > limit {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "request too large",
            ));
        }
        if let Some(delimiter) = &delimiter {
            tail.extend_from_slice(&chunk);
            delimiters += tail
                .windows(delimiter.len())
                .filter(|w| w == delimiter)
                .count();
            // A delimiter opens each part, and one more closes the body.
            if delimiters > MAX_PARTS + 1 {
                return Err(std::io::Error::other(TooManyParts));
            }
            let keep = tail.len().min(delimiter.len().saturating_sub(1));
            tail.drain(..tail.len() - keep);
        }
        Ok(chunk)
    })
}

/// Whether parsing failed because [`limited`] cut the body off for the reason `why` tells
/// (the multipart parser reports it as a failed read, with the I/O error as its source).
fn cut_off(err: &ParseRequestError, why: impl Fn(&std::io::Error) -> bool) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = match err {
        ParseRequestError::Io(err) => Some(err),
        ParseRequestError::InvalidMultipart(err) => Some(err),
        _ => None,
    };
    while let Some(err) = source {
        if err.downcast_ref::<std::io::Error>().is_some_and(&why) {
            return true;
        }
        source = err.source();
    }
    false
}

fn graphql_error(headers: &HeaderMap, message: &str, code: ErrorCode) -> Response {
    to_http(headers, error_response(message, code))
}

pub(crate) async fn get(
    State(state): State<AppState>,
    Extension(client): Extension<ClientIp>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query") else {
        return (StatusCode::BAD_REQUEST, "missing query parameter").into_response();
    };
    let mut request = async_graphql::Request::new(query.clone());
    if let Some(name) = params.get("operationName") {
        request = request.operation_name(name.clone());
    }
    if let Some(variables) = params.get("variables") {
        match serde_json::from_str(variables) {
            Ok(variables) => {
                request = request.variables(async_graphql::Variables::from_json(variables))
            }
            Err(_) => {
                return (StatusCode::BAD_REQUEST, "variables must be a JSON object")
                    .into_response();
            }
        }
    }
    if is_mutation(query, request.operation_name.as_deref()) {
        let mut response =
            (StatusCode::METHOD_NOT_ALLOWED, "mutations must use POST").into_response();
        response
            .headers_mut()
            .insert("allow", HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, client, &headers, request).await
}

/// The request's media type, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
}

/// Whether the operation a GET request would run is a mutation. A query that does not parse
/// is left to the executor, which reports the syntax error.
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    match document.operations {
        DocumentOperations::Single(op) => op.node.ty == OperationType::Mutation,
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .get(name)
                .is_some_and(|op| op.node.ty == OperationType::Mutation),
            None => ops.values().any(|op| op.node.ty == OperationType::Mutation),
        },
    }
}

async fn execute(
    state: &AppState,
    client: ClientIp,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let response = match authenticate(state.services.accounts.as_ref(), headers).await {
        Ok(viewer) => {
            let info = client_ip::request_info(headers, client);
            let request = prepare_request(request, &state.services, viewer, info);
            state.schema.execute(request).await
        }
        Err(DomainError::Unauthenticated) => error_response(
            "the session token is invalid, expired or revoked",
            ErrorCode::Unauthenticated,
        ),
        Err(err) => {
            tracing::error!(error = %err, "authentication failed");
            error_response("internal error", ErrorCode::Internal)
        }
    };
    to_http(headers, response)
}

fn to_http(request_headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let body = match serde_json::to_vec(&response) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "serializing a GraphQL response");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let wants_graphql_json = request_headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(GRAPHQL_RESPONSE_JSON));
    let content_type = if wants_graphql_json {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    let mut http = (StatusCode::OK, body).into_response();
    let headers = http.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    for (name, value) in response.http_headers.iter() {
        headers.append(name.clone(), value.clone());
    }
    http
}

#[cfg(test)]
mod tests {
    use super::{boundary, is_mutation};

    #[test]
    fn finds_the_multipart_boundary() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn finds_mutations_among_operations() {
        assert!(is_mutation(
            "mutation { logout { clientMutationId } }",
            None
        ));
        assert!(!is_mutation("{ viewer { id } }", None));
        let both = "query A { viewer { id } } mutation B { logout { clientMutationId } }";
        assert!(!is_mutation(both, Some("A")));
        assert!(is_mutation(both, Some("B")));
        assert!(is_mutation(both, None));
        assert!(!is_mutation("not graphql", None));
    }
}
