//! The web console at `/console`: server-rendered pages (askama) with forms that work without
//! JavaScript. Every page calls the same operations as the JSON API (`portcullis_api::operations`),
//! so the console can never allow what the API refuses. A session cookie authenticates; writes
//! pass the same Origin rule as the API's.

mod errors;
mod headers;
mod pages;
mod views;

use poem::{Endpoint, EndpointExt, Route, get, post};
use portcullis_api::{AppState, FinishResponses};

/// The console's routes, to be nested at `/console`.
pub fn routes(state: AppState) -> impl Endpoint {
    Route::new()
        .at("/", get(views::organizations::list))
        .at(
            "/login",
            get(views::auth::login_page).post(views::auth::log_in),
        )
        .at("/logout", post(views::auth::log_out))
        .at(
            "/signup",
            get(views::auth::signup_page).post(views::auth::sign_up),
        )
        .at("/switch", get(views::organizations::switch))
        .at(
            "/invitations/accept",
            get(views::links::invitation).post(views::links::accept),
        )
        .at("/invitations/signup", post(views::links::sign_up))
        .at(
            "/password-reset",
            get(views::links::password_reset).post(views::links::confirm_password_reset),
        )
        .at(
            "/password-reset/request",
            get(views::links::reset_request_page).post(views::links::request_password_reset),
        )
        .at("/account", get(views::account::show))
        .at("/account/password", post(views::account::change_password))
        .at(
            "/account/sessions/:session_id/end",
            post(views::account::end_session),
        )
        .at("/organizations", post(views::organizations::create))
        .at("/organizations/:org_id/members", post(views::members::add))
        .at(
            "/organizations/:org_id/members/:user_id/role",
            post(views::members::change_role),
        )
        .at(
            "/organizations/:org_id/members/:user_id/remove",
            post(views::members::remove),
        )
        .at(
            "/organizations/:org_id/service-accounts",
            post(views::service_accounts::create),
        )
        .at(
            "/organizations/:org_id/service-accounts/:account_id",
            get(views::service_accounts::show),
        )
        .at(
            "/organizations/:org_id/service-accounts/:account_id/api-keys",
            post(views::service_accounts::create_key),
        )
        .at(
            "/organizations/:org_id/service-accounts/:account_id/delete",
            post(views::service_accounts::delete),
        )
        .at(
            "/organizations/:org_id/invitations",
            post(views::invitations::create),
        )
        .at(
            "/organizations/:org_id/invitations/:invitation_id/resend",
            post(views::invitations::resend),
        )
        .at(
            "/organizations/:org_id/invitations/:invitation_id/revoke",
            post(views::invitations::revoke),
        )
        .at("/organizations/:org_id/audit", get(views::audit::show))
        .at(
            "/organizations/:org_id/grants",
            post(views::service_accounts::set_grant),
        )
        .at(
            "/organizations/:org_id/grants/remove",
            post(views::service_accounts::remove_grant),
        )
        .at("/organizations/:org_id", get(views::organizations::show))
        .at(
            "/organizations/:org_id/api-keys",
            post(views::api_keys::create),
        )
        .at(
            "/organizations/:org_id/api-keys/:key_id/revoke",
            get(views::api_keys::confirm_revoke).post(views::api_keys::revoke),
        )
        .at(
            "/organizations/:org_id/api-keys/:key_id/rotate",
            get(views::api_keys::rotate_page).post(views::api_keys::rotate),
        )
        .at(
            "/admin/users",
            get(views::admin::list_users).post(views::admin::create_user),
        )
        .at("/admin/users/:user_id/disable", post(views::admin::disable))
        .at("/admin/users/:user_id/enable", post(views::admin::enable))
        .at(
            "/admin/users/:user_id/password-reset",
            post(views::admin::reset_link),
        )
        .at(
            "/admin/organizations",
            get(views::admin::list_organizations),
        )
        .at(
            "/static/console.css",
            get(static_file(STYLESHEET, "text/css")),
        )
        .at(
            "/static/console.js",
            get(static_file(SCRIPT, "text/javascript")),
        )
        .with(errors::HtmlErrors)
        .with(headers::SecurityHeaders)
        .with(FinishResponses)
        .data(state)
}

const STYLESHEET: &str = include_str!("../static/console.css");
const SCRIPT: &str = include_str!("../static/console.js");

fn static_file(body: &'static str, content_type: &'static str) -> impl Endpoint {
    poem::endpoint::make_sync(move |_| {
        poem::Response::builder()
            .content_type(content_type)
            .header("Cache-Control", "public, max-age=3600")
            .body(body)
    })
}
