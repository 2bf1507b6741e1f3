//! Everything a request needs, shared behind one `Arc`.

use crate::cache::{Caches, Invalidation};
use crate::config::Config;
use crate::key_usage::KeyUses;
use crate::metrics::Metrics;
use crate::passwords::Passwords;
use crate::rate_limit::PasswordAttempts;
use crate::tokens::AccessTokens;
use portcullis_domain::{ApiKey, Clock, Error, Policy, Role, Session, User};
use portcullis_persistence::Store;
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
        let cached = self.caches.keys.get(digest);
        self.metrics.cache_lookup("api_key", cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        if self.caches.unknown_keys.contains_key(digest) {
            return Ok(None);
        }
        let key = self.store.api_key_by_digest(digest).await?.map(Arc::new);
        match &key {
            Some(key) => self.caches.keys.insert(digest.to_owned(), key.clone()),
            None => self.caches.unknown_keys.insert(digest.to_owned(), ()),
        }
        Ok(key)
    }

    pub(crate) async fn cached_session(&self, digest: &str) -> Result<Option<Arc<Session>>, Error> {
        let cached = self.caches.sessions.get(digest);
        self.metrics.cache_lookup("session", cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let session = self.store.session_by_digest(digest).await?.map(Arc::new);
        if let Some(session) = &session {
            self.caches
                .sessions
                .insert(digest.to_owned(), session.clone());
        }
        Ok(session)
    }

    pub(crate) async fn cached_user(&self, id: Uuid) -> Result<Option<Arc<User>>, Error> {
        let cached = self.caches.users.get(&id);
        self.metrics.cache_lookup("user", cached.is_some());
        if cached.is_some() {
            return Ok(cached);
        }
        let user = self.store.user(id).await?.map(Arc::new);
        if let Some(user) = &user {
            self.caches.users.insert(id, user.clone());
        }
        Ok(user)
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
