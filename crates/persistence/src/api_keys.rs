//! API keys, stored by digest. Scopes are kept as granted, in `Permissions::to_csv` form.

use crate::entity::api_key;
use crate::errors::{internal, stored_name};
use crate::{Store, audit};
use chrono::{DateTime, Utc};
use portcullis_domain::{ApiKey, AuditEvent, Error, Holder, Permissions, Restriction};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
};
use uuid::Uuid;

fn already_rotated() -> Error {
    Error::conflict("this key was already rotated: rotate its successor instead")
}

impl TryFrom<api_key::Model> for ApiKey {
    type Error = Error;

    fn try_from(row: api_key::Model) -> Result<Self, Error> {
        let holder = row
            .service_account_id
            .map_or(Holder::User(row.user_id), Holder::ServiceAccount);
        let resources = row
            .resources
            .as_deref()
            .map(Restriction::from_csv)
            .transpose()
            .map_err(|_| Error::internal("a stored key restriction is not valid"))?;
        Ok(Self {
            id: row.id,
            organization_id: row.organization_id,
            holder,
            created_by: row.user_id,
            name: stored_name(&row.name)?,
            key_prefix: row.key_prefix,
            scopes: Permissions::from_csv(&row.scopes),
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            replaced_by_id: row.replaced_by_id,
            resources,
        })
    }
}

fn row(key: &ApiKey, key_digest: &str) -> api_key::Model {
    api_key::Model {
        id: key.id,
        organization_id: key.organization_id,
        user_id: key.created_by,
        name: key.name.to_string(),
        key_digest: key_digest.to_owned(),
        key_prefix: key.key_prefix.clone(),
        scopes: key.scopes.to_csv(),
        created_at: key.created_at,
        expires_at: key.expires_at,
        last_used_at: key.last_used_at,
        replaced_by_id: key.replaced_by_id,
        service_account_id: key.holder.service_account_id(),
        resources: key.resources.as_ref().map(Restriction::to_csv),
    }
}

impl Store {
    pub async fn create_api_key(
        &self,
        key: &ApiKey,
        key_digest: &str,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        api_key::Entity::insert(row(key, key_digest).into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)
    }

    pub async fn api_key_by_digest(&self, key_digest: &str) -> Result<Option<ApiKey>, Error> {
        let row = api_key::Entity::find()
            .filter(api_key::Column::KeyDigest.eq(key_digest))
            .one(&self.db)
            .await
            .map_err(internal)?;
        row.map(ApiKey::try_from).transpose()
    }

    /// The key, if it belongs to that organization.
    pub async fn api_key(
        &self,
        organization_id: Uuid,
        key_id: Uuid,
    ) -> Result<Option<ApiKey>, Error> {
        let row = api_key::Entity::find_by_id(key_id)
            .filter(api_key::Column::OrganizationId.eq(organization_id))
            .one(&self.db)
            .await
            .map_err(internal)?;
        row.map(ApiKey::try_from).transpose()
    }

    /// The organization's keys (only `holder`'s when given), oldest first.
    pub async fn api_keys(
        &self,
        organization_id: Uuid,
        holder: Option<Holder>,
    ) -> Result<Vec<ApiKey>, Error> {
        let rows = api_key::Entity::find()
            .filter(api_key::Column::OrganizationId.eq(organization_id))
            .apply_if(holder, |query, holder| match holder {
                Holder::User(id) => query
                    .filter(api_key::Column::UserId.eq(id))
                    .filter(api_key::Column::ServiceAccountId.is_null()),
                Holder::ServiceAccount(id) => {
                    query.filter(api_key::Column::ServiceAccountId.eq(id))
                }
            })
            .order_by_asc(api_key::Column::CreatedAt)
            .order_by_asc(api_key::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal)?;
        rows.into_iter().map(ApiKey::try_from).collect()
    }

    /// Deletes the organization's key; its digest, if it existed there.
    pub async fn delete_api_key(
        &self,
        organization_id: Uuid,
        key_id: Uuid,
        event: &AuditEvent,
    ) -> Result<Option<String>, Error> {
        let tx = self.begin_write().await?;
        let digest = api_key::Entity::find_by_id(key_id)
            .filter(api_key::Column::OrganizationId.eq(organization_id))
            .select_only()
            .column(api_key::Column::KeyDigest)
            .into_tuple::<String>()
            .one(&tx)
            .await
            .map_err(internal)?;
        let Some(digest) = digest else {
            return Ok(None);
        };
        api_key::Entity::delete_by_id(key_id)
            .exec(&tx)
            .await
            .map_err(internal)?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(Some(digest))
    }

    /// Rotates the key `old_id` once, in one transaction: inserts `new_key`, makes the old key
    /// expire at `old_expires_at`, records `replaced_by_id` on it and appends `event`. The old key's digest;
    /// `None`, and nothing written, if it does not exist; `Error::Conflict` if it was rotated
    /// before. Concurrent rotations are serialized by the conditional update (a row lock on
    /// PostgreSQL, the write lock on SQLite): exactly one wins.
    pub async fn rotate_api_key(
        &self,
        old_id: Uuid,
        old_expires_at: DateTime<Utc>,
        new_key: &ApiKey,
        new_digest: &str,
        event: &AuditEvent,
    ) -> Result<Option<String>, Error> {
        let tx = self.begin_write().await?;
        let old: Option<(Uuid, String, Option<Uuid>)> = api_key::Entity::find_by_id(old_id)
            .select_only()
            .column(api_key::Column::OrganizationId)
            .column(api_key::Column::KeyDigest)
            .column(api_key::Column::ReplacedById)
            .into_tuple()
            .one(&tx)
            .await
            .map_err(internal)?;
        let Some((organization_id, old_digest, replaced_by)) = old else {
            return Ok(None);
        };
        if organization_id != new_key.organization_id {
            return Err(Error::internal(
                "a rotated key must stay in its organization",
            ));
        }
        if replaced_by.is_some() {
            return Err(already_rotated());
        }
        api_key::Entity::insert(row(new_key, new_digest).into_active_model())
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        let updated = api_key::Entity::update_many()
            .col_expr(api_key::Column::ExpiresAt, Expr::value(old_expires_at))
            .col_expr(api_key::Column::ReplacedById, Expr::value(new_key.id))
            .filter(api_key::Column::Id.eq(old_id))
            .filter(api_key::Column::ReplacedById.is_null())
            .exec(&tx)
            .await
            .map_err(internal)?;
        if updated.rows_affected == 0 {
            // Dropping the transaction rolls the new key back.
            return Err(already_rotated());
        }
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(Some(old_digest))
    }

    /// Sets `last_used_at` for each key, in one transaction. Keys deleted meanwhile are
    /// skipped, and a use never moves `last_used_at` back in time.
    pub async fn record_key_uses(&self, uses: &[(Uuid, DateTime<Utc>)]) -> Result<(), Error> {
        if uses.is_empty() {
            return Ok(());
        }
        let tx = self.begin_write().await?;
        for &(key_id, at) in uses {
            api_key::Entity::update_many()
                .col_expr(api_key::Column::LastUsedAt, Expr::value(at))
                .filter(api_key::Column::Id.eq(key_id))
                .filter(
                    Condition::any()
                        .add(api_key::Column::LastUsedAt.is_null())
                        .add(api_key::Column::LastUsedAt.lt(at)),
                )
                .exec(&tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }
}
