//! Cross-replica cache invalidation over PostgreSQL `LISTEN/NOTIFY`. SQLite is single-node:
//! publishing is a no-op there and there is nothing to subscribe to.

use crate::Store;
use crate::errors;
use portcullis_domain::Error;
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

const CHANNEL: &str = "portcullis_invalidation";

/// Notifications from other replicas (and this one). It survives the database going away:
/// after a `Disconnected`, each `next` tries to listen again, and errs until it can.
pub struct Subscription {
    pool: PgPool,
    listener: Option<PgListener>,
}

/// What a subscription yields.
pub enum Notice {
    Message(String),
    /// The connection dropped: notifications are lost until `Reconnected`.
    Disconnected,
    /// Listening again: anything sent while disconnected was lost.
    Reconnected,
}

impl Subscription {
    pub async fn next(&mut self) -> Result<Notice, Error> {
        let Some(listener) = &mut self.listener else {
            self.listener = Some(listen(&self.pool).await?);
            return Ok(Notice::Reconnected);
        };
        match listener.try_recv().await {
            Ok(Some(notification)) => Ok(Notice::Message(notification.payload().to_owned())),
            // `None` is sqlx's word for a lost connection. Its own reconnection is not used: it
            // is silent, and it gives up on errors other than a closed socket (a reset, say).
            Ok(None) | Err(_) => {
                self.listener = None;
                Ok(Notice::Disconnected)
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, Error> {
    let failed = |e: sea_orm::sqlx::Error| Error::internal(format!("LISTEN: {e}"));
    let mut listener = PgListener::connect_with(pool).await.map_err(failed)?;
    // Report a lost connection at once rather than after trying to reconnect.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await.map_err(failed)?;
    Ok(listener)
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
        let pool = self.connection().get_postgres_connection_pool().clone();
        let listener = listen(&pool).await?;
        Ok(Some(Subscription {
            pool,
            listener: Some(listener),
        }))
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
