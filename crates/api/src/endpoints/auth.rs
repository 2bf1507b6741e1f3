use super::{NoContent, Nullable, Tag, UserBody};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::accounts::{self, LoggedIn, NewAccount};
use crate::operations::{identity, password_resets};
use crate::security::SessionCaller;
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Email, Error, Name, ResourcePath, Session};
use uuid::Uuid;

pub struct AuthApi;

#[derive(Debug, Object)]
pub struct SignupRequest {
    pub email: String,
    /// 8 to 128 characters, not the email.
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: String,
    pub name: Option<String>,
    /// An invitation's token: the account joins its organization, under every signup mode.
    pub invitation_token: Option<String>,
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
    /// A resource path: the token carries the permissions at it (claim `res`) and acts only at
    /// or below it. Required for a key restricted to resources.
    pub resource: Option<String>,
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

#[derive(Debug, Object)]
pub struct PasswordResetRequest {
    pub email: String,
}

#[derive(Debug, Object)]
pub struct PasswordResetConfirm {
    /// The `token` of the reset link.
    pub token: String,
    /// 8 to 128 characters, not the email.
    pub new_password: String,
}

statuses! {
    SignupStatuses: 400, 403, 404, 409, 415, 422, 429, 500, 503;
    ResetRequestStatuses: 400, 403, 415, 422, 429, 500, 503;
    ResetConfirmStatuses: 400, 403, 404, 415, 422, 429, 500, 503;
    LoginStatuses: 400, 401, 403, 415, 422, 429, 500, 503;
    SessionStatuses: 401, 403, 429, 500, 503;
    RevokeSessionStatuses: 400, 401, 403, 404, 429, 500, 503;
    PasswordStatuses: 400, 401, 403, 415, 422, 429, 500, 503;
    TokenStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
}

#[derive(ApiResponse)]
pub enum SignupResponse {
    #[oai(status = 201)]
    Created(Json<UserEnvelope>),
}

#[derive(ApiResponse)]
pub enum ResetRequested {
    /// Accepted, whether or not the account exists.
    #[oai(status = 202)]
    Accepted,
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

/// An account to create, from its request fields.
pub(crate) fn new_account(
    email: &str,
    password: String,
    name: Option<&str>,
) -> Result<NewAccount, Error> {
    Ok(NewAccount {
        email: Email::parse(email)?,
        password,
        name: name.map(Name::parse).transpose()?,
    })
}

#[OpenApi(prefix_path = "/api/v1/auth", tag = "Tag::Auth")]
impl AuthApi {
    /// Create an account (see `PORTCULLIS_SIGNUP`).
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<SignupRequest>,
    ) -> Answer<SignupResponse, SignupStatuses> {
        let SignupRequest {
            email,
            password,
            name,
            invitation_token,
        } = body.0;
        let new = new_account(&email, password, name.as_deref())?;
        let invitation = invitation_token.as_deref();
        let user = accounts::sign_up(&state, state.anonymous(request), new, invitation).await?;
        Ok(SignupResponse::Created(Json(UserEnvelope {
            user: (&user).into(),
        })))
    }

    /// Log in with email and password; sets the `portcullis_session` cookie.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<LoginRequest>,
    ) -> Answer<LoginResponse, LoginStatuses> {
        let LoginRequest { email, password } = body.0;
        let user_agent = request.header("user-agent");
        let LoggedIn {
            user,
            session,
            token,
        } = accounts::log_in(
            &state,
            state.anonymous(request),
            user_agent,
            &email,
            &password,
        )
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
    ) -> Answer<LogoutResponse, SessionStatuses> {
        accounts::end_session(&state, caller.user.id, caller.session.id).await?;
        Ok(LogoutResponse::NoContent(state.cleared_cookie()))
    }

    /// The current session and its user.
    #[oai(path = "/session", method = "get", operation_id = "get_session")]
    async fn session(
        &self,
        caller: SessionCaller,
    ) -> Answer<Json<CurrentSession>, SessionStatuses> {
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
    ) -> Answer<Json<Vec<SessionListItem>>, SessionStatuses> {
        let sessions = accounts::sessions(&state, caller.user.id).await?;
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
    ) -> Answer<NoContent, RevokeSessionStatuses> {
        accounts::end_session(&state, caller.user.id, session_id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Change the password; every other session of the user ends. A wrong current password is 403.
    #[oai(path = "/password", method = "post", operation_id = "change_password")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
        body: JsonBody<PasswordChange>,
    ) -> Answer<NoContent, PasswordStatuses> {
        let PasswordChange {
            current_password,
            new_password,
        } = body.0;
        accounts::change_password(
            &state,
            &caller.user,
            caller.session.id,
            &current_password,
            &new_password,
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Ask for a password-reset link by email: 202 whether or not the account exists. With SMTP
    /// configured, a live account gets `<public URL>/console/password-reset?token=<token>`.
    #[oai(
        path = "/password-reset",
        method = "post",
        operation_id = "request_password_reset"
    )]
    async fn request_password_reset(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<PasswordResetRequest>,
    ) -> Answer<ResetRequested, ResetRequestStatuses> {
        let email = Email::parse(&body.0.email)?;
        let base = state.trusted_link_base(request.headers());
        let client = state.anonymous(request);
        password_resets::request(&state, client, &email, base.as_deref()).await?;
        Ok(ResetRequested::Accepted)
    }

    /// Set a new password with a reset link's token; every session of the user ends. Unknown,
    /// used or expired token: 404.
    #[oai(
        path = "/password-reset/confirm",
        method = "post",
        operation_id = "confirm_password_reset"
    )]
    async fn confirm_password_reset(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<PasswordResetConfirm>,
    ) -> Answer<NoContent, ResetConfirmStatuses> {
        let PasswordResetConfirm {
            token,
            new_password,
        } = body.0;
        let client = state.anonymous(request);
        password_resets::confirm(&state, client, &token, &new_password).await?;
        Ok(NoContent::NoContent)
    }

    /// Mint a 5-minute access token (EdDSA JWT) carrying the caller's effective permissions in
    /// one organization, or at one resource there (claim `res`: the token then acts only at or
    /// below it). Access tokens cannot mint access tokens.
    #[oai(path = "/token", method = "post", operation_id = "create_access_token")]
    async fn token(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        body: JsonBody<Option<TokenRequest>>,
    ) -> Answer<Json<AccessTokenBody>, TokenStatuses> {
        let (organization_id, resource) = body
            .0
            .map_or((None, None), |b| (b.organization_id, b.resource));
        let resource = resource.as_deref().map(ResourcePath::parse).transpose()?;
        let minted =
            identity::mint_token(&state, &caller, organization_id, resource.as_ref()).await?;
        Ok(Json(AccessTokenBody {
            access_token: minted.token,
            token_type: "Bearer".into(),
            expires_in: minted.expires_in,
        }))
    }
}
