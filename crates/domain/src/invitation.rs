//! Invitations to join an organization, and password-reset links: records reached by a
//! single-use `LinkToken`.

use crate::{Email, Organization, Role};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// An invitation's link works this long after it was created or resent.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
/// A password-reset link works this long.
pub const PASSWORD_RESET_LIFETIME: Duration = Duration::hours(1);

/// A pending invitation. Accepting, revoking or replacing it deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: Email,
    pub role: Role,
    /// Given on joining, on top of `role`.
    pub grants: Vec<crate::RoleAt>,
    /// The inviting user; none when the root token invited.
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Invitation {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }
}

/// What the invitee sees before accepting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationDetails {
    pub invitation: Invitation,
    pub organization: Organization,
    pub invited_by_email: Option<Email>,
}

/// A pending password reset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
