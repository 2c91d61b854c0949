//! Every transition of the session state machine, as a table.

use std::time::Duration;

use super::machine::{step, Effect, Input, Machine, Policy};
use crate::domain::Phone;
use crate::domain::{reason, Status};
use crate::engine::{DisconnectReason, EngineEvent, Incoming, Receipt, ReceiptKind};

const POLICY: Policy = Policy {
    reconnect_base: Duration::from_secs(1),
    reconnect_max: Duration::from_secs(30),
    reconnect_max_attempts: 3,
};

fn phone() -> Phone {
    Phone::parse("6281234567890").unwrap()
}

fn at(status: Status, paired: bool) -> Machine {
    let mut m = Machine::new(status, paired);
    m.socket_open = status.is_running() && status != Status::Starting && status != Status::Reconnecting;
    if paired || status == Status::Pairing {
        m.phone = Some(phone());
    }
    m
}

fn qr() -> EngineEvent {
    EngineEvent::PairingQrCode { code: "2@x".into(), timeout: Duration::from_secs(60) }
}

fn net() -> EngineEvent {
    EngineEvent::Disconnected { reason: DisconnectReason::Network("x".into()) }
}

fn ev(e: EngineEvent) -> Input {
    Input::Engine(e)
}

struct Case {
    name: &'static str,
    from: Machine,
    input: Input,
    status: Status,
    reason: Option<&'static str>,
    paired: bool,
    socket: bool,
    effects: Vec<Effect>,
}

