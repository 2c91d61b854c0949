//! One session's link: a whatsapp-rust client, the task that supervises it, and the
//! bridge from library events to the session's [`EngineEvent`] channel.
//!
//! A link lives for one connection. whatsapp-rust's own reconnect loop is switched
//! off except for the restart the server asks for right after pairing (stream error
//! 515); any other end (network loss, server failure, unlink, timeout) emits exactly
//! one final event and stops the client. The session task decides whether and when to
//! open a new link.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use whatsapp_rust::bot::BotHandle;
use whatsapp_rust::pair_code::{PairCodeError, PairCodeOptions, PairError};
use whatsapp_rust::types::events::{Event, EventHandler, EventInterest, EventKind};
use whatsapp_rust::{Client, Jid};

use super::events::{is_terminal, map_event, phone_of, SelfInfo};
use super::outgoing::build_message;
use crate::domain::Phone;
use crate::engine::{DisconnectReason, EngineError, EngineEvent, KeyStore, Link, Outgoing};

/// How long a graceful shutdown of the client may take before its task is aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long `pair_with_code` waits for the socket of a link that is still opening.
const PAIR_CODE_SOCKET_WAIT: Duration = Duration::from_secs(20);

/// State shared by the link, its supervisor, the event handler and the transport.
pub struct LinkState {
    tx: mpsc::UnboundedSender<EngineEvent>,
    terminal_sent: AtomicBool,
    socket_opened: AtomicBool,
    /// The session task asked the link to close (disconnect, logout, drop).
    requested: AtomicBool,
    last_error: Mutex<Option<String>>,
    client: OnceLock<Weak<Client>>,
    /// Shared with the link's storage backend: set when the device is logged out.
    retired: Arc<AtomicBool>,
}

impl LinkState {
    pub fn new(tx: mpsc::UnboundedSender<EngineEvent>) -> Self {
        Self {
            tx,
            terminal_sent: AtomicBool::new(false),
            socket_opened: AtomicBool::new(false),
            requested: AtomicBool::new(false),
            last_error: Mutex::new(None),
            client: OnceLock::new(),
            retired: Arc::default(),
        }
    }

    /// The flag the storage backend checks before every write.
    pub fn retired_flag(&self) -> Arc<AtomicBool> {
        self.retired.clone()
    }

    /// The device is logged out: from now on nothing of it may be stored again.
    fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    pub fn attach(&self, client: &Arc<Client>) {
        let _ = self.client.set(Arc::downgrade(client));
    }

    fn client(&self) -> Option<Arc<Client>> {
        self.client.get().and_then(Weak::upgrade)
    }

    fn emit(&self, ev: EngineEvent) {
        if is_terminal(&ev) {
            self.terminal_sent.store(true, Ordering::SeqCst);
        }
        // The receiver only goes away with the forwarder; nothing to do then.
        let _ = self.tx.send(ev);
    }

    fn socket_opened(&self) {
        if !self.socket_opened.swap(true, Ordering::SeqCst) {
            let _ = self.tx.send(EngineEvent::SocketOpened);
        }
    }

    fn set_auto_reconnect(&self, on: bool) {
        if let Some(client) = self.client() {
            client.enable_auto_reconnect.store(on, Ordering::SeqCst);
        }
    }

    fn set_error(&self, reason: String) {
        let mut slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(reason);
    }

    fn take_error(&self) -> Option<String> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// A connection attempt failed before the socket opened: remember why, and make
    /// sure the library does not retry on its own.
    pub fn connect_failed(&self, reason: String) {
        self.set_error(reason);
        self.set_auto_reconnect(false);
    }

    fn self_info(&self) -> SelfInfo {
        let Some(client) = self.client() else {
            return SelfInfo::default();
        };
        let push_name = client.push_name();
        SelfInfo {
            phone: client.pn().as_ref().and_then(phone_of),
            push_name: (!push_name.trim().is_empty()).then_some(push_name),
        }
    }

