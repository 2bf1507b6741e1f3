//! The one table from domain errors to HTTP answers, and the catch-all that gives poem's own
//! errors (unknown route, bad path parameter, …) the same body.

use poem::{IntoResponse, Response, http::StatusCode};
use poem_openapi::error::{ParseParamError, ParsePathError};
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object, payload::Json};
use portcullis_domain::{Denial, Error, Unauthenticated};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::LazyLock;

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
    /// `conflict`, `unsupported_media_type`, `validation_failed`, `rate_limited`, `internal`,
    /// `unavailable`.
    pub code: String,
    /// On a 403 for a missing permission: the permissions asked for that the caller lacks, as
    /// asked.
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
    /// Duplicate, the last owner, or a key rotated twice.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// A request body that is not `application/json`.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Well-formed but invalid input.
    #[oai(status = 422)]
    Unprocessable(Json<ErrorBody>),
    /// Rate limited: try again after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database does not answer: try again after `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
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
    /// The contract's body of this error, for surfaces that render it their own way.
    pub fn body(&self) -> &ErrorBody {
        match self {
            Self::BadRequest(json)
            | Self::Unauthorized(json, _)
            | Self::Forbidden(json)
            | Self::NotFound(json)
            | Self::Conflict(json)
            | Self::UnsupportedMediaType(json)
            | Self::Unprocessable(json)
            | Self::TooManyRequests(json, _)
            | Self::Internal(json)
            | Self::Unavailable(json, _) => &json.0,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(body(StatusCode::BAD_REQUEST, "bad_request", message))
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(
            body(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message),
            UNAVAILABLE_RETRY_SECS,
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::UnsupportedMediaType(body(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
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
            Error::Unavailable(message) => {
                tracing::warn!(%message, "unavailable");
                Self::unavailable("the service is unavailable, retry later")
            }
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

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        Error::Forbidden(denial).into()
    }
}

const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// The statuses one operation can answer with besides success, for the spec.
pub trait Statuses: 'static {
    const STATUSES: &'static [u16];
}

/// An error of one operation: the same body as every error, documented in the spec with only
/// the statuses `S` lists, so generated clients know what each call can answer.
pub struct Failure<S>(pub ApiError, PhantomData<fn() -> S>);

impl<S> Failure<S> {
    pub fn new(error: impl Into<ApiError>) -> Self {
        Self(error.into(), PhantomData)
    }
}

impl<S: Statuses> ApiResponse for Failure<S> {
    fn meta() -> MetaResponses {
        let mut meta = ApiError::meta();
        meta.responses
            .retain(|r| r.status.is_some_and(|s| S::STATUSES.contains(&s)));
        meta
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

impl<S> IntoResponse for Failure<S> {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl<S> From<Failure<S>> for poem::Error {
    fn from(failure: Failure<S>) -> Self {
        failure.0.into()
    }
}

impl<S> From<ApiError> for Failure<S> {
    fn from(error: ApiError) -> Self {
        Self::new(error)
    }
}

impl<S> From<Error> for Failure<S> {
    fn from(error: Error) -> Self {
        Self::new(error)
    }
}

impl<S> From<Denial> for Failure<S> {
    fn from(denial: Denial) -> Self {
        Self::new(denial)
    }
}

/// What an operation answers: `T`, or an error with one of the statuses `S`.
pub type Answer<T, S> = Result<T, Failure<S>>;

/// Declares the statuses of operations: `statuses!(CreateKey: 400, 401, 403);`.
#[macro_export]
macro_rules! statuses {
    ($($name:ident: $($status:literal),+;)+) => {
        $(
            pub enum $name {}
            impl $crate::error::Statuses for $name {
                const STATUSES: &'static [u16] = &[$($status),+];
            }
        )+
    };
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The contract's body for an error poem raised itself (unknown route, wrong method, bad path or
/// query parameter, …), keeping its status. Server errors are logged, never detailed.
pub(crate) fn poem_error_response(err: poem::Error, operation: Option<&str>) -> Response {
    let status = err.status();
    let (code, message) = match status.as_u16() {
        400 => ("bad_request", bad_parameter(&err, operation)),
        404 => ("not_found", "no such route".to_owned()),
        405 => (
            "method_not_allowed",
            "method not allowed on this route".to_owned(),
        ),
        413 => ("payload_too_large", "request body too large".to_owned()),
        415 => ("unsupported_media_type", err.to_string()),
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

/// poem-openapi names path parameters `param0`, `param1`… internally; a client should read the
/// name it sent, as the spec spells it.
fn bad_parameter(err: &poem::Error, operation: Option<&str>) -> String {
    let (name, reason) = if let Some(path) = err.downcast_ref::<ParsePathError>() {
        (path.name, &path.reason)
    } else if let Some(param) = err.downcast_ref::<ParseParamError>() {
        (param.name, &param.reason)
    } else {
        return err.to_string();
    };
    let name = name
        .strip_prefix("param")
        .and_then(|index| index.parse::<usize>().ok())
        .and_then(|index| path_parameters(operation?).get(index).cloned())
        .unwrap_or_else(|| name.to_owned());
    format!("failed to parse parameter `{name}`: {reason}")
}

/// The path parameters of each operation, in path order, read once from the spec.
fn path_parameters(operation: &str) -> &'static [String] {
    static BY_OPERATION: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::spec_json()).expect("the spec is JSON");
        let mut by_operation = HashMap::new();
        let paths = spec["paths"].as_object().into_iter().flatten();
        for (path, operations) in paths {
            let names: Vec<String> = path
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_owned)
                .collect();
            for operation in operations.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(id) = operation["operationId"].as_str() {
                    by_operation.insert(id.to_owned(), names.clone());
                }
            }
        }
        by_operation
    });
    BY_OPERATION
        .get(operation)
        .map(Vec::as_slice)
        .unwrap_or_default()
}
