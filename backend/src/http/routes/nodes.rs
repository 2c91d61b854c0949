//! GET /api/v1/admin/nodes: the wahub processes registered on this database.

use std::sync::Arc;

use chrono::DateTime;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::cluster::NodeView;
use crate::error::Problem;
use crate::http::{scope, ApiTags, AppState, Auth};

pub struct NodesApi {
    pub state: Arc<AppState>,
}

/// A wahub process and what it runs.
#[derive(Debug, Object)]
#[oai(rename = "Node")]
pub struct NodeOut {
    pub id: String,
    pub version: String,
    pub started_at: crate::domain::Timestamp,
    /// The last heartbeat, by the database's clock.
    pub last_heartbeat_at: crate::domain::Timestamp,
    /// The heartbeat is younger than `lease_ttl_secs`.
    pub alive: bool,
    /// This is the node that answered.
    pub this_node: bool,
    pub sessions_owned: i64,
    pub sockets: i64,
}

impl NodeOut {
    fn new(n: NodeView, this: &str) -> Self {
        Self {
            this_node: n.id == this,
            last_heartbeat_at: DateTime::from_timestamp_millis(n.heartbeat_ms).unwrap_or_default().into(),
            id: n.id,
            version: n.version,
            started_at: n.started_at.into(),
            alive: n.alive,
            sessions_owned: n.sessions,
            sockets: n.sockets,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Admin")]
impl NodesApi {
    /// List cluster nodes
    ///
    /// Every registered node of the cluster. Admins only; others get 404.
    #[oai(path = "/admin/nodes", method = "get", operation_id = "adminListNodes")]
    async fn list(&self, _auth: Auth<scope::Admin>) -> Result<Json<Vec<NodeOut>>, Problem> {
        let this = self.state.nodes.id().to_owned();
        let nodes = self.state.nodes.list().await?;
        Ok(Json(nodes.into_iter().map(|n| NodeOut::new(n, &this)).collect()))
    }
}
