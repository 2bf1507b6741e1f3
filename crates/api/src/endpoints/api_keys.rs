use super::{NoContent, Nullable, Tag, audit};
use crate::body::JsonBody;
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use chrono::{DateTime, Datelike, Duration, Utc};
use poem::web::{Data, RemoteAddr};
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{
    Access, ApiKey, ApiKeySecret, AuditAction, Denial, Error, Name, Permission, Permissions,
    Principal,
};
use uuid::Uuid;

pub struct ApiKeysApi;

/// The longest rotation grace period: 7 days.
const MAX_GRACE_SECONDS: i64 = 604_800;

#[derive(Debug, Object)]
pub struct CreateApiKey {
    pub name: String,
    /// Non-empty subset of `admin`, `write`, `deploy`, `read`, within the creator's own permissions.
    #[oai(validator(min_items = 1))]
    pub scopes: Vec<String>,
    /// In the future; omitted: the key does not expire.
    pub expires_at: Option<DateTime<Utc>>,
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
    pub scopes: Vec<String>,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Nullable<DateTime<Utc>>,
}

#[derive(Debug, Object)]
#[oai(rename = "ApiKey")]
pub struct ApiKeyBody {
    pub id: Uuid,
    pub name: String,
    /// The key's first 12 characters.
    pub key_prefix: String,
    pub scopes: Vec<String>,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: Nullable<DateTime<Utc>>,
    /// Written in batches: may lag by a few seconds.
    pub last_used_at: Nullable<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyBody {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            key_prefix: k.key_prefix,
            scopes: k.scopes.names(),
            organization_id: k.organization_id,
            user_id: k.user_id,
            created_at: k.created_at,
            expires_at: k.expires_at.into(),
            last_used_at: k.last_used_at.into(),
        }
    }
}

#[derive(ApiResponse)]
pub enum CreatedApiKey {
    #[oai(status = 201)]
    Created(Json<CreatedApiKeyBody>),
}

fn created(key: ApiKey, secret: &ApiKeySecret) -> CreatedApiKey {
    CreatedApiKey::Created(Json(CreatedApiKeyBody {
        id: key.id,
        name: key.name,
        key: secret.expose().to_owned(),
        key_prefix: key.key_prefix,
        scopes: key.scopes.names(),
        organization_id: key.organization_id,
        user_id: key.user_id,
        created_at: key.created_at,
        expires_at: key.expires_at.into(),
    }))
}

