//! Creating and revoking API keys from an organization's page.

use super::organizations::{organization_page, signed_in_as};
use super::{error_page, explain, person, render, see_other};
use crate::pages::{ConfirmRevokePage, KeyCreatedPage, NewKeyForm};
use chrono::{Duration, NaiveDate, Utc};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::api_keys::{self, NewApiKey};
use portcullis_domain::{Error, Name, Permission, Permissions, Restriction};
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
        let new = NewApiKey {
            name: Name::parse(&form.name)?,
            scopes: scopes(&form)?,
            expires_at: expiry(&form, state.clock.now())?,
            resources: resources(&form)?,
        };
        api_keys::create(state, &caller, org_id, new).await
    };
    match created.await {
        Ok(created) => render(
            &KeyCreatedPage {
                email: signed_in_as(&caller),
                organization_id: org_id,
                name: created.key.name.to_string(),
                secret: created.secret.expose().to_owned(),
                scopes: created.key.scopes.to_csv().replace(',', ", "),
            },
            StatusCode::CREATED,
        ),
        Err(error) => {
            let (status, message) = explain(error);
            organization_page(state, &caller, org_id, form, Some(message), status).await
        }
    }
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
fn expiry(
    form: &NewKeyForm,
    now: chrono::DateTime<Utc>,
) -> Result<Option<chrono::DateTime<Utc>>, Error> {
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

#[handler]
pub async fn confirm_revoke(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, key_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match api_keys::get(state, &caller, org_id, key_id).await {
        Ok(key) => render(
            &ConfirmRevokePage {
                email: signed_in_as(&caller),
                organization_id: org_id,
                key_id,
                name: key.name.to_string(),
                key_prefix: key.key_prefix,
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
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    match api_keys::revoke(state, &caller, org_id, key_id).await {
        Ok(()) => see_other(&format!("/console/organizations/{org_id}")),
        Err(error) => error_page(error),
    }
}
