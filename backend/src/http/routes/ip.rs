//! The caller's address as the audit log and the login limiter record it.

use poem::web::RemoteAddr;

pub fn client_ip(addr: &RemoteAddr) -> String {
    addr.as_socket_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}
