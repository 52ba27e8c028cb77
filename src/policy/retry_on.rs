//! One decision after a failed attempt, in Tenacity's order: the retry predicate
//! (`retry_on`), then the wait (with Retry-After), then the stop check.

use super::extras::RetryExtras;
use super::retry_after::{Failed, jitter};
use super::{ReinsertMode, Secs, Stop, Wait, duration::MAX_WAIT, stop::StopState};
use crate::error::{CallError, ErrorKind};
use rand::Rng;

/// A hop's retry policy (the scenario's `[retry]` table resolves into it: `scenario::plan`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// `None` retries forever.
    pub stop: Option<Stop>,
    /// `None` retries at once.
    pub wait: Option<Wait>,
    pub retry_on: Vec<ErrorKind>,
    pub reinsert: Vec<ErrorKind>,
    pub reinsert_mode: ReinsertMode,
    pub honor_retry_after: bool,
    pub retry_after_max: Secs,
    pub seed: u64,
}

impl RetryPolicy {
    /// Whether the text of a failed attempt of this kind goes into the next call.
    pub fn reinserts(&self, kind: ErrorKind) -> bool {
        kind.is_in(&self.reinsert)
    }

    pub fn retry_on_text(&self) -> String {
        kinds_text(&self.retry_on)
    }

    /// The strategy name for events and the timeline.
    pub fn strategy(&self) -> String {
        self.wait
            .as_ref()
            .map_or_else(|| "wait_none".into(), Wait::describe)
    }
}

pub(crate) fn kinds_text(kinds: &[ErrorKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    format!("[{}]", names.join(", "))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitSource {
    /// The back-off formula set the wait.
    Backoff,
    /// The server's Retry-After was longer and set it.
    RetryAfter,
    /// The server's `RetryInfo.retryDelay` (in a Gemini error body) was longer and set it.
    RetryInfo,
}

impl WaitSource {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitSource::Backoff => "backoff",
            WaitSource::RetryAfter => "retry_after",
            WaitSource::RetryInfo => "retry_info",
        }
    }
}

/// The wait before the next attempt, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitDecision {
    /// Seconds to wait.
    pub delay: f64,
    /// What the back-off formula alone gave.
    pub computed: f64,
    /// The server's Retry-After, capped by `retry_after_max`, when honoured.
    pub retry_after: Option<f64>,
    /// `retry_after_jitter`'s draw added on top of that Retry-After (0 when none).
    pub jitter: f64,
    pub source: WaitSource,
    /// `wait = max(exponential 4 s, retry-after 1 s) = 4 s`.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The kind is not in `retry_on`: the hop ends with this very error (Tenacity re-raises).
    Reraise { why: String },
    /// `stop` says stop: the hop ends with `retry_error` carrying this error.
    Stop { wait: WaitDecision, why: String },
    /// Wait, then try again.
    Retry {
        wait: WaitDecision,
        reinsert: bool,
        why: String,
    },
}

impl Decision {
    pub fn why(&self) -> &str {
        match self {
            Decision::Reraise { why }
            | Decision::Stop { why, .. }
            | Decision::Retry { why, .. } => why,
        }
    }
}

/// The wait after `attempt` failed with `error`: the formula, then Retry-After on top; a
/// wait beyond [`MAX_WAIT`] is clamped to it (and says so).
pub fn compute_wait<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    attempt: u32,
    error: &CallError,
    rng: &mut R,
) -> WaitDecision {
    compute_wait_with(policy, &RetryExtras::default(), attempt, None, error, rng)
}

/// [`compute_wait`] with the keys beyond Tenacity (Retry-After jitter) and the hop's
/// previous wait (for a decorrelated jitter).
pub fn compute_wait_with<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    extras: &RetryExtras,
    attempt: u32,
    previous: Option<f64>,
    error: &CallError,
    rng: &mut R,
) -> WaitDecision {
    let mut w = unclamped_wait(policy, extras, (attempt, previous), error, rng);
    if Secs(w.delay).beyond_max_wait() || w.delay.is_nan() {
        w.text = format!(
            "{}, clamped to {} (the longest wait)",
            w.text,
            MAX_WAIT.human()
        );
        w.delay = if w.delay.is_nan() { 0.0 } else { MAX_WAIT.0 };
    }
    w
}

