//! Service accounts and grants: the non-human members of an organization, and roles on
//! resources for members and service accounts alike (the grant's holder).

use crate::entity::{api_key, grant, membership, service_account};
use crate::errors::{internal, stored_name, stored_role};
use crate::{Store, audit};
use chrono::{DateTime, Utc};
use portcullis_domain::{
    AuditEvent, Error, Grant, Holder, ResourcePath, Role, ServiceAccount, Standing,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

impl TryFrom<service_account::Model> for ServiceAccount {
    type Error = Error;

    fn try_from(row: service_account::Model) -> Result<Self, Error> {
        Ok(Self {
            id: row.id,
            organization_id: row.organization_id,
            name: stored_name(&row.name)?,
            description: row.description,
            role: stored_role(&row.role)?,
            created_by: row.created_by,
            created_at: row.created_at,
        })
    }
}

fn grant(row: grant::Model) -> Result<Grant, Error> {
    Ok(Grant {
        resource: ResourcePath::parse(&row.resource)
            .map_err(|_| Error::internal("a stored resource path is not valid"))?,
        role: stored_role(&row.role)?,
        created_at: row.created_at,
    })
}

/// The holder's grants in the organization, by resource.
pub(crate) async fn grants_of(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    holder_id: Uuid,
) -> Result<Vec<Grant>, Error> {
    grant::Entity::find()
        .filter(grant::Column::OrganizationId.eq(organization_id))
        .filter(grant::Column::HolderId.eq(holder_id))
        .order_by_asc(grant::Column::Resource)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(grant)
        .collect()
}

/// Every grant in the organization, by holder.
pub(crate) async fn grants_in(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<Vec<(Uuid, Grant)>, Error> {
    grant::Entity::find()
        .filter(grant::Column::OrganizationId.eq(organization_id))
        .order_by_asc(grant::Column::Resource)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|row| Ok((row.holder_id, grant(row)?)))
        .collect()
}

pub(crate) async fn delete_grants_of(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    holder_id: Uuid,
) -> Result<(), Error> {
    grant::Entity::delete_many()
        .filter(grant::Column::OrganizationId.eq(organization_id))
        .filter(grant::Column::HolderId.eq(holder_id))
        .exec(db)
        .await
        .map_err(internal)?;
    Ok(())
}

/// What changes on a service account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub role: Option<Role>,
}

impl Store {
    /// The holder's role and grants in the organization, if a member (or one of its service
    /// accounts): what the decision reads.
    pub async fn standing(
        &self,
        holder: Holder,
        organization_id: Uuid,
    ) -> Result<Option<Standing>, Error> {
        let role = match holder {
            Holder::User(user_id) => membership::Entity::find_by_id((organization_id, user_id))
                .select_only()
                .column(membership::Column::Role)
                .into_tuple::<String>()
                .one(&self.db)
                .await
                .map_err(internal)?,
            Holder::ServiceAccount(id) => service_account::Entity::find_by_id(id)
                .filter(service_account::Column::OrganizationId.eq(organization_id))
                .select_only()
                .column(service_account::Column::Role)
                .into_tuple::<String>()
                .one(&self.db)
                .await
                .map_err(internal)?,
        };
        let Some(role) = role else {
            return Ok(None);
        };
        Ok(Some(Standing {
            role: stored_role(&role)?,
            grants: grants_of(&self.db, organization_id, holder.id()).await?,
        }))
    }

