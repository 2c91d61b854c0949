//! The node's one NATS connection (cluster mode only). Refusing to start without NATS is
//! deliberate: a node that cannot fan events out or receive routed commands would serve
//! sockets that silently miss other nodes' events.

use std::time::Duration;

use anyhow::Context;

use crate::config::Settings;

/// How long the first connection may take before the node refuses to start.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to `nats_url`; `Ok(None)` outside cluster mode. Later losses of the
/// connection are repaired by the client itself (it reconnects and resubscribes forever).
pub async fn connect(settings: &Settings) -> anyhow::Result<Option<async_nats::Client>> {
    let Some(url) = settings.cluster.nats_url.as_deref().filter(|_| settings.is_cluster()) else {
        return Ok(None);
    };
    let options = async_nats::ConnectOptions::new()
        .name(format!("wahub {}", env!("CARGO_PKG_VERSION")))
        .connection_timeout(FIRST_CONNECT_TIMEOUT)
        // Without a cap the client retries forever in the background after a loss.
        .max_reconnects(None)
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Disconnected => tracing::warn!("lost the NATS connection; reconnecting"),
                async_nats::Event::Connected => tracing::info!("connected to NATS"),
                other => tracing::debug!(event = %other, "NATS"),
            }
        });
    let client = tokio::time::timeout(FIRST_CONNECT_TIMEOUT, options.connect(url))
        .await
        .map_err(|_| anyhow::anyhow!("timed out"))
        .and_then(|r| r.map_err(anyhow::Error::from))
        .with_context(|| {
            format!("cannot connect to NATS at {url} (nats_url); cluster mode needs it, refusing to start")
        })?;
    Ok(Some(client))
}
