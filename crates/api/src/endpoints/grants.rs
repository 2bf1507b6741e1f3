use super::{NoContent, RoleName, Tag};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::grants;
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi, payload::Json};
use portcullis_domain::{Error, Grant, Holder, ResourcePath, RoleAt};
use uuid::Uuid;

pub struct GrantsApi;

statuses! {
    ListStatuses: 400, 401, 403, 404, 429, 500, 503;
    SetStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
    RemoveStatuses: 400, 401, 403, 404, 422, 429, 500, 503;
}

/// A role on a resource, on top of the organization role.
#[derive(Debug, Object)]
#[oai(rename = "Grant")]
pub struct GrantBody {
    /// A resource path: it covers itself and every path below it.
    pub resource: String,
    pub role: RoleName,
    pub created_at: DateTime<Utc>,
}

impl From<Grant> for GrantBody {
    fn from(g: Grant) -> Self {
        Self {
            resource: g.resource.to_string(),
            role: g.role.into(),
            created_at: g.created_at,
        }
    }
}

/// A grant to give: a resource path (1 to 8 segments joined by `/`, each matching
/// `^[a-z0-9][a-z0-9._-]{0,62}$`) and a role there: `admin`, `developer` or `viewer`.
#[derive(Debug, Clone, Object)]
pub struct ResourceRole {
    pub resource: String,
    pub role: RoleName,
}

impl ResourceRole {
    pub(crate) fn parse(&self) -> Result<RoleAt, Error> {
        RoleAt::parse(&self.resource, self.role.into())
    }
}

impl From<RoleAt> for ResourceRole {
    fn from(g: RoleAt) -> Self {
        Self {
            resource: g.resource.to_string(),
            role: g.role.into(),
        }
    }
}

fn resource(raw: Option<String>) -> Result<ResourcePath, Error> {
    let raw = raw.ok_or_else(|| Error::validation("the query parameter 'resource' is required"))?;
    ResourcePath::parse(&raw)
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::Members")]
impl GrantsApi {
    /// A member's grants (needs `read`).
    #[oai(
        path = "/:org_id/members/:user_id/grants",
        method = "get",
        operation_id = "list_member_grants"
    )]
    async fn list_member(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> Answer<Json<Vec<GrantBody>>, ListStatuses> {
        list(&state, &caller, org_id.0, Holder::User(user_id.0)).await
    }

    /// Give a member a role on a resource, or change it (needs `admin`). Grants only add: the
    /// role in effect at a resource is the highest of the organization role and the grants
    /// covering it.
    #[oai(
        path = "/:org_id/members/:user_id/grants",
        method = "put",
        operation_id = "set_member_grant"
    )]
    async fn set_member(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
        body: JsonBody<ResourceRole>,
    ) -> Answer<Json<GrantBody>, SetStatuses> {
        set(&state, &caller, org_id.0, Holder::User(user_id.0), &body.0).await
    }

    /// Remove a member's grant on `resource` (needs `admin`); 404 when there is none.
    #[oai(
        path = "/:org_id/members/:user_id/grants",
        method = "delete",
        operation_id = "remove_member_grant"
    )]
    async fn remove_member(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        user_id: Path<Uuid>,
        /// The grant's resource path.
        resource: Query<Option<String>>,
    ) -> Answer<NoContent, RemoveStatuses> {
        remove(
            &state,
            &caller,
            org_id.0,
            Holder::User(user_id.0),
            resource.0,
        )
        .await
    }

    /// A service account's grants (needs `read`).
    #[oai(
        path = "/:org_id/service-accounts/:sa_id/grants",
        method = "get",
        operation_id = "list_service_account_grants",
        tag = "Tag::ServiceAccounts"
    )]
    async fn list_account(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
    ) -> Answer<Json<Vec<GrantBody>>, ListStatuses> {
        list(&state, &caller, org_id.0, Holder::ServiceAccount(sa_id.0)).await
    }

    /// Give a service account a role on a resource, or change it (needs `admin`).
    #[oai(
        path = "/:org_id/service-accounts/:sa_id/grants",
        method = "put",
        operation_id = "set_service_account_grant",
        tag = "Tag::ServiceAccounts"
    )]
    async fn set_account(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
        body: JsonBody<ResourceRole>,
    ) -> Answer<Json<GrantBody>, SetStatuses> {
        let holder = Holder::ServiceAccount(sa_id.0);
        set(&state, &caller, org_id.0, holder, &body.0).await
    }

    /// Remove a service account's grant on `resource` (needs `admin`); 404 when there is none.
    #[oai(
        path = "/:org_id/service-accounts/:sa_id/grants",
        method = "delete",
        operation_id = "remove_service_account_grant",
        tag = "Tag::ServiceAccounts"
    )]
    async fn remove_account(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
        /// The grant's resource path.
        resource: Query<Option<String>>,
    ) -> Answer<NoContent, RemoveStatuses> {
        let holder = Holder::ServiceAccount(sa_id.0);
        remove(&state, &caller, org_id.0, holder, resource.0).await
    }
}

async fn list(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
) -> Answer<Json<Vec<GrantBody>>, ListStatuses> {
    let listed = grants::list(state, caller, organization_id, holder).await?;
    Ok(Json(listed.into_iter().map(Into::into).collect()))
}

async fn set(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
    body: &ResourceRole,
) -> Answer<Json<GrantBody>, SetStatuses> {
    let grant = body.parse()?;
    let written = grants::set(state, caller, organization_id, holder, grant).await?;
    Ok(Json(written.into()))
}

async fn remove(
    state: &AppState,
    caller: &Caller,
    organization_id: Uuid,
    holder: Holder,
    raw: Option<String>,
) -> Answer<NoContent, RemoveStatuses> {
    let resource = resource(raw)?;
    grants::remove(state, caller, organization_id, holder, &resource).await?;
    Ok(NoContent::NoContent)
}