#[test]
fn every_transition() {
    use Effect::*;
    use Status::*;
    let cases = vec![
        Case {
            name: "start from stopped",
            from: at(Stopped, false),
            input: Input::Start { force_relink: false },
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "start a paired stopped session restores it",
            from: at(Stopped, true),
            input: Input::Start { force_relink: false },
            status: Starting,
            reason: None,
            paired: true,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "start from failed",
            from: at(Failed, false),
            input: Input::Start { force_relink: false },
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "start from logged_out",
            from: at(LoggedOut, false),
            input: Input::Start { force_relink: false },
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "start while offering a QR shares it",
            from: at(ScanQr, false),
            input: Input::Start { force_relink: false },
            status: ScanQr,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![],
        },
        Case {
            name: "start while connected is a no-op",
            from: at(Connected, true),
            input: Input::Start { force_relink: false },
            status: Connected,
            reason: None,
            paired: true,
            socket: true,
            effects: vec![],
        },
        Case {
            name: "force relink while connected wipes and pairs afresh",
            from: at(Connected, true),
            input: Input::Start { force_relink: true },
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![LogoutLink, Disconnect, WipeKeys, ClearQr, Connect],
        },
        Case {
            name: "force relink while stopped",
            from: at(Stopped, true),
            input: Input::Start { force_relink: true },
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![WipeKeys, ClearQr, Connect],
        },
        Case {
            name: "socket opens while starting",
            from: at(Starting, false),
            input: ev(EngineEvent::SocketOpened),
            status: Starting,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![],
        },
        Case {
            name: "first QR",
            from: at(Starting, false),
            input: ev(qr()),
            status: ScanQr,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![OfferQr { code: "2@x".into(), timeout: Duration::from_secs(60) }],
        },
        Case {
            name: "QR rotation",
            from: at(ScanQr, false),
            input: ev(qr()),
            status: ScanQr,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![OfferQr { code: "2@x".into(), timeout: Duration::from_secs(60) }],
        },
        Case {
            name: "QR codes exhausted",
            from: at(ScanQr, false),
            input: ev(EngineEvent::PairingQrCodesExhausted),
            status: Failed,
            reason: Some(reason::QR_TIMEOUT),
            paired: false,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "pairing code offered",
            from: at(ScanQr, false),
            input: ev(EngineEvent::PairingCode { code: "ABCD-EFGH".into(), timeout: Duration::from_secs(180) }),
            status: ScanQr,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![OfferPairCode { code: "ABCD-EFGH".into(), timeout: Duration::from_secs(180) }],
        },
        Case {
            name: "scan: pairing is not connected",
            from: at(ScanQr, false),
            input: ev(EngineEvent::PairingStarted { phone: phone() }),
            status: Pairing,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![ClearQr],
        },
        Case {
            name: "pair success keeps pairing until connected",
            from: at(Pairing, false),
            input: ev(EngineEvent::PairSuccess { phone: phone(), push_name: Some("A".into()) }),
            status: Pairing,
            reason: None,
            paired: true,
            socket: true,
            effects: vec![ClearQr],
        },
        Case {
            name: "connected after pairing",
            from: at(Pairing, true),
            input: ev(EngineEvent::Connected { phone: Some(phone()), push_name: None }),
            status: Connected,
            reason: None,
            paired: true,
            socket: true,
            effects: vec![ClearQr, FlushOutbox],
        },
        Case {
            name: "restored connection",
            from: at(Starting, true),
            input: ev(EngineEvent::Connected { phone: None, push_name: None }),
            status: Connected,
            reason: None,
            paired: true,
            socket: true,
            effects: vec![ClearQr, FlushOutbox],
        },
        Case {
            name: "connected without credentials is ignored",
            from: at(Starting, false),
            input: ev(EngineEvent::Connected { phone: None, push_name: None }),
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![],
        },
        Case {
            name: "pair error",
            from: at(Pairing, false),
            input: ev(EngineEvent::PairError { reason: "x".into() }),
            status: Failed,
            reason: Some(reason::SCAN_FAILED),
            paired: false,
            socket: false,
            effects: vec![Disconnect, WipeKeys, ClearQr],
        },
        Case {
            name: "network loss while connected",
            from: at(Connected, true),
            input: ev(net()),
            status: Reconnecting,
            reason: Some(reason::NETWORK),
            paired: true,
            socket: false,
            effects: vec![ClearQr, Disconnect, ScheduleRetry(Duration::from_secs(1))],
        },
        Case {
            name: "connect failure while starting retries",
            from: at(Starting, true),
            input: ev(EngineEvent::ConnectFailure { reason: "x".into(), permanent: false }),
            status: Reconnecting,
            reason: Some(reason::NETWORK),
            paired: true,
            socket: false,
            effects: vec![ClearQr, Disconnect, ScheduleRetry(Duration::from_secs(1))],
        },
        Case {
            name: "an unpaired session losing its network while offering a QR retries as starting",
            from: at(ScanQr, false),
            input: ev(net()),
            status: Starting,
            reason: Some(reason::NETWORK),
            paired: false,
            socket: false,
            effects: vec![ClearQr, Disconnect, ScheduleRetry(Duration::from_secs(1))],
        },
        Case {
            name: "an unpaired connect failure while starting retries as starting",
            from: at(Starting, false),
            input: ev(EngineEvent::ConnectFailure { reason: "x".into(), permanent: false }),
            status: Starting,
            reason: Some(reason::NETWORK),
            paired: false,
            socket: false,
            effects: vec![ClearQr, Disconnect, ScheduleRetry(Duration::from_secs(1))],
        },
        Case {
            name: "a scanned but unpaired session losing its network retries as starting",
            from: at(Pairing, false),
            input: ev(net()),
            status: Starting,
            reason: Some(reason::NETWORK),
            paired: false,
            socket: false,
            effects: vec![ClearQr, Disconnect, ScheduleRetry(Duration::from_secs(1))],
        },
        Case {
            name: "retry due while starting after a network loss connects again",
            from: Machine { reason: Some(reason::NETWORK), reconnect_attempt: 1, ..at(Starting, false) },
            input: Input::RetryDue,
            status: Starting,
            reason: Some(reason::NETWORK),
            paired: false,
            socket: false,
            effects: vec![Connect],
        },
        Case {
            name: "retry due while starting without a pending retry does nothing",
            from: at(Starting, false),
            input: Input::RetryDue,
            status: Starting,
            reason: None,
            paired: false,
            socket: false,
            effects: vec![],
        },
        Case {
            name: "restore continues a session marked starting at startup",
            from: Machine { reason: Some(reason::SERVER_RESTART), ..at(Starting, true) },
            input: Input::Restore,
            status: Starting,
            reason: Some(reason::SERVER_RESTART),
            paired: true,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "restore of a session the user stopped meanwhile does nothing",
            from: Machine { reason: Some(reason::USER_STOP), ..at(Stopped, true) },
            input: Input::Restore,
            status: Stopped,
            reason: Some(reason::USER_STOP),
            paired: true,
            socket: false,
            effects: vec![],
        },
        Case {
            name: "a start while waiting to be restored connects now",
            from: Machine { reason: Some(reason::SERVER_RESTART), ..at(Starting, true) },
            input: Input::Start { force_relink: false },
            status: Starting,
            reason: None,
            paired: true,
            socket: false,
            effects: vec![ClearQr, Connect],
        },
        Case {
            name: "no QR and no connection before the start deadline",
            from: at(Starting, false),
            input: Input::StartTimeout,
            status: Failed,
            reason: Some(reason::START_TIMEOUT),
            paired: false,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "the start deadline is moot once a QR is on offer",
            from: at(ScanQr, false),
            input: Input::StartTimeout,
            status: ScanQr,
            reason: None,
            paired: false,
            socket: true,
            effects: vec![],
        },
        Case {
            name: "a paired restore that hangs also times out",
            from: at(Starting, true),
            input: Input::StartTimeout,
            status: Failed,
            reason: Some(reason::START_TIMEOUT),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "a change the server cannot record fails the session",
            from: at(Connected, true),
            input: Input::StorageFailed,
            status: Failed,
            reason: Some(reason::STORAGE_ERROR),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "retry due reconnects",
            from: at(Reconnecting, true),
            input: Input::RetryDue,
            status: Reconnecting,
            reason: None,
            paired: true,
            socket: false,
            effects: vec![Connect],
        },
        Case {
            name: "retry due when no longer reconnecting does nothing",
            from: at(Stopped, true),
            input: Input::RetryDue,
            status: Stopped,
            reason: None,
            paired: true,
            socket: false,
            effects: vec![],
        },
        Case {
            name: "permanent connect failure",
            from: at(Starting, true),
            input: ev(EngineEvent::ConnectFailure { reason: "x".into(), permanent: true }),
            status: Failed,
            reason: Some(reason::AUTH_FAILED),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "unlinked from the phone",
            from: at(Connected, true),
            input: ev(EngineEvent::LoggedOut { reason: "x".into() }),
            status: LoggedOut,
            reason: Some(reason::DEVICE_REMOVED),
            paired: false,
            socket: false,
            effects: vec![Disconnect, WipeKeys, ClearQr],
        },
        Case {
            name: "stream replaced",
            from: at(Connected, true),
            input: ev(EngineEvent::StreamReplaced),
            status: Failed,
            reason: Some(reason::STREAM_REPLACED),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "temporary ban",
            from: at(Connected, true),
            input: ev(EngineEvent::TemporaryBan { reason: "x".into(), expires_in: None }),
            status: Failed,
            reason: Some(reason::TEMPORARY_BAN),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "user stop keeps credentials",
            from: at(Connected, true),
            input: Input::Stop,
            status: Stopped,
            reason: Some(reason::USER_STOP),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "stop while stopped",
            from: at(Stopped, false),
            input: Input::Stop,
            status: Stopped,
            reason: Some(reason::USER_STOP),
            paired: false,
            socket: false,
            effects: vec![ClearQr],
        },
        Case {
            name: "idle timeout",
            from: at(Connected, true),
            input: Input::IdleTimeout,
            status: Stopped,
            reason: Some(reason::INACTIVE),
            paired: true,
            socket: false,
            effects: vec![Disconnect, ClearQr],
        },
        Case {
            name: "logout while connected",
            from: at(Connected, true),
            input: Input::Logout,
            status: LoggedOut,
            reason: Some(reason::USER_LOGOUT),
            paired: false,
            socket: false,
            effects: vec![LogoutLink, Disconnect, WipeKeys, ClearQr],
        },
        Case {
            name: "logout while stopped still wipes",
            from: at(Stopped, true),
            input: Input::Logout,
            status: LoggedOut,
            reason: Some(reason::USER_LOGOUT),
            paired: false,
            socket: false,
            effects: vec![WipeKeys, ClearQr],
        },
        Case {
            name: "duplicate phone",
            from: at(Pairing, true),
            input: Input::DuplicatePhone,
            status: Failed,
            reason: Some(reason::DUPLICATE_PHONE),
            paired: false,
            socket: false,
            effects: vec![LogoutLink, Disconnect, WipeKeys, ClearQr],
        },
        Case {
            name: "late engine event after stop is ignored",
            from: at(Stopped, true),
            input: ev(net()),
            status: Stopped,
            reason: None,
            paired: true,
            socket: false,
            effects: vec![],
        },
        Case {
            name: "QR ignored once paired",
            from: at(Pairing, true),
            input: ev(qr()),
            status: Pairing,
            reason: None,
            paired: true,
            socket: true,
            effects: vec![],
        },
    ];
    for c in cases {
        let (m, fx) = step(c.from.clone(), c.input.clone(), &POLICY);
        assert_eq!(m.status, c.status, "{}: status", c.name);
        assert_eq!(m.reason, c.reason, "{}: reason", c.name);
        assert_eq!(m.auth_paired, c.paired, "{}: auth_paired", c.name);
        assert_eq!(m.socket_open, c.socket, "{}: socket_open", c.name);
        assert_eq!(fx, c.effects, "{}: effects", c.name);
        if m.status == Connected {
            assert!(m.auth_paired && m.socket_open, "{}: connected must mean socket open and paired", c.name);
        }
    }
}

