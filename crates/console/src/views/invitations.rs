//! Invitations on the organization page: create (the link shown once, with a copy button),
//! resend (a new link), revoke.

use super::organizations::{Refill, back_to_page, organization_page};
use super::{explain, me, person, render};
use crate::pages::{InvitationCreatedPage, Me, NewInvitationForm, PageError, day};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use portcullis_api::AppState;
use portcullis_api::operations::invitations::{self, IssuedInvitation};
use portcullis_domain::{Email, Error, Role, RoleAt};
use uuid::Uuid;

#[handler]
pub async fn create(
    req: &Request,
    Data(state): Data<&AppState>,
    Path(org_id): Path<Uuid>,
    Form(form): Form<NewInvitationForm>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let created = async {
        let email = Email::parse(&form.email)?;
        let role: Role = form.role.parse()?;
        let grants = grants(&form.grants)?;
        let base = state.link_base(req.headers());
        invitations::create(state, &caller, org_id, email, role, grants, &base).await
    };
    match created.await {
        Ok(issued) => issued_page(me(&caller), org_id, issued, false, StatusCode::CREATED),
        Err(error) => {
            let (status, message) = explain(error);
            let refill = Refill {
                invitation: form,
                ..Refill::default()
            };
            let error = PageError::new("invitation-form", message);
            organization_page(state, &caller, org_id, refill, error, status).await
        }
    }
}

/// `resource=role` pairs, separated by spaces, commas or lines.
fn grants(typed: &str) -> Result<Vec<RoleAt>, Error> {
    let pairs: Vec<&str> = typed
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|pair| !pair.is_empty())
        .collect();
    RoleAt::from_csv(&pairs.join(","))
}

fn issued_page(
    me: Me,
    org_id: Uuid,
    issued: IssuedInvitation,
    resent: bool,
    status: StatusCode,
) -> Response {
    render(
        &InvitationCreatedPage {
            me,
            organization_id: org_id,
            email: issued.invitation.email.to_string(),
            role: issued.invitation.role.as_str(),
            link: issued.invite_url,
            expires: day(issued.invitation.expires_at),
            resent,
        },
        status,
    )
}

#[handler]
pub async fn resend(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, invitation_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let base = state.link_base(req.headers());
    match invitations::resend(state, &caller, org_id, invitation_id, &base).await {
        Ok(issued) => issued_page(me(&caller), org_id, issued, true, StatusCode::OK),
        Err(error) => back_to_page(state, &caller, org_id, Err(error), "invitations").await,
    }
}

#[handler]
pub async fn revoke(
    req: &Request,
    Data(state): Data<&AppState>,
    Path((org_id, invitation_id)): Path<(Uuid, Uuid)>,
) -> Response {
    let caller = match person(state, req).await {
        Ok(caller) => caller,
        Err(resp) => return resp,
    };
    let outcome = invitations::revoke(state, &caller, org_id, invitation_id).await;
    back_to_page(state, &caller, org_id, outcome, "invitations").await
}
