//! The JWT signing key shared by every replica.

use crate::Store;
use crate::entity::signing_key;
use crate::errors::{internal, is_unique_violation};
use chrono::{DateTime, Utc};
use portcullis_domain::Error;
use sea_orm::{ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryOrder};

impl Store {
    /// Stores `(kid, private_key)` if no key exists yet, then returns the oldest key (by
    /// `created_at`, then `kid`), so that replicas starting together all settle on one key.
    pub async fn signing_key_or_insert(
        &self,
        kid: &str,
        private_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, String), Error> {
        let tx = self.begin_write().await?;
        if self.is_postgres() {
            // Two replicas each seeing an empty table would both insert their own key, and the
            // first to finish could return its key before the other's (older-stamped) one lands.
            // This lock mode conflicts with itself, so the check and the insert run one replica at
            // a time. (SQLite: the IMMEDIATE transaction already holds the write lock.)
            tx.execute_unprepared("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                .await
                .map_err(internal)?;
        }
        let empty = signing_key::Entity::find()
            .count(&tx)
            .await
            .map_err(internal)?
            == 0;
        if empty {
            let inserted = signing_key::Entity::insert(
                signing_key::Model {
                    kid: kid.to_owned(),
                    private_key: private_key.to_owned(),
                    created_at: now,
                }
                .into_active_model(),
            )
            .exec_without_returning(&tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Another replica stored the same kid first: theirs is as good.
                Err(err) if is_unique_violation(&err) => {}
                Err(err) => return Err(internal(err)),
            }
        }
        let oldest = signing_key::Entity::find()
            .order_by_asc(signing_key::Column::CreatedAt)
            .order_by_asc(signing_key::Column::Kid)
            .one(&tx)
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::internal("no signing key after inserting one"))?;
        tx.commit().await.map_err(internal)?;
        Ok((oldest.kid, oldest.private_key))
    }
}
