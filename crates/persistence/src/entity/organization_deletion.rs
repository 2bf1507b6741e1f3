use sea_orm::entity::prelude::*;

/// The trace of a deleted organization. No foreign keys: it outlives the organization and its
/// actor.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_deletions")]
pub struct Model {
    /// A UUID v7 made at deletion: ordering by id is ordering by deletion time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub slug: String,
    pub created_at: DateTimeUtc,
    pub deleted_at: DateTimeUtc,
    pub actor_user_id: Option<Uuid>,
    pub ip: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
