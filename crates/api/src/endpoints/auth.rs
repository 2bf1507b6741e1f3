use super::{NoContent, Nullable, Tag, UserBody, client_addr, client_ip};
use crate::body::JsonBody;
use crate::cache::Invalidation;
use crate::config::SignupPolicy;
use crate::credentials::{Caller, SessionCaller};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::tokens::LIFETIME;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::{Data, RemoteAddr};
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::session::expiry_after;
use portcullis_domain::{
    Denial, Email, Error, Name, Password, Principal, Session, SessionToken, Unauthenticated, User,
};
use portcullis_persistence::NewUser;
use uuid::Uuid;

pub struct AuthApi;

#[derive(Debug, Object)]
pub struct SignupRequest {
    pub email: String,
    /// 8 to 128 characters, not the email.
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: String,
    pub name: Option<String>,
}

#[derive(Debug, Object)]
pub struct UserEnvelope {
    pub user: UserBody,
}

#[derive(Debug, Object)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Object)]
pub struct NewSession {
    pub id: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct LoginBody {
    pub user: UserBody,
    pub session: NewSession,
}

#[derive(Debug, Object)]
pub struct SessionBody {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// The last refresh.
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<&Session> for SessionBody {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            expires_at: s.expires_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct CurrentSession {
    pub user: UserBody,
    pub session: SessionBody,
}

#[derive(Debug, Object)]
pub struct SessionListItem {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Nullable<String>,
    pub ip: Nullable<String>,
    /// The session making this request.
    pub current: bool,
}

#[derive(Debug, Object)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8 to 128 characters, not the email.
    #[oai(validator(min_length = 8, max_length = 128))]
    pub new_password: String,
}

#[derive(Debug, Object)]
pub struct TokenRequest {
    /// Required for sessions and the root token; defaults to an API key's organization.
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Object)]
pub struct AccessTokenBody {
    /// An EdDSA JWT; verify it with `/.well-known/jwks.json`.
    pub access_token: String,
    /// `Bearer`
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

#[derive(ApiResponse)]
pub enum SignupResponse {
    #[oai(status = 201)]
    Created(Json<UserEnvelope>),
}

#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Logged in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<LoginBody>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Logged out; the cookie is cleared.
    #[oai(status = 204)]
    NoContent(#[oai(header = "Set-Cookie")] String),
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "Tag::Auth")]
impl AuthApi {
    /// Create an account (see `PORTCULLIS_SIGNUP`).
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        remote: &RemoteAddr,
        body: JsonBody<SignupRequest>,
    ) -> ApiResult<SignupResponse> {
        state.password_attempts.check(client_addr(remote))?;
        let first_user = match state.config.signup {
            SignupPolicy::Closed => return Err(Denial::Refused("sign-up is closed").into()),
            SignupPolicy::Open => false,
            SignupPolicy::FirstUser if state.store.count_users().await? > 0 => {
                return Err(
                    Denial::Refused("sign-up is closed: the first user already exists").into(),
                );
            }
            SignupPolicy::FirstUser => true,
        };
        let SignupRequest {
            email,
            password,
            name,
        } = body.0;
        let user = create_account(&state, &email, &password, name.as_deref(), first_user).await?;
        Ok(SignupResponse::Created(Json(UserEnvelope {
            user: (&user).into(),
        })))
    }

    /// Log in with email and password; sets the `portcullis_session` cookie.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        remote: &RemoteAddr,
        request: &Request,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<LoginResponse> {
        state.password_attempts.check(client_addr(remote))?;
        let LoginRequest { email, password } = body.0;
        let found = match Email::parse(&email) {
            Ok(email) => state.store.user_with_password_hash(&email).await?,
            Err(_) => None,
        };
        let hash = found.as_ref().map(|(_, hash)| hash.as_str());
        let matches = state.passwords.verify(&password, hash).await?;
        let user = match found {
            Some((user, _)) if matches && !user.disabled => user,
            _ => return Err(Error::Unauthenticated(Unauthenticated::BadPassword).into()),
        };
        let now = state.clock.now();
        let token = SessionToken::generate();
        let session = Session {
            id: portcullis_domain::new_id(),
            user_id: user.id,
            created_at: now,
            updated_at: now,
            expires_at: expiry_after(now),
            user_agent: request
                .header("user-agent")
                .map(|ua| ua.chars().take(512).collect()),
            ip: client_ip(remote),
        };
        state
            .store
            .create_session(&session, &token.digest())
            .await?;
        let body = LoginBody {
            user: (&user).into(),
            session: NewSession {
                id: session.id,
                expires_at: session.expires_at,
            },
        };
        Ok(LoginResponse::Ok(Json(body), state.session_cookie(&token)))
    }

