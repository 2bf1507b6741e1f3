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
    // Into a buffer, then one allocation: `hex::encode` pushes char by char, on every key and
    // session check.
    let mut digits = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut digits)
        .expect("64 digits for 32 bytes");
    std::str::from_utf8(&digits)
        .expect("hex digits are ASCII")
        .to_owned()
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

    /// Stored digests must never change: they are how keys, sessions and links are found.
    #[test]
    fn digests_are_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

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
