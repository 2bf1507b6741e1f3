//! Service accounts and grants on the organization page: create and delete accounts, give and
//! take roles on resources to members and accounts.

use super::organizations::back_to_page;
use super::{error_page, person, see_other};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::grants;
use portcullis_api::operations::service_accounts::{self, NewServiceAccount};
use portcullis_domain::{Error, Holder, Name, ResourcePath, RoleAt};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct NewAccountForm {
    name: String,
    role: String,
    #[serde(default)]
    description: String,
}

#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let new = NewServiceAccount {
            name: Name::parse(&form.name)?,
            role: form.role.parse()?,
            description: Some(form.description),
        };
        service_accounts::create(state, &caller, org_id, new).await
    };
    let outcome = created.await.map(|_| ());
    back_to_page(state, &caller, org_id, outcome, "#service-accounts").await
}

#[handler]
pub async fn delete(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, account_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match service_accounts::delete(state, &caller, org_id, account_id).await {
        Ok(()) => see_other(&format!("/console/organizations/{org_id}#service-accounts")),
        Err(error) => error_page(error),
    }
}

/// `user:<id>` or `service_account:<id>`: whose grant.
#[derive(Deserialize)]
pub struct GrantForm {
    holder: String,
    resource: String,
    #[serde(default)]
    role: String,
}

fn holder(raw: &str) -> Result<Holder, Error> {
    let parsed = match raw.split_once(':') {
        Some(("user", id)) => id.parse().ok().map(Holder::User),
        Some(("service_account", id)) => id.parse().ok().map(Holder::ServiceAccount),
        _ => None,
    };
    parsed.ok_or_else(|| Error::validation("choose a member or a service account"))
}

#[handler]
pub async fn set_grant(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<GrantForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let set = async {
        let holder = holder(&form.holder)?;
        let grant = RoleAt::parse(&form.resource, form.role.parse()?)?;
        grants::set(state, &caller, org_id, holder, grant).await
    };
    let outcome = set.await.map(|_| ());
    back_to_page(state, &caller, org_id, outcome, "#grants").await
}

#[handler]
pub async fn remove_grant(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<GrantForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let removed = async {
        let holder = holder(&form.holder)?;
        let resource = ResourcePath::parse(&form.resource)?;
        grants::remove(state, &caller, org_id, holder, &resource).await
    };
    match removed.await {
        Ok(()) => see_other(&format!("/console/organizations/{org_id}#grants")),
        Err(error) => error_page(error),
    }
}
