//! The simulated phone's actions as data. The phone of a session lives in the process
//! running the session's link; in a cluster an action that reached another node travels
//! to that one (`sessions::route`) and runs here.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keystore::KeyStore;
use super::sim::{PhoneError, PhoneMessage, SimEngine, SimSent};
use super::ReceiptKind;
use crate::domain::Phone;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "snake_case")]
pub enum PhoneAction {
    Scan { phone: Phone, push_name: Option<String> },
    FailScan,
    Drop { down_for_ms: u64 },
    Unlink,
    Silence,
    Incoming { from: Phone, text: String, external_id: Option<String> },
    Delivered { from: Phone },
    Read { from: Phone },
    ListSent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum PhoneAnswer {
    Done,
    Sent { sent: Vec<SimSent> },
}

impl SimEngine {
    /// Runs `action` on the session's simulated phone (`keys`: the session's store, for an
    /// unlink while the session is offline).
    pub async fn act(&self, session: Uuid, keys: &KeyStore, action: PhoneAction) -> Result<PhoneAnswer, PhoneError> {
        match action {
            PhoneAction::Scan { phone, push_name } => self.scan(session, phone, push_name).await?,
            PhoneAction::FailScan => self.fail_scan(session).await?,
            PhoneAction::Drop { down_for_ms } => self.drop_link(session, Duration::from_millis(down_for_ms)).await?,
            PhoneAction::Unlink => self.unlink(session, keys).await?,
            PhoneAction::Silence => self.silence(session).await?,
            PhoneAction::Incoming { from, text, external_id } => {
                self.incoming(session, PhoneMessage { from, text, external_id }).await?
            }
            PhoneAction::Delivered { from } => self.receipts(session, from, ReceiptKind::Delivered).await?,
            PhoneAction::Read { from } => self.receipts(session, from, ReceiptKind::Read).await?,
            PhoneAction::ListSent => return Ok(PhoneAnswer::Sent { sent: self.sent(session) }),
        }
        Ok(PhoneAnswer::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_as_tagged_json_and_phones_are_validated_when_read() {
        let phone = Phone::parse("6281234567890").unwrap();
        let act = PhoneAction::Incoming { from: phone, text: "hi".into(), external_id: Some("X1".into()) };
        let text = serde_json::to_string(&act).unwrap();
        assert!(text.contains(r#""act":"incoming""#) && text.contains(r#""from":"6281234567890""#), "{text}");
        assert_eq!(serde_json::from_str::<PhoneAction>(&text).unwrap(), act);
        let bad = r#"{"act":"delivered","from":"not a phone"}"#;
        assert!(serde_json::from_str::<PhoneAction>(bad).is_err());
    }
}
