use super::auth::create_account;
use super::organizations::OrganizationBody;
use super::{Tag, UserBody, page};
use crate::body::JsonBody;
use crate::cache::Invalidation;
use crate::credentials::Caller;
use crate::error::ApiResult;
use crate::state::AppState;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use portcullis_domain::{Denial, Error, Principal};
use uuid::Uuid;

pub struct AdminApi;

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

#[derive(ApiResponse)]
pub enum CreatedUser {
    #[oai(status = 201)]
    Created(Json<UserBody>),
}

/// The platform administrator: the root token, or a person whose user is a platform admin.
fn require_platform_admin(caller: &Caller) -> ApiResult<()> {
    let is_admin = match &caller.principal {
        Principal::Root => true,
        principal => {
            principal.is_person() && caller.user.as_ref().is_some_and(|u| u.platform_admin)
        }
    };
    if is_admin {
        Ok(())
    } else {
        Err(Denial::Refused("only a platform administrator may do this").into())
    }
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
    ) -> ApiResult<Json<Vec<UserBody>>> {
        require_platform_admin(&caller)?;
        let users = state.store.list_users(page(limit.0, before.0)?).await?;
        Ok(Json(users.iter().map(UserBody::from).collect()))
    }

    /// Create a user.
    #[oai(path = "/users", method = "post", operation_id = "admin_create_user")]
    async fn create_user(
        &self,
        state: Data<&AppState>,
        caller: Caller,
        body: JsonBody<CreateUser>,
    ) -> ApiResult<CreatedUser> {
        require_platform_admin(&caller)?;
        let CreateUser {
            email,
            name,
            password,
        } = body.0;
        let user = create_account(&state, &email, &password, name.as_deref(), false).await?;
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
    ) -> ApiResult<Json<UserBody>> {
        require_platform_admin(&caller)?;
        let UpdateUser {
            disabled,
            platform_admin,
        } = body.0;
        let user = state
            .store
            .update_user(user_id.0, disabled, platform_admin)
            .await?
            .ok_or(Error::NotFound("user"))?;
        state.invalidate(Invalidation::User(user.id)).await;
        if disabled == Some(true) {
            for digest in state.store.delete_sessions_of_user(user.id, None).await? {
                state.invalidate(Invalidation::Session(digest)).await;
            }
        }
        Ok(Json((&user).into()))
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
    ) -> ApiResult<Json<Vec<OrganizationBody>>> {
        require_platform_admin(&caller)?;
        let organizations = state
            .store
            .list_organizations(page(limit.0, before.0)?)
            .await?;
        Ok(Json(organizations.into_iter().map(Into::into).collect()))
    }
}
