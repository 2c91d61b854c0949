//! What an attempt's result means for the delivery, and when to try again.

use std::time::Duration;

use crate::domain::backoff::{exponential, with_jitter};

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The result of one HTTP attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver answered with this status.
    Status { code: u16, retry_after: Option<Duration> },
    /// No answer: connection refused, timeout, TLS error...
    Transport(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    /// Retrying would not help (the receiver refused the request itself).
    GiveUp,
}

pub fn verdict(attempt: &Attempt) -> Verdict {
    match attempt {
        Attempt::Transport(_) => Verdict::Retry,
        Attempt::Status { code, .. } => match code {
            200..=299 => Verdict::Delivered,
            408 | 429 => Verdict::Retry,
            500..=599 => Verdict::Retry,
            // 1xx/3xx (redirects are not followed) and other 4xx.
            _ => Verdict::GiveUp,
        },
    }
}

/// `base · 2^(attempt-1)`, capped, plus up to 25 % random jitter so that many
/// failing deliveries do not hit a recovering receiver in lockstep.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    with_jitter(exponential(base, attempt, MAX_BACKOFF))
}

/// The next wait, honoring a receiver's `Retry-After` when it asks for longer.
pub fn next_delay(base: Duration, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let own = backoff(base, attempt);
    match retry_after {
        Some(asked) if asked > own => asked.min(MAX_BACKOFF),
        _ => own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Attempt {
        Attempt::Status { code, retry_after: None }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert_eq!(verdict(&status(200)), Verdict::Delivered);
        assert_eq!(verdict(&status(204)), Verdict::Delivered);
        assert_eq!(verdict(&status(500)), Verdict::Retry);
        assert_eq!(verdict(&status(503)), Verdict::Retry);
        assert_eq!(verdict(&status(408)), Verdict::Retry);
        assert_eq!(verdict(&status(429)), Verdict::Retry);
        assert_eq!(verdict(&Attempt::Transport("refused".into())), Verdict::Retry);
        assert_eq!(verdict(&status(400)), Verdict::GiveUp);
        assert_eq!(verdict(&status(404)), Verdict::GiveUp);
        assert_eq!(verdict(&status(410)), Verdict::GiveUp);
        assert_eq!(verdict(&status(301)), Verdict::GiveUp);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        let base = Duration::from_millis(100);
        for (attempt, nominal) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
            let d = backoff(base, attempt).as_millis();
            assert!(d >= nominal && d <= nominal * 5 / 4, "attempt {attempt}: {d}");
        }
        assert!(backoff(base, 60) <= MAX_BACKOFF + MAX_BACKOFF / 4);
        assert!(backoff(Duration::from_secs(2), 40) >= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_can_only_lengthen_the_wait() {
        let base = Duration::from_millis(100);
        assert!(next_delay(base, 1, Some(Duration::from_secs(5))) == Duration::from_secs(5));
        assert!(next_delay(base, 1, Some(Duration::from_millis(1))) >= base);
        assert_eq!(next_delay(base, 1, Some(Duration::from_secs(86_400))), MAX_BACKOFF);
    }
}
