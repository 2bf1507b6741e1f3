//! Who is calling: the one place that reads credentials, in the contract's order.
//!
//! `X-API-Key`, then `Authorization` (`Bearer` or `Token`), then the session cookie. The first
//! one present decides; if it is bad the answer is 401, with no fallback to the others.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use poem::http::{HeaderMap, Method, header};
use poem::{Request, RequestBody};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use portcullis_domain::session::{COOKIE_NAME, SESSION_LIFETIME, expiry_after};
use portcullis_domain::{
    Access, ApiKeySecret, Denial, Error, OwnerAction, Permission, Principal, Session, SessionToken,
    Unauthenticated, User,
};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// An authenticated request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The user behind a session, key or person's access token (none for the root token).
    pub user: Option<Arc<User>>,
    pub session: Option<Arc<Session>>,
}

impl AppState {
    pub async fn authenticate(&self, req: &Request) -> ApiResult<Caller> {
        let resolved = self.resolve(req).await;
        match &resolved {
            Err(Error::Unauthenticated(reason)) => {
                self.metrics.decision("unauthenticated", reason.as_str())
            }
            Err(Error::Forbidden(denial)) => self.metrics.decision("forbidden", denial.kind()),
            _ => {}
        }
        Ok(resolved?)
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
                return Ok(Caller {
                    principal: Principal::Root,
                    user: None,
                    session: None,
                });
            }
            // JWTs have dots; API keys never do.
            return if credential.contains('.') {
                self.authenticate_access_token(credential).await
            } else {
                self.authenticate_key(credential).await
            };
        }
        if let Some(token) = session_cookie(headers) {
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
        let user = user.expect("an authenticated key has a user");
        self.key_uses.record(key.id, now);
        let principal = Principal::ApiKey {
            user_id: key.user_id,
            key_id: key.id,
            organization_id: key.organization_id,
            scopes: key.scopes,
        };
        Ok(Caller {
            principal,
            user: Some(user),
            session: None,
        })
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
        Ok(Caller {
            principal,
            user,
            session: None,
        })
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
            return Err(Denial::Refused(
                "cookie-authenticated writes need an Origin header from a trusted origin",
            )
            .into());
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
        Ok(Caller {
            principal,
            user: Some(user),
            session: Some(session),
        })
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

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
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

    /// `Set-Cookie` value for a session token.
    pub fn session_cookie(&self, token: &SessionToken) -> String {
        self.cookie(token.expose(), SESSION_LIFETIME.num_seconds())
    }

    /// `Set-Cookie` value that removes the session cookie.
    pub fn cleared_cookie(&self) -> String {
        self.cookie("", 0)
    }

    fn cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.config.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        format!("{COOKIE_NAME}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}")
    }

    /// The caller's effective permissions in `organization_id`.
    pub async fn access(&self, caller: &Caller, organization_id: Uuid) -> ApiResult<Access> {
        let role = match &caller.principal {
            Principal::Session { user_id, .. } | Principal::ApiKey { user_id, .. } => {
                self.cached_role(*user_id, organization_id).await?
            }
            Principal::Root => {
                // The platform admin may learn what exists; members and strangers may not.
                self.store
                    .organization(organization_id)
                    .await?
                    .ok_or(Error::NotFound("organization"))?;
                None
            }
            Principal::AccessToken { .. } => None,
        };
        caller
            .principal
            .access(&self.policy, organization_id, role)
            .map_err(|denial| self.denied(denial))
    }

    /// `access`, then the one permission the operation needs.
    pub async fn require(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        permission: Permission,
    ) -> ApiResult<Access> {
        let access = self.access(caller, organization_id).await?;
        access
            .require(permission)
            .map_err(|denial| self.denied(denial))?;
        self.metrics.decision("allowed", "");
        Ok(access)
    }

    pub async fn require_owner(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        action: OwnerAction,
    ) -> ApiResult<Access> {
        let access = self.access(caller, organization_id).await?;
        access
            .require_owner(&self.policy, action)
            .map_err(|denial| self.denied(denial))?;
        Ok(access)
    }

    fn denied(&self, denial: Denial) -> ApiError {
        self.metrics.decision("forbidden", denial.kind());
        denial.into()
    }
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The session token from the `Cookie` header(s), if any.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// Where session resolution leaves a refreshed cookie for the response.
#[derive(Clone, Default)]
pub(crate) struct RefreshedCookie(Arc<Mutex<Option<String>>>);

impl RefreshedCookie {
    fn set(&self, cookie: String) {
        *self.0.lock().expect("cookie slot") = Some(cookie);
    }

    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().expect("cookie slot").take()
    }
}

fn state(req: &Request) -> &AppState {
    req.data::<AppState>()
        .expect("the Portcullis router installs its state")
}

fn register_schemes(registry: &mut Registry, schemes: &[&'static str]) {
    for &name in schemes {
        let scheme = match name {
            "ApiKey" => MetaSecurityScheme {
                ty: "apiKey",
                description: Some("An API key in the `X-API-Key` header."),
                name: Some("X-API-Key"),
                key_in: Some("header"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
            "Bearer" => MetaSecurityScheme {
                ty: "http",
                description: Some(
                    "`Authorization: Bearer <api key | access token | root token>`; `Authorization: Token <api key>` is accepted too.",
                ),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
            _ => MetaSecurityScheme {
                ty: "apiKey",
                description: Some("The session cookie set by login."),
                name: Some(COOKIE_NAME),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        };
        registry.create_security_scheme(name, scheme);
    }
}

const ANY: &[&str] = &["ApiKey", "Bearer", "Session"];

impl<'a> ApiExtractor<'a> for Caller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry, ANY);
    }

    fn security_schemes() -> Vec<&'static str> {
        ANY.to_vec()
    }

    async fn from_request(
        req: &'a Request,
        _: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(state(req).authenticate(req).await?)
    }
}

/// A caller that must be a browser session (password and session management).
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub user: Arc<User>,
    pub session: Arc<Session>,
}

impl<'a> ApiExtractor<'a> for SessionCaller {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_schemes(registry, &["Session"]);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["Session"]
    }

    async fn from_request(
        req: &'a Request,
        _: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        let caller = state(req).authenticate(req).await?;
        match (caller.user, caller.session) {
            (Some(user), Some(session)) => Ok(Self { user, session }),
            _ => Err(ApiError::from(Denial::SessionOnly).into()),
        }
    }
}
