//! The session state machine as a pure function: (state, input) → (state, effects).
//!
//! The session task feeds it engine events and user commands and carries out the
//! effects; keeping it pure makes every transition testable in a table.

use std::time::Duration;

use crate::domain::Phone;
use crate::domain::{reason, Status};
use crate::engine::{DisconnectReason, EngineEvent};

/// What the machine knows about one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub status: Status,
    pub reason: Option<&'static str>,
    pub auth_paired: bool,
    pub socket_open: bool,
    pub phone: Option<Phone>,
    pub push_name: Option<String>,
    pub qr_attempt: u32,
    pub reconnect_attempt: u32,
}

impl Machine {
    pub fn new(status: Status, auth_paired: bool) -> Self {
        Self {
            status,
            reason: None,
            auth_paired,
            socket_open: false,
            phone: None,
            push_name: None,
            qr_attempt: 0,
            reconnect_attempt: 0,
        }
    }
}

/// Everything that can happen to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Start {
        force_relink: bool,
    },
    /// Continue the restore of a session the server marked `starting` at startup.
    Restore,
    Stop,
    Logout,
    IdleTimeout,
    /// The backoff delay before the next reconnect attempt has passed.
    RetryDue,
    /// Another active session already holds the phone that just paired.
    DuplicatePhone,
    /// The start deadline passed with no QR and no connection.
    StartTimeout,
    /// The server could not record what happened to this session.
    StorageFailed,
    Engine(EngineEvent),
}

/// What the session task must do after a transition, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open a link with the engine.
    Connect,
    /// Close the link, keeping credentials.
    Disconnect,
    /// Unlink the device on the server, if a link is open.
    LogoutLink,
    /// Delete the session's stored credentials.
    WipeKeys,
    OfferQr {
        code: String,
        timeout: Duration,
    },
    OfferPairCode {
        code: String,
        timeout: Duration,
    },
    ClearQr,
    /// Wait, then feed `Input::RetryDue`.
    ScheduleRetry(Duration),
    /// Send queued messages.
    FlushOutbox,
    StoreIncoming(crate::engine::Incoming),
    /// Record how far a sent message got.
    ApplyReceipt(crate::engine::Receipt),
}

/// Timings the machine needs.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub reconnect_base: Duration,
    pub reconnect_max: Duration,
    pub reconnect_max_attempts: u32,
}

impl Policy {
    /// Exponential backoff: base · 2^(attempt-1), capped. Jitter is added by the caller.
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::domain::backoff::exponential(self.reconnect_base, attempt, self.reconnect_max)
    }
}

fn fail(m: &mut Machine, why: &'static str) {
    m.status = Status::Failed;
    m.reason = Some(why);
    m.socket_open = false;
    m.qr_attempt = 0;
}

fn log_out(m: &mut Machine, why: &'static str) {
    m.status = Status::LoggedOut;
    m.reason = Some(why);
    m.auth_paired = false;
    m.socket_open = false;
    m.qr_attempt = 0;
    m.reconnect_attempt = 0;
}

/// An unpaired session waiting to retry after a network loss.
fn retrying_start(m: &Machine) -> bool {
    m.status == Status::Starting && m.reason == Some(reason::NETWORK)
}

/// Marked `starting` at startup (or adopted from another node) and waiting for its turn
/// to reconnect (no link yet).
fn restore_pending(m: &Machine) -> bool {
    m.status == Status::Starting && matches!(m.reason, Some(reason::SERVER_RESTART | reason::NODE_LOST))
}