    /// End the current session and clear the cookie.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
    ) -> ApiResult<LogoutResponse> {
        end_session(&state, caller.user.id, caller.session.id).await?;
        Ok(LogoutResponse::NoContent(state.cleared_cookie()))
    }

    /// The current session and its user.
    #[oai(path = "/session", method = "get", operation_id = "get_session")]
    async fn session(&self, caller: SessionCaller) -> ApiResult<Json<CurrentSession>> {
        Ok(Json(CurrentSession {
            user: caller.user.as_ref().into(),
            session: caller.session.as_ref().into(),
        }))
    }

    /// The caller's live sessions.
    #[oai(path = "/sessions", method = "get", operation_id = "list_sessions")]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
    ) -> ApiResult<Json<Vec<SessionListItem>>> {
        let sessions = state
            .store
            .live_sessions(caller.user.id, state.clock.now())
            .await?;
        Ok(Json(
            sessions
                .into_iter()
                .map(|s| SessionListItem {
                    current: s.id == caller.session.id,
                    id: s.id,
                    created_at: s.created_at,
                    updated_at: s.updated_at,
                    expires_at: s.expires_at,
                    user_agent: s.user_agent.into(),
                    ip: s.ip.into(),
                })
                .collect(),
        ))
    }

    /// End one of the caller's sessions.
    #[oai(
        path = "/sessions/:session_id",
        method = "delete",
        operation_id = "revoke_session"
    )]
    async fn revoke_session(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
        session_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        end_session(&state, caller.user.id, session_id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Change the password; every other session of the user ends.
    #[oai(path = "/password", method = "post", operation_id = "change_password")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
        body: JsonBody<PasswordChange>,
    ) -> ApiResult<NoContent> {
        let PasswordChange {
            current_password,
            new_password,
        } = body.0;
        let user = &caller.user;
        let hash = state.store.password_hash(user.id).await?;
        if !state
            .passwords
            .verify(&current_password, hash.as_deref())
            .await?
        {
            return Err(Denial::Refused("the current password is incorrect").into());
        }
        let new_password = Password::parse(&new_password, &Email::parse(&user.email)?)?;
        let new_hash = state.passwords.hash(new_password.expose()).await?;
        state.store.set_password_hash(user.id, &new_hash).await?;
        for digest in state
            .store
            .delete_sessions_of_user(user.id, Some(caller.session.id))
            .await?
        {
            state.invalidate(Invalidation::Session(digest)).await;
        }
        Ok(NoContent::NoContent)
    }

    /// Mint a 5-minute access token (EdDSA JWT) carrying the caller's effective permissions in one organization.
    #[oai(path = "/token", method = "post", operation_id = "create_access_token")]
    async fn token(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        body: JsonBody<Option<TokenRequest>>,
    ) -> ApiResult<Json<AccessTokenBody>> {
        let requested = body.0.and_then(|b| b.organization_id);
        let organization_id = match (&caller.principal, requested) {
            (Principal::AccessToken { .. }, _) => {
                return Err(
                    Denial::Refused("an access token cannot mint another access token").into(),
                );
            }
            (_, Some(id)) => id,
            (
                Principal::ApiKey {
                    organization_id, ..
                },
                None,
            ) => *organization_id,
            (_, None) => return Err(Error::validation("organization_id is required").into()),
        };
        let access = state.access(&caller, organization_id).await?;
        let now = state.clock.now();
        let token = state.tokens.issue(
            &caller.principal,
            organization_id,
            access.role,
            access.permissions,
            now,
        )?;
        Ok(Json(AccessTokenBody {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: LIFETIME.num_seconds(),
        }))
    }
}

async fn end_session(state: &AppState, user_id: Uuid, session_id: Uuid) -> ApiResult<()> {
    let digest = state
        .store
        .delete_session(user_id, session_id)
        .await?
        .ok_or(Error::NotFound("session"))?;
    state.invalidate(Invalidation::Session(digest)).await;
    Ok(())
}

/// Validates and creates an account (signup, or a platform admin creating a user).
pub(crate) async fn create_account(
    state: &AppState,
    email: &str,
    password: &str,
    name: Option<&str>,
    platform_admin: bool,
) -> ApiResult<User> {
    let email = Email::parse(email)?;
    let password = Password::parse(password, &email)?;
    let name = name.map(Name::parse).transpose()?.map(Name::into_inner);
    let password_hash = state.passwords.hash(password.expose()).await?;
    let new_user = NewUser {
        id: portcullis_domain::new_id(),
        email,
        name,
        password_hash,
        platform_admin,
        created_at: state.clock.now(),
    };
    Ok(state.store.create_user(new_user).await?)
}
