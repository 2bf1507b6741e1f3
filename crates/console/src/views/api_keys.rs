//! Creating, rotating and revoking API keys from an organization's page (or a service
//! account's).

use super::organizations::{Refill, organization_page};
use super::{error_page, explain, me, person, render, see_other};
use crate::pages::{
    ConfirmRevokePage, GRACE_PERIODS, KeyCreatedPage, NewKeyForm, PageError, RotatePage,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use portcullis_api::operations::api_keys::{self, NewApiKey};
use portcullis_api::{AppState, Caller};
use portcullis_domain::{Error, Name, Permission, Permissions, Restriction};
use serde::Deserialize;
use uuid::Uuid;

#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<NewKeyForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let new = new_key(&form, state.clock.now())?;
        api_keys::create(state, &caller, org_id, new).await
    };
    match created.await {
        Ok(created) => render(
            &KeyCreatedPage {
                me: me(&caller),
                heading: format!("API key “{}” created", created.key.name),
                secret: created.secret.expose().to_owned(),
                scopes: created.key.scopes.to_csv().replace(',', ", "),
                note: None,
                back: format!("/console/organizations/{org_id}"),
            },
            StatusCode::CREATED,
        ),
        Err(error) => {
            let (status, message) = explain(error);
            let refill = Refill {
                key: form,
                ..Refill::default()
            };
            let error = PageError::new("key", message);
            organization_page(state, &caller, org_id, refill, error, status).await
        }
    }
}

/// The key the form asks for.
pub(crate) fn new_key(form: &NewKeyForm, now: DateTime<Utc>) -> Result<NewApiKey, Error> {
    Ok(NewApiKey {
        name: Name::parse(&form.name)?,
        scopes: scopes(form)?,
        expires_at: expiry(form, now)?,
        resources: resources(form)?,
    })
}

/// The paths typed in, if any: a restricted key.
fn resources(form: &NewKeyForm) -> Result<Option<Restriction>, Error> {
    let paths: Vec<&str> = form
        .resources
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|path| !path.is_empty())
        .collect();
    if paths.is_empty() {
        Ok(None)
    } else {
        Restriction::parse(&paths).map(Some)
    }
}

fn scopes(form: &NewKeyForm) -> Result<Permissions, Error> {
    let checked = [
        (&form.scope_admin, Permission::Admin),
        (&form.scope_write, Permission::Write),
        (&form.scope_deploy, Permission::Deploy),
        (&form.scope_read, Permission::Read),
    ];
    let scopes: Permissions = checked
        .into_iter()
        .filter(|(field, _)| field.is_some())
        .map(|(_, permission)| permission)
        .collect();
    if scopes.is_empty() {
        return Err(Error::validation("choose at least one scope"));
    }
    Ok(scopes)
}

/// The expiry presets: 30, 90 or 365 days, never, or the end of a chosen day (UTC).
fn expiry(form: &NewKeyForm, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Error> {
    match form.expires.as_str() {
        "30" | "90" | "365" => {
            let days: i64 = form.expires.parse().unwrap_or(30);
            Ok(Some(now + Duration::days(days)))
        }
        "never" => Ok(None),
        "date" => {
            let day = NaiveDate::parse_from_str(&form.expires_on, "%Y-%m-%d")
                .map_err(|_| Error::validation("pick an expiry date"))?;
            let end = day
                .and_hms_opt(23, 59, 59)
                .ok_or_else(|| Error::validation("pick an expiry date"))?;
            Ok(Some(end.and_utc()))
        }
        _ => Err(Error::validation("choose when the key expires")),
    }
}

/// A service account's key: its pages lead back to the account rather than the organization.
#[derive(Default, Deserialize)]
pub struct BackTo {
    account: Option<Uuid>,
}

impl BackTo {
    fn page(&self, org_id: Uuid) -> String {
        match self.account {
            Some(account) => format!("/console/organizations/{org_id}/service-accounts/{account}"),
            None => format!("/console/organizations/{org_id}"),
        }
    }
}

#[handler]
pub async fn confirm_revoke(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, key_id)): Path<(Uuid, Uuid)>,
    Query(back): Query<BackTo>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match api_keys::get(state, &caller, org_id, key_id).await {
        Ok(key) => render(
            &ConfirmRevokePage {
                me: me(&caller),
                organization_id: org_id,
                key_id,
                name: key.name.to_string(),
                key_prefix: key.key_prefix,
                account: back.account,
            },
            StatusCode::OK,
        ),
        Err(error) => error_page(error),
    }
}

#[handler]
pub async fn revoke(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, key_id)): Path<(Uuid, Uuid)>,
    Form(back): Form<BackTo>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match api_keys::revoke(state, &caller, org_id, key_id).await {
        Ok(()) => see_other(&back.page(org_id)),
        Err(error) => error_page(error),
    }
}

#[handler]
pub async fn rotate_page(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, key_id)): Path<(Uuid, Uuid)>,
    Query(back): Query<BackTo>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let grace = "3600".to_owned();
    rotate_form(state, &caller, org_id, key_id, back, grace, None).await
}

/// The rotate form, with the API's message beside it when a rotation was refused.
async fn rotate_form(
    state: &AppState,
    caller: &Caller,
    org_id: Uuid,
    key_id: Uuid,
    back: BackTo,
    grace: String,
    error: Option<(StatusCode, String)>,
) -> Response {
    let key = match api_keys::get(state, caller, org_id, key_id).await {
        Ok(key) => key,
        Err(error) => return error_page(error),
    };
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    render(
        &RotatePage {
            me: me(caller),
            organization_id: org_id,
            key_id,
            name: key.name.to_string(),
            key_prefix: key.key_prefix,
            account: back.account,
            grace,
            grace_periods: GRACE_PERIODS,
            error,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct RotateForm {
    #[serde(default)]
    grace_period_seconds: String,
    account: Option<Uuid>,
}

#[handler]
pub async fn rotate(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, key_id)): Path<(Uuid, Uuid)>,
    Form(form): Form<RotateForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let back = BackTo {
        account: form.account,
    };
    let rotated = async {
        let grace: i64 = form
            .grace_period_seconds
            .parse()
            .map_err(|_| Error::validation("choose a grace period"))?;
        let rotated = api_keys::rotate(state, &caller, org_id, key_id, grace).await?;
        Ok::<_, Error>((rotated, grace))
    };
    match rotated.await {
        Ok((rotated, grace)) => {
            let note = if grace == 0 {
                "The old key stopped working.".to_owned()
            } else {
                let until = state.clock.now() + Duration::seconds(grace);
                format!(
                    "The old key keeps working until {} at the latest; put the new one in place before then.",
                    crate::pages::day(until)
                )
            };
            render(
                &KeyCreatedPage {
                    me: me(&caller),
                    heading: format!("API key “{}” rotated", rotated.key.name),
                    secret: rotated.secret.expose().to_owned(),
                    scopes: rotated.key.scopes.to_csv().replace(',', ", "),
                    note: Some(note),
                    back: back.page(org_id),
                },
                StatusCode::CREATED,
            )
        }
        Err(error) => {
            let error = Some(explain(error));
            let grace = form.grace_period_seconds;
            rotate_form(state, &caller, org_id, key_id, back, grace, error).await
        }
    }
}
