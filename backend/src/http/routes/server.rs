//! GET /api/v1/server: what the dashboard shows before anyone logs in.

use std::sync::Arc;

use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use sea_orm::{EntityTrait, QuerySelect};

use crate::db::entities::user;
use crate::error::Problem;
use crate::http::{ApiTags, AppState};

pub struct ServerApi {
    pub state: Arc<AppState>,
}

#[derive(Debug, Object)]
#[oai(rename = "ServerInfo")]
pub struct ServerInfo {
    pub version: String,
    /// `sim` or `whatsapp`.
    pub engine: String,
    /// This node's id in cluster mode; `null` on a single node.
    pub node: Option<String>,
    pub registration_open: bool,
    /// `false` on a new server: the first account to register becomes admin.
    pub has_users: bool,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Server")]
impl ServerApi {
    /// Server facts
    ///
    /// The server's version, engine and node, and whether registration is open. No authentication.
    #[oai(path = "/server", method = "get", operation_id = "getServerInfo")]
    async fn info(&self) -> Result<Json<ServerInfo>, Problem> {
        let has_users = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .into_tuple::<uuid::Uuid>()
            .one(&self.state.db)
            .await?
            .is_some();
        Ok(Json(ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            engine: self.state.engine_kind.as_str().to_owned(),
            node: None,
            registration_open: self.state.settings.auth.registration_open,
            has_users,
        }))
    }
}
