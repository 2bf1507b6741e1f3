//! The authorization decision: who is asking, in which organization, for what.
//!
//! Handlers and operations never compare roles or principals themselves. They ask
//! `Principal::access` for the caller's effective permissions in an organization, then one of
//! the rules here (`Access::require`, `rules::*`) for what they are about to do. Every refusal is
//! a named `Denial`.

use crate::resource::{ResourcePath, Restriction, Standing};
use crate::{OwnerAction, Permission, Permissions, Policy, Role};
use chrono::{DateTime, Utc};
use std::fmt;
use uuid::Uuid;

/// Whose role an API key acts with: a person's, or a service account's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Holder {
    User(Uuid),
    ServiceAccount(Uuid),
}

impl Holder {
    pub fn id(self) -> Uuid {
        match self {
            Self::User(id) | Self::ServiceAccount(id) => id,
        }
    }

    pub fn user_id(self) -> Option<Uuid> {
        match self {
            Self::User(id) => Some(id),
            Self::ServiceAccount(_) => None,
        }
    }

    pub fn service_account_id(self) -> Option<Uuid> {
        match self {
            Self::ServiceAccount(id) => Some(id),
            Self::User(_) => None,
        }
    }
}

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
        holder: Holder,
        key_id: Uuid,
        organization_id: Uuid,
        scopes: Permissions,
        /// A key created by this key cannot outlive it.
        expires_at: Option<DateTime<Utc>>,
        /// The paths it is restricted to; `None`: organization-wide.
        resources: Option<Restriction>,
    },
    /// A JWT: carries what its issuer could do in one organization (or at one resource there)
    /// when it was minted.
    AccessToken {
        user_id: Option<Uuid>,
        service_account_id: Option<Uuid>,
        organization_id: Uuid,
        role: Option<Role>,
        permissions: Permissions,
        /// Minted from a session.
        person: bool,
        /// Minted for this resource: acts only at or below it.
        resource: Option<ResourcePath>,
    },
}

