//! Members and their roles (contract sections 4 and 6).

use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{AuditAction, AuditEvent, Email, Error, Member, Permission, Role, rules};
use uuid::Uuid;

/// Needs `read`.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
) -> Result<Vec<Member>, Error> {
    state
        .require(caller, organization_id, Permission::Read)
        .await?;
    state.store.members(organization_id).await
}

/// Adds an existing user: needs `admin`, and an owner to grant `owner`.
pub async fn add(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    email: &Email,
    role: Role,
) -> Result<Member, Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::assign_role(&access, &state.policy, None, role))?;
    let user = state
        .store
        .user_by_email(email)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let event = event(
        state,
        caller,
        organization_id,
        user.id,
        AuditAction::MemberAdded,
    );
    let member = state
        .store
        .add_member(organization_id, user.id, role, state.clock.now(), &event)
        .await?;
    role_changed(state, organization_id, user.id).await;
    Ok(member)
}

/// Needs `admin`, and an owner to make or unmake an owner; the last owner stays (409).
pub async fn change_role(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> Result<Member, Error> {
    let access = state.access(caller, organization_id).await?;
    let current = existing(state, organization_id, user_id).await?;
    state.decide(rules::assign_role(
        &access,
        &state.policy,
        Some(current.role),
        role,
    ))?;
    let action = AuditAction::MemberRoleChanged;
    let event = event(state, caller, organization_id, user_id, action);
    let member = state
        .store
        .change_role(organization_id, user_id, role, &event)
        .await?
        .ok_or(Error::NotFound("member"))?;
    role_changed(state, organization_id, user_id).await;
    Ok(member)
}

/// Removes a member, or lets the caller leave; the last owner stays (409).
pub async fn remove(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    user_id: Uuid,
) -> Result<(), Error> {
    let access = state.access(caller, organization_id).await?;
    let current = existing(state, organization_id, user_id).await?;
    state.decide(rules::remove_member(
        &caller.principal,
        &access,
        &state.policy,
        user_id,
        current.role,
    ))?;
    let event = event(
        state,
        caller,
        organization_id,
        user_id,
        AuditAction::MemberRemoved,
    );
    if !state
        .store
        .remove_member(organization_id, user_id, &event)
        .await?
    {
        return Err(Error::NotFound("member"));
    }
    role_changed(state, organization_id, user_id).await;
    Ok(())
}

async fn existing(state: &AppState, organization_id: Uuid, user_id: Uuid) -> Result<Member, Error> {
    state
        .store
        .member(organization_id, user_id)
        .await?
        .ok_or(Error::NotFound("member"))
}

fn event(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    user_id: Uuid,
    action: AuditAction,
) -> AuditEvent {
    audit::event(
        state,
        caller,
        organization_id,
        action,
        Target::User(user_id),
    )
}

/// The member's cached standing is stale on every replica.
async fn role_changed(state: &AppState, organization_id: Uuid, user_id: Uuid) {
    state
        .invalidate(Invalidation::Standing {
            holder_id: user_id,
            organization_id,
        })
        .await;
}
