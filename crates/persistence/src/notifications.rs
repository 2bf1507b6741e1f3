//! Cross-replica cache invalidation over PostgreSQL `LISTEN/NOTIFY`. SQLite is single-node:
//! publishing is a no-op there and there is nothing to subscribe to.

use crate::Store;
use crate::errors;
use portcullis_domain::Error;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

const CHANNEL: &str = "portcullis_invalidation";

/// Notifications from other replicas (and this one).
pub struct Subscription(PgListener);

/// What a subscription yields.
pub enum Notice {
    Message(String),
    /// The connection dropped and was re-established: anything sent meanwhile was lost.
    Reconnected,
}

impl Subscription {
    pub async fn next(&mut self) -> Result<Notice, Error> {
        match self
            .0
            .try_recv()
            .await
            .map_err(|e| Error::internal(format!("LISTEN: {e}")))?
        {
            Some(notification) => Ok(Notice::Message(notification.payload().to_owned())),
            None => Ok(Notice::Reconnected),
        }
    }
}

impl Store {
    /// Tells every replica (PostgreSQL only) that something changed.
    pub async fn publish(&self, payload: &str) -> Result<(), Error> {
        if !self.is_postgres() {
            return Ok(());
        }
        let statement = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.into()],
        );
        self.connection()
            .execute_raw(statement)
            .await
            .map(drop)
            .map_err(errors::internal)
    }

    /// Listens for what replicas publish; `None` on SQLite.
    pub async fn subscribe(&self) -> Result<Option<Subscription>, Error> {
        if !self.is_postgres() {
            return Ok(None);
        }
        let pool = self.connection().get_postgres_connection_pool();
        let mut listener = PgListener::connect_with(pool)
            .await
            .map_err(|e| Error::internal(format!("LISTEN: {e}")))?;
        listener
            .listen(CHANNEL)
            .await
            .map_err(|e| Error::internal(format!("LISTEN: {e}")))?;
        Ok(Some(Subscription(listener)))
    }

    /// Connections in the pool: (open, idle).
    pub fn pool_usage(&self) -> (u32, usize) {
        let db = self.connection();
        if self.is_postgres() {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        } else {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }
}
