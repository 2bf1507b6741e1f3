//! Who is calling, the forward-auth check, and access tokens.

use crate::credentials::Caller;
use crate::state::AppState;
use crate::tokens::LIFETIME;
use portcullis_domain::rules::{self, Identity};
use portcullis_domain::{
    Access, Error, Membership, Permission, Permissions, ResourcePath, ServiceAccount,
};
use uuid::Uuid;

/// What `/me` tells.
pub struct Me {
    /// The organization a key or access token is bound to.
    pub organization_id: Option<Uuid>,
    /// Effective permissions there (all four for the root token, none for a session).
    pub scopes: Permissions,
    pub memberships: Vec<Membership>,
    /// The service account a key or token acts for.
    pub service_account: Option<ServiceAccount>,
}

pub async fn me(state: &AppState, caller: &Caller) -> Result<Me, Error> {
    let (scopes, memberships) = match rules::identity(&caller.principal) {
        Identity::Everywhere => (Permissions::ALL, Vec::new()),
        Identity::Person(user_id) => (Permissions::EMPTY, state.store.memberships(user_id).await?),
        Identity::Bound(organization_id) => {
            let access = state.access(caller, organization_id).await?;
            let membership = access.role.map(|role| Membership {
                organization_id,
                role,
            });
            (access.permissions, membership.into_iter().collect())
        }
    };
    let service_account = match (
        caller.principal.service_account_id(),
        caller.principal.bound_organization(),
    ) {
        (Some(id), Some(organization_id)) => {
            state.store.service_account(organization_id, id).await?
        }
        _ => None,
    };
    Ok(Me {
        organization_id: caller.principal.bound_organization(),
        scopes,
        memberships,
        service_account,
    })
}

/// The organization a check or token is about: the one asked for, else the credential's own.
fn organization(caller: &Caller, asked: Option<Uuid>) -> Result<Uuid, Error> {
    asked
        .or(caller.principal.bound_organization())
        .ok_or_else(|| {
            Error::validation("organization_id is required for sessions and the root token")
        })
}

/// The forward-auth check: may the caller use `permission` in the organization, or at
/// `resource` there?
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    permission: Permission,
    organization_id: Option<Uuid>,
    resource: Option<&ResourcePath>,
) -> Result<(Uuid, Access), Error> {
    let organization_id = organization(caller, organization_id)?;
    let access = state
        .require_at(caller, organization_id, resource, permission)
        .await?;
    Ok((organization_id, access))
}

/// A minted access token.
pub struct AccessToken {
    pub token: String,
    pub expires_in: i64,
}

/// A 5-minute JWT carrying the caller's effective permissions in one organization, or at one
/// resource there (then it acts only at or below it).
pub async fn mint_token(
    state: &AppState,
    caller: &Caller,
    organization_id: Option<Uuid>,
    resource: Option<&ResourcePath>,
) -> Result<AccessToken, Error> {
    let organization_id = organization(caller, organization_id)?;
    let access = state.access_at(caller, organization_id, resource).await?;
    state.decide(rules::mint_token(&caller.principal, &access))?;
    let token = state.tokens.issue(
        &caller.principal,
        organization_id,
        resource,
        access.role,
        access.permissions,
        state.clock.now(),
    )?;
    Ok(AccessToken {
        token,
        expires_in: LIFETIME.num_seconds(),
    })
}
