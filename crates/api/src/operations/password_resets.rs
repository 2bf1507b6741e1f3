//! Password reset (contract section 10): a single-use link, by email or from a platform admin;
//! using it sets the password and ends every session of the user.

use super::accounts::Anonymous;
use super::admin::require_platform_admin;
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::email::password_reset_email;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use portcullis_domain::invitation::PASSWORD_RESET_LIFETIME;
use portcullis_domain::{Email, Error, LinkToken, Password, PasswordReset, User};
use uuid::Uuid;

/// A reset link and when it stops working.
pub struct ResetLink {
    pub reset_url: String,
    pub expires_at: DateTime<Utc>,
}

/// A new reset for the user; older ones stop working.
async fn issue(state: &AppState, user: &User, link_base: &str) -> Result<ResetLink, Error> {
    let now = state.clock.now();
    let token = LinkToken::generate();
    let reset = PasswordReset {
        id: portcullis_domain::new_id(),
        user_id: user.id,
        created_at: now,
        expires_at: now + PASSWORD_RESET_LIFETIME,
    };
    state
        .store
        .replace_password_reset(&reset, &token.digest())
        .await?;
    Ok(ResetLink {
        reset_url: format!(
            "{link_base}/console/password-reset?token={}",
            token.expose()
        ),
        expires_at: reset.expires_at,
    })
}

/// Always succeeds alike, whether or not the account exists (no account oracle). A live
/// account gets a link by email when SMTP is configured; without SMTP no reset is made, so an
/// anonymous request cannot kill a link a platform admin handed out. `link_base: None` (no
/// trustworthy public URL) sends nothing either.
pub async fn request(
    state: &AppState,
    client: Anonymous,
    email: &Email,
    link_base: Option<&str>,
) -> Result<(), Error> {
    client.admit_link(state)?;
    state.limit_reset_request(email)?;
    if !state.outbox.is_enabled() {
        return Ok(());
    }
    let Some(link_base) = link_base else {
        tracing::warn!(
            "password-reset email not sent: set PORTCULLIS_PUBLIC_URL so its link cannot be pointed elsewhere"
        );
        return Ok(());
    };
    let Some(user) = state.store.user_by_email(email).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let link = issue(state, &user, link_base).await?;
    state.send_email(password_reset_email(user.email.clone(), &link.reset_url));
    Ok(())
}

/// A platform admin's reset link for a user, for instances without SMTP (shown once).
pub async fn admin_link(
    state: &AppState,
    caller: &Caller,
    user_id: Uuid,
    link_base: &str,
) -> Result<ResetLink, Error> {
    require_platform_admin(state, caller)?;
    let user = state
        .store
        .user(user_id)
        .await?
        .ok_or(Error::NotFound("user"))?;
    issue(state, &user, link_base).await
}

/// Sets the new password; every session of the user ends. Unknown, used or expired token, or a
/// disabled user: 404; a weak password: 422 (and the link still works).
pub async fn confirm(
    state: &AppState,
    client: Anonymous,
    token: &str,
    new_password: &str,
) -> Result<(), Error> {
    client.admit(state)?;
    let not_found = Error::NotFound("password reset token");
    let token = LinkToken::parse(token).ok_or_else(|| not_found.clone())?;
    let reset = state
        .store
        .password_reset_by_digest(&token.digest())
        .await?
        .filter(|reset| state.clock.now() < reset.expires_at)
        .ok_or_else(|| not_found.clone())?;
    let user = state
        .store
        .user(reset.user_id)
        .await?
        .filter(|user| !user.disabled)
        .ok_or_else(|| not_found.clone())?;
    let password = Password::parse(new_password, &user.email)?;
    let hash = state.passwords.hash(password.expose()).await?;
    let ended = state.store.complete_password_reset(&reset, &hash).await?;
    for digest in ended {
        state.invalidate(Invalidation::Session(digest)).await;
    }
    state.invalidate(Invalidation::User(user.id)).await;
    Ok(())
}