    pub async fn create_service_account(
        &self,
        account: &ServiceAccount,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        service_account::Entity::insert(
            service_account::Model {
                id: account.id,
                organization_id: account.organization_id,
                name: account.name.to_string(),
                description: account.description.clone(),
                role: account.role.as_str().to_owned(),
                created_by: account.created_by,
                created_at: account.created_at,
            }
            .into_active_model(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(internal)?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)
    }

    /// The organization's service accounts, oldest first.
    pub async fn service_accounts(
        &self,
        organization_id: Uuid,
    ) -> Result<Vec<ServiceAccount>, Error> {
        service_account::Entity::find()
            .filter(service_account::Column::OrganizationId.eq(organization_id))
            .order_by_asc(service_account::Column::CreatedAt)
            .order_by_asc(service_account::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(ServiceAccount::try_from)
            .collect()
    }

    /// The account, if it belongs to that organization.
    pub async fn service_account(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> Result<Option<ServiceAccount>, Error> {
        service_account::Entity::find_by_id(id)
            .filter(service_account::Column::OrganizationId.eq(organization_id))
            .one(&self.db)
            .await
            .map_err(internal)?
            .map(ServiceAccount::try_from)
            .transpose()
    }

    /// The changed account; `None` if it is not the organization's.
    pub async fn update_service_account(
        &self,
        organization_id: Uuid,
        id: Uuid,
        changes: AccountChanges,
        event: &AuditEvent,
    ) -> Result<Option<ServiceAccount>, Error> {
        let tx = self.begin_write().await?;
        let Some(row) = service_account::Entity::find_by_id(id)
            .filter(service_account::Column::OrganizationId.eq(organization_id))
            .one(&tx)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let mut active = row.into_active_model();
        if let Some(name) = changes.name {
            active.name = ActiveValue::Set(name);
        }
        if let Some(description) = changes.description {
            active.description = ActiveValue::Set(description);
        }
        if let Some(role) = changes.role {
            active.role = ActiveValue::Set(role.as_str().to_owned());
        }
        let row = service_account::Entity::update(active)
            .exec(&tx)
            .await
            .map_err(internal)?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        ServiceAccount::try_from(row).map(Some)
    }

    /// Deletes the account with its keys and grants, in one transaction; the digests of its
    /// keys, or `None` if it is not the organization's.
    pub async fn delete_service_account(
        &self,
        organization_id: Uuid,
        id: Uuid,
        event: &AuditEvent,
    ) -> Result<Option<Vec<String>>, Error> {
        let tx = self.begin_write().await?;
        let deleted = service_account::Entity::delete_many()
            .filter(service_account::Column::Id.eq(id))
            .filter(service_account::Column::OrganizationId.eq(organization_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Ok(None);
        }
        let digests = api_key::Entity::find()
            .filter(api_key::Column::ServiceAccountId.eq(id))
            .select_only()
            .column(api_key::Column::KeyDigest)
            .into_tuple::<String>()
            .all(&tx)
            .await
            .map_err(internal)?;
        api_key::Entity::delete_many()
            .filter(api_key::Column::ServiceAccountId.eq(id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        delete_grants_of(&tx, organization_id, id).await?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(Some(digests))
    }

    pub async fn grants(
        &self,
        organization_id: Uuid,
        holder_id: Uuid,
    ) -> Result<Vec<Grant>, Error> {
        grants_of(&self.db, organization_id, holder_id).await
    }

    /// Creates the grant, or changes its role (keeping when it was first made).
    pub async fn set_grant(
        &self,
        organization_id: Uuid,
        holder_id: Uuid,
        resource: &ResourcePath,
        role: Role,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> Result<Grant, Error> {
        let tx = self.begin_write().await?;
        grant::Entity::insert(
            grant::Model {
                organization_id,
                holder_id,
                resource: resource.to_string(),
                role: role.as_str().to_owned(),
                created_at: now,
            }
            .into_active_model(),
        )
        .on_conflict(
            OnConflict::columns([
                grant::Column::OrganizationId,
                grant::Column::HolderId,
                grant::Column::Resource,
            ])
            .update_column(grant::Column::Role)
            .to_owned(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(internal)?;
        audit::append(&tx, event).await?;
        let written = grant::Entity::find_by_id((organization_id, holder_id, resource.to_string()))
            .one(&tx)
            .await
            .map_err(internal)?
            .map(grant)
            .transpose()?
            .ok_or_else(|| Error::internal("a grant vanished right after being written"))?;
        tx.commit().await.map_err(internal)?;
        Ok(written)
    }

    /// Whether there was such a grant.
    pub async fn remove_grant(
        &self,
        organization_id: Uuid,
        holder_id: Uuid,
        resource: &ResourcePath,
        event: &AuditEvent,
    ) -> Result<bool, Error> {
        let tx = self.begin_write().await?;
        let deleted =
            grant::Entity::delete_by_id((organization_id, holder_id, resource.to_string()))
                .exec(&tx)
                .await
                .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }
}
