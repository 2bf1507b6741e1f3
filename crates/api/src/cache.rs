//! In-memory read caches for the verify path. Only live records are cached (never "not found"
//! for keys or sessions), so a flood of random credentials cannot evict real entries. Every write
//! that changes what a cached record means invalidates it at once; the TTL is only a safety net.

use moka::sync::Cache;
use portcullis_domain::{ApiKey, Role, Session, User};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(30);
const CAPACITY: u64 = 100_000;

/// A change that makes cached records stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// An API key, by digest: revoked, rotated.
    Key(String),
    /// A session, by token digest: ended.
    Session(String),
    /// A user: disabled, re-enabled, made admin, password changed.
    User(Uuid),
    /// A user's role in an organization: changed, added, removed.
    Role {
        user_id: Uuid,
        organization_id: Uuid,
    },
    /// An organization deleted: its keys and memberships are gone.
    Organization(Uuid),
}

impl Invalidation {
    /// The compact form sent to other replicas.
    pub fn encode(&self) -> String {
        match self {
            Self::Key(digest) => format!("key:{digest}"),
            Self::Session(digest) => format!("session:{digest}"),
            Self::User(id) => format!("user:{id}"),
            Self::Role {
                user_id,
                organization_id,
            } => format!("role:{user_id}:{organization_id}"),
            Self::Organization(id) => format!("organization:{id}"),
        }
    }

    pub fn decode(message: &str) -> Option<Self> {
        let (kind, rest) = message.split_once(':')?;
        Some(match kind {
            "key" => Self::Key(rest.to_owned()),
            "session" => Self::Session(rest.to_owned()),
            "user" => Self::User(rest.parse().ok()?),
            "role" => {
                let (user, org) = rest.split_once(':')?;
                Self::Role {
                    user_id: user.parse().ok()?,
                    organization_id: org.parse().ok()?,
                }
            }
            "organization" => Self::Organization(rest.parse().ok()?),
            _ => return None,
        })
    }
}

pub struct Caches {
    pub(crate) keys: Cache<String, Arc<ApiKey>>,
    /// Digests of well-formed keys that matched nothing, kept apart (and small) so a flood of
    /// random keys cannot evict real ones; spares the database a client retrying a revoked key.
    pub(crate) unknown_keys: Cache<String, ()>,
    pub(crate) sessions: Cache<String, Arc<Session>>,
    pub(crate) users: Cache<Uuid, Arc<User>>,
    pub(crate) roles: Cache<(Uuid, Uuid), Option<Role>>,
}

impl Caches {
    pub fn new() -> Self {
        fn cache<K, V>() -> Cache<K, V>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(TTL)
                .build()
        }
        Self {
            unknown_keys: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
            keys: cache(),
            sessions: cache(),
            users: cache(),
            roles: cache(),
        }
    }

    pub fn apply(&self, invalidation: &Invalidation) {
        match invalidation {
            Invalidation::Key(digest) => self.keys.invalidate(digest),
            Invalidation::Session(digest) => self.sessions.invalidate(digest),
            Invalidation::User(id) => self.users.invalidate(id),
            Invalidation::Role {
                user_id,
                organization_id,
            } => self.roles.invalidate(&(*user_id, *organization_id)),
            // Rare: dropping everything keyed by it is simpler than indexing keys by organization.
            Invalidation::Organization(_) => {
                self.keys.invalidate_all();
                self.roles.invalidate_all();
            }
        }
    }

    /// After a lost notification connection: anything may have changed.
    pub fn clear(&self) {
        self.keys.invalidate_all();
        self.unknown_keys.invalidate_all();
        self.sessions.invalidate_all();
        self.users.invalidate_all();
        self.roles.invalidate_all();
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidations_round_trip_through_their_wire_form() {
        let id = Uuid::now_v7();
        for invalidation in [
            Invalidation::Key("ab12".into()),
            Invalidation::Session("cd34".into()),
            Invalidation::User(id),
            Invalidation::Role {
                user_id: id,
                organization_id: Uuid::now_v7(),
            },
            Invalidation::Organization(id),
        ] {
            assert_eq!(
                Invalidation::decode(&invalidation.encode()),
                Some(invalidation)
            );
        }
        assert_eq!(Invalidation::decode("user:not-a-uuid"), None);
        assert_eq!(Invalidation::decode("nonsense"), None);
    }
}
