//! Browser sessions: the opaque token and the sliding-window rules.

use crate::secret::{is_base62, random_base62, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use std::fmt;
use uuid::Uuid;

/// A session lives this long after its last refresh.
pub const SESSION_LIFETIME: Duration = Duration::seconds(259_200);
/// A session older than this since its last refresh is refreshed on use.
pub const REFRESH_AFTER: Duration = Duration::seconds(86_400);
pub const COOKIE_NAME: &str = "portcullis_session";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The last refresh.
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl Session {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Only a session whose last refresh is more than 24 h old is written to on use.
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        now - self.updated_at > REFRESH_AFTER
    }
}

/// When a session refreshed (or created) at `at` expires.
pub fn expiry_after(at: DateTime<Utc>) -> DateTime<Utc> {
    at + SESSION_LIFETIME
}

/// The cookie's secret: 43 base62 characters (256 bits). Only its digest is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
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

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session_refreshed(hours_ago: i64, now: DateTime<Utc>) -> Session {
        let updated_at = now - Duration::hours(hours_ago);
        Session {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            created_at: updated_at,
            updated_at,
            expires_at: expiry_after(updated_at),
            user_agent: None,
            ip: None,
        }
    }

    #[test]
    fn sessions_refresh_only_after_a_day() {
        let now = Utc::now();
        assert!(!session_refreshed(23, now).needs_refresh(now));
        assert!(!session_refreshed(24, now).needs_refresh(now));
        assert!(session_refreshed(25, now).needs_refresh(now));
    }

    #[test]
    fn sessions_expire_three_days_after_the_last_refresh() {
        let now = Utc::now();
        assert!(!session_refreshed(71, now).is_expired(now));
        assert!(session_refreshed(72, now).is_expired(now));
    }

    #[test]
    fn tokens_are_256_bit_base62_and_parse_back() {
        let token = SessionToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert_eq!(SessionToken::parse(token.expose()), Some(token.clone()));
        assert_eq!(token.digest().len(), 64);
        assert!(SessionToken::parse("short").is_none());
        assert!(SessionToken::parse(&"é".repeat(43)).is_none());
    }
}
