//! Feeds whatsapp-rust event values into [`map_event`].

use std::sync::Arc;
use std::time::Duration;

use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::transport::DisconnectReason as WaDisconnectReason;
use whatsapp_rust::types::events::{
    BatchOrigin, ClientOutdated, ConnectFailure, ConnectFailureReason, Connected, Disconnected, Event, InboundMessage,
    LoggedOut, MessageBatch, PairError, PairSuccess, PairingCode, PairingQrCode, PairingQrCodesExhausted, StreamError,
    StreamReplaced, TempBanReason, TemporaryBan,
};
use whatsapp_rust::types::message::{MessageInfo, MessageSource};
use whatsapp_rust::wacore::proto_helpers::MessageBuilderExt;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::Jid;

use super::*;
use crate::engine::{DisconnectReason, EngineEvent};

fn phone(s: &str) -> Phone {
    match Phone::parse(s) {
        Ok(p) => p,
        Err(_) => panic!("test phone {s} is valid"),
    }
}

fn one(ev: Event) -> EngineEvent {
    let mut out = map_event(&ev, &SelfInfo::default());
    assert_eq!(out.len(), 1, "{ev:?} maps to exactly one event");
    out.remove(0)
}

#[test]
fn qr_codes_keep_their_timeout() {
    let ev = Event::PairingQrCode(
        PairingQrCode::builder().code("2@abc,def,ghi".to_owned()).timeout(Duration::from_secs(60)).build(),
    );
    assert_eq!(one(ev), EngineEvent::PairingQrCode { code: "2@abc,def,ghi".into(), timeout: Duration::from_secs(60) });
}

#[test]
fn exhausted_qr_codes() {
    let ev = Event::PairingQrCodesExhausted(PairingQrCodesExhausted::builder().disconnected(true).build());
    assert_eq!(one(ev), EngineEvent::PairingQrCodesExhausted);
}

#[test]
fn pairing_codes() {
    let ev = Event::PairingCode(
        PairingCode::builder().code("ABCD-EFGH".to_owned()).timeout(Duration::from_secs(180)).build(),
    );
    assert_eq!(one(ev), EngineEvent::PairingCode { code: "ABCD-EFGH".into(), timeout: Duration::from_secs(180) });
}

#[test]
fn pair_success_reports_pairing_then_success_with_the_phone() {
    let ev = Event::PairSuccess(
        PairSuccess::builder()
            .id(Jid::pn_device("6281234567890", 12))
            .lid(Jid::lid("100000012345678"))
            .business_name(String::new())
            .platform("android".to_owned())
            .build(),
    );
    let out = map_event(&ev, &SelfInfo::default());
    assert_eq!(
        out,
        vec![
            EngineEvent::PairingStarted { phone: phone("6281234567890") },
            EngineEvent::PairSuccess { phone: phone("6281234567890"), push_name: None },
        ]
    );
}

#[test]
fn pair_errors() {
    let ev = Event::PairError(
        PairError::builder()
            .id(Jid::pn("6281234567890"))
            .lid(Jid::lid("1"))
            .business_name(String::new())
            .platform(String::new())
            .error("bad signature".to_owned())
            .build(),
    );
    assert_eq!(one(ev), EngineEvent::PairError { reason: "bad signature".into() });
}

#[test]
fn connected_carries_what_the_link_knows_about_its_account() {
    let me = SelfInfo { phone: Some(phone("6281234567890")), push_name: Some("Budi".into()) };
    let out = map_event(&Event::Connected(Connected::builder().build()), &me);
    assert_eq!(
        out,
        vec![EngineEvent::Connected { phone: Some(phone("6281234567890")), push_name: Some("Budi".into()) }]
    );
}

#[test]
fn disconnects_are_network_trouble() {
    let ev = Event::Disconnected(
        Disconnected::builder().reason(WaDisconnectReason::ReadError("connection reset".into())).build(),
    );
    assert_eq!(
        one(ev),
        EngineEvent::Disconnected { reason: DisconnectReason::Network("read error: connection reset".into()) }
    );
}

#[test]
fn logged_out_names_the_reason() {
    let ev = Event::LoggedOut(LoggedOut::builder().on_connect(false).reason(ConnectFailureReason::LoggedOut).build());
    assert_eq!(one(ev), EngineEvent::LoggedOut { reason: "logged_out".into() });
    let locked =
        Event::LoggedOut(LoggedOut::builder().on_connect(true).reason(ConnectFailureReason::AccountLocked).build());
    assert_eq!(one(locked), EngineEvent::LoggedOut { reason: "account_locked".into() });
}

#[test]
fn stream_replaced() {
    let ev = Event::StreamReplaced(StreamReplaced::builder().build());
    assert_eq!(one(ev), EngineEvent::StreamReplaced);
}