#[test]
fn reconnect_backs_off_then_gives_up() {
    let mut m = at(Status::Connected, true);
    let mut delays = Vec::new();
    for _ in 0..POLICY.reconnect_max_attempts {
        let (next, fx) = step(m, ev(net()), &POLICY);
        assert_eq!(next.status, Status::Reconnecting);
        delays.extend(fx.iter().filter_map(|e| match e {
            Effect::ScheduleRetry(d) => Some(*d),
            _ => None,
        }));
        let (next, fx) = step(next, Input::RetryDue, &POLICY);
        assert_eq!(fx, vec![Effect::Connect]);
        m = next;
    }
    assert_eq!(delays, vec![Duration::from_secs(1), Duration::from_secs(2), Duration::from_secs(4)]);
    let (m, _) = step(m, ev(EngineEvent::ConnectFailure { reason: "x".into(), permanent: false }), &POLICY);
    assert_eq!((m.status, m.reason), (Status::Failed, Some(reason::MAX_RETRIES)));
    assert!(m.auth_paired, "giving up keeps credentials for a later start");
}

#[test]
fn an_unpaired_session_never_shows_reconnecting_and_ends_failed_network() {
    let down = || ev(EngineEvent::ConnectFailure { reason: "x".into(), permanent: false });
    let (mut m, _) = step(at(Status::ScanQr, false), ev(net()), &POLICY);
    assert_eq!((m.status, m.reason, m.qr_attempt), (Status::Starting, Some(reason::NETWORK), 0));
    for _ in 1..POLICY.reconnect_max_attempts {
        let (next, fx) = step(m, Input::RetryDue, &POLICY);
        assert_eq!(fx, vec![Effect::Connect]);
        // The network is still down.
        let (next, fx) = step(next, down(), &POLICY);
        assert_eq!((next.status, next.reason), (Status::Starting, Some(reason::NETWORK)));
        assert!(fx.iter().any(|e| matches!(e, Effect::ScheduleRetry(_))));
        m = next;
    }
    let (m, _) = step(m, Input::RetryDue, &POLICY);
    let (m, fx) = step(m, down(), &POLICY);
    assert_eq!((m.status, m.reason), (Status::Failed, Some(reason::NETWORK)));
    assert!(fx.contains(&Effect::Disconnect));
    assert!(!m.auth_paired);
}

