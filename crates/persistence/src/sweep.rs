//! Tidying: rows past all use are deleted in bounded batches, so a sweep never holds a long lock.

use crate::Store;
use crate::entity::{api_key, invitation, password_reset, session};
use crate::errors::internal;
use chrono::{DateTime, Utc};
use portcullis_domain::Error;
use sea_orm::sea_query::{IntoIden, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// Rows deleted by one sweep, per table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub api_keys: u64,
    pub invitations: u64,
    pub password_resets: u64,
}

impl Store {
    /// Deletes, `batch` rows per statement, expired sessions, invitations and password-reset
    /// tokens (used and revoked ones are deleted when that happens), and keys whose expiry or
    /// rotation grace ended before `keys_expired_before`.
    pub async fn sweep(
        &self,
        now: DateTime<Utc>,
        keys_expired_before: DateTime<Utc>,
        batch: u64,
    ) -> Result<Swept, Error> {
        Ok(Swept {
            sessions: self
                .delete_in_batches::<session::Entity>(
                    session::Column::Id,
                    session::Column::ExpiresAt.lt(now),
                    batch,
                )
                .await?,
            api_keys: self
                .delete_in_batches::<api_key::Entity>(
                    api_key::Column::Id,
                    api_key::Column::ExpiresAt.lt(keys_expired_before),
                    batch,
                )
                .await?,
            invitations: self
                .delete_in_batches::<invitation::Entity>(
                    invitation::Column::Id,
                    invitation::Column::ExpiresAt.lt(now),
                    batch,
                )
                .await?,
            password_resets: self
                .delete_in_batches::<password_reset::Entity>(
                    password_reset::Column::Id,
                    password_reset::Column::ExpiresAt.lt(now),
                    batch,
                )
                .await?,
        })
    }

    async fn delete_in_batches<E: EntityTrait>(
        &self,
        id: impl ColumnTrait + IntoIden + Copy,
        past_use: SimpleExpr,
        batch: u64,
    ) -> Result<u64, Error> {
        let mut deleted = 0;
        loop {
            let ids: Vec<Uuid> = E::find()
                .select_only()
                .column(id)
                .filter(past_use.clone())
                .limit(batch)
                .into_tuple()
                .all(&self.db)
                .await
                .map_err(internal)?;
            if ids.is_empty() {
                return Ok(deleted);
            }
            let last = (ids.len() as u64) < batch;
            deleted += E::delete_many()
                .filter(id.is_in(ids))
                .exec(&self.db)
                .await
                .map_err(internal)?
                .rows_affected;
            if last {
                return Ok(deleted);
            }
        }
    }
}
