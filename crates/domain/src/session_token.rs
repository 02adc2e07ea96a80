//! Session tokens: 256 random bits, shown to the client once; only their SHA-256 is stored.

use std::fmt;

use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::error::DomainError;

/// How long a session lasts without being revoked.
pub const SESSION_LIFETIME: Duration = Duration::days(30);

/// A bearer token as the client holds it. Its `Debug` form hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Result<Self, DomainError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(DomainError::internal)?;
        Ok(Self(to_hex(&bytes)))
    }

    /// Accepts any client-supplied string: an unknown token simply matches no session.
    pub fn from_client(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_hidden_from_debug() {
        let a = SessionToken::generate().expect("random");
        let b = SessionToken::generate().expect("random");
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(SessionToken::from_client(a.expose()).hash(), a.hash());
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
