//! `GET /files/{presentationId}`: a presentation's file, to those who may read its group.
//!
//! Everyone else gets 404, exactly as for an ID that names nothing. Files are always served as
//! attachments with `nosniff`, so that an uploaded file is never rendered by the browser in
//! Convene's origin.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use convene_domain::ids::PresentationId;
use convene_domain::policy::{self, Standing};
use convene_domain::{DomainError, DomainResult, Visibility};

use crate::auth::authenticate;
use crate::range::{RangeOutcome, parse_range};
use crate::server::AppState;

pub(crate) async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match serve(&state, &id, &headers).await {
        Ok(response) => response,
        Err(DomainError::Unauthenticated) => StatusCode::UNAUTHORIZED.into_response(),
        Err(DomainError::Internal(detail)) => {
            tracing::error!(%detail, "serving a file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn serve(state: &AppState, raw_id: &str, headers: &HeaderMap) -> DomainResult<Response> {
    let services = &state.services;
    let viewer = authenticate(services.accounts.as_ref(), headers).await?;
    let id: PresentationId = raw_id.parse().map_err(|_| DomainError::NotFound)?;
    let presentation = services
        .content
        .presentations_by_ids(&[id])
        .await?
        .pop()
        .ok_or(DomainError::NotFound)?;
    let group = services
        .groups
        .groups_by_ids(&[presentation.group_id])
        .await?
        .pop()
        .ok_or(DomainError::NotFound)?;
    let membership = match &viewer.user {
        Some(user) => services
            .groups
            .memberships_of(user.id, &[group.id])
            .await?
            .pop(),
        None => None,
    };
    let standing = Standing::of(viewer.actor(), membership.as_ref(), Utc::now());
    if !policy::can_read_group(standing, group.visibility) {
        return Err(DomainError::NotFound);
    }
    let file = presentation.file.ok_or(DomainError::NotFound)?;

    let range = match headers.get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(header) => parse_range(header, file.byte_size),
        None => RangeOutcome::Full,
    };
    let mut response = match range {
        RangeOutcome::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            response.headers_mut().insert(
                CONTENT_RANGE,
                header(&format!("bytes */{}", file.byte_size))?,
            );
            response
        }
        RangeOutcome::Full => {
            let read = state.files.read(&file.key, None).await?;
            let mut response = (StatusCode::OK, Body::from_stream(read.body)).into_response();
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(read.total_size));
            response
        }
        RangeOutcome::Partial(range) => {
            let read = state.files.read(&file.key, Some(range)).await?;
            let (start, end) = (read.range.start, read.range.end);
            let mut response =
                (StatusCode::PARTIAL_CONTENT, Body::from_stream(read.body)).into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_LENGTH, HeaderValue::from(end - start));
            headers.insert(
                CONTENT_RANGE,
                header(&format!(
                    "bytes {start}-{}/{}",
                    end.saturating_sub(1),
                    read.total_size
                ))?,
            );
            response
        }
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, header(&file.content_type)?);
    headers.insert(
        CONTENT_DISPOSITION,
        header(&content_disposition(&file.filename))?,
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(ETAG, header(&format!("\"{}\"", file.sha256))?);
    let cache = if group.visibility == Visibility::Public {
        "private"
    } else {
        "private, no-store"
    };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

fn header(value: &str) -> DomainResult<HeaderValue> {
    HeaderValue::from_str(value).map_err(DomainError::internal)
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266, RFC 8187).
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " ._-()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_are_quoted_safely_and_kept_exactly() {
        assert_eq!(
            content_disposition("slides.pdf"),
            "attachment; filename=\"slides.pdf\"; filename*=UTF-8''slides.pdf"
        );
        let tricky = content_disposition("Résumé \"final\";\r\n.pdf");
        assert!(!tricky.contains('\r') && !tricky.contains('\n'));
        assert!(
            tricky.starts_with("attachment; filename=\"R_sum_ _final____.pdf\""),
            "{tricky}"
        );
        assert!(
            tricky.ends_with("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%3B%0D%0A.pdf"),
            "{tricky}"
        );
    }
}
