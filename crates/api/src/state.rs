//! Everything a request needs, shared behind one `Arc`.

use crate::cache::{Caches, Invalidation, Versioned};
use crate::config::Config;
use crate::email::Outbox;
use crate::key_usage::KeyUses;
use crate::metrics::Metrics;
use crate::passwords::Passwords;
use crate::rate_limit::Limits;
use crate::tokens::AccessTokens;
use portcullis_domain::{ApiKey, Clock, Error, Holder, Policy, Session, Standing, User};
use portcullis_persistence::Store;
use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use uuid::Uuid;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
    pub passwords: Passwords,
    pub tokens: AccessTokens,
    pub caches: Caches,
    pub key_uses: KeyUses,
    pub metrics: Metrics,
    pub limits: Limits,
    /// Test hook: holds a cache read between its database read and its insert.
    pub read_pause: ReadPause,
    pub outbox: Outbox,
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// `jwt_key`: base64 PKCS#8 DER of an Ed25519 key, or `None` to use the one kept in the database.
    pub async fn new(
        store: Store,
        config: Config,
        policy: Policy,
        clock: Arc<dyn Clock>,
        jwt_key: Option<&str>,
    ) -> Result<Self, Error> {
        let limits = Limits::new(config.limits);
        let passwords = Passwords::new(config.password_queue);
        let outbox = Outbox::new(config.smtp_url.as_ref(), &config.email_from)?;
        let tokens = AccessTokens::load(&store, jwt_key, &config.issuer, clock.now()).await?;
        Ok(Self(Arc::new(Inner {
            store,
            config,
            policy,
            clock,
            passwords,
            tokens,
            caches: Caches::new(),
            key_uses: KeyUses::default(),
            metrics: Metrics::new(),
            limits,
            read_pause: ReadPause::default(),
            outbox,
        })))
    }

    /// Drops stale cached records after a write, here and (on PostgreSQL) on every replica.
    pub async fn invalidate(&self, invalidation: Invalidation) {
        self.caches.apply(&invalidation);
        if let Err(e) = self.store.publish(&invalidation.encode()).await {
            // Other replicas fall back on the cache TTL.
            tracing::warn!(error = %e, "could not notify other replicas");
        }
    }

    pub async fn flush_key_uses(&self) -> Result<usize, Error> {
        self.key_uses.flush(&self.store).await
    }

    pub(crate) async fn cached_key(&self, digest: &str) -> Result<Option<Arc<ApiKey>>, Error> {
        let load = async {
            if self.caches.unknown_keys.contains_key(digest) {
                return Ok(None);
            }
            let generation = self.caches.unknown_keys.generation();
            let key = self.store.api_key_by_digest(digest).await?;
            if key.is_none() {
                self.caches
                    .unknown_keys
                    .insert_if_current(digest.to_owned(), (), generation);
            }
            Ok(key)
        };
        self.read_through(&self.caches.keys, "api_key", digest, load)
            .await
    }

    pub(crate) async fn cached_session(&self, digest: &str) -> Result<Option<Arc<Session>>, Error> {
        let load = self.store.session_by_digest(digest);
        self.read_through(&self.caches.sessions, "session", digest, load)
            .await
    }

    pub(crate) async fn cached_user(&self, id: Uuid) -> Result<Option<Arc<User>>, Error> {
        self.read_through(&self.caches.users, "user", &id, self.store.user(id))
            .await
    }

    /// `cache`'s entry for `key`, else what `load` finds, kept only if it exists and no
    /// invalidation of `cache` came while it was being read.
    async fn read_through<K, Q, V>(
        &self,
        cache: &Versioned<K, Arc<V>>,
        name: &'static str,
        key: &Q,
        load: impl Future<Output = Result<Option<V>, Error>>,
    ) -> Result<Option<Arc<V>>, Error>
    where
        K: Borrow<Q> + Hash + Eq + Clone + Send + Sync + 'static,
        Q: ToOwned<Owned = K> + Hash + Eq + ?Sized,
        V: Send + Sync + 'static,
    {
        let cached = cache.get(key);
        self.metrics.cache_lookup(name, cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let generation = cache.generation();
        let found = load.await?.map(Arc::new);
        self.read_pause.hold(name).await;
        if let Some(value) = &found {
            cache.insert_if_current(key.to_owned(), value.clone(), generation);
        }
        Ok(found)
    }

    /// The holder's current role and grants in the organization (cached, including "not a
    /// member").
    pub(crate) async fn cached_standing(
        &self,
        holder: Holder,
        organization_id: Uuid,
    ) -> Result<Option<Arc<Standing>>, Error> {
        let key = (holder.id(), organization_id);
        let cached = match self.caches.standings.get(&key) {
            Some(standing) => Some(Some(standing)),
            None => self.caches.non_members.contains_key(&key).then_some(None),
        };
        self.metrics.cache_lookup("role", cached.is_some());
        if let Some(standing) = cached {
            return Ok(standing);
        }
        let (standings, non_members) = (
            self.caches.standings.generation(),
            self.caches.non_members.generation(),
        );
        let standing = self
            .store
            .standing(holder, organization_id)
            .await?
            .map(Arc::new);
        self.read_pause.hold("role").await;
        match &standing {
            Some(found) => self
                .caches
                .standings
                .insert_if_current(key, found.clone(), standings),
            None => self
                .caches
                .non_members
                .insert_if_current(key, (), non_members),
        }
        Ok(standing)
    }
}

/// A test hook for cache races: `arm("api_key")` makes the next read of that cache, once it has
/// read the database, tell the test and wait for its go-ahead before caching what it read. The
/// test runs an invalidating write in between. Unarmed, it costs one atomic load per miss.
#[derive(Default)]
pub struct ReadPause {
    armed: AtomicBool,
    pause: Mutex<Option<Pause>>,
}

struct Pause {
    cache: &'static str,
    reached: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

impl ReadPause {
    /// Returns a receiver that fires when the read is held, and the sender that releases it.
    pub fn arm(&self, cache: &'static str) -> (oneshot::Receiver<()>, oneshot::Sender<()>) {
        let (reached, on_reached) = oneshot::channel();
        let (release, on_release) = oneshot::channel();
        *self.pause.lock().unwrap_or_else(|e| e.into_inner()) = Some(Pause {
            cache,
            reached,
            release: on_release,
        });
        self.armed.store(true, Ordering::SeqCst);
        (on_reached, release)
    }

    async fn hold(&self, cache: &str) {
        if !self.armed.load(Ordering::SeqCst) {
            return;
        }
        let pause = {
            let mut slot = self.pause.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some(pause) if pause.cache == cache => {
                    self.armed.store(false, Ordering::SeqCst);
                    Some(pause)
                }
                other => {
                    *slot = other;
                    None
                }
            }
        };
        if let Some(pause) = pause {
            let _ = pause.reached.send(());
            let _ = pause.release.await;
        }
    }
}
