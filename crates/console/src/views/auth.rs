//! Signing in and out.

use super::{error_page, explain, render, see_other};
use crate::pages::LoginPage;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form};
use poem::{IntoResponse, Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::accounts;
use portcullis_domain::{Error, rules};
use serde::Deserialize;

#[handler]
pub async fn login_page() -> Response {
    render(&LoginPage::default(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

#[handler]
pub async fn log_in(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<LoginForm>,
) -> Response {
    // The operation applies the API's rules: no foreign Origin, the per-address limit.
    let client = state.anonymous(req);
    let user_agent = req.header(header::USER_AGENT);
    match accounts::log_in(state, client, user_agent, &form.email, &form.password).await {
        Ok(logged_in) => signed_in(state, &logged_in),
        Err(error) => {
            let (status, message) = explain(error);
            let page = LoginPage {
                email: form.email,
                error: Some(message),
            };
            render(&page, status)
        }
    }
}

#[handler]
pub async fn log_out(req: &Request, Data(state): Data<&AppState>) -> Response {
    let caller = match state.authenticate(req).await {
        Ok(caller) => caller,
        Err(Error::Unauthenticated(_)) => return see_other("/console/login"),
        Err(error) => return error_page(error),
    };
    if let Ok((user_id, session_id)) = rules::require_session(&caller.principal)
        && let Err(error) = accounts::end_session(state, user_id, session_id).await
    {
        return error_page(error);
    }
    let mut resp = see_other("/console/login");
    if let Ok(cookie) = state.cleared_cookie().parse() {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp.into_response()
}

/// A new session: its cookie, and on to the organizations.
pub(crate) fn signed_in(state: &AppState, logged_in: &accounts::LoggedIn) -> Response {
    let mut resp = see_other("/console");
    if let Ok(cookie) = state.session_cookie(&logged_in.token).parse() {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}
