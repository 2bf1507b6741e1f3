//! Creating, reading, revoking and rotating API keys (contract section 4).

use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use portcullis_domain::api_key::{check_expiry, rotation_grace};
use portcullis_domain::rules::{self, KeyListing};
use portcullis_domain::{
    ApiKey, ApiKeySecret, AuditAction, Error, Holder, KeyAction, KeyRequest, KeyTarget, Name,
    Permissions, Restriction,
};
use uuid::Uuid;

pub struct NewApiKey {
    pub name: Name,
    /// As asked: not expanded.
    pub scopes: Permissions,
    pub expires_at: Option<DateTime<Utc>>,
    /// The paths it is restricted to; `None`: organization-wide.
    pub resources: Option<Restriction>,
}

impl NewApiKey {
    fn request(&self) -> KeyRequest<'_> {
        KeyRequest {
            scopes: self.scopes,
            expires_at: self.expires_at,
            resources: self.resources.as_ref(),
        }
    }
}

/// A key as created or rotated: the only time its secret exists outside the caller's hands.
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: ApiKeySecret,
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    check_expiry(new.expires_at, state.clock.now())?;
    let standing = state.standing(caller, organization_id).await?;
    let (holder, expires_at) = state.decide(rules::create_key(
        &caller.principal,
        &state.policy,
        organization_id,
        standing.as_deref(),
        new.request(),
    ))?;
    insert(state, caller, organization_id, holder, new, expires_at).await
}

/// A key for one of the organization's service accounts: `admin`, and scopes within both the
/// caller's and the account's grants.
pub async fn create_for_service_account(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    account_id: Uuid,
    new: NewApiKey,
) -> Result<CreatedApiKey, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    check_expiry(new.expires_at, state.clock.now())?;
    let holder = Holder::ServiceAccount(account_id);
    let account = state
        .cached_standing(holder, organization_id)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    let standing = state.standing(caller, organization_id).await?;
    let expires_at = state.decide(rules::create_service_account_key(
        &caller.principal,
        &state.policy,
        organization_id,
        standing.as_deref(),
        &account,
        new.request(),
    ))?;
    insert(state, caller, organization_id, holder, new, expires_at).await
}

/// The person behind a new key: the caller, or for a service account's key acting, the person
/// who made that key.
async fn creator(state: &AppState, caller: &Caller, organization_id: Uuid) -> Result<Uuid, Error> {
    if let Some(user_id) = caller.principal.user_id() {
        return Ok(user_id);
    }
    let key_id = caller
        .principal
        .api_key_id()
        .ok_or_else(|| Error::internal("a key's creator is a person or a key"))?;
    let key = state
        .store
        .api_key(organization_id, key_id)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    Ok(key.created_by)
}

/// Stores the new key, made by `caller` for `holder`, and records it in the audit trail.
async fn insert(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
    new: NewApiKey,
    expires_at: Option<DateTime<Utc>>,
) -> Result<CreatedApiKey, Error> {
    let created_by = creator(state, caller, organization_id).await?;
    let secret = ApiKeySecret::generate(&state.config.key_prefix);
    let key = ApiKey {
        id: portcullis_domain::new_id(),
        organization_id,
        holder,
        created_by,
        name: new.name,
        key_prefix: secret.display_prefix().to_owned(),
        scopes: new.scopes,
        created_at: state.clock.now(),
        expires_at,
        last_used_at: None,
        replaced_by_id: None,
        resources: new.resources,
    };
    let target = Target::ApiKey(key.id);
    let event = audit::event(
        state,
        caller,
        organization_id,
        AuditAction::ApiKeyCreated,
        target,
    );
    state
        .store
        .create_api_key(&key, &secret.digest(), &event)
        .await?;
    Ok(CreatedApiKey { key, secret })
}

/// Admins see every key of the organization, others their own (a service account's key: its
/// account's).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
) -> Result<Vec<ApiKey>, Error> {
    let access = state.access(caller, organization_id).await?;
    match state.decide(rules::list_keys(&caller.principal, &access))? {
        KeyListing::All => state.store.api_keys(organization_id, None).await,
        KeyListing::HeldBy(holder) => state.store.api_keys(organization_id, Some(holder)).await,
        KeyListing::None => Ok(Vec::new()),
    }
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    key_id: Uuid,
) -> Result<ApiKey, Error> {
    target(state, caller, organization_id, key_id, KeyAction::Get).await
}

/// The key gives 401 from now on.
pub async fn revoke(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    key_id: Uuid,
) -> Result<(), Error> {
    let key = target(state, caller, organization_id, key_id, KeyAction::Revoke).await?;
    let event = audit::event(
        state,
        caller,
        organization_id,
        AuditAction::ApiKeyRevoked,
        Target::ApiKey(key.id),
    );
    let digest = state
        .store
        .delete_api_key(organization_id, key.id, &event)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    state.invalidate(Invalidation::Key(digest)).await;
    Ok(())
}

/// A new secret with the same name, scopes, expiry and user; the old key works for
/// `grace_seconds` more (never past its own expiry). A key is rotated at most once.
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    key_id: Uuid,
    grace_seconds: i64,
) -> Result<CreatedApiKey, Error> {
    let grace = rotation_grace(grace_seconds)?;
    let old = target(state, caller, organization_id, key_id, KeyAction::Rotate).await?;
    let now = state.clock.now();
    let secret = ApiKeySecret::generate(&state.config.key_prefix);
    let new = ApiKey {
        id: portcullis_domain::new_id(),
        key_prefix: secret.display_prefix().to_owned(),
        created_at: now,
        last_used_at: None,
        replaced_by_id: None,
        ..old.clone()
    };
    let event = audit::event(
        state,
        caller,
        organization_id,
        AuditAction::ApiKeyRotated,
        Target::ApiKey(old.id),
    );
    let retired_at = old.retired_at(now, grace);
    let old_digest = state
        .store
        .rotate_api_key(old.id, retired_at, &new, &secret.digest(), &event)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    state.invalidate(Invalidation::Key(old_digest)).await;
    Ok(CreatedApiKey { key: new, secret })
}

/// The key, if the caller may act on it that way.
async fn target(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    key_id: Uuid,
    action: KeyAction,
) -> Result<ApiKey, Error> {
    let access = state.access(caller, organization_id).await?;
    let key = state
        .store
        .api_key(organization_id, key_id)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    let standing = state.cached_standing(key.holder, organization_id).await?;
    let target = KeyTarget {
        id: key.id,
        holder: key.holder,
        effective: key.effective(&state.policy, standing.as_deref()),
    };
    state.decide(rules::manage_key(
        &caller.principal,
        &access,
        &target,
        action,
    ))?;
    Ok(key)
}
