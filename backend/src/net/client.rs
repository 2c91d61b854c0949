//! The HTTP client for user-given targets: every name it connects to is resolved by
//! `GuardedResolver`, which hands reqwest only allowed addresses — the address checked
//! is the address used, so a name cannot pass a check and then resolve elsewhere.
//! No redirects (a 3xx could point anywhere) and no proxy (it would do the connecting),
//! unless `outbound_proxy` names one: then every request goes through it and no target
//! name is resolved here.

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::target::TargetPolicy;

struct GuardedResolver {
    policy: TargetPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let addrs = policy.resolve(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

pub struct OutboundOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: &'static str,
    pub proxy: Option<String>,
}

pub fn outbound_client(policy: TargetPolicy, opts: OutboundOptions) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(opts.user_agent)
        .dns_resolver(Arc::new(GuardedResolver { policy }));
    match opts.proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::all(proxy)?).build(),
        None => builder.no_proxy().build(),
    }
}