#[test]
fn backoff_is_capped() {
    assert_eq!(POLICY.backoff(1), Duration::from_secs(1));
    assert_eq!(POLICY.backoff(5), Duration::from_secs(16));
    assert_eq!(POLICY.backoff(6), Duration::from_secs(30));
    assert_eq!(POLICY.backoff(60), Duration::from_secs(30));
}

#[test]
fn a_successful_reconnect_resets_the_attempts() {
    let (m, _) = step(at(Status::Connected, true), ev(net()), &POLICY);
    let (m, _) = step(m, ev(net()), &POLICY);
    assert_eq!(m.reconnect_attempt, 2);
    let (m, _) = step(m, ev(EngineEvent::Connected { phone: None, push_name: None }), &POLICY);
    assert_eq!((m.status, m.reconnect_attempt), (Status::Connected, 0));
}

#[test]
fn qr_attempts_count_up_and_messages_become_effects() {
    let (m, _) = step(at(Status::Starting, false), ev(qr()), &POLICY);
    let (m, _) = step(m, ev(qr()), &POLICY);
    assert_eq!(m.qr_attempt, 2);
    let msg = Incoming {
        external_id: "x".into(),
        from: phone(),
        push_name: None,
        text: Some("hi".into()),
        media_mimetype: None,
        timestamp: chrono::Utc::now(),
        ack: crate::engine::Ack::none(),
    };
    let (_, fx) = step(at(Status::Connected, true), ev(EngineEvent::Message(msg.clone())), &POLICY);
    assert_eq!(fx, vec![Effect::StoreIncoming(msg)]);
    let receipt = Receipt { message_id: "m1".into(), kind: ReceiptKind::ServerAck };
    let (m, fx) = step(at(Status::Connected, true), ev(EngineEvent::Receipt(receipt.clone())), &POLICY);
    assert_eq!((m.status, fx), (Status::Connected, vec![Effect::ApplyReceipt(receipt)]));
}