fn unclamped_wait<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    extras: &RetryExtras,
    (attempt, previous): (u32, Option<f64>),
    error: &CallError,
    rng: &mut R,
) -> WaitDecision {
    let computed = policy
        .wait
        .as_ref()
        .map_or(0.0, |w| w.compute_after(attempt, previous, rng));
    let formula = policy.wait.as_ref().map_or_else(
        || "no wait".to_string(),
        |w| w.explain_after(attempt, previous, computed),
    );
    let retry_after = if policy.honor_retry_after {
        error
            .retry_after_ms
            .map(|ms| f64::min(Secs::from_ms(ms).0, policy.retry_after_max.0))
    } else {
        None
    };
    match retry_after {
        Some(ra) => {
            let capped = error
                .retry_after_ms
                .is_some_and(|ms| Secs::from_ms(ms).0 > policy.retry_after_max.0);
            let in_body = error.retry_after_from == Some(crate::error::RetryAfterFrom::RetryInfo);
            let (name, server) = if in_body {
                ("RetryInfo retryDelay", WaitSource::RetryInfo)
            } else {
                ("retry-after", WaitSource::RetryAfter)
            };
            let mut ra_text = if capped {
                format!("{name} {} (capped by retry_after_max)", Secs(ra).human())
            } else {
                format!("{name} {}", Secs(ra).human())
            };
            // On top of the (capped) server value: it spreads callers told the same time.
            let jitter = jitter(extras, rng);
            if jitter > 0.0 {
                ra_text = format!("{ra_text} + jitter {}", Secs(jitter).human());
            }
            let (delay, source) = if ra + jitter > computed {
                (ra + jitter, server)
            } else {
                (computed, WaitSource::Backoff)
            };
            WaitDecision {
                delay,
                computed,
                retry_after: Some(ra),
                jitter,
                source,
                text: format!("wait = max({formula}, {ra_text}) = {}", Secs(delay).human()),
            }
        }
        None => {
            let ignored = if !policy.honor_retry_after && error.retry_after_ms.is_some() {
                " (Retry-After ignored: honor_retry_after = false)"
            } else {
                ""
            };
            WaitDecision {
                delay: computed,
                computed,
                retry_after: None,
                jitter: 0.0,
                source: WaitSource::Backoff,
                text: format!("wait = {formula}{ignored}"),
            }
        }
    }
}

/// Decides what follows the failure of `attempt` (1-based), `elapsed` seconds after the
/// first attempt of this hop started.
pub fn decide<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    attempt: u32,
    elapsed: f64,
    error: &CallError,
    rng: &mut R,
) -> Decision {
    let failed = Failed {
        attempt,
        elapsed,
        previous_wait: None,
    };
    decide_with(policy, &RetryExtras::default(), failed, error, rng)
}

