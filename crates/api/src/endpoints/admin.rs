use super::auth::new_account;
use super::organizations::OrganizationBody;
use super::{Nullable, Tag, UserBody, page};
use crate::body::JsonBody;
use crate::credentials::Caller;
use crate::error::Answer;
use crate::operations::{admin, password_resets};
use crate::state::AppState;
use crate::statuses;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::OrganizationDeletion;
use uuid::Uuid;

statuses! {
    ListStatuses: 400, 401, 403, 429, 500, 503;
    CreateStatuses: 400, 401, 403, 409, 415, 422, 429, 500, 503;
    UpdateStatuses: 400, 401, 403, 404, 415, 422, 429, 500, 503;
    ResetLinkStatuses: 400, 401, 403, 404, 429, 500, 503;
}

pub struct AdminApi;

/// What a deleted organization leaves behind.
#[derive(Debug, Object)]
pub struct DeletedOrganizationBody {
    /// The deletion's id, for paging.
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub deleted_at: DateTime<Utc>,
    /// Who deleted it; null for the root token.
    pub deleted_by_user_id: Nullable<Uuid>,
    /// The client address it was deleted from.
    pub ip: Nullable<String>,
}

impl From<OrganizationDeletion> for DeletedOrganizationBody {
    fn from(deletion: OrganizationDeletion) -> Self {
        let organization = deletion.organization;
        Self {
            id: deletion.id,
            organization_id: organization.id,
            name: organization.name.into_inner(),
            slug: organization.slug.to_string(),
            created_at: organization.created_at,
            deleted_at: deletion.at,
            deleted_by_user_id: deletion.actor_user_id.into(),
            ip: deletion.ip.into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct CreateUser {
    pub email: String,
    pub name: Option<String>,
    /// 8 to 128 characters, not the email.
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: String,
}

#[derive(Debug, Object)]
pub struct UpdateUser {
    /// A disabled user's sessions end and their keys give 401.
    pub disabled: Option<bool>,
    pub platform_admin: Option<bool>,
}

/// A password-reset link, shown once.
#[derive(Debug, Object)]
pub struct ResetLinkBody {
    /// `<public URL>/console/password-reset?token=<token>`
    pub reset_url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum CreatedResetLink {
    #[oai(status = 201)]
    Created(Json<ResetLinkBody>),
}

#[derive(ApiResponse)]
pub enum CreatedUser {
    #[oai(status = 201)]
    Created(Json<UserBody>),
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "Tag::Admin")]
impl AdminApi {
    /// Every user, newest first.
    #[oai(path = "/users", method = "get", operation_id = "admin_list_users")]
    async fn list_users(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// A user id: only users created strictly before it.
        before: Query<Option<Uuid>>,
    ) -> Answer<Json<Vec<UserBody>>, ListStatuses> {
        let users = admin::list_users(&state, &caller, page(limit.0, before.0)?).await?;
        Ok(Json(users.iter().map(UserBody::from).collect()))
    }

    /// Create a user.
    #[oai(path = "/users", method = "post", operation_id = "admin_create_user")]
    async fn create_user(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        body: JsonBody<CreateUser>,
    ) -> Answer<CreatedUser, CreateStatuses> {
        let CreateUser {
            email,
            name,
            password,
        } = body.0;
        let new = new_account(&email, password, name.as_deref())?;
        let user = admin::create_user(&state, &caller, new).await?;
        Ok(CreatedUser::Created(Json((&user).into())))
    }

    /// Disable or enable a user, or grant or withdraw platform administration.
    #[oai(
        path = "/users/:user_id",
        method = "patch",
        operation_id = "admin_update_user"
    )]
    async fn update_user(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        user_id: Path<Uuid>,
        body: JsonBody<UpdateUser>,
    ) -> Answer<Json<UserBody>, UpdateStatuses> {
        let UpdateUser {
            disabled,
            platform_admin,
        } = body.0;
        let user = admin::update_user(&state, &caller, user_id.0, disabled, platform_admin).await?;
        Ok(Json((&user).into()))
    }

    /// A password-reset link for a user, valid 1 hour, for instances without SMTP; it replaces
    /// the user's older links.
    #[oai(
        path = "/users/:user_id/password-reset",
        method = "post",
        operation_id = "admin_create_password_reset"
    )]
    async fn create_password_reset(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        request: &Request,
        user_id: Path<Uuid>,
    ) -> Answer<CreatedResetLink, ResetLinkStatuses> {
        let base = state.link_base(request.headers());
        let link = password_resets::admin_link(&state, &caller, user_id.0, &base).await?;
        Ok(CreatedResetLink::Created(Json(ResetLinkBody {
            reset_url: link.reset_url,
            expires_at: link.expires_at,
        })))
    }

    /// Every organization, newest first.
    #[oai(
        path = "/organizations",
        method = "get",
        operation_id = "admin_list_organizations"
    )]
    async fn list_organizations(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// An organization id: only organizations created strictly before it.
        before: Query<Option<Uuid>>,
    ) -> Answer<Json<Vec<OrganizationBody>>, ListStatuses> {
        let page = page(limit.0, before.0)?;
        let organizations = admin::list_organizations(&state, &caller, page).await?;
        Ok(Json(organizations.into_iter().map(Into::into).collect()))
    }

    /// Deleted organizations, most recently deleted first: what each was, when and by whom it
    /// was deleted.
    #[oai(
        path = "/deleted-organizations",
        method = "get",
        operation_id = "admin_list_deleted_organizations"
    )]
    async fn list_deleted_organizations(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        /// 1 to 200, default 50.
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// A deletion's id: only deletions strictly before it.
        before: Query<Option<Uuid>>,
    ) -> Answer<Json<Vec<DeletedOrganizationBody>>, ListStatuses> {
        let page = page(limit.0, before.0)?;
        let deletions = admin::organization_deletions(&state, &caller, page).await?;
        Ok(Json(deletions.into_iter().map(Into::into).collect()))
    }
}
