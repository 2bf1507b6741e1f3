//! The console's handlers: each parses a form, calls one operation, renders a page. Errors
//! become the error page (or a message beside the form) here, in one place.

pub mod account;
pub mod api_keys;
pub mod auth;
pub mod links;
pub mod members;
pub mod organizations;
pub mod service_accounts;

use crate::pages::ErrorPage;
use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::Html;
use poem::{IntoResponse, Request, Response};
use portcullis_api::{ApiError, AppState, Caller};
use portcullis_domain::{Error, rules};

/// The signed-in person behind a console request, or the response that sends them to sign in
/// (or refuses an untrusted write).
pub(crate) async fn person(state: &AppState, req: &Request) -> Result<Caller, Response> {
    let caller = match state.authenticate(req).await {
        Ok(caller) => caller,
        Err(Error::Unauthenticated(_)) => return Err(to_login()),
        Err(error) => return Err(error_page(error)),
    };
    if rules::require_session(&caller.principal).is_err() {
        return Err(to_login());
    }
    Ok(caller)
}

fn to_login() -> Response {
    see_other("/console/login")
}

/// After a successful form post: show the result at its own address (post/redirect/get).
pub(crate) fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

pub(crate) fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => Html(html).with_status(status).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "console template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The status and message the JSON API would give for this error.
pub(crate) fn explain(error: Error) -> (StatusCode, String) {
    let api = ApiError::from(error);
    let body = api.body();
    let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut message = body.message.clone();
    if let Some(missing) = &body.missing_permissions {
        message = format!("{message} (missing: {})", missing.join(", "));
    }
    (status, message)
}

pub(crate) fn error_page(error: Error) -> Response {
    let (status, message) = explain(error);
    render(
        &ErrorPage {
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            message,
        },
        status,
    )
}
