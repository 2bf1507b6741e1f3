//! Who is calling: the one place that reads credentials, in the contract's order.
//!
//! `X-API-Key`, then `Authorization` (`Bearer` or `Token`), then the session cookie. The first
//! one present decides; if it is bad the answer is 401, with no fallback to the others.

use crate::cache::Invalidation;
use crate::cookie::{RefreshedCookie, session_token};
use crate::state::AppState;
use ipnet::IpNet;
use poem::Request;
use poem::http::{HeaderMap, HeaderName, Method, header};
use portcullis_domain::session::expiry_after;
use portcullis_domain::{
    ApiKeySecret, Error, Principal, RequestOrigin, Session, SessionToken, Unauthenticated, User,
    rules,
};
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

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
    /// A credential that fails counts against the client's failed-authentication limit; past
    /// it the answer is 429 instead of 401. Valid credentials are never limited here.
    pub async fn authenticate(&self, req: &Request) -> Result<Caller, Error> {
        let ip = self.client_ip(req);
        let resolved = self.resolve(req).await;
        match &resolved {
            Err(Error::Unauthenticated(reason)) => {
                self.metrics.decision("unauthenticated", reason.as_str());
                if *reason != Unauthenticated::Missing {
                    self.limit_failed_auth(ip)?;
                }
            }
            Err(Error::Forbidden(denial)) => self.metrics.decision("forbidden", denial.kind()),
            _ => {}
        }
        let principal = resolved?;
        Ok(Caller { ip, ..principal })
    }

    /// The client's address, for rate limits, sessions and audit events: the TCP peer, unless
    /// it is a trusted proxy; then the right-most `X-Forwarded-For` address that is not one.
    pub fn client_ip(&self, req: &Request) -> Option<IpAddr> {
        let peer = req.remote_addr().as_socket_addr()?.ip();
        Some(client_ip(peer, req.headers(), &self.config.trusted_proxies))
    }

    async fn resolve(&self, req: &Request) -> Result<Caller, Error> {
        match presented(req.headers())? {
            Presented::Key(raw) => self.authenticate_key(raw).await,
            Presented::Bearer(credential) => {
                if self
                    .config
                    .root_token
                    .as_ref()
                    .is_some_and(|root| root.matches(credential))
                {
                    return Ok(caller(Principal::Root, None, None));
                }
                // JWTs have dots; API keys never do.
                if credential.contains('.') {
                    self.authenticate_access_token(credential).await
                } else {
                    self.authenticate_key(credential).await
                }
            }
            Presented::Session(token) => self.authenticate_session(req, &token).await,
        }
    }

    async fn authenticate_key(&self, raw: &str) -> Result<Caller, Error> {
        let secret = ApiKeySecret::parse(raw, &self.config.key_prefix)
            .map_err(|_| Unauthenticated::Malformed)?;
        let key = self
            .cached_key(&secret.digest())
            .await?
            .ok_or(Unauthenticated::Unknown)?;
        let now = self.clock.now();
        let user = match key.holder.user_id() {
            Some(id) => self.cached_user(id).await?,
            None => None,
        };
        key.authenticate(user.as_deref(), now)?;
        self.key_uses.record(key.id, now);
        let principal = Principal::ApiKey {
            holder: key.holder,
            key_id: key.id,
            organization_id: key.organization_id,
            scopes: key.scopes,
            expires_at: key.expires_at,
            resources: key.resources.clone(),
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
        if is_unsafe(req.method()) {
            rules::cookie_write(self.request_origin(req.headers()))?;
        }
        if session.needs_refresh(now) {
            let expires_at = expiry_after(now);
            let generation = self.caches.sessions.generation();
            if !self
                .store
                .refresh_session(session.id, now, expires_at)
                .await?
            {
                // Ended since it was cached (perhaps on another replica): it is gone.
                self.caches.apply(&Invalidation::Session(digest));
                return Err(Unauthenticated::Unknown.into());
            }
            session = Arc::new(Session {
                updated_at: now,
                expires_at,
                ..(*session).clone()
            });
            self.caches
                .sessions
                .insert_if_current(digest, session.clone(), generation);
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

    /// Whether the `Origin` is absent, this host or one of `PORTCULLIS_TRUSTED_ORIGINS`, or
    /// another site.
    pub fn request_origin(&self, headers: &HeaderMap) -> RequestOrigin {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return RequestOrigin::Absent;
        };
        if self.origin_trusted(origin.to_str().unwrap_or_default(), headers) {
            RequestOrigin::Trusted
        } else {
            RequestOrigin::Foreign
        }
    }

    fn origin_trusted(&self, origin: &str, headers: &HeaderMap) -> bool {
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

/// The credential a request presents: the first present in the contract's order decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented<'a> {
    /// `X-API-Key`, or `Authorization: Token`: an API key (its format not yet checked).
    Key(&'a str),
    /// `Authorization: Bearer`, never empty: the root token, an access token or an API key.
    Bearer(&'a str),
    /// The session cookie's value (its format not yet checked).
    Session(String),
}

/// Which credential `headers` present, without looking anything up. A present header that is
/// not even shaped right is `Malformed`: there is no fallback to the next one.
pub fn presented(headers: &HeaderMap) -> Result<Presented<'_>, Unauthenticated> {
    if let Some(value) = headers.get(X_API_KEY) {
        let raw = value.to_str().map_err(|_| Unauthenticated::Malformed)?;
        return Ok(Presented::Key(raw.trim()));
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let raw = value.to_str().map_err(|_| Unauthenticated::Malformed)?;
        let (scheme, credential) = raw
            .trim()
            .split_once(' ')
            .ok_or(Unauthenticated::Malformed)?;
        let credential = credential.trim();
        if scheme.eq_ignore_ascii_case("token") {
            return Ok(Presented::Key(credential));
        }
        if !scheme.eq_ignore_ascii_case("bearer") || credential.is_empty() {
            return Err(Unauthenticated::Malformed);
        }
        return Ok(Presented::Bearer(credential));
    }
    session_token(headers)
        .map(Presented::Session)
        .ok_or(Unauthenticated::Missing)
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

/// `peer` unless it is one of `proxies`; then, walking `X-Forwarded-For` from the right (the
/// entry the nearest proxy appended), the first address that is not a proxy. Entries left of
/// it are the client's own say and never believed.
fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| proxies.iter().any(|net| net.contains(ip));
    let mut client = peer.to_canonical();
    if !trusted(&client) {
        return client;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    for entry in forwarded.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // A proxy would not append this: stop at the last address a proxy vouched for.
            break;
        };
        client = ip.to_canonical();
        if !trusted(&client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::http::HeaderValue;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let spoofed = forwarded(&["6.6.6.6"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), &spoofed, &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(client_ip(ip("10.1.2.3"), &spoofed, &proxies), ip("6.6.6.6"));
        // The client's own entry comes first; the proxy appended the real address last.
        let chained = forwarded(&["6.6.6.6, 198.51.100.4", "10.0.0.7"]);
        assert_eq!(
            client_ip(ip("10.1.2.3"), &chained, &proxies),
            ip("198.51.100.4")
        );
        assert_eq!(
            client_ip(ip("10.1.2.3"), &HeaderMap::new(), &proxies),
            ip("10.1.2.3")
        );
        let junk = forwarded(&["6.6.6.6, not-an-address"]);
        assert_eq!(client_ip(ip("10.1.2.3"), &junk, &proxies), ip("10.1.2.3"));
        assert_eq!(
            client_ip(ip("::ffff:10.1.2.3"), &spoofed, &proxies),
            ip("6.6.6.6")
        );
    }
}