    /// The one final event of a link whose client has stopped, unless one was sent.
    fn finish(&self) {
        if self.terminal_sent.load(Ordering::SeqCst) {
            return;
        }
        let error = self.take_error();
        let ev = if self.requested.load(Ordering::SeqCst) {
            EngineEvent::Disconnected { reason: DisconnectReason::Requested }
        } else if !self.socket_opened.load(Ordering::SeqCst) {
            EngineEvent::ConnectFailure {
                reason: error.unwrap_or_else(|| "network: could not connect".to_owned()),
                permanent: false,
            }
        } else {
            EngineEvent::Disconnected {
                reason: DisconnectReason::Network(error.unwrap_or_else(|| "connection closed".to_owned())),
            }
        };
        self.emit(ev);
    }
}

/// Receives library events inline on the dispatch path.
pub struct Handler(pub Arc<LinkState>);

impl EventHandler for Handler {
    fn handle_event(&self, event: Arc<Event>) {
        let shared = &self.0;
        match &*event {
            // The server restarts the stream right after pairing; let the library
            // reconnect for that one.
            Event::PairSuccess(_) => shared.set_auto_reconnect(true),
            // From here on any drop ends the link.
            Event::Connected(_) | Event::Disconnected(_) => shared.set_auto_reconnect(false),
            // The session wipes the keys; late writes from library tasks must not
            // recreate them.
            Event::LoggedOut(_) => shared.retire(),
            _ => {}
        }
        let me = match &*event {
            Event::Connected(_) => shared.self_info(),
            _ => SelfInfo::default(),
        };
        for ev in map_event(&event, &me) {
            if matches!(
                ev,
                EngineEvent::PairingQrCode { .. }
                    | EngineEvent::PairingCode { .. }
                    | EngineEvent::PairingStarted { .. }
                    | EngineEvent::Connected { .. }
            ) {
                shared.socket_opened();
            }
            shared.emit(ev);
        }
    }

    fn interest(&self) -> EventInterest {
        EventInterest::of(&[
            EventKind::PairingQrCode,
            EventKind::PairingQrCodesExhausted,
            EventKind::PairingCode,
            EventKind::PairSuccess,
            EventKind::PairError,
            EventKind::QrScannedWithoutMultidevice,
            EventKind::Connected,
            EventKind::Disconnected,
            EventKind::LoggedOut,
            EventKind::StreamReplaced,
            EventKind::TemporaryBan,
            EventKind::ConnectFailure,
            EventKind::ClientOutdated,
            EventKind::Messages,
            EventKind::ServerAck,
            EventKind::Receipt,
        ])
    }
}

