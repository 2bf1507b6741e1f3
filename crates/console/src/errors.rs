//! Whatever fails before a handler answers (an unknown path, a method a path does not take, a
//! form or path that does not parse) becomes the console's HTML error page with poem's status,
//! not the JSON API's error body.

use crate::views::status_page;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

pub struct HtmlErrors;

impl<E: Endpoint> Middleware<E> for HtmlErrors {
    type Output = HtmlErrorsEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        HtmlErrorsEndpoint(ep)
    }
}

pub struct HtmlErrorsEndpoint<E>(E);

impl<E: Endpoint> Endpoint for HtmlErrorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        match self.0.call(req).await {
            Ok(resp) => Ok(resp.into_response()),
            Err(err) => {
                let status = err.status();
                let message = match status {
                    StatusCode::NOT_FOUND => "There is no page at this address.".to_owned(),
                    StatusCode::METHOD_NOT_ALLOWED => {
                        "This address does not take that kind of request.".to_owned()
                    }
                    s if s.is_server_error() => {
                        tracing::error!(error = %err, "console request failed");
                        "Something went wrong on our side. Try again in a moment.".to_owned()
                    }
                    _ => err.to_string(),
                };
                Ok(status_page(status, message))
            }
        }
    }
}
