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
    MemberGrantSet,
    MemberGrantRemoved,
    OrganizationCreated,
    OrganizationUpdated,
    ServiceAccountCreated,
    ServiceAccountUpdated,
    ServiceAccountDeleted,
    ServiceAccountGrantSet,
    ServiceAccountGrantRemoved,
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
            Self::MemberGrantSet => "member.grant_set",
            Self::MemberGrantRemoved => "member.grant_removed",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
            Self::ServiceAccountCreated => "service_account.created",
            Self::ServiceAccountUpdated => "service_account.updated",
            Self::ServiceAccountDeleted => "service_account.deleted",
            Self::ServiceAccountGrantSet => "service_account.grant_set",
            Self::ServiceAccountGrantRemoved => "service_account.grant_removed",
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
