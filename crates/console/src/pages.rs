//! One askama template per page; every value is escaped by the template engine.

use askama::Template;
use chrono::{DateTime, Utc};
use portcullis_domain::{
    ApiKey, AuditEvent, Grant, Invitation, Member, Organization, OrganizationDeletion, RoleAt,
    ServiceAccount, Session, User,
};
use serde::Deserialize;
use uuid::Uuid;

/// The signed-in person, as the header shows them.
pub struct Me {
    pub email: String,
    /// Whether the header links the platform-admin pages (the domain's rule says so; the
    /// pages themselves still ask the operations).
    pub platform_admin: bool,
}

/// A message beside the form or action that caused it: `at` names the form.
pub struct PageError {
    pub at: &'static str,
    pub message: String,
}

impl PageError {
    pub fn new(at: &'static str, message: String) -> Option<Self> {
        Some(Self { at, message })
    }
}

/// The message for the form `at`, if the error belongs there.
fn error_at<'a>(error: &'a Option<PageError>, at: &str) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|e| e.at == at)
        .map(|e| e.message.as_str())
}

#[derive(Template, Default)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub email: String,
    pub error: Option<String>,
    /// Signing up without an invitation is open: link to it.
    pub signup: bool,
}

#[derive(Template, Default)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub email: String,
    pub name: String,
    pub error: Option<String>,
    /// The server's mode lets someone sign up now; otherwise the page says it is closed.
    pub open: bool,
    /// `first-user`: this account becomes the platform administrator.
    pub first_user: bool,
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
    pub me: Me,
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
    /// The paths a restricted key acts at; "everywhere" for an organization-wide key.
    pub resources: String,
    pub owner: String,
    /// A service account's key: its revoke and rotate pages lead back to the account.
    pub account: Option<Uuid>,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub status: &'static str,
    /// It still authorizes: it may be revoked.
    pub active: bool,
    /// Not replaced yet: it may be rotated (once).
    pub rotatable: bool,
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
            scopes: key.scopes.to_csv().replace(',', ", "),
            resources: match &key.resources {
                None => "everywhere".to_owned(),
                Some(paths) => paths.names().join(", "),
            },
            account: match key.holder {
                portcullis_domain::Holder::ServiceAccount(id) => Some(id),
                portcullis_domain::Holder::User(_) => None,
            },
            owner,
            created: day(key.created_at),
            last_used: key.last_used_at.map_or_else(|| "never".to_owned(), day),
            expires: key.expires_at.map_or_else(|| "never".to_owned(), day),
            status,
            active: status == "active" || status == "rotating",
            rotatable: status == "active",
        }
    }
}

pub fn day(at: DateTime<Utc>) -> String {
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

/// The invitation form, as posted (and refilled when it is refused).
#[derive(Deserialize)]
pub struct NewInvitationForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
    /// `resource=role` pairs separated by spaces, commas or lines.
    #[serde(default)]
    pub grants: String,
}

impl Default for NewInvitationForm {
    fn default() -> Self {
        Self {
            email: String::new(),
            role: "developer".to_owned(),
            grants: String::new(),
        }
    }
}

pub struct InvitationRow {
    pub id: Uuid,
    pub email: String,
    pub role: &'static str,
    pub grants: String,
    pub invited_by: String,
    pub expires: String,
}

impl InvitationRow {
    pub fn new(invitation: Invitation, invited_by: String) -> Self {
        Self {
            id: invitation.id,
            email: invitation.email.to_string(),
            role: invitation.role.as_str(),
            grants: RoleAt::to_csv(&invitation.grants).replace(',', ", "),
            invited_by,
            expires: day(invitation.expires_at),
        }
    }
}

/// The organization page and the pages below it: which part of the navigation is current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    ServiceAccount,
    Audit,
}

