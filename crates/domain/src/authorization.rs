//! The authorization decision: who is asking, in which organization, for what.
//!
//! Handlers and operations never compare roles or principals themselves. They ask
//! `Principal::access` for the caller's effective permissions in an organization, then one of
//! the rules here (`Access::require`, `rules::*`) for what they are about to do. Every refusal is
//! a named `Denial`.

use crate::{OwnerAction, Permission, Permissions, Policy, Role};
use chrono::{DateTime, Utc};
use std::fmt;
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
        /// A key created by this key cannot outlive it.
        expires_at: Option<DateTime<Utc>>,
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

    pub fn auth_method(&self) -> AuthMethod {
        match self {
            Self::Root => AuthMethod::RootToken,
            Self::Session { .. } => AuthMethod::Session,
            Self::ApiKey { .. } => AuthMethod::ApiKey,
            Self::AccessToken { .. } => AuthMethod::AccessToken,
        }
    }

    /// Whose role must be read from the database to decide in an organization: a session's
    /// or a key's user. The root token and access tokens carry their own.
    pub fn role_holder(&self) -> Option<Uuid> {
        match self {
            Self::Session { user_id, .. } | Self::ApiKey { user_id, .. } => Some(*user_id),
            Self::Root | Self::AccessToken { .. } => None,
        }
    }

    /// The caller's effective permissions in `organization_id`. `role` is the `role_holder`'s
    /// *current* role there, as the database says (ignored for the root token and access
    /// tokens).
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
                Ok(Access {
                    role: Some(role),
                    permissions: grants.intersect(scopes.expand()),
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
        let message = match self.limit {
            Limit::KeyScopes { grants, .. } if missing.expand().is_subset_of(grants) => {
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

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Owner-only operations: the root token, or a caller acting with the owner role.
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
        }
    }

    pub fn message(&self) -> String {
        let text = match self {
            Self::NotMember => "not a member of this organization",
            Self::OtherOrganization => "this credential belongs to another organization",
            Self::Missing { message, .. } => return message.clone(),
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
            Self::UntrustedOrigin => {
                "this request's Origin is not trusted: writes need an Origin of this host or one in PORTCULLIS_TRUSTED_ORIGINS"
            }
        };
        text.to_owned()
    }
}
