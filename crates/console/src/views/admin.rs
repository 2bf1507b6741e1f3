//! Platform administration: users (create, disable, enable, a password-reset link) and every
//! organization. The operations refuse anyone but a platform admin; these pages show that
//! refusal like any other.

use super::audit::PageQuery;
use super::{error_page, explain, me, person, render, see_other};
use crate::pages::{
    AdminOrganizationsPage, NewUserForm, PageError, ResetLinkPage, UserRow, UsersPage, day,
};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use portcullis_api::operations::accounts::NewAccount;
use portcullis_api::operations::{admin, password_resets};
use portcullis_api::{AppState, Caller};
use portcullis_domain::{Email, Error, Name};
use portcullis_persistence::Page;
use serde::Deserialize;
use uuid::Uuid;

#[handler]
pub async fn list_users(
    req: &Request,
    Data(state): Data<&AppState>,
    Query(query): Query<PageQuery>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    users_page(
        state,
        &caller,
        &query,
        NewUserForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn users_page(
    state: &AppState,
    caller: &Caller,
    query: &PageQuery,
    form: NewUserForm,
    error: Option<PageError>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let limit = query.limit()?;
        let users = admin::list_users(state, caller, query.probe(limit)).await?;
        Ok::<_, Error>((users, limit))
    };
    let (mut users, limit) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let more = users.len() as u64 > limit;
    users.truncate(limit as usize);
    let older = users
        .last()
        .filter(|_| more)
        .map(|last| query.older("/console/admin/users", last.id));
    render(
        &UsersPage {
            me: me(caller),
            users: users.into_iter().map(UserRow::from).collect(),
            older,
            paged: query.before.is_some(),
            form,
            error,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct NewUser {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

#[handler]
pub async fn create_user(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<NewUser>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let name = Some(form.name.trim())
            .filter(|n| !n.is_empty())
            .map(Name::parse)
            .transpose()?;
        let new = NewAccount {
            email: Email::parse(&form.email)?,
            password: form.password,
            name,
        };
        admin::create_user(state, &caller, new).await
    };
    match created.await {
        Ok(_) => see_other("/console/admin/users"),
        Err(error) => {
            let (status, message) = explain(error);
            let refill = NewUserForm {
                email: form.email,
                name: form.name,
            };
            let error = PageError::new("user-form", message);
            let first = PageQuery {
                before: None,
                limit: None,
            };
            users_page(state, &caller, &first, refill, error, status).await
        }
    }
}

async fn set_disabled(state: &AppState, req: &Request, user_id: Uuid, disabled: bool) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match admin::update_user(state, &caller, user_id, Some(disabled), None).await {
        Ok(_) => see_other("/console/admin/users"),
        Err(Error::Forbidden(denial)) => error_page(Error::Forbidden(denial)),
        Err(error) => {
            let (status, message) = explain(error);
            let error = PageError::new("users", message);
            let first = PageQuery {
                before: None,
                limit: None,
            };
            users_page(
                state,
                &caller,
                &first,
                NewUserForm::default(),
                error,
                status,
            )
            .await
        }
    }
}

#[handler]
pub async fn disable(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(user_id): Path<Uuid>,
) -> Response {
    set_disabled(state, req, user_id, true).await
}

#[handler]
pub async fn enable(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(user_id): Path<Uuid>,
) -> Response {
    set_disabled(state, req, user_id, false).await
}

/// The reset form carries the address it is for, only to say on the page whom to send it to.
#[derive(Deserialize)]
pub struct ResetFor {
    #[serde(default)]
    email: String,
}

#[handler]
pub async fn reset_link(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(user_id): Path<Uuid>,
    Form(form): Form<ResetFor>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let base = state.link_base(req.headers());
    match password_resets::admin_link(state, &caller, user_id, &base).await {
        Ok(link) => render(
            &ResetLinkPage {
                me: me(&caller),
                email: form.email,
                link: link.reset_url,
                expires: day(link.expires_at),
            },
            StatusCode::CREATED,
        ),
        Err(error) => error_page(error),
    }
}

#[handler]
pub async fn list_organizations(
    req: &Request,
    Data(state): Data<&AppState>,
    Query(query): Query<PageQuery>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let loaded = async {
        let limit = query.limit()?;
        let organizations = admin::list_organizations(state, &caller, query.probe(limit)).await?;
        let deleted = match query.before {
            Some(_) => Vec::new(),
            None => admin::organization_deletions(state, &caller, RECENT_DELETIONS).await?,
        };
        Ok::<_, Error>((organizations, deleted, limit))
    };
    let (mut organizations, deleted, limit) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let more = organizations.len() as u64 > limit;
    organizations.truncate(limit as usize);
    let older = organizations
        .last()
        .filter(|_| more)
        .map(|last| query.older("/console/admin/organizations", last.id));
    render(
        &AdminOrganizationsPage {
            me: me(&caller),
            organizations,
            older,
            paged: query.before.is_some(),
            deleted,
        },
        StatusCode::OK,
    )
}

/// How many deletions the organizations page shows; the API pages through all of them.
const RECENT_DELETIONS: Page = Page {
    limit: 20,
    before: None,
};
