//! The guard around whatsapp-rust's `danger-skip-cert-chain-verify`.
//!
//! wahub's test builds enable that feature so the whatsapp engine can link to the
//! offline wa-peer, whose Noise certificate chain is self-signed. A binary built with
//! it must never talk to anything but loopback: [`check_ws_url`] refuses every other
//! URL, including WhatsApp's default one. Normal builds verify the chain against
//! WhatsApp's root key and accept any URL.

/// Whether this build skips the certificate-chain check.
pub const SKIPS_CERT_CHECK: bool = cfg!(feature = "danger-skip-cert-chain-verify");

/// `Err` with the reason when this build may not connect to `ws_url` (`None`: WhatsApp's).
pub fn check_ws_url(ws_url: Option<&str>) -> Result<(), String> {
    if !SKIPS_CERT_CHECK {
        return Ok(());
    }
    match ws_url.and_then(|u| url::Url::parse(u).ok()) {
        Some(u) if is_loopback(&u) => Ok(()),
        _ => Err("this build skips WhatsApp's certificate check (test feature) and connects only to a loopback URL"
            .to_owned()),
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_allowed_when_the_check_is_skipped() {
        if SKIPS_CERT_CHECK {
            assert!(check_ws_url(None).is_err());
            assert!(check_ws_url(Some("wss://web.whatsapp.com/ws/chat")).is_err());
            assert!(check_ws_url(Some("ws://10.0.0.1:80/ws/chat")).is_err());
            assert!(check_ws_url(Some("ws://127.0.0.1:9/ws/chat")).is_ok());
            assert!(check_ws_url(Some("ws://[::1]:9/ws/chat")).is_ok());
        } else {
            assert!(check_ws_url(None).is_ok());
            assert!(check_ws_url(Some("wss://web.whatsapp.com/ws/chat")).is_ok());
        }
    }
}
