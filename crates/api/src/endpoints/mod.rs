//! The HTTP surface: one `…Api` per resource, combined into one OpenAPI service.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod health;
pub mod me;
pub mod members;
pub mod organizations;

use chrono::{DateTime, Utc};
use poem::web::RemoteAddr;
use poem_openapi::{Object, Tags};
use portcullis_domain::{Error, User};
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
    api_keys::ApiKeysApi,
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
        api_keys::ApiKeysApi,
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
    ApiKeys,
    Audit,
    /// Platform administration.
    Admin,
}

/// A user; never carries a password hash.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserBody {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub platform_admin: bool,
    pub disabled: bool,
}

impl From<&User> for UserBody {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.clone(),
            name: user.name.clone(),
            created_at: user.created_at,
            platform_admin: user.platform_admin,
            disabled: user.disabled,
        }
    }
}

/// The client's IP, for sessions and audit events.
pub(crate) fn client_ip(remote: &RemoteAddr) -> Option<String> {
    remote.as_socket_addr().map(|addr| addr.ip().to_string())
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
