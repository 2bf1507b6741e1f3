//! The glue between a caller and the domain's decision: read the standing the decision needs
//! (cached), ask the domain, count the outcome.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{Access, Denial, Error, Permission, ResourcePath, Standing};
use std::sync::Arc;
use uuid::Uuid;

impl AppState {
    /// The caller's effective permissions in `organization_id`, organization-wide.
    pub async fn access(&self, caller: &Caller, organization_id: Uuid) -> Result<Access, Error> {
        self.access_at(caller, organization_id, None).await
    }

    /// The caller's effective permissions in `organization_id`, at `resource` when given.
    pub async fn access_at(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        resource: Option<&ResourcePath>,
    ) -> Result<Access, Error> {
        let standing = self.standing(caller, organization_id).await?;
        if caller.principal.is_root() {
            // The platform admin may learn what exists; members and strangers may not.
            self.store
                .organization(organization_id)
                .await?
                .ok_or(Error::NotFound("organization"))?;
        }
        self.decide(caller.principal.access(
            &self.policy,
            organization_id,
            standing.as_deref(),
            resource,
        ))
    }

    /// The role and grants the caller acts with in `organization_id`: its user's or service
    /// account's (none for the root token and access tokens, which carry their own).
    pub async fn standing(
        &self,
        caller: &Caller,
        organization_id: Uuid,
    ) -> Result<Option<Arc<Standing>>, Error> {
        match caller.principal.role_holder() {
            Some(holder) => self.cached_standing(holder, organization_id).await,
            None => Ok(None),
        }
    }

    /// `access`, then the one permission the operation needs.
    pub async fn require(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        permission: Permission,
    ) -> Result<Access, Error> {
        self.require_at(caller, organization_id, None, permission)
            .await
    }

    /// `access_at`, then the one permission the operation needs.
    pub async fn require_at(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        resource: Option<&ResourcePath>,
        permission: Permission,
    ) -> Result<Access, Error> {
        let access = self.access_at(caller, organization_id, resource).await?;
        self.decide(access.require(permission))?;
        self.metrics.allowed();
        Ok(access)
    }

    /// A domain decision, its refusal counted by kind.
    pub fn decide<T>(&self, decision: Result<T, Denial>) -> Result<T, Error> {
        decision.map_err(|denial| {
            self.metrics.decision("forbidden", denial.kind());
            denial.into()
        })
    }
}