#[test]
fn temporary_bans_keep_their_duration() {
    let ev = Event::TemporaryBan(
        TemporaryBan::builder()
            .code(TempBanReason::BlockedByUsers)
            .expire(whatsapp_rust::chrono::Duration::seconds(3600))
            .build(),
    );
    assert_eq!(
        one(ev),
        EngineEvent::TemporaryBan {
            reason: TempBanReason::BlockedByUsers.to_string(),
            expires_in: Some(Duration::from_secs(3600))
        }
    );
}

#[test]
fn connect_failures_are_permanent_unless_the_server_is_busy() {
    let busy =
        Event::ConnectFailure(ConnectFailure::builder().reason(ConnectFailureReason::ServiceUnavailable).build());
    assert_eq!(one(busy), EngineEvent::ConnectFailure { reason: "service_unavailable".into(), permanent: false });
    let bad = Event::ConnectFailure(
        ConnectFailure::builder().reason(ConnectFailureReason::BadUserAgent).message("nope".to_owned()).build(),
    );
    assert_eq!(one(bad), EngineEvent::ConnectFailure { reason: "bad_user_agent: nope".into(), permanent: true });
    let outdated = Event::ClientOutdated(ClientOutdated::builder().build());
    assert_eq!(one(outdated), EngineEvent::ConnectFailure { reason: "client_outdated".into(), permanent: true });
}

#[test]
fn unrelated_events_map_to_nothing() {
    let ev = Event::StreamError(StreamError::builder().code("500".to_owned()).build());
    assert!(map_event(&ev, &SelfInfo::default()).is_empty());
}

fn info(chat: Jid, sender: Jid, from_me: bool) -> MessageInfo {
    MessageInfo {
        source: MessageSource { is_group: chat.is_group(), chat, sender, is_from_me: from_me, ..Default::default() },
        id: "3EB0C0FFEE".to_owned(),
        push_name: "Siti".to_owned(),
        timestamp: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        ..Default::default()
    }
}

fn batch(items: Vec<(wa::Message, MessageInfo)>) -> Event {
    let messages: Vec<InboundMessage> = items
        .into_iter()
        .map(|(m, i)| InboundMessage::builder().message(Arc::new(m)).info(Arc::new(i)).build())
        .collect();
    Event::Messages(MessageBatch::builder().messages(messages.into()).origin(BatchOrigin::Live).build())
}

use whatsapp_rust::wacore_binary::jid::JidExt;

#[test]
fn incoming_text_messages() {
    let pn = Jid::pn("6281111111111");
    let ev = batch(vec![(wa::Message::text("halo"), info(pn.clone(), pn, false))]);
    let out = map_event(&ev, &SelfInfo::default());
    assert_eq!(
        out,
        vec![EngineEvent::Message(Incoming {
            external_id: "3EB0C0FFEE".into(),
            from: phone("6281111111111"),
            push_name: Some("Siti".into()),
            text: Some("halo".into()),
            media_mimetype: None,
            timestamp: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            ack: crate::engine::Ack::none(),
        })]
    );
}

#[test]
fn incoming_media_with_caption_and_lid_sender_with_known_phone() {
    let lid = Jid::lid("100000099999999");
    let mut i = info(lid.clone(), lid, false);
    i.source.sender_alt = Some(Jid::pn("6282222222222"));
    let msg = wa::Message {
        image_message: MessageField::some(wa::message::ImageMessage {
            mimetype: Some("image/jpeg".into()),
            caption: Some("foto".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let out = map_event(&batch(vec![(msg, i)]), &SelfInfo::default());
    match out.as_slice() {
        [EngineEvent::Message(m)] => {
            assert_eq!(m.from, phone("6282222222222"));
            assert_eq!(m.text.as_deref(), Some("foto"));
            assert_eq!(m.media_mimetype.as_deref(), Some("image/jpeg"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn own_group_and_lid_only_messages_are_skipped() {
    let pn = Jid::pn("6281111111111");
    let group = Jid::group("120363021033254949");
    let lid = Jid::lid("100000099999999");
    let ev = batch(vec![
        (wa::Message::text("mine"), info(pn.clone(), pn.clone(), true)),
        (wa::Message::text("group"), info(group, pn.clone(), false)),
        (wa::Message::text("lid"), info(lid.clone(), lid, false)),
        (wa::Message::default(), info(pn.clone(), pn.clone(), false)),
        (wa::Message::text("kept"), info(pn.clone(), pn, false)),
    ]);
    let out = map_event(&ev, &SelfInfo::default());
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], EngineEvent::Message(m) if m.text.as_deref() == Some("kept")));
}

#[test]
fn terminal_events() {
    assert!(is_terminal(&EngineEvent::StreamReplaced));
    assert!(is_terminal(&EngineEvent::PairingQrCodesExhausted));
    assert!(is_terminal(&EngineEvent::ConnectFailure { reason: String::new(), permanent: false }));
    assert!(!is_terminal(&EngineEvent::SocketOpened));
    assert!(!is_terminal(&EngineEvent::Connected { phone: None, push_name: None }));
}
