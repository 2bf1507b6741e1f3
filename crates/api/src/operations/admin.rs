//! Platform administration: users, every organization, and the trace of deleted ones.

use super::accounts::{self, NewAccount};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{Error, Organization, OrganizationDeletion, User, rules};
use portcullis_persistence::Page;
use uuid::Uuid;

pub(crate) fn require_platform_admin(state: &AppState, caller: &Caller) -> Result<(), Error> {
    state.decide(rules::administer_platform(
        &caller.principal,
        caller.user.as_deref(),
    ))
}

pub async fn list_users(state: &AppState, caller: &Caller, page: Page) -> Result<Vec<User>, Error> {
    require_platform_admin(state, caller)?;
    state.store.list_users(page).await
}

pub async fn create_user(
    state: &AppState,
    caller: &Caller,
    new: NewAccount,
) -> Result<User, Error> {
    require_platform_admin(state, caller)?;
    accounts::create_account(state, new, false).await
}

/// Disabling a user also ends their sessions, so re-enabling does not revive them.
pub async fn update_user(
    state: &AppState,
    caller: &Caller,
    user_id: Uuid,
    disabled: Option<bool>,
    platform_admin: Option<bool>,
) -> Result<User, Error> {
    require_platform_admin(state, caller)?;
    let user = state
        .store
        .update_user(user_id, disabled, platform_admin)
        .await?
        .ok_or(Error::NotFound("user"))?;
    state.invalidate(Invalidation::User(user.id)).await;
    if disabled == Some(true) {
        for digest in state.store.delete_sessions_of_user(user.id, None).await? {
            state.invalidate(Invalidation::Session(digest)).await;
        }
    }
    Ok(user)
}

pub async fn list_organizations(
    state: &AppState,
    caller: &Caller,
    page: Page,
) -> Result<Vec<Organization>, Error> {
    require_platform_admin(state, caller)?;
    state.store.list_organizations(page).await
}

/// Deleted organizations, most recently deleted first: who deleted each, and when.
pub async fn organization_deletions(
    state: &AppState,
    caller: &Caller,
    page: Page,
) -> Result<Vec<OrganizationDeletion>, Error> {
    require_platform_admin(state, caller)?;
    state.store.organization_deletions(page).await
}
