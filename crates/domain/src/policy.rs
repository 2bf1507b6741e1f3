//! What each role grants, decided by casbin from the `policies/` files.
//!
//! The policy is static (role → permission), so it is evaluated once per role when loaded and the
//! hot path reads a small table: no lock and no casbin call per request. A reload builds a new
//! `Policy` and swaps it in.

use crate::{Error, Permission, Permissions, Role};
use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};

/// Operations reserved to owners, beyond the four permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerAction {
    DeleteOrganization,
    GrantOwner,
}

impl OwnerAction {
    pub const ALL: [OwnerAction; 2] = [Self::DeleteOrganization, Self::GrantOwner];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeleteOrganization => "delete_organization",
            Self::GrantOwner => "grant_owner",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RoleGrants {
    permissions: Permissions,
    delete_organization: bool,
    grant_owner: bool,
}

#[derive(Debug, Clone)]
pub struct Policy {
    roles: [RoleGrants; Role::ALL.len()],
}

/// The repository's `policies/` files, compiled in so the binary runs from any directory.
pub const BUILTIN_MODEL: &str = include_str!("../../../policies/model.conf");
pub const BUILTIN_POLICY: &str = include_str!("../../../policies/policy.csv");

impl Policy {
    /// Builds the table from a casbin model and policy given as text.
    pub async fn from_text(model: &str, policy: &str) -> Result<Self, Error> {
        let model = DefaultModel::from_str(model)
            .await
            .map_err(|e| Error::internal(format!("casbin model: {e}")))?;
        let enforcer = Enforcer::new(model, StringAdapter::new(policy))
            .await
            .map_err(|e| Error::internal(format!("casbin policy: {e}")))?;
        let allowed = |role: Role, act: &str| {
            enforcer
                .enforce((role.as_str(), act))
                .map_err(|e| Error::internal(format!("casbin enforce: {e}")))
        };
        let mut roles = [RoleGrants::default(); Role::ALL.len()];
        for (slot, role) in roles.iter_mut().zip(Role::ALL) {
            for permission in Permission::ALL {
                if allowed(role, permission.as_str())? {
                    slot.permissions = slot.permissions.with(permission);
                }
            }
            slot.delete_organization = allowed(role, OwnerAction::DeleteOrganization.as_str())?;
            slot.grant_owner = allowed(role, OwnerAction::GrantOwner.as_str())?;
        }
        Ok(Self { roles })
    }

    pub async fn builtin() -> Result<Self, Error> {
        Self::from_text(BUILTIN_MODEL, BUILTIN_POLICY).await
    }

    /// The permissions `role` grants, with `admin` spelled out.
    pub fn grants(&self, role: Role) -> Permissions {
        self.slot(role).permissions.expand()
    }

    pub fn allows(&self, role: Role, action: OwnerAction) -> bool {
        let slot = self.slot(role);
        match action {
            OwnerAction::DeleteOrganization => slot.delete_organization,
            OwnerAction::GrantOwner => slot.grant_owner,
        }
    }

    fn slot(&self, role: Role) -> &RoleGrants {
        &self.roles[role as usize]
    }
}
