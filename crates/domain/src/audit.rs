use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ApiKeyCreated,
    ApiKeyRevoked,
    ApiKeyRotated,
    InvitationCreated,
    InvitationRevoked,
    InvitationAccepted,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    OrganizationCreated,
    OrganizationUpdated,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::ApiKeyRotated => "api_key.rotated",
            Self::InvitationCreated => "invitation.created",
            Self::InvitationRevoked => "invitation.revoked",
            Self::InvitationAccepted => "invitation.accepted",
            Self::MemberAdded => "member.added",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberRemoved => "member.removed",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub action: String,
    /// What was acted on, as `kind:id` (for example `api_key:0190…`).
    pub target: String,
    pub ip: Option<String>,
}
