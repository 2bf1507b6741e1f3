use super::api_keys::{CreateApiKey, CreatedApiKeyResponse};
use super::{NoContent, Nullable, RoleName, Tag};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::api_keys;
use crate::operations::service_accounts::{self, NewServiceAccount, ServiceAccountChanges};
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Name, ServiceAccount};
use uuid::Uuid;

pub struct ServiceAccountsApi;

statuses! {
    CreateStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
    ReadStatuses: 400, 401, 403, 404, 429, 500, 503;
    DeleteStatuses: 400, 401, 403, 404, 429, 500, 503;
}

#[derive(Debug, Object)]
#[oai(rename = "ServiceAccount")]
pub struct ServiceAccountBody {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub description: Nullable<String>,
    pub role: RoleName,
    /// The person who created it; null when the root token did.
    pub created_by: Nullable<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<ServiceAccount> for ServiceAccountBody {
    fn from(a: ServiceAccount) -> Self {
        Self {
            id: a.id,
            organization_id: a.organization_id,
            name: a.name.into_inner(),
            description: a.description.into(),
            role: a.role.into(),
            created_by: a.created_by.into(),
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct CreateServiceAccount {
    pub name: String,
    /// `admin`, `developer`, `viewer` or `guest` (never `owner`: 422).
    pub role: RoleName,
    /// Up to 1000 characters.
    pub description: Option<String>,
}

#[derive(Debug, Object)]
pub struct UpdateServiceAccount {
    pub name: Option<String>,
    /// Up to 1000 characters; an empty string clears it.
    pub description: Option<String>,
    /// A lowered role lowers the account's keys at once.
    pub role: Option<RoleName>,
}

#[derive(ApiResponse)]
pub enum CreatedServiceAccount {
    #[oai(status = 201)]
    Created(Json<ServiceAccountBody>),
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::ServiceAccounts")]
impl ServiceAccountsApi {
    /// Create a service account: a non-human member for CI and integrations, whose keys act
    /// with its role and outlive the person who made them (needs `admin`).
    #[oai(
        path = "/:org_id/service-accounts",
        method = "post",
        operation_id = "create_service_account"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        body: JsonBody<CreateServiceAccount>,
    ) -> Answer<CreatedServiceAccount, CreateStatuses> {
        let CreateServiceAccount {
            name,
            role,
            description,
        } = body.0;
        let new = NewServiceAccount {
            name: Name::parse(&name)?,
            role: role.into(),
            description,
        };
        let account = service_accounts::create(&state, &caller, org_id.0, new).await?;
        Ok(CreatedServiceAccount::Created(Json(account.into())))
    }

    /// The organization's service accounts (needs `read`).
    #[oai(
        path = "/:org_id/service-accounts",
        method = "get",
        operation_id = "list_service_accounts"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> Answer<Json<Vec<ServiceAccountBody>>, ReadStatuses> {
        let accounts = service_accounts::list(&state, &caller, org_id.0).await?;
        Ok(Json(accounts.into_iter().map(Into::into).collect()))
    }

    /// One service account (needs `read`).
    #[oai(
        path = "/:org_id/service-accounts/:sa_id",
        method = "get",
        operation_id = "get_service_account"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
    ) -> Answer<Json<ServiceAccountBody>, ReadStatuses> {
        let account = service_accounts::get(&state, &caller, org_id.0, sa_id.0).await?;
        Ok(Json(account.into()))
    }

    /// Rename, describe or change the role of a service account (needs `admin`).
    #[oai(
        path = "/:org_id/service-accounts/:sa_id",
        method = "patch",
        operation_id = "update_service_account"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
        body: JsonBody<UpdateServiceAccount>,
    ) -> Answer<Json<ServiceAccountBody>, CreateStatuses> {
        let UpdateServiceAccount {
            name,
            description,
            role,
        } = body.0;
        let changes = ServiceAccountChanges {
            name: name.as_deref().map(Name::parse).transpose()?,
            description,
            role: role.map(Into::into),
        };
        let account = service_accounts::update(&state, &caller, org_id.0, sa_id.0, changes).await?;
        Ok(Json(account.into()))
    }

    /// Delete a service account (needs `admin`): its keys give 401 from then on.
    #[oai(
        path = "/:org_id/service-accounts/:sa_id",
        method = "delete",
        operation_id = "delete_service_account"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
    ) -> Answer<NoContent, DeleteStatuses> {
        service_accounts::delete(&state, &caller, org_id.0, sa_id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Create a key for a service account (needs `admin`): its scopes must lie within both the
    /// caller's and the account's grants (at each of its `resources`, when restricted).
    #[oai(
        path = "/:org_id/service-accounts/:sa_id/api-keys",
        method = "post",
        operation_id = "create_service_account_api_key"
    )]
    async fn create_key(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        sa_id: Path<Uuid>,
        body: JsonBody<CreateApiKey>,
    ) -> Answer<CreatedApiKeyResponse, CreateStatuses> {
        let new = body.0.into_new()?;
        Ok(
            api_keys::create_for_service_account(&state, &caller, org_id.0, sa_id.0, new)
                .await?
                .into(),
        )
    }
}
