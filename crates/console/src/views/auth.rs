//! Signing in and out, and signing up as the server's mode allows.

use super::{error_page, explain, render, see_other};
use crate::pages::{LoginPage, SignupPage};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form};
use poem::{IntoResponse, Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::accounts;
use portcullis_domain::rules::SignupPolicy;
use portcullis_domain::{Email, Error, Name, rules};
use serde::Deserialize;

/// Whether the sign-in page offers signing up: the operation asks the same rule as signing up.
async fn signup_offered(state: &AppState) -> bool {
    accounts::sign_up_open(state).await.unwrap_or(false)
}

#[handler]
pub async fn login_page(Data(state): Data<&AppState>) -> Response {
    let page = LoginPage {
        signup: signup_offered(state).await,
        ..LoginPage::default()
    };
    render(&page, StatusCode::OK)
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
                signup: signup_offered(state).await,
            };
            render(&page, status)
        }
    }
}

#[handler]
pub async fn signup_page(Data(state): Data<&AppState>) -> Response {
    let open = match accounts::sign_up_open(state).await {
        Ok(open) => open,
        Err(error) => return error_page(error),
    };
    let page = SignupPage {
        open,
        first_user: state.config.signup == SignupPolicy::FirstUser,
        ..SignupPage::default()
    };
    // Closed: the same status the API's signup would answer.
    let status = if open {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    render(&page, status)
}

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// The JSON signup's operation, then signed in and on to the organizations.
#[handler]
pub async fn sign_up(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<SignupForm>,
) -> Response {
    let signed_up = async {
        let name = Some(form.name.trim())
            .filter(|n| !n.is_empty())
            .map(Name::parse)
            .transpose()?;
        let new = accounts::NewAccount {
            email: Email::parse(&form.email)?,
            password: form.password.clone(),
            name,
        };
        accounts::sign_up(state, state.anonymous(req), new, None).await?;
        let user_agent = req.header(header::USER_AGENT);
        let client = state.anonymous(req);
        accounts::log_in(state, client, user_agent, &form.email, &form.password).await
    };
    match signed_up.await {
        Ok(logged_in) => signed_in(state, &logged_in),
        Err(error) => {
            let (status, message) = explain(error);
            let open = accounts::sign_up_open(state).await.unwrap_or(false);
            let page = SignupPage {
                email: form.email,
                name: form.name,
                error: Some(message),
                open,
                first_user: state.config.signup == SignupPolicy::FirstUser,
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
