//! For host applications that embed Portcullis: a middleware that lets a request through only
//! when its caller holds a permission in the organization named by a path parameter, with the
//! same 401/403 answers as Portcullis's own routes.
//!
//! ```ignore
//! Route::new().at("/projects/:org_id/deploy",
//!     post(deploy).with(portcullis_api::require(state.clone(), Permission::Deploy, "org_id")))
//! ```
//! The handler then reads the caller with `Data<&Caller>` and its rights with `Data<&Access>`.

use crate::error::ApiError;
use crate::finish::FinishResponses;
use crate::operations::identity;
use crate::state::AppState;
use poem::{Endpoint, EndpointExt, IntoResponse, Middleware, Request, Response};
use portcullis_domain::Permission;
use uuid::Uuid;

pub struct RequirePermission {
    state: AppState,
    permission: Permission,
    org_param: &'static str,
}

/// Requires `permission` in the organization whose id is the path parameter `org_param`.
pub fn require(
    state: AppState,
    permission: Permission,
    org_param: &'static str,
) -> RequirePermission {
    RequirePermission {
        state,
        permission,
        org_param,
    }
}

impl<E: Endpoint + 'static> Middleware<E> for RequirePermission {
    type Output = poem::endpoint::BoxEndpoint<'static, Response>;

    fn transform(&self, ep: E) -> Self::Output {
        let guard = Guard {
            state: self.state.clone(),
            permission: self.permission,
            org_param: self.org_param,
            inner: ep,
        };
        // FinishResponses gives refreshed sessions their cookie and errors their body.
        guard
            .with(FinishResponses)
            .data(self.state.clone())
            .map_to_response()
            .boxed()
    }
}

struct Guard<E> {
    state: AppState,
    permission: Permission,
    org_param: &'static str,
    inner: E,
}

impl<E: Endpoint> Endpoint for Guard<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let org = req
            .raw_path_param(self.org_param)
            .and_then(|raw| raw.parse::<Uuid>().ok());
        let Some(org) = org else {
            return Ok(ApiError::bad_request(format!(
                "path parameter '{}' must be an organization id",
                self.org_param
            ))
            .into_response());
        };
        let checked = async {
            let caller = self.state.authenticate(&req).await?;
            // The same operation as the forward-auth check, `/api/v1/authorize`.
            let (_, access) =
                identity::authorize(&self.state, &caller, self.permission, Some(org), None).await?;
            Ok::<_, ApiError>((caller, access))
        };
        match checked.await {
            Ok((caller, access)) => {
                req.extensions_mut().insert(caller);
                req.extensions_mut().insert(access);
                self.inner.call(req).await.map(IntoResponse::into_response)
            }
            Err(err) => Ok(err.into_response()),
        }
    }
}
