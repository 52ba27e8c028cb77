//! `[sim].limits`: one token bucket per provider+model, shared by every request the server
//! sees (every caller), refilling on the run clock. A request takes a token or, when the
//! bucket is empty, gets a 429 saying exactly when the next token frees.
//!
//! Kept as GCRA (a "theoretical arrival time") in integer units of 1/rpm ns, so the times
//! are exact: at `rpm = 60, burst = 2` the third request at t = 0 waits exactly 1 s, and a
//! retry at that moment is let in (no float drift turning it into another 429).

use crate::scenario::types::{LimitSpec, ProviderKind};
use std::time::Duration;

const NANOS_PER_MINUTE: u128 = 60_000_000_000;

/// What a limited request learns: for the `x-ratelimit-*` headers and, when refused, the
/// Retry-After.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitInfo {
    /// Requests per minute.
    pub limit: u32,
    /// Requests left in the bucket after this one.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
    /// `Some` = refused: the time until a token frees.
    pub retry_after: Option<Duration>,
}

#[derive(Debug)]
struct Bucket {
    provider: ProviderKind,
    model: String,
    rpm: u128,
    burst: u128,
    /// When the bucket would be full again, in 1/rpm ns (run-clock time × rpm).
    tat: u128,
}

/// Every bucket of a server.
#[derive(Debug, Default)]
pub struct Limits {
    buckets: Vec<Bucket>,
}

impl Limits {
    pub fn new(specs: &[LimitSpec]) -> Limits {
        let buckets = specs
            .iter()
            .map(|l| Bucket {
                provider: l.provider,
                model: l.model.clone(),
                rpm: u128::from(l.rpm.max(1)),
                burst: u128::from(l.burst.unwrap_or(l.rpm).max(1)),
                tat: 0,
            })
            .collect();
        Limits { buckets }
    }

    /// Takes a token for a request at `now` (run clock) from the first bucket that matches,
    /// or says how long until one frees. `None` when no limit covers the request.
    pub fn take(
        &mut self,
        provider: ProviderKind,
        model: &str,
        now: Duration,
    ) -> Option<LimitInfo> {
        let b = self
            .buckets
            .iter_mut()
            .find(|b| b.provider == provider && b.model == model)?;
        // One request costs a minute in these units; the bucket holds `burst` of them.
        let step = NANOS_PER_MINUTE;
        let t = now.as_nanos().saturating_mul(b.rpm);
        let tolerance = (b.burst - 1) * step;
        let tat = b.tat.max(t);
        let limit = u32::try_from(b.rpm).unwrap_or(u32::MAX);
        if tat - t > tolerance {
            let wait = tat - t - tolerance;
            return Some(LimitInfo {
                limit,
                remaining: 0,
                reset: to_duration(tat - t, b.rpm),
                retry_after: Some(to_duration(wait, b.rpm)),
            });
        }
        b.tat = tat + step;
        let used = (b.tat - t).div_ceil(step);
        Some(LimitInfo {
            limit,
            remaining: u32::try_from(b.burst.saturating_sub(used)).unwrap_or(u32::MAX),
            reset: to_duration(b.tat - t, b.rpm),
            retry_after: None,
        })
    }
}

/// `units` of 1/rpm ns as a Duration, rounded up to the nanosecond (a client that waits
/// that long always finds the token).
fn to_duration(units: u128, rpm: u128) -> Duration {
    let nanos = units.div_ceil(rpm);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderKind::Openai;

    fn limits(rpm: u32, burst: Option<u32>) -> Limits {
        Limits::new(&[LimitSpec {
            provider: Openai,
            model: "m".into(),
            rpm,
            burst,
        }])
    }

    #[test]
    fn burst_then_one_token_per_interval() {
        let mut l = limits(60, Some(2));
        let at = |l: &mut Limits, s: f64| l.take(Openai, "m", Duration::from_secs_f64(s)).unwrap();
        let first = at(&mut l, 0.0);
        assert_eq!((first.remaining, first.retry_after), (1, None));
        assert_eq!(at(&mut l, 0.0).remaining, 0);
        let third = at(&mut l, 0.0);
        assert_eq!(third.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(third.reset, Duration::from_secs(2));
        // Half a second later the wait is half a second; at 1 s the token is there.
        assert_eq!(
            at(&mut l, 0.5).retry_after,
            Some(Duration::from_millis(500))
        );
        assert_eq!(at(&mut l, 1.0).retry_after, None);
        assert_eq!(at(&mut l, 1.0).retry_after, Some(Duration::from_secs(1)));
        // Long idle refills to the burst, never beyond.
        assert_eq!(at(&mut l, 100.0).remaining, 1);
        assert!(l.take(Openai, "other", Duration::ZERO).is_none());
    }

    #[test]
    fn odd_rates_stay_exact_and_burst_defaults_to_rpm() {
        let mut l = limits(7, None);
        for _ in 0..7 {
            assert_eq!(
                l.take(Openai, "m", Duration::ZERO).unwrap().retry_after,
                None
            );
        }
        let wait = l
            .take(Openai, "m", Duration::ZERO)
            .unwrap()
            .retry_after
            .unwrap();
        // 60 s / 7, rounded up to the nanosecond.
        assert_eq!(wait, Duration::from_nanos(8_571_428_572));
        assert_eq!(l.take(Openai, "m", wait).unwrap().retry_after, None);
    }
}
