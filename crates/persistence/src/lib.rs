//! Portcullis's storage: sea-orm entities and one `Store` over SQLite or PostgreSQL.
//!
//! Entities and `ActiveModel`s stay inside this crate; callers see domain records.
//! Times always come from the caller (the domain clock), never from the database's `now()`.

use chrono::{DateTime, Utc};
use portcullis_domain::{ApiKey, AuditEvent, Email, Error, Member, Membership, Organization, Role, Session, User};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// Newest-first paging: at most `limit` items strictly older than `before` (an id).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub before: Option<Uuid>,
}

/// A user to insert; `password_hash` is an argon2 PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: Email,
    pub name: Option<String>,
    pub password_hash: String,
    pub platform_admin: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

#[allow(unused_variables)]
impl Store {
    /// Connects to `sqlite://…` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, Error> { todo!() }
    pub async fn migrate(&self) -> Result<(), Error> { todo!() }
    pub async fn ping(&self) -> Result<(), Error> { todo!() }
    pub fn connection(&self) -> &DatabaseConnection { &self.db }
    pub fn is_postgres(&self) -> bool { todo!() }

    // ---- users
    pub async fn create_user(&self, user: NewUser) -> Result<User, Error> { todo!() }
    pub async fn count_users(&self) -> Result<u64, Error> { todo!() }
    pub async fn user(&self, id: Uuid) -> Result<Option<User>, Error> { todo!() }
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, Error> { todo!() }
    pub async fn user_with_password_hash(&self, email: &Email) -> Result<Option<(User, String)>, Error> { todo!() }
    pub async fn password_hash(&self, user_id: Uuid) -> Result<Option<String>, Error> { todo!() }
    pub async fn set_password_hash(&self, user_id: Uuid, hash: &str) -> Result<(), Error> { todo!() }
    pub async fn list_users(&self, page: Page) -> Result<Vec<User>, Error> { todo!() }
    pub async fn update_user(&self, id: Uuid, disabled: Option<bool>, platform_admin: Option<bool>) -> Result<Option<User>, Error> { todo!() }
    pub async fn upsert_admin(&self, email: &Email, password_hash: &str, now: DateTime<Utc>) -> Result<User, Error> { todo!() }

    // ---- sessions
    pub async fn create_session(&self, session: &Session, token_digest: &str) -> Result<(), Error> { todo!() }
    pub async fn session_by_digest(&self, token_digest: &str) -> Result<Option<Session>, Error> { todo!() }
    pub async fn refresh_session(&self, id: Uuid, updated_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<(), Error> { todo!() }
    pub async fn live_sessions(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Vec<Session>, Error> { todo!() }
    pub async fn delete_session(&self, user_id: Uuid, id: Uuid) -> Result<Option<String>, Error> { todo!() }
    pub async fn delete_sessions_of_user(&self, user_id: Uuid, except: Option<Uuid>) -> Result<Vec<String>, Error> { todo!() }

    // ---- organizations
    pub async fn create_organization(&self, organization: &Organization, owner: Uuid) -> Result<(), Error> { todo!() }
    pub async fn organization(&self, id: Uuid) -> Result<Option<Organization>, Error> { todo!() }
    pub async fn organizations_of_user(&self, user_id: Uuid) -> Result<Vec<Organization>, Error> { todo!() }
    pub async fn list_organizations(&self, page: Page) -> Result<Vec<Organization>, Error> { todo!() }
    pub async fn rename_organization(&self, id: Uuid, name: &str) -> Result<Option<Organization>, Error> { todo!() }
    pub async fn delete_organization(&self, id: Uuid) -> Result<bool, Error> { todo!() }

    // ---- members
    pub async fn role(&self, user_id: Uuid, organization_id: Uuid) -> Result<Option<Role>, Error> { todo!() }
    pub async fn memberships(&self, user_id: Uuid) -> Result<Vec<Membership>, Error> { todo!() }
    pub async fn members(&self, organization_id: Uuid) -> Result<Vec<Member>, Error> { todo!() }
    pub async fn member(&self, organization_id: Uuid, user_id: Uuid) -> Result<Option<Member>, Error> { todo!() }
    pub async fn add_member(&self, organization_id: Uuid, user_id: Uuid, role: Role, joined_at: DateTime<Utc>) -> Result<Member, Error> { todo!() }
    pub async fn change_role(&self, organization_id: Uuid, user_id: Uuid, role: Role) -> Result<Option<Member>, Error> { todo!() }
    pub async fn remove_member(&self, organization_id: Uuid, user_id: Uuid) -> Result<bool, Error> { todo!() }

    // ---- API keys
    pub async fn create_api_key(&self, key: &ApiKey, key_digest: &str) -> Result<(), Error> { todo!() }
    pub async fn api_key_by_digest(&self, key_digest: &str) -> Result<Option<ApiKey>, Error> { todo!() }
    pub async fn api_key(&self, organization_id: Uuid, key_id: Uuid) -> Result<Option<ApiKey>, Error> { todo!() }
    pub async fn api_keys(&self, organization_id: Uuid, user_id: Option<Uuid>) -> Result<Vec<ApiKey>, Error> { todo!() }
    pub async fn delete_api_key(&self, organization_id: Uuid, key_id: Uuid) -> Result<Option<String>, Error> { todo!() }
    pub async fn rotate_api_key(&self, old_id: Uuid, old_expires_at: Option<DateTime<Utc>>, new_key: &ApiKey, new_digest: &str) -> Result<Option<String>, Error> { todo!() }
    pub async fn record_key_uses(&self, uses: &[(Uuid, DateTime<Utc>)]) -> Result<(), Error> { todo!() }

    // ---- audit
    pub async fn record_audit(&self, event: &AuditEvent) -> Result<(), Error> { todo!() }
    pub async fn audit_events(&self, organization_id: Uuid, page: Page) -> Result<Vec<AuditEvent>, Error> { todo!() }

    // ---- JWT signing keys
    pub async fn signing_key_or_insert(&self, kid: &str, private_key: &str, now: DateTime<Utc>) -> Result<(String, String), Error> { todo!() }
}
