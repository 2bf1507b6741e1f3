use super::grants::GrantBody;
use super::{NoContent, Nullable, RoleName, Tag};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::members;
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Email, Member};
use uuid::Uuid;

pub struct MembersApi;

statuses! {
    ListStatuses: 400, 401, 403, 404, 429, 500, 503;
    AddStatuses: 400, 401, 403, 404, 409, 415, 422, 429, 500, 503;
    RemoveStatuses: 400, 401, 403, 404, 409, 429, 500, 503;
}

#[derive(Debug, Object)]
#[oai(rename = "Member")]
pub struct MemberBody {
    pub user_id: Uuid,
    pub email: String,
    pub name: Nullable<String>,
    pub role: RoleName,
    pub joined_at: DateTime<Utc>,
    /// Roles on resources, on top of `role`.
    pub grants: Vec<GrantBody>,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email.to_string(),
            name: m.name.map(|name| name.into_inner()).into(),
            role: m.role.into(),
            joined_at: m.joined_at,
            grants: m.grants.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct AddMember {
    /// An existing user's email.
    pub email: String,
    /// Only an owner grants `owner`.
    pub role: RoleName,
}

#[derive(Debug, Object)]
pub struct ChangeRole {
    /// Only an owner grants or takes away `owner`.
    pub role: RoleName,
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
    ) -> Answer<Json<Vec<MemberBody>>, ListStatuses> {
        let members = members::list(&state, &caller, org_id.0).await?;
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
        org_id: Path<Uuid>,
        body: JsonBody<AddMember>,
    ) -> Answer<AddedMember, AddStatuses> {
        let email = Email::parse(&body.0.email)?;
        let role = body.0.role.into();
        let member = members::add(&state, &caller, org_id.0, &email, role).await?;
        Ok(AddedMember::Created(Json(member.into())))
    }

    /// Change a member's role (needs `admin`; making or unmaking an owner needs an owner).
    /// The last owner cannot be demoted (409).
    #[oai(
        path = "/:org_id/members/:user_id",
        method = "patch",
        operation_id = "change_member_role"
    )]
    async fn change_role(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
        body: JsonBody<ChangeRole>,
    ) -> Answer<Json<MemberBody>, AddStatuses> {
        let role = body.0.role.into();
        let member = members::change_role(&state, &caller, org_id.0, user_id.0, role).await?;
        Ok(Json(member.into()))
    }

    /// Remove a member (needs `admin`; an owner to remove an owner), or leave (a person, or a
    /// key with `admin`). The last owner cannot leave (409).
    #[oai(
        path = "/:org_id/members/:user_id",
        method = "delete",
        operation_id = "remove_member"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> Answer<NoContent, RemoveStatuses> {
        members::remove(&state, &caller, org_id.0, user_id.0).await?;
        Ok(NoContent::NoContent)
    }
}
