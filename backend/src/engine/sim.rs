//! The built-in simulator: behaves like WhatsApp multi-device pairing without a phone.
//!
//! A link offers rotating QR codes (the first lives longer than the rest, like
//! WhatsApp's), and the `/sim/*` endpoints play the phone: scan, fail a scan, drop the
//! network, unlink the device, send a message in. A completed pairing stores
//! credentials in the session's key store, so a restart reconnects without a QR.
//!
//! Like WhatsApp's server, the sim keeps every incoming message until wahub acknowledges
//! it (after the commit) and delivers what is still unacknowledged again on the next
//! connection; so a message is never lost between the network and the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use super::{
    Ack, ConnectSpec, DisconnectReason, Engine, EngineError, EngineEvent, EngineKind, Incoming, KeyStore, Link,
    Outgoing, Receipt, ReceiptKind,
};
use crate::domain::backoff::sleep_until_opt;
use crate::domain::Phone;

const NS: &str = "sim";
const CREDS: &str = "creds";
const REVOKED: &str = "revoked";
/// "The server's" record of the device's current stream: the newest link to log in.
const STREAM: &str = "stream";

#[derive(Debug, Clone, Copy)]
pub struct SimTimings {
    pub qr_first: Duration,
    pub qr_next: Duration,
    pub qr_max: u32,
    pub pair_delay: Duration,
    pub pair_code_timeout: Duration,
    /// How long a link takes to open its socket.
    pub connect_delay: Duration,
    /// How long a link takes to close (a graceful close handshake).
    pub close_delay: Duration,
    /// How often a connected link checks whether a newer link replaced it; `None`: never.
    pub stream_check: Option<Duration>,
}

#[derive(Serialize, Deserialize)]
struct Creds {
    phone: String,
    push_name: Option<String>,
}

/// A message the simulated account sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimSent {
    pub id: String,
    pub to: String,
    pub text: Option<String>,
    pub media_mimetype: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What the phone side can fail with.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("no QR code or pairing code is on offer")]
    NoQr,
    #[error("the session is not connected")]
    NotConnected,
}

