//! Who is calling: the session token from `Authorization: Bearer …` or the session cookie.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use chrono::{Duration, Utc};
use convene_domain::ports::AccountStore;
use convene_domain::{DomainError, DomainResult, SessionToken};
use convene_graphql::{SESSION_COOKIE, Viewer};

/// How stale `lastSeenAt` may get before a request refreshes it (one write per interval).
const TOUCH_INTERVAL: Duration = Duration::minutes(5);

/// The token a request carries, if any. A malformed `Authorization` header is an error, not
/// an anonymous request.
pub(crate) fn token_from(headers: &HeaderMap) -> DomainResult<Option<SessionToken>> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| DomainError::Unauthenticated)?;
        let token = bearer(value).ok_or(DomainError::Unauthenticated)?;
        return Ok(Some(SessionToken::from_client(token)));
    }
    Ok(cookie(headers, SESSION_COOKIE).map(SessionToken::from_client))
}

/// The token of an `Authorization` value of the form `Bearer <token>`.
pub(crate) fn bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .filter(|t| !t.trim().is_empty())
}

/// The value of the named cookie.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The viewer for a request: anonymous without a token, `Unauthenticated` with a token that is
/// unknown, expired, revoked or logged out.
pub(crate) async fn authenticate(
    accounts: &dyn AccountStore,
    headers: &HeaderMap,
) -> DomainResult<Viewer> {
    match token_from(headers)? {
        Some(token) => viewer_for(accounts, &token).await,
        None => Ok(Viewer::anonymous()),
    }
}

/// The viewer a session token stands for: `Unauthenticated` when the token is unknown,
/// expired, revoked or logged out.
pub(crate) async fn viewer_for(
    accounts: &dyn AccountStore,
    token: &SessionToken,
) -> DomainResult<Viewer> {
    let now = Utc::now();
    let (session, user) = accounts
        .session_by_token_hash(&token.hash(), now)
        .await?
        .ok_or(DomainError::Unauthenticated)?;
    if now - session.last_seen_at > TOUCH_INTERVAL {
        accounts.touch_session(session.id, now).await?;
    }
    Ok(Viewer {
        user: Some(user),
        session: Some(session.id),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(axum::http::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn bearer_tokens_win_over_cookies() {
        let map = headers(&[
            (AUTHORIZATION, "Bearer abc"),
            (COOKIE, "convene_session=def"),
        ]);
        assert_eq!(
            token_from(&map).ok().flatten(),
            Some(SessionToken::from_client("abc"))
        );
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[(COOKIE, "theme=dark; convene_session=def; lang=en")]);
        assert_eq!(
            token_from(&map).ok().flatten(),
            Some(SessionToken::from_client("def"))
        );
        assert_eq!(
            token_from(&headers(&[(COOKIE, "theme=dark")]))
                .ok()
                .flatten(),
            None
        );
    }

    #[test]
    fn a_malformed_authorization_header_is_refused() {
        for value in ["Basic abc", "Bearer ", "abc"] {
            let map = headers(&[(AUTHORIZATION, value)]);
            assert!(
                matches!(token_from(&map), Err(DomainError::Unauthenticated)),
                "{value}"
            );
        }
    }
}
