//! The one table from domain errors to HTTP answers, and the catch-all that gives poem's own
//! errors (unknown route, bad path parameter, …) the same body.

use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::{ApiResponse, Object, payload::Json};
use portcullis_domain::{Error, Unauthenticated};

/// The error body of every 4xx and 5xx answer.
#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub status: u16,
    /// The status's reason phrase, e.g. `Unauthorized`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// What went wrong, for programs: `bad_request`, `unauthenticated`, `forbidden`, `not_found`,
    /// `conflict`, `validation_failed`, `rate_limited`, `internal`, `unavailable`.
    pub code: String,
    /// On a 403 for a missing permission: the permissions that were missing.
    #[oai(skip_serializing_if_is_none)]
    pub missing_permissions: Option<Vec<String>>,
}

const REALM: &str = r#"Bearer realm="portcullis""#;
const REALM_INVALID: &str = r#"Bearer realm="portcullis", error="invalid_token""#;

#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// Malformed JSON or a bad path or query parameter.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No credential, or one that is malformed, unknown, expired or revoked.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// Authenticated, but not allowed.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Duplicate, or the last owner.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Well-formed but invalid input.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database does not answer.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

fn body(status: StatusCode, code: &str, message: impl Into<String>) -> Json<ErrorBody> {
    Json(ErrorBody {
        status: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: message.into(),
        code: code.to_owned(),
        missing_permissions: None,
    })
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(body(StatusCode::BAD_REQUEST, "bad_request", message))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(body(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
        ))
    }
}

impl From<Unauthenticated> for ApiError {
    fn from(reason: Unauthenticated) -> Self {
        let (message, header) = match reason {
            Unauthenticated::Missing => ("Invalid or missing authentication token", REALM),
            Unauthenticated::BadPassword => ("invalid email or password", REALM_INVALID),
            _ => ("Invalid or missing authentication token", REALM_INVALID),
        };
        Self::Unauthorized(
            body(StatusCode::UNAUTHORIZED, "unauthenticated", message),
            header.to_owned(),
        )
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::BadRequest(message) => Self::bad_request(message),
            Error::Unauthenticated(reason) => reason.into(),
            Error::Forbidden(denial) => {
                let mut json = body(StatusCode::FORBIDDEN, "forbidden", denial.message());
                json.0.missing_permissions = denial.missing().map(|missing| missing.names());
                Self::Forbidden(json)
            }
            Error::NotFound(what) => Self::NotFound(body(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            )),
            Error::Conflict(message) => {
                Self::Conflict(body(StatusCode::CONFLICT, "conflict", message))
            }
            Error::Validation(message) => Self::Unprocessable(body(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )),
            Error::RateLimited { retry_after_secs } => Self::TooManyRequests(
                body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests, retry later",
                ),
                retry_after_secs,
            ),
            Error::Internal(message) => {
                tracing::error!(%message, "internal error");
                Self::Internal(body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal server error",
                ))
            }
        }
    }
}

impl From<portcullis_domain::Denial> for ApiError {
    fn from(denial: portcullis_domain::Denial) -> Self {
        Error::Forbidden(denial).into()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The contract's body for an error poem raised itself (unknown route, wrong method, bad path or
/// query parameter, …), keeping its status. Server errors are logged, never detailed.
pub(crate) fn poem_error_response(err: poem::Error) -> Response {
    let status = err.status();
    let (code, message) = match status.as_u16() {
        400 => ("bad_request", err.to_string()),
        404 => ("not_found", "no such route".to_owned()),
        405 => (
            "method_not_allowed",
            "method not allowed on this route".to_owned(),
        ),
        413 => ("payload_too_large", "request body too large".to_owned()),
        422 => ("validation_failed", err.to_string()),
        s if s >= 500 => {
            tracing::error!(error = %err, "unhandled error");
            ("internal", "internal server error".to_owned())
        }
        _ => ("bad_request", err.to_string()),
    };
    body(status, code, message)
        .with_status(status)
        .into_response()
}
