//! Portcullis's HTTP API: endpoints, credential resolution and error mapping.
//!
//! A host poem application can mount [`router`] (e.g. under `/auth`) with an [`AppState`] from
//! [`connect`], and protect its own routes with [`require`].

// `ApiError` carries the full contract body; it is built once per failed request, off the hot path.
#![allow(clippy::result_large_err)]

mod access;
mod background;
mod body;
pub mod cache;
pub mod config;
mod cookie;
pub mod credentials;
pub mod email;
pub mod endpoints;
pub mod error;
mod finish;
mod forward_auth;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod guard;
pub mod key_usage;
mod links;
pub mod metrics;
pub mod operations;
pub mod passwords;
pub mod rate_limit;
pub mod security;
pub mod state;
pub mod tokens;

pub use background::Background;
pub use cache::Invalidation;
pub use config::{Config, RootToken};
pub use credentials::Caller;
pub use email::SmtpUrl;
pub use error::{ApiError, ErrorBody};
pub use finish::FinishResponses;
pub use guard::{RequirePermission, require};
pub use portcullis_domain::SignupPolicy;
pub use portcullis_domain::{Access, Clock, Error, ManualClock, Permission, SystemClock};
pub use state::AppState;

use poem::{Endpoint, EndpointExt, Route};
use poem_openapi::OpenApiService;
use portcullis_domain::Policy;
use portcullis_persistence::Store;
use std::sync::Arc;

/// The OpenAPI service of every Portcullis operation.
pub fn openapi_service() -> OpenApiService<endpoints::Apis, ()> {
    OpenApiService::new(endpoints::apis(), "Portcullis", env!("CARGO_PKG_VERSION")).description(
        "Multi-tenant, organization-scoped authentication and authorization: sessions, organizations, \
         members, API keys, forward-auth and access tokens.",
    )
}

/// The spec that `openapi.json` holds.
pub fn spec_json() -> String {
    openapi_service().spec()
}

/// Everything Portcullis serves: the API, `/openapi.json` and the `/docs` reference.
pub fn router(state: AppState) -> impl Endpoint {
    let service = openapi_service();
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Route::new()
        .nest("/", service)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .at("/metrics", poem::get(serve_metrics))
        .with(forward_auth::ForwardAuth)
        .with(FinishResponses)
        .data(state)
}

/// Prometheus text format: requests, auth decisions, cache hits, argon2 queue, pool use.
#[poem::handler]
fn serve_metrics(state: poem::web::Data<&AppState>) -> String {
    state.metrics.render(&state)
}

/// Connects to the database, migrates it, and builds the state with the built-in policy.
pub async fn connect(
    database_url: &str,
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<AppState, Error> {
    let store = Store::connect(database_url).await?;
    store.migrate().await?;
    AppState::new(store, config, Policy::builtin().await?, clock, None).await
}
