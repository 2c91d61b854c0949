//! /api/v1/sessions/{id}/sim/*: the simulated phone. Mounted only with the sim engine.

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

use crate::engine::sim::{SimEngine, SimSent};
use crate::engine::sim_phone::{PhoneAction, PhoneAnswer};
use crate::error::Problem;
use crate::http::parse_phone;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{scope, Auth};
use crate::sessions::service;

pub struct SimApi {
    pub state: Arc<AppState>,
    /// `None` with any other engine: then every endpoint here answers 404.
    pub sim: Option<Arc<SimEngine>>,
}

#[derive(Debug, Object)]
pub struct ScanRequest {
    /// The phone number of the simulated phone.
    pub phone: crate::domain::Text,
    /// May contain anything a phone could send (the server strips NUL before storage).
    pub push_name: Option<crate::domain::NetworkText>,
}

#[derive(Debug, Object, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropRequest {
    /// Keep the network down this long, so reconnect attempts fail meanwhile.
    pub down_for_ms: Option<u64>,
}

#[derive(Debug, Object)]
pub struct IncomingRequest {
    pub from: crate::domain::Text,
    /// May contain anything a phone could send (the server strips NUL before storage).
    pub text: crate::domain::NetworkText,
    /// The network's message id (1 to 128 letters, digits, `-` or `_`); sending the same id
    /// again plays a redelivery. A fresh id when omitted.
    pub external_id: Option<crate::domain::Text>,
}

#[derive(Debug, Object)]
pub struct ReceiptRequest {
    /// The recipient whose phone reports.
    pub from: crate::domain::Text,
}

#[derive(Debug, Object)]
pub struct Done {
    pub ok: bool,
}

#[derive(Debug, Object)]
pub struct SentOut {
    pub id: String,
    pub to: String,
    pub text: Option<String>,
    pub media_mimetype: Option<String>,
    pub at: crate::domain::Timestamp,
}

impl From<SimSent> for SentOut {
    fn from(s: SimSent) -> Self {
        Self { id: s.id, to: s.to, text: s.text, media_mimetype: s.media_mimetype, at: s.at.into() }
    }
}

const OK: Json<Done> = Json(Done { ok: true });

impl SimApi {
    /// Runs `action` on the caller's session's simulated phone, wherever it is (404 without
    /// the sim engine or for another user's session).
    async fn act(&self, auth: &Auth<impl scope::Needs>, id: Uuid, action: PhoneAction) -> Result<PhoneAnswer, Problem> {
        let sim =
            self.sim.as_deref().ok_or_else(|| Problem::not_found("The simulator exists only with the sim engine."))?;
        if !self.state.sessions.runs_here_for(auth.id(), id) {
            service::find_owned(&self.state.db, auth.id(), id).await?;
        }
        self.state.sessions.phone(sim, id, action).await
    }

