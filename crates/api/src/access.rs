//! The glue between a caller and the domain's decision: read the role the decision needs
//! (cached), ask the domain, count the outcome.

use crate::credentials::Caller;
use crate::state::AppState;
use portcullis_domain::{Access, Denial, Error, Permission};
use uuid::Uuid;

impl AppState {
    /// The caller's effective permissions in `organization_id`.
    pub async fn access(&self, caller: &Caller, organization_id: Uuid) -> Result<Access, Error> {
        let role = match caller.principal.role_holder() {
            Some(user_id) => self.cached_role(user_id, organization_id).await?,
            None => None,
        };
        if caller.principal == portcullis_domain::Principal::Root {
            // The platform admin may learn what exists; members and strangers may not.
            self.store
                .organization(organization_id)
                .await?
                .ok_or(Error::NotFound("organization"))?;
        }
        self.decide(caller.principal.access(&self.policy, organization_id, role))
    }

    /// `access`, then the one permission the operation needs.
    pub async fn require(
        &self,
        caller: &Caller,
        organization_id: Uuid,
        permission: Permission,
    ) -> Result<Access, Error> {
        let access = self.access(caller, organization_id).await?;
        self.decide(access.require(permission))?;
        self.metrics.decision("allowed", "");
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
