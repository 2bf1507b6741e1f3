//! Who is calling: the one place that reads credentials, in the contract's order.
//!
//! `X-API-Key`, then `Authorization` (`Bearer` or `Token`), then the session cookie. The first
//! one present decides; if it is bad the answer is 401, with no fallback to the others.

use crate::cookie::{RefreshedCookie, session_token};
use crate::endpoints::client_addr;
use crate::state::AppState;
use poem::Request;
use poem::http::{HeaderMap, Method, header};
use portcullis_domain::session::expiry_after;
use portcullis_domain::{
    ApiKeySecret, Denial, Error, Principal, Session, SessionToken, Unauthenticated, User,
};
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

/// An authenticated request: what every operation is given.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The user behind a session, key or person's access token (none for the root token).
    pub user: Option<Arc<User>>,
    pub session: Option<Arc<Session>>,
    /// The client's address, for audit events.
    pub ip: Option<IpAddr>,
}

impl AppState {
    /// The caller of `req`, or why it is not one (401, or 403 for an untrusted cookie write).
    pub async fn authenticate(&self, req: &Request) -> Result<Caller, Error> {
        let resolved = self.resolve(req).await;
        match &resolved {
            Err(Error::Unauthenticated(reason)) => {
                self.metrics.decision("unauthenticated", reason.as_str())
            }
            Err(Error::Forbidden(denial)) => self.metrics.decision("forbidden", denial.kind()),
            _ => {}
        }
        Ok(Caller {
            ip: client_addr(req.remote_addr()),
            ..resolved?
        })
    }

    async fn resolve(&self, req: &Request) -> Result<Caller, Error> {
        let headers = req.headers();
        if let Some(value) = headers.get("x-api-key") {
            let raw = value.to_str().map_err(|_| Unauthenticated::Malformed)?;
            return self.authenticate_key(raw.trim()).await;
        }
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let raw = value.to_str().map_err(|_| Unauthenticated::Malformed)?;
            let (scheme, credential) = raw
                .trim()
                .split_once(' ')
                .ok_or(Unauthenticated::Malformed)?;
            let credential = credential.trim();
            if scheme.eq_ignore_ascii_case("token") {
                return self.authenticate_key(credential).await;
            }
            if !scheme.eq_ignore_ascii_case("bearer") || credential.is_empty() {
                return Err(Unauthenticated::Malformed.into());
            }
            if self
                .config
                .root_token
                .as_ref()
                .is_some_and(|root| root.matches(credential))
            {
                return Ok(caller(Principal::Root, None, None));
            }
            // JWTs have dots; API keys never do.
            return if credential.contains('.') {
                self.authenticate_access_token(credential).await
            } else {
                self.authenticate_key(credential).await
            };
        }
        if let Some(token) = session_token(headers) {
            return self.authenticate_session(req, &token).await;
        }
        Err(Unauthenticated::Missing.into())
    }

    async fn authenticate_key(&self, raw: &str) -> Result<Caller, Error> {
        let secret = ApiKeySecret::parse(raw, &self.config.key_prefix)
            .map_err(|_| Unauthenticated::Malformed)?;
        let key = self
            .cached_key(&secret.digest())
            .await?
            .ok_or(Unauthenticated::Unknown)?;
        let now = self.clock.now();
        let user = self.cached_user(key.user_id).await?;
        key.authenticate(user.as_deref(), now)?;
        self.key_uses.record(key.id, now);
        let principal = Principal::ApiKey {
            user_id: key.user_id,
            key_id: key.id,
            organization_id: key.organization_id,
            scopes: key.scopes,
            expires_at: key.expires_at,
        };
        Ok(caller(principal, user, None))
    }

    async fn authenticate_access_token(&self, token: &str) -> Result<Caller, Error> {
        let principal = self
            .tokens
            .verify(token, self.clock.now())
            .ok_or(Unauthenticated::Unknown)?;
        let user = match principal.user_id() {
            Some(id) => Some(self.live_user(id).await?),
            None => None,
        };
        Ok(caller(principal, user, None))
    }

    async fn authenticate_session(&self, req: &Request, raw: &str) -> Result<Caller, Error> {
        let token = SessionToken::parse(raw).ok_or(Unauthenticated::Malformed)?;
        let digest = token.digest();
        let mut session = self
            .cached_session(&digest)
            .await?
            .ok_or(Unauthenticated::Unknown)?;
        let now = self.clock.now();
        if session.is_expired(now) {
            return Err(Unauthenticated::Expired.into());
        }
        let user = self.live_user(session.user_id).await?;
        if is_unsafe(req.method()) && !self.origin_allowed(req.headers()) {
            return Err(Denial::UntrustedOrigin.into());
        }
        if session.needs_refresh(now) {
            let expires_at = expiry_after(now);
            self.store
                .refresh_session(session.id, now, expires_at)
                .await?;
            session = Arc::new(Session {
                updated_at: now,
                expires_at,
                ..(*session).clone()
            });
            self.caches.sessions.insert(digest, session.clone());
            if let Some(slot) = req.extensions().get::<RefreshedCookie>() {
                slot.set(self.session_cookie(&token));
            }
        }
        let principal = Principal::Session {
            user_id: user.id,
            session_id: session.id,
        };
        Ok(caller(principal, Some(user), Some(session)))
    }

    /// A user that exists and is not disabled; anything else is a 401.
    async fn live_user(&self, id: Uuid) -> Result<Arc<User>, Error> {
        let user = self
            .cached_user(id)
            .await?
            .ok_or(Unauthenticated::Disabled)?;
        user.authenticate()?;
        Ok(user)
    }

    /// The `Origin` is this host or one of `PORTCULLIS_TRUSTED_ORIGINS`.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let origin = origin.trim_end_matches('/');
        if self
            .config
            .trusted_origins
            .iter()
            .any(|trusted| trusted.trim_end_matches('/').eq_ignore_ascii_case(origin))
        {
            return true;
        }
        let origin_host = origin.split_once("://").map(|(_, host)| host);
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
    }
}

fn caller(principal: Principal, user: Option<Arc<User>>, session: Option<Arc<Session>>) -> Caller {
    Caller {
        principal,
        user,
        session,
        ip: None,
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}
