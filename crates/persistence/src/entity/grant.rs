use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    /// A member's user id or a service account's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub holder_id: Uuid,
    /// A `ResourcePath`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource: String,
    /// A `Role`'s name: admin, developer or viewer.
    pub role: String,
    pub created_at: DateTimeUtc,
    #[sea_orm(belongs_to, from = "organization_id", to = "id", on_delete = "Cascade")]
    pub organization: BelongsTo<super::organization::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
