//! Service accounts, grants on resources, and keys restricted to resources or held by a service
//! account. Only new tables and nullable columns, so an existing database upgrades in place.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceAccounts {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    Role,
    CreatedBy,
    CreatedAt,
}

/// A role on a resource for a member or a service account (the holder; ids never collide).
#[derive(DeriveIden)]
enum Grants {
    Table,
    OrganizationId,
    HolderId,
    Resource,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    ServiceAccountId,
    Resources,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Grants,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

fn cascade_from_organization(table: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, Grants::OrganizationId)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `created_by` carries no foreign key: the account outlives its creator's membership.
        manager
            .create_table(
                Table::create()
                    .table(ServiceAccounts::Table)
                    .col(pk_uuid(ServiceAccounts::Id))
                    .col(uuid(ServiceAccounts::OrganizationId))
                    .col(string(ServiceAccounts::Name))
                    .col(text_null(ServiceAccounts::Description))
                    .col(string(ServiceAccounts::Role))
                    .col(uuid_null(ServiceAccounts::CreatedBy))
                    .col(timestamp_with_time_zone(ServiceAccounts::CreatedAt))
                    .foreign_key(&mut cascade_from_organization(
                        ServiceAccounts::Table,
                        "fk_service_accounts_organization_id",
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_accounts_organization_id")
                    .table(ServiceAccounts::Table)
                    .col(ServiceAccounts::OrganizationId)
                    .take(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(uuid(Grants::OrganizationId))
                    .col(uuid(Grants::HolderId))
                    .col(string(Grants::Resource))
                    .col(string(Grants::Role))
                    .col(timestamp_with_time_zone(Grants::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Grants::OrganizationId)
                            .col(Grants::HolderId)
                            .col(Grants::Resource),
                    )
                    .foreign_key(&mut cascade_from_organization(
                        Grants::Table,
                        "fk_grants_organization_id",
                    ))
                    .take(),
            )
            .await?;

        // SQLite adds one column per statement. A service account's keys are deleted with it
        // (in the same transaction), so the column needs no foreign key.
        for column in [
            uuid_null(ApiKeys::ServiceAccountId),
            text_null(ApiKeys::Resources),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .add_column(text_null(Invitations::Grants))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Invitations::Table)
                    .drop_column(Invitations::Grants)
                    .take(),
            )
            .await?;
        for column in [ApiKeys::Resources, ApiKeys::ServiceAccountId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApiKeys::Table)
                        .drop_column(column)
                        .take(),
                )
                .await?;
        }
        for table in [
            Grants::Table.into_iden(),
            ServiceAccounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().take())
                .await?;
        }
        Ok(())
    }
}
