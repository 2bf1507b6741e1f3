//! The middleware that finishes every Portcullis response: the contract's error body for errors
//! poem raises itself, the re-sent cookie when a session was refreshed, and the request metric.

use crate::cookie::RefreshedCookie;
use crate::error::poem_error_response;
use crate::state::AppState;
use poem::http::HeaderValue;
use poem::http::header::SET_COOKIE;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::OperationId;

pub struct FinishResponses;

impl<E: Endpoint> Middleware<E> for FinishResponses {
    type Output = FinishResponsesEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        FinishResponsesEndpoint(ep)
    }
}

pub struct FinishResponsesEndpoint<E>(E);

impl<E: Endpoint> Endpoint for FinishResponsesEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let refreshed = RefreshedCookie::default();
        req.extensions_mut().insert(refreshed.clone());
        let state = req.data::<AppState>().cloned();
        let (mut resp, operation) = match self.0.call(req).await {
            Ok(resp) => {
                let resp = resp.into_response();
                let operation = resp.data::<OperationId>().map(|id| id.0);
                (resp, operation)
            }
            Err(err) => {
                let operation = err.data::<OperationId>().map(|id| id.0);
                let resp = if err.is_from_response() {
                    err.into_response()
                } else {
                    poem_error_response(err, operation)
                };
                (resp, operation)
            }
        };
        if let Some(state) = state {
            state
                .metrics
                .request(operation.unwrap_or("unmatched"), resp.status().as_u16());
        }
        // A handler that sets the cookie itself (login, logout) has the last word.
        if let Some(cookie) = refreshed.take()
            && !resp.headers().contains_key(SET_COOKIE)
            && let Ok(value) = HeaderValue::from_str(&cookie)
        {
            resp.headers_mut().append(SET_COOKIE, value);
        }
        Ok(resp)
    }
}