    async fn done(&self, auth: &Auth<impl scope::Needs>, id: Uuid, action: PhoneAction) -> Result<Json<Done>, Problem> {
        self.act(auth, id, action).await?;
        Ok(OK)
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Simulator")]
impl SimApi {
    /// Sim: scan the QR
    ///
    /// The simulated phone scans the QR on offer (or enters the pairing code). Sim engine only.
    #[oai(path = "/sessions/:id/sim/scan", method = "post", operation_id = "simScan")]
    async fn scan(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<ScanRequest>,
    ) -> Result<Json<Done>, Problem> {
        let phone = parse_phone(&body.phone)?;
        let push_name =
            body.0.push_name.map(|p| p.trim().chars().take(64).collect::<String>()).filter(|p| !p.is_empty());
        self.done(&auth, id.0, PhoneAction::Scan { phone, push_name }).await
    }

    /// Sim: fail the scan
    ///
    /// The simulated phone fails to complete the scan. Sim engine only.
    #[oai(path = "/sessions/:id/sim/fail-scan", method = "post", operation_id = "simFailScan")]
    async fn fail_scan(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<Done>, Problem> {
        self.done(&auth, id.0, PhoneAction::FailScan).await
    }

    /// Sim: drop the network
    ///
    /// The network drops; with `down_for_ms` it stays down that long. Sim engine only.
    #[oai(path = "/sessions/:id/sim/drop", method = "post", operation_id = "simDrop")]
    async fn drop_link(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: poem::Body,
    ) -> Result<Json<Done>, Problem> {
        let down_for_ms =
            crate::http::optional_json::<DropRequest>(body, 1024).await?.down_for_ms.unwrap_or(0).min(86_400_000);
        self.done(&auth, id.0, PhoneAction::Drop { down_for_ms }).await
    }

    /// Sim: unlink the device
    ///
    /// The simulated phone removes this linked device. Sim engine only.
    #[oai(path = "/sessions/:id/sim/unlink", method = "post", operation_id = "simUnlink")]
    async fn unlink(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<Done>, Problem> {
        self.done(&auth, id.0, PhoneAction::Unlink).await
    }

    /// Sim: receive a message
    ///
    /// A message arrives from `from`. Answers once the session stored and acknowledged it (as a phone sees its
    /// message delivered), or once the link lost it (the phone sends it again on the next connection), or after
    /// 10 s at most. Sim engine only.
    #[oai(path = "/sessions/:id/sim/incoming", method = "post", operation_id = "simIncoming")]
    async fn incoming(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<IncomingRequest>,
    ) -> Result<Json<Done>, Problem> {
        let from = parse_phone(&body.from)?;
        if body.text.is_empty() || body.text.chars().count() > 65_536 {
            return Err(Problem::validation("text must be 1 to 65536 characters."));
        }
        let external_id = body.0.external_id.map(|raw| raw.0);
        let valid_id = |id: &str| {
            (1..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if external_id.as_deref().is_some_and(|id| !valid_id(id)) {
            return Err(Problem::validation("external_id must be 1 to 128 letters, digits, '-' or '_'."));
        }
        self.done(&auth, id.0, PhoneAction::Incoming { from, text: body.0.text.0, external_id }).await
    }

    /// Sim: go silent
    ///
    /// The link stays open but goes silent: nothing arrives, nothing is answered or acknowledged (a half-dead
    /// connection; liveness probing reconnects it). Sim engine only.
    #[oai(path = "/sessions/:id/sim/silence", method = "post", operation_id = "simSilence")]
    async fn silence(&self, auth: Auth<scope::Control>, id: Path<Uuid>) -> Result<Json<Done>, Problem> {
        self.done(&auth, id.0, PhoneAction::Silence).await
    }

    /// Sim: delivery receipts
    ///
    /// The recipient `from`'s phone receives the messages this session sent them. Sim engine only.
    #[oai(path = "/sessions/:id/sim/delivered", method = "post", operation_id = "simDelivered")]
    async fn delivered(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<ReceiptRequest>,
    ) -> Result<Json<Done>, Problem> {
        let from = parse_phone(&body.0.from)?;
        self.done(&auth, id.0, PhoneAction::Delivered { from }).await
    }

    /// Sim: read receipts
    ///
    /// The recipient `from` reads the messages this session sent them. Sim engine only.
    #[oai(path = "/sessions/:id/sim/read", method = "post", operation_id = "simRead")]
    async fn read(
        &self,
        auth: Auth<scope::Control>,
        id: Path<Uuid>,
        body: Json<ReceiptRequest>,
    ) -> Result<Json<Done>, Problem> {
        let from = parse_phone(&body.0.from)?;
        self.done(&auth, id.0, PhoneAction::Read { from }).await
    }

    /// Sim: sent messages
    ///
    /// What the simulated account has sent, oldest first. Sim engine only.
    #[oai(path = "/sessions/:id/sim/sent", method = "get", operation_id = "simListSent")]
    async fn sent(&self, auth: Auth<scope::Read>, id: Path<Uuid>) -> Result<Json<Vec<SentOut>>, Problem> {
        match self.act(&auth, id.0, PhoneAction::ListSent).await? {
            PhoneAnswer::Sent { sent } => Ok(Json(sent.into_iter().map(Into::into).collect())),
            PhoneAnswer::Done => Ok(Json(Vec::new())),
        }
    }
}
