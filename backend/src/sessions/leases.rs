//! Session leases: the node running a session holds its row in `session_leases`
//! (owner node, epoch, expiry by the database's clock). Acquiring a lease someone else
//! let expire bumps the epoch, which fences every later write of the old holder.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, Value};
use uuid::Uuid;

use crate::db::fence::{now_ms_sql, Fence};
use crate::domain::Status;

/// What acquiring a lease found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// This node holds the lease now; `lost_by` names a node whose lease expired under it.
    Mine { epoch: i64, lost_by: Option<String> },
    /// Another node holds a live lease.
    Elsewhere { node: String },
}

/// Placement's view of the cluster, read in one go.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Sessions this node holds live leases on (paired or not: what its cap counts).
    pub held: i64,
    /// Paired sessions that should run and run here. Shares compare these alone: a session
    /// being paired cannot move, so counting it would make a node pairing many sessions
    /// hand its connected ones away.
    pub mine: i64,
    /// Paired sessions that should be running, anywhere.
    pub wanted: i64,
    /// Live nodes (heartbeat younger than the TTL), this one included.
    pub nodes: i64,
    /// The fewest paired, running sessions any live node runs.
    pub least: i64,
}

pub struct Leases {
    db: DatabaseConnection,
    node: String,
    ttl: Duration,
}

const RUNNING: [Status; 5] =
    [Status::Starting, Status::ScanQr, Status::Pairing, Status::Connected, Status::Reconnecting];

