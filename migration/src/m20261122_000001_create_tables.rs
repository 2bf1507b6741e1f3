//! The initial schema. Ids are UUIDs (v7, so they sort by creation time) and times are
//! timestamps with time zone; the same statements run on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    PlatformAdmin,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenDigest,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
    UserAgent,
    Ip,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    OrganizationId,
    UserId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrganizationId,
    UserId,
    Name,
    KeyDigest,
    KeyPrefix,
    Scopes,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OrganizationId,
    At,
    ActorUserId,
    ActorApiKeyId,
    Action,
    Target,
    Ip,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    PrivateKey,
    CreatedAt,
}

/// `from_table.from_col` references `to_table.id`; deleting the parent deletes the row.
fn cascade(
    name: &str,
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_uniq(Users::Email))
                    .col(string_null(Users::Name))
                    .col(string(Users::PasswordHash))
                    .col(boolean(Users::PlatformAdmin))
                    .col(boolean(Users::Disabled))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(string_uniq(Sessions::TokenDigest))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::UpdatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(string_null(Sessions::UserAgent))
                    .col(string_null(Sessions::Ip))
                    .foreign_key(&mut cascade(
                        "fk_sessions_user_id",
                        Sessions::Table,
                        Sessions::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string(Organizations::Name))
                    .col(string_uniq(Organizations::Slug))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::OrganizationId))
                    .col(uuid(Memberships::UserId))
                    .col(string(Memberships::Role))
                    .col(timestamp_with_time_zone(Memberships::JoinedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_memberships")
                            .col(Memberships::OrganizationId)
                            .col(Memberships::UserId),
                    )
                    .foreign_key(&mut cascade(
                        "fk_memberships_organization_id",
                        Memberships::Table,
                        Memberships::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_memberships_user_id",
                        Memberships::Table,
                        Memberships::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_user_id")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::OrganizationId))
                    .col(uuid(ApiKeys::UserId))
                    .col(string(ApiKeys::Name))
                    .col(string_uniq(ApiKeys::KeyDigest))
                    .col(string(ApiKeys::KeyPrefix))
                    .col(string(ApiKeys::Scopes))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .foreign_key(&mut cascade(
                        "fk_api_keys_organization_id",
                        ApiKeys::Table,
                        ApiKeys::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut cascade(
                        "fk_api_keys_user_id",
                        ApiKeys::Table,
                        ApiKeys::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_organization_id_user_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::OrganizationId)
                    .col(ApiKeys::UserId)
                    .take(),
            )
            .await?;
        // The user foreign key's cascade looks rows up by user alone.
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_user_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::UserId)
                    .take(),
            )
            .await?;

        // Actors carry no foreign keys: an event outlives the user or key that caused it.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(uuid(AuditEvents::OrganizationId))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(uuid_null(AuditEvents::ActorUserId))
                    .col(uuid_null(AuditEvents::ActorApiKeyId))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::Target))
                    .col(string_null(AuditEvents::Ip))
                    .foreign_key(&mut cascade(
                        "fk_audit_events_organization_id",
                        AuditEvents::Table,
                        AuditEvents::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_organization_id_id")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OrganizationId)
                    .col(AuditEvents::Id)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string(SigningKeys::Kid).primary_key())
                    .col(text(SigningKeys::PrivateKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children first; dropping a table drops its indexes and foreign keys.
        for table in [
            SigningKeys::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            Memberships::Table.into_iden(),
            Organizations::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
