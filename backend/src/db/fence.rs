//! Epoch fencing: a write for a session commits only while the writer still holds the
//! session's lease (same node, same epoch, not expired by the database's clock).
//! The check runs first in the write's own transaction and locks the lease row, so a
//! takeover cannot slip between the check and the commit; lock order is always the
//! lease row first, then the session's own rows.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// The error text of a write refused by fencing (see `is_fenced`).
const FENCED: &str = "fenced: this node no longer holds the session's lease";

/// Who may write for one session: the lease this node holds on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub session_id: Uuid,
    pub node: String,
    pub epoch: i64,
}

/// Milliseconds since the Unix epoch by the database's clock, as an SQL expression.
pub fn now_ms_sql(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        _ => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
    }
}

impl Fence {
    /// Fails with a fenced error unless the lease is still this writer's; call inside
    /// the transaction of the write it guards.
    pub async fn check<C: ConnectionTrait>(&self, conn: &C) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        let sql = format!(
            "UPDATE session_leases SET epoch = epoch WHERE session_id = $1 AND node_id = $2 AND epoch = $3 \
             AND expires_ms > {}",
            now_ms_sql(backend)
        );
        let values: Vec<Value> = vec![self.session_id.into(), self.node.clone().into(), self.epoch.into()];
        let done = conn.execute(Statement::from_sql_and_values(backend, sql, values)).await?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(DbErr::Custom(FENCED.into()))
        }
    }
}

/// Whether a database error is a write refused by fencing (the node must drop the link).
pub fn is_fenced(err: &DbErr) -> bool {
    matches!(err, DbErr::Custom(m) if m == FENCED)
}
