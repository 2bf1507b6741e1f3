use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    /// Normalized (lower-case) by the domain.
    pub email: String,
    /// A `Role`'s name.
    pub role: String,
    pub invited_by: Option<Uuid>,
    /// Hex SHA-256 of the link's token.
    #[sea_orm(unique)]
    pub token_digest: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Grants given on joining, as `resource=role` pairs joined by commas.
    pub grants: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
