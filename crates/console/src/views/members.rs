//! Adding members, changing their roles, removing them.

use super::organizations::back_to_page;
use super::{person, see_other};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::members;
use portcullis_domain::{Email, Role};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct AddMemberForm {
    email: String,
    role: String,
}

#[handler]
pub async fn add(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<AddMemberForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let added = async {
        let email = Email::parse(&form.email)?;
        let role: Role = form.role.parse()?;
        members::add(state, &caller, org_id, &email, role).await
    };
    let outcome = added.await.map(|_| ());
    back_to_page(state, &caller, org_id, outcome, "member-form").await
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

#[handler]
pub async fn change_role(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, user_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<RoleForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let changed = async {
        let role: Role = form.role.parse()?;
        members::change_role(state, &caller, org_id, user_id, role).await
    };
    let outcome = changed.await.map(|_| ());
    back_to_page(state, &caller, org_id, outcome, "members").await
}

#[handler]
pub async fn remove(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, user_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let leaving = caller.user.as_ref().is_some_and(|user| user.id == user_id);
    match members::remove(state, &caller, org_id, user_id).await {
        Ok(()) if leaving => see_other("/console"),
        outcome => back_to_page(state, &caller, org_id, outcome, "members").await,
    }
}
