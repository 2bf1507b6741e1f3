//! The console's handlers: each parses a form, calls one operation, renders a page. Errors
//! become the error page (or a message beside the form) here, in one place.

pub mod account;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod invitations;
pub mod links;
pub mod members;
pub mod organizations;
pub mod service_accounts;

use crate::pages::{ErrorPage, Me};
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

/// The header's view of the caller. Whether to link the admin pages is the domain's rule.
pub(crate) fn me(caller: &Caller) -> Me {
    Me {
        email: caller
            .user
            .as_ref()
            .map(|user| user.email.to_string())
            .unwrap_or_default(),
        platform_admin: rules::administer_platform(&caller.principal, caller.user.as_deref())
            .is_ok(),
    }
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
            status_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.".to_owned(),
            )
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
    status_page(status, message)
}

/// The error page: the console's look, the status's name, and what went wrong.
pub(crate) fn status_page(status: StatusCode, message: String) -> Response {
    let page = ErrorPage {
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        message,
    };
    match page.render() {
        Ok(html) => Html(html).with_status(status).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "console error template failed");
            status.into_response()
        }
    }
}
