use super::{Nullable, Tag, UserBody};
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Error, Permission, Permissions, Principal};
use uuid::Uuid;

pub struct MeApi;

#[derive(Debug, Object)]
pub struct MembershipBody {
    pub organization_id: Uuid,
    pub role: String,
}

#[derive(Debug, Object)]
pub struct MeBody {
    /// Null for the root token.
    pub user: Nullable<UserBody>,
    /// `session`, `api_key`, `access_token` or `root_token`.
    pub auth_method: String,
    /// The organization a key or access token is bound to.
    pub organization_id: Nullable<Uuid>,
    pub api_key_id: Nullable<Uuid>,
    /// Effective permissions there, spelled out (empty for a session: see `memberships`).
    pub scopes: Vec<String>,
    pub memberships: Vec<MembershipBody>,
}

#[derive(Debug, Object)]
pub struct AuthorizeBody {
    pub allowed: bool,
    /// Null for the root token.
    pub user_id: Nullable<Uuid>,
    pub organization_id: Uuid,
    /// Null for the root token.
    pub role: Nullable<String>,
    /// Effective permissions in the organization.
    pub scopes: Vec<String>,
    pub auth_method: String,
}

#[derive(ApiResponse)]
pub enum AuthorizeResponse {
    /// Allowed. The headers repeat the answer for gateways (empty where the body has null).
    #[oai(status = 200)]
    Allowed(
        Json<AuthorizeBody>,
        #[oai(header = "X-Portcullis-User")] String,
        #[oai(header = "X-Portcullis-Organization")] String,
        #[oai(header = "X-Portcullis-Role")] String,
        #[oai(header = "X-Portcullis-Scopes")] String,
    ),
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Identity")]
impl MeApi {
    /// Who is calling, how, and with which permissions.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, state: Data<&AppState>, caller: Caller) -> ApiResult<Json<MeBody>> {
        let organization_id = caller.principal.bound_organization();
        let (scopes, memberships) = match (&caller.principal, organization_id) {
            (Principal::Root, _) => (Permissions::ALL, Vec::new()),
            (Principal::Session { user_id, .. }, _) => {
                (Permissions::EMPTY, state.store.memberships(*user_id).await?)
            }
            (_, Some(org)) => {
                let access = state.access(&caller, org).await?;
                let membership = access.role.map(|role| portcullis_domain::Membership {
                    organization_id: org,
                    role,
                });
                (access.permissions, membership.into_iter().collect())
            }
            (_, None) => unreachable!("keys and tokens are bound to an organization"),
        };
        Ok(Json(MeBody {
            user: caller.user.as_deref().map(UserBody::from).into(),
            auth_method: caller.principal.auth_method().into(),
            organization_id: organization_id.into(),
            api_key_id: caller.principal.api_key_id().into(),
            scopes: scopes.names(),
            memberships: memberships
                .into_iter()
                .map(|m| MembershipBody {
                    organization_id: m.organization_id,
                    role: m.role.as_str().into(),
                })
                .collect(),
        }))
    }

    /// Forward-auth check: may the caller use `permission` in the organization? For nginx
    /// `auth_request` and Traefik `forwardAuth`.
    #[oai(path = "/authorize", method = "get", operation_id = "authorize")]
    async fn authorize(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// `admin`, `write`, `deploy` or `read`.
        permission: Query<String>,
        /// Defaults to the organization of an API key or access token.
        organization_id: Query<Option<Uuid>>,
    ) -> ApiResult<AuthorizeResponse> {
        let permission: Permission = permission.0.parse().map_err(|_| {
            Error::BadRequest("permission must be one of admin, write, deploy, read".into())
        })?;
        let organization_id = organization_id
            .0
            .or(caller.principal.bound_organization())
            .ok_or_else(|| {
                Error::validation("organization_id is required for sessions and the root token")
            })?;
        let access = state.require(&caller, organization_id, permission).await?;
        let user_id = caller.principal.user_id();
        let role = access.role.map(|r| r.as_str().to_owned());
        let scopes = access.permissions.names();
        let headers = (
            user_id.map(|id| id.to_string()).unwrap_or_default(),
            organization_id.to_string(),
            role.clone().unwrap_or_default(),
            scopes.join(","),
        );
        let body = AuthorizeBody {
            allowed: true,
            user_id: user_id.into(),
            organization_id,
            role: role.into(),
            scopes,
            auth_method: caller.principal.auth_method().into(),
        };
        Ok(AuthorizeResponse::Allowed(
            Json(body),
            headers.0,
            headers.1,
            headers.2,
            headers.3,
        ))
    }
}
