//! Retry-After beyond Tenacity: the jitter added on top of a honoured Retry-After (so the
//! callers one 429 told "2 s" do not all come back at the same millisecond), and what a
//! Retry-After past `retry_after_max` does (`retry_after_over_max`). The decision after a
//! failure with these keys: [`judge`].

use super::Secs;
use super::extras::{OverMax, RetryExtras};
use super::fallback::{FallbackDecision, FallbackPolicy};
use super::retry_on::{Decision, RetryPolicy, decide_with};
use super::wait::uniform;
use crate::error::CallError;
use rand::Rng;

/// What a failed attempt leads to, the keys beyond Tenacity included.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Tenacity's decision (retry, stop, re-raise).
    Policy(Decision),
    /// The server's Retry-After is past `retry_after_max` and `retry_after_over_max` is
    /// `fail` or `fallback`: the hop ends at once with the error itself.
    OverMax {
        /// `fallback`: the next hop runs, the error caught whatever `catch` says.
        fallback: bool,
        why: String,
    },
}

impl Verdict {
    pub fn why(&self) -> &str {
        match self {
            Verdict::Policy(d) => d.why(),
            Verdict::OverMax { why, .. } => why,
        }
    }
}

/// The failure being decided on: Tenacity's retry state plus the hop's last wait (which a
/// decorrelated jitter grows from).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Failed {
    /// 1-based.
    pub attempt: u32,
    /// Seconds since the hop's first attempt started.
    pub elapsed: f64,
    /// The hop's last wait, `None` before the first.
    pub previous_wait: Option<f64>,
}

/// Decides what follows a failure: a retried error whose Retry-After is past the cap ends
/// the hop when `retry_after_over_max` says so (before the stop is asked: the server, not
/// the budget, ended it); else Tenacity's decision with the jitter and the previous wait.
pub fn judge<R: Rng + ?Sized>(
    policy: &RetryPolicy,
    extras: &RetryExtras,
    failed: Failed,
    error: &CallError,
    rng: &mut R,
) -> Verdict {
    if let Some(verdict) = over_max(policy, extras, error) {
        return verdict;
    }
    Verdict::Policy(decide_with(policy, extras, failed, error, rng))
}

fn over_max(policy: &RetryPolicy, extras: &RetryExtras, error: &CallError) -> Option<Verdict> {
    let fallback = match extras.retry_after_over_max {
        OverMax::Cap => return None,
        OverMax::Fail => false,
        OverMax::Fallback => true,
    };
    let asked = Secs::from_ms(error.retry_after_ms?);
    let retried = error.kind.is_in(&policy.retry_on);
    if !retried || !policy.honor_retry_after || asked.0 <= policy.retry_after_max.0 {
        return None;
    }
    let then = if fallback {
        "the hop ends here and the next hop runs (caught, whatever catch lists)"
    } else {
        "the hop fails at once with this error (no retry_error: its retries did not run out)"
    };
    Some(Verdict::OverMax {
        fallback,
        why: format!(
            "{} is in retry_on {}, but the server's Retry-After {} is past retry_after_max {} and retry_after_over_max = \"{}\": {then}",
            error.kind,
            policy.retry_on_text(),
            asked.human(),
            policy.retry_after_max.human(),
            extras.retry_after_over_max.as_str(),
        ),
    })
}

/// Where a hop ended by `retry_after_over_max = "fallback"` goes: the next hop, its error
/// caught whatever `catch` lists (the user asked for the fallback, not for a re-raise);
/// after the last hop, `fallback_error`; without a `[fallback]`, the run ends with it.
pub fn over_max_fallback(
    policy: Option<&FallbackPolicy>,
    hop: u32,
    error: &CallError,
) -> FallbackDecision {
    let Some(p) = policy else {
        return FallbackDecision::EndWith {
            why: "retry_after_over_max = \"fallback\" but no [fallback]: the run ends with this error".into(),
        };
    };
    if hop < p.hops() {
        FallbackDecision::NextHop {
            hop: hop + 1,
            why: format!(
                "retry_after_over_max = \"fallback\": {} caught, falling back to hop {}",
                error.kind,
                hop + 1
            ),
        }
    } else {
        FallbackDecision::FallbackError {
            why: format!(
                "retry_after_over_max = \"fallback\": {} caught on the last hop: fallback_error",
                error.kind
            ),
        }
    }
}