/// Applies one input.
pub fn step(mut m: Machine, input: Input, policy: &Policy) -> (Machine, Vec<Effect>) {
    use Effect::*;
    let mut fx = Vec::new();
    let running = m.status.is_running();
    match input {
        Input::Start { force_relink } => {
            if force_relink {
                if running {
                    fx.extend([LogoutLink, Disconnect]);
                }
                fx.push(WipeKeys);
                m.auth_paired = false;
                m.phone = None;
                m.push_name = None;
            } else if running && !restore_pending(&m) {
                return (m, fx); // already running: share the QR on offer
            }
            m.status = Status::Starting;
            m.reason = None;
            m.socket_open = false;
            m.qr_attempt = 0;
            m.reconnect_attempt = 0;
            fx.extend([ClearQr, Connect]);
        }
        Input::Restore => {
            if restore_pending(&m) {
                m.socket_open = false;
                m.qr_attempt = 0;
                m.reconnect_attempt = 0;
                fx.extend([ClearQr, Connect]);
            }
        }
        Input::Stop | Input::IdleTimeout => {
            let why = if input == Input::Stop { reason::USER_STOP } else { reason::INACTIVE };
            if running {
                fx.push(Disconnect);
            }
            fx.push(ClearQr);
            m.status = Status::Stopped;
            m.reason = Some(why);
            m.socket_open = false;
            m.qr_attempt = 0;
            m.reconnect_attempt = 0;
        }
        Input::Logout => {
            if running {
                fx.extend([LogoutLink, Disconnect]);
            }
            fx.extend([WipeKeys, ClearQr]);
            log_out(&mut m, reason::USER_LOGOUT);
        }
        Input::DuplicatePhone => {
            fx.extend([LogoutLink, Disconnect, WipeKeys, ClearQr]);
            fail(&mut m, reason::DUPLICATE_PHONE);
            m.auth_paired = false;
        }
        Input::StartTimeout => {
            if m.status == Status::Starting {
                fx.extend([Disconnect, ClearQr]);
                fail(&mut m, reason::START_TIMEOUT);
            }
        }
        Input::StorageFailed => {
            if running {
                fx.push(Disconnect);
            }
            fx.push(ClearQr);
            fail(&mut m, reason::STORAGE_ERROR);
        }
        Input::RetryDue => {
            if m.status == Status::Reconnecting || retrying_start(&m) {
                fx.push(Connect);
            }
        }
        Input::Engine(ev) => {
            if !running {
                // A late event from a link that was already closed.
                return (m, fx);
            }
            match ev {
                EngineEvent::SocketOpened => m.socket_open = true,
                EngineEvent::PairingQrCode { code, timeout } => {
                    if m.auth_paired || m.status == Status::Pairing {
                        return (m, fx);
                    }
                    m.status = Status::ScanQr;
                    m.reason = None;
                    m.socket_open = true;
                    m.qr_attempt += 1;
                    m.reconnect_attempt = 0;
                    fx.push(OfferQr { code, timeout });
                }
                EngineEvent::PairingQrCodesExhausted => {
                    if m.status == Status::ScanQr || m.status == Status::Starting {
                        fx.extend([Disconnect, ClearQr]);
                        fail(&mut m, reason::QR_TIMEOUT);
                    }
                }
                EngineEvent::PairingCode { code, timeout } => {
                    if !m.auth_paired {
                        fx.push(OfferPairCode { code, timeout });
                    }
                }
                EngineEvent::PairingStarted { phone } => {
                    m.status = Status::Pairing;
                    m.reason = None;
                    m.socket_open = true;
                    m.phone = Some(phone);
                    fx.push(ClearQr);
                }
                EngineEvent::PairSuccess { phone, push_name } => {
                    m.status = Status::Pairing;
                    m.auth_paired = true;
                    m.socket_open = true;
                    m.phone = Some(phone);
                    m.push_name = push_name.or(m.push_name);
                    fx.push(ClearQr);
                }
                EngineEvent::PairError { .. } => {
                    fx.extend([Disconnect, WipeKeys, ClearQr]);
                    fail(&mut m, reason::SCAN_FAILED);
                    m.auth_paired = false;
                    m.phone = None;
                }
                EngineEvent::Connected { phone, push_name } => {
                    if !m.auth_paired && m.status != Status::Pairing && phone.is_none() {
                        // Connected without any credentials would be a lie; ignore.
                        return (m, fx);
                    }
                    m.status = Status::Connected;
                    m.reason = None;
                    m.auth_paired = true;
                    m.socket_open = true;
                    m.qr_attempt = 0;
                    m.reconnect_attempt = 0;
                    if phone.is_some() {
                        m.phone = phone;
                    }
                    if push_name.is_some() {
                        m.push_name = push_name;
                    }
                    fx.extend([ClearQr, FlushOutbox]);
                }
                EngineEvent::Disconnected { reason: DisconnectReason::Requested } => {
                    m.socket_open = false;
                }
                EngineEvent::Disconnected { reason: DisconnectReason::Network(_) }
                | EngineEvent::ConnectFailure { permanent: false, .. } => {
                    m.socket_open = false;
                    m.reconnect_attempt += 1;
                    fx.push(ClearQr);
                    // `reconnecting` is reserved for paired sessions: an unpaired one
                    // retries as `starting` (reason `network`) and gives up as `network`.
                    let paired = m.auth_paired;
                    if m.reconnect_attempt > policy.reconnect_max_attempts {
                        fx.push(Disconnect);
                        fail(&mut m, if paired { reason::MAX_RETRIES } else { reason::NETWORK });
                    } else {
                        if !paired {
                            m.qr_attempt = 0;
                            m.phone = None;
                        }
                        m.status = if paired { Status::Reconnecting } else { Status::Starting };
                        m.reason = Some(reason::NETWORK);
                        fx.extend([Disconnect, ScheduleRetry(policy.backoff(m.reconnect_attempt))]);
                    }
                }
                EngineEvent::ConnectFailure { permanent: true, .. } => {
                    fx.extend([Disconnect, ClearQr]);
                    fail(&mut m, reason::AUTH_FAILED);
                }
                EngineEvent::LoggedOut { .. } => {
                    fx.extend([Disconnect, WipeKeys, ClearQr]);
                    log_out(&mut m, reason::DEVICE_REMOVED);
                }
                EngineEvent::StreamReplaced => {
                    fx.extend([Disconnect, ClearQr]);
                    fail(&mut m, reason::STREAM_REPLACED);
                }
                EngineEvent::TemporaryBan { .. } => {
                    fx.extend([Disconnect, ClearQr]);
                    fail(&mut m, reason::TEMPORARY_BAN);
                }
                EngineEvent::Message(msg) => fx.push(StoreIncoming(msg)),
                EngineEvent::Receipt(r) => fx.push(ApplyReceipt(r)),
            }
        }
    }
    (m, fx)
}
