//! Grants (contract section 12): a role on a resource for a member or a service account, on
//! top of its organization role.

use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{
    AuditAction, Error, Grant, Holder, Permission, ResourcePath, RoleAt, rules,
};
use uuid::Uuid;

/// Needs `read`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
) -> Result<Vec<Grant>, Error> {
    state
        .require(caller, organization_id, Permission::Read)
        .await?;
    existing(state, organization_id, holder).await?;
    state.store.grants(organization_id, holder.id()).await
}

/// Creates the grant or changes its role: needs `admin`.
pub async fn set(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
    grant: RoleAt,
) -> Result<Grant, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    existing(state, organization_id, holder).await?;
    let action = match holder {
        Holder::User(_) => AuditAction::MemberGrantSet,
        Holder::ServiceAccount(_) => AuditAction::ServiceAccountGrantSet,
    };
    let target = Target::Grant(holder.id(), grant.resource.clone());
    let event = audit::event(state, caller, organization_id, action, target);
    let written = state
        .store
        .set_grant(
            organization_id,
            holder.id(),
            &grant.resource,
            grant.role,
            state.clock.now(),
            &event,
        )
        .await?;
    changed(state, organization_id, holder).await;
    Ok(written)
}

/// Needs `admin`; 404 when there is no such grant.
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
    resource: &ResourcePath,
) -> Result<(), Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::administer(&access))?;
    existing(state, organization_id, holder).await?;
    let action = match holder {
        Holder::User(_) => AuditAction::MemberGrantRemoved,
        Holder::ServiceAccount(_) => AuditAction::ServiceAccountGrantRemoved,
    };
    let target = Target::Grant(holder.id(), resource.clone());
    let event = audit::event(state, caller, organization_id, action, target);
    if !state
        .store
        .remove_grant(organization_id, holder.id(), resource, &event)
        .await?
    {
        return Err(Error::NotFound("grant"));
    }
    changed(state, organization_id, holder).await;
    Ok(())
}

/// The member or service account must be the organization's (404).
async fn existing(state: &AppState, organization_id: Uuid, holder: Holder) -> Result<(), Error> {
    let found = match holder {
        Holder::User(user_id) => state
            .store
            .member(organization_id, user_id)
            .await?
            .is_some(),
        Holder::ServiceAccount(id) => state
            .store
            .service_account(organization_id, id)
            .await?
            .is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(Error::NotFound(match holder {
            Holder::User(_) => "member",
            Holder::ServiceAccount(_) => "service account",
        }))
    }
}

/// The holder's cached standing is stale on every replica.
async fn changed(state: &AppState, organization_id: Uuid, holder: Holder) {
    state
        .invalidate(Invalidation::Standing {
            holder_id: holder.id(),
            organization_id,
        })
        .await;
}
