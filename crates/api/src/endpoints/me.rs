use super::{AuthMethodName, Nullable, PermissionName, RoleName, Tag, UserBody, permission_names};
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::identity;
use crate::state::AppState;
use crate::statuses;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{ResourcePath, Restriction};
use uuid::Uuid;

pub struct MeApi;

statuses! {
    MeStatuses: 401, 403, 429, 500, 503;
    AuthorizeStatuses: 400, 401, 403, 404, 422, 429, 500, 503;
}

#[derive(Debug, Object)]
pub struct MembershipBody {
    pub organization_id: Uuid,
    pub role: RoleName,
}

#[derive(Debug, Object)]
pub struct MeBody {
    /// Null for the root token.
    pub user: Nullable<UserBody>,
    pub auth_method: AuthMethodName,
    /// The organization a key or access token is bound to.
    pub organization_id: Nullable<Uuid>,
    pub api_key_id: Nullable<Uuid>,
    /// Effective permissions there, spelled out (empty for a session: see `memberships`).
    pub scopes: Vec<PermissionName>,
    pub memberships: Vec<MembershipBody>,
    /// The service account a key or access token acts for; null otherwise.
    pub service_account: Nullable<ServiceAccountRef>,
    /// The resource paths a key is restricted to; null when unrestricted or not a key.
    pub resources: Nullable<Vec<String>>,
}

#[derive(Debug, Object)]
pub struct ServiceAccountRef {
    pub id: Uuid,
    pub name: String,
    pub organization_id: Uuid,
}

#[derive(Debug, Object)]
pub struct AuthorizeBody {
    pub allowed: bool,
    /// Null for the root token and service accounts.
    pub user_id: Nullable<Uuid>,
    /// The service account behind a key or access token; null otherwise.
    pub service_account_id: Nullable<Uuid>,
    pub organization_id: Uuid,
    /// The resource decided at; null: organization-wide.
    pub resource: Nullable<String>,
    /// The role in effect there. Null for the root token.
    pub role: Nullable<RoleName>,
    /// Effective permissions there.
    pub scopes: Vec<PermissionName>,
    pub auth_method: AuthMethodName,
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
        #[oai(header = "X-Portcullis-Service-Account")] String,
    ),
}

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Identity")]
impl MeApi {
    /// Who is calling, how, and with which permissions.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, state: Data<&AppState>, caller: Caller) -> Answer<Json<MeBody>, MeStatuses> {
        let me = identity::me(&state, &caller).await?;
        Ok(Json(MeBody {
            user: caller.user.as_deref().map(UserBody::from).into(),
            auth_method: caller.principal.auth_method().into(),
            organization_id: me.organization_id.into(),
            api_key_id: caller.principal.api_key_id().into(),
            scopes: permission_names(me.scopes),
            memberships: me
                .memberships
                .into_iter()
                .map(|m| MembershipBody {
                    organization_id: m.organization_id,
                    role: m.role.into(),
                })
                .collect(),
            service_account: me
                .service_account
                .map(|account| ServiceAccountRef {
                    id: account.id,
                    name: account.name.into_inner(),
                    organization_id: account.organization_id,
                })
                .into(),
            resources: caller
                .principal
                .restriction()
                .map(Restriction::names)
                .into(),
        }))
    }

    /// Forward-auth check: may the caller use `permission` in the organization, or at
    /// `resource` there? For nginx `auth_request` and Traefik `forwardAuth`.
    #[oai(path = "/authorize", method = "get", operation_id = "authorize")]
    async fn authorize(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        permission: Query<PermissionName>,
        /// Defaults to the organization of an API key or access token.
        organization_id: Query<Option<Uuid>>,
        /// A resource path (`projects/web/environments/prod`): decide there, with the role in
        /// effect at it. Omitted: organization-wide.
        resource: Query<Option<String>>,
    ) -> Answer<AuthorizeResponse, AuthorizeStatuses> {
        let resource = resource.0.map(ResourcePath::parse).transpose()?;
        let (organization_id, access) = identity::authorize(
            &state,
            &caller,
            permission.0.into(),
            organization_id.0,
            resource.as_ref(),
        )
        .await?;
        let user_id = caller.principal.user_id();
        let service_account_id = caller.principal.service_account_id();
        let role = access.role.map(RoleName::from);
        let scopes = access.permissions;
        let headers = (
            user_id.map(|id| id.to_string()).unwrap_or_default(),
            organization_id.to_string(),
            access
                .role
                .map(|r| r.as_str())
                .unwrap_or_default()
                .to_owned(),
            scopes.to_csv(),
            service_account_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        );
        let body = AuthorizeBody {
            allowed: true,
            user_id: user_id.into(),
            service_account_id: service_account_id.into(),
            organization_id,
            resource: resource.map(ResourcePath::into_string).into(),
            role: role.into(),
            scopes: permission_names(scopes),
            auth_method: caller.principal.auth_method().into(),
        };
        Ok(AuthorizeResponse::Allowed(
            Json(body),
            headers.0,
            headers.1,
            headers.2,
            headers.3,
            headers.4,
        ))
    }
}
