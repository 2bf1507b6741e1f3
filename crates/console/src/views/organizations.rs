//! The organizations a person belongs to, creating one, switching between them, and one
//! organization's page.

use super::{error_page, explain, me, person, render, see_other};
use crate::pages::{
    AccountRow, InvitationRow, KeyRow, MemberRow, NewInvitationForm, NewKeyForm, OrganizationPage,
    OrganizationsPage, PageError, Section,
};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use portcullis_api::operations::{
    api_keys, grants, invitations, members, organizations, service_accounts,
};
use portcullis_api::{AppState, Caller};
use portcullis_domain::{ApiKey, Error, Holder, Member, Name, OrgSlug, Organization};
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
                me: me(caller),
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

#[derive(Deserialize)]
pub struct SwitchQuery {
    organization: Uuid,
}

/// The organization switcher is a plain GET form (no script needed): on to the one chosen.
#[handler]
pub async fn switch(Query(query): Query<SwitchQuery>) -> Response {
    see_other(&format!("/console/organizations/{}", query.organization))
}

/// The organization and the person's others, for the navigation every organization page has.
pub(crate) async fn with_others(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
) -> Result<(Organization, Vec<Organization>), Error> {
    let organization = organizations::get(state, caller, org_id).await?;
    let others = organizations::list(state, caller).await?;
    Ok((organization, others))
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
        Refill::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// What a refused form had in it, to show again.
#[derive(Default)]
pub(crate) struct Refill {
    pub key: NewKeyForm,
    pub invitation: NewInvitationForm,
}

/// Who holds a key, as the listing shows it.
pub(crate) fn owner(key: &ApiKey, members: &[Member], accounts: &[AccountRow]) -> String {
    match key.holder {
        Holder::User(user_id) => members
            .iter()
            .find(|m| m.user_id == user_id)
            .map_or_else(|| user_id.to_string(), |m| m.email.to_string()),
        Holder::ServiceAccount(id) => accounts.iter().find(|a| a.id == id).map_or_else(
            || id.to_string(),
            |a| format!("{} (service account)", a.name),
        ),
    }
}

/// An organization's page: its keys, members, invitations and service accounts, with their
/// forms (one refilled, with `error` beside it, when it was refused).
pub(crate) async fn organization_page(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    refill: Refill,
    error: Option<PageError>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let (organization, organizations) = with_others(state, caller, org_id).await?;
        let members = members::list(state, caller, org_id).await?;
        let keys = api_keys::list(state, caller, org_id).await?;
        let mut accounts = Vec::new();
        for account in service_accounts::list(state, caller, org_id).await? {
            let holder = Holder::ServiceAccount(account.id);
            let grants = grants::list(state, caller, org_id, holder).await?;
            accounts.push(AccountRow::new(account, grants));
        }
        // Managing invitations needs `admin`: the operation's refusal hides the section.
        let pending = match invitations::list(state, caller, org_id).await {
            Ok(pending) => Some(pending),
            Err(Error::Forbidden(_)) => None,
            Err(error) => return Err(error),
        };
        Ok::<_, Error>((
            organization,
            organizations,
            members,
            keys,
            accounts,
            pending,
        ))
    };
    let (organization, organizations, members, keys, accounts, pending) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return error_page(error),
    };
    let now = state.clock.now();
    let keys = keys
        .into_iter()
        .map(|key| {
            let owner = owner(&key, &members, &accounts);
            KeyRow::new(key, owner, now)
        })
        .collect();
    let invitations = pending.map(|pending| {
        pending
            .into_iter()
            .map(|invitation| {
                let invited_by = invitation
                    .invited_by
                    .and_then(|id| members.iter().find(|m| m.user_id == id))
                    .map(|m| m.email.to_string())
                    .unwrap_or_default();
                InvitationRow::new(invitation, invited_by)
            })
            .collect()
    });
    let members = members.into_iter().map(MemberRow::from).collect();
    render(
        &OrganizationPage {
            me: me(caller),
            organization,
            organizations,
            section: Section::Overview,
            members,
            keys,
            form: refill.key,
            error,
            roles: crate::pages::ROLES,
            accounts,
            account_roles: crate::pages::ACCOUNT_ROLES,
            grant_roles: crate::pages::GRANT_ROLES,
            invitations,
            invitation_form: refill.invitation,
        },
        status,
    )
}

/// After a form: back to the page at `#at`, or the page again with the error beside the form
/// or list named `at`.
pub(crate) async fn back_to_page(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    outcome: Result<(), Error>,
    at: &'static str,
) -> Response {
    match outcome {
        Ok(()) => see_other(&format!("/console/organizations/{org_id}#{at}")),
        Err(error) => {
            let (status, message) = explain(error);
            let error = PageError::new(at, message);
            organization_page(state, caller, org_id, Refill::default(), error, status).await
        }
    }
}
