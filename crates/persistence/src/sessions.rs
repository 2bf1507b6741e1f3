//! Browser sessions, stored by the digest of their token.

use crate::Store;
use crate::entity::session;
use crate::errors::internal;
use chrono::{DateTime, Utc};
use portcullis_domain::{Error, Session};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

impl From<session::Model> for Session {
    fn from(row: session::Model) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            expires_at: row.expires_at,
            user_agent: row.user_agent,
            ip: row.ip,
        }
    }
}

impl Store {
    pub async fn create_session(&self, session: &Session, token_digest: &str) -> Result<(), Error> {
        let row = session::Model {
            id: session.id,
            user_id: session.user_id,
            token_digest: token_digest.to_owned(),
            created_at: session.created_at,
            updated_at: session.updated_at,
            expires_at: session.expires_at,
            user_agent: session.user_agent.clone(),
            ip: session.ip.clone(),
        };
        session::Entity::insert(row.into_active_model())
            .exec_without_returning(&self.db)
            .await
            .map_err(internal)?;
        Ok(())
    }

    pub async fn session_by_digest(&self, token_digest: &str) -> Result<Option<Session>, Error> {
        let row = session::Entity::find()
            .filter(session::Column::TokenDigest.eq(token_digest))
            .one(&self.db)
            .await
            .map_err(internal)?;
        Ok(row.map(Session::from))
    }

    /// Moves the session's expiry; `false` when the session no longer exists.
    pub async fn refresh_session(
        &self,
        id: Uuid,
        updated_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, Error> {
        let updated = session::Entity::update_many()
            .col_expr(session::Column::UpdatedAt, Expr::value(updated_at))
            .col_expr(session::Column::ExpiresAt, Expr::value(expires_at))
            .filter(session::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .map_err(internal)?;
        Ok(updated.rows_affected > 0)
    }

    /// The user's unexpired sessions, newest first.
    pub async fn live_sessions(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<Session>, Error> {
        let rows = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::CreatedAt)
            .order_by_desc(session::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(Session::from).collect())
    }

    /// Deletes one of the user's sessions; its token digest, if it was theirs and existed.
    pub async fn delete_session(&self, user_id: Uuid, id: Uuid) -> Result<Option<String>, Error> {
        let digest = session::Entity::find_by_id(id)
            .filter(session::Column::UserId.eq(user_id))
            .select_only()
            .column(session::Column::TokenDigest)
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(internal)?;
        let Some(digest) = digest else {
            return Ok(None);
        };
        let deleted = session::Entity::delete_many()
            .filter(session::Column::Id.eq(id))
            .filter(session::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await
            .map_err(internal)?;
        Ok((deleted.rows_affected > 0).then_some(digest))
    }

    /// Deletes every session of the user but `except`; the deleted sessions' digests.
    pub async fn delete_sessions_of_user(
        &self,
        user_id: Uuid,
        except: Option<Uuid>,
    ) -> Result<Vec<String>, Error> {
        let tx = self.begin_write().await?;
        let doomed: Vec<(Uuid, String)> = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .apply_if(except, |query, except| {
                query.filter(session::Column::Id.ne(except))
            })
            .select_only()
            .column(session::Column::Id)
            .column(session::Column::TokenDigest)
            .into_tuple()
            .all(&tx)
            .await
            .map_err(internal)?;
        if doomed.is_empty() {
            return Ok(Vec::new());
        }
        // Exactly the sessions read above: one created meanwhile keeps living, and its digest
        // is not reported as revoked.
        session::Entity::delete_many()
            .filter(session::Column::Id.is_in(doomed.iter().map(|(id, _)| *id)))
            .exec(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(doomed.into_iter().map(|(_, digest)| digest).collect())
    }
}
