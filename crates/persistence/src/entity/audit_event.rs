use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// A UUID v7: ordering by id is ordering by time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub at: DateTimeUtc,
    /// No foreign key: an event outlives its actor.
    pub actor_user_id: Option<Uuid>,
    /// No foreign key: an event outlives its actor.
    pub actor_api_key_id: Option<Uuid>,
    pub action: String,
    pub target: String,
    pub ip: Option<String>,
    #[sea_orm(belongs_to, from = "organization_id", to = "id", on_delete = "Cascade")]
    pub organization: BelongsTo<super::organization::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
