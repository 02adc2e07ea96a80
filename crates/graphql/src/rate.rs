//! Rate limits on the operations that cost the server or other users most: signing in and
//! registering (argon2 work, and guessing passwords or probing addresses) per client IP and per
//! account, and posting per user.
//!
//! Each limit is a GCRA quota (governor): `n` per minute, of which all `n` may come at once,
//! refilled one every `60 / n` seconds. A refused request is `RATE_LIMITED` with `retryAfter`,
//! before any work is done. Limits count per resolved field, so an aliased batch of 100 logins
//! counts as 100.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Response;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest};

use convene_domain::ids::UserId;
use convene_domain::{DomainError, DomainResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ErrorCode;

/// How long a request refused by a rate limit waits before its answer goes out.
///
/// Refusing is cheap, but a flood of refusals is not: clients that send each request when the
/// previous answer arrives, as HTTP clients and password-guessing tools do, would otherwise
/// loop as fast as the server refuses them and take the cores readers need. Waiting costs a
/// parked task, and slows each such connection to one refused request a second.
pub(crate) const REFUSAL_DELAY: Duration = Duration::from_secs(1);

/// Requests allowed per minute for each limit; `0` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `login` attempts per client IP.
    pub login_per_ip: u32,
    /// `login` attempts per account (the user, or the login name when no user has it), and
    /// `register` attempts per email address.
    pub login_per_account: u32,
    /// `register` attempts per client IP.
    pub register_per_ip: u32,
    /// `startThread`, `postReply` and `sharePresentation` per user.
    pub posts_per_user: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            login_per_ip: 30,
            login_per_account: 10,
            register_per_ip: 20,
            posts_per_user: 30,
        }
    }
}

/// The rate limiters of one process.
pub struct RateLimits {
    login_ip: Limiter<IpAddr>,
    account: Limiter<String>,
    register_ip: Limiter<IpAddr>,
    posts: Limiter<UserId>,
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> Self {
        Self {
            login_ip: Limiter::per_minute(settings.login_per_ip),
            account: Limiter::per_minute(settings.login_per_account),
            register_ip: Limiter::per_minute(settings.register_per_ip),
            posts: Limiter::per_minute(settings.posts_per_user),
        }
    }

    /// One `login` attempt from `ip` (`None`: not over the network, not limited).
    pub(crate) fn login_from(&self, ip: Option<IpAddr>) -> DomainResult<()> {
        ip.map_or(Ok(()), |ip| self.login_ip.check(&ip))
    }

    /// One `login` attempt on an account: the user's ID when the login names a user, else the
    /// login name itself, so that probing unknown names is limited alike.
    pub(crate) fn login_to(&self, user: Option<UserId>, login: &str) -> DomainResult<()> {
        let key = match user {
            Some(user) => user.to_string(),
            None => format!("login:{}", login.trim().to_lowercase()),
        };
        self.account.check(&key)
    }

    /// One `register` attempt from `ip` for `email`.
    pub(crate) fn register(&self, ip: Option<IpAddr>, email: &str) -> DomainResult<()> {
        if let Some(ip) = ip {
            self.register_ip.check(&ip)?;
        }
        self.account
            .check(&format!("email:{}", email.trim().to_lowercase()))
    }

    /// One new thread, reply or presentation by `user`.
    pub(crate) fn post(&self, user: UserId) -> DomainResult<()> {
        self.posts.check(&user)
    }

    /// Forgets keys whose quota has fully refilled, so that the limiters' memory follows the
    /// recent callers rather than every caller ever seen. Call it now and then.
    pub fn forget_idle(&self) {
        self.login_ip.forget_idle();
        self.account.forget_idle();
        self.register_ip.forget_idle();
        self.posts.forget_idle();
    }
}

/// Holds back the answer to a request that a rate limit refused (any of its fields), by
/// [`REFUSAL_DELAY`], once per request.
pub(crate) struct SlowRefusals(pub Duration);

impl ExtensionFactory for SlowRefusals {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SlowRefusals(self.0))
    }
}

