//! One's account: sessions (the current one marked) and the password.

use super::{error_page, explain, me, person, render, see_other};
use crate::pages::{AccountPage, SessionRow};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::operations::accounts;
use portcullis_api::{AppState, Caller};
use portcullis_domain::rules;
use serde::Deserialize;
use uuid::Uuid;

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    account_page(state, &caller, None, None, StatusCode::OK).await
}

async fn account_page(
    state: &AppState,
    caller: &Caller,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let Ok((user_id, session_id)) = rules::require_session(&caller.principal) else {
        return see_other("/console/login");
    };
    match accounts::sessions(state, user_id).await {
        Ok(sessions) => render(
            &AccountPage {
                me: me(caller),
                name: caller
                    .user
                    .as_ref()
                    .and_then(|user| user.name.as_ref())
                    .map(|name| name.to_string())
                    .unwrap_or_default(),
                sessions: sessions
                    .into_iter()
                    .map(|s| SessionRow::new(s, session_id))
                    .collect(),
                error,
                notice,
            },
            status,
        ),
        Err(error) => error_page(error),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

#[handler]
pub async fn change_password(
    req: &Request,
    Data(state): Data<&AppState>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let (Some(user), Some(session)) = (&caller.user, &caller.session) else {
        return see_other("/console/login");
    };
    let changed = accounts::change_password(
        state,
        user,
        session.id,
        &form.current_password,
        &form.new_password,
    )
    .await;
    match changed {
        Ok(()) => {
            let notice = Some("Password changed; your other sessions have ended.");
            account_page(state, &caller, None, notice, StatusCode::OK).await
        }
        Err(error) => {
            let (status, message) = explain(error);
            account_page(state, &caller, Some(message), None, status).await
        }
    }
}

#[handler]
pub async fn end_session(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(session_id): Path<Uuid>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let Ok((user_id, current)) = rules::require_session(&caller.principal) else {
        return see_other("/console/login");
    };
    match accounts::end_session(state, user_id, session_id).await {
        Ok(()) if session_id == current => see_other("/console/login"),
        Ok(()) => see_other("/console/account"),
        Err(error) => error_page(error),
    }
}
