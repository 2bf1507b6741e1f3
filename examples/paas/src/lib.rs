//! A tiny PaaS that embeds Portcullis instead of running it beside itself.
//!
//! - Portcullis's whole API is mounted under `/auth` (`/auth/api/v1/...`, `/auth/docs`).
//! - `GET /projects/:org_id` needs `read` in that organization.
//! - `POST /projects/:org_id/deploy` needs `deploy` in that organization.
//!
//! The PaaS never looks at credentials or roles itself: `portcullis_api::require` resolves the
//! caller (API key, Bearer token or session cookie), asks Portcullis's policy, answers 401/403
//! in Portcullis's error body, and hands the handler a `Caller` and its `Access`.

use poem::listener::{Acceptor, Listener, TcpAcceptor, TcpListener};
use poem::web::{Data, Json, Path};
use poem::{Endpoint, EndpointExt, Route, Server, get, handler, post};
use portcullis_api::{Access, AppState, Caller, Config, Permission, RootToken, SignupPolicy};
use portcullis_domain::{Clock, Error};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// What the PaaS needs to start: read from the environment by `main`, built by hand in tests.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `sqlite://…?mode=rwc` or `postgres://…`: Portcullis's tables live here.
    pub database_url: String,
    /// `host:port`; port 0 picks a free one.
    pub bind: String,
    /// Portcullis's settings: root token, signup policy, cookie flags, key prefix.
    pub auth: Config,
}

impl Settings {
    /// `PAAS_DATABASE_URL` (default `sqlite://paas.db?mode=rwc`), `PAAS_BIND` (default
    /// `127.0.0.1:3000`), and for Portcullis `PORTCULLIS_API_TOKEN`, `PORTCULLIS_SIGNUP`
    /// (`first-user`, `open`, `closed`), `PORTCULLIS_COOKIE_SECURE` (default `true`) and
    /// `PORTCULLIS_TRUSTED_ORIGINS` (comma-separated).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let signup = match var("PORTCULLIS_SIGNUP").as_deref() {
            None | Some("first-user") => SignupPolicy::FirstUser,
            Some("open") => SignupPolicy::Open,
            Some("closed") => SignupPolicy::Closed,
            Some(other) => return Err(format!("PORTCULLIS_SIGNUP: unknown mode '{other}'")),
        };
        let cookie_secure = match var("PORTCULLIS_COOKIE_SECURE").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => {
                return Err(format!(
                    "PORTCULLIS_COOKIE_SECURE: '{other}' is not true or false"
                ));
            }
        };
        Ok(Self {
            database_url: var("PAAS_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://paas.db?mode=rwc".into()),
            bind: var("PAAS_BIND").unwrap_or_else(|| "127.0.0.1:3000".into()),
            auth: Config {
                signup,
                cookie_secure,
                trusted_origins: var("PORTCULLIS_TRUSTED_ORIGINS")
                    .map(|v| v.split(',').map(|o| o.trim().to_owned()).collect())
                    .unwrap_or_default(),
                root_token: var("PORTCULLIS_API_TOKEN").map(RootToken::new),
                ..Config::default()
            },
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
        auth_method: caller.principal.auth_method(),
        role: access.role.map(|role| role.as_str()),
    })
}

/// A bound, ready-to-run PaaS (zero2prod's `Application`).
pub struct Application {
    auth: AppState,
    acceptor: TcpAcceptor,
    port: u16,
}

impl Application {
    /// Connects to and migrates Portcullis's database, then binds.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let auth = portcullis_api::connect(&settings.database_url, settings.auth, clock).await?;
        let acceptor = TcpListener::bind(settings.bind.as_str())
            .into_acceptor()
            .await
            .map_err(|e| Error::internal(format!("cannot listen on {}: {e}", settings.bind)))?;
        let port = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr())
            .map_or(0, |a| a.port());
        Ok(Self {
            auth,
            acceptor,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves. Portcullis's background work (the batched
    /// `last_used_at` writes of API keys, and on PostgreSQL the listener for other replicas'
    /// cache invalidations) runs beside the server and is flushed on the way out.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let background = self
            .auth
            .start_background()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let served = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app(self.auth), shutdown, Some(Duration::from_secs(30)))
            .await;
        background.stop().await;
        served
    }
}
