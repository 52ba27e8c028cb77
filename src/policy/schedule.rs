//! The planned schedule for the preview and `retrylab check`: the attempts and waits a hop
//! makes when every attempt fails with a retryable error and no Retry-After, computed with
//! the same decision code and seed as a run, plus each wait's jitter range and the worst case.

use super::extras::RetryExtras;
use super::retry_after::Failed;
use super::retry_on::{Decision, RetryPolicy, decide_with};
use crate::error::{CallError, ErrorKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Beyond this many attempts a hop's plan is cut and marked unbounded.
pub const PLAN_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Attempt(u32),
    /// Seconds, with the jitter range `(lo, hi)`.
    Wait {
        after_attempt: u32,
        secs: f64,
        lo: f64,
        hi: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct HopPlan {
    pub steps: Vec<Step>,
    pub attempts: u32,
    pub total_wait: f64,
    /// Sum of each wait's upper bound.
    pub total_wait_max: f64,
    /// How the hop ends when every attempt fails: `retry_error`, or the raw error when there
    /// is no `[retry]` table.
    pub ends_with: ErrorKind,
    /// The stop never triggers within [`PLAN_LIMIT`] attempts (or there is no stop).
    pub unbounded: bool,
}

/// The whole plan: one entry per hop (0 = primary).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub hops: Vec<HopPlan>,
}

impl Schedule {
    /// Worst case across every hop: attempts (each one HTTP request).
    pub fn worst_attempts(&self) -> u32 {
        self.hops.iter().map(|h| h.attempts).sum()
    }

    pub fn worst_total_wait(&self) -> f64 {
        self.hops.iter().map(|h| h.total_wait_max).sum()
    }

    pub fn unbounded(&self) -> bool {
        self.hops.iter().any(|h| h.unbounded)
    }
}

/// Plans one hop. `attempt_secs` is how long each failing attempt is assumed to take (it
/// matters for delay-based stops).
pub fn plan_hop(policy: Option<&RetryPolicy>, attempt_secs: f64) -> HopPlan {
    let Some(policy) = policy else {
        return HopPlan {
            steps: vec![Step::Attempt(1)],
            attempts: 1,
            total_wait: 0.0,
            total_wait_max: 0.0,
            ends_with: ErrorKind::Any,
            unbounded: false,
        };
    };
    // An error an attempt can fail with that the policy retries on; when it retries none
    // (`retry_on = []`, or only run-level kinds), any attempt error is re-raised as is.
    let attempt_kind =
        |k: &ErrorKind| !matches!(k, ErrorKind::RetryError | ErrorKind::FallbackError);
    let kind = if ErrorKind::ServerError.is_in(&policy.retry_on) {
        ErrorKind::ServerError
    } else {
        policy
            .retry_on
            .iter()
            .copied()
            .find(attempt_kind)
            .unwrap_or(ErrorKind::ServerError)
    };
    let error = CallError::new(kind, "planned failure");
    let mut rng = ChaCha8Rng::seed_from_u64(policy.seed);
    let mut steps = Vec::new();
    let mut elapsed = 0.0;
    let (mut total, mut total_max) = (0.0, 0.0);
    // The previous wait and its range: a decorrelated jitter grows from it.
    let (mut previous_wait, mut previous_range) = (None, None);
    for attempt in 1..=PLAN_LIMIT {
        steps.push(Step::Attempt(attempt));
        elapsed += attempt_secs;
        let failed = Failed {
            attempt,
            elapsed,
            previous_wait,
        };
        match decide_with(policy, &RetryExtras::default(), failed, &error, &mut rng) {
            Decision::Retry { wait, .. } => {
                let (lo, hi) = policy
                    .wait
                    .as_ref()
                    .map_or((0.0, 0.0), |w| w.range_after(attempt, previous_range));
                previous_wait = Some(wait.delay);
                previous_range = Some((lo, hi));
                steps.push(Step::Wait {
                    after_attempt: attempt,
                    secs: wait.delay,
                    lo,
                    hi,
                });
                total += wait.delay;
                total_max += hi.max(wait.delay);
                elapsed += wait.delay;
            }
            Decision::Stop { .. } => {
                return HopPlan {
                    steps,
                    attempts: attempt,
                    total_wait: total,
                    total_wait_max: total_max,
                    ends_with: ErrorKind::RetryError,
                    unbounded: false,
                };
            }
            Decision::Reraise { .. } => {
                return HopPlan {
                    steps,
                    attempts: attempt,
                    total_wait: total,
                    total_wait_max: total_max,
                    // The attempt's own error, as without a [retry] table.
                    ends_with: ErrorKind::Any,
                    unbounded: false,
                };
            }
        }
    }
    HopPlan {
        steps,
        attempts: PLAN_LIMIT,
        total_wait: total,
        total_wait_max: total_max,
        ends_with: ErrorKind::RetryError,
        unbounded: true,
    }
}

/// Plans every hop: `policies[0]` is the primary's.
pub fn plan(policies: &[Option<RetryPolicy>], attempt_secs: f64) -> Schedule {
    Schedule {
        hops: policies
            .iter()
            .map(|p| plan_hop(p.as_ref(), attempt_secs))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::wait::{ExponentialParams, RandomParams};
    use crate::policy::{ReinsertMode, Secs, Stop, Wait};

    fn basic() -> RetryPolicy {
        RetryPolicy {
            stop: Some(Stop::AfterAttempt(3)),
            wait: Some(Wait::Exponential(ExponentialParams {
                multiplier: 1.0,
                exp_base: 2.0,
                min: Secs(4.0),
                max: Secs(10.0),
            })),
            retry_on: vec![ErrorKind::Any],
            reinsert: vec![],
            reinsert_mode: ReinsertMode::Template,
            honor_retry_after: true,
            retry_after_max: Secs(60.0),
            seed: 0,
        }
    }

    #[test]
    fn mirascope_basic_plan() {
        let h = plan_hop(Some(&basic()), 0.0);
        assert_eq!(
            h.steps,
            vec![
                Step::Attempt(1),
                Step::Wait {
                    after_attempt: 1,
                    secs: 4.0,
                    lo: 4.0,
                    hi: 4.0
                },
                Step::Attempt(2),
                Step::Wait {
                    after_attempt: 2,
                    secs: 4.0,
                    lo: 4.0,
                    hi: 4.0
                },
                Step::Attempt(3),
            ]
        );
        assert_eq!(h.attempts, 3);
        assert_eq!(h.total_wait, 8.0);
        assert_eq!(h.ends_with, ErrorKind::RetryError);
        assert!(!h.unbounded);
    }

    #[test]
    fn a_policy_that_retries_nothing_plans_one_attempt_ending_with_the_error_itself() {
        // Tenacity re-raises an error its predicate does not retry: no retry_error. With
        // `retry_on = []` (or only run-level kinds, which no attempt fails with) every
        // attempt error is re-raised at once.
        for retry_on in [
            vec![],
            vec![ErrorKind::RetryError],
            vec![ErrorKind::FallbackError],
        ] {
            let mut p = basic();
            p.retry_on = retry_on.clone();
            let h = plan_hop(Some(&p), 0.0);
            assert_eq!(h.steps, vec![Step::Attempt(1)], "{retry_on:?}");
            assert_eq!(h.attempts, 1);
            assert_ne!(h.ends_with, ErrorKind::RetryError, "{retry_on:?}");
        }
        // A concrete kind is planned as retried.
        let mut p = basic();
        p.retry_on = vec![ErrorKind::RetryError, ErrorKind::RateLimit];
        assert_eq!(plan_hop(Some(&p), 0.0).attempts, 3);
    }

    #[test]
    fn no_retry_table_is_one_attempt() {
        let h = plan_hop(None, 0.0);
        assert_eq!(h.steps, vec![Step::Attempt(1)]);
        assert_eq!(h.attempts, 1);
    }

    #[test]
    fn no_stop_is_unbounded() {
        let mut p = basic();
        p.stop = None;
        let h = plan_hop(Some(&p), 0.0);
        assert!(h.unbounded);
        assert_eq!(h.attempts, PLAN_LIMIT);
    }

    #[test]
    fn delay_stop_counts_attempt_time() {
        let mut p = basic();
        p.stop = Some(Stop::AfterDelay(Secs(10.0)));
        // attempts take 1 s: t=1 fail, wait 4 -> 5, t=6 fail, wait 4 -> 10, t=11 fail: stop.
        let h = plan_hop(Some(&p), 1.0);
        assert_eq!(h.attempts, 3);
    }

    #[test]
    fn jitter_ranges_and_worst_case() {
        let mut p = basic();
        p.wait = Some(Wait::Random(RandomParams {
            min: Secs(1.0),
            max: Secs(3.0),
        }));
        let s = plan(&[Some(p.clone()), Some(p)], 0.0);
        assert_eq!(s.worst_attempts(), 6);
        assert_eq!(s.worst_total_wait(), 12.0);
        for h in &s.hops {
            for step in &h.steps {
                if let Step::Wait { secs, lo, hi, .. } = step {
                    assert_eq!((*lo, *hi), (1.0, 3.0));
                    assert!(*secs >= 1.0 && *secs < 3.0);
                }
            }
        }
    }

    #[test]
    fn decorrelated_jitter_plans_its_range_per_attempt() {
        let mut p = basic();
        p.stop = Some(Stop::AfterAttempt(5));
        p.wait = Some(Wait::DecorrelatedJitter(
            crate::policy::wait::DecorrelatedParams {
                base: Secs(1.0),
                max: Secs(20.0),
            },
        ));
        let h = plan_hop(Some(&p), 0.0);
        let waits: Vec<(f64, f64, f64)> = h
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Wait { secs, lo, hi, .. } => Some((*secs, *lo, *hi)),
                Step::Attempt(_) => None,
            })
            .collect();
        // 1-3 s, 1-9 s, 1-20 s (27 capped), 1-20 s; each draw inside its range and at most
        // three times the one before (the plan feeds each wait into the next, as a run does).
        let ranges: Vec<(f64, f64)> = waits.iter().map(|w| (w.1, w.2)).collect();
        assert_eq!(
            ranges,
            vec![(1.0, 3.0), (1.0, 9.0), (1.0, 20.0), (1.0, 20.0)]
        );
        for (i, (secs, lo, hi)) in waits.iter().enumerate() {
            assert!(secs >= lo && secs <= hi, "wait {i}: {secs}");
            if i > 0 {
                assert!(*secs <= 3.0 * waits[i - 1].0 + 1e-12);
            }
        }
        assert_eq!(h.total_wait_max, 3.0 + 9.0 + 20.0 + 20.0);
    }
}
