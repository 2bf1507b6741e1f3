//! Accounts and sessions: signing up, logging in and out, listing and ending sessions,
//! changing a password.

use super::audit::{self, Actor, Target};
use super::invitations;
use crate::cache::Invalidation;
use crate::state::AppState;
use portcullis_domain::session::expiry_after;
use portcullis_domain::{
    AuditAction, Denial, Email, Error, Name, Password, RequestOrigin, Session, SessionToken,
    Unauthenticated, User, rules,
};
use portcullis_persistence::NewUser;
use std::net::IpAddr;
use uuid::Uuid;

/// An account to create. The password is checked against the email here, where both are known.
pub struct NewAccount {
    pub email: Email,
    pub password: String,
    pub name: Option<Name>,
}

/// The sender of an unauthenticated request (signup, login).
pub struct Anonymous {
    pub ip: Option<IpAddr>,
    pub origin: RequestOrigin,
}

impl AppState {
    /// Who sends an unauthenticated request: its address and its `Origin`.
    pub fn anonymous(&self, request: &poem::Request) -> Anonymous {
        Anonymous {
            ip: self.client_ip(request),
            origin: self.request_origin(request.headers()),
        }
    }
}

impl Anonymous {
    /// The origin rule, then the per-address limit on password attempts.
    pub(crate) fn admit(&self, state: &AppState) -> Result<(), Error> {
        state.decide(rules::anonymous_write(self.origin))?;
        state.limit_password_attempt(self.ip)
    }

    /// The origin rule, then the per-address limit on link requests (invitation lookups,
    /// password-reset requests).
    pub(crate) fn admit_link(&self, state: &AppState) -> Result<(), Error> {
        state.decide(rules::anonymous_write(self.origin))?;
        state.limit_link_attempt(self.ip)
    }
}

/// Under `first-user` the first account becomes platform admin; of signups that race for it,
/// the store lets one through and the others are refused. With an invitation's token the
/// account is created under every signup mode and joins the organization in the same
/// transaction (section 9): a token for another email is 403, an unusable one 404.
pub async fn sign_up(
    state: &AppState,
    client: Anonymous,
    new: NewAccount,
    invitation_token: Option<&str>,
) -> Result<User, Error> {
    client.admit(state)?;
    state.limit_email_attempt(&new.email)?;
    let Some(token) = invitation_token else {
        let users_exist = state.store.count_users().await? > 0;
        let platform_admin = state.decide(rules::sign_up(state.config.signup, users_exist))?;
        if !platform_admin {
            return create_account(state, new, false).await;
        }
        let first = new_user(state, new, true).await?;
        return match state.store.create_first_user(first).await? {
            Some(user) => Ok(user),
            None => state.decide(Err(Denial::FirstUserExists)),
        };
    };
    let invitation = invitations::usable(state, token).await?.invitation;
    let platform_admin = state.decide(rules::sign_up_invited(&new.email, &invitation.email))?;
    let new_user = new_user(state, new, platform_admin).await?;
    let actor = Actor {
        user_id: Some(new_user.id),
        api_key_id: None,
        ip: client.ip,
    };
    let target = Target::Invitation(invitation.id);
    let action = AuditAction::InvitationAccepted;
    let event = audit::event_by(state, actor, invitation.organization_id, action, target);
    state
        .store
        .create_invited_user(new_user, &invitation, &event)
        .await
}

/// Whether signing up without an invitation would be let through now: what the sign-in page
/// offers. The same rule as `sign_up`, asked without creating anything.
pub async fn sign_up_open(state: &AppState) -> Result<bool, Error> {
    let users_exist = state.store.count_users().await? > 0;
    Ok(rules::sign_up(state.config.signup, users_exist).is_ok())
}

pub(crate) async fn create_account(
    state: &AppState,
    new: NewAccount,
    platform_admin: bool,
) -> Result<User, Error> {
    let new_user = new_user(state, new, platform_admin).await?;
    state.store.create_user(new_user).await
}

/// The row to insert: the password checked against the email, then hashed.
async fn new_user(
    state: &AppState,
    new: NewAccount,
    platform_admin: bool,
) -> Result<NewUser, Error> {
    let password = Password::parse(&new.password, &new.email)?;
    let password_hash = state.passwords.hash(password.expose()).await?;
    Ok(NewUser {
        id: portcullis_domain::new_id(),
        email: new.email,
        name: new.name,
        password_hash,
        platform_admin,
        created_at: state.clock.now(),
    })
}

/// A logged-in session and the token for its cookie.
pub struct LoggedIn {
    pub user: User,
    pub session: Session,
    pub token: SessionToken,
}

/// The same 401 for an unknown email, a wrong password and a disabled user; an unknown email
/// costs the same hashing time as a known one. An email with too many recent failures is
/// refused (429) before its password is checked.
pub async fn log_in(
    state: &AppState,
    client: Anonymous,
    user_agent: Option<&str>,
    email: &str,
    password: &str,
) -> Result<LoggedIn, Error> {
    client.admit(state)?;
    let email = Email::parse(email).ok();
    if let Some(email) = &email {
        state.limit_email_attempt(email)?;
        state.limit_failed_logins(email)?;
    }
    let found = match &email {
        Some(email) => state.store.user_with_password_hash(email).await?,
        None => None,
    };
    let hash = found.as_ref().map(|(_, hash)| hash.as_str());
    let matches = state.passwords.verify(password, hash).await?;
    let user = match found {
        Some((user, _)) if matches && !user.disabled => user,
        _ => {
            if let Some(email) = &email {
                state.record_failed_login(email);
            }
            return Err(Unauthenticated::BadPassword.into());
        }
    };
    let now = state.clock.now();
    let token = SessionToken::generate();
    let session = Session {
        id: portcullis_domain::new_id(),
        user_id: user.id,
        created_at: now,
        updated_at: now,
        expires_at: expiry_after(now),
        user_agent: user_agent.map(|ua| ua.chars().take(512).collect()),
        ip: client.ip.map(|ip| ip.to_string()),
    };
    state
        .store
        .create_session(&session, &token.digest())
        .await?;
    Ok(LoggedIn {
        user,
        session,
        token,
    })
}

/// The user's live sessions.
pub async fn sessions(state: &AppState, user_id: Uuid) -> Result<Vec<Session>, Error> {
    state.store.live_sessions(user_id, state.clock.now()).await
}

/// Ends one of the user's sessions (404 for anyone else's).
pub async fn end_session(state: &AppState, user_id: Uuid, session_id: Uuid) -> Result<(), Error> {
    let digest = state
        .store
        .delete_session(user_id, session_id)
        .await?
        .ok_or(Error::NotFound("session"))?;
    state.invalidate(Invalidation::Session(digest)).await;
    Ok(())
}

/// Every other session of the user ends. A wrong current password is refused (403).
pub async fn change_password(
    state: &AppState,
    user: &User,
    current_session: Uuid,
    current_password: &str,
    new_password: &str,
) -> Result<(), Error> {
    state.limit_password_change(user.id)?;
    let hash = state.store.password_hash(user.id).await?;
    let matches = state
        .passwords
        .verify(current_password, hash.as_deref())
        .await?;
    state.decide(rules::confirm_password(matches))?;
    let new_password = Password::parse(new_password, &user.email)?;
    let new_hash = state.passwords.hash(new_password.expose()).await?;
    state.store.set_password_hash(user.id, &new_hash).await?;
    for digest in state
        .store
        .delete_sessions_of_user(user.id, Some(current_session))
        .await?
    {
        state.invalidate(Invalidation::Session(digest)).await;
    }
    Ok(())
}
