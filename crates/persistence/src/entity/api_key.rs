use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The key's user, or for a service account's key the person who made it.
    pub user_id: Uuid,
    pub name: String,
    /// Hex SHA-256 of the key.
    #[sea_orm(unique)]
    pub key_digest: String,
    /// The key's first characters, shown in listings.
    pub key_prefix: String,
    /// The granted scopes as `Permissions::to_csv` writes them: `admin,read`.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    /// The key that replaced this one at its rotation.
    pub replaced_by_id: Option<Uuid>,
    /// Set for a service account's key; `user_id` is then the person who made it.
    pub service_account_id: Option<Uuid>,
    /// The resource paths it is restricted to, as `Restriction::to_csv` writes them.
    pub resources: Option<String>,
    #[sea_orm(belongs_to, from = "organization_id", to = "id", on_delete = "Cascade")]
    pub organization: BelongsTo<super::organization::Entity>,
    #[sea_orm(belongs_to, from = "user_id", to = "id", on_delete = "Cascade")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
