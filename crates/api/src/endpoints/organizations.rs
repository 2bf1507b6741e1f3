use super::{NoContent, Tag, audit};
use crate::body::JsonBody;
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use poem::web::{Data, RemoteAddr};
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{
    AuditAction, Denial, Email, Error, Name, OrgSlug, Organization, OwnerAction, Permission,
    Principal,
};
use portcullis_persistence::Page;
use uuid::Uuid;

pub struct OrganizationsApi;

#[derive(Debug, Object)]
pub struct CreateOrganization {
    /// 1 to 100 characters.
    pub name: String,
    /// `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`, unique.
    #[oai(validator(pattern = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub slug: String,
    /// Root token only: the existing user who becomes the owner. Ignored for sessions.
    pub owner_email: Option<String>,
}

#[derive(Debug, Object)]
pub struct UpdateOrganization {
    pub name: Option<String>,
}

#[derive(Debug, Object)]
#[oai(rename = "Organization")]
pub struct OrganizationBody {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationBody {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id,
            name: o.name,
            slug: o.slug,
            created_at: o.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum CreatedOrganization {
    #[oai(status = 201)]
    Created(Json<OrganizationBody>),
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::Organizations")]
impl OrganizationsApi {
    /// Create an organization; the caller (or, for the root token, `owner_email`) becomes its owner.
    #[oai(path = "/", method = "post", operation_id = "create_organization")]
    async fn create(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        body: JsonBody<CreateOrganization>,
    ) -> ApiResult<CreatedOrganization> {
        let CreateOrganization {
            name,
            slug,
            owner_email,
        } = body.0;
        let owner = match (&caller.principal, &caller.user) {
            (Principal::Root, _) => {
                let email = owner_email.ok_or_else(|| {
                    Error::validation("owner_email is required with the root token")
                })?;
                state
                    .store
                    .user_by_email(&Email::parse(&email)?)
                    .await?
                    .ok_or(Error::NotFound("user"))?
                    .id
            }
            (principal, Some(user)) if principal.is_person() => user.id,
            _ => return Err(Denial::PersonOnly("create organizations").into()),
        };
        let organization = Organization {
            id: portcullis_domain::new_id(),
            name: Name::parse(&name)?.into_inner(),
            slug: OrgSlug::parse(&slug)?.as_str().to_owned(),
            created_at: state.clock.now(),
        };
        state
            .store
            .create_organization(&organization, owner)
            .await?;
        state
            .invalidate(Invalidation::Role {
                user_id: owner,
                organization_id: organization.id,
            })
            .await;
        audit::record(
            &state,
            &caller,
            remote,
            organization.id,
            AuditAction::OrganizationCreated,
            "organization",
            organization.id,
        )
        .await?;
        Ok(CreatedOrganization::Created(Json(organization.into())))
    }

    /// The caller's organizations (a key or access token: its own; the root token: all, first 200).
    #[oai(path = "/", method = "get", operation_id = "list_organizations")]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> ApiResult<Json<Vec<OrganizationBody>>> {
        let organizations = match &caller.principal {
            Principal::Root => {
                state
                    .store
                    .list_organizations(Page {
                        limit: 200,
                        before: None,
                    })
                    .await?
            }
            Principal::Session { user_id, .. } => {
                state.store.organizations_of_user(*user_id).await?
            }
            principal => {
                let org = principal
                    .bound_organization()
                    .expect("keys and tokens are bound");
                state.access(&caller, org).await?;
                state.store.organization(org).await?.into_iter().collect()
            }
        };
        Ok(Json(organizations.into_iter().map(Into::into).collect()))
    }

    /// One organization (needs `read`).
    #[oai(path = "/:org_id", method = "get", operation_id = "get_organization")]
    async fn get(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> ApiResult<Json<OrganizationBody>> {
        state.require(&caller, org_id.0, Permission::Read).await?;
        let organization = state
            .store
            .organization(org_id.0)
            .await?
            .ok_or(Error::NotFound("organization"))?;
        Ok(Json(organization.into()))
    }

    /// Rename an organization (needs `admin`).
    #[oai(
        path = "/:org_id",
        method = "patch",
        operation_id = "update_organization"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        body: JsonBody<UpdateOrganization>,
    ) -> ApiResult<Json<OrganizationBody>> {
        state.require(&caller, org_id.0, Permission::Admin).await?;
        let organization = match body.0.name {
            Some(name) => {
                let name = Name::parse(&name)?;
                let renamed = state
                    .store
                    .rename_organization(org_id.0, name.as_str())
                    .await?;
                audit::record(
                    &state,
                    &caller,
                    remote,
                    org_id.0,
                    AuditAction::OrganizationUpdated,
                    "organization",
                    org_id.0,
                )
                .await?;
                renamed
            }
            None => state.store.organization(org_id.0).await?,
        };
        Ok(Json(
            organization.ok_or(Error::NotFound("organization"))?.into(),
        ))
    }

    /// Delete an organization and everything in it (an owner, in person, or the root token).
    #[oai(
        path = "/:org_id",
        method = "delete",
        operation_id = "delete_organization"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        state
            .require_owner(&caller, org_id.0, OwnerAction::DeleteOrganization)
            .await?;
        if !(caller.principal.is_person() || caller.principal == Principal::Root) {
            return Err(Denial::PersonOnly("delete an organization").into());
        }
        if !state.store.delete_organization(org_id.0).await? {
            return Err(Error::NotFound("organization").into());
        }
        state.invalidate(Invalidation::Organization(org_id.0)).await;
        Ok(NoContent::NoContent)
    }
}
