//! A fresh PostgreSQL database per run, dropped afterwards.

use anyhow::Context;
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

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

/// CPU seconds used so far by each PostgreSQL backend serving database `name`, by pid.
/// The database work of a publish happens in these processes, not in wahub's.
pub async fn backend_cpu(server: &str, name: &str) -> Option<HashMap<u32, f64>> {
    let admin = Database::connect(format!("{server}/postgres")).await.ok()?;
    let sql = format!("SELECT pid FROM pg_stat_activity WHERE datname = '{name}'");
    let rows = admin.query_all(Statement::from_string(DbBackend::Postgres, sql)).await.ok()?;
    let _ = admin.close().await;
    let pids = rows.iter().filter_map(|r| r.try_get::<i32>("", "pid").ok()).filter_map(|p| u32::try_from(p).ok());
    Some(pids.filter_map(|pid| Some((pid, crate::procfs::cpu_seconds(pid)?))).collect())
}

/// CPU the backends used between two [`backend_cpu`] readings; a backend that started in
/// between counts from its start.
pub fn cpu_between(before: &HashMap<u32, f64>, after: &HashMap<u32, f64>) -> f64 {
    after.iter().map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0)).filter(|d| *d > 0.0).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_cpu_counts_new_backends_from_their_start() {
        let before = HashMap::from([(1, 2.0), (2, 5.0)]);
        let after = HashMap::from([(1, 3.5), (3, 0.25)]);
        assert_eq!(cpu_between(&before, &after), 1.75);
    }
}
