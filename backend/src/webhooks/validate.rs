//! Checks on what users register: where we may POST, and which events exist.

use crate::error::Problem;

/// Every event name a webhook can subscribe to (CONTRACT.md §5).
pub const EVENTS: &[&str] = &[
    "session.created",
    "session.updated",
    "session.deleted",
    "session.status",
    "session.qr",
    "session.pair_code",
    "session.primary",
    "message.received",
    "message.updated",
];

const MAX_URL_LEN: usize = 2048;

/// An absolute http(s) URL with a host, without credentials.
pub fn url(raw: &str) -> Result<String, Problem> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(Problem::validation("url is at most 2048 characters."));
    }
    let parsed = url::Url::parse(raw).map_err(|_| Problem::validation("url must be an absolute http(s) URL."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Problem::validation("url must use http or https."));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Problem::validation("url needs a host."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Problem::validation(
            "url must not contain credentials; verify requests with the signature instead.",
        ));
    }
    Ok(parsed.to_string())
}

/// Known names, `<prefix>.*` for a known prefix, or `*`; duplicates dropped.
pub fn events(raw: &[crate::domain::Text]) -> Result<Vec<String>, Problem> {
    if raw.is_empty() {
        return Err(Problem::validation("events must not be empty; omit it or use [\"*\"] for every event."));
    }
    let mut out: Vec<String> = Vec::new();
    for pattern in raw {
        let p = pattern.trim();
        let known = p == "*"
            || EVENTS.contains(&p)
            || p.strip_suffix(".*").is_some_and(|prefix| EVENTS.iter().any(|e| e.split('.').next() == Some(prefix)));
        if !known {
            return Err(Problem::validation(format!(
                "Unknown event {p:?}; use one of {}, a prefix like \"session.*\", or \"*\".",
                EVENTS.join(", ")
            )));
        }
        if !out.iter().any(|e| e == p) {
            out.push(p.to_owned());
        }
    }
    Ok(out)
}

pub fn secret(raw: &str) -> Result<String, Problem> {
    let n = raw.chars().count();
    if !(16..=256).contains(&n) {
        return Err(Problem::validation("secret must be 16 to 256 characters."));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Text;

    fn list(items: &[&str]) -> Vec<Text> {
        items.iter().map(|s| Text(s.to_string())).collect()
    }

    #[test]
    fn urls() {
        assert!(url("https://example.com/hook").is_ok());
        assert!(url("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in [
            "ftp://example.com",
            "file:///etc/passwd",
            "example.com/hook",
            "javascript:alert(1)",
            "http://u:p@example.com",
            "",
        ] {
            assert!(url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_patterns() {
        assert_eq!(events(&list(&["*"])).unwrap(), vec!["*"]);
        assert_eq!(
            events(&list(&["session.*", "message.received", "session.*"])).unwrap(),
            vec!["session.*", "message.received"]
        );
        assert!(events(&list(&["message.sent"])).is_err());
        assert!(events(&list(&["bogus.*"])).is_err());
        assert!(events(&list(&["session.qr.*"])).is_err());
        assert!(events(&[]).is_err());
    }
}
