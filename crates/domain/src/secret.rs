//! Random secrets in base62, and their stored digests.

use rand::{Rng, TryRngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from the base62 alphabet by the OS CSPRNG.
pub(crate) fn random_base62(len: usize) -> String {
    let mut rng = OsRng.unwrap_err();
    (0..len)
        .map(|_| BASE62[rng.random_range(0..62)] as char)
        .collect()
}

pub(crate) fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Hex SHA-256: how high-entropy secrets are stored and looked up.
pub(crate) fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The secret of a link sent to a person (an invitation, a password reset): 43 base62
/// characters (256 bits), single use. Only its digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    const LEN: usize = 43;

    pub fn generate() -> Self {
        Self(random_base62(Self::LEN))
    }

    /// Accepts only the shape `generate` produces, so garbage never reaches the database.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == Self::LEN && is_base62(raw)).then(|| Self(raw.to_owned()))
    }

    pub fn digest(&self) -> String {
        sha256_hex(&self.0)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_tokens_are_256_bit_base62_and_only_their_digest_is_kept() {
        let token = LinkToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert_eq!(LinkToken::parse(token.expose()), Some(token.clone()));
        assert_ne!(token, LinkToken::generate());
        assert_eq!(token.digest().len(), 64);
        assert!(!token.digest().contains(token.expose()));
        assert!(LinkToken::parse("short").is_none());
        assert!(LinkToken::parse(&"-".repeat(43)).is_none());
        assert_eq!(format!("{token:?}"), "LinkToken(<redacted>)");
    }
}
