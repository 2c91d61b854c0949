//! The `nodes` table: join (refusing when another node is alive), heartbeat, leave.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, Statement, TransactionTrait,
};

use crate::db::entities::node;

/// Rows of nodes silent this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Serializes joins on PostgreSQL (any constant shared by all wahub nodes).
const JOIN_LOCK: i64 = 0x7761_6875_626e;

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error(
        "another wahub node ({other}) is running on this database (heartbeat {ago_ms} ms ago); \
         wahub runs one node per database — stop it first, or wait {ttl_secs} s if it crashed"
    )]
    AnotherNodeAlive { other: String, ago_ms: i64, ttl_secs: u64 },
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// One node as the admin API shows it.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub id: String,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub heartbeat_ms: i64,
    pub alive: bool,
    pub sessions: i64,
    pub sockets: i64,
}

pub struct NodeRegistry {
    db: DatabaseConnection,
    id: String,
    ttl: Duration,
    /// Cluster mode: other live nodes are expected, not refused.
    cluster: bool,
}

impl NodeRegistry {
    /// The registry as seen by node `id`; `join` registers it.
    pub fn new(db: DatabaseConnection, id: String, ttl: Duration, cluster: bool) -> Self {
        Self { db, id, ttl, cluster }
    }

    /// Registers this node; outside cluster mode, only when no other node's heartbeat is
    /// younger than the TTL.
    pub async fn join(&self) -> Result<(), JoinError> {
        let txn = self.db.begin().await?;
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            txn.execute(Statement::from_string(
                DatabaseBackend::Postgres,
                format!("SELECT pg_advisory_xact_lock({JOIN_LOCK})"),
            ))
            .await?;
        }
        // Write first: on SQLite this takes the write lock, so two joins cannot both pass the check.
        node::Entity::delete_by_id(self.id.clone()).exec(&txn).await?;
        let now = db_now_ms(&txn).await?;
        node::ActiveModel {
            id: Set(self.id.clone()),
            version: Set(env!("CARGO_PKG_VERSION").to_owned()),
            started_at: Set(Utc::now()),
            heartbeat_ms: Set(now),
            sessions: Set(0),
            sockets: Set(0),
        }
        .insert(&txn)
        .await?;
        let alive = if self.cluster {
            None
        } else {
            node::Entity::find()
                .filter(node::Column::Id.ne(self.id.clone()))
                .filter(node::Column::HeartbeatMs.gt(now - self.ttl_ms()))
                .order_by_desc(node::Column::HeartbeatMs)
                .one(&txn)
                .await?
        };
        if let Some(other) = alive {
            txn.rollback().await?;
            return Err(JoinError::AnotherNodeAlive {
                other: other.id,
                ago_ms: now - other.heartbeat_ms,
                ttl_secs: self.ttl.as_secs(),
            });
        }
        let forget_before = now - i64::try_from(FORGET_AFTER.as_millis()).unwrap_or(i64::MAX);
        node::Entity::delete_many().filter(node::Column::HeartbeatMs.lt(forget_before)).exec(&txn).await?;
        txn.commit().await?;
        tracing::info!(node = %self.id, "joined the node registry");
        Ok(())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// How often to call `heartbeat`: three beats fit in one TTL.
    pub fn beat_every(&self) -> Duration {
        (self.ttl / 3).max(Duration::from_millis(100))
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Renews this node's heartbeat with what it runs now.
    pub async fn heartbeat(&self, sessions: usize, sockets: usize) -> Result<(), DbErr> {
        let now = db_now_ms(&self.db).await?;
        node::Entity::update_many()
            .col_expr(node::Column::HeartbeatMs, Expr::value(now))
            .col_expr(node::Column::Sessions, Expr::value(i64::try_from(sessions).unwrap_or(i64::MAX)))
            .col_expr(node::Column::Sockets, Expr::value(i64::try_from(sockets).unwrap_or(i64::MAX)))
            .filter(node::Column::Id.eq(self.id.clone()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Removes this node's row on a clean stop, so the next start need not wait out the TTL.
    pub async fn leave(&self) -> Result<(), DbErr> {
        node::Entity::delete_by_id(self.id.clone()).exec(&self.db).await?;
        Ok(())
    }

    /// Every registered node, newest heartbeat first.
    pub async fn list(&self) -> Result<Vec<NodeView>, DbErr> {
        let now = db_now_ms(&self.db).await?;
        let rows = node::Entity::find().order_by_desc(node::Column::HeartbeatMs).all(&self.db).await?;
        Ok(rows
            .into_iter()
            .map(|n| NodeView {
                alive: n.heartbeat_ms > now - self.ttl_ms(),
                id: n.id,
                version: n.version,
                started_at: n.started_at,
                heartbeat_ms: n.heartbeat_ms,
                sessions: n.sessions,
                sockets: n.sockets,
            })
            .collect())
    }
}

/// Milliseconds since the Unix epoch by the database's clock, the one clock all nodes share.
async fn db_now_ms<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    let backend = conn.get_database_backend();
    let sql = format!("SELECT {} AS now", crate::db::fence::now_ms_sql(backend));
    let row = conn
        .query_one(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| DbErr::Custom("the database returned no time".into()))?;
    row.try_get("", "now")
}