enum Cmd {
    Scan {
        phone: Phone,
        push_name: Option<String>,
        reply: oneshot::Sender<Result<(), PhoneError>>,
    },
    FailScan(oneshot::Sender<Result<(), PhoneError>>),
    Drop {
        down_for: Duration,
        reply: oneshot::Sender<Result<(), PhoneError>>,
    },
    Unlink(oneshot::Sender<Result<(), PhoneError>>),
    Incoming {
        message: PhoneMessage,
        /// Answered when the message is on its way, with what fires once wahub acknowledged it.
        reply: oneshot::Sender<Result<oneshot::Receiver<()>, PhoneError>>,
    },
    PairCode {
        phone: Phone,
        reply: oneshot::Sender<Result<String, EngineError>>,
    },
    Send {
        msg: Outgoing,
        reply: oneshot::Sender<Result<String, EngineError>>,
    },
    Probe(oneshot::Sender<Result<(), EngineError>>),
    /// The link goes silent: no frame arrives any more, nothing is answered or acknowledged.
    Silence(oneshot::Sender<Result<(), PhoneError>>),
    /// The recipient `from`'s phone receives (or they read) every message sent to them.
    Receipts {
        from: Phone,
        kind: ReceiptKind,
        reply: oneshot::Sender<Result<(), PhoneError>>,
    },
    Logout(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

/// A message the simulated phone side sends in.
#[derive(Debug, Clone)]
pub struct PhoneMessage {
    pub from: Phone,
    pub text: String,
    /// The network's message id; a fresh one when `None` (the same id again is a redelivery).
    pub external_id: Option<String>,
}

/// Unacknowledged incoming messages kept per session, oldest dropped beyond this.
const MAX_UNACKED: usize = 1000;
/// How long `incoming` waits for wahub's acknowledgement before answering anyway.
const ACK_WAIT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Shared {
    links: HashMap<Uuid, (u64, mpsc::Sender<Cmd>)>,
    down_until: HashMap<Uuid, Instant>,
    sent: HashMap<Uuid, Vec<SimSent>>,
    /// Incoming messages not yet acknowledged, per session, oldest first.
    unacked: HashMap<Uuid, Vec<Incoming>>,
    generation: u64,
    /// Links opening right now (connect called, not yet offering a QR or connected).
    connecting: usize,
    max_connecting: usize,
}

pub struct SimEngine {
    timings: SimTimings,
    shared: Arc<Mutex<Shared>>,
}

impl SimEngine {
    pub fn new(timings: SimTimings) -> Self {
        Self { timings, shared: Arc::new(Mutex::new(Shared::default())) }
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn link_of(&self, session: Uuid) -> Option<mpsc::Sender<Cmd>> {
        self.shared().links.get(&session).map(|(_, tx)| tx.clone()).filter(|tx| !tx.is_closed())
    }

    async fn ask<T>(
        &self,
        session: Uuid,
        none: PhoneError,
        make: impl FnOnce(oneshot::Sender<Result<T, PhoneError>>) -> Cmd,
    ) -> Result<T, PhoneError> {
        let tx = self.link_of(session).ok_or(none.clone())?;
        let (reply, rx) = oneshot::channel();
        tx.send(make(reply)).await.map_err(|_| none.clone())?;
        rx.await.map_err(|_| none)?
    }

    /// The phone scans the QR (or enters the pairing code) on offer.
    pub async fn scan(&self, session: Uuid, phone: Phone, push_name: Option<String>) -> Result<(), PhoneError> {
        self.ask(session, PhoneError::NoQr, |reply| Cmd::Scan { phone, push_name, reply }).await
    }

    pub async fn fail_scan(&self, session: Uuid) -> Result<(), PhoneError> {
        self.ask(session, PhoneError::NoQr, Cmd::FailScan).await
    }

    /// The network drops; reconnects fail until `down_for` has passed.
    pub async fn drop_link(&self, session: Uuid, down_for: Duration) -> Result<(), PhoneError> {
        self.ask(session, PhoneError::NotConnected, |reply| Cmd::Drop { down_for, reply }).await
    }

    /// The phone removes the linked device. Works while the session is offline too:
    /// the next connect is then refused as logged out.
    pub async fn unlink(&self, session: Uuid, keys: &KeyStore) -> Result<(), PhoneError> {
        match self.ask(session, PhoneError::NotConnected, Cmd::Unlink).await {
            Ok(()) => Ok(()),
            Err(_) => match keys.get(NS, CREDS).await {
                Ok(Some(_)) => {
                    let _ = keys.delete(NS, CREDS).await;
                    let _ = keys.put(NS, REVOKED, b"1").await;
                    Ok(())
                }
                _ => Err(PhoneError::NotConnected),
            },
        }
    }

    /// The link stays open but goes silent (a half-dead connection).
    pub async fn silence(&self, session: Uuid) -> Result<(), PhoneError> {
        self.ask(session, PhoneError::NotConnected, Cmd::Silence).await
    }

    /// `from`'s phone reports the messages this session sent them as delivered or read.
    pub async fn receipts(&self, session: Uuid, from: Phone, kind: ReceiptKind) -> Result<(), PhoneError> {
        self.ask(session, PhoneError::NotConnected, |reply| Cmd::Receipts { from, kind, reply }).await
    }

    /// A message arrives from the network; returns once wahub acknowledged it (stored it),
    /// or once it no longer can on this link (the phone then keeps it and sends it again on
    /// the next connection), or after `ACK_WAIT` at most.
    pub async fn incoming(&self, session: Uuid, message: PhoneMessage) -> Result<(), PhoneError> {
        let acked = self.ask(session, PhoneError::NotConnected, |reply| Cmd::Incoming { message, reply }).await?;
        let _ = tokio::time::timeout(ACK_WAIT, acked).await;
        Ok(())
    }

    /// How many incoming messages of `session` wait for their acknowledgement.
    pub fn unacked(&self, session: Uuid) -> usize {
        self.shared().unacked.get(&session).map_or(0, Vec::len)
    }

    /// The most links that were opening at the same moment.
    pub fn max_concurrent_connects(&self) -> usize {
        self.shared().max_connecting
    }

    /// Whether the session has an open simulated link.
    pub fn is_linked(&self, session: Uuid) -> bool {
        self.link_of(session).is_some()
    }

    /// Messages this session sent, oldest first.
    pub fn sent(&self, session: Uuid) -> Vec<SimSent> {
        self.shared().sent.get(&session).cloned().unwrap_or_default()
    }
}

#[async_trait]
impl Engine for SimEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Sim
    }

    async fn connect(&self, spec: ConnectSpec) -> Result<Box<dyn Link>, EngineError> {
        let (tx, rx) = mpsc::channel(32);
        let generation = {
            let mut shared = self.shared();
            shared.generation += 1;
            let g = shared.generation;
            shared.links.insert(spec.session_id, (g, tx.clone()));
            shared.connecting += 1;
            shared.max_connecting = shared.max_connecting.max(shared.connecting);
            g
        };
        let down = self.shared().down_until.get(&spec.session_id).is_some_and(|t| *t > Instant::now());
        let run = SimLinkTask {
            timings: self.timings,
            shared: self.shared.clone(),
            session: spec.session_id,
            keys: spec.keys,
            events: spec.events,
            generation,
            silent: std::sync::atomic::AtomicBool::new(false),
            parked: Mutex::new(Vec::new()),
        };
        tokio::spawn(run.run(rx, down));
        Ok(Box::new(SimLink { tx }))
    }
}

struct SimLink {
    tx: mpsc::Sender<Cmd>,
}

#[async_trait]
impl Link for SimLink {
    async fn send(&self, msg: Outgoing) -> Result<String, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Cmd::Send { msg, reply }).await.map_err(|_| EngineError::NotConnected)?;
        rx.await.map_err(|_| EngineError::NotConnected)?
    }

    async fn pair_with_code(&self, phone: &Phone) -> Result<String, EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Cmd::PairCode { phone: phone.clone(), reply }).await.map_err(|_| EngineError::NotConnected)?;
        rx.await.map_err(|_| EngineError::NotConnected)?
    }

    async fn logout(&self) -> Result<(), EngineError> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Logout(reply)).await.is_ok() {
            let _ = rx.await;
        }
        Ok(())
    }

    async fn probe(&self) -> Result<(), EngineError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Cmd::Probe(reply)).await.map_err(|_| EngineError::NotConnected)?;
        rx.await.map_err(|_| EngineError::NotConnected)?
    }

    async fn disconnect(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Close(reply)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

enum Phase {
    Offering { attempt: u32, deadline: Instant, pair_code: Option<Phone> },
    Pairing { phone: Phone, push_name: Option<String>, done_at: Instant },
    Connected { phone: Phone, stream: Option<Stream> },
}

/// A connected link's stream as "the server" knows it, when streams are checked.
struct Stream {
    token: String,
    check_at: Instant,
}

struct SimLinkTask {
    timings: SimTimings,
    shared: Arc<Mutex<Shared>>,
    session: Uuid,
    keys: KeyStore,
    events: mpsc::Sender<EngineEvent>,
    generation: u64,
    silent: std::sync::atomic::AtomicBool,
    /// Replies a silent link never gives (kept so the asker waits, as on a dead socket).
    parked: Mutex<Vec<Box<dyn std::any::Any + Send>>>,
}

/// Counts a link as opening until dropped.
struct Opening(Arc<Mutex<Shared>>);

impl Drop for Opening {
    fn drop(&mut self) {
        let mut shared = self.0.lock().unwrap_or_else(|p| p.into_inner());
        shared.connecting = shared.connecting.saturating_sub(1);
    }
}

fn qr_value() -> String {
    let part = |n| rand::thread_rng().sample_iter(&Alphanumeric).take(n).map(char::from).collect::<String>();
    format!("2@{},{},{},{}", part(64), part(44), part(44), part(24))
}

fn pair_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTVWXYZ123456789";
    let mut rng = rand::thread_rng();
    let code: String = (0..8).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
    format!("{}-{}", &code[..4], &code[4..])
}

