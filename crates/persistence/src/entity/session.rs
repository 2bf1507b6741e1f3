use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// Hex SHA-256 of the cookie's token.
    #[sea_orm(unique)]
    pub token_digest: String,
    pub created_at: DateTimeUtc,
    /// The last refresh.
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[sea_orm(belongs_to, from = "user_id", to = "id", on_delete = "Cascade")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