#[OpenApi(prefix_path = "/api/v1/organizations", tag = "Tag::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key for the caller in this organization (any member).
    #[oai(
        path = "/:org_id/api-keys",
        method = "post",
        operation_id = "create_api_key"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        body: JsonBody<CreateApiKey>,
    ) -> ApiResult<CreatedApiKey> {
        let org = org_id.0;
        let access = state.access(&caller, org).await?;
        let user_id = match (&caller.principal, caller.principal.user_id()) {
            (Principal::Root, _) | (_, None) => {
                return Err(Denial::Refused("the root token cannot own API keys").into());
            }
            (_, Some(id)) => id,
        };
        let CreateApiKey {
            name,
            scopes,
            expires_at,
        } = body.0;
        let name = Name::parse(&name)?;
        let scopes = Permissions::parse_scopes(&scopes)?;
        let now = state.clock.now();
        if expires_at.is_some_and(|at| at <= now) {
            return Err(Error::validation("expires_at must be in the future").into());
        }
        // RFC 3339 has four-digit years: a later expiry could not be written back in responses.
        if expires_at.is_some_and(|at| at.year() > 9999) {
            return Err(Error::validation("expires_at must be before the year 10000").into());
        }
        access.require_all(scopes.expand())?;
        let secret = ApiKeySecret::generate(&state.config.key_prefix);
        let key = ApiKey {
            id: portcullis_domain::new_id(),
            organization_id: org,
            user_id,
            name: name.into_inner(),
            key_prefix: secret.display_prefix().to_owned(),
            scopes,
            created_at: now,
            expires_at,
            last_used_at: None,
        };
        state.store.create_api_key(&key, &secret.digest()).await?;
        audit::record(
            &state,
            &caller,
            remote,
            org,
            AuditAction::ApiKeyCreated,
            "api_key",
            key.id,
        )
        .await?;
        Ok(created(key, &secret))
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
    ) -> ApiResult<Json<Vec<ApiKeyBody>>> {
        let access = state.access(&caller, org_id.0).await?;
        let only = if access.permissions.contains(Permission::Admin) {
            None
        } else {
            caller.principal.user_id()
        };
        let keys = state.store.api_keys(org_id.0, only).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// One key (its owner, or an admin).
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
    ) -> ApiResult<Json<ApiKeyBody>> {
        let key = manageable_key(&state, &caller, org_id.0, key_id.0).await?;
        Ok(Json(key.into()))
    }

    /// Revoke a key (its owner, or an admin): it gives 401 from now on.
    #[oai(
        path = "/:org_id/api-keys/:key_id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        key_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let key = manageable_key(&state, &caller, org_id.0, key_id.0).await?;
        let digest = state
            .store
            .delete_api_key(org_id.0, key.id)
            .await?
            .ok_or(Error::NotFound("API key"))?;
        state.invalidate(Invalidation::Key(digest)).await;
        audit::record(
            &state,
            &caller,
            remote,
            org_id.0,
            AuditAction::ApiKeyRevoked,
            "api_key",
            key.id,
        )
        .await?;
        Ok(NoContent::NoContent)
    }

    /// Replace a key with a new secret (same name, scopes, expiry and user); the old one works
    /// for `grace_period_seconds` more.
    #[oai(
        path = "/:org_id/api-keys/:key_id/rotate",
        method = "post",
        operation_id = "rotate_api_key"
    )]
    async fn rotate(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        remote: &RemoteAddr,
        org_id: Path<Uuid>,
        key_id: Path<Uuid>,
        body: JsonBody<Option<RotateApiKey>>,
    ) -> ApiResult<CreatedApiKey> {
        let grace = body.0.and_then(|b| b.grace_period_seconds).unwrap_or(0);
        if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
            return Err(
                Error::validation("grace_period_seconds must be between 0 and 604800").into(),
            );
        }
        let old = manageable_key(&state, &caller, org_id.0, key_id.0).await?;
        let now = state.clock.now();
        let old_until = (grace > 0).then(|| {
            let end = now + Duration::seconds(grace);
            old.expires_at.map_or(end, |own| own.min(end))
        });
        let secret = ApiKeySecret::generate(&state.config.key_prefix);
        let new = ApiKey {
            id: portcullis_domain::new_id(),
            key_prefix: secret.display_prefix().to_owned(),
            created_at: now,
            last_used_at: None,
            ..old.clone()
        };
        let old_digest = state
            .store
            .rotate_api_key(old.id, old_until, &new, &secret.digest())
            .await?
            .ok_or(Error::NotFound("API key"))?;
        state.invalidate(Invalidation::Key(old_digest)).await;
        audit::record(
            &state,
            &caller,
            remote,
            org_id.0,
            AuditAction::ApiKeyRotated,
            "api_key",
            old.id,
        )
        .await?;
        Ok(created(new, &secret))
    }
}

/// A key the caller may see and manage: their own, or any in an organization they administer.
async fn manageable_key(
    state: &AppState,
    caller: &Caller,
    org: Uuid,
    key_id: Uuid,
) -> ApiResult<ApiKey> {
    let access: Access = state.access(caller, org).await?;
    let key = state
        .store
        .api_key(org, key_id)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    if key.user_id != caller.principal.user_id().unwrap_or_default() {
        access.require(Permission::Admin)?;
    }
    Ok(key)
}
