//! The HTTP surface: one `…Api` per resource, combined into one OpenAPI service.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod grants;
pub mod health;
pub mod invitations;
pub mod me;
pub mod members;
pub mod organizations;
pub mod service_accounts;

use chrono::{DateTime, Utc};
use poem_openapi::{
    Enum, Object, Tags,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type},
};
use portcullis_domain::{AuthMethod, Error, Permissions, Role, User};
use std::borrow::Cow;
use uuid::Uuid;

#[derive(poem_openapi::ApiResponse)]
pub enum NoContent {
    #[oai(status = 204)]
    NoContent,
}

pub type Apis = (
    health::HealthApi,
    auth::AuthApi,
    me::MeApi,
    organizations::OrganizationsApi,
    members::MembersApi,
    invitations::InvitationsApi,
    api_keys::ApiKeysApi,
    service_accounts::ServiceAccountsApi,
    grants::GrantsApi,
    audit::AuditApi,
    admin::AdminApi,
);

pub fn apis() -> Apis {
    (
        health::HealthApi,
        auth::AuthApi,
        me::MeApi,
        organizations::OrganizationsApi,
        members::MembersApi,
        invitations::InvitationsApi,
        api_keys::ApiKeysApi,
        service_accounts::ServiceAccountsApi,
        grants::GrantsApi,
        audit::AuditApi,
        admin::AdminApi,
    )
}

#[derive(Tags)]
pub enum Tag {
    /// Liveness, readiness and the JWKS.
    Health,
    /// Sign-up, login, sessions, passwords and access tokens.
    Auth,
    /// Who is calling, and the forward-auth check.
    Identity,
    Organizations,
    Members,
    /// Inviting people by email, and joining by an invitation's link.
    Invitations,
    ApiKeys,
    /// Non-human members for CI and integrations, their keys and grants.
    ServiceAccounts,
    Audit,
    /// Platform administration.
    Admin,
}

/// A permission, which is also an API key scope. `admin` implies the other three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Permission", rename_all = "lowercase")]
pub enum PermissionName {
    Admin,
    Write,
    Deploy,
    Read,
}

impl From<PermissionName> for portcullis_domain::Permission {
    fn from(name: PermissionName) -> Self {
        match name {
            PermissionName::Admin => Self::Admin,
            PermissionName::Write => Self::Write,
            PermissionName::Deploy => Self::Deploy,
            PermissionName::Read => Self::Read,
        }
    }
}

impl From<portcullis_domain::Permission> for PermissionName {
    fn from(permission: portcullis_domain::Permission) -> Self {
        use portcullis_domain::Permission;
        match permission {
            Permission::Admin => Self::Admin,
            Permission::Write => Self::Write,
            Permission::Deploy => Self::Deploy,
            Permission::Read => Self::Read,
        }
    }
}

/// A set of permissions, in the contract's order.
pub(crate) fn permission_names(set: Permissions) -> Vec<PermissionName> {
    set.iter().map(Into::into).collect()
}

/// The permissions of a request body; duplicates collapse.
pub(crate) fn permission_set(names: &[PermissionName]) -> Permissions {
    names.iter().map(|&name| name.into()).collect()
}

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "Role", rename_all = "lowercase")]
pub enum RoleName {
    Owner,
    Admin,
    Developer,
    Viewer,
    Guest,
}

impl From<RoleName> for Role {
    fn from(name: RoleName) -> Self {
        match name {
            RoleName::Owner => Self::Owner,
            RoleName::Admin => Self::Admin,
            RoleName::Developer => Self::Developer,
            RoleName::Viewer => Self::Viewer,
            RoleName::Guest => Self::Guest,
        }
    }
}

impl From<Role> for RoleName {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => Self::Owner,
            Role::Admin => Self::Admin,
            Role::Developer => Self::Developer,
            Role::Viewer => Self::Viewer,
            Role::Guest => Self::Guest,
        }
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "AuthMethod", rename_all = "snake_case")]
pub enum AuthMethodName {
    Session,
    ApiKey,
    AccessToken,
    RootToken,
}

impl From<AuthMethod> for AuthMethodName {
    fn from(method: AuthMethod) -> Self {
        match method {
            AuthMethod::Session => Self::Session,
            AuthMethod::ApiKey => Self::ApiKey,
            AuthMethod::AccessToken => Self::AccessToken,
            AuthMethod::RootToken => Self::RootToken,
        }
    }
}

/// A user; never carries a password hash.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserBody {
    pub id: Uuid,
    pub email: String,
    pub name: Nullable<String>,
    pub created_at: DateTime<Utc>,
    pub platform_admin: bool,
    pub disabled: bool,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.to_string(),
            name: user.name.as_ref().map(ToString::to_string).into(),
            created_at: user.created_at,
            platform_admin: user.platform_admin,
            disabled: user.disabled,
        }
    }
}

/// A response field that is always present and `null` where it does not apply (`"user": null`,
/// `"expires_at": null`). poem-openapi documents a bare `Option<T>` as an optional property that
/// is never null, which is not what the bodies carry; this documents it as required and nullable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nullable<T>(pub Option<T>);

impl<T> From<Option<T>> for Nullable<T> {
    fn from(value: Option<T>) -> Self {
        Self(value)
    }
}

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;

    type RawValueType = T::RawValueType;

    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => MetaSchemaRef::Inline(Box::new(MetaSchema {
                nullable: true,
                ..*schema
            })),
            reference @ MetaSchemaRef::Reference(_) => {
                MetaSchemaRef::Inline(Box::new(MetaSchema {
                    all_of: vec![reference],
                    nullable: true,
                    ..MetaSchema::ANY
                }))
            }
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(Type::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }

    fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            serde_json::Value::Null => Ok(Self(None)),
            value => T::parse_from_json(Some(value))
                .map(|v| Self(Some(v)))
                .map_err(ParseError::propagate),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(
            self.0
                .as_ref()
                .and_then(ToJSON::to_json)
                .unwrap_or(serde_json::Value::Null),
        )
    }
}

/// `limit` (default 50, 1 to 200) for paged lists.
pub(crate) fn page(
    limit: Option<u64>,
    before: Option<Uuid>,
) -> Result<portcullis_persistence::Page, Error> {
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::BadRequest("limit must be between 1 and 200".into()));
    }
    Ok(portcullis_persistence::Page { limit, before })
}
