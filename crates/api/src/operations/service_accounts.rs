//! Service accounts (contract section 11): non-human members of one organization.

use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::service_account::{account_role, description};
use portcullis_domain::{
    AuditAction, AuditEvent, Error, Name, Permission, Role, ServiceAccount, rules,
};
use portcullis_persistence::AccountChanges;
use uuid::Uuid;

pub struct NewServiceAccount {
    pub name: Name,
    pub role: Role,
    pub description: Option<String>,
}

/// What a PATCH changes; `None` leaves a field as it is.
#[derive(Default)]
pub struct ServiceAccountChanges {
    pub name: Option<Name>,
    pub description: Option<String>,
    pub role: Option<Role>,
}

/// Needs `admin`.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    new: NewServiceAccount,
) -> Result<ServiceAccount, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    let account = ServiceAccount {
        id: portcullis_domain::new_id(),
        organization_id,
        name: new.name,
        description: description(new.description.as_deref())?,
        role: account_role(new.role)?,
        created_by: caller.principal.user_id(),
        created_at: state.clock.now(),
    };
    let action = AuditAction::ServiceAccountCreated;
    let event = event(state, caller, organization_id, account.id, action);
    state.store.create_service_account(&account, &event).await?;
    changed(state, organization_id, account.id).await;
    Ok(account)
}

/// Needs `read`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
) -> Result<Vec<ServiceAccount>, Error> {
    state
        .require(caller, organization_id, Permission::Read)
        .await?;
    state.store.service_accounts(organization_id).await
}

/// Needs `read`.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
) -> Result<ServiceAccount, Error> {
    state
        .require(caller, organization_id, Permission::Read)
        .await?;
    existing(state, organization_id, id).await
}

/// Needs `admin`; a lowered role lowers the account's keys at once.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
    changes: ServiceAccountChanges,
) -> Result<ServiceAccount, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    let changes = AccountChanges {
        name: changes.name.map(|name| name.to_string()),
        description: changes
            .description
            .map(|text| description(Some(&text)))
            .transpose()?,
        role: changes.role.map(account_role).transpose()?,
    };
    let event = event(
        state,
        caller,
        organization_id,
        id,
        AuditAction::ServiceAccountUpdated,
    );
    let account = state
        .store
        .update_service_account(organization_id, id, changes, &event)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    changed(state, organization_id, account.id).await;
    Ok(account)
}

/// Needs `admin`; its keys give 401 from then on.
pub async fn delete(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
) -> Result<(), Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    let event = event(
        state,
        caller,
        organization_id,
        id,
        AuditAction::ServiceAccountDeleted,
    );
    let digests = state
        .store
        .delete_service_account(organization_id, id, &event)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    for digest in digests {
        state.invalidate(Invalidation::Key(digest)).await;
    }
    changed(state, organization_id, id).await;
    Ok(())
}

/// The organization's account, or 404.
pub(crate) async fn existing(
    state: &AppState,
    organization_id: Uuid,
    id: Uuid,
) -> Result<ServiceAccount, Error> {
    state
        .store
        .service_account(organization_id, id)
        .await?
        .ok_or(Error::NotFound("service account"))
}

fn event(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    id: Uuid,
    action: AuditAction,
) -> AuditEvent {
    audit::event(
        state,
        caller,
        organization_id,
        action,
        Target::ServiceAccount(id),
    )
}

/// The account's cached standing is stale on every replica.
async fn changed(state: &AppState, organization_id: Uuid, id: Uuid) {
    state
        .invalidate(Invalidation::Standing {
            holder_id: id,
            organization_id,
        })
        .await;
}
