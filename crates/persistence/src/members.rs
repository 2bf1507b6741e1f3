//! Memberships: who holds which role in which organization. An organization always keeps at
//! least one owner.

use crate::entity::{membership, organization, user};
use crate::errors::{
    conflict_or_internal, internal, stored_email, stored_optional_name, stored_role,
};
use crate::service_accounts::{delete_grants_of, grants_in, grants_of};
use crate::{Store, audit};
use chrono::{DateTime, Utc};
use portcullis_domain::{AuditEvent, Error, Member, Membership, Role};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

fn member(row: membership::Model, user: Option<user::Model>) -> Result<Member, Error> {
    let user = user.ok_or_else(|| Error::internal("a membership refers to a missing user"))?;
    Ok(Member {
        user_id: row.user_id,
        email: stored_email(&user.email)?,
        name: stored_optional_name(user.name.as_deref())?,
        role: stored_role(&row.role)?,
        joined_at: row.joined_at,
        grants: Vec::new(),
    })
}

/// The members of an organization with their users, in listing order.
async fn member_rows(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    user_id: Option<Uuid>,
) -> Result<Vec<Member>, Error> {
    let mut query =
        membership::Entity::find().filter(membership::Column::OrganizationId.eq(organization_id));
    if let Some(user_id) = user_id {
        query = query.filter(membership::Column::UserId.eq(user_id));
    }
    let mut members = query
        .find_also_related(user::Entity)
        .order_by_asc(membership::Column::JoinedAt)
        .order_by_asc(membership::Column::UserId)
        .all(db)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|(row, user)| member(row, user))
        .collect::<Result<Vec<_>, _>>()?;
    let grants = match user_id {
        Some(user_id) => grants_of(db, organization_id, user_id)
            .await?
            .into_iter()
            .map(|grant| (user_id, grant))
            .collect(),
        None => grants_in(db, organization_id).await?,
    };
    for (holder, grant) in grants {
        if let Some(member) = members.iter_mut().find(|m| m.user_id == holder) {
            member.grants.push(grant);
        }
    }
    Ok(members)
}

/// Serializes changes to one organization's owners. PostgreSQL: a row lock on the
/// organization (`FOR NO KEY UPDATE`, so inserts referencing it still proceed). SQLite: the
/// IMMEDIATE transaction already holds the database's write lock, and the lock clause is
/// left out of the statement.
async fn lock_organization(tx: &DatabaseTransaction, organization_id: Uuid) -> Result<(), Error> {
    organization::Entity::find_by_id(organization_id)
        .select_only()
        .column(organization::Column::Id)
        .lock(LockType::NoKeyUpdate)
        .into_tuple::<Uuid>()
        .one(tx)
        .await
        .map_err(internal)?;
    Ok(())
}

async fn owner_count(tx: &DatabaseTransaction, organization_id: Uuid) -> Result<u64, Error> {
    membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(organization_id))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(tx)
        .await
        .map_err(internal)
}

impl Store {
    /// The user's role in the organization, if a member.
    pub async fn role(&self, user_id: Uuid, organization_id: Uuid) -> Result<Option<Role>, Error> {
        let role = membership::Entity::find_by_id((organization_id, user_id))
            .select_only()
            .column(membership::Column::Role)
            .into_tuple::<String>()
            .one(&self.db)
            .await
            .map_err(internal)?;
        role.as_deref().map(stored_role).transpose()
    }

    /// The user's memberships, oldest first.
    pub async fn memberships(&self, user_id: Uuid) -> Result<Vec<Membership>, Error> {
        membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .order_by_asc(membership::Column::JoinedAt)
            .order_by_asc(membership::Column::OrganizationId)
            .all(&self.db)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|row| {
                Ok(Membership {
                    organization_id: row.organization_id,
                    role: stored_role(&row.role)?,
                })
            })
            .collect()
    }

    /// Ordered by `joined_at`, then user id.
    pub async fn members(&self, organization_id: Uuid) -> Result<Vec<Member>, Error> {
        member_rows(&self.db, organization_id, None).await
    }

    pub async fn member(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Member>, Error> {
        Ok(member_rows(&self.db, organization_id, Some(user_id))
            .await?
            .pop())
    }

    /// `Error::Conflict` if the user is already a member.
    pub async fn add_member(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        role: Role,
        joined_at: DateTime<Utc>,
        event: &AuditEvent,
    ) -> Result<Member, Error> {
        let tx = self.begin_write().await?;
        membership::Entity::insert(
            membership::Model {
                organization_id,
                user_id,
                role: role.as_str().to_owned(),
                joined_at,
            }
            .into_active_model(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(|err| conflict_or_internal(err, "this user is already a member"))?;
        audit::append(&tx, event).await?;
        let member = member_rows(&tx, organization_id, Some(user_id))
            .await?
            .pop()
            .ok_or_else(|| Error::internal("a member vanished right after being added"))?;
        tx.commit().await.map_err(internal)?;
        Ok(member)
    }

    /// The member with the new role; `None` if not a member. The last owner cannot be
    /// demoted (`Error::Conflict`).
    pub async fn change_role(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        role: Role,
        event: &AuditEvent,
    ) -> Result<Option<Member>, Error> {
        let tx = self.begin_write().await?;
        lock_organization(&tx, organization_id).await?;
        let Some(current) = membership::Entity::find_by_id((organization_id, user_id))
            .one(&tx)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let current = stored_role(&current.role)?;
        if current == Role::Owner
            && role != Role::Owner
            && owner_count(&tx, organization_id).await? <= 1
        {
            return Err(Error::conflict("cannot demote the last owner"));
        }
        if current != role {
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value(role.as_str()))
                .filter(membership::Column::OrganizationId.eq(organization_id))
                .filter(membership::Column::UserId.eq(user_id))
                .exec(&tx)
                .await
                .map_err(internal)?;
        }
        audit::append(&tx, event).await?;
        let member = member_rows(&tx, organization_id, Some(user_id))
            .await?
            .pop();
        tx.commit().await.map_err(internal)?;
        Ok(member)
    }

    /// Whether the user was a member. The last owner cannot leave (`Error::Conflict`).
    pub async fn remove_member(
        &self,
        organization_id: Uuid,
        user_id: Uuid,
        event: &AuditEvent,
    ) -> Result<bool, Error> {
        let tx = self.begin_write().await?;
        lock_organization(&tx, organization_id).await?;
        let Some(current) = membership::Entity::find_by_id((organization_id, user_id))
            .one(&tx)
            .await
            .map_err(internal)?
        else {
            return Ok(false);
        };
        if current.role == Role::Owner.as_str() && owner_count(&tx, organization_id).await? <= 1 {
            return Err(Error::conflict(
                "the last owner cannot leave the organization",
            ));
        }
        membership::Entity::delete_by_id((organization_id, user_id))
            .exec(&tx)
            .await
            .map_err(internal)?;
        delete_grants_of(&tx, organization_id, user_id).await?;
        audit::append(&tx, event).await?;
        tx.commit().await.map_err(internal)?;
        Ok(true)
    }
}
