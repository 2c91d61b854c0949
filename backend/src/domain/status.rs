//! Session statuses and the reasons attached to them (see the contract's table).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Status {
    Stopped,
    Starting,
    ScanQr,
    Pairing,
    Connected,
    Reconnecting,
    Failed,
    LoggedOut,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stopped => "stopped",
            Status::Starting => "starting",
            Status::ScanQr => "scan_qr",
            Status::Pairing => "pairing",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Failed => "failed",
            Status::LoggedOut => "logged_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "stopped" => Status::Stopped,
            "starting" => Status::Starting,
            "scan_qr" => Status::ScanQr,
            "pairing" => Status::Pairing,
            "connected" => Status::Connected,
            "reconnecting" => Status::Reconnecting,
            "failed" => Status::Failed,
            "logged_out" => Status::LoggedOut,
            _ => return None,
        })
    }

    /// The engine is running for this session.
    pub fn is_running(self) -> bool {
        matches!(self, Status::Starting | Status::ScanQr | Status::Pairing | Status::Connected | Status::Reconnecting)
    }

    /// Statuses that hold a phone number: at most one session per phone may be in one.
    pub fn holds_phone(self) -> bool {
        matches!(self, Status::Pairing | Status::Connected | Status::Reconnecting)
    }
}

/// `status_reason` codes.
pub mod reason {
    pub const QR_TIMEOUT: &str = "qr_timeout";
    pub const SCAN_FAILED: &str = "scan_failed";
    pub const AUTH_FAILED: &str = "auth_failed";
    pub const DUPLICATE_PHONE: &str = "duplicate_phone";
    pub const MAX_RETRIES: &str = "max_retries";
    pub const STREAM_REPLACED: &str = "stream_replaced";
    pub const TEMPORARY_BAN: &str = "temporary_ban";
    pub const NETWORK: &str = "network";
    pub const USER_STOP: &str = "user_stop";
    pub const INACTIVE: &str = "inactive";
    pub const USER_LOGOUT: &str = "user_logout";
    pub const DEVICE_REMOVED: &str = "device_removed";
    pub const SERVER_RESTART: &str = "server_restart";
    pub const START_TIMEOUT: &str = "start_timeout";
    /// Cluster: the session's node died and another node took it over.
    pub const NODE_LOST: &str = "node_lost";
    /// The server could not record a change of the session (database unavailable).
    pub const STORAGE_ERROR: &str = "storage_error";

    pub const ALL: &[&str] = &[
        QR_TIMEOUT,
        SCAN_FAILED,
        AUTH_FAILED,
        DUPLICATE_PHONE,
        MAX_RETRIES,
        STREAM_REPLACED,
        TEMPORARY_BAN,
        NETWORK,
        USER_STOP,
        INACTIVE,
        USER_LOGOUT,
        DEVICE_REMOVED,
        SERVER_RESTART,
        START_TIMEOUT,
        STORAGE_ERROR,
        NODE_LOST,
    ];

    /// The static code for a stored reason, if it is one wahub knows.
    pub fn known(stored: &str) -> Option<&'static str> {
        ALL.iter().copied().find(|r| *r == stored)
    }
}
