//! A fresh PostgreSQL database per run, dropped afterwards.

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};

/// Creates `wahub_bench_<pid>_<nanos>` on `server` (a URL without a database name).
pub async fn create(server: &str) -> anyhow::Result<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let name = format!("wahub_bench_{}_{nanos}", std::process::id());
    let admin = Database::connect(format!("{server}/postgres")).await.context("connecting to PostgreSQL")?;
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.context("creating the bench database")?;
    admin.close().await.ok();
    Ok(name)
}

pub async fn drop(server: &str, name: &str) {
    if let Ok(admin) = Database::connect(format!("{server}/postgres")).await {
        let _ = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
        let _ = admin.close().await;
    }
}