fn running_list() -> String {
    RUNNING.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

impl Leases {
    pub fn new(db: DatabaseConnection, node: String, ttl: Duration) -> Self {
        Self { db, node, ttl }
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    fn stmt(&self, sql: String, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend(), sql, values)
    }

    pub fn fence(&self, session_id: Uuid, epoch: i64) -> Fence {
        Fence { session_id, node: self.node.clone(), epoch }
    }

    /// Takes the lease of a session unless another node holds a live one. Re-acquiring
    /// a live lease of this node keeps its epoch; anything else bumps it.
    pub async fn acquire(&self, session_id: Uuid) -> Result<Acquired, DbErr> {
        let now = now_ms_sql(self.backend());
        let before = self
            .db
            .query_one(self.stmt(
                format!("SELECT node_id, expires_ms > {now} AS live FROM session_leases WHERE session_id = $1"),
                vec![session_id.into()],
            ))
            .await?;
        let previous: Option<(String, bool)> = match before {
            Some(row) => Some((row.try_get("", "node_id")?, row.try_get("", "live")?)),
            None => None,
        };
        let sql = format!(
            "INSERT INTO session_leases (session_id, node_id, epoch, expires_ms) VALUES ($1, $2, 1, {now} + $3) \
             ON CONFLICT (session_id) DO UPDATE SET \
               epoch = CASE WHEN session_leases.node_id = excluded.node_id AND session_leases.expires_ms > {now} \
                       THEN session_leases.epoch ELSE session_leases.epoch + 1 END, \
               node_id = excluded.node_id, expires_ms = excluded.expires_ms \
             WHERE session_leases.node_id = excluded.node_id OR session_leases.expires_ms <= {now} \
             RETURNING epoch"
        );
        let row = self
            .db
            .query_one(self.stmt(sql, vec![session_id.into(), self.node.clone().into(), self.ttl_ms().into()]))
            .await?;
        match row {
            Some(row) => {
                let epoch: i64 = row.try_get("", "epoch")?;
                let lost_by = previous.and_then(|(node, live)| (!live && node != self.node).then_some(node));
                Ok(Acquired::Mine { epoch, lost_by })
            }
            None => {
                let node = self.owner(session_id).await?.unwrap_or_else(|| "another node".into());
                Ok(Acquired::Elsewhere { node })
            }
        }
    }

    /// Renews every lease this node still holds in one statement; answers which sessions
    /// those are (a lease that expired or was taken meanwhile is not renewed).
    pub async fn renew_all(&self) -> Result<HashSet<Uuid>, DbErr> {
        let now = now_ms_sql(self.backend());
        let sql = format!(
            "UPDATE session_leases SET expires_ms = {now} + $2 WHERE node_id = $1 AND expires_ms > {now} \
             RETURNING session_id"
        );
        let rows = self.db.query_all(self.stmt(sql, vec![self.node.clone().into(), self.ttl_ms().into()])).await?;
        rows.iter().map(|r| r.try_get::<Uuid>("", "session_id")).collect()
    }

    /// Gives a lease up (only the holder's own epoch; a newer holder keeps theirs).
    pub async fn release(&self, session_id: Uuid, epoch: i64) -> Result<(), DbErr> {
        let sql = "DELETE FROM session_leases WHERE session_id = $1 AND node_id = $2 AND epoch = $3".to_owned();
        self.db.execute(self.stmt(sql, vec![session_id.into(), self.node.clone().into(), epoch.into()])).await?;
        Ok(())
    }

    /// Gives up a lease just taken from `lost_by` (whose lease had expired) without running
    /// the session: it stays expired under that node's name, so the next taker still
    /// reports the session as lost by it.
    pub async fn abandon(&self, session_id: Uuid, epoch: i64, lost_by: Option<&str>) -> Result<(), DbErr> {
        let Some(previous) = lost_by else { return self.release(session_id, epoch).await };
        let sql = "UPDATE session_leases SET node_id = $4, expires_ms = 0 \
                   WHERE session_id = $1 AND node_id = $2 AND epoch = $3"
            .to_owned();
        let values: Vec<Value> =
            vec![session_id.into(), self.node.clone().into(), epoch.into(), previous.to_owned().into()];
        self.db.execute(self.stmt(sql, values)).await?;
        Ok(())
    }

    /// Gives up every lease of this node (end of a drain).
    pub async fn release_all(&self) -> Result<(), DbErr> {
        let sql = "DELETE FROM session_leases WHERE node_id = $1".to_owned();
        self.db.execute(self.stmt(sql, vec![self.node.clone().into()])).await?;
        Ok(())
    }

    /// The node holding a live lease on the session, if any.
    pub async fn owner(&self, session_id: Uuid) -> Result<Option<String>, DbErr> {
        Ok(self.owners(&[session_id]).await?.remove(&session_id))
    }

    /// Live lease holders of these sessions.
    pub async fn owners(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, DbErr> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let now = now_ms_sql(self.backend());
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT session_id, node_id FROM session_leases WHERE expires_ms > {now} AND session_id IN ({})",
            marks.join(", ")
        );
        let rows = self.db.query_all(self.stmt(sql, ids.iter().map(|id| (*id).into()).collect())).await?;
        rows.iter().map(|r| Ok((r.try_get::<Uuid>("", "session_id")?, r.try_get::<String>("", "node_id")?))).collect()
    }

    /// Sessions that should run but have no live lease (paired: to run again; unpaired:
    /// their QR died with their node), in random order so nodes claiming at once rarely
    /// collide.
    pub async fn orphans(&self, paired: bool, limit: u64) -> Result<Vec<Uuid>, DbErr> {
        let now = now_ms_sql(self.backend());
        let sql = format!(
            "SELECT s.id FROM sessions s LEFT JOIN session_leases l ON l.session_id = s.id \
             WHERE s.status IN ({}) AND s.auth_paired = $1 AND (l.session_id IS NULL OR l.expires_ms <= {now}) \
             ORDER BY random() LIMIT {limit}",
            running_list()
        );
        let rows = self.db.query_all(self.stmt(sql, vec![paired.into()])).await?;
        rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect()
    }

    /// Connected sessions this node runs (candidates to hand to a less loaded node).
    pub async fn movable(&self, limit: u64) -> Result<Vec<Uuid>, DbErr> {
        let now = now_ms_sql(self.backend());
        let sql = format!(
            "SELECT s.id FROM sessions s JOIN session_leases l ON l.session_id = s.id \
             WHERE l.node_id = $1 AND l.expires_ms > {now} AND s.status = 'connected' AND s.auth_paired = $2 \
             ORDER BY random() LIMIT {limit}"
        );
        let rows = self.db.query_all(self.stmt(sql, vec![self.node.clone().into(), true.into()])).await?;
        rows.iter().map(|r| r.try_get::<Uuid>("", "id")).collect()
    }

    /// How loaded this node and the cluster are, by live leases and heartbeats.
    pub async fn load(&self) -> Result<Load, DbErr> {
        let now = now_ms_sql(self.backend());
        let ttl = self.ttl_ms();
        // Live leases of paired sessions that should run, held by the node `node` names.
        let paired_on = |node: &str| {
            format!(
                "SELECT COUNT(*) FROM session_leases l JOIN sessions s ON s.id = l.session_id \
                 WHERE l.node_id = {node} AND l.expires_ms > {now} AND s.auth_paired = $2 AND s.status IN ({running})",
                running = running_list()
            )
        };
        let sql = format!(
            "SELECT \
               (SELECT COUNT(*) FROM session_leases WHERE node_id = $1 AND expires_ms > {now}) AS held, \
               ({mine}) AS mine, \
               (SELECT COUNT(*) FROM sessions WHERE auth_paired = $2 AND status IN ({running})) AS wanted, \
               (SELECT COUNT(*) FROM nodes WHERE heartbeat_ms > {now} - {ttl}) AS nodes, \
               (SELECT COALESCE(MIN(c), 0) FROM (SELECT n.id, ({per_node}) AS c \
                  FROM nodes n WHERE n.heartbeat_ms > {now} - {ttl}) AS per_node) AS least",
            mine = paired_on("$1"),
            per_node = paired_on("n.id"),
            running = running_list()
        );
        let row = self
            .db
            .query_one(self.stmt(sql, vec![self.node.clone().into(), true.into()]))
            .await?
            .ok_or_else(|| DbErr::Custom("no load row".into()))?;
        Ok(Load {
            held: row.try_get("", "held")?,
            mine: row.try_get("", "mine")?,
            wanted: row.try_get("", "wanted")?,
            nodes: row.try_get::<i64>("", "nodes")?.max(1),
            least: row.try_get("", "least")?,
        })
    }
}
