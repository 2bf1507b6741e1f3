use super::{NoContent, Tag};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::organizations::{self, NewOrganization};
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Email, Name, OrgSlug, Organization};
use uuid::Uuid;

pub struct OrganizationsApi;

statuses! {
    CreateStatuses: 400, 401, 403, 404, 409, 415, 422, 429, 500, 503;
    ListStatuses: 401, 403, 429, 500, 503;
    GetStatuses: 400, 401, 403, 404, 429, 500, 503;
    UpdateStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
}

#[derive(Debug, Object)]
pub struct CreateOrganization {
    /// 1 to 100 characters.
    pub name: String,
    /// Unique.
    #[oai(validator(pattern = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"))]
    pub slug: String,
    /// Root token only: the existing user who becomes the owner. Ignored for people.
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
            name: o.name.into_inner(),
            slug: o.slug.to_string(),
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
        body: JsonBody<CreateOrganization>,
    ) -> Answer<CreatedOrganization, CreateStatuses> {
        let CreateOrganization {
            name,
            slug,
            owner_email,
        } = body.0;
        let new = NewOrganization {
            name: Name::parse(&name)?,
            slug: OrgSlug::parse(&slug)?,
            owner_email: owner_email.as_deref().map(Email::parse).transpose()?,
        };
        let organization = organizations::create(&state, &caller, new).await?;
        Ok(CreatedOrganization::Created(Json(organization.into())))
    }

    /// The caller's organizations (a key or access token: its own; the root token: all, first 200).
    #[oai(path = "/", method = "get", operation_id = "list_organizations")]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
    ) -> Answer<Json<Vec<OrganizationBody>>, ListStatuses> {
        let organizations = organizations::list(&state, &caller).await?;
        Ok(Json(organizations.into_iter().map(Into::into).collect()))
    }

    /// One organization (needs `read`).
    #[oai(path = "/:org_id", method = "get", operation_id = "get_organization")]
    async fn get(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> Answer<Json<OrganizationBody>, GetStatuses> {
        let organization = organizations::get(&state, &caller, org_id.0).await?;
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
        org_id: Path<Uuid>,
        body: JsonBody<UpdateOrganization>,
    ) -> Answer<Json<OrganizationBody>, UpdateStatuses> {
        let name = body.0.name.as_deref().map(Name::parse).transpose()?;
        let organization = organizations::update(&state, &caller, org_id.0, name).await?;
        Ok(Json(organization.into()))
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
    ) -> Answer<NoContent, GetStatuses> {
        organizations::delete(&state, &caller, org_id.0).await?;
        Ok(NoContent::NoContent)
    }
}
