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

pub struct Caches {
    pub(crate) keys: Cache<String, Arc<ApiKey>>,
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
}

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}
