//! The pages behind the one-time links: accepting an invitation (signing up or in on the way)
//! and resetting a password, plus asking for a reset link.

use super::{error_page, explain, me, person, render, see_other};
use crate::pages::{InvitationPage, MessagePage, PasswordResetPage, ResetRequestPage};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Query};
use poem::{Request, Response, handler};
use portcullis_api::operations::{accounts, invitations, password_resets};
use portcullis_api::{AppState, Caller};
use portcullis_domain::{Email, Error, Name};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[handler]
pub async fn invitation(
    req: &Request,
    Data(state): Data<&AppState>,
    Query(query): Query<TokenQuery>,
) -> Response {
    // These pages work for people signed in or not.
    let caller = person(state, req).await.ok();
    invitation_page(
        state,
        req,
        caller.as_ref(),
        &query.token,
        None,
        StatusCode::OK,
    )
    .await
}

async fn invitation_page(
    state: &AppState,
    req: &Request,
    caller: Option<&Caller>,
    token: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let details = match invitations::look_up(state, state.anonymous(req), token).await {
        Ok(details) => details,
        Err(error) => return error_page(error),
    };
    render(
        &InvitationPage {
            email: caller.map(|c| me(c).email).unwrap_or_default(),
            signed_in: caller.is_some(),
            token: token.to_owned(),
            organization: details.organization.name.to_string(),
            role: details.invitation.role.as_str(),
            invited_email: details.invitation.email.to_string(),
            invited_by: details
                .invited_by_email
                .map(|e| e.to_string())
                .unwrap_or_default(),
            error,
        },
        status,
    )
}

#[derive(Deserialize)]
pub struct AcceptForm {
    token: String,
}

/// A signed-in person joins.
#[handler]
pub async fn accept(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let Ok(caller) = person(state, req).await else {
        return see_other(&format!("/console/invitations/accept?token={}", form.token));
    };
    let Some(user) = caller.user.clone() else {
        return see_other("/console/login");
    };
    match invitations::accept(state, &caller, &user, &form.token).await {
        Ok(accepted) => see_other(&format!(
            "/console/organizations/{}",
            accepted.organization_id
        )),
        Err(error) => {
            let (status, message) = explain(error);
            invitation_page(
                state,
                req,
                Some(&caller),
                &form.token,
                Some(message),
                status,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct InvitedSignupForm {
    token: String,
    email: String,
    #[serde(default)]
    name: String,
    password: String,
}

/// Someone without an account signs up with the invitation and lands in its organization.
#[handler]
pub async fn sign_up(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<InvitedSignupForm>,
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
        accounts::sign_up(state, state.anonymous(req), new, Some(&form.token)).await?;
        let user_agent = req.header(header::USER_AGENT);
        let client = state.anonymous(req);
        accounts::log_in(state, client, user_agent, &form.email, &form.password).await
    };
    match signed_up.await {
        Ok(logged_in) => super::auth::signed_in(state, &logged_in),
        Err(error) => {
            let (status, message) = explain(error);
            invitation_page(state, req, None, &form.token, Some(message), status).await
        }
    }
}

#[handler]
pub async fn password_reset(Query(query): Query<TokenQuery>) -> Response {
    render(
        &PasswordResetPage {
            token: query.token,
            error: None,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    token: String,
    new_password: String,
}

#[handler]
pub async fn confirm_password_reset(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<ResetForm>,
) -> Response {
    let client = state.anonymous(req);
    match password_resets::confirm(state, client, &form.token, &form.new_password).await {
        Ok(()) => render(
            &MessagePage {
                title: "Password changed",
                message: "Your password is changed and every session of yours has ended. Sign in with the new password.",
            },
            StatusCode::OK,
        ),
        Err(Error::Validation(message)) => render(
            &PasswordResetPage {
                token: form.token,
                error: Some(message),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(error) => error_page(error),
    }
}

#[handler]
pub async fn reset_request_page() -> Response {
    render(&ResetRequestPage { error: None }, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct ResetRequestForm {
    email: String,
}

/// Always the same answer, whether or not the account exists.
#[handler]
pub async fn request_password_reset(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<ResetRequestForm>,
) -> Response {
    let requested = async {
        let email = Email::parse(&form.email)?;
        let base = state.trusted_link_base(req.headers());
        password_resets::request(state, state.anonymous(req), &email, base.as_deref()).await
    };
    match requested.await {
        Ok(()) => render(
            &MessagePage {
                title: "Check your email",
                message: "If an account exists for that address, a link to reset its password is on its way. It works for one hour.",
            },
            StatusCode::ACCEPTED,
        ),
        Err(error) => {
            let (status, message) = explain(error);
            render(
                &ResetRequestPage {
                    error: Some(message),
                },
                status,
            )
        }
    }
}
