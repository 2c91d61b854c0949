//! Waiting before trying again: exponential backoff with jitter, and optional
//! deadlines in `select!` loops.

use std::time::Duration;

use rand::Rng;

/// `base · 2^(attempt-1)`, capped at `cap`. Attempt 1 waits `base`.
pub fn exponential(base: Duration, attempt: u32, cap: Duration) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
    base.saturating_mul(factor).min(cap)
}

/// Adds up to 25 % random delay, so that many clients retrying after one event
/// (a receiver's outage, a network blip) do not come back in lockstep.
pub fn with_jitter(delay: Duration) -> Duration {
    let extra = rand::thread_rng().gen_range(0.0..0.25);
    delay + delay.mul_f64(extra)
}

/// Sleeps until `at`, or forever when there is no deadline.
pub async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_base_and_stops_at_the_cap() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(1);
        let waits: Vec<_> = (1..=6).map(|a| exponential(base, a, cap).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(exponential(base, 0, cap), base);
        assert_eq!(exponential(base, u32::MAX, cap), cap);
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        let d = Duration::from_millis(1000);
        for _ in 0..200 {
            let j = with_jitter(d);
            assert!(j >= d && j < d + d / 4, "{j:?}");
        }
    }
}
