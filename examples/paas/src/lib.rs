//! A tiny PaaS that embeds Portcullis instead of running it beside itself.
//!
//! - Portcullis's whole API is mounted under `/auth` (`/auth/api/v1/...`, `/auth/docs`).
//! - `GET /projects/:org_id` needs `read` in that organization.
//! - `POST /projects/:org_id/deploy` needs `deploy` in that organization.
//!
//! The PaaS never looks at credentials or roles itself: `portcullis_api::require` resolves the
//! caller (API key, Bearer token or session cookie), asks Portcullis's policy, answers 401/403
//! in Portcullis's error body, and hands the handler a `Caller` and its `Access`.

use clap::Parser;
use poem::web::{Data, Json, Path};
use poem::{Endpoint, EndpointExt, Route, get, handler, post};
use portcullis_api::{Access, AppState, Caller, Permission};
use portcullis_domain::{Clock, Error};
use portcullis_server::Listening;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;

/// What the PaaS needs to start: read from the environment by `main`, built by hand in tests.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `host:port`; port 0 picks a free one.
    pub bind: String,
    /// Portcullis's own settings (database, root token, signup, cookies, …), as the
    /// `portcullis` binary reads them.
    pub auth: portcullis_server::Settings,
}

/// The `PORTCULLIS_*` variables, read exactly as the `portcullis` binary reads them.
#[derive(clap::Parser)]
struct AuthEnvironment {
    #[command(flatten)]
    auth: portcullis_server::Settings,
}

impl Settings {
    /// `PAAS_BIND` (default `127.0.0.1:3000`) and Portcullis's `PORTCULLIS_*` variables
    /// (`PORTCULLIS_DATABASE_URL`, `PORTCULLIS_API_TOKEN`, `PORTCULLIS_SIGNUP`, …).
    pub fn from_env() -> Result<Self, String> {
        let bind = std::env::var("PAAS_BIND")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let environment = AuthEnvironment::try_parse_from(["paas"]).map_err(|e| e.to_string())?;
        Ok(Self {
            bind,
            auth: environment.auth,
        })
    }
}

/// The host's routes with Portcullis mounted under `/auth`.
pub fn app(auth: AppState) -> impl Endpoint {
    Route::new()
        .nest("/auth", portcullis_api::router(auth.clone()))
        .at(
            "/projects/:org_id",
            get(list_projects).with(portcullis_api::require(
                auth.clone(),
                Permission::Read,
                "org_id",
            )),
        )
        .at(
            "/projects/:org_id/deploy",
            post(deploy).with(portcullis_api::require(auth, Permission::Deploy, "org_id")),
        )
}

#[derive(Debug, Serialize)]
pub struct Project {
    pub name: &'static str,
    pub organization_id: Uuid,
}

#[derive(Debug, Serialize)]
pub struct Deployment {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Who asked: the user behind the key, token or session (null for the root token).
    pub requested_by: Option<Uuid>,
    /// `api_key`, `access_token`, `session` or `root_token`.
    pub auth_method: &'static str,
    /// The caller's role in the organization (null for the root token).
    pub role: Option<&'static str>,
}

/// Reached only with `read` in `org_id`.
#[handler]
async fn list_projects(Path(org_id): Path<Uuid>) -> Json<Vec<Project>> {
    Json(
        ["web", "worker"]
            .into_iter()
            .map(|name| Project {
                name,
                organization_id: org_id,
            })
            .collect(),
    )
}

/// Reached only with `deploy` in `org_id`; the guard left the caller and its rights behind.
#[handler]
async fn deploy(
    Path(org_id): Path<Uuid>,
    caller: Data<&Caller>,
    access: Data<&Access>,
) -> Json<Deployment> {
    tracing::info!(organization_id = %org_id, user_id = ?caller.principal.user_id(), "deploying");
    Json(Deployment {
        id: Uuid::now_v7(),
        organization_id: org_id,
        requested_by: caller.principal.user_id(),
        auth_method: caller.principal.auth_method().as_str(),
        role: access.role.map(|role| role.as_str()),
    })
}

/// A bound, ready-to-run PaaS (zero2prod's `Application`), started and stopped by the same
/// functions as the `portcullis` binary.
pub struct Application {
    auth: AppState,
    listening: Listening,
}

impl Application {
    /// Prepares Portcullis (database, migrations, policy, bootstrap admin), then binds.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let auth = portcullis_server::prepare(&settings.auth, clock).await?;
        let listening =
            portcullis_server::listen(&settings.bind, settings.auth.connection_limits()).await?;
        Ok(Self { auth, listening })
    }

    pub fn port(&self) -> u16 {
        self.listening.port()
    }

    /// Serves until `shutdown` resolves; Portcullis's background work runs beside the server
    /// and is flushed on the way out.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let routes = app(self.auth.clone());
        portcullis_server::serve(&self.auth, self.listening, routes, shutdown).await
    }
}
