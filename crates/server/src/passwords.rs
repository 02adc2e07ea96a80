//! argon2id password hashing on the blocking pool, a bounded number at a time.
//!
//! Hashing is slow by design, so a flood of logins could take every core and queue without
//! end. Hashes run on all cores but one, leaving a core for readers, and a login that cannot
//! start hashing within [`QUEUE_WAIT`] is answered `RATE_LIMITED` instead of waiting longer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use convene_domain::ports::PasswordHasher;
use convene_domain::values::Password;
use convene_domain::{DomainError, DomainResult};
use tokio::sync::Semaphore;

/// OWASP's argon2id baseline: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// How long a hash may wait for a free core before the request is refused.
const QUEUE_WAIT: Duration = Duration::from_secs(1);

pub(crate) struct Argon2Hasher {
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    queue_wait: Duration,
    /// Verified against when the user is unknown, so that the answer takes as long.
    decoy_hash: String,
    /// Hashes and verifications run, for `/metrics`.
    runs: Arc<AtomicU64>,
}

impl Argon2Hasher {
    pub(crate) fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_limits(cores.saturating_sub(1).max(1), QUEUE_WAIT)
    }

    /// A hasher running at most `parallel` hashes at a time, each waiting at most
    /// `queue_wait` for its turn.
    fn with_limits(parallel: usize, queue_wait: Duration) -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let decoy_hash = argon2
            .hash_password(b"decoy password for unknown users", &salt)
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(Self {
            argon2,
            permits: Arc::new(Semaphore::new(parallel)),
            queue_wait,
            decoy_hash,
            runs: Arc::default(),
        })
    }

    /// The count of hashes and verifications run, which `/metrics` reports.
    pub(crate) fn runs(&self) -> Arc<AtomicU64> {
        self.runs.clone()
    }

    /// Runs `work` on the blocking pool once a permit is free, or answers `RateLimited` if
    /// none frees up in time.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> DomainResult<T> {
        let _permit = tokio::time::timeout(self.queue_wait, self.permits.acquire())
            .await
            .map_err(|_| DomainError::RateLimited {
                retry_after_secs: self.queue_wait.as_secs().max(1),
            })?
            .map_err(DomainError::internal)?;
        let argon2 = self.argon2.clone();
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || work(&argon2))
            .await
            .map_err(DomainError::internal)
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> DomainResult<String> {
        let password = password.clone();
        self.run(move |argon2| {
            let salt = SaltString::generate(&mut OsRng);
            argon2
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(DomainError::internal)
        })
        .await?
    }

    async fn verify(&self, password: &str, hash: Option<&str>) -> DomainResult<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.decoy_hash).to_owned();
        let password = password.to_owned();
        self.run(move |argon2| {
            let parsed = PasswordHash::new(&hash).map_err(DomainError::internal)?;
            let matches = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(known && matches)
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = Argon2Hasher::new().expect("hasher");
        let password = Password::parse("correct horse battery", "password").expect("valid");
        let hash = hasher.hash(&password).await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse battery", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse battery", Some(&hash))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("decoy password for unknown users", None)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn a_hash_that_cannot_start_in_time_is_rate_limited() {
        let hasher = Argon2Hasher::with_limits(1, Duration::from_millis(50)).expect("hasher");
        let busy = hasher
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("permit");
        let refused = hasher.verify("correct horse battery", None).await;
        assert!(
            matches!(
                refused,
                Err(DomainError::RateLimited {
                    retry_after_secs: 1
                })
            ),
            "{refused:?}"
        );
        drop(busy);
        assert!(
            !hasher
                .verify("correct horse battery", None)
                .await
                .expect("a free core hashes")
        );
    }
}
