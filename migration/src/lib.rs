//! Portcullis's database migrations, applied by `portcullis migrate` and at `serve` start-up.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_tables;
mod m20261203_000001_key_replaced_by;
mod m20261203_000002_invitations_and_password_resets;
mod m20261203_000003_service_accounts_and_grants;
mod m20261203_000004_organization_deletions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_tables::Migration),
            Box::new(m20261203_000001_key_replaced_by::Migration),
            Box::new(m20261203_000002_invitations_and_password_resets::Migration),
            Box::new(m20261203_000003_service_accounts_and_grants::Migration),
            Box::new(m20261203_000004_organization_deletions::Migration),
        ]
    }
}
