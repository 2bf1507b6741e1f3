use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Normalized (lower-case) by the domain before it gets here.
    #[sea_orm(unique)]
    pub email: String,
    pub name: Option<String>,
    /// An argon2 PHC string.
    pub password_hash: String,
    pub platform_admin: bool,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    #[sea_orm(has_many)]
    pub memberships: HasMany<super::membership::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