/// [`decide`] with the keys beyond Tenacity that shape the wait (Retry-After jitter) and
/// the hop's previous wait; [`super::retry_after::judge`] adds `retry_after_over_max`.
pub fn decide_with<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    extras: &RetryExtras,
    failed: Failed,
    error: &CallError,
    rng: &mut R,
) -> Decision {
    let Failed {
        attempt,
        elapsed,
        previous_wait,
    } = failed;
    if !error.kind.is_in(&policy.retry_on) {
        let why = format!(
            "{} is not in retry_on {}: re-raised as is, no retry",
            error.kind,
            policy.retry_on_text()
        );
        return Decision::Reraise { why };
    }
    let wait = compute_wait_with(policy, extras, attempt, previous_wait, error, rng);
    let state = StopState {
        attempt,
        elapsed,
        upcoming_sleep: wait.delay,
    };
    let in_retry_on = format!("{} is in retry_on {}", error.kind, policy.retry_on_text());
    match &policy.stop {
        Some(stop) if stop.should_stop(&state) => Decision::Stop {
            why: format!(
                "{in_retry_on}, but {} says stop ({}): retry_error",
                stop.describe(),
                stop.explain(&state)
            ),
            wait,
        },
        stop => {
            let next = match stop {
                Some(s) => match s.max_attempts() {
                    Some(n) => format!("next: attempt {} of {n}", attempt + 1),
                    None => format!("next: attempt {} ({})", attempt + 1, s.explain(&state)),
                },
                None => format!("next: attempt {} (no stop: retries forever)", attempt + 1),
            };
            let reinsert = policy.reinserts(error.kind);
            let reinsert_text = if reinsert {
                format!(
                    "; {} is in reinsert: its text goes into the next call",
                    error.kind
                )
            } else {
                String::new()
            };
            Decision::Retry {
                why: format!("{in_retry_on}; {}; {next}{reinsert_text}", wait.text),
                wait,
                reinsert,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::wait::ExponentialParams;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            stop: Some(Stop::AfterAttempt(3)),
            wait: Some(Wait::Exponential(ExponentialParams {
                multiplier: 1.0,
                exp_base: 2.0,
                min: Secs(4.0),
                max: Secs(10.0),
            })),
            retry_on: vec![ErrorKind::RateLimit],
            reinsert: vec![],
            reinsert_mode: ReinsertMode::Template,
            honor_retry_after: true,
            retry_after_max: Secs(60.0),
            seed: 0,
        }
    }

    fn rl(retry_after_ms: Option<u64>) -> CallError {
        CallError::new(ErrorKind::RateLimit, "Rate limit reached")
            .with_status(429)
            .with_retry_after_ms(retry_after_ms)
    }

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(0)
    }

    #[test]
    fn a_spent_quota_is_retried_by_any_and_not_by_a_list_without_it() {
        let mut p = policy();
        p.retry_on = vec![ErrorKind::Any];
        let q = CallError::new(ErrorKind::QuotaExhausted, "quota").with_status(429);
        assert!(matches!(
            decide(&p, 1, 0.0, &q, &mut rng()),
            Decision::Retry { .. }
        ));
        p.retry_on = vec![ErrorKind::RateLimit, ErrorKind::ServerError];
        match decide(&p, 1, 0.0, &q, &mut rng()) {
            Decision::Reraise { why } => assert_eq!(
                why,
                "quota_exhausted is not in retry_on [rate_limit, server_error]: re-raised as is, no retry"
            ),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn not_in_retry_on_reraises() {
        let e = CallError::new(ErrorKind::Auth, "bad key").with_status(401);
        let d = decide(&policy(), 1, 0.0, &e, &mut rng());
        assert!(matches!(d, Decision::Reraise { .. }));
        assert!(
            d.why().contains("auth is not in retry_on [rate_limit]"),
            "{}",
            d.why()
        );
    }

    #[test]
    fn retries_then_stops_at_the_third_attempt() {
        let p = policy();
        let d1 = decide(&p, 1, 0.0, &rl(None), &mut rng());
        let Decision::Retry { wait, .. } = &d1 else {
            panic!("{d1:?}")
        };
        assert_eq!(wait.delay, 4.0);
        assert!(d1.why().contains("next: attempt 2 of 3"), "{}", d1.why());
        let d2 = decide(&p, 2, 4.0, &rl(None), &mut rng());
        assert!(matches!(d2, Decision::Retry { .. }));
        let d3 = decide(&p, 3, 8.0, &rl(None), &mut rng());
        assert!(matches!(d3, Decision::Stop { .. }), "{d3:?}");
        assert!(
            d3.why()
                .contains("stop_after_attempt(3) says stop (attempt 3 of 3)"),
            "{}",
            d3.why()
        );
    }

    #[test]
    fn retry_after_longer_than_backoff_wins() {
        let d = decide(&policy(), 1, 0.0, &rl(Some(7000)), &mut rng());
        let Decision::Retry { wait, .. } = d else {
            panic!()
        };
        assert_eq!(wait.delay, 7.0);
        assert_eq!(wait.computed, 4.0);
        assert_eq!(wait.source, WaitSource::RetryAfter);
        assert_eq!(wait.retry_after, Some(7.0));
    }

    #[test]
    fn a_retry_delay_from_the_body_sets_the_wait_and_says_so() {
        let mut e = rl(Some(27_000));
        e.retry_after_from = Some(crate::error::RetryAfterFrom::RetryInfo);
        let d = decide(&policy(), 1, 0.0, &e, &mut rng());
        let Decision::Retry { wait, why, .. } = d else {
            panic!()
        };
        // max(exponential 4 s, 27 s), under retry_after_max's 60 s.
        assert_eq!((wait.delay, wait.computed), (27.0, 4.0));
        assert_eq!(wait.source, WaitSource::RetryInfo);
        assert!(
            why.contains("clamped to [4 s, 10 s]), RetryInfo retryDelay 27 s) = 27 s"),
            "{why}"
        );
        // Shorter than the formula: the formula's wait, the delay still named.
        e.retry_after_ms = Some(1000);
        let d = decide(&policy(), 1, 0.0, &e, &mut rng());
        assert!(
            d.why().contains("RetryInfo retryDelay 1 s) = 4 s"),
            "{}",
            d.why()
        );
    }

    #[test]
    fn retry_after_shorter_than_backoff_loses() {
        let d = decide(&policy(), 1, 0.0, &rl(Some(1000)), &mut rng());
        let Decision::Retry { wait, why, .. } = d else {
            panic!()
        };
        assert_eq!(wait.delay, 4.0);
        assert_eq!(wait.source, WaitSource::Backoff);
        assert!(why.contains("wait = max(exponential 4 s"), "{why}");
        assert!(why.contains("retry-after 1 s) = 4 s"), "{why}");
    }

    #[test]
    fn retry_after_is_capped() {
        let mut p = policy();
        p.retry_after_max = Secs(30.0);
        let Decision::Retry { wait, .. } = decide(&p, 1, 0.0, &rl(Some(3_600_000)), &mut rng())
        else {
            panic!()
        };
        assert_eq!(wait.delay, 30.0);
        assert!(wait.text.contains("capped"));
    }

    #[test]
    fn retry_after_ignored_when_not_honoured() {
        let mut p = policy();
        p.honor_retry_after = false;
        let Decision::Retry { wait, .. } = decide(&p, 1, 0.0, &rl(Some(9000)), &mut rng()) else {
            panic!()
        };
        assert_eq!(wait.delay, 4.0);
        assert_eq!(wait.retry_after, None);
        assert!(wait.text.contains("ignored"));
    }

    #[test]
    fn before_delay_sees_the_retry_after_wait() {
        let mut p = policy();
        p.stop = Some(Stop::BeforeDelay(Secs(10.0)));
        // 4 s elapsed + a 7 s Retry-After passes 10 s: stop.
        assert!(matches!(
            decide(&p, 1, 4.0, &rl(Some(7000)), &mut rng()),
            Decision::Stop { .. }
        ));
        assert!(matches!(
            decide(&p, 1, 4.0, &rl(None), &mut rng()),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn no_stop_retries_forever_and_no_wait_is_zero() {
        let mut p = policy();
        p.stop = None;
        p.wait = None;
        let d = decide(&p, 10_000, 1e9, &rl(None), &mut rng());
        let Decision::Retry { wait, why, .. } = d else {
            panic!()
        };
        assert_eq!(wait.delay, 0.0);
        assert!(why.contains("retries forever"));
    }

    #[test]
    fn reinsert_only_for_listed_kinds() {
        let mut p = policy();
        p.retry_on = vec![ErrorKind::Any];
        p.reinsert = vec![ErrorKind::Validation];
        let v = CallError::new(ErrorKind::Validation, "expected uppercase");
        let Decision::Retry { reinsert, why, .. } = decide(&p, 1, 0.0, &v, &mut rng()) else {
            panic!()
        };
        assert!(reinsert);
        assert!(why.contains("validation is in reinsert"));
        let Decision::Retry { reinsert, .. } = decide(&p, 1, 0.0, &rl(None), &mut rng()) else {
            panic!()
        };
        assert!(!reinsert);
    }
}
