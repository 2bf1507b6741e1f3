//! The organizations a person belongs to, creating one, and one organization's page.

use super::{error_page, explain, person, render, see_other};
use crate::pages::{
    AccountRow, KeyRow, MemberRow, NewKeyForm, OrganizationPage, OrganizationsPage,
};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::operations::{api_keys, grants, members, organizations, service_accounts};
use portcullis_api::{AppState, Caller};
use portcullis_domain::{Error, Holder, Name, OrgSlug};
use serde::Deserialize;
use uuid::Uuid;

#[handler]
pub async fn list(req: &Request, Data(state): Data<&AppState>) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    organizations_page(
        state,
        &caller,
        OrganizationForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Default, Deserialize)]
pub struct OrganizationForm {
    name: String,
    slug: String,
}

#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<OrganizationForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let new = organizations::NewOrganization {
            name: Name::parse(&form.name)?,
            slug: OrgSlug::parse(&form.slug)?,
            owner_email: None,
        };
        organizations::create(state, &caller, new).await
    };
    match created.await {
        Ok(organization) => see_other(&format!("/console/organizations/{}", organization.id)),
        Err(error) => {
            let (status, message) = explain(error);
            organizations_page(state, &caller, form, Some(message), status).await
        }
    }
}

async fn organizations_page(
    state: &AppState,
    caller: &Caller,
    form: OrganizationForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match organizations::list(state, caller).await {
        Ok(organizations) => render(
            &OrganizationsPage {
                email: signed_in_as(caller),
                organizations,
                name: form.name,
                slug: form.slug,
                error,
            },
            status,
        ),
        Err(error) => error_page(error),
    }
}

pub(crate) fn signed_in_as(caller: &Caller) -> String {
    caller
        .user
        .as_ref()
        .map(|user| user.email.to_string())
        .unwrap_or_default()
}

#[handler]
pub async fn show(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    organization_page(
        state,
        &caller,
        org_id,
        NewKeyForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// An organization's page: its members and the keys the person may see, with the form to
/// create a key (refilled, with `error`, when a creation failed).
pub(crate) async fn organization_page(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    form: NewKeyForm,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let organization = organizations::get(state, caller, org_id).await?;
        let members = members::list(state, caller, org_id).await?;
        let keys = api_keys::list(state, caller, org_id).await?;
        let mut accounts = Vec::new();
        for account in service_accounts::list(state, caller, org_id).await? {
            let holder = Holder::ServiceAccount(account.id);
            let grants = grants::list(state, caller, org_id, holder).await?;
            accounts.push(AccountRow::new(account, grants));
        }
        Ok::<_, Error>((organization, members, keys, accounts))
    };
    let (organization, members, keys, accounts) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let now = state.clock.now();
    let keys = keys
        .into_iter()
        .map(|key| {
            let owner = match key.holder {
                Holder::User(user_id) => members
                    .iter()
                    .find(|m| m.user_id == user_id)
                    .map_or_else(|| user_id.to_string(), |m| m.email.to_string()),
                Holder::ServiceAccount(id) => accounts.iter().find(|a| a.id == id).map_or_else(
                    || id.to_string(),
                    |a| format!("{} (service account)", a.name),
                ),
            };
            KeyRow::new(key, owner, now)
        })
        .collect();
    let members = members.into_iter().map(MemberRow::from).collect();
    render(
        &OrganizationPage {
            email: signed_in_as(caller),
            organization,
            members,
            keys,
            form,
            error,
            roles: crate::pages::ROLES,
            accounts,
            account_roles: crate::pages::ACCOUNT_ROLES,
            grant_roles: crate::pages::GRANT_ROLES,
        },
        status,
    )
}

/// After a form: back to the page at `anchor`, or the page again with the error shown.
pub(crate) async fn back_to_page(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    outcome: Result<(), Error>,
    anchor: &str,
) -> Response {
    match outcome {
        Ok(()) => see_other(&format!("/console/organizations/{org_id}{anchor}")),
        Err(error) => {
            let (status, message) = explain(error);
            let form = NewKeyForm::default();
            organization_page(state, caller, org_id, form, Some(message), status).await
        }
    }
}
