//! A transport factory that reports failed connection attempts to the link.
//!
//! whatsapp-rust's run loop only logs a failed connect; wrapping the factory is how
//! the link learns why the socket never opened (and stops the library's retries, the
//! session task owns reconnecting).

use std::sync::Arc;

use async_trait::async_trait;
use whatsapp_rust::async_channel::Receiver;
use whatsapp_rust::transport::{Transport, TransportEvent, TransportFactory};

use super::link::LinkState;

pub struct ReportingTransportFactory {
    inner: Arc<dyn TransportFactory>,
    shared: Arc<LinkState>,
}

impl ReportingTransportFactory {
    pub fn new(inner: Arc<dyn TransportFactory>, shared: Arc<LinkState>) -> Self {
        Self { inner, shared }
    }
}

#[async_trait]
impl TransportFactory for ReportingTransportFactory {
    async fn create_transport(&self) -> Result<(Arc<dyn Transport>, Receiver<TransportEvent>), anyhow::Error> {
        match self.inner.create_transport().await {
            Ok(pair) => Ok(pair),
            Err(e) => {
                self.shared.connect_failed(format!("network: {e:#}"));
                Err(e)
            }
        }
    }
}
