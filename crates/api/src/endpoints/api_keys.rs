use super::{NoContent, Nullable, PermissionName, Tag, permission_names, permission_set};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::api_keys::{self, CreatedApiKey, NewApiKey};
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{ApiKey, Error, Name, Restriction};
use uuid::Uuid;

pub struct ApiKeysApi;

statuses! {
    CreateStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
    ListStatuses: 400, 401, 403, 404, 429, 500, 503;
    KeyStatuses: 400, 401, 403, 404, 429, 500, 503;
    RotateStatuses: 400, 401, 403, 404, 409, 415, 422, 429, 500, 503;
}

#[derive(Debug, Object)]
pub struct CreateApiKey {
    pub name: String,
    /// Within the creator's own permissions.
    #[oai(validator(min_items = 1))]
    pub scopes: Vec<PermissionName>,
    /// In the future. Omitted: the key does not expire; a key created with a key inherits the
    /// creating key's expiry and cannot expire later.
    pub expires_at: Option<DateTime<Utc>>,
    /// 1 to 16 resource paths (`projects/web`): the key acts only at or below them and has no
    /// organization-wide power. Omitted: organization-wide. Each path is 1 to 8 segments joined
    /// by `/`, each matching `^[a-z0-9][a-z0-9._-]{0,62}$`.
    pub resources: Option<Vec<String>>,
}

impl CreateApiKey {
    pub(crate) fn into_new(self) -> Result<NewApiKey, Error> {
        Ok(NewApiKey {
            name: Name::parse(&self.name)?,
            scopes: permission_set(&self.scopes),
            expires_at: self.expires_at,
            resources: self
                .resources
                .as_deref()
                .map(Restriction::parse)
                .transpose()?,
        })
    }
}

#[derive(Debug, Object)]
pub struct RotateApiKey {
    /// How long the old key keeps working: 0 (default) to 604800 seconds, never past its own expiry.
    #[oai(validator(minimum(value = "0"), maximum(value = "604800")))]
    pub grace_period_seconds: Option<i64>,
}

/// A key as created or rotated: the only time `key` is shown.
#[derive(Debug, Object)]
pub struct CreatedApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// The secret. Store it now: it is not shown again.
    pub key: String,
    pub key_prefix: String,
    /// As granted (`admin` implies the rest).
    pub scopes: Vec<PermissionName>,
    pub organization_id: Uuid,
    /// The key's user; null for a service account's key.
    pub user_id: Nullable<Uuid>,
    /// The service account whose key it is; null for a person's key.
    pub service_account_id: Nullable<Uuid>,
    /// The resource paths it is restricted to; null: organization-wide.
    pub resources: Nullable<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Nullable<DateTime<Utc>>,
    /// Null: a new key has not been rotated.
    pub replaced_by_id: Nullable<Uuid>,
}

#[derive(Debug, Object)]
#[oai(rename = "ApiKey")]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// The key's first 12 characters.
    pub key_prefix: String,
    /// As granted (`admin` implies the rest).
    pub scopes: Vec<PermissionName>,
    pub organization_id: Uuid,
    /// The key's user; null for a service account's key.
    pub user_id: Nullable<Uuid>,
    /// The service account whose key it is; null for a person's key.
    pub service_account_id: Nullable<Uuid>,
    /// The resource paths it is restricted to; null: organization-wide.
    pub resources: Nullable<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Nullable<DateTime<Utc>>,
    /// Written in batches: may lag by a few seconds.
    pub last_used_at: Nullable<DateTime<Utc>>,
    /// The key that replaced this one when it was rotated, if it was.
    pub replaced_by_id: Nullable<Uuid>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name.into_inner(),
            key_prefix: k.key_prefix,
            scopes: permission_names(k.scopes),
            organization_id: k.organization_id,
            user_id: k.holder.user_id().into(),
            service_account_id: k.holder.service_account_id().into(),
            resources: k.resources.as_ref().map(Restriction::names).into(),
            created_at: k.created_at,
            expires_at: k.expires_at.into(),
            last_used_at: k.last_used_at.into(),
            replaced_by_id: k.replaced_by_id.into(),
        }
    }
}

#[derive(ApiResponse)]
pub enum CreatedApiKeyResponse {
    #[oai(status = 201)]
    Created(Json<CreatedApiKeyBody>),
}

impl From<CreatedApiKey> for CreatedApiKeyResponse {
    fn from(CreatedApiKey { key, secret }: CreatedApiKey) -> Self {
        Self::Created(Json(CreatedApiKeyBody {
            id: key.id,
            name: key.name.into_inner(),
            key: secret.expose().to_owned(),
            key_prefix: key.key_prefix,
            scopes: permission_names(key.scopes),
            organization_id: key.organization_id,
            user_id: key.holder.user_id().into(),
            service_account_id: key.holder.service_account_id().into(),
            resources: key.resources.as_ref().map(Restriction::names).into(),
            created_at: key.created_at,
            expires_at: key.expires_at.into(),
            replaced_by_id: key.replaced_by_id.into(),
        }))
    }
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key for the caller in this organization (any member). Its scopes must lie
    /// within the caller's permissions (at each of its `resources`, when restricted); a key
    /// created with a key never outlives it, and one created with a restricted key is restricted
    /// within that key's resources.
    #[oai(
        path = "/:org_id/api-keys",
        method = "post",
        operation_id = "create_api_key"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        body: JsonBody<CreateApiKey>,
    ) -> Answer<CreatedApiKeyResponse, CreateStatuses> {
        let new = body.0.into_new()?;
        Ok(api_keys::create(&state, &caller, org_id.0, new)
            .await?
            .into())
    }

    /// The organization's keys: all of them for admins, the caller's own for others.
    #[oai(
        path = "/:org_id/api-keys",
        method = "get",
        operation_id = "list_api_keys"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
    ) -> Answer<Json<Vec<ApiKeyBody>>, ListStatuses> {
        let keys = api_keys::list(&state, &caller, org_id.0).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// One key: its own user's, an admin's, or a key holding every permission it has.
    #[oai(
        path = "/:org_id/api-keys/:key_id",
        method = "get",
        operation_id = "get_api_key"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        key_id: Path<Uuid>,
    ) -> Answer<Json<ApiKeyBody>, KeyStatuses> {
        let key = api_keys::get(&state, &caller, org_id.0, key_id.0).await?;
        Ok(Json(key.into()))
    }

    /// Revoke a key (its own user, an admin, or a key holding every permission it has): it
    /// gives 401 from now on.
    #[oai(
        path = "/:org_id/api-keys/:key_id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        key_id: Path<Uuid>,
    ) -> Answer<NoContent, KeyStatuses> {
        api_keys::revoke(&state, &caller, org_id.0, key_id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Replace a key with a new secret (same name, scopes, expiry and user); the old one works
    /// for `grace_period_seconds` more. Only the key's own user rotates it, and only once: a
    /// second rotation is 409 (rotate the successor instead).
    #[oai(
        path = "/:org_id/api-keys/:key_id/rotate",
        method = "post",
        operation_id = "rotate_api_key"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        org_id: Path<Uuid>,
        key_id: Path<Uuid>,
        body: JsonBody<Option<RotateApiKey>>,
    ) -> Answer<CreatedApiKeyResponse, RotateStatuses> {
        let grace = body.0.and_then(|b| b.grace_period_seconds).unwrap_or(0);
        Ok(api_keys::rotate(&state, &caller, org_id.0, key_id.0, grace)
            .await?
            .into())
    }
}
