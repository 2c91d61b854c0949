//! Browsers send `Origin` on WebSocket upgrades and do not apply CORS to them: without
//! this check any page could open the stream with a victim's `?token=` (or cookies, if
//! they were ever used). Allowed: no `Origin` (not a browser), the server's own origin
//! (same host and port as `Host`), and the configured `ws_allowed_origins`.

use poem::http::{header, HeaderMap};

use crate::config::WsSettings;

pub fn allowed(headers: &HeaderMap, settings: &WsSettings) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let origin = origin.trim_end_matches('/');
    if settings.allowed_origins().any(|o| o.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_listed_or_none() {
        let s = WsSettings { ws_allowed_origins: "https://dash.example.com/".into(), ..WsSettings::default() };
        assert!(allowed(&headers(None, "wahub:8080"), &s));
        assert!(allowed(&headers(Some("http://wahub:8080"), "wahub:8080"), &s));
        assert!(allowed(&headers(Some("https://wahub:8080"), "wahub:8080"), &s));
        assert!(allowed(&headers(Some("https://dash.example.com"), "wahub:8080"), &s));
        assert!(!allowed(&headers(Some("http://wahub:8081"), "wahub:8080"), &s));
        assert!(!allowed(&headers(Some("http://wahub:8080.evil.example"), "wahub:8080"), &s));
        assert!(!allowed(&headers(Some("null"), "wahub:8080"), &s));
    }
}
