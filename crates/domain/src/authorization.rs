//! The authorization decision: who is asking, in which organization, for what.
//!
//! Handlers never compare roles themselves; they ask `Principal::access` for the caller's
//! effective permissions in an organization and `Access::require` for the one they need.

use crate::{OwnerAction, Permission, Permissions, Policy, Role};
use uuid::Uuid;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `PORTCULLIS_API_TOKEN`: the platform administrator, every permission everywhere.
    Root,
    Session {
        user_id: Uuid,
        session_id: Uuid,
    },
    ApiKey {
        user_id: Uuid,
        key_id: Uuid,
        organization_id: Uuid,
        scopes: Permissions,
    },
    /// A JWT: carries what its issuer could do in one organization when it was minted.
    AccessToken {
        user_id: Option<Uuid>,
        organization_id: Uuid,
        role: Option<Role>,
        permissions: Permissions,
        /// Minted from a session.
        person: bool,
    },
}

impl Principal {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Root => None,
            Self::Session { user_id, .. } | Self::ApiKey { user_id, .. } => Some(*user_id),
            Self::AccessToken { user_id, .. } => *user_id,
        }
    }

    pub fn api_key_id(&self) -> Option<Uuid> {
        match self {
            Self::ApiKey { key_id, .. } => Some(*key_id),
            _ => None,
        }
    }

    /// The organization a key or access token is bound to.
    pub fn bound_organization(&self) -> Option<Uuid> {
        match self {
            Self::ApiKey {
                organization_id, ..
            }
            | Self::AccessToken {
                organization_id, ..
            } => Some(*organization_id),
            Self::Root | Self::Session { .. } => None,
        }
    }

    /// A session, or an access token minted from one.
    pub fn is_person(&self) -> bool {
        matches!(
            self,
            Self::Session { .. } | Self::AccessToken { person: true, .. }
        )
    }

    pub fn auth_method(&self) -> &'static str {
        match self {
            Self::Root => "root_token",
            Self::Session { .. } => "session",
            Self::ApiKey { .. } => "api_key",
            Self::AccessToken { .. } => "access_token",
        }
    }

    /// The caller's effective permissions in `organization_id`. `role` is the caller's user's
    /// *current* role there, as the database says (ignored for the root token and access tokens,
    /// which carry their own).
    pub fn access(
        &self,
        policy: &Policy,
        organization_id: Uuid,
        role: Option<Role>,
    ) -> Result<Access, Denial> {
        match self {
            Self::Root => Ok(Access {
                role: None,
                permissions: Permissions::ALL,
                limit: Limit::None,
            }),
            Self::Session { .. } => {
                let role = role.ok_or(Denial::NotMember)?;
                Ok(Access {
                    role: Some(role),
                    permissions: policy.grants(role),
                    limit: Limit::Role(role),
                })
            }
            Self::ApiKey {
                organization_id: bound,
                scopes,
                ..
            } => {
                if *bound != organization_id {
                    return Err(Denial::OtherOrganization);
                }
                let role = role.ok_or(Denial::NotMember)?;
                let grants = policy.grants(role);
                let permissions = grants.intersect(scopes.expand());
                Ok(Access {
                    role: Some(role),
                    permissions,
                    limit: Limit::KeyScopes { role, grants },
                })
            }
            Self::AccessToken {
                organization_id: bound,
                role,
                permissions,
                ..
            } => {
                if *bound != organization_id {
                    return Err(Denial::OtherOrganization);
                }
                Ok(Access {
                    role: *role,
                    permissions: *permissions,
                    limit: Limit::Token,
                })
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    None,
    Role(Role),
    KeyScopes { role: Role, grants: Permissions },
    Token,
}

/// What a principal may do in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The role behind it (none for the root token).
    pub role: Option<Role>,
    /// Effective permissions, spelled out.
    pub permissions: Permissions,
    limit: Limit,
}

impl Access {
    pub fn require(&self, needed: Permission) -> Result<(), Denial> {
        self.require_all(Permissions::EMPTY.with(needed))
    }

    /// Every permission in `needed`, or a denial naming the missing ones.
    pub fn require_all(&self, needed: Permissions) -> Result<(), Denial> {
        let missing = needed.without(self.permissions);
        if missing.is_empty() {
            return Ok(());
        }
        let names = missing
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let noun = if missing.iter().count() == 1 { "" } else { "s" };
        let message = match self.limit {
            Limit::KeyScopes { grants, .. } if missing.is_subset_of(grants) => {
                format!("API key lacks the {names} scope{noun}")
            }
            Limit::Role(role) | Limit::KeyScopes { role, .. } => {
                format!("role '{role}' lacks the {names} permission{noun}")
            }
            Limit::Token => format!("access token lacks the {names} permission{noun}"),
            Limit::None => unreachable!("the root token has every permission"),
        };
        Err(Denial::Missing { missing, message })
    }

    /// Owner-only operations: the root token, or a caller acting with the owner role.
    /// An API key or access token never deletes an organization (that needs a person).
    pub fn require_owner(&self, policy: &Policy, action: OwnerAction) -> Result<(), Denial> {
        let allowed = match self.limit {
            Limit::None => true,
            Limit::Role(role) | Limit::KeyScopes { role, .. } => policy.allows(role, action),
            Limit::Token => self.role.is_some_and(|role| policy.allows(role, action)),
        };
        if allowed {
            Ok(())
        } else {
            Err(Denial::OwnerOnly(action))
        }
    }
}

/// Why an authenticated caller may not do something: always a 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    NotMember,
    OtherOrganization,
    Missing {
        missing: Permissions,
        message: String,
    },
    OwnerOnly(OwnerAction),
    /// Only a person (a session) may do this.
    PersonOnly(&'static str),
    /// Needs a session: password and session management.
    SessionOnly,
    /// Not allowed to anyone through this route (for example signup when closed).
    Refused(&'static str),
}

impl Denial {
    /// The permissions a missing-permission denial names.
    pub fn missing(&self) -> Option<Permissions> {
        match self {
            Self::Missing { missing, .. } => Some(*missing),
            _ => None,
        }
    }

    /// A stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotMember => "not_member",
            Self::OtherOrganization => "other_organization",
            Self::Missing { .. } => "missing_permission",
            Self::OwnerOnly(_) => "owner_only",
            Self::PersonOnly(_) => "person_only",
            Self::SessionOnly => "session_only",
            Self::Refused(_) => "refused",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::NotMember => "not a member of this organization".to_owned(),
            Self::OtherOrganization => "this credential belongs to another organization".to_owned(),
            Self::Missing { message, .. } => message.clone(),
            Self::OwnerOnly(OwnerAction::DeleteOrganization) => {
                "only an owner may delete the organization".to_owned()
            }
            Self::OwnerOnly(OwnerAction::GrantOwner) => {
                "only an owner may grant the owner role".to_owned()
            }
            Self::PersonOnly(what) => format!("only a person (not an API key or token) may {what}"),
            Self::SessionOnly => {
                "this operation needs a session (log in); API keys and tokens cannot use it"
                    .to_owned()
            }
            Self::Refused(why) => (*why).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn policy() -> Policy {
        Policy::builtin().await.unwrap()
    }

    fn perms(names: &[&str]) -> Permissions {
        Permissions::parse_scopes(names).unwrap()
    }

    #[tokio::test]
    async fn a_key_is_its_users_role_intersected_with_its_scopes() {
        let policy = policy().await;
        let org = Uuid::now_v7();
        let key = Principal::ApiKey {
            user_id: Uuid::nil(),
            key_id: Uuid::nil(),
            organization_id: org,
            scopes: perms(&["admin"]),
        };
        let access = key.access(&policy, org, Some(Role::Developer)).unwrap();
        assert_eq!(access.permissions, perms(&["write", "deploy", "read"]));
        let denial = access.require(Permission::Admin).unwrap_err();
        assert_eq!(
            denial.message(),
            "role 'developer' lacks the 'admin' permission"
        );
    }

    #[tokio::test]
    async fn a_scope_denial_names_the_scope() {
        let policy = policy().await;
        let org = Uuid::now_v7();
        let key = Principal::ApiKey {
            user_id: Uuid::nil(),
            key_id: Uuid::nil(),
            organization_id: org,
            scopes: perms(&["read"]),
        };
        let denial = key
            .access(&policy, org, Some(Role::Owner))
            .unwrap()
            .require(Permission::Deploy)
            .unwrap_err();
        assert_eq!(
            denial,
            Denial::Missing {
                missing: perms(&["deploy"]),
                message: "API key lacks the 'deploy' scope".into()
            }
        );
    }

    #[tokio::test]
    async fn a_key_outside_its_organization_or_without_membership_is_denied() {
        let policy = policy().await;
        let org = Uuid::now_v7();
        let key = Principal::ApiKey {
            user_id: Uuid::nil(),
            key_id: Uuid::nil(),
            organization_id: org,
            scopes: Permissions::ALL,
        };
        assert_eq!(
            key.access(&policy, Uuid::now_v7(), Some(Role::Owner)),
            Err(Denial::OtherOrganization)
        );
        assert_eq!(key.access(&policy, org, None), Err(Denial::NotMember));
    }

    #[tokio::test]
    async fn only_owners_and_root_delete_organizations() {
        let policy = policy().await;
        let org = Uuid::now_v7();
        let session = Principal::Session {
            user_id: Uuid::nil(),
            session_id: Uuid::nil(),
        };
        let admin = session.access(&policy, org, Some(Role::Admin)).unwrap();
        assert!(
            admin
                .require_owner(&policy, OwnerAction::DeleteOrganization)
                .is_err()
        );
        let owner = session.access(&policy, org, Some(Role::Owner)).unwrap();
        assert!(
            owner
                .require_owner(&policy, OwnerAction::DeleteOrganization)
                .is_ok()
        );
        let root = Principal::Root.access(&policy, org, None).unwrap();
        assert!(root.require_owner(&policy, OwnerAction::GrantOwner).is_ok());
    }
}