/// Forwards engine events, in order, to the session task's bounded channel. Stops
/// (dropping the session's sender) once the supervisor is done and the final event
/// has been passed on, even if library tasks still hold the client for a while.
pub async fn forward(
    mut rx: mpsc::UnboundedReceiver<EngineEvent>,
    out: mpsc::Sender<EngineEvent>,
    done: watch::Receiver<bool>,
) {
    let finished = until_true(done);
    tokio::pin!(finished);
    loop {
        tokio::select! {
            biased;
            ev = rx.recv() => match ev {
                Some(ev) => {
                    if out.send(ev).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            () = &mut finished => {
                while let Ok(ev) = rx.try_recv() {
                    if out.send(ev).await.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

/// Resolves once the flag is set (or its sender is gone).
async fn until_true(mut flag: watch::Receiver<bool>) {
    loop {
        let set = *flag.borrow_and_update();
        if set || flag.changed().await.is_err() {
            return;
        }
    }
}

/// Watches one client: reports the socket opening, enforces the connect timeout,
/// performs the shutdown the link asks for, and emits the final event.
pub async fn supervise(
    shared: Arc<LinkState>,
    client: Arc<Client>,
    mut handle: BotHandle,
    mut close_rx: watch::Receiver<bool>,
    done_tx: watch::Sender<bool>,
    connect_timeout: Duration,
) {
    enum Stop {
        /// The client's run loop ended by itself.
        Ended,
        /// The socket did not open in time.
        TimedOut,
        /// The link asked to close (or was dropped).
        Closed,
    }
    let socket_wait = client.wait_for_socket(connect_timeout);
    tokio::pin!(socket_wait);
    let mut waiting_for_socket = true;
    let stop = loop {
        tokio::select! {
            _ = &mut handle => break Stop::Ended,
            r = &mut socket_wait, if waiting_for_socket => {
                waiting_for_socket = false;
                if r.is_ok() {
                    shared.socket_opened();
                } else if !shared.socket_opened.load(Ordering::SeqCst) {
                    shared.set_error(format!(
                        "network: no connection within {} s",
                        connect_timeout.as_secs()
                    ));
                    break Stop::TimedOut;
                }
            }
            // A closed channel means the link was dropped: close as well.
            _ = close_rx.wait_for(|close| *close) => break Stop::Closed,
        }
    };
    if let Stop::TimedOut = stop {
        // Report first: stopping a client stuck in a connect attempt can take a while.
        shared.finish();
    }
    if !matches!(stop, Stop::Ended) {
        shared.set_auto_reconnect(false);
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, client.disconnect()).await;
        // A client that never opened its socket has nothing left to flush.
        let grace = if shared.socket_opened.load(Ordering::SeqCst) { SHUTDOWN_GRACE } else { Duration::from_secs(1) };
        if tokio::time::timeout(grace, &mut handle).await.is_err() {
            handle.abort();
        }
    }
    shared.finish();
    let _ = done_tx.send(true);
}

/// The [`Link`] of the whatsapp engine.
pub struct WhatsappLink {
    client: Arc<Client>,
    keys: KeyStore,
    shared: Arc<LinkState>,
    close_tx: watch::Sender<bool>,
    done_rx: watch::Receiver<bool>,
}

impl WhatsappLink {
    pub fn new(
        client: Arc<Client>,
        keys: KeyStore,
        shared: Arc<LinkState>,
        close_tx: watch::Sender<bool>,
        done_rx: watch::Receiver<bool>,
    ) -> Self {
        Self { client, keys, shared, close_tx, done_rx }
    }

    /// Asks the supervisor to stop the client and waits (bounded) until it has.
    async fn close(&self) {
        self.shared.requested.store(true, Ordering::SeqCst);
        let _ = self.close_tx.send(true);
        let mut done = self.done_rx.clone();
        let _ = tokio::time::timeout(SHUTDOWN_GRACE * 3, done.wait_for(|finished| *finished)).await;
    }
}

fn failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::Failed(e.to_string())
}

#[async_trait]
impl Link for WhatsappLink {
    async fn send(&self, msg: Outgoing) -> Result<String, EngineError> {
        if !self.client.is_logged_in() {
            return Err(EngineError::NotConnected);
        }
        let to = Jid::pn(msg.to.as_str());
        let message = build_message(&self.client, msg).await?;
        self.client.send_message(to, message).await.map(|sent| sent.message_id).map_err(failed)
    }

    /// whatsapp-rust runs its own keepalive (a ping every 15–30 s; a dead socket ends
    /// the connection, which this link reports as `Disconnected`), so the probe only
    /// checks that the client still holds an open connection.
    async fn probe(&self) -> Result<(), EngineError> {
        if self.client.is_connected() {
            Ok(())
        } else {
            Err(EngineError::NotConnected)
        }
    }

    async fn pair_with_code(&self, phone: &Phone) -> Result<String, EngineError> {
        if self.client.is_logged_in() {
            return Err(EngineError::Failed("already paired".into()));
        }
        self.client.wait_for_socket(PAIR_CODE_SOCKET_WAIT).await.map_err(|_| EngineError::NotConnected)?;
        let options = || PairCodeOptions { phone_number: phone.as_str().to_owned(), ..Default::default() };
        match self.client.pair_with_code(options()).await {
            Ok(code) => Ok(code),
            Err(PairError::PairCode(PairCodeError::CodeAlreadyOutstanding { .. })) => {
                // A new code was asked for on purpose: replace the outstanding one.
                self.client.cancel_pair_code().await;
                self.client.pair_with_code(options()).await.map_err(failed)
            }
            Err(e) => Err(failed(e)),
        }
    }

    async fn logout(&self) -> Result<(), EngineError> {
        self.shared.requested.store(true, Ordering::SeqCst);
        // Unlinks on the server when connected (best effort), emits LoggedOut, stops.
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.client.logout()).await;
        self.shared.retire();
        self.close().await;
        self.keys.wipe().await.map_err(failed)
    }

    async fn disconnect(&self) {
        self.close().await;
    }
}

impl Drop for WhatsappLink {
    fn drop(&mut self) {
        // The supervisor sees the closed channel and shuts the client down.
        self.shared.requested.store(true, Ordering::SeqCst);
        let _ = self.close_tx.send(true);
    }
}
