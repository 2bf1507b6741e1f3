//! The trace a deleted organization leaves for platform admins. Only a new table, so an
//! existing database upgrades in place.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// No foreign keys: a trace outlives its organization and its actor.
#[derive(DeriveIden)]
enum OrganizationDeletions {
    Table,
    Id,
    OrganizationId,
    Name,
    Slug,
    CreatedAt,
    DeletedAt,
    ActorUserId,
    Ip,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrganizationDeletions::Table)
                    .col(pk_uuid(OrganizationDeletions::Id))
                    .col(uuid(OrganizationDeletions::OrganizationId))
                    .col(string(OrganizationDeletions::Name))
                    .col(string(OrganizationDeletions::Slug))
                    .col(timestamp_with_time_zone(OrganizationDeletions::CreatedAt))
                    .col(timestamp_with_time_zone(OrganizationDeletions::DeletedAt))
                    .col(uuid_null(OrganizationDeletions::ActorUserId))
                    .col(string_null(OrganizationDeletions::Ip))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrganizationDeletions::Table).to_owned())
            .await
    }
}
