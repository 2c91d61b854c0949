//! What the network sends may hold NUL (U+0000), which PostgreSQL's text type cannot
//! store: a NUL in a push name or message text failed the write (the message was lost,
//! the session stuck in `pairing`). Every string of an event loses its NULs before the
//! session task looks at it.

use super::{EngineEvent, Incoming};
use crate::domain::text::without_nul;

fn opt(s: Option<String>) -> Option<String> {
    s.map(without_nul)
}

impl EngineEvent {
    pub fn without_nul(self) -> Self {
        use EngineEvent::*;
        match self {
            PairingQrCode { code, timeout } => PairingQrCode { code: without_nul(code), timeout },
            PairingCode { code, timeout } => PairingCode { code: without_nul(code), timeout },
            PairSuccess { phone, push_name } => PairSuccess { phone, push_name: opt(push_name) },
            PairError { reason } => PairError { reason: without_nul(reason) },
            Connected { phone, push_name } => Connected { phone, push_name: opt(push_name) },
            LoggedOut { reason } => LoggedOut { reason: without_nul(reason) },
            TemporaryBan { reason, expires_in } => TemporaryBan { reason: without_nul(reason), expires_in },
            ConnectFailure { reason, permanent } => ConnectFailure { reason: without_nul(reason), permanent },
            Message(m) => Message(Incoming {
                external_id: without_nul(m.external_id),
                push_name: opt(m.push_name),
                text: opt(m.text),
                media_mimetype: opt(m.media_mimetype),
                ..m
            }),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Phone;

    #[test]
    fn strips_nul_from_every_string() {
        let phone = Phone::parse("15550001111").unwrap();
        let ev = EngineEvent::Connected { phone: Some(phone.clone()), push_name: Some("Bo\0b".into()) };
        assert_eq!(
            ev.without_nul(),
            EngineEvent::Connected { phone: Some(phone.clone()), push_name: Some("Bob".into()) }
        );
        let msg = EngineEvent::Message(Incoming {
            external_id: "id\0".into(),
            from: phone,
            push_name: None,
            text: Some("he\0llo".into()),
            media_mimetype: Some("image/png\0".into()),
            ack: crate::engine::Ack::none(),
            timestamp: chrono::Utc::now(),
        });
        let EngineEvent::Message(m) = msg.without_nul() else { panic!("still a message") };
        assert_eq!(
            (m.external_id.as_str(), m.text.as_deref(), m.media_mimetype.as_deref()),
            ("id", Some("hello"), Some("image/png"))
        );
    }
}