impl Principal {
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Self::Root => None,
            Self::Session { user_id, .. } => Some(*user_id),
            Self::ApiKey { holder, .. } => holder.user_id(),
            Self::AccessToken { user_id, .. } => *user_id,
        }
    }

    pub fn service_account_id(&self) -> Option<Uuid> {
        match self {
            Self::ApiKey { holder, .. } => holder.service_account_id(),
            Self::AccessToken {
                service_account_id, ..
            } => *service_account_id,
            Self::Root | Self::Session { .. } => None,
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

    /// The paths a key is restricted to.
    pub fn restriction(&self) -> Option<&Restriction> {
        match self {
            Self::ApiKey { resources, .. } => resources.as_ref(),
            _ => None,
        }
    }

    /// A session, or an access token minted from one.
    pub fn is_person(&self) -> bool {
        matches!(
            self,
            Self::Session { .. } | Self::AccessToken { person: true, .. }
        )
    }

    pub fn is_root(&self) -> bool {
        matches!(self, Self::Root)
    }

    pub fn auth_method(&self) -> AuthMethod {
        match self {
            Self::Root => AuthMethod::RootToken,
            Self::Session { .. } => AuthMethod::Session,
            Self::ApiKey { .. } => AuthMethod::ApiKey,
            Self::AccessToken { .. } => AuthMethod::AccessToken,
        }
    }

    /// Whose key this is, or whose token: a person or a service account (not the root token).
    pub fn holder(&self) -> Option<Holder> {
        match self {
            Self::AccessToken {
                user_id,
                service_account_id,
                ..
            } => user_id
                .map(Holder::User)
                .or(service_account_id.map(Holder::ServiceAccount)),
            _ => self.role_holder(),
        }
    }

    /// Whose standing must be read from the database to decide in an organization: a
    /// session's user, a key's holder. The root token and access tokens carry their own.
    pub fn role_holder(&self) -> Option<Holder> {
        match self {
            Self::Session { user_id, .. } => Some(Holder::User(*user_id)),
            Self::ApiKey { holder, .. } => Some(*holder),
            Self::Root | Self::AccessToken { .. } => None,
        }
    }

    /// The caller's effective permissions in `organization_id`, organization-wide or at
    /// `resource`. `standing` is the `role_holder`'s *current* role and grants there, as the
    /// database says (ignored for the root token and access tokens).
    pub fn access(
        &self,
        policy: &Policy,
        organization_id: Uuid,
        standing: Option<&Standing>,
        resource: Option<&ResourcePath>,
    ) -> Result<Access, Denial> {
        if self
            .bound_organization()
            .is_some_and(|bound| bound != organization_id)
        {
            return Err(Denial::OtherOrganization);
        }
        match self {
            Self::Root => Ok(Access {
                role: None,
                permissions: Permissions::ALL,
                limit: Limit::None,
            }),
            Self::Session { .. } => {
                let role = standing.ok_or(Denial::NotMember)?.role_at(resource);
                Ok(Access::of_role(policy, role))
            }
            Self::ApiKey {
                scopes, resources, ..
            } => {
                let role = standing.ok_or(Denial::NotMember)?.role_at(resource);
                let outside = match (resources, resource) {
                    (None, _) => None,
                    (Some(_), None) => Some(Outside::KeyOrganizationWide),
                    (Some(paths), Some(at)) if !paths.covers(at) => {
                        Some(Outside::KeyPaths(at.clone()))
                    }
                    (Some(_), Some(_)) => None,
                };
                if let Some(outside) = outside {
                    return Ok(Access::outside(Some(role), outside));
                }
                let grants = policy.grants(role);
                Ok(Access {
                    role: Some(role),
                    permissions: grants.intersect(scopes.expand()),
                    limit: Limit::KeyScopes { role, grants },
                })
            }
            Self::AccessToken {
                role,
                permissions,
                resource: minted_for,
                ..
            } => {
                let outside = match (minted_for, resource) {
                    (None, _) => None,
                    (Some(res), None) => Some(Outside::TokenOrganizationWide(res.clone())),
                    (Some(res), Some(at)) if !res.covers(at) => Some(Outside::TokenResource {
                        resource: res.clone(),
                        asked: at.clone(),
                    }),
                    (Some(_), Some(_)) => None,
                };
                if let Some(outside) = outside {
                    return Ok(Access::outside(*role, outside));
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

/// How a caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Session,
    ApiKey,
    AccessToken,
    RootToken,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::ApiKey => "api_key",
            Self::AccessToken => "access_token",
            Self::RootToken => "root_token",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Limit {
    None,
    Role(Role),
    KeyScopes {
        role: Role,
        grants: Permissions,
    },
    Token,
    /// Nothing here: the credential is limited to resources elsewhere.
    Outside(Outside),
}

/// Why a restricted key or a resource's access token has no power where it is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outside {
    KeyOrganizationWide,
    KeyPaths(ResourcePath),
    TokenOrganizationWide(ResourcePath),
    TokenResource {
        resource: ResourcePath,
        asked: ResourcePath,
    },
}

impl Outside {
    fn message(&self) -> String {
        match self {
            Self::KeyOrganizationWide => {
                "this API key is restricted to resources and has no organization-wide power"
                    .to_owned()
            }
            Self::KeyPaths(asked) => {
                format!("resource '{asked}' is outside this API key's resources")
            }
            Self::TokenOrganizationWide(resource) => format!(
                "this access token was minted for resource '{resource}' and has no organization-wide power"
            ),
            Self::TokenResource { resource, asked } => {
                format!("resource '{asked}' is outside this access token's resource '{resource}'")
            }
        }
    }
}

/// What a principal may do in one organization, or at one resource there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The role behind it (none for the root token).
    pub role: Option<Role>,
    /// Effective permissions, spelled out.
    pub permissions: Permissions,
    limit: Limit,
}

impl Access {
    fn outside(role: Option<Role>, outside: Outside) -> Self {
        Self {
            role,
            permissions: Permissions::EMPTY,
            limit: Limit::Outside(outside),
        }
    }

    /// Restricted to resources other than where it was asked.
    pub fn is_outside(&self) -> bool {
        matches!(self.limit, Limit::Outside(_))
    }

    pub fn require(&self, needed: Permission) -> Result<(), Denial> {
        self.require_all(Permissions::EMPTY.with(needed))
    }

    /// Every permission in `asked` (as asked: `admin` stands for all four), or a denial naming
    /// the asked permissions that are not held, as they were asked.
    pub fn require_all(&self, asked: Permissions) -> Result<(), Denial> {
        let missing: Permissions = asked
            .iter()
            .filter(|p| {
                !Permissions::EMPTY
                    .with(*p)
                    .expand()
                    .is_subset_of(self.permissions)
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let names = missing
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let noun = if missing.iter().count() == 1 { "" } else { "s" };
        let message = match &self.limit {
            Limit::Outside(outside) => outside.message(),
            Limit::KeyScopes { grants, .. } if missing.expand().is_subset_of(*grants) => {
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

    /// Organization endpoints (members, keys, invitations, audit, service accounts): refused to
    /// a credential restricted to resources.
    pub fn require_organization_wide(&self) -> Result<(), Denial> {
        match &self.limit {
            Limit::Outside(outside) => Err(Denial::Outside(outside.message())),
            _ => Ok(()),
        }
    }

    /// What `role` alone grants: a session's access, or a service account's role checked.
    pub fn of_role(policy: &Policy, role: Role) -> Self {
        Self {
            role: Some(role),
            permissions: policy.grants(role),
            limit: Limit::Role(role),
        }
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Owner-only operations: the root token, or a caller acting with the owner role.
    pub fn require_owner(&self, policy: &Policy, action: OwnerAction) -> Result<(), Denial> {
        let allowed = match &self.limit {
            Limit::None => true,
            Limit::Role(role) | Limit::KeyScopes { role, .. } => policy.allows(*role, action),
            Limit::Token => self.role.is_some_and(|role| policy.allows(role, action)),
            Limit::Outside(_) => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(Denial::OwnerOnly(action))
        }
    }
}

/// Why an authenticated caller may not do something: always a 403. Each variant has a stable
/// `kind` for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    NotMember,
    OtherOrganization,
    Missing {
        missing: Permissions,
        message: String,
    },
    OwnerOnly(OwnerAction),
    /// Only a person (a session, or an access token minted from one) may do this.
    PersonOnly(&'static str),
    /// Needs a session: password and session management.
    SessionOnly,
    PlatformAdminOnly,
    /// The root token is nobody's: it cannot own API keys.
    RootOwnsNoKeys,
    /// Access tokens never create, rotate or revoke keys.
    TokenManagesNoKeys,
    /// Access tokens cannot mint access tokens.
    TokenMintsNoTokens,
    /// Only a key's own user rotates it.
    NotKeyOwner,
    /// A key created by a key cannot expire after it.
    OutlivesCreatingKey,
    SignupClosed,
    /// Only the first user may sign up, and one exists.
    FirstUserExists,
    IncorrectPassword,
    /// An invitation is accepted only by the person it was sent to.
    InvitationForAnotherEmail,
    /// A cookie-authenticated write (or an anonymous one) from an origin that is not trusted.
    UntrustedOrigin,
    /// A credential restricted to resources, used organization-wide or elsewhere.
    Outside(String),
    /// A key created by a restricted key must be restricted within the creator's paths.
    BeyondCreatorResources,
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
            Self::PlatformAdminOnly => "platform_admin_only",
            Self::RootOwnsNoKeys => "root_owns_no_keys",
            Self::TokenManagesNoKeys => "token_manages_no_keys",
            Self::TokenMintsNoTokens => "token_mints_no_tokens",
            Self::NotKeyOwner => "not_key_owner",
            Self::OutlivesCreatingKey => "outlives_creating_key",
            Self::SignupClosed => "signup_closed",
            Self::FirstUserExists => "first_user_exists",
            Self::IncorrectPassword => "incorrect_password",
            Self::InvitationForAnotherEmail => "invitation_for_another_email",
            Self::UntrustedOrigin => "untrusted_origin",
            Self::Outside(_) => "outside_resources",
            Self::BeyondCreatorResources => "beyond_creator_resources",
        }
    }

    pub fn message(&self) -> String {
        let text = match self {
            Self::NotMember => "not a member of this organization",
            Self::OtherOrganization => "this credential belongs to another organization",
            Self::Missing { message, .. } | Self::Outside(message) => return message.clone(),
            Self::OwnerOnly(OwnerAction::DeleteOrganization) => {
                "only an owner may delete the organization"
            }
            Self::OwnerOnly(OwnerAction::GrantOwner) => {
                "only an owner may grant, change or remove the owner role"
            }
            Self::PersonOnly(what) => {
                return format!("only a person (not an API key or token) may {what}");
            }
            Self::SessionOnly => {
                "this operation needs a session (log in); API keys and tokens cannot use it"
            }
            Self::PlatformAdminOnly => "only a platform administrator may do this",
            Self::RootOwnsNoKeys => "the root token cannot own API keys",
            Self::TokenManagesNoKeys => "access tokens cannot create, rotate or revoke API keys",
            Self::TokenMintsNoTokens => "an access token cannot mint another access token",
            Self::NotKeyOwner => {
                "only the key's own user may rotate it; revoke it and let them create another"
            }
            Self::OutlivesCreatingKey => {
                "a key created with an API key cannot expire after the creating key"
            }
            Self::SignupClosed => "sign-up is closed",
            Self::FirstUserExists => "sign-up is closed: the first user already exists",
            Self::IncorrectPassword => "the current password is incorrect",
            Self::InvitationForAnotherEmail => "this invitation was sent to another email address",
            Self::BeyondCreatorResources => {
                "a key created by a key restricted to resources must be restricted within that key's resources"
            }
            Self::UntrustedOrigin => {
                "this request's Origin is not trusted: writes need an Origin of this host or one in PORTCULLIS_TRUSTED_ORIGINS"
            }
        };
        text.to_owned()
    }
}
