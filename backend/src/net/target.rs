//! A URL's target checked before wahub talks to it.

use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

use super::address::is_public;
use crate::error::Problem;

#[derive(Debug, Clone, Copy)]
pub struct TargetPolicy {
    /// Loopback and private targets too (tests, trusted single-tenant installs).
    pub allow_private: bool,
    /// Requests go through `outbound_proxy`: names are the proxy's to resolve, never ours.
    pub proxied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Resolves to an address wahub must not call; the text names no address.
    #[error("the target is not a public address")]
    NotAllowed,
    /// Cannot be resolved or reached; deliberately says no more (no OS error, no port state).
    #[error("the target is unreachable")]
    Unreachable,
}

impl TargetPolicy {
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            allow_private: settings.webhooks.allow_private_targets,
            proxied: settings.webhooks.outbound_proxy.is_some(),
        }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// The addresses `host:port` resolves to, all allowed, or why not. A name with any
    /// refused address is refused whole (it is someone's way in).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, TargetError> {
        let found: Vec<SocketAddr> =
            tokio::net::lookup_host((host, port)).await.map_err(|_| TargetError::Unreachable)?.collect();
        if found.is_empty() {
            return Err(TargetError::Unreachable);
        }
        if found.iter().any(|a| !self.allows(a.ip())) {
            return Err(TargetError::NotAllowed);
        }
        Ok(found)
    }
}

/// Checks a URL whose host is an address literal (the resolver never sees those); names
/// pass here and are checked by the outbound client's resolver when it connects.
pub fn check_literal(policy: TargetPolicy, url: &Url) -> Result<(), TargetError> {
    match url.host().ok_or(TargetError::Unreachable)? {
        Host::Ipv4(ip) => policy.allows(IpAddr::V4(ip)).then_some(()).ok_or(TargetError::NotAllowed),
        Host::Ipv6(ip) => policy.allows(IpAddr::V6(ip)).then_some(()).ok_or(TargetError::NotAllowed),
        Host::Domain(_) => Ok(()),
    }
}

/// Checks an http(s) URL's host: literal addresses directly (the URL parser has already
/// turned `127.1`, `2130706433` and `0x7f000001` into 127.0.0.1), names by resolving them.
pub async fn check_url(policy: TargetPolicy, url: &Url) -> Result<(), TargetError> {
    let port = url.port_or_known_default().ok_or(TargetError::Unreachable)?;
    match url.host().ok_or(TargetError::Unreachable)? {
        Host::Domain(_) if policy.proxied => Ok(()),
        Host::Domain(name) => policy.resolve(name, port).await.map(|_| ()),
        _ => check_literal(policy, url),
    }
}

/// Refuses a URL whose host is, or resolves to, an address wahub must not call (SSRF).
/// A name that does not resolve (yet) is accepted: it is checked again at every delivery.
pub async fn public_target(policy: TargetPolicy, url: &str) -> Result<(), Problem> {
    let parsed = url::Url::parse(url).map_err(|_| Problem::validation("url must be an absolute http(s) URL."))?;
    match check_url(policy, &parsed).await {
        Err(TargetError::NotAllowed) => Err(Problem::unprocessable(
            "target_not_allowed",
            "url must point at a public address, not loopback, private, link-local or multicast.",
        )),
        Ok(()) | Err(TargetError::Unreachable) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy { allow_private: false, proxied: false };

    #[tokio::test]
    async fn odd_spellings_of_loopback_are_refused() {
        for raw in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://0/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
        ] {
            let url = Url::parse(raw).unwrap();
            assert!(check_url(STRICT, &url).await.is_err(), "{raw} must be refused");
            assert!(
                check_url(TargetPolicy { allow_private: true, proxied: false }, &url).await.is_ok()
                    || raw.contains("LOCALHOST.")
            );
        }
    }

    #[tokio::test]
    async fn behind_a_proxy_names_are_not_resolved_here() {
        let proxied = TargetPolicy { allow_private: false, proxied: true };
        // `.invalid` never resolves; checking it would fail as Unreachable.
        assert_eq!(check_url(proxied, &Url::parse("https://hooks.example.invalid/x").unwrap()).await, Ok(()));
        assert!(check_url(proxied, &Url::parse("http://127.0.0.1/").unwrap()).await.is_err());
        assert!(check_url(STRICT, &Url::parse("https://hooks.example.invalid/x").unwrap()).await.is_err());
    }

    #[tokio::test]
    async fn public_literals_pass_without_any_network() {
        assert_eq!(check_url(STRICT, &Url::parse("https://93.184.216.34/hook").unwrap()).await, Ok(()));
        assert_eq!(check_url(STRICT, &Url::parse("https://[2606:4700::1111]/").unwrap()).await, Ok(()));
    }
}
