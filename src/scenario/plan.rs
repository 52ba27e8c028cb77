//! The scenario's `[retry]` and `[fallback]` tables resolved into the pure policy's types:
//! the policy never sees a scenario type (the dependency runs scenario → policy).

pub mod limits;

use crate::error::ErrorKind;
use crate::policy::breaker::{BreakerPolicy, Trip};
use crate::policy::budget::BudgetPolicy;
use crate::policy::{FallbackPolicy, RetryExtras, RetryPolicy, Secs};
use crate::scenario::types::{BreakerSpec, BudgetSpec, FallbackSpec, RetrySpec, Scenario};

/// A `[retry]` table as a policy: `retry_on` defaults to any error, `retry_after_max` to 60 s.
pub fn retry_policy(spec: &RetrySpec) -> RetryPolicy {
    RetryPolicy {
        stop: spec.stop.clone(),
        wait: spec.wait.clone(),
        retry_on: spec
            .retry_on
            .clone()
            .unwrap_or_else(|| vec![ErrorKind::Any]),
        reinsert: spec.reinsert.clone(),
        reinsert_mode: spec.reinsert_mode,
        honor_retry_after: spec.honor_retry_after,
        retry_after_max: spec.retry_after_max.unwrap_or(Secs(60.0)),
        seed: spec.seed.unwrap_or(0),
    }
}

/// A `[retry]` table's keys beyond Tenacity (DESIGN §15).
pub fn retry_extras(spec: &RetrySpec) -> RetryExtras {
    RetryExtras {
        retry_after_jitter: spec.retry_after_jitter.unwrap_or(Secs::ZERO),
        retry_after_over_max: spec.retry_after_over_max,
        stream_recovery: spec.stream_recovery,
        reinsert_keep: spec.reinsert_keep,
    }
}

/// Each hop's [`retry_extras`], as [`hop_policies`] picks its table (defaults without one).
pub fn hop_extras(s: &Scenario) -> Vec<RetryExtras> {
    let primary = s.retry.as_ref().map(retry_extras).unwrap_or_default();
    let mut out = vec![primary];
    if let Some(fb) = &s.fallback {
        out.extend(
            fb.hops
                .iter()
                .map(|hop| hop.retry.as_ref().map_or(primary, retry_extras)),
        );
    }
    out
}

/// The `[fallback]` table's catch lists: the primary's, then each hop's own.
pub fn fallback_policy(spec: &FallbackSpec) -> FallbackPolicy {
    let mut catch = vec![spec.catch.clone()];
    catch.extend(spec.hops.iter().map(|h| h.catch.clone()));
    FallbackPolicy { catch }
}

/// `[breaker]` as a policy: `failures = 5` when neither threshold is set, a `rate` over 20
/// attempts unless `window` says, a 30 s cooldown, one probe.
pub fn breaker_policy(spec: &BreakerSpec) -> BreakerPolicy {
    let trip = match (spec.failures, spec.rate) {
        (_, Some(rate)) if spec.failures.is_none() => Trip::Rate {
            rate,
            window: spec.window.unwrap_or(20),
        },
        (n, _) => Trip::Consecutive(n.unwrap_or(5)),
    };
    BreakerPolicy {
        trip,
        cooldown: spec.cooldown.unwrap_or(Secs(30.0)),
        half_open_probes: spec.half_open_probes.unwrap_or(1),
        on_open: spec.on_open,
    }
}

/// `[budget]` as a policy: tower's defaults, 20 % of calls and 10 a second.
pub fn budget_policy(spec: &BudgetSpec) -> BudgetPolicy {
    BudgetPolicy {
        retry_ratio: spec.retry_ratio.unwrap_or(0.2),
        min_retries_per_sec: spec.min_retries_per_sec.unwrap_or(10),
    }
}

/// The plan's lines for what lasts across calls: `breaker: …`, `budget: …`.
pub fn across_calls(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = &s.breaker {
        out.push(format!("breaker: {}", breaker_policy(b).describe()));
    }
    if let Some(b) = &s.budget {
        out.push(format!("budget: {}", budget_policy(b).describe()));
    }
    out
}

/// One retry policy per hop (index 0 = primary): a hop's own `retry`, else `[retry]`.
pub fn hop_policies(s: &Scenario) -> Vec<Option<RetryPolicy>> {
    let primary = s.retry.as_ref().map(retry_policy);
    let mut out = vec![primary.clone()];
    if let Some(fb) = &s.fallback {
        for hop in &fb.hops {
            out.push(
                hop.retry
                    .as_ref()
                    .map(retry_policy)
                    .or_else(|| primary.clone()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CallError;
    use crate::policy::{Decision, retry_on::decide};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(0)
    }

    #[test]
    fn breaker_and_budget_defaults() {
        let b: BreakerSpec = toml::from_str("").unwrap();
        let p = breaker_policy(&b);
        assert_eq!(p.trip, Trip::Consecutive(5));
        assert_eq!(p.cooldown, Secs(30.0));
        assert_eq!(p.half_open_probes, 1);
        let b: BreakerSpec = toml::from_str("rate = 0.5").unwrap();
        assert_eq!(
            breaker_policy(&b).trip,
            Trip::Rate {
                rate: 0.5,
                window: 20
            }
        );
        let b: BudgetSpec = toml::from_str("").unwrap();
        assert_eq!(
            budget_policy(&b),
            BudgetPolicy {
                retry_ratio: 0.2,
                min_retries_per_sec: 10
            }
        );
    }

    #[test]
    fn default_retry_on_is_any() {
        let spec: RetrySpec = toml::from_str("stop = { after_attempt = 2 }").unwrap();
        let p = retry_policy(&spec);
        assert_eq!(p.retry_on, vec![ErrorKind::Any]);
        assert!(p.honor_retry_after);
        assert_eq!(p.retry_after_max, Secs(60.0));
        let e = CallError::new(ErrorKind::Timeout, "t");
        assert!(matches!(
            decide(&p, 1, 0.0, &e, &mut rng()),
            Decision::Retry { .. }
        ));
    }
}