impl SimLinkTask {
    /// Logs the device in: with stream checks on, this link becomes the device's current
    /// stream (replacing any older one). `None` when that cannot be recorded (the link
    /// fails, as a login the server refused).
    async fn log_in(&self) -> Option<Option<Stream>> {
        let Some(every) = self.timings.stream_check else { return Some(None) };
        let token = Uuid::new_v4().simple().to_string();
        if let Err(e) = self.keys.put(NS, STREAM, token.as_bytes()).await {
            self.emit(EngineEvent::ConnectFailure { reason: format!("login not recorded: {e}"), permanent: false })
                .await;
            return None;
        }
        Some(Some(Stream { token, check_at: Instant::now() + every }))
    }

    async fn emit(&self, ev: EngineEvent) -> bool {
        if self.is_silent() {
            return true;
        }
        self.events.send(ev).await.is_ok()
    }

    fn is_silent(&self) -> bool {
        self.silent.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn park(&self, reply: impl std::any::Any + Send) {
        self.parked.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(reply));
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands a message to wahub with an acknowledgement that forgets it once committed
    /// (and tells `acked`, if anyone waits).
    async fn deliver(&self, mut msg: Incoming, acked: Option<oneshot::Sender<()>>) -> bool {
        let shared = self.shared.clone();
        let (session, id) = (self.session, msg.external_id.clone());
        msg.ack = Ack::new(move || {
            let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(waiting) = shared.unacked.get_mut(&session) {
                waiting.retain(|m| m.external_id != id);
            }
            if let Some(acked) = acked {
                let _ = acked.send(());
            }
        });
        self.emit(EngineEvent::Message(msg)).await
    }

    /// What the last connections left unacknowledged arrives again, oldest first.
    async fn redeliver_unacked(&self) {
        let waiting = self.shared().unacked.get(&self.session).cloned().unwrap_or_default();
        for msg in waiting {
            if !self.deliver(msg, None).await {
                return;
            }
        }
    }

    async fn run(self, mut rx: mpsc::Receiver<Cmd>, network_down: bool) {
        let mut opening = Some(Opening(self.shared.clone()));
        self.run_inner(&mut rx, network_down, &mut opening).await;
        drop(opening);
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        if shared.links.get(&self.session).is_some_and(|(g, _)| *g == self.generation) {
            shared.links.remove(&self.session);
        }
    }

    async fn run_inner(&self, rx: &mut mpsc::Receiver<Cmd>, network_down: bool, opening: &mut Option<Opening>) {
        tokio::time::sleep(self.timings.connect_delay).await;
        if network_down {
            self.emit(EngineEvent::ConnectFailure {
                reason: "network unreachable (simulated)".into(),
                permanent: false,
            })
            .await;
            return;
        }
        if matches!(self.keys.get(NS, REVOKED).await, Ok(Some(_))) {
            let _ = self.keys.delete(NS, REVOKED).await;
            self.emit(EngineEvent::LoggedOut { reason: "device removed from the phone".into() }).await;
            return;
        }
        if !self.emit(EngineEvent::SocketOpened).await {
            return;
        }
        let creds = match self.keys.get(NS, CREDS).await {
            Ok(found) => found.and_then(|raw| serde_json::from_slice::<Creds>(&raw).ok()),
            Err(e) => {
                self.emit(EngineEvent::ConnectFailure { reason: format!("key store: {e}"), permanent: true }).await;
                return;
            }
        };
        let mut phase = match creds.and_then(|c| Phone::parse(&c.phone).ok().map(|p| (p, c.push_name))) {
            Some((phone, push_name)) => {
                let Some(stream) = self.log_in().await else { return };
                self.emit(EngineEvent::Connected { phone: Some(phone.clone()), push_name }).await;
                self.redeliver_unacked().await;
                Phase::Connected { phone, stream }
            }
            None => {
                self.emit(EngineEvent::PairingQrCode { code: qr_value(), timeout: self.timings.qr_first }).await;
                Phase::Offering { attempt: 1, deadline: Instant::now() + self.timings.qr_first, pair_code: None }
            }
        };
        opening.take();
        loop {
            let deadline = match &phase {
                Phase::Offering { deadline, .. } => Some(*deadline),
                Phase::Pairing { done_at, .. } => Some(*done_at),
                Phase::Connected { stream, .. } => stream.as_ref().map(|s| s.check_at),
            };
            let cmd = tokio::select! {
                cmd = rx.recv() => cmd,
                _ = sleep_until_opt(deadline) => {
                    match self.on_deadline(phase).await {
                        Some(next) => { phase = next; continue; }
                        None => return,
                    }
                }
            };
            let Some(cmd) = cmd else { return };
            match self.on_command(phase, cmd).await {
                Some(next) => phase = next,
                None => return,
            }
        }
    }

    async fn on_deadline(&self, phase: Phase) -> Option<Phase> {
        match phase {
            Phase::Offering { attempt, pair_code, .. } => {
                if attempt >= self.timings.qr_max {
                    self.emit(EngineEvent::PairingQrCodesExhausted).await;
                    return None;
                }
                self.emit(EngineEvent::PairingQrCode { code: qr_value(), timeout: self.timings.qr_next }).await;
                Some(Phase::Offering {
                    attempt: attempt + 1,
                    deadline: Instant::now() + self.timings.qr_next,
                    pair_code,
                })
            }
            Phase::Pairing { phone, push_name, .. } => {
                let creds = Creds { phone: phone.as_str().to_owned(), push_name: push_name.clone() };
                let raw = serde_json::to_vec(&creds).unwrap_or_default();
                if let Err(e) = self.keys.put(NS, CREDS, &raw).await {
                    self.emit(EngineEvent::PairError { reason: format!("could not store credentials: {e}") }).await;
                    return None;
                }
                let stream = self.log_in().await?;
                self.emit(EngineEvent::PairSuccess { phone: phone.clone(), push_name: push_name.clone() }).await;
                self.emit(EngineEvent::Connected { phone: Some(phone.clone()), push_name }).await;
                self.redeliver_unacked().await;
                Some(Phase::Connected { phone, stream })
            }
            Phase::Connected { phone, stream: Some(stream) } => {
                let every = self.timings.stream_check?;
                match self.keys.get(NS, STREAM).await {
                    Ok(Some(current)) if current != stream.token.as_bytes() => {
                        tracing::info!(session_id = %self.session, "sim: a newer link logged in with this device; replaced");
                        self.emit(EngineEvent::StreamReplaced).await;
                        None
                    }
                    // Unreadable now: ask again next time, as a server would keep the stream.
                    _ => Some(Phase::Connected {
                        phone,
                        stream: Some(Stream { token: stream.token, check_at: Instant::now() + every }),
                    }),
                }
            }
            Phase::Connected { phone, stream: None } => Some(Phase::Connected { phone, stream: None }),
        }
    }

    async fn on_command(&self, phase: Phase, cmd: Cmd) -> Option<Phase> {
        let offering = matches!(phase, Phase::Offering { .. });
        let connected = matches!(phase, Phase::Connected { .. });
        match cmd {
            Cmd::Scan { phone, push_name, reply } => {
                if let Phase::Offering { pair_code, .. } = &phase {
                    let phone = pair_code.clone().unwrap_or(phone);
                    let _ = reply.send(Ok(()));
                    self.emit(EngineEvent::PairingStarted { phone: phone.clone() }).await;
                    return Some(Phase::Pairing {
                        phone,
                        push_name,
                        done_at: Instant::now() + self.timings.pair_delay,
                    });
                }
                let _ = reply.send(Err(PhoneError::NoQr));
            }
            Cmd::FailScan(reply) => {
                if offering {
                    let _ = reply.send(Ok(()));
                    self.emit(EngineEvent::PairError { reason: "the phone could not complete the scan".into() }).await;
                    return None;
                }
                let _ = reply.send(Err(PhoneError::NoQr));
            }
            Cmd::Drop { down_for, reply } => {
                // The network can go in any phase: offering a QR, pairing or connected.
                {
                    self.shared
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .down_until
                        .insert(self.session, Instant::now() + down_for);
                    let _ = reply.send(Ok(()));
                    self.emit(EngineEvent::Disconnected {
                        reason: DisconnectReason::Network("connection lost (simulated)".into()),
                    })
                    .await;
                    return None;
                }
            }
            Cmd::Unlink(reply) => {
                if connected {
                    let _ = self.keys.delete(NS, CREDS).await;
                    let _ = reply.send(Ok(()));
                    self.emit(EngineEvent::LoggedOut { reason: "device removed from the phone".into() }).await;
                    return None;
                }
                let _ = reply.send(Err(PhoneError::NotConnected));
            }
            Cmd::Incoming { message, reply } => {
                if connected && !self.is_silent() {
                    let msg = Incoming {
                        external_id: message.external_id.unwrap_or_else(|| format!("SIM{}", Uuid::new_v4().simple())),
                        from: message.from,
                        push_name: None,
                        text: Some(message.text),
                        media_mimetype: None,
                        timestamp: chrono::Utc::now(),
                        ack: Ack::none(),
                    };
                    {
                        let mut shared = self.shared();
                        let waiting = shared.unacked.entry(self.session).or_default();
                        if waiting.len() >= MAX_UNACKED {
                            waiting.remove(0);
                        }
                        waiting.push(msg.clone());
                    }
                    let (acked, on_ack) = oneshot::channel();
                    let ok = self.deliver(msg, Some(acked)).await;
                    let _ = reply.send(if ok { Ok(on_ack) } else { Err(PhoneError::NotConnected) });
                } else {
                    let _ = reply.send(Err(PhoneError::NotConnected));
                }
            }
            Cmd::PairCode { reply, .. } if self.is_silent() => self.park(reply),
            Cmd::Probe(reply) if self.is_silent() => self.park(reply),
            Cmd::Probe(reply) => {
                let _ = reply.send(Ok(()));
            }
            Cmd::Silence(reply) => {
                self.silent.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = reply.send(Ok(()));
            }
            Cmd::Receipts { from, kind, reply } => {
                if connected && !self.is_silent() {
                    let ids: Vec<String> = {
                        let shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
                        let sent = shared.sent.get(&self.session).map(Vec::as_slice).unwrap_or_default();
                        sent.iter().filter(|m| m.to == from.as_str()).map(|m| m.id.clone()).collect()
                    };
                    let _ = reply.send(Ok(()));
                    for message_id in ids {
                        self.emit(EngineEvent::Receipt(Receipt { message_id, kind })).await;
                    }
                } else {
                    let _ = reply.send(Err(PhoneError::NotConnected));
                }
            }
            Cmd::PairCode { phone, reply } => {
                if let Phase::Offering { attempt, deadline, .. } = phase {
                    let code = pair_code();
                    self.emit(EngineEvent::PairingCode { code: code.clone(), timeout: self.timings.pair_code_timeout })
                        .await;
                    let _ = reply.send(Ok(code));
                    return Some(Phase::Offering { attempt, deadline, pair_code: Some(phone) });
                }
                let _ = reply.send(Err(EngineError::Failed("pairing is not in progress".into())));
            }
            Cmd::Send { msg, reply } => {
                if connected {
                    let id = format!("SIM{}", Uuid::new_v4().simple());
                    let sent = SimSent {
                        id: id.clone(),
                        to: msg.to.as_str().to_owned(),
                        text: msg.text.or(msg.media.as_ref().and_then(|m| m.caption.clone())),
                        media_mimetype: msg.media.map(|m| m.mimetype),
                        at: chrono::Utc::now(),
                    };
                    {
                        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
                        let log = shared.sent.entry(self.session).or_default();
                        if log.len() >= 1000 {
                            log.remove(0);
                        }
                        log.push(sent);
                    }
                    let _ = reply.send(Ok(id.clone()));
                    // The server acknowledges; a silent link's `emit` drops that, so the
                    // message is never acknowledged.
                    self.emit(EngineEvent::Receipt(Receipt { message_id: id, kind: ReceiptKind::ServerAck })).await;
                } else {
                    let _ = reply.send(Err(EngineError::NotConnected));
                }
            }
            Cmd::Logout(reply) => {
                let _ = self.keys.delete(NS, CREDS).await;
                let _ = reply.send(());
                return None;
            }
            Cmd::Close(reply) => {
                tokio::time::sleep(self.timings.close_delay).await;
                let _ = reply.send(());
                return None;
            }
        }
        Some(phase)
    }
}
