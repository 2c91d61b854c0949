//! Brute-force bounds per client IP, across login, register and refresh:
//! `IpBudget` — so many attempts per window, whatever the email;
//! `HashGate` — at most `auth_ip_concurrent_hashes` password hashes in flight or queued per IP, so a
//! flood from one address cannot fill the (per-core) argon2 queue ahead of other
//! users' logins: its extra attempts are answered 429 at once instead of queueing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct IpBudget {
    max: u32,
    window: Duration,
    seen: Mutex<HashMap<String, Vec<Instant>>>,
}

impl IpBudget {
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max, window, seen: Mutex::new(HashMap::new()) }
    }

    /// Counts one attempt; `Err(seconds to wait)` when the IP has used its budget.
    pub fn spend(&self, ip: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        let times = map.entry(ip.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() as u32 >= self.max {
            let oldest = times.first().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1));
        }
        times.push(now);
        Ok(())
    }
}

#[derive(Clone)]
pub struct HashGate {
    per_ip: usize,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
}

/// Holds one of an IP's hashing places until dropped.
pub struct HashTicket {
    gate: HashGate,
    ip: String,
}

impl HashGate {
    pub fn new(per_ip: usize) -> Self {
        Self { per_ip: per_ip.max(1), in_flight: Arc::default() }
    }

    pub fn enter(&self, ip: &str) -> Option<HashTicket> {
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip.to_owned()).or_default();
        if *n >= self.per_ip {
            return None;
        }
        *n += 1;
        Some(HashTicket { gate: self.clone(), ip: ip.to_owned() })
    }
}

impl Drop for HashTicket {
    fn drop(&mut self) {
        let mut map = self.gate.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// "Try again in N minutes" (rounded up), or seconds under a minute.
pub fn wait_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=119 => "1 minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_gate() {
        let b = IpBudget::new(2, Duration::from_secs(60));
        assert!(b.spend("a").is_ok() && b.spend("a").is_ok());
        assert!(b.spend("a").is_err());
        assert!(b.spend("b").is_ok());
        let g = HashGate::new(2);
        let (t1, t2) = (g.enter("a"), g.enter("a"));
        assert!(t1.is_some() && t2.is_some() && g.enter("a").is_none() && g.enter("b").is_some());
        drop(t1);
        assert!(g.enter("a").is_some());
        assert_eq!(wait_text(900), "15 minutes");
        assert_eq!(wait_text(61), "1 minute");
    }
}
