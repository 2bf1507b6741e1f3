//! One askama template per page; every value is escaped by the template engine.

use askama::Template;
use chrono::{DateTime, Utc};
use portcullis_domain::{ApiKey, Grant, Member, Organization, ServiceAccount, Session};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template, Default)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub email: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "organizations.html")]
pub struct OrganizationsPage {
    pub email: String,
    pub organizations: Vec<Organization>,
    pub name: String,
    pub slug: String,
    pub error: Option<String>,
}

pub struct MemberRow {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub joined: String,
    pub grants: Vec<GrantRow>,
}

/// A role on a resource, as shown under its member or service account.
pub struct GrantRow {
    pub resource: String,
    pub role: &'static str,
    /// Whose: `user:<id>` or `service_account:<id>`, as the removal form sends it.
    pub holder: String,
}

impl GrantRow {
    fn rows(grants: Vec<Grant>, holder: &str) -> Vec<Self> {
        grants
            .into_iter()
            .map(|grant| Self {
                resource: grant.resource.to_string(),
                role: grant.role.as_str(),
                holder: holder.to_owned(),
            })
            .collect()
    }
}

pub struct AccountRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub role: &'static str,
    pub grants: Vec<GrantRow>,
}

impl AccountRow {
    pub fn new(account: ServiceAccount, grants: Vec<Grant>) -> Self {
        Self {
            id: account.id,
            name: account.name.to_string(),
            description: account.description.unwrap_or_default(),
            role: account.role.as_str(),
            grants: GrantRow::rows(grants, &format!("service_account:{}", account.id)),
        }
    }
}

impl From<Member> for MemberRow {
    fn from(member: Member) -> Self {
        Self {
            user_id: member.user_id,
            email: member.email.to_string(),
            name: member.name.map(|n| n.to_string()).unwrap_or_default(),
            role: member.role.as_str(),
            grants: GrantRow::rows(member.grants, &format!("user:{}", member.user_id)),
            joined: day(member.joined_at),
        }
    }
}

pub struct KeyRow {
    pub id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub scopes: String,
    pub owner: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub status: &'static str,
    pub active: bool,
}

impl KeyRow {
    pub fn new(key: ApiKey, owner: String, now: DateTime<Utc>) -> Self {
        let status = if key.replaced_by_id.is_some() && key.is_expired(now) {
            "replaced"
        } else if key.is_expired(now) {
            "expired"
        } else if key.replaced_by_id.is_some() {
            "rotating"
        } else {
            "active"
        };
        Self {
            id: key.id,
            name: key.name.to_string(),
            key_prefix: key.key_prefix,
            scopes: match &key.resources {
                None => key.scopes.to_csv().replace(',', ", "),
                Some(paths) => format!(
                    "{} (only at {})",
                    key.scopes.to_csv().replace(',', ", "),
                    paths.names().join(", ")
                ),
            },
            owner,
            created: day(key.created_at),
            last_used: key.last_used_at.map_or_else(|| "never".to_owned(), day),
            expires: key.expires_at.map_or_else(|| "never".to_owned(), day),
            status,
            active: status == "active" || status == "rotating",
        }
    }
}

fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The create-key form, as posted (and refilled when it is refused).
#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    pub name: String,
    pub scope_admin: Option<String>,
    pub scope_write: Option<String>,
    pub scope_deploy: Option<String>,
    pub scope_read: Option<String>,
    #[serde(default)]
    pub expires: String,
    #[serde(default)]
    pub expires_on: String,
    /// Resource paths the key is restricted to, separated by spaces, commas or lines; empty:
    /// organization-wide.
    #[serde(default)]
    pub resources: String,
}

impl Default for NewKeyForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            scope_admin: None,
            scope_write: None,
            scope_deploy: None,
            scope_read: Some("on".to_owned()),
            expires: "90".to_owned(),
            expires_on: String::new(),
            resources: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "organization.html")]
pub struct OrganizationPage {
    pub email: String,
    pub organization: Organization,
    pub members: Vec<MemberRow>,
    pub keys: Vec<KeyRow>,
    pub form: NewKeyForm,
    pub error: Option<String>,
    pub roles: [&'static str; 5],
    pub accounts: Vec<AccountRow>,
    pub account_roles: [&'static str; 4],
    pub grant_roles: [&'static str; 3],
}

#[derive(Template)]
#[template(path = "key_created.html")]
pub struct KeyCreatedPage {
    pub email: String,
    pub organization_id: Uuid,
    pub name: String,
    pub secret: String,
    pub scopes: String,
}

#[derive(Template)]
#[template(path = "confirm_revoke.html")]
pub struct ConfirmRevokePage {
    pub email: String,
    pub organization_id: Uuid,
    pub key_id: Uuid,
    pub name: String,
    pub key_prefix: String,
}

pub struct SessionRow {
    pub id: Uuid,
    pub created: String,
    pub expires: String,
    pub user_agent: String,
    pub ip: String,
    pub current: bool,
}

impl SessionRow {
    pub fn new(session: Session, current: Uuid) -> Self {
        Self {
            id: session.id,
            created: day(session.created_at),
            expires: day(session.expires_at),
            user_agent: session.user_agent.unwrap_or_default(),
            ip: session.ip.unwrap_or_default(),
            current: session.id == current,
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub email: String,
    pub sessions: Vec<SessionRow>,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

/// The roles offered in forms.
pub const ROLES: [&str; 5] = ["owner", "admin", "developer", "viewer", "guest"];
/// A service account is never an owner.
pub const ACCOUNT_ROLES: [&str; 4] = ["admin", "developer", "viewer", "guest"];
/// A grant gives admin, developer or viewer.
pub const GRANT_ROLES: [&str; 3] = ["admin", "developer", "viewer"];

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    /// The signed-in person's email, if any.
    pub email: String,
    pub signed_in: bool,
    pub token: String,
    pub organization: String,
    pub role: &'static str,
    pub invited_email: String,
    pub invited_by: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "password_reset.html")]
pub struct PasswordResetPage {
    pub token: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "reset_request.html")]
pub struct ResetRequestPage {
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: &'static str,
    pub message: &'static str,
}
