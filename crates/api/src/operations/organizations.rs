//! Organizations: creating, reading, renaming, deleting.

use super::audit::{self, Target};
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::rules::{self, Founder, OrganizationListing};
use portcullis_domain::{
    AuditAction, Email, Error, Name, OrgSlug, Organization, OrganizationDeletion, Permission,
};
use portcullis_persistence::Page;
use uuid::Uuid;

pub struct NewOrganization {
    pub name: Name,
    pub slug: OrgSlug,
    /// The root token's choice of owner; ignored for people, who own what they create.
    pub owner_email: Option<Email>,
}

/// The caller (or, for the root token, `owner_email`) becomes the owner.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    new: NewOrganization,
) -> Result<Organization, Error> {
    let owner = match state.decide(rules::create_organization(&caller.principal))? {
        Founder::Caller(user) => user,
        Founder::Named => {
            let email = new
                .owner_email
                .ok_or_else(|| Error::validation("owner_email is required with the root token"))?;
            let user = state.store.user_by_email(&email).await?;
            user.ok_or(Error::NotFound("user"))?.id
        }
    };
    let organization = Organization {
        id: portcullis_domain::new_id(),
        name: new.name,
        slug: new.slug,
        created_at: state.clock.now(),
    };
    let (action, target) = (
        AuditAction::OrganizationCreated,
        Target::Organization(organization.id),
    );
    let event = audit::event(state, caller, organization.id, action, target);
    state
        .store
        .create_organization(&organization, owner, &event)
        .await?;
    state
        .invalidate(Invalidation::Standing {
            holder_id: owner,
            organization_id: organization.id,
        })
        .await;
    Ok(organization)
}

/// A person's memberships, a key's or token's own organization, or (root token) the first 200.
pub async fn list(state: &AppState, caller: &Caller) -> Result<Vec<Organization>, Error> {
    match rules::list_organizations(&caller.principal) {
        OrganizationListing::Every => {
            let page = Page {
                limit: 200,
                before: None,
            };
            state.store.list_organizations(page).await
        }
        OrganizationListing::MembershipsOf(user) => state.store.organizations_of_user(user).await,
        OrganizationListing::Bound(organization_id) => {
            state.access(caller, organization_id).await?;
            let organization = state.store.organization(organization_id).await?;
            Ok(organization.into_iter().collect())
        }
    }
}

/// Needs `read`.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
) -> Result<Organization, Error> {
    state
        .require(caller, organization_id, Permission::Read)
        .await?;
    state
        .store
        .organization(organization_id)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// Needs `admin`. Without a new name, the organization as it is.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    name: Option<Name>,
) -> Result<Organization, Error> {
    state
        .require(caller, organization_id, Permission::Admin)
        .await?;
    let Some(name) = name else {
        return get(state, caller, organization_id).await;
    };
    let (action, target) = (
        AuditAction::OrganizationUpdated,
        Target::Organization(organization_id),
    );
    let event = audit::event(state, caller, organization_id, action, target);
    state
        .store
        .rename_organization(organization_id, &name, &event)
        .await?
        .ok_or(Error::NotFound("organization"))
}

/// An owner in person, or the root token. Its keys stop working at once; platform admins can
/// still read who deleted it, and when (`deletions`).
pub async fn delete(state: &AppState, caller: &Caller, organization_id: Uuid) -> Result<(), Error> {
    let access = state.access(caller, organization_id).await?;
    state.decide(rules::delete_organization(
        &caller.principal,
        &access,
        &state.policy,
    ))?;
    let organization = state
        .store
        .organization(organization_id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    let deletion = OrganizationDeletion {
        id: portcullis_domain::new_id(),
        organization,
        at: state.clock.now(),
        actor_user_id: caller.principal.user_id(),
        ip: caller.ip.map(|ip| ip.to_string()),
    };
    if !state
        .store
        .delete_organization(organization_id, &deletion)
        .await?
    {
        return Err(Error::NotFound("organization"));
    }
    state
        .invalidate(Invalidation::Organization(organization_id))
        .await;
    Ok(())
}
