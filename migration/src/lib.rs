//! Database schema for wahub. Every migration runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_delivery_log_index;
mod m0003_incoming_message_dedup;
mod m0004_user_seq;
mod m0005_admin;
mod m0006_engine_keys_cascade;
mod m0007_nodes;
mod m0008_session_leases;
mod m0009_phone_claims;
mod m0010_webhooks_gen;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_delivery_log_index::Migration),
            Box::new(m0003_incoming_message_dedup::Migration),
            Box::new(m0004_user_seq::Migration),
            Box::new(m0005_admin::Migration),
            Box::new(m0006_engine_keys_cascade::Migration),
            Box::new(m0007_nodes::Migration),
            Box::new(m0008_session_leases::Migration),
            Box::new(m0009_phone_claims::Migration),
            Box::new(m0010_webhooks_gen::Migration),
        ]
    }
}
