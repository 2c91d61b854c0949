//! The accept loop's guards. poem's own loop retries a failed `accept` at once (with the
//! fd limit reached — EMFILE — it spun a core while refusing everything) and keeps
//! silent connections for ever. Here: at most `max_connections` open, a growing pause
//! after a failed accept, and each connection must finish its request head within
//! `header_read_timeout_ms` (idle keep-alive connections are closed by poem's idle
//! timeout, set from `idle_timeout_secs`).

mod header_deadline;

use std::sync::Arc;
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use header_deadline::HeaderDeadline;

pub struct GuardedAcceptor {
    listener: TcpListener,
    local: LocalAddr,
    slots: Arc<Semaphore>,
    header_timeout: Duration,
}

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_secs(1);

impl GuardedAcceptor {
    pub fn new(
        listener: std::net::TcpListener,
        max_connections: usize,
        header_timeout: Duration,
    ) -> std::io::Result<Self> {
        listener.set_nonblocking(true)?;
        let local = LocalAddr(listener.local_addr()?.into());
        Ok(Self {
            listener: TcpListener::from_std(listener)?,
            local,
            slots: Arc::new(Semaphore::new(max_connections)),
            header_timeout,
        })
    }
}

/// A connection holding one of the slots until it closes.
pub type GuardedIo = HeaderDeadline<tokio::net::TcpStream, OwnedSemaphorePermit>;

impl Acceptor for GuardedAcceptor {
    type Io = GuardedIo;

    fn local_addr(&self) -> Vec<LocalAddr> {
        vec![self.local.clone()]
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        // Waiting for a slot leaves new connections in the kernel's backlog.
        let permit = self.slots.clone().acquire_owned().await.map_err(std::io::Error::other)?;
        let mut pause = FIRST_PAUSE;
        loop {
            match self.listener.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let io = HeaderDeadline::new(stream, self.header_timeout, permit);
                    return Ok((io, self.local.clone(), RemoteAddr(addr.into()), Scheme::HTTP));
                }
                Err(e) => {
                    if pause == FIRST_PAUSE {
                        tracing::warn!(error = %e, "accept failed; backing off");
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }
}
