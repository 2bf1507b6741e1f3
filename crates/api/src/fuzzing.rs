//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the parsers the server runs
//! on untrusted input, reachable without a server. Each one is the server's own code, not a copy.

use crate::endpoints::api_keys::CreateApiKey;
use crate::endpoints::grants::ResourceRole;
use crate::error::ApiError;
use crate::operations::accounts::NewAccount;
use crate::operations::api_keys::NewApiKey;
use poem::http::HeaderMap;
use poem_openapi::types::{ParseFromJSON, Type};
use portcullis_domain::{Error, RoleAt};

pub use crate::credentials::{Presented, presented};

/// The session cookie's value, as credential resolution reads it from the `Cookie` headers.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    crate::cookie::session_token(headers)
}

/// A request body sent with `Content-Type: application/json`, as an operation's `JsonBody<T>`
/// parses it once it is read.
pub fn json_body<T: ParseFromJSON + Type>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::body::decode(true, bytes)
}

/// What `create_api_key` and `create_service_account_api_key` make of their body.
pub fn new_api_key(body: CreateApiKey) -> Result<NewApiKey, Error> {
    body.into_new()
}

/// What `set_*_grant` and `create_invitation` make of a grant in their body.
pub fn role_at(body: &ResourceRole) -> Result<RoleAt, Error> {
    body.parse()
}

/// What `signup` and `admin_create_user` make of their body's fields.
pub fn new_account(email: &str, password: String, name: Option<&str>) -> Result<NewAccount, Error> {
    crate::endpoints::auth::new_account(email, password, name)
}
