//! The circuit breaker of one provider+model (`[breaker]`, DESIGN §15): PURE, time passed
//! in. Closed, it counts outcomes and opens on its threshold (N consecutive failures, or a
//! failure rate over the last `window` attempts sent); open, it refuses every attempt until
//! `cooldown` has passed; then half-open, it lets `half_open_probes` attempts through: each
//! probe that succeeds counts towards closing it, one that fails opens it again.
//!
//! What counts: an attempt that was sent and failed with a kind that says the provider or
//! the way to it is unwell ([`counts_as_failure`]) is a failure; any other outcome (an
//! answer, even one that failed validation; a 400) is a success. An attempt never sent
//! (refused by this breaker, a prompt that did not render) is not an outcome at all.

use super::Secs;
use super::fallback::{FallbackDecision, FallbackPolicy, decide_after_hop};
use crate::error::{CallError, ErrorKind};
use std::collections::VecDeque;
use std::time::Duration;

/// When a closed breaker opens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trip {
    /// After this many consecutive failures (`failures = N`).
    Consecutive(u32),
    /// Once the last `window` attempts sent hold at least `rate` failures (`rate`, `window`).
    Rate { rate: f64, window: u32 },
}

/// What an attempt the breaker refuses leads to (`on_open`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOpen {
    /// The hop ends at once and the run goes on to the next hop, whatever its `catch` says
    /// (on the last hop: `fallback_error`; without `[fallback]`: the run fails fast with
    /// `circuit_open`).
    #[default]
    Fallback,
    /// `circuit_open` is an error like any other: the hop's `catch` decides.
    Fail,
}

impl OnOpen {
    pub fn as_str(self) -> &'static str {
        match self {
            OnOpen::Fallback => "fallback",
            OnOpen::Fail => "fail",
        }
    }
}

/// A `[breaker]` table, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerPolicy {
    pub trip: Trip,
    pub cooldown: Secs,
    pub half_open_probes: u32,
    pub on_open: OnOpen,
}

impl BreakerPolicy {
    /// The threshold in words: `5 consecutive failures`, `50 % of the last 20 attempts`.
    pub fn threshold(&self) -> String {
        match self.trip {
            Trip::Consecutive(n) => format!("{n} consecutive failure{}", plural(n)),
            Trip::Rate { rate, window } => {
                format!("{} of the last {window} attempts failing", percent(rate))
            }
        }
    }

    /// One line for the plan: when it opens, how long it stays open, what an open one does.
    pub fn describe(&self) -> String {
        let probes = self.half_open_probes;
        let on_open = match self.on_open {
            OnOpen::Fallback => "an open breaker skips to the next hop (or fails fast)",
            OnOpen::Fail => "an open breaker fails the hop with circuit_open (catch decides)",
        };
        format!(
            "per provider+model: opens after {}, half-open after {} ({probes} probe{}); {on_open}",
            self.threshold(),
            self.cooldown.human(),
            plural(probes)
        )
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// Whether a failed attempt of this kind counts against its provider+model: the server or
/// the way to it failed (rate limits, overload, 5xx, timeouts, broken connections and
/// streams, a spent quota, a rejected key, a redirect). A reply the model got wrong
/// (validation, tool arguments, a content filter, the context length), a 400, a 200 that
/// `on_result` rejected (`length`, `empty`) or that a `[limits]` limit cut says the endpoint
/// answered: a success to the breaker.
pub fn counts_as_failure(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::Validation
            | ErrorKind::ToolValidation
            | ErrorKind::ContentFilter
            | ErrorKind::ContextLength
            | ErrorKind::BadRequest
            | ErrorKind::Length
            | ErrorKind::Empty
            | ErrorKind::LimitExceeded
    )
}

/// What follows a hop that ended because its breaker refused an attempt (`error` is that
/// `circuit_open`). `fallback`: the next hop, whatever its catch lists; on the last hop the
/// run ends with `fallback_error`; without `[fallback]` with `circuit_open` (fail fast).
/// `fail`: the hop's catch decides, as for any error.
pub fn after_open(
    on_open: OnOpen,
    fallback: Option<&FallbackPolicy>,
    hop: u32,
    error: &CallError,
) -> FallbackDecision {
    let p = match (on_open, fallback) {
        (OnOpen::Fail, _) => return decide_after_hop(fallback, hop, error),
        (OnOpen::Fallback, None) => {
            return FallbackDecision::EndWith {
                why: "circuit_open and no [fallback]: the run fails fast".into(),
            };
        }
        (OnOpen::Fallback, Some(p)) => p,
    };
    if hop < p.hops() {
        FallbackDecision::NextHop {
            hop: hop + 1,
            why: format!(
                "circuit_open, and [breaker].on_open = \"fallback\": skipping to hop {}",
                hop + 1
            ),
        }
    } else {
        FallbackDecision::FallbackError {
            why:
                "circuit_open on the last hop, and [breaker].on_open = \"fallback\": fallback_error"
                    .into(),
        }
    }
}

/// The state, as events name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// A change of state, with why (the `why` of `breaker_opened` / `_half_open` / `_closed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub to: BreakerState,
    pub why: String,
}

