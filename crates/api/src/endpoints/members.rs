use super::{NoContent, Nullable, Tag, audit};
use crate::body::JsonBody;
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::{Data, RemoteAddr};
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{AuditAction, Email, Error, Member, OwnerAction, Permission, Role};
use uuid::Uuid;

pub struct MembersApi;

#[derive(Debug, Object)]
#[oai(rename = "Member")]
pub struct MemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: Nullable<String>,
    /// `owner`, `admin`, `developer` or `viewer`.
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            name: m.name.into(),
            role: m.role.as_str().into(),
            joined_at: m.joined_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct AddMember {
    /// An existing user's email.
    pub email: String,
    /// `owner` (only an owner grants it), `admin`, `developer` or `viewer`.
    pub role: String,
}

#[derive(Debug, Object)]
pub struct ChangeRole {
    pub role: String,
}

#[derive(ApiResponse)]
pub enum AddedMember {
    #[oai(status = 201)]
    Created(Json<MemberBody>),
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::Members")]
impl MembersApi {
    /// The organization's members (needs `read`).
    #[oai(
        path = "/:org_id/members",
        method = "get",
        operation_id = "list_members"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<MemberBody>>> {
        state.require(&caller, org_id.0, Permission::Read).await?;
        let members = state.store.members(org_id.0).await?;
        Ok(Json(members.into_iter().map(Into::into).collect()))
    }

    /// Add an existing user (needs `admin`; granting `owner` needs an owner).
    #[oai(
        path = "/:org_id/members",
        method = "post",
        operation_id = "add_member"
    )]
    async fn add(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        body: JsonBody<AddMember>,
    ) -> ApiResult<AddedMember> {
        let org = org_id.0;
        let access = state.require(&caller, org, Permission::Admin).await?;
        let role: Role = body.0.role.parse()?;
        let email = Email::parse(&body.0.email)?;
        if role == Role::Owner {
            access.require_owner(&state.policy, OwnerAction::GrantOwner)?;
        }
        let user = state
            .store
            .user_by_email(&email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        let member = state
            .store
            .add_member(org, user.id, role, state.clock.now())
            .await?;
        state
            .invalidate(Invalidation::Role {
                user_id: user.id,
                organization_id: org,
            })
            .await;
        audit::record(
            &state,
            &caller,
            remote,
            org,
            AuditAction::MemberAdded,
            "user",
            user.id,
        )
        .await?;
        Ok(AddedMember::Created(Json(member.into())))
    }

    /// Change a member's role (needs `admin`; making or unmaking an owner needs an owner).
    /// The last owner cannot be demoted.
    #[oai(
        path = "/:org_id/members/:user_id",
        method = "patch",
        operation_id = "change_member_role"
    )]
    async fn change_role(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
        body: JsonBody<ChangeRole>,
    ) -> ApiResult<Json<MemberBody>> {
        let (org, user) = (org_id.0, user_id.0);
        let access = state.require(&caller, org, Permission::Admin).await?;
        let role: Role = body.0.role.parse()?;
        let current = state
            .store
            .member(org, user)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if role == Role::Owner || current.role == Role::Owner {
            access.require_owner(&state.policy, OwnerAction::GrantOwner)?;
        }
        let member = state
            .store
            .change_role(org, user, role)
            .await?
            .ok_or(Error::NotFound("member"))?;
        state
            .invalidate(Invalidation::Role {
                user_id: user,
                organization_id: org,
            })
            .await;
        audit::record(
            &state,
            &caller,
            remote,
            org,
            AuditAction::MemberRoleChanged,
            "user",
            user,
        )
        .await?;
        Ok(Json(member.into()))
    }

    /// Remove a member (needs `admin`, or be that member). The last owner cannot leave.
    #[oai(
        path = "/:org_id/members/:user_id",
        method = "delete",
        operation_id = "remove_member"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (org, user) = (org_id.0, user_id.0);
        let leaving = caller.principal.user_id() == Some(user);
        let access = if leaving {
            state.access(&caller, org).await?
        } else {
            state.require(&caller, org, Permission::Admin).await?
        };
        let current = state
            .store
            .member(org, user)
            .await?
            .ok_or(Error::NotFound("member"))?;
        if !leaving && current.role == Role::Owner {
            access.require_owner(&state.policy, OwnerAction::GrantOwner)?;
        }
        if !state.store.remove_member(org, user).await? {
            return Err(Error::NotFound("member").into());
        }
        state
            .invalidate(Invalidation::Role {
                user_id: user,
                organization_id: org,
            })
            .await;
        audit::record(
            &state,
            &caller,
            remote,
            org,
            AuditAction::MemberRemoved,
            "user",
            user,
        )
        .await?;
        Ok(NoContent::NoContent)
    }
}
