use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextValidation,
};
use async_graphql::{
    ErrorExtensionValues, ErrorExtensions, Response, ServerError, ValidationResult,
};
use convene_domain::DomainError;

use crate::Viewer;

/// The stable codes clients branch on (`extensions.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    PayloadTooLarge,
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

pub(crate) type GqlResult<T> = async_graphql::Result<T>;

pub(crate) fn coded(message: impl Into<String>, code: ErrorCode) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// The one place domain errors become GraphQL errors. Internal detail is logged, never sent.
pub(crate) fn gql(err: DomainError) -> async_graphql::Error {
    match err {
        DomainError::Unauthenticated => {
            coded("authentication required", ErrorCode::Unauthenticated)
        }
        DomainError::Forbidden(message) => coded(message, ErrorCode::Forbidden),
        DomainError::NotFound => coded("not found", ErrorCode::NotFound),
        DomainError::Invalid(invalid) => {
            let field = invalid.field;
            coded(invalid.to_string(), ErrorCode::BadUserInput)
                .extend_with(|_, ext| ext.set("field", field))
        }
        DomainError::Conflict(message) => coded(message, ErrorCode::Conflict),
        DomainError::RateLimited { retry_after_secs } => {
            coded("too many requests", ErrorCode::RateLimited)
                .extend_with(|_, ext| ext.set("retryAfter", retry_after_secs))
        }
        DomainError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            coded("internal error", ErrorCode::Internal)
        }
    }
}

pub(crate) trait DomainResultExt<T> {
    fn gql(self) -> GqlResult<T>;
}

impl<T> DomainResultExt<T> for Result<T, DomainError> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(gql)
    }
}

/// A whole-request error response (no data), for failures before execution such as an
/// invalid session token.
pub fn error_response(message: &str, code: ErrorCode) -> Response {
    let mut error = ServerError::new(message, None);
    error.extensions = coded(message, code).extensions;
    Response::from_errors(vec![error])
}

/// Gives every error a code. Errors raised before any resolver runs (syntax, validation,
/// variables that do not coerce) are the client's: `BAD_USER_INPUT`. Resolver errors carry
/// theirs already, through [`gql`].
///
/// For anonymous clients it also drops validation's suggestions ("Did you mean …?"), which
/// would otherwise spell out the schema to whoever probes it field by field.
pub(crate) struct ErrorCodes;

/// How async-graphql's validation starts a suggestion, after the error proper.
const SUGGESTION: &str = " Did you mean";

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            let extensions = error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default);
            if extensions.get("code").is_none() {
                extensions.set("code", ErrorCode::BadUserInput.as_str());
            }
        }
        response
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let mut errors = match next.run(ctx).await {
            Ok(result) => return Ok(result),
            Err(errors) => errors,
        };
        let anonymous = ctx
            .data_opt::<Viewer>()
            .is_none_or(|viewer| viewer.user.is_none());
        if anonymous {
            for error in &mut errors {
                if let Some(at) = error.message.find(SUGGESTION) {
                    error.message.truncate(at);
                }
            }
        }
        Err(errors)
    }
}
