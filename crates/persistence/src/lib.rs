//! Portcullis's storage: sea-orm entities and one `Store` over SQLite or PostgreSQL.
//!
//! Entities and `ActiveModel`s stay inside this crate; callers see domain records.
//! Times always come from the caller (the domain clock), never from the database's `now()`.
//!
//! The methods live next to what they store: `users`, `sessions`, `organizations`, `members`,
//! `api_keys`, `audit`, `signing_keys`, `invitations`, `password_resets`, `service_accounts`
//! (with grants), and `sweep`, which deletes rows past all use.
//!
//! A method that changes an organization takes the audit event recording the change and writes
//! both in one transaction: no change without its event, no event without its change.

mod api_keys;
mod audit;
mod entity;
mod errors;
mod invitations;
mod members;
mod notifications;
mod organizations;
mod password_resets;
mod service_accounts;
mod sessions;
mod signing_keys;
mod sweep;
mod users;

pub use notifications::{Notice, Subscription};
pub use service_accounts::AccountChanges;
pub use sweep::Swept;

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use portcullis_domain::{Email, Error, Name};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;
use uuid::Uuid;

/// Newest-first paging: at most `limit` items strictly older than `before` (an id).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub before: Option<Uuid>,
}

/// A user to insert; `password_hash` is an argon2 PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub email: Email,
    pub name: Option<Name>,
    pub password_hash: String,
    pub platform_admin: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
}

const POSTGRES_POOL: u32 = 16;
/// WAL lets readers run beside the one writer; more connections than this only queue.
const SQLITE_POOL: u32 = 4;
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a statement waits for a connection, connecting included (sqlx retries a refused
/// connection until then): when the database is away, a request answers 503 after this long.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let shown = redact(url);
        let mut options = ConnectOptions::new(url);
        // Statements carry digests and password hashes: never log them.
        options
            .sqlx_logging(false)
            .record_stmt_in_spans(false)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            options.max_connections(POSTGRES_POOL);
        } else if url.starts_with("sqlite:") {
            // An in-memory database lives as long as its connections, and shared-cache
            // connections lock whole tables without waiting: keep exactly one, forever.
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            options
                .max_connections(if memory { 1 } else { SQLITE_POOL })
                .min_connections(1)
                .map_sqlx_sqlite_opts(move |sqlite| {
                    // sqlx already turns foreign keys on; say so, since cascades depend on it.
                    let sqlite = sqlite.foreign_keys(true).busy_timeout(SQLITE_BUSY_TIMEOUT);
                    if memory {
                        sqlite
                    } else {
                        sqlite
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                    }
                });
            if memory {
                options.idle_timeout(None).max_lifetime(None);
            }
        } else {
            return Err(Error::internal(
                "unsupported database URL: expected sqlite:… or postgres://…",
            ));
        }
        let db = Database::connect(options).await.map_err(|err| {
            let message = scrub(&err.to_string(), url, &shown);
            Error::internal(format!("cannot connect to the database {shown}: {message}"))
        })?;
        Ok(Self { db })
    }

    pub async fn migrate(&self) -> Result<(), Error> {
        Migrator::up(&self.db, None)
            .await
            .map_err(|err| Error::internal(format!("database migration failed: {err}")))
    }

    pub async fn ping(&self) -> Result<(), Error> {
        self.db.ping().await.map_err(errors::internal)
    }

    pub(crate) fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// A transaction that writes: see `write_transaction`.
    async fn begin_write(&self) -> Result<DatabaseTransaction, Error> {
        self.db
            .begin_with_options(write_transaction())
            .await
            .map_err(errors::internal)
    }
}

/// On SQLite the transaction takes the write lock at `BEGIN` (IMMEDIATE), so waiting for another
/// writer goes through the busy timeout; a deferred transaction that reads and then writes could
/// fail at once with `SQLITE_BUSY` instead. PostgreSQL ignores the mode.
fn write_transaction() -> TransactionOptions {
    TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    }
}

/// `scheme://user@host:port/db?query` with `db` replaced by `name`: a sibling database on the
/// same server (each test gets its own).
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    match query {
        Some(query) => format!("{}/{name}?{query}", &base[..authority_end]),
        None => format!("{}/{name}", &base[..authority_end]),
    }
}

/// The URL with its password, if any, replaced by `***`.
fn redact(url: &str) -> String {
    password_span(url).map_or_else(
        || url.to_owned(),
        |(start, end)| format!("{}***{}", &url[..start], &url[end..]),
    )
}

/// Removes the URL and its password from a driver's message.
fn scrub(message: &str, url: &str, shown: &str) -> String {
    let message = message.replace(url, shown);
    match password_span(url) {
        Some((start, end)) => message.replace(&url[start..end], "***"),
        None => message,
    }
}

/// Where the password of `scheme://user:password@host/…` sits in `url`.
fn password_span(url: &str) -> Option<(usize, usize)> {
    let authority_start = url.find("://")? + 3;
    let rest = &url[authority_start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let colon = userinfo.find(':')?;
    let start = authority_start + colon + 1;
    let end = authority_start + userinfo.len();
    (end > start).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_database_keeps_the_server_and_the_query() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "pcl_1"),
            "postgres://postgres@127.0.0.1:5432/pcl_1"
        );
        assert_eq!(
            with_database_name("postgres://u:p@db/app?sslmode=require", "pcl_2"),
            "postgres://u:p@db/pcl_2?sslmode=require"
        );
        assert_eq!(
            with_database_name("postgres://db:5432", "pcl_3"),
            "postgres://db:5432/pcl_3"
        );
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact("postgres://app:s3cr:t@db.internal:5432/portcullis?sslmode=require"),
            "postgres://app:***@db.internal:5432/portcullis?sslmode=require"
        );
        assert_eq!(redact("postgres://app@db/p"), "postgres://app@db/p");
        assert_eq!(
            redact("sqlite://portcullis.db?mode=rwc"),
            "sqlite://portcullis.db?mode=rwc"
        );
        let url = "postgres://app:hunter22@db/p";
        assert_eq!(
            scrub(
                "bad url 'postgres://app:hunter22@db/p'; hunter22",
                url,
                &redact(url)
            ),
            "bad url 'postgres://app:***@db/p'; ***"
        );
    }
}
