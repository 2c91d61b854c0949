//! Counts failed logins per (email, IP) in a sliding window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<(String, String), Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Some(seconds to wait)` when this email+IP is locked out.
    pub fn check(&self, email: &str, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.get_mut(&(email.to_owned(), ip.to_owned()))?;
        entry.retain(|t| now.duration_since(*t) < self.window);
        if entry.len() as u32 >= self.max_failures {
            let oldest = entry.first().copied().unwrap_or(now);
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Some(wait.as_secs().max(1));
        }
        None
    }

    pub fn record_failure(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let now = Instant::now();
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        map.entry((email.to_owned(), ip.to_owned())).or_default().push(Instant::now());
    }

    pub fn reset(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(email.to_owned(), ip.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_per_email_and_ip() {
        let l = LoginLimiter::new(2, Duration::from_secs(60));
        assert!(l.check("a", "1").is_none());
        l.record_failure("a", "1");
        l.record_failure("a", "1");
        assert!(l.check("a", "1").is_some());
        assert!(l.check("a", "2").is_none());
        assert!(l.check("b", "1").is_none());
        l.reset("a", "1");
        assert!(l.check("a", "1").is_none());
    }
}
