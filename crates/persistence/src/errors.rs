//! How database failures become domain errors.

use portcullis_domain::{Email, Error, Name, Role};
use sea_orm::sqlx;
use sea_orm::sqlx::error::DatabaseError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Any failure the caller cannot fix: the database is unreachable (try again later) or
/// something else went wrong. The message never carries statements or values.
pub(crate) fn internal(err: DbErr) -> Error {
    if unreachable(&err) {
        Error::Unavailable(format!("the database does not answer: {err}"))
    } else {
        Error::internal(format!("database error: {err}"))
    }
}

const SQLITE_BUSY: i32 = 5;

/// Whether the database could not be reached or went away, rather than refused the statement.
/// A connection broken mid-query surfaces inside `Exec` or `Query`, not as `Conn`.
fn unreachable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => unreachable_sqlx(e),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

fn unreachable_sqlx(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => match e.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
            // SQLITE_BUSY in any extended form: the write lock was held elsewhere (a backup, a
            // sqlite3 shell) past the busy timeout. SQLite's nearest thing to not answering.
            Some(sqlite) => sqlite
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| code & 0xff == SQLITE_BUSY),
            // PostgreSQL's connection exceptions (class 08), and a server shutting down or
            // starting.
            None => e
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        },
        _ => false,
    }
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

/// A value read back from a column: it was valid when written, so a failure is a corrupt row.
fn stored<T>(column: &str, parsed: Result<T, Error>) -> Result<T, Error> {
    parsed.map_err(|_| Error::internal(format!("a stored {column} is not valid")))
}

pub(crate) fn stored_email(raw: &str) -> Result<Email, Error> {
    stored("email", Email::parse(raw))
}

pub(crate) fn stored_name(raw: &str) -> Result<Name, Error> {
    stored("name", Name::parse(raw))
}

pub(crate) fn stored_optional_name(raw: Option<&str>) -> Result<Option<Name>, Error> {
    raw.map(stored_name).transpose()
}

/// A stored role name; anything else is a corrupt row, not bad input.
pub(crate) fn stored_role(name: &str) -> Result<Role, Error> {
    name.parse()
        .map_err(|_| Error::internal(format!("stored role '{name}' is not a known role")))
}
