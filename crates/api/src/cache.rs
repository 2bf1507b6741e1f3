//! In-memory read caches for the verify path. Only live records are cached (never "not found"
//! for keys or sessions), so a flood of random credentials cannot evict real entries; "not a
//! member" answers live in their own small cache for the same reason. Every write that changes
//! what a cached record means invalidates it at once; the TTL is only a safety net. A read that
//! began before an invalidation never puts its (possibly stale) result back: see `Versioned`.

use moka::sync::Cache;
use portcullis_domain::{ApiKey, Session, Standing, User};
use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// A member's or service account's role or grants in an organization: changed, added,
    /// removed.
    Standing {
        holder_id: Uuid,
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
            Self::Standing {
                holder_id,
                organization_id,
            } => format!("standing:{holder_id}:{organization_id}"),
            Self::Organization(id) => format!("organization:{id}"),
        }
    }

    pub fn decode(message: &str) -> Option<Self> {
        let (kind, rest) = message.split_once(':')?;
        Some(match kind {
            "key" => Self::Key(rest.to_owned()),
            "session" => Self::Session(rest.to_owned()),
            "user" => Self::User(rest.parse().ok()?),
            "standing" => {
                let (holder, org) = rest.split_once(':')?;
                Self::Standing {
                    holder_id: holder.parse().ok()?,
                    organization_id: org.parse().ok()?,
                }
            }
            "organization" => Self::Organization(rest.parse().ok()?),
            _ => return None,
        })
    }
}

/// A cache that counts its invalidations. A reader notes the `generation` before it reads the
/// database and inserts with `insert_if_current`, which drops the result if any invalidation of
/// this cache came in between: the value read may predate the write that invalidated. (Counting
/// per cache, not per key, costs only an extra miss now and then.)
pub struct Versioned<K, V> {
    entries: Cache<K, V>,
    generation: AtomicU64,
}

impl<K, V> Versioned<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(capacity: u64) -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(TTL)
                .build(),
            generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key)
    }

    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.contains_key(key)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches `value`, read at `generation`, unless the cache was invalidated since. The second
    /// check closes the gap between the first and the insert: an invalidation that lands there
    /// has bumped the generation, so the insert is undone (or the invalidation removes it).
    pub(crate) fn insert_if_current(&self, key: K, value: V, generation: u64)
    where
        K: Clone,
    {
        if self.generation() != generation {
            return;
        }
        self.entries.insert(key.clone(), value);
        if self.generation() != generation {
            self.entries.invalidate(&key);
        }
    }

    fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(key);
    }

    fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }
}

pub struct Caches {
    pub(crate) keys: Versioned<String, Arc<ApiKey>>,
    /// Digests of well-formed keys that matched nothing, kept apart (and small) so a flood of
    /// random keys cannot evict real ones; spares the database a client retrying a revoked key.
    pub(crate) unknown_keys: Versioned<String, ()>,
    pub(crate) sessions: Versioned<String, Arc<Session>>,
    pub(crate) users: Versioned<Uuid, Arc<User>>,
    /// Roles and grants of members and service accounts, by (holder, organization).
    pub(crate) standings: Versioned<(Uuid, Uuid), Arc<Standing>>,
    /// (holder, organization) pairs that are not members, kept apart (and small) so probing
    /// organizations one is not in cannot evict real standings.
    pub(crate) non_members: Versioned<(Uuid, Uuid), ()>,
}

impl Caches {
    pub fn new() -> Self {
        Self {
            keys: Versioned::new(CAPACITY),
            unknown_keys: Versioned::new(10_000),
            sessions: Versioned::new(CAPACITY),
            users: Versioned::new(CAPACITY),
            standings: Versioned::new(CAPACITY),
            non_members: Versioned::new(10_000),
        }
    }

    pub fn apply(&self, invalidation: &Invalidation) {
        match invalidation {
            Invalidation::Key(digest) => self.keys.invalidate(digest),
            Invalidation::Session(digest) => self.sessions.invalidate(digest),
            Invalidation::User(id) => self.users.invalidate(id),
            Invalidation::Standing {
                holder_id,
                organization_id,
            } => {
                self.standings.invalidate(&(*holder_id, *organization_id));
                self.non_members.invalidate(&(*holder_id, *organization_id));
            }
            // Rare: dropping everything keyed by it is simpler than indexing keys by organization.
            Invalidation::Organization(_) => {
                self.keys.invalidate_all();
                self.standings.invalidate_all();
                self.non_members.invalidate_all();
            }
        }
    }

    /// After a lost notification connection: anything may have changed.
    pub fn clear(&self) {
        self.keys.invalidate_all();
        self.unknown_keys.invalidate_all();
        self.sessions.invalidate_all();
        self.users.invalidate_all();
        self.standings.invalidate_all();
        self.non_members.invalidate_all();
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
    fn a_read_from_before_an_invalidation_is_not_cached() {
        let cache: Versioned<u32, u32> = Versioned::new(10);
        let before = cache.generation();
        cache.invalidate(&1);
        cache.insert_if_current(1, 10, before);
        assert_eq!(cache.get(&1), None);
        let now = cache.generation();
        cache.insert_if_current(1, 11, now);
        assert_eq!(cache.get(&1), Some(11));
    }

    #[test]
    fn invalidations_round_trip_through_their_wire_form() {
        let id = Uuid::now_v7();
        for invalidation in [
            Invalidation::Key("ab12".into()),
            Invalidation::Session("cd34".into()),
            Invalidation::User(id),
            Invalidation::Standing {
                holder_id: id,
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
