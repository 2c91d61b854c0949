//! Cluster mode: commands for a session owned by another node travel to that node over
//! NATS request/reply (`<prefix>.node.<node_id>.cmd`) and its answer comes back, within
//! `route_timeout_ms`. An owner that does not answer in time gives 503
//! `session_owner_unavailable`.

mod serve;
mod wire;

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};

use crate::error::Problem;
pub use serve::serve_commands;
pub use wire::{RemoteCommand, RemoteReply};

/// Sends commands to the nodes owning sessions.
#[derive(Clone)]
pub struct CommandRouter {
    client: Client,
    prefix: String,
    node_id: String,
    timeout: Duration,
}

impl CommandRouter {
    pub fn new(client: Client, prefix: String, node_id: String, timeout: Duration) -> Self {
        Self { client, prefix, node_id, timeout }
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// The subject a node takes its commands on.
    pub fn subject(&self, node_id: &str) -> String {
        format!("{}.node.{}.cmd", self.prefix, node_id)
    }

    /// Runs `cmd` on `owner` and returns its answer, or 503 `session_owner_unavailable`
    /// when the owner is not there or does not answer before the deadline.
    pub async fn send(&self, owner: &str, cmd: &RemoteCommand) -> Result<RemoteReply, Problem> {
        let payload = serde_json::to_vec(cmd).map_err(Problem::internal)?;
        let asked = tokio::time::timeout(self.timeout, self.client.request(self.subject(owner), payload.into())).await;
        let msg = match asked {
            Ok(Ok(msg)) => msg,
            Ok(Err(e)) => {
                let why = match e.kind() {
                    RequestErrorKind::NoResponders => "not connected",
                    RequestErrorKind::TimedOut => "no answer in time",
                    _ => "request failed",
                };
                tracing::warn!(owner, session_id = %cmd.session_id(), error = %e, "cannot reach the session's node");
                return Err(owner_unavailable(owner, why));
            }
            Err(_) => {
                tracing::warn!(owner, session_id = %cmd.session_id(), "the session's node did not answer in time");
                return Err(owner_unavailable(owner, "no answer in time"));
            }
        };
        match serde_json::from_slice::<RemoteReply>(&msg.payload) {
            Ok(RemoteReply::Problem { status, code, detail }) => Err(RemoteReply::into_problem(status, &code, detail)),
            Ok(reply) => Ok(reply),
            Err(e) => Err(Problem::internal(format!("unreadable answer from node {owner}: {e}"))),
        }
    }
}

pub fn owner_unavailable(owner: &str, why: &str) -> Problem {
    Problem::unavailable(format!(
        "The node running this session ({owner}) cannot be reached ({why}); nothing was changed. Try again shortly."
    ))
    .with_code("session_owner_unavailable")
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use uuid::Uuid;

    use super::*;

    /// The NATS server tests use (CI starts one on the default port).
    async fn nats() -> Client {
        let url = std::env::var("WAHUB_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        async_nats::connect(url).await.expect("a NATS server for cluster tests (.ci/run starts one)")
    }

    fn router(client: Client, timeout_ms: u64) -> CommandRouter {
        let prefix = format!("test{}", Uuid::new_v4().simple());
        CommandRouter::new(client, prefix, "me".into(), Duration::from_millis(timeout_ms))
    }

    fn stop() -> RemoteCommand {
        RemoteCommand::Stop { session_id: Uuid::new_v4() }
    }

    #[tokio::test]
    async fn an_owner_nobody_serves_is_503_at_once() {
        let router = router(nats().await, 5_000);
        let started = std::time::Instant::now();
        let err = router.send("ghost", &stop()).await.expect_err("nobody answers for ghost");
        assert_eq!((err.status.as_u16(), err.code), (503, "session_owner_unavailable"));
        assert!(err.detail.contains("ghost"), "{}", err.detail);
        // No responders is known at once: no waiting for the deadline.
        assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn an_owner_that_does_not_answer_is_503_after_the_deadline() {
        let client = nats().await;
        let router = router(client.clone(), 300);
        let _silent = client.subscribe(router.subject("mute")).await.expect("subscribe");
        client.flush().await.expect("flush");
        let started = std::time::Instant::now();
        let err = router.send("mute", &stop()).await.expect_err("the owner never answers");
        assert_eq!((err.status.as_u16(), err.code), (503, "session_owner_unavailable"));
        assert!(started.elapsed() >= Duration::from_millis(300), "answered before the deadline");
    }

    #[tokio::test]
    async fn the_owners_answer_and_problems_come_back() {
        let client = nats().await;
        let router = router(client.clone(), 5_000);
        let mut inbox = client.subscribe(router.subject("owner")).await.expect("subscribe");
        client.flush().await.expect("flush");
        let owner = client.clone();
        tokio::spawn(async move {
            while let Some(msg) = inbox.next().await {
                let cmd: RemoteCommand = serde_json::from_slice(&msg.payload).expect("a command");
                let reply = match cmd {
                    RemoteCommand::Stop { .. } => RemoteReply::Done,
                    _ => RemoteReply::problem(&Problem::conflict("phone_in_use", "held elsewhere")),
                };
                let body = serde_json::to_vec(&reply).expect("json");
                owner.publish(msg.reply.expect("reply subject"), body.into()).await.expect("answer");
            }
        });
        assert!(matches!(router.send("owner", &stop()).await, Ok(RemoteReply::Done)));
        let start = RemoteCommand::Start { session_id: Uuid::new_v4(), force_relink: false };
        let err = router.send("owner", &start).await.expect_err("the owner's problem");
        assert_eq!((err.status.as_u16(), err.code, err.detail.as_str()), (409, "phone_in_use", "held elsewhere"));
    }
}