#[async_trait::async_trait]
impl Extension for SlowRefusals {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        let refused = response.errors.iter().any(|error| {
            error.extensions.as_ref().is_some_and(|extensions| {
                extensions.get("code")
                    == Some(&async_graphql::Value::from(ErrorCode::RateLimited.as_str()))
            })
        });
        if refused {
            tokio::time::sleep(self.0).await;
        }
        response
    }
}

/// One keyed limit, or none.
struct Limiter<K: Hash + Eq + Clone>(Option<DefaultKeyedRateLimiter<K>>);

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn per_minute(n: u32) -> Self {
        Self(NonZeroU32::new(n).map(|n| DefaultKeyedRateLimiter::dashmap(Quota::per_minute(n))))
    }

    fn check(&self, key: &K) -> DomainResult<()> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            DomainError::RateLimited {
                // Whole seconds, rounded up: a client that waits this long gets through.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
    use uuid::Uuid;

    use super::*;
    use crate::error::gql;

    struct Query;

    #[Object]
    impl Query {
        async fn refused(&self) -> async_graphql::Result<bool> {
            Err(gql(DomainError::RateLimited {
                retry_after_secs: 1,
            }))
        }

        async fn served(&self) -> bool {
            true
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_request_is_answered_after_the_delay_once() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .extension(SlowRefusals(REFUSAL_DELAY))
            .finish();
        let started = tokio::time::Instant::now();
        let response = schema.execute("{ served }").await;
        assert!(response.errors.is_empty());
        assert_eq!(started.elapsed(), Duration::ZERO);

        let started = tokio::time::Instant::now();
        let response = schema.execute("{ a: refused b: refused served }").await;
        assert_eq!(response.errors.len(), 2);
        // Virtual time: exactly one delay for the request, however many fields were refused.
        assert_eq!(started.elapsed(), REFUSAL_DELAY);
    }

    fn settings(n: u32) -> RateLimitSettings {
        RateLimitSettings {
            login_per_ip: n,
            login_per_account: n,
            register_per_ip: n,
            posts_per_user: n,
        }
    }

    fn retry_after(result: DomainResult<()>) -> u64 {
        match result {
            Err(DomainError::RateLimited { retry_after_secs }) => retry_after_secs,
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_of_n_passes_then_the_next_waits_for_one_refill() {
        let limits = RateLimits::new(settings(3));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        for _ in 0..3 {
            assert!(limits.login_from(ip).is_ok());
        }
        // One refill takes 60 / 3 = 20 s.
        let wait = retry_after(limits.login_from(ip));
        assert!((19..=20).contains(&wait), "{wait}");
        // Another address has its own quota.
        assert!(
            limits
                .login_from(Some(IpAddr::from([192, 0, 2, 2])))
                .is_ok()
        );
    }

    #[test]
    fn an_account_is_limited_by_user_or_by_normalized_name() {
        let limits = RateLimits::new(settings(1));
        let user = UserId::from_uuid(Uuid::now_v7());
        assert!(limits.login_to(Some(user), "ana").is_ok());
        retry_after(limits.login_to(Some(user), "ana@example.org"));
        assert!(limits.login_to(None, "Nobody").is_ok());
        retry_after(limits.login_to(None, " nobody "));
        assert!(limits.register(None, "New@Example.org").is_ok());
        retry_after(limits.register(None, "new@example.org"));
    }

    #[test]
    fn posts_are_limited_per_user_and_zero_turns_a_limit_off() {
        let limits = RateLimits::new(settings(2));
        let ana = UserId::from_uuid(Uuid::now_v7());
        let ben = UserId::from_uuid(Uuid::now_v7());
        assert!(limits.post(ana).is_ok() && limits.post(ana).is_ok());
        retry_after(limits.post(ana));
        assert!(limits.post(ben).is_ok());

        let open = RateLimits::new(settings(0));
        for _ in 0..1_000 {
            assert!(open.post(ana).is_ok());
            assert!(open.login_from(Some(IpAddr::from([192, 0, 2, 1]))).is_ok());
        }
        // Without an address (not over the network), only the account limit applies.
        let limits = RateLimits::new(settings(1));
        assert!(limits.login_from(None).is_ok() && limits.login_from(None).is_ok());
    }
}
