//! Portcullis's vocabulary: the values, records and rules that every other crate shares.
//! Nothing here performs I/O, speaks HTTP or knows SQL.

pub mod api_key;
pub mod audit;
pub mod authorization;
pub mod clock;
pub mod email;
pub mod error;
pub mod invitation;
pub mod name;
pub mod organization;
pub mod permission;
pub mod policy;
pub mod resource;
pub mod rules;
pub mod secret;
pub mod service_account;
pub mod session;
pub mod user;

pub use api_key::{ApiKey, ApiKeySecret, KeyFormatError, KeyPrefix};
pub use audit::{AuditAction, AuditEvent};
pub use authorization::{Access, AuthMethod, Denial, Holder, Principal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::Email;
pub use error::{Error, Unauthenticated};
pub use invitation::{Invitation, InvitationDetails, PasswordReset};
pub use name::Name;
pub use organization::{Member, Membership, OrgSlug, Organization, OrganizationDeletion};
pub use permission::{Permission, Permissions, Role};
pub use policy::{OwnerAction, Policy};
pub use resource::{Grant, ResourcePath, Restriction, RoleAt, Standing};
pub use rules::{KeyAction, KeyRequest, KeyTarget, RequestOrigin, SignupPolicy};
pub use secret::LinkToken;
pub use service_account::ServiceAccount;
pub use session::{Session, SessionToken};
pub use user::{Password, User};

/// Every id is a UUID v7, so ids sort by creation time.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
