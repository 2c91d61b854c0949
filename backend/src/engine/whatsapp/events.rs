//! Maps whatsapp-rust events onto wahub's [`EngineEvent`] vocabulary.
//!
//! [`map_event`] is pure: it sees one library event (plus what the link knows about
//! its own account, for `Connected`) and returns the engine events it stands for.

use whatsapp_rust::types::events::{ConnectFailureReason, Event, InboundMessage};
use whatsapp_rust::types::presence::ReceiptType;
use whatsapp_rust::wacore::proto_helpers::MessageExt;
use whatsapp_rust::wacore_binary::jid::JidExt;
use whatsapp_rust::Jid;

use crate::domain::Phone;
use crate::engine::{DisconnectReason, EngineEvent, Incoming, Receipt, ReceiptKind};

/// What the link knows about its own account when an event arrives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelfInfo {
    pub phone: Option<Phone>,
    pub push_name: Option<String>,
}

/// The engine events a library event stands for (usually zero or one; a message
/// batch gives one per message, a pair success gives `PairingStarted` + `PairSuccess`).
pub fn map_event(ev: &Event, me: &SelfInfo) -> Vec<EngineEvent> {
    match ev {
        Event::PairingQrCode(qr) => vec![EngineEvent::PairingQrCode { code: qr.code.clone(), timeout: qr.timeout }],
        Event::PairingQrCodesExhausted(_) => vec![EngineEvent::PairingQrCodesExhausted],
        Event::PairingCode(pc) => vec![EngineEvent::PairingCode { code: pc.code.clone(), timeout: pc.timeout }],
        Event::PairSuccess(ps) => match phone_of(&ps.id) {
            Some(phone) => vec![
                EngineEvent::PairingStarted { phone: phone.clone() },
                EngineEvent::PairSuccess { phone, push_name: non_empty(&ps.business_name) },
            ],
            None => vec![EngineEvent::PairError { reason: "paired account has no phone number".to_owned() }],
        },
        Event::PairError(pe) => vec![EngineEvent::PairError { reason: pe.error.clone() }],
        Event::Connected(_) => {
            vec![EngineEvent::Connected { phone: me.phone.clone(), push_name: me.push_name.clone() }]
        }
        Event::Disconnected(d) => {
            vec![EngineEvent::Disconnected { reason: DisconnectReason::Network(d.reason.to_string()) }]
        }
        Event::LoggedOut(lo) => vec![EngineEvent::LoggedOut { reason: failure_reason(lo.reason).to_owned() }],
        Event::StreamReplaced(_) => vec![EngineEvent::StreamReplaced],
        Event::TemporaryBan(ban) => {
            vec![EngineEvent::TemporaryBan { reason: ban.code.to_string(), expires_in: ban.expire.to_std().ok() }]
        }
        Event::ConnectFailure(cf) => vec![EngineEvent::ConnectFailure {
            reason: match &cf.message {
                Some(m) if !m.is_empty() => format!("{}: {m}", failure_reason(cf.reason)),
                _ => failure_reason(cf.reason).to_owned(),
            },
            permanent: !cf.reason.should_reconnect(),
        }],
        Event::ClientOutdated(_) => {
            vec![EngineEvent::ConnectFailure { reason: "client_outdated".to_owned(), permanent: true }]
        }
        Event::QrScannedWithoutMultidevice(_) => {
            vec![EngineEvent::PairError { reason: "the phone scanned without multi-device support".to_owned() }]
        }
        Event::Messages(batch) => batch.iter().filter_map(incoming).map(EngineEvent::Message).collect(),
        // A nack (`error` set) is not an acknowledgement: the ack deadline fails the message.
        Event::ServerAck(ack) if ack.class.as_deref() == Some("message") && ack.error.is_none() => {
            vec![EngineEvent::Receipt(Receipt { message_id: ack.id.clone(), kind: ReceiptKind::ServerAck })]
        }
        Event::Receipt(r) => {
            let kind = match r.r#type {
                ReceiptType::Delivered => ReceiptKind::Delivered,
                ReceiptType::Read | ReceiptType::Played => ReceiptKind::Read,
                _ => return Vec::new(),
            };
            r.message_ids.iter().map(|id| EngineEvent::Receipt(Receipt { message_id: id.clone(), kind })).collect()
        }
        _ => Vec::new(),
    }
}