/// What the breaker says to an attempt about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Closed: send it.
    Pass,
    /// Half-open: send it as a probe (its outcome decides the state).
    Probe,
    /// Open (or half-open with every probe out): do not send it.
    Refused {
        /// Why it opened (`5 consecutive failures`), or that the probes are out.
        why: String,
        /// How long until it turns half-open (zero while probes are out).
        left: Duration,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Inner {
    Closed {
        consecutive: u32,
        /// The last `window` outcomes (true = failed), rate mode only.
        recent: VecDeque<bool>,
    },
    Open {
        since: Duration,
        why: String,
    },
    HalfOpen {
        /// Probes let through so far, and how many of them succeeded.
        admitted: u32,
        succeeded: u32,
    },
}

/// One provider+model's breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Breaker {
    policy: BreakerPolicy,
    inner: Inner,
}

impl Breaker {
    /// Closed, nothing counted.
    pub fn new(policy: BreakerPolicy) -> Breaker {
        Breaker {
            policy,
            inner: closed(),
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.inner {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// May an attempt go out at `now`? An open breaker whose cooldown has passed turns
    /// half-open here (the transition is returned) and lets this attempt through as a probe.
    pub fn admit(&mut self, now: Duration) -> (Admission, Option<Transition>) {
        let probes = self.policy.half_open_probes;
        match &mut self.inner {
            Inner::Closed { .. } => (Admission::Pass, None),
            Inner::Open { since, why } => {
                let cooldown = self.policy.cooldown.as_duration();
                let open_for = now.saturating_sub(*since);
                if open_for < cooldown {
                    return (
                        Admission::Refused {
                            why: why.clone(),
                            left: cooldown - open_for,
                        },
                        None,
                    );
                }
                let why = format!(
                    "cooldown {} passed since it opened ({why})",
                    self.policy.cooldown.human()
                );
                self.inner = Inner::HalfOpen {
                    admitted: 1,
                    succeeded: 0,
                };
                let to = BreakerState::HalfOpen;
                (Admission::Probe, Some(Transition { to, why }))
            }
            Inner::HalfOpen { admitted, .. } if *admitted < probes => {
                *admitted += 1;
                (Admission::Probe, None)
            }
            Inner::HalfOpen { .. } => (
                Admission::Refused {
                    why: format!("half-open, its {probes} probe{} still out", plural(probes)),
                    left: Duration::ZERO,
                },
                None,
            ),
        }
    }

    /// The outcome of an attempt admitted earlier (`probe`: admitted half-open), at `now`.
    /// Outcomes that arrive in another state than they were admitted in (an attempt sent
    /// while closed that ends after the breaker opened) change nothing.
    pub fn record(&mut self, now: Duration, failed: bool, probe: bool) -> Option<Transition> {
        let probes = self.policy.half_open_probes;
        match (&mut self.inner, probe) {
            (
                Inner::Closed {
                    consecutive,
                    recent,
                },
                false,
            ) => {
                *consecutive = if failed { *consecutive + 1 } else { 0 };
                let why = match self.policy.trip {
                    Trip::Consecutive(n) => (*consecutive >= n).then(|| {
                        format!(
                            "{} consecutive failure{}",
                            *consecutive,
                            plural(*consecutive)
                        )
                    }),
                    Trip::Rate { rate, window } => {
                        recent.push_back(failed);
                        while recent.len() > window as usize {
                            recent.pop_front();
                        }
                        let bad = recent.iter().filter(|f| **f).count();
                        let full = recent.len() == window as usize;
                        // A hair under: 0.3 × 10 is not quite 3 in binary.
                        (full && bad as f64 >= rate * f64::from(window) - 1e-9).then(|| {
                            format!(
                                "{bad} of the last {window} attempts failed (≥ {})",
                                percent(rate)
                            )
                        })
                    }
                };
                why.map(|why| self.open(now, why))
            }
            (Inner::HalfOpen { succeeded, .. }, true) => {
                if failed {
                    return Some(self.open(now, "a half-open probe failed".into()));
                }
                *succeeded += 1;
                if *succeeded < probes {
                    return None;
                }
                self.inner = closed();
                Some(Transition {
                    to: BreakerState::Closed,
                    why: format!(
                        "{probes} of {probes} half-open probe{} succeeded",
                        plural(probes)
                    ),
                })
            }
            _ => None,
        }
    }

    /// A probe let through that never came back (its run was cancelled or capped): its
    /// place is free for another.
    pub fn abandon(&mut self, probe: bool) {
        if let (Inner::HalfOpen { admitted, .. }, true) = (&mut self.inner, probe) {
            *admitted = admitted.saturating_sub(1);
        }
    }

    fn open(&mut self, now: Duration, why: String) -> Transition {
        self.inner = Inner::Open {
            since: now,
            why: why.clone(),
        };
        Transition {
            to: BreakerState::Open,
            why,
        }
    }
}

fn closed() -> Inner {
    Inner::Closed {
        consecutive: 0,
        recent: VecDeque::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn consecutive(n: u32, probes: u32) -> Breaker {
        Breaker::new(BreakerPolicy {
            trip: Trip::Consecutive(n),
            cooldown: Secs(10.0),
            half_open_probes: probes,
            on_open: OnOpen::Fallback,
        })
    }

    fn rate(rate: f64, window: u32) -> Breaker {
        Breaker::new(BreakerPolicy {
            trip: Trip::Rate { rate, window },
            cooldown: Secs(10.0),
            half_open_probes: 1,
            on_open: OnOpen::Fallback,
        })
    }

    /// Admits one attempt at `now` and records its outcome there.
    fn attempt(b: &mut Breaker, now: Duration, failed: bool) -> Option<Transition> {
        let (admission, _) = b.admit(now);
        let probe = admission == Admission::Probe;
        assert_ne!(
            std::mem::discriminant(&admission),
            std::mem::discriminant(&Admission::Refused {
                why: String::new(),
                left: Duration::ZERO
            }),
            "{admission:?}"
        );
        b.record(now, failed, probe)
    }

    #[test]
    fn opens_on_the_nth_consecutive_failure_and_a_success_resets_the_count() {
        let mut b = consecutive(3, 1);
        assert_eq!(attempt(&mut b, s(0), true), None);
        assert_eq!(attempt(&mut b, s(1), true), None);
        assert_eq!(attempt(&mut b, s(2), false), None, "a success resets");
        assert_eq!(attempt(&mut b, s(3), true), None);
        assert_eq!(attempt(&mut b, s(4), true), None);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(
            attempt(&mut b, s(5), true),
            Some(Transition {
                to: BreakerState::Open,
                why: "3 consecutive failures".into()
            })
        );
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn one_failure_is_enough_with_failures_1() {
        let mut b = consecutive(1, 1);
        let t = attempt(&mut b, s(0), true).unwrap();
        assert_eq!(t.why, "1 consecutive failure");
    }

    #[test]
    fn open_refuses_until_the_cooldown_passes_then_admits_one_probe() {
        let mut b = consecutive(1, 1);
        attempt(&mut b, s(4), true);
        // 4 s + 10 s cooldown: refused at 4, 9 and 13.999 s, with the time left.
        for (at, left) in [
            (s(4), s(10)),
            (s(9), s(5)),
            (Duration::from_millis(13_999), Duration::from_millis(1)),
        ] {
            assert_eq!(
                b.admit(at),
                (
                    Admission::Refused {
                        why: "1 consecutive failure".into(),
                        left
                    },
                    None
                )
            );
        }
        let (a, t) = b.admit(s(14));
        assert_eq!(a, Admission::Probe);
        assert_eq!(
            t,
            Some(Transition {
                to: BreakerState::HalfOpen,
                why: "cooldown 10 s passed since it opened (1 consecutive failure)".into()
            })
        );
        // The one probe is out: the next attempt is refused, with no time left to wait.
        assert_eq!(
            b.admit(s(14)),
            (
                Admission::Refused {
                    why: "half-open, its 1 probe still out".into(),
                    left: Duration::ZERO
                },
                None
            )
        );
    }

    #[test]
    fn a_probe_that_succeeds_closes_and_one_that_fails_reopens_from_then() {
        let mut b = consecutive(2, 1);
        attempt(&mut b, s(0), true);
        attempt(&mut b, s(0), true);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        let t = b.record(s(11), true, true).unwrap();
        assert_eq!(
            (t.to, t.why.as_str()),
            (BreakerState::Open, "a half-open probe failed")
        );
        // Reopened at 11 s: refused until 21 s.
        assert!(matches!(b.admit(s(20)).0, Admission::Refused { .. }));
        assert_eq!(b.admit(s(21)).0, Admission::Probe);
        let t = b.record(s(22), false, true).unwrap();
        assert_eq!(
            (t.to, t.why.as_str()),
            (BreakerState::Closed, "1 of 1 half-open probe succeeded")
        );
        // Closed afresh: the count starts over.
        assert_eq!(attempt(&mut b, s(23), true), None);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn several_probes_must_all_succeed_to_close() {
        let mut b = consecutive(1, 3);
        attempt(&mut b, s(0), true);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert!(matches!(b.admit(s(10)).0, Admission::Refused { .. }));
        assert_eq!(b.record(s(11), false, true), None);
        assert_eq!(b.record(s(11), false, true), None);
        let t = b.record(s(12), false, true).unwrap();
        assert_eq!(t.why, "3 of 3 half-open probes succeeded");
        assert_eq!(b.state(), BreakerState::Closed);
        // One failing probe of three reopens at once.
        attempt(&mut b, s(13), true);
        assert_eq!(b.admit(s(23)).0, Admission::Probe);
        assert_eq!(b.record(s(23), false, true), None);
        assert_eq!(b.admit(s(23)).0, Admission::Probe);
        assert_eq!(b.record(s(24), true, true).unwrap().to, BreakerState::Open);
    }

    #[test]
    fn an_abandoned_probe_frees_its_place() {
        let mut b = consecutive(1, 1);
        attempt(&mut b, s(0), true);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert!(matches!(b.admit(s(10)).0, Admission::Refused { .. }));
        b.abandon(true);
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        // Abandoning a non-probe, or while closed, changes nothing.
        b.abandon(false);
        assert!(matches!(b.admit(s(10)).0, Admission::Refused { .. }));
    }

    #[test]
    fn late_outcomes_of_another_state_change_nothing() {
        let mut b = consecutive(1, 1);
        // Two attempts let through while closed; the first opens it.
        assert_eq!(b.admit(s(0)).0, Admission::Pass);
        assert_eq!(b.admit(s(0)).0, Admission::Pass);
        assert!(b.record(s(1), true, false).is_some());
        // The second ends while open: ignored either way.
        assert_eq!(b.record(s(2), false, false), None);
        assert_eq!(b.record(s(2), true, false), None);
        assert_eq!(b.state(), BreakerState::Open);
        // Half-open: a non-probe outcome is ignored, only probes count.
        assert_eq!(b.admit(s(11)).0, Admission::Probe);
        assert_eq!(b.record(s(11), true, false), None);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // A probe outcome while closed (cannot happen in order) is ignored too.
        let mut c = consecutive(2, 1);
        assert_eq!(c.record(s(0), true, true), None);
        assert_eq!(c.record(s(0), true, false), None);
        assert_eq!(c.state(), BreakerState::Closed);
    }

    #[test]
    fn the_rate_needs_a_full_window_and_counts_only_the_last_window_outcomes() {
        let mut b = rate(0.5, 4);
        // F F: 2 of 2, but the window (4) is not full yet.
        assert_eq!(attempt(&mut b, s(0), true), None);
        assert_eq!(attempt(&mut b, s(0), true), None);
        // S: 2 of 3.
        assert_eq!(attempt(&mut b, s(0), false), None);
        // S: 2 of 4 = 50 % ≥ 50 %: opens.
        let t = attempt(&mut b, s(1), false).unwrap();
        assert_eq!(t.why, "2 of the last 4 attempts failed (≥ 50 %)");
        let mut b = rate(0.5, 4);
        for failed in [true, false, false, false, false, true] {
            assert_eq!(attempt(&mut b, s(0), failed), None, "{failed}");
        }
        // The window now holds S S S F → F: S S F F = 2 of 4.
        assert!(attempt(&mut b, s(0), true).is_some());
    }

    #[test]
    fn a_rate_of_one_needs_every_attempt_of_the_window_to_fail() {
        let mut b = rate(1.0, 3);
        assert_eq!(attempt(&mut b, s(0), true), None);
        assert_eq!(attempt(&mut b, s(0), true), None);
        assert_eq!(attempt(&mut b, s(0), false), None);
        assert_eq!(attempt(&mut b, s(0), true), None);
        assert_eq!(attempt(&mut b, s(0), true), None);
        let t = attempt(&mut b, s(0), true).unwrap();
        assert_eq!(t.why, "3 of the last 3 attempts failed (≥ 100 %)");
    }

    #[test]
    fn a_reopened_rate_breaker_closes_with_an_empty_window() {
        let mut b = rate(0.5, 2);
        attempt(&mut b, s(0), true);
        assert!(attempt(&mut b, s(0), true).is_some());
        assert_eq!(b.admit(s(10)).0, Admission::Probe);
        assert!(b.record(s(10), false, true).is_some());
        // One failure in a fresh window of 2 is not a full window.
        assert_eq!(attempt(&mut b, s(11), true), None);
        assert!(attempt(&mut b, s(11), true).is_some());
    }

    #[test]
    fn what_counts_as_a_failure() {
        for k in ErrorKind::ALL {
            let expect = !matches!(
                k,
                ErrorKind::Validation
                    | ErrorKind::ToolValidation
                    | ErrorKind::ContentFilter
                    | ErrorKind::ContextLength
                    | ErrorKind::BadRequest
                    | ErrorKind::Length
                    | ErrorKind::Empty
                    | ErrorKind::LimitExceeded
            );
            assert_eq!(counts_as_failure(k), expect, "{k}");
        }
        assert!(counts_as_failure(ErrorKind::RateLimit));
        assert!(counts_as_failure(ErrorKind::Timeout));
        // A 200 that on_result rejected, or one a call-wide limit cut: the endpoint answered.
        for k in [
            ErrorKind::Length,
            ErrorKind::Empty,
            ErrorKind::LimitExceeded,
        ] {
            assert!(!counts_as_failure(k), "{k}");
        }
    }

    #[test]
    fn an_open_breaker_skips_to_the_next_hop_or_lets_catch_decide() {
        let fb = FallbackPolicy {
            catch: vec![vec![ErrorKind::RetryError], vec![ErrorKind::RetryError]],
        };
        let e = CallError::circuit_open("openai/gpt-4o-mini", "5 consecutive failures");
        assert_eq!(e.kind, ErrorKind::CircuitOpen);
        // fallback: on, whatever catch says; the last hop gives fallback_error.
        assert_eq!(
            after_open(OnOpen::Fallback, Some(&fb), 0, &e),
            FallbackDecision::NextHop {
                hop: 1,
                why: "circuit_open, and [breaker].on_open = \"fallback\": skipping to hop 1".into()
            }
        );
        assert!(matches!(
            after_open(OnOpen::Fallback, Some(&fb), 1, &e),
            FallbackDecision::FallbackError { .. }
        ));
        assert_eq!(
            after_open(OnOpen::Fallback, None, 0, &e).why(),
            "circuit_open and no [fallback]: the run fails fast"
        );
        // fail: catch decides; [retry_error] does not catch it, [circuit_open] does.
        assert_eq!(
            after_open(OnOpen::Fail, Some(&fb), 0, &e).why(),
            "circuit_open is not in [fallback].catch [retry_error]: no fallback hop was tried"
        );
        let catching = FallbackPolicy {
            catch: vec![vec![ErrorKind::CircuitOpen], vec![]],
        };
        assert!(matches!(
            after_open(OnOpen::Fail, Some(&catching), 0, &e),
            FallbackDecision::NextHop { hop: 1, .. }
        ));
    }

    #[test]
    fn the_plan_describes_it() {
        let b = consecutive(5, 1);
        assert_eq!(
            b.policy.describe(),
            "per provider+model: opens after 5 consecutive failures, half-open after 10 s (1 probe); an open breaker skips to the next hop (or fails fast)"
        );
        let mut p = rate(0.25, 20).policy;
        p.on_open = OnOpen::Fail;
        p.half_open_probes = 2;
        assert_eq!(
            p.describe(),
            "per provider+model: opens after 25 % of the last 20 attempts failing, half-open after 10 s (2 probes); an open breaker fails the hop with circuit_open (catch decides)"
        );
        assert_eq!(percent(0.125), "12.5 %");
    }
}
