//! API keys: the `pcl_…` format (GitHub's token scheme) and the stored record.

use crate::secret::{BASE62, is_base62, random_base62, sha256_hex};
use crate::{
    Error, Holder, Name, Permissions, Policy, Restriction, Standing, Unauthenticated, User,
};
use chrono::{DateTime, Datelike, Duration, Utc};
use std::fmt;
use uuid::Uuid;

const RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;
/// How much of the key listings show.
pub const DISPLAY_PREFIX_LEN: usize = 12;

/// The word before the first `_` of every key (`pcl` by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// 1 to 16 lower-case letters or digits.
    pub fn parse(raw: &str) -> Result<Self, crate::Error> {
        let valid = (1..=16).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(crate::Error::validation(
                "key prefix must be 1 to 16 lower-case letters or digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for KeyPrefix {
    fn default() -> Self {
        Self("pcl".to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormatError {
    Shape,
    Checksum,
}

/// A well-formed API key, checksum verified. Only its digest is ever stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub fn generate(prefix: &KeyPrefix) -> Self {
        let body = format!("{}_{}", prefix.as_str(), random_base62(RANDOM_LEN));
        let checksum = checksum(&body);
        Self(body + checksum.as_str())
    }

    /// Checks shape and checksum without any lookup.
    pub fn parse(raw: &str, prefix: &KeyPrefix) -> Result<Self, KeyFormatError> {
        let rest = raw
            .strip_prefix(prefix.as_str())
            .and_then(|r| r.strip_prefix('_'))
            .ok_or(KeyFormatError::Shape)?;
        if rest.len() != RANDOM_LEN + CHECKSUM_LEN || !is_base62(rest) {
            return Err(KeyFormatError::Shape);
        }
        let (body, sum) = raw.split_at(raw.len() - CHECKSUM_LEN);
        if checksum(body) != sum {
            return Err(KeyFormatError::Checksum);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn digest(&self) -> String {
        sha256_hex(&self.0)
    }

    /// The first 12 characters, shown in listings.
    pub fn display_prefix(&self) -> &str {
        &self.0[..DISPLAY_PREFIX_LEN.min(self.0.len())]
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.display_prefix())
    }
}

/// CRC-32 (IEEE) of `body` in base62, most significant digit first, zero-padded to 6.
fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(digits.to_vec()).expect("base62 is ASCII")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Whose role it acts with: a person, or a service account.
    pub holder: Holder,
    /// The person who made it: its holder, or the admin who made a service account's key.
    pub created_by: Uuid,
    pub name: Name,
    pub key_prefix: String,
    /// The scopes as granted, not expanded.
    pub scopes: Permissions,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The key that replaced this one when it was rotated: a key is rotated at most once.
    pub replaced_by_id: Option<Uuid>,
    /// The paths it is restricted to; `None`: organization-wide.
    pub resources: Option<Restriction>,
}

/// The longest rotation grace period: 7 days.
pub const MAX_GRACE: Duration = Duration::seconds(604_800);

/// A requested expiry: in the future, and writable back as RFC 3339 (four-digit years).
pub fn check_expiry(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), Error> {
    match expires_at {
        Some(at) if at <= now => Err(Error::validation("expires_at must be in the future")),
        Some(at) if at.year() > 9999 => Err(Error::validation(
            "expires_at must be before the year 10000",
        )),
        _ => Ok(()),
    }
}

/// A rotation's grace period: 0 to 7 days.
pub fn rotation_grace(seconds: i64) -> Result<Duration, Error> {
    let grace = Duration::seconds(seconds);
    if (Duration::zero()..=MAX_GRACE).contains(&grace) {
        Ok(grace)
    } else {
        Err(Error::validation(
            "grace_period_seconds must be between 0 and 604800",
        ))
    }
}

impl ApiKey {
    /// What the key may do now: its holder's current role grants (none if the holder left) ∩
    /// its scopes; for a restricted key, the most it may do at any of its paths.
    pub fn effective(&self, policy: &Policy, standing: Option<&Standing>) -> Permissions {
        let Some(standing) = standing else {
            return Permissions::EMPTY;
        };
        let at = |resource| policy.grants(standing.role_at(resource));
        let grants = match &self.resources {
            None => at(None),
            Some(restriction) => restriction
                .paths()
                .iter()
                .map(|path| at(Some(path)))
                .fold(Permissions::EMPTY, Permissions::union),
        };
        grants.intersect(self.scopes.expand())
    }

    /// When a key rotated at `now` with `grace` stops working: after the grace period, never
    /// later than its own expiry.
    pub fn retired_at(&self, now: DateTime<Utc>, grace: Duration) -> DateTime<Utc> {
        let end = now + grace;
        self.expires_at.map_or(end, |own| own.min(end))
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// A key authenticates only while unexpired and, for a person's key, while its user (given
    /// here) is active. A service account's keys are deleted with it.
    pub fn authenticate(
        &self,
        user: Option<&User>,
        now: DateTime<Utc>,
    ) -> Result<(), Unauthenticated> {
        if self.is_expired(now) {
            return Err(Unauthenticated::Expired);
        }
        match self.holder {
            Holder::User(_) => user.map_or(Err(Unauthenticated::Disabled), User::authenticate),
            Holder::ServiceAccount(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_contract_shape() {
        let key = ApiKeySecret::generate(&KeyPrefix::default());
        let s = key.expose();
        assert_eq!(s.len(), 4 + 43 + 6);
        assert!(s.starts_with("pcl_"));
        assert_eq!(key.display_prefix(), &s[..12]);
        assert_eq!(
            ApiKeySecret::parse(s, &KeyPrefix::default()),
            Ok(key.clone())
        );
    }

    #[test]
    fn checksum_matches_zlib_crc32_in_base62() {
        // zlib.crc32(b"pcl_") = 0x32766237 = 846619191, which is "0vIKKF" in base62.
        assert_eq!(crc32fast::hash(b"pcl_"), 846_619_191);
        assert_eq!(checksum("pcl_"), "0vIKKF");
    }

    #[test]
    fn a_corrupted_checksum_or_shape_is_refused() {
        let prefix = KeyPrefix::default();
        let key = ApiKeySecret::generate(&prefix).expose().to_owned();
        let mut corrupted = key.clone().into_bytes();
        let last = corrupted.len() - 1;
        corrupted[last] = if corrupted[last] == b'0' { b'1' } else { b'0' };
        let corrupted = String::from_utf8(corrupted).unwrap();
        assert_eq!(
            ApiKeySecret::parse(&corrupted, &prefix),
            Err(KeyFormatError::Checksum)
        );
        assert_eq!(
            ApiKeySecret::parse(&key[1..], &prefix),
            Err(KeyFormatError::Shape)
        );
        assert_eq!(ApiKeySecret::parse("", &prefix), Err(KeyFormatError::Shape));
        assert_eq!(
            ApiKeySecret::parse(&format!("{key}x"), &prefix),
            Err(KeyFormatError::Shape)
        );
        let other = KeyPrefix::parse("acme").unwrap();
        assert_eq!(
            ApiKeySecret::parse(&key, &other),
            Err(KeyFormatError::Shape)
        );
        assert!(ApiKeySecret::parse(ApiKeySecret::generate(&other).expose(), &other).is_ok());
    }
}
