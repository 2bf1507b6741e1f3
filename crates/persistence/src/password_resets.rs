//! Pending password resets, stored by the digest of their link's token; at most one per user.

use crate::Store;
use crate::entity::{password_reset, session, user};
use crate::errors::internal;
use portcullis_domain::{Error, PasswordReset};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect};

impl From<password_reset::Model> for PasswordReset {
    fn from(row: password_reset::Model) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

impl Store {
    /// Stores the reset; the user's older ones stop working.
    pub async fn replace_password_reset(
        &self,
        reset: &PasswordReset,
        token_digest: &str,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        password_reset::Entity::delete_many()
            .filter(password_reset::Column::UserId.eq(reset.user_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        let row = password_reset::Model {
            id: reset.id,
            user_id: reset.user_id,
            token_digest: token_digest.to_owned(),
            created_at: reset.created_at,
            expires_at: reset.expires_at,
        };
        password_reset::Entity::insert(row.into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    /// The reset a link's token names, expired or not.
    pub async fn password_reset_by_digest(
        &self,
        token_digest: &str,
    ) -> Result<Option<PasswordReset>, Error> {
        Ok(password_reset::Entity::find()
            .filter(password_reset::Column::TokenDigest.eq(token_digest))
            .one(&self.db)
            .await
            .map_err(internal)?
            .map(PasswordReset::from))
    }

    /// Uses the reset up, sets the new password hash and ends every session of the user, all
    /// together. Returns the ended sessions' digests; `NotFound` if the reset was used meanwhile.
    pub async fn complete_password_reset(
        &self,
        reset: &PasswordReset,
        password_hash: &str,
    ) -> Result<Vec<String>, Error> {
        let tx = self.begin_write().await?;
        let deleted = password_reset::Entity::delete_by_id(reset.id)
            .exec(&tx)
            .await
            .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Err(Error::NotFound("password reset"));
        }
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .filter(user::Column::Id.eq(reset.user_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        let digests: Vec<String> = session::Entity::find()
            .filter(session::Column::UserId.eq(reset.user_id))
            .select_only()
            .column(session::Column::TokenDigest)
            .into_tuple()
            .all(&tx)
            .await
            .map_err(internal)?;
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(reset.user_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(digests)
    }
}