/// Whether `ev` ends the link: after it the library will not reconnect by itself.
pub fn is_terminal(ev: &EngineEvent) -> bool {
    matches!(
        ev,
        EngineEvent::Disconnected { .. }
            | EngineEvent::LoggedOut { .. }
            | EngineEvent::StreamReplaced
            | EngineEvent::TemporaryBan { .. }
            | EngineEvent::ConnectFailure { .. }
            | EngineEvent::PairingQrCodesExhausted
    )
}

/// Stable snake_case text for a connect-failure / logout reason.
fn failure_reason(reason: ConnectFailureReason) -> &'static str {
    match reason {
        ConnectFailureReason::Generic => "generic",
        ConnectFailureReason::LoggedOut => "logged_out",
        ConnectFailureReason::TempBanned => "temp_banned",
        ConnectFailureReason::AccountLocked => "account_locked",
        ConnectFailureReason::UnknownLogout => "unknown_logout",
        ConnectFailureReason::ClientOutdated => "client_outdated",
        ConnectFailureReason::BadUserAgent => "bad_user_agent",
        ConnectFailureReason::CatExpired => "cat_expired",
        ConnectFailureReason::CatInvalid => "cat_invalid",
        ConnectFailureReason::NotFound => "not_found",
        ConnectFailureReason::ClientUnknown => "client_unknown",
        ConnectFailureReason::InternalServerError => "internal_server_error",
        ConnectFailureReason::Experimental => "experimental",
        ConnectFailureReason::ServiceUnavailable => "service_unavailable",
        ConnectFailureReason::Unknown(_) => "unknown",
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// The phone number of a phone-number JID (`628123@s.whatsapp.net`, any device).
pub fn phone_of(jid: &Jid) -> Option<Phone> {
    if !jid.is_pn() {
        return None;
    }
    Phone::parse(jid.user_base()).ok()
}

/// A one-to-one message from someone else, as wahub stores it. Group, status,
/// broadcast and newsletter traffic, our own echoes, and senders whose phone
/// number is unknown (LID-only) are skipped.
fn incoming(msg: &InboundMessage) -> Option<Incoming> {
    let info = &msg.info;
    let src = &info.source;
    if src.is_from_me
        || src.is_group
        || src.chat.is_group()
        || src.chat.is_status_broadcast()
        || src.chat.is_broadcast_list()
        || src.chat.is_newsletter()
    {
        return None;
    }
    let from = phone_of(&src.sender).or_else(|| src.sender_alt.as_ref().and_then(phone_of))?;
    let message = &msg.message;
    let base = message.get_base_message();
    let media_mimetype = [
        base.image_message.as_option().and_then(|m| m.mimetype.clone()),
        base.video_message.as_option().and_then(|m| m.mimetype.clone()),
        base.audio_message.as_option().and_then(|m| m.mimetype.clone()),
        base.document_message.as_option().and_then(|m| m.mimetype.clone()),
        base.sticker_message.as_option().and_then(|m| m.mimetype.clone()),
    ]
    .into_iter()
    .flatten()
    .next();
    let text = message.text_content().or_else(|| message.get_caption()).map(str::to_owned);
    if text.is_none() && media_mimetype.is_none() {
        // Receipts-like protocol messages, reactions, edits...: nothing to store.
        return None;
    }
    Some(Incoming {
        external_id: info.id.to_string(),
        from,
        push_name: non_empty(&info.push_name),
        text,
        media_mimetype,
        timestamp: info.timestamp,
        // whatsapp-rust acknowledges on its own once decrypted (docs/engines.md).
        ack: crate::engine::Ack::none(),
    })
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
