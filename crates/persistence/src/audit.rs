//! The audit trail of each organization, newest first.

use crate::entity::audit_event;
use crate::errors::internal;
use crate::{Page, Store};
use portcullis_domain::{AuditEvent, Error};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

impl From<audit_event::Model> for AuditEvent {
    fn from(row: audit_event::Model) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id,
            at: row.at,
            actor_user_id: row.actor_user_id,
            actor_api_key_id: row.actor_api_key_id,
            action: row.action,
            target: row.target,
            ip: row.ip,
        }
    }
}

/// Appends `event` through `db`: the transaction of the change it records, so that the change
/// and its event are written together or not at all.
pub(crate) async fn append(db: &impl ConnectionTrait, event: &AuditEvent) -> Result<(), Error> {
    audit_event::Entity::insert(
        audit_event::Model {
            id: event.id,
            organization_id: event.organization_id,
            at: event.at,
            actor_user_id: event.actor_user_id,
            actor_api_key_id: event.actor_api_key_id,
            action: event.action.clone(),
            target: event.target.clone(),
            ip: event.ip.clone(),
        }
        .into_active_model(),
    )
    .exec_without_returning(db)
    .await
    .map_err(internal)?;
    Ok(())
}

impl Store {
    /// Newest first: ids are UUID v7, so id order is time order.
    pub async fn audit_events(
        &self,
        organization_id: Uuid,
        page: Page,
    ) -> Result<Vec<AuditEvent>, Error> {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::OrganizationId.eq(organization_id))
            .apply_if(page.before, |query, before| {
                query.filter(audit_event::Column::Id.lt(before))
            })
            .order_by_desc(audit_event::Column::Id)
            .limit(page.limit)
            .all(&self.db)
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(AuditEvent::from).collect())
    }
}
