//! Retry hygiene: which failures are retried, how long to wait, when to give up.
//!
//! Retried: HTTP 408, 429, 500, 502, 503, 504, 529, connection failures and timeouts. Any other
//! status fails at once with the provider's message. Waits grow exponentially with full jitter
//! (uniform in [0, base·2ⁿ], capped), unless the provider asks for a wait with `retry-after-ms`
//! or `Retry-After`, which is honoured exactly. At most `max_attempts` attempts and `total` wall
//! time, attempts included: each attempt's timeout is cut to the time left, and a wait that would
//! leave no time for another attempt ends the call instead.
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

use crate::error::Error;
use crate::providers::AttemptError;

/// Statuses worth another attempt.
pub const RETRYABLE_STATUS: [u16; 7] = [408, 429, 500, 502, 503, 504, 529];

/// Retry settings. The defaults are the production ones; tests shrink the times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Most attempts per call (default 5).
    pub max_attempts: u32,
    /// Wall-time budget for the whole call, attempts and waits included (default 30 s).
    pub total: Duration,
    /// Timeout of one attempt (default 30 s; always cut to the time left).
    pub attempt_timeout: Duration,
    /// First backoff ceiling (default 500 ms); doubles per retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling (default 8 s).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            total: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(30),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// Check the settings make sense.
    pub fn validate(&self) -> Result<(), Error> {
        if self.max_attempts == 0 {
            return Err(Error::Config(
                "retry max_attempts must be at least 1".into(),
            ));
        }
        if self.total.is_zero() || self.attempt_timeout.is_zero() {
            return Err(Error::Config(
                "retry total and attempt_timeout must be > 0".into(),
            ));
        }
        Ok(())
    }
}

/// Whether an attempt's failure is worth another attempt.
pub fn retryable(e: &AttemptError) -> bool {
    match e {
        AttemptError::Status { status, .. } => RETRYABLE_STATUS.contains(status),
        AttemptError::Timeout | AttemptError::Connection(_) => true,
        AttemptError::Invalid(_) => false,
    }
}

/// Full jitter: uniform in [0, ceiling].
fn full_jitter(ceiling: Duration) -> Duration {
    let ns = ceiling.as_nanos().min(u64::MAX as u128) as u64;
    Duration::from_nanos(rand::random_range(0..=ns))
}

/// Run `op` (given each attempt's timeout) under `policy`. Returns the outcome and the number of
/// attempts made.
pub async fn run<T, F, Fut>(policy: &RetryPolicy, mut op: F) -> (Result<T, Error>, u32)
where
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let start = Instant::now();
    let attempts = AtomicU32::new(0);
    let backoff = ExponentialBuilder::default()
        .with_min_delay(policy.base_delay)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize);
    let left = || policy.total.saturating_sub(start.elapsed());
    let result = (|| {
        attempts.fetch_add(1, Ordering::Relaxed);
        op(policy.attempt_timeout.min(left()))
    })
    .retry(backoff)
    .when(retryable)
    .adjust(|e, ceiling| {
        let ceiling = ceiling?; // attempts used up
        let wait = match e {
            AttemptError::Status {
                retry_after: Some(d),
                ..
            } => *d,
            _ => full_jitter(ceiling),
        };
        // Another attempt needs some time after the wait.
        (wait + Duration::from_millis(1) < left()).then_some(wait)
    })
    .await;
    let n = attempts.load(Ordering::Relaxed);
    let out = result.map_err(|e| match e {
        AttemptError::Status {
            status, message, ..
        } if !RETRYABLE_STATUS.contains(&status) => Error::ProviderRejected { status, message },
        AttemptError::Timeout => Error::Timeout {
            attempts: n,
            elapsed: start.elapsed(),
        },
        AttemptError::Invalid(m) => Error::InvalidResponse(m),
        other => Error::ProviderUnavailable {
            attempts: n,
            last: other.to_string(),
        },
    });
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            ..RetryPolicy::default()
        }
    }

    fn status(code: u16) -> AttemptError {
        AttemptError::Status {
            status: code,
            message: "m".into(),
            retry_after: None,
        }
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts() {
        let (r, n) = run(&fast(), |_| async { Err::<(), _>(status(503)) }).await;
        assert_eq!(n, 5);
        assert!(matches!(
            r,
            Err(Error::ProviderUnavailable { attempts: 5, .. })
        ));
    }

    #[tokio::test]
    async fn other_4xx_is_not_retried() {
        let (r, n) = run(&fast(), |_| async { Err::<(), _>(status(404)) }).await;
        assert_eq!(n, 1);
        assert!(matches!(
            r,
            Err(Error::ProviderRejected { status: 404, .. })
        ));
    }

    #[tokio::test]
    async fn retry_after_beyond_the_budget_ends_the_call() {
        let p = RetryPolicy {
            total: Duration::from_millis(200),
            ..fast()
        };
        let start = Instant::now();
        let (r, n) = run(&p, |_| async {
            Err::<(), _>(AttemptError::Status {
                status: 429,
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(60)),
            })
        })
        .await;
        assert_eq!(n, 1);
        assert!(start.elapsed() < Duration::from_millis(100));
        assert!(matches!(r, Err(Error::ProviderUnavailable { .. })), "{r:?}");
    }

    #[test]
    fn jitter_stays_under_the_ceiling() {
        for _ in 0..1000 {
            assert!(full_jitter(Duration::from_millis(10)) <= Duration::from_millis(10));
        }
    }
}
