//! Organizations. Creating one makes its creator the owner in the same transaction; deleting
//! one leaves a trace that platform admins can read.

use crate::entity::{membership, organization, organization_deletion};
use crate::errors::{conflict_or_internal, internal, stored_name};
use crate::{Page, Store, audit};
use portcullis_domain::{
    AuditEvent, Error, Name, OrgSlug, Organization, OrganizationDeletion, Role,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

impl TryFrom<organization::Model> for Organization {
    type Error = Error;

    fn try_from(row: organization::Model) -> Result<Self, Error> {
        Ok(Self {
            id: row.id,
            name: stored_name(&row.name)?,
            slug: OrgSlug::parse(&row.slug)
                .map_err(|_| Error::internal("a stored slug is not valid"))?,
            created_at: row.created_at,
        })
    }
}

impl Store {
    /// Inserts the organization and `owner`'s `owner` membership (joined at its creation).
    pub async fn create_organization(
        &self,
        organization: &Organization,
        owner: Uuid,
        event: &AuditEvent,
    ) -> Result<(), Error> {
        let tx = self.begin_write().await?;
        organization::Entity::insert(
            organization::Model {
                id: organization.id,
                name: organization.name.to_string(),
                slug: organization.slug.to_string(),
                created_at: organization.created_at,
            }
            .into_active_model(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(|err| {
            conflict_or_internal(err, "an organization with this slug already exists")
        })?;
        membership::Entity::insert(
            membership::Model {
                organization_id: organization.id,
                user_id: owner,
                role: Role::Owner.as_str().to_owned(),
                joined_at: organization.created_at,
            }
            .into_active_model(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(internal)?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)
    }

    pub async fn organization(&self, id: Uuid) -> Result<Option<Organization>, Error> {
        let row = organization::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(internal)?;
        row.map(Organization::try_from).transpose()
    }

    /// The organizations the user is a member of, oldest first.
    pub async fn organizations_of_user(&self, user_id: Uuid) -> Result<Vec<Organization>, Error> {
        let rows = organization::Entity::find()
            .inner_join(membership::Entity)
            .filter(membership::Column::UserId.eq(user_id))
            .order_by_asc(organization::Column::CreatedAt)
            .order_by_asc(organization::Column::Id)
            .all(&self.db)
            .await
            .map_err(internal)?;
        rows.into_iter().map(Organization::try_from).collect()
    }

    pub async fn list_organizations(&self, page: Page) -> Result<Vec<Organization>, Error> {
        let rows = organization::Entity::find()
            .apply_if(page.before, |query, before| {
                query.filter(organization::Column::Id.lt(before))
            })
            .order_by_desc(organization::Column::Id)
            .limit(page.limit)
            .all(&self.db)
            .await
            .map_err(internal)?;
        rows.into_iter().map(Organization::try_from).collect()
    }

    pub async fn rename_organization(
        &self,
        id: Uuid,
        name: &Name,
        event: &AuditEvent,
    ) -> Result<Option<Organization>, Error> {
        let tx = self.begin_write().await?;
        let updated = organization::Entity::update_many()
            .col_expr(organization::Column::Name, Expr::value(name.as_str()))
            .filter(organization::Column::Id.eq(id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        if updated.rows_affected == 0 {
            return Ok(None);
        }
        audit::append(&tx, event).await?;
        let row = organization::Entity::find_by_id(id)
            .one(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        row.map(Organization::try_from).transpose()
    }

    /// Deletes the organization and records `deletion`, which outlives it; whether it existed.
    /// Its memberships, API keys and audit events go with it (cascade).
    pub async fn delete_organization(
        &self,
        id: Uuid,
        deletion: &OrganizationDeletion,
    ) -> Result<bool, Error> {
        let tx = self.begin_write().await?;
        let deleted = organization::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(internal)?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        organization_deletion::Entity::insert(
            organization_deletion::Model {
                id: deletion.id,
                organization_id: deletion.organization.id,
                name: deletion.organization.name.to_string(),
                slug: deletion.organization.slug.to_string(),
                created_at: deletion.organization.created_at,
                deleted_at: deletion.at,
                actor_user_id: deletion.actor_user_id,
                ip: deletion.ip.clone(),
            }
            .into_active_model(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }

    /// Deleted organizations, most recently deleted first.
    pub async fn organization_deletions(
        &self,
        page: Page,
    ) -> Result<Vec<OrganizationDeletion>, Error> {
        let rows = organization_deletion::Entity::find()
            .apply_if(page.before, |query, before| {
                query.filter(organization_deletion::Column::Id.lt(before))
            })
            .order_by_desc(organization_deletion::Column::Id)
            .limit(page.limit)
            .all(&self.db)
            .await
            .map_err(internal)?;
        rows.into_iter()
            .map(|row| {
                Ok(OrganizationDeletion {
                    id: row.id,
                    organization: Organization::try_from(organization::Model {
                        id: row.organization_id,
                        name: row.name,
                        slug: row.slug,
                        created_at: row.created_at,
                    })?,
                    at: row.deleted_at,
                    actor_user_id: row.actor_user_id,
                    ip: row.ip,
                })
            })
            .collect()
    }
}
