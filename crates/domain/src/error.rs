use crate::Denial;
use thiserror::Error;

/// Why a request could not be tied to a live identity. Kept apart so metrics and logs can tell
/// the reasons apart while the client always sees the same 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    Missing,
    Malformed,
    Unknown,
    Expired,
    Disabled,
    BadPassword,
}

impl Unauthenticated {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Disabled => "disabled",
            Self::BadPassword => "bad_password",
        }
    }
}

/// Every failure Portcullis can report; the API maps each variant to one HTTP status.
#[derive(Debug, Clone, Error)]
pub enum Error {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthenticated ({})", .0.as_str())]
    Unauthenticated(Unauthenticated),
    #[error("forbidden: {}", .0.message())]
    Forbidden(Denial),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("validation failed: {0}")]
    Validation(String),
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(message.to_string())
    }
}

impl From<Denial> for Error {
    fn from(denial: Denial) -> Self {
        Self::Forbidden(denial)
    }
}

impl From<Unauthenticated> for Error {
    fn from(reason: Unauthenticated) -> Self {
        Self::Unauthenticated(reason)
    }
}
