use super::grants::ResourceRole;
use super::{NoContent, Nullable, RoleName, Tag};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::invitations::{self, IssuedInvitation};
use crate::security::SessionCaller;
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Email, Invitation, InvitationDetails};
use uuid::Uuid;

pub struct InvitationsApi;

statuses! {
    CreateStatuses: 400, 401, 403, 404, 409, 415, 422, 429, 500, 503;
    ManageStatuses: 400, 401, 403, 404, 429, 500, 503;
    LookupStatuses: 400, 403, 404, 415, 422, 429, 500, 503;
    AcceptStatuses: 400, 401, 403, 404, 409, 415, 422, 429, 500, 503;
}

#[derive(Debug, Object)]
pub struct CreateInvitation {
    /// The invitee's email; they need not have an account yet.
    pub email: String,
    /// The role given on joining; only an owner invites an `owner`.
    pub role: RoleName,
    /// Grants given on joining, on top of `role`.
    pub grants: Option<Vec<ResourceRole>>,
}

/// A created or resent invitation; `invite_url` appears only here.
#[derive(Debug, Object)]
#[oai(rename = "Invitation")]
pub struct InvitationBody {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: RoleName,
    /// Given on joining, on top of `role`.
    pub grants: Vec<ResourceRole>,
    /// The inviting user (null for the root token).
    pub invited_by: Nullable<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `<public URL>/console/invitations/accept?token=<token>`: pass it on if no email goes out.
    pub invite_url: String,
}

impl From<IssuedInvitation> for InvitationBody {
    fn from(issued: IssuedInvitation) -> Self {
        let i = issued.invitation;
        Self {
            id: i.id,
            organization_id: i.organization_id,
            email: i.email.to_string(),
            role: i.role.into(),
            grants: i.grants.into_iter().map(Into::into).collect(),
            invited_by: i.invited_by.into(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            invite_url: issued.invite_url,
        }
    }
}

/// A pending invitation, as listed (never with its link).
#[derive(Debug, Object)]
pub struct PendingInvitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: RoleName,
    pub grants: Vec<ResourceRole>,
    pub invited_by: Nullable<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<Invitation> for PendingInvitation {
    fn from(i: Invitation) -> Self {
        Self {
            id: i.id,
            organization_id: i.organization_id,
            email: i.email.to_string(),
            role: i.role.into(),
            grants: i.grants.into_iter().map(Into::into).collect(),
            invited_by: i.invited_by.into(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct InvitationToken {
    /// The `token` of the invitation's link.
    pub token: String,
}

#[derive(Debug, Object)]
pub struct InvitingOrganization {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Object)]
pub struct InvitationLookup {
    pub organization: InvitingOrganization,
    pub email: String,
    pub role: RoleName,
    pub invited_by_email: Nullable<String>,
    pub expires_at: DateTime<Utc>,
}

impl From<InvitationDetails> for InvitationLookup {
    fn from(d: InvitationDetails) -> Self {
        Self {
            organization: InvitingOrganization {
                id: d.organization.id,
                name: d.organization.name.into_inner(),
                slug: d.organization.slug.to_string(),
            },
            email: d.invitation.email.to_string(),
            role: d.invitation.role.into(),
            invited_by_email: d.invited_by_email.map(|e| e.to_string()).into(),
            expires_at: d.invitation.expires_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct AcceptedInvitation {
    pub organization_id: Uuid,
    pub role: RoleName,
}

#[derive(ApiResponse)]
pub enum CreatedInvitation {
    #[oai(status = 201)]
    Created(Json<InvitationBody>),
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Invitations")]
impl InvitationsApi {
    /// Invite someone by email (needs `admin`; inviting an `owner` needs an owner). A pending
    /// invitation for the same email is replaced; with SMTP configured the link is emailed.
    #[oai(
        path = "/organizations/:org_id/invitations",
        method = "post",
        operation_id = "create_invitation"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        request: &Request,
        org_id: Path<Uuid>,
        body: JsonBody<CreateInvitation>,
    ) -> Answer<CreatedInvitation, CreateStatuses> {
        let email = Email::parse(&body.0.email)?;
        let role = body.0.role.into();
        let base = state.link_base(request.headers());
        let grants = body
            .0
            .grants
            .iter()
            .flatten()
            .map(ResourceRole::parse)
            .collect::<Result<_, _>>()?;
        let issued =
            invitations::create(&state, &caller, org_id.0, email, role, grants, &base).await?;
        Ok(CreatedInvitation::Created(Json(issued.into())))
    }

    /// The pending invitations, newest first (needs `admin`).
    #[oai(
        path = "/organizations/:org_id/invitations",
        method = "get",
        operation_id = "list_invitations"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> Answer<Json<Vec<PendingInvitation>>, ManageStatuses> {
        let pending = invitations::list(&state, &caller, org_id.0).await?;
        Ok(Json(pending.into_iter().map(Into::into).collect()))
    }

    /// Revoke an invitation; its link stops working (needs `admin`).
    #[oai(
        path = "/organizations/:org_id/invitations/:invitation_id",
        method = "delete",
        operation_id = "revoke_invitation"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        invitation_id: Path<Uuid>,
    ) -> Answer<NoContent, ManageStatuses> {
        invitations::revoke(&state, &caller, org_id.0, invitation_id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// A new link and expiry for an invitation; the old link stops working (needs `admin`).
    #[oai(
        path = "/organizations/:org_id/invitations/:invitation_id/resend",
        method = "post",
        operation_id = "resend_invitation"
    )]
    async fn resend(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        request: &Request,
        org_id: Path<Uuid>,
        invitation_id: Path<Uuid>,
    ) -> Answer<Json<InvitationBody>, ManageStatuses> {
        let base = state.link_base(request.headers());
        let issued = invitations::resend(&state, &caller, org_id.0, invitation_id.0, &base).await?;
        Ok(Json(issued.into()))
    }

    /// What an invitation's link offers, without logging in. Unknown, used, revoked or
    /// expired: 404.
    #[oai(
        path = "/invitations/lookup",
        method = "post",
        operation_id = "lookup_invitation"
    )]
    async fn lookup(
        &self,
        state: Data<&AppState>,
        request: &Request,
        body: JsonBody<InvitationToken>,
    ) -> Answer<Json<InvitationLookup>, LookupStatuses> {
        let client = state.anonymous(request);
        let details = invitations::look_up(&state, client, &body.0.token).await?;
        Ok(Json(details.into()))
    }

    /// Join the organization (a session whose email is the invitation's). Unknown, used,
    /// revoked or expired: 404; already a member: 409.
    #[oai(
        path = "/invitations/accept",
        method = "post",
        operation_id = "accept_invitation"
    )]
    async fn accept(
        &self,
        state: Data<&AppState>,
        caller: SessionCaller,
        body: JsonBody<InvitationToken>,
    ) -> Answer<Json<AcceptedInvitation>, AcceptStatuses> {
        let accepted =
            invitations::accept(&state, &caller.caller, &caller.user, &body.0.token).await?;
        Ok(Json(AcceptedInvitation {
            organization_id: accepted.organization_id,
            role: accepted.role.into(),
        }))
    }
}
