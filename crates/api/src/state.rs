//! Everything a request needs, shared behind one `Arc`.

use crate::cache::{Caches, Invalidation};
use crate::config::Config;
use crate::email::Outbox;
use crate::key_usage::KeyUses;
use crate::metrics::Metrics;
use crate::passwords::Passwords;
use crate::rate_limit::PasswordAttempts;
use crate::tokens::AccessTokens;
use moka::sync::Cache;
use portcullis_domain::{ApiKey, Clock, Error, Policy, Role, Session, User};
use portcullis_persistence::Store;
use std::borrow::Borrow;
use std::future::Future;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::Arc;
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
    pub password_attempts: PasswordAttempts,
    /// Invitation lookups and password-reset requests per client address.
    pub link_attempts: PasswordAttempts,
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
        let password_attempts = PasswordAttempts::new(config.password_attempts_per_minute);
        let link_attempts = PasswordAttempts::new(config.password_attempts_per_minute);
        let outbox = Outbox::new(config.smtp_url.as_ref(), &config.email_from)?;
        let tokens = AccessTokens::load(&store, jwt_key, &config.issuer, clock.now()).await?;
        Ok(Self(Arc::new(Inner {
            store,
            config,
            policy,
            clock,
            passwords: Passwords::new(),
            tokens,
            caches: Caches::new(),
            key_uses: KeyUses::default(),
            metrics: Metrics::new(),
            password_attempts,
            link_attempts,
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
            let key = self.store.api_key_by_digest(digest).await?;
            if key.is_none() {
                self.caches.unknown_keys.insert(digest.to_owned(), ());
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

    /// `cache`'s entry for `key`, else what `load` finds, kept only if it exists.
    async fn read_through<K, Q, V>(
        &self,
        cache: &Cache<K, Arc<V>>,
        name: &str,
        key: &Q,
        load: impl Future<Output = Result<Option<V>, Error>>,
    ) -> Result<Option<Arc<V>>, Error>
    where
        K: Borrow<Q> + Hash + Eq + Send + Sync + 'static,
        Q: ToOwned<Owned = K> + Hash + Eq + ?Sized,
        V: Send + Sync + 'static,
    {
        let cached = cache.get(key);
        self.metrics.cache_lookup(name, cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let found = load.await?.map(Arc::new);
        if let Some(value) = &found {
            cache.insert(key.to_owned(), value.clone());
        }
        Ok(found)
    }

    /// The user's current role in the organization (cached, including "not a member").
    pub(crate) async fn cached_role(
        &self,
        user_id: Uuid,
        organization_id: Uuid,
    ) -> Result<Option<Role>, Error> {
        let cached = self.caches.roles.get(&(user_id, organization_id));
        self.metrics.cache_lookup("role", cached.is_some());
        if let Some(role) = cached {
            return Ok(role);
        }
        let role = self.store.role(user_id, organization_id).await?;
        self.caches.roles.insert((user_id, organization_id), role);
        Ok(role)
    }
}