/// The jitter on top of a honoured Retry-After: uniform(0, `retry_after_jitter`) rounded
/// to the millisecond (the unit events carry), or nothing drawn at all when it is 0, so a
/// policy without it draws exactly Tenacity's numbers.
pub(super) fn jitter<R: Rng + ?Sized>(extras: &RetryExtras, rng: &mut R) -> f64 {
    let most = extras.retry_after_jitter.0;
    if most.is_nan() || most <= 0.0 {
        return 0.0;
    }
    (uniform(rng, 0.0, most) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::policy::retry_on::{WaitSource, decide};
    use crate::policy::wait::{DecorrelatedParams, ExponentialParams};
    use crate::policy::{ReinsertMode, Stop, Wait};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            stop: Some(Stop::AfterAttempt(3)),
            wait: Some(Wait::Exponential(ExponentialParams {
                multiplier: 1.0,
                exp_base: 2.0,
                min: Secs(0.0),
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

    fn jittered(x: f64) -> RetryExtras {
        RetryExtras {
            retry_after_jitter: Secs(x),
            ..RetryExtras::default()
        }
    }

    fn over(mode: OverMax) -> RetryExtras {
        RetryExtras {
            retry_after_over_max: mode,
            ..RetryExtras::default()
        }
    }

    fn rl(ms: Option<u64>) -> CallError {
        CallError::new(ErrorKind::RateLimit, "slow down")
            .with_status(429)
            .with_retry_after_ms(ms)
    }

    const FIRST: Failed = Failed {
        attempt: 1,
        elapsed: 0.0,
        previous_wait: None,
    };

    fn retry_wait(v: Verdict) -> crate::policy::WaitDecision {
        match v {
            Verdict::Policy(Decision::Retry { wait, .. }) => wait,
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn jitter_lands_on_top_of_the_retry_after_within_its_bound() {
        let p = policy();
        for seed in 0..500 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let w = retry_wait(judge(&p, &jittered(1.0), FIRST, &rl(Some(2000)), &mut rng));
            assert!((0.0..=1.0).contains(&w.jitter), "seed {seed}: {}", w.jitter);
            assert_eq!(w.retry_after, Some(2.0));
            assert_eq!(w.delay, 2.0 + w.jitter);
            assert_eq!(w.source, WaitSource::RetryAfter);
            // Whole milliseconds: delay_ms is exactly Retry-After + jitter.
            assert_eq!((w.jitter * 1000.0).fract(), 0.0);
        }
    }

    #[test]
    fn jitter_is_the_draw_after_the_formulas_and_seeded() {
        let mut p = policy();
        p.wait = Some(Wait::Random(crate::policy::wait::RandomParams {
            min: Secs(0.0),
            max: Secs(1.0),
        }));
        let mut a = ChaCha8Rng::seed_from_u64(5);
        let mut b = ChaCha8Rng::seed_from_u64(5);
        let formula: f64 = b.random();
        let j: f64 = b.random();
        let w = retry_wait(judge(&p, &jittered(0.5), FIRST, &rl(Some(3000)), &mut a));
        assert_eq!(w.computed, formula);
        assert_eq!(w.jitter, (0.5 * j * 1000.0).round() / 1000.0);
        assert_eq!(
            w.text,
            format!(
                "wait = max(random {} in [0 s, 1 s], retry-after 3 s + jitter {}) = {}",
                Secs(formula).human(),
                Secs(w.jitter).human(),
                Secs(3.0 + w.jitter).human()
            )
        );
    }

    #[test]
    fn no_jitter_without_a_retry_after_nor_when_zero() {
        let p = policy();
        // No Retry-After: nothing is drawn, the formula alone.
        let w = retry_wait(judge(
            &p,
            &jittered(1.0),
            FIRST,
            &rl(None),
            &mut ChaCha8Rng::seed_from_u64(0),
        ));
        assert_eq!((w.delay, w.jitter), (1.0, 0.0));
        // Zero jitter: today's decision exactly, RNG untouched.
        let mut a = ChaCha8Rng::seed_from_u64(0);
        let mut b = ChaCha8Rng::seed_from_u64(0);
        let ours = judge(&p, &RetryExtras::default(), FIRST, &rl(Some(2000)), &mut a);
        let tenacity = decide(&p, 1, 0.0, &rl(Some(2000)), &mut b);
        assert_eq!(ours, Verdict::Policy(tenacity));
        assert_eq!(a.random::<u64>(), b.random::<u64>());
    }

    #[test]
    fn jitter_goes_on_top_of_the_cap() {
        let mut p = policy();
        p.retry_after_max = Secs(5.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let w = retry_wait(judge(
            &p,
            &jittered(1.0),
            FIRST,
            &rl(Some(3_600_000)),
            &mut rng,
        ));
        assert_eq!(w.retry_after, Some(5.0));
        assert_eq!(w.delay, 5.0 + w.jitter);
        assert!(
            w.text.contains("capped by retry_after_max) + jitter"),
            "{}",
            w.text
        );
    }

    #[test]
    fn over_max_cap_is_todays_behaviour() {
        let mut p = policy();
        p.retry_after_max = Secs(30.0);
        let mut a = ChaCha8Rng::seed_from_u64(0);
        let mut b = ChaCha8Rng::seed_from_u64(0);
        let e = rl(Some(3_600_000));
        assert_eq!(
            judge(&p, &over(OverMax::Cap), FIRST, &e, &mut a),
            Verdict::Policy(decide(&p, 1, 0.0, &e, &mut b))
        );
    }

    #[test]
    fn over_max_fail_and_fallback_end_the_hop_with_the_error() {
        let mut p = policy();
        p.retry_after_max = Secs(30.0);
        let e = rl(Some(120_000));
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let fail = judge(&p, &over(OverMax::Fail), FIRST, &e, &mut rng);
        assert_eq!(
            fail.why(),
            "rate_limit is in retry_on [rate_limit], but the server's Retry-After 2 min is past retry_after_max 30 s and retry_after_over_max = \"fail\": the hop fails at once with this error (no retry_error: its retries did not run out)"
        );
        assert!(matches!(
            fail,
            Verdict::OverMax {
                fallback: false,
                ..
            }
        ));
        let fb = judge(&p, &over(OverMax::Fallback), FIRST, &e, &mut rng);
        assert!(
            matches!(fb, Verdict::OverMax { fallback: true, .. }),
            "{fb:?}"
        );
        // Even on the last allowed attempt: the server ended it, not the stop.
        let last = Failed {
            attempt: 3,
            ..FIRST
        };
        assert!(matches!(
            judge(&p, &over(OverMax::Fail), last, &e, &mut rng),
            Verdict::OverMax { .. }
        ));
    }

    #[test]
    fn over_max_needs_a_retried_honoured_retry_after_past_the_cap() {
        let mut p = policy();
        p.retry_after_max = Secs(30.0);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let fail = over(OverMax::Fail);
        // At the cap exactly: waited as usual.
        assert!(matches!(
            judge(&p, &fail, FIRST, &rl(Some(30_000)), &mut rng),
            Verdict::Policy(Decision::Retry { .. })
        ));
        // No Retry-After at all.
        assert!(matches!(
            judge(&p, &fail, FIRST, &rl(None), &mut rng),
            Verdict::Policy(Decision::Retry { .. })
        ));
        // Not retried: Tenacity re-raises, whatever the server asked.
        let auth = CallError::new(ErrorKind::Auth, "no").with_retry_after_ms(Some(999_000));
        assert!(matches!(
            judge(&p, &fail, FIRST, &auth, &mut rng),
            Verdict::Policy(Decision::Reraise { .. })
        ));
        // Not honoured: the Retry-After is ignored, so it cannot be too long.
        p.honor_retry_after = false;
        assert!(matches!(
            judge(&p, &fail, FIRST, &rl(Some(999_000)), &mut rng),
            Verdict::Policy(Decision::Retry { .. })
        ));
    }

    #[test]
    fn over_max_fallback_moves_on_whatever_catch_lists() {
        let fb = FallbackPolicy {
            catch: vec![vec![ErrorKind::RetryError], vec![ErrorKind::RetryError]],
        };
        let e = rl(Some(120_000));
        assert_eq!(
            over_max_fallback(Some(&fb), 0, &e),
            FallbackDecision::NextHop {
                hop: 1,
                why:
                    "retry_after_over_max = \"fallback\": rate_limit caught, falling back to hop 1"
                        .into()
            }
        );
        assert!(matches!(
            over_max_fallback(Some(&fb), 1, &e),
            FallbackDecision::FallbackError { .. }
        ));
        assert!(matches!(
            over_max_fallback(None, 0, &e),
            FallbackDecision::EndWith { .. }
        ));
    }

    #[test]
    fn decorrelated_jitter_grows_from_the_previous_wait() {
        let mut p = policy();
        p.wait = Some(Wait::DecorrelatedJitter(DecorrelatedParams {
            base: Secs(1.0),
            max: Secs(20.0),
        }));
        let mut a = ChaCha8Rng::seed_from_u64(2);
        let mut b = ChaCha8Rng::seed_from_u64(2);
        let failed = Failed {
            attempt: 2,
            elapsed: 3.0,
            previous_wait: Some(4.0),
        };
        let w = retry_wait(judge(
            &p,
            &RetryExtras::default(),
            failed,
            &rl(None),
            &mut a,
        ));
        let u: f64 = b.random();
        assert_eq!(w.delay, f64::min(20.0, 1.0 + (12.0 - 1.0) * u));
        assert!(w.text.contains("3 x previous 4 s"), "{}", w.text);
    }
}
