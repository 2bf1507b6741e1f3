//! How database failures become domain errors.

use portcullis_domain::{Error, Role};
use sea_orm::{DbErr, SqlErr};

/// Any failure the caller cannot fix. The message never carries statements or values.
pub(crate) fn internal(err: DbErr) -> Error {
    Error::internal(format!("database error: {err}"))
}

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A unique violation becomes a 409 with `message`; anything else is internal.
pub(crate) fn conflict_or_internal(err: DbErr, message: &str) -> Error {
    if is_unique_violation(&err) {
        Error::conflict(message)
    } else {
        internal(err)
    }
}

/// A stored role name; anything else is a corrupt row, not bad input.
pub(crate) fn stored_role(name: &str) -> Result<Role, Error> {
    name.parse()
        .map_err(|_| Error::internal(format!("stored role '{name}' is not a known role")))
}
