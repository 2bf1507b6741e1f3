//! Service accounts and grants on the organization page: create and delete accounts, give and
//! take roles on resources to members and accounts. An account's own page lists its keys and
//! creates new ones.

use super::api_keys::new_key;
use super::organizations::{back_to_page, owner, with_others};
use super::{error_page, explain, me, person, render};
use crate::pages::{AccountRow, KeyCreatedPage, KeyRow, NewKeyForm, PageError, ServiceAccountPage};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::operations::service_accounts::{self, NewServiceAccount};
use portcullis_api::operations::{api_keys, grants};
use portcullis_api::{AppState, Caller};
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
    back_to_page(state, &caller, org_id, outcome, "service-account-form").await
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
    let outcome = service_accounts::delete(state, &caller, org_id, account_id).await;
    back_to_page(state, &caller, org_id, outcome, "service-accounts").await
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
    back_to_page(state, &caller, org_id, outcome, "grants").await
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
    back_to_page(state, &caller, org_id, removed.await, "grants").await
}

#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, account_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let form = NewKeyForm::default();
    account_page(
        state,
        &caller,
        org_id,
        account_id,
        form,
        None,
        StatusCode::OK,
    )
    .await
}

/// The account, the keys of it the person may see, and the form for a new one.
async fn account_page(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    account_id: Uuid,
    form: NewKeyForm,
    error: Option<PageError>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let (organization, organizations) = with_others(state, caller, org_id).await?;
        let account = service_accounts::get(state, caller, org_id, account_id).await?;
        let holder = Holder::ServiceAccount(account.id);
        let grants = grants::list(state, caller, org_id, holder).await?;
        let keys = api_keys::list(state, caller, org_id).await?;
        Ok::<_, Error>((organization, organizations, account, grants, keys))
    };
    let (organization, organizations, account, grants, keys) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let account = AccountRow::new(account, grants);
    let now = state.clock.now();
    let holder = Holder::ServiceAccount(account.id);
    let accounts = std::slice::from_ref(&account);
    let keys = keys
        .into_iter()
        .filter(|key| key.holder == holder)
        .map(|key| {
            let owner = owner(&key, &[], accounts);
            KeyRow::new(key, owner, now)
        })
        .collect();
    render(
        &ServiceAccountPage {
            me: me(caller),
            organization,
            organizations,
            section: crate::pages::Section::ServiceAccount,
            account,
            keys,
            form,
            error,
        },
        status,
    )
}

#[handler]
pub async fn create_key(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, account_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<NewKeyForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let new = new_key(&form, state.clock.now())?;
        api_keys::create_for_service_account(state, &caller, org_id, account_id, new).await
    };
    match created.await {
        Ok(created) => render(
            &KeyCreatedPage {
                me: me(&caller),
                heading: format!("API key “{}” created", created.key.name),
                secret: created.secret.expose().to_owned(),
                scopes: created.key.scopes.to_csv().replace(',', ", "),
                note: Some("It acts as the service account, with its role.".to_owned()),
                back: format!("/console/organizations/{org_id}/service-accounts/{account_id}"),
            },
            StatusCode::CREATED,
        ),
        Err(error) => {
            let (status, message) = explain(error);
            let error = PageError::new("key", message);
            account_page(state, &caller, org_id, account_id, form, error, status).await
        }
    }
}
