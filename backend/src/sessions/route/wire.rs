//! What travels between nodes when a command is forwarded to a session's owner.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::sim_phone::{PhoneAction, PhoneAnswer};
use crate::error::Problem;
use crate::sessions::types::QrOut;

/// A command for a session, as the owning node executes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RemoteCommand {
    Start {
        session_id: Uuid,
        force_relink: bool,
    },
    Stop {
        session_id: Uuid,
    },
    Logout {
        session_id: Uuid,
    },
    PairCode {
        session_id: Uuid,
        phone: String,
    },
    Flush {
        session_id: Uuid,
    },
    /// The QR code the owner has on offer (reads only).
    Qr {
        session_id: Uuid,
    },
    /// An action of the session's simulated phone, which lives in the owner's process.
    Phone {
        session_id: Uuid,
        action: PhoneAction,
    },
}

impl RemoteCommand {
    pub fn session_id(&self) -> Uuid {
        match self {
            Self::Start { session_id, .. }
            | Self::Stop { session_id }
            | Self::Logout { session_id }
            | Self::PairCode { session_id, .. }
            | Self::Flush { session_id }
            | Self::Qr { session_id }
            | Self::Phone { session_id, .. } => *session_id,
        }
    }
}

/// The owner's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RemoteReply {
    Done,
    PairCode { code: String, expires_at: DateTime<Utc> },
    Qr { qr: Option<QrOut> },
    Phone { answer: PhoneAnswer },
    Problem { status: u16, code: String, detail: String },
}

impl RemoteReply {
    pub fn problem(p: &Problem) -> Self {
        Self::Problem { status: p.status.as_u16(), code: p.code.to_owned(), detail: p.detail.clone() }
    }

    /// The owner's problem as this node answers it.
    pub fn into_problem(status: u16, code: &str, detail: String) -> Problem {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        Problem::new(status, known_code(code), detail)
    }
}

/// Problem codes are `&'static str`: a code from another node maps to the same one here
/// (nodes run the same version), anything unknown to a generic one.
fn known_code(code: &str) -> &'static str {
    const KNOWN: [&str; 16] = [
        "not_found",
        "session_busy",
        "unavailable",
        "internal",
        "already_paired",
        "pair_code_failed",
        "phone_in_use",
        "session_not_started",
        "no_qr",
        "storage_unavailable",
        "invalid_phone",
        "validation_failed",
        "instance_limit_reached",
        "session_owner_unavailable",
        "name_taken",
        "session_not_connected",
    ];
    KNOWN.into_iter().find(|k| *k == code).unwrap_or("owner_error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_as_tagged_json() {
        let id = Uuid::new_v4();
        let cmd = RemoteCommand::PairCode { session_id: id, phone: "6281234567890".into() };
        let text = serde_json::to_string(&cmd).unwrap();
        assert!(text.contains(r#""op":"pair_code""#), "{text}");
        assert_eq!(serde_json::from_str::<RemoteCommand>(&text).unwrap(), cmd);
        assert_eq!(cmd.session_id(), id);
    }

    #[test]
    fn an_owner_problem_keeps_status_and_known_code() {
        let p = RemoteReply::into_problem(409, "phone_in_use", "taken".into());
        assert_eq!((p.status.as_u16(), p.code), (409, "phone_in_use"));
        let p = RemoteReply::into_problem(409, "something_new", "x".into());
        assert_eq!(p.code, "owner_error");
        let p = RemoteReply::into_problem(1, "internal", "x".into());
        assert_eq!(p.status, StatusCode::BAD_GATEWAY);
    }
}
