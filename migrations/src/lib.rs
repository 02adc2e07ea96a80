//! Schema migrations, one per change, each valid on SQLite and PostgreSQL.
//!
//! Migrations run inside a transaction on both backends, so a failed one leaves nothing behind.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_foundation;
mod m20261128_000002_content;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_content::Migration),
        ]
    }
}