#[derive(Template)]
#[template(path = "organization.html")]
pub struct OrganizationPage {
    pub me: Me,
    pub organization: Organization,
    /// Every organization of the person, for switching.
    pub organizations: Vec<Organization>,
    pub section: Section,
    pub members: Vec<MemberRow>,
    pub keys: Vec<KeyRow>,
    pub form: NewKeyForm,
    pub error: Option<PageError>,
    pub roles: [&'static str; 5],
    pub accounts: Vec<AccountRow>,
    pub account_roles: [&'static str; 4],
    pub grant_roles: [&'static str; 3],
    /// The pending invitations, when the person may manage them (the operation decides).
    pub invitations: Option<Vec<InvitationRow>>,
    pub invitation_form: NewInvitationForm,
}

impl OrganizationPage {
    pub fn error_at(&self, at: &str) -> Option<&str> {
        error_at(&self.error, at)
    }

    pub fn key_form_action(&self) -> String {
        format!("/console/organizations/{}/api-keys", self.organization.id)
    }
}

#[derive(Template)]
#[template(path = "service_account.html")]
pub struct ServiceAccountPage {
    pub me: Me,
    pub organization: Organization,
    pub organizations: Vec<Organization>,
    pub section: Section,
    pub account: AccountRow,
    pub keys: Vec<KeyRow>,
    pub form: NewKeyForm,
    pub error: Option<PageError>,
}

impl ServiceAccountPage {
    pub fn error_at(&self, at: &str) -> Option<&str> {
        error_at(&self.error, at)
    }

    pub fn key_form_action(&self) -> String {
        format!(
            "/console/organizations/{}/service-accounts/{}/api-keys",
            self.organization.id, self.account.id
        )
    }
}

pub struct EventRow {
    pub at: String,
    pub action: String,
    pub actor: String,
    pub target: String,
    pub ip: String,
}

impl EventRow {
    pub fn new(event: AuditEvent, actor: String) -> Self {
        Self {
            at: day(event.at),
            action: event.action,
            actor,
            target: event.target,
            ip: event.ip.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub me: Me,
    pub organization: Organization,
    pub organizations: Vec<Organization>,
    pub section: Section,
    pub events: Vec<EventRow>,
    /// The next page's address, when there are older events.
    pub older: Option<String>,
    /// This is not the newest page: link back to it.
    pub paged: bool,
}

#[derive(Template)]
#[template(path = "key_created.html")]
pub struct KeyCreatedPage {
    pub me: Me,
    pub heading: String,
    pub secret: String,
    pub scopes: String,
    /// What else to know (the old key's grace period after a rotation).
    pub note: Option<String>,
    /// Where "back" leads.
    pub back: String,
}

#[derive(Template)]
#[template(path = "confirm_revoke.html")]
pub struct ConfirmRevokePage {
    pub me: Me,
    pub organization_id: Uuid,
    pub key_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub account: Option<Uuid>,
}

/// The grace periods offered when rotating: (seconds, label).
pub const GRACE_PERIODS: [(&str, &str); 4] = [
    ("0", "none: the old key stops at once"),
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
];

#[derive(Template)]
#[template(path = "rotate.html")]
pub struct RotatePage {
    pub me: Me,
    pub organization_id: Uuid,
    pub key_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub account: Option<Uuid>,
    pub grace: String,
    pub grace_periods: [(&'static str, &'static str); 4],
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation_created.html")]
pub struct InvitationCreatedPage {
    pub me: Me,
    pub organization_id: Uuid,
    pub email: String,
    pub role: &'static str,
    pub link: String,
    pub expires: String,
    /// A resend: the old link stopped working.
    pub resent: bool,
}

pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created: String,
    pub platform_admin: bool,
    pub disabled: bool,
}

impl From<User> for UserRow {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email.to_string(),
            name: user.name.map(|n| n.to_string()).unwrap_or_default(),
            created: day(user.created_at),
            platform_admin: user.platform_admin,
            disabled: user.disabled,
        }
    }
}

/// The create-user form, refilled when refused (never the password).
#[derive(Default)]
pub struct NewUserForm {
    pub email: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub me: Me,
    pub users: Vec<UserRow>,
    pub older: Option<String>,
    pub paged: bool,
    pub form: NewUserForm,
    pub error: Option<PageError>,
}

impl UsersPage {
    pub fn error_at(&self, at: &str) -> Option<&str> {
        error_at(&self.error, at)
    }
}

#[derive(Template)]
#[template(path = "admin_organizations.html")]
pub struct AdminOrganizationsPage {
    pub me: Me,
    pub organizations: Vec<Organization>,
    pub older: Option<String>,
    pub paged: bool,
    /// The most recent deletions, on the first page only.
    pub deleted: Vec<OrganizationDeletion>,
}

#[derive(Template)]
#[template(path = "reset_link.html")]
pub struct ResetLinkPage {
    pub me: Me,
    pub email: String,
    pub link: String,
    pub expires: String,
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
    pub me: Me,
    /// The name given at sign-up, if any.
    pub name: String,
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
