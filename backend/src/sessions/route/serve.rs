//! The owner's side: takes commands addressed to this node and runs them on its own
//! session tasks.

use std::sync::Arc;

use futures_util::StreamExt;
use sea_orm::{DatabaseConnection, EntityTrait};

use super::{CommandRouter, RemoteCommand, RemoteReply};
use crate::db::entities::session;
use crate::domain::Phone;
use crate::engine::sim::SimEngine;
use crate::error::Problem;
use crate::sessions::machine::Input;
use crate::sessions::SessionManager;

/// Answers commands sent to this node until the NATS client closes. `sim`: the simulated
/// phones of this node's sessions (with the sim engine).
pub async fn serve_commands(
    router: CommandRouter,
    db: DatabaseConnection,
    sessions: SessionManager,
    sim: Option<Arc<SimEngine>>,
) {
    let subject = router.subject(router.node_id());
    let mut inbox = match router.client().subscribe(subject.clone()).await {
        Ok(sub) => sub,
        Err(e) => {
            tracing::error!(error = %e, subject, "cannot take routed commands; other nodes get 503 for this node's sessions");
            return;
        }
    };
    while let Some(msg) = inbox.next().await {
        let Some(reply_to) = msg.reply.clone() else { continue };
        let (client, db, sessions, sim) = (router.client().clone(), db.clone(), sessions.clone(), sim.clone());
        tokio::spawn(async move {
            let reply = match serde_json::from_slice::<RemoteCommand>(&msg.payload) {
                Ok(cmd) => run(&db, &sessions, sim.as_deref(), cmd).await.unwrap_or_else(|p| RemoteReply::problem(&p)),
                // Only a node of another version sends what this one cannot read: a server fault.
                Err(e) => {
                    RemoteReply::problem(&Problem::internal(format!("unreadable command from another node: {e}")))
                }
            };
            let body = serde_json::to_vec(&reply).unwrap_or_default();
            if let Err(e) = client.publish(reply_to, body.into()).await {
                tracing::warn!(error = %e, "cannot answer a routed command");
            }
        });
    }
}

async fn run(
    db: &DatabaseConnection,
    sessions: &SessionManager,
    sim: Option<&SimEngine>,
    cmd: RemoteCommand,
) -> Result<RemoteReply, Problem> {
    let row = session::Entity::find_by_id(cmd.session_id())
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found("No such session."))?;
    match cmd {
        RemoteCommand::Start { force_relink, .. } => sessions.start_at(&row, force_relink, true).await?,
        RemoteCommand::Stop { .. } => sessions.apply_at(&row, Input::Stop, true).await?,
        RemoteCommand::Logout { .. } => sessions.apply_at(&row, Input::Logout, true).await?,
        RemoteCommand::PairCode { phone, .. } => {
            let phone = Phone::parse(&phone).map_err(|_| Problem::unprocessable("invalid_phone", "Invalid phone."))?;
            let out = sessions.pair_code_at(&row, phone, true).await?;
            return Ok(RemoteReply::PairCode { code: out.code, expires_at: out.expires_at.0 });
        }
        RemoteCommand::Flush { session_id } => {
            sessions.flush_here(session_id).await;
        }
        RemoteCommand::Qr { session_id } => return Ok(RemoteReply::Qr { qr: sessions.qr(session_id) }),
        RemoteCommand::Phone { session_id, action } => {
            let sim = sim.ok_or_else(|| Problem::not_found("The simulator exists only with the sim engine."))?;
            let answer = sessions.phone_here(sim, session_id, action).await?;
            return Ok(RemoteReply::Phone { answer });
        }
    }
    Ok(RemoteReply::Done)
}
