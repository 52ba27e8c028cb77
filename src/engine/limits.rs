//! `[limits]` in the engine: the call's running tally (requests, tokens, the last partial
//! answer), the deadline's clip of every attempt's timeout and every wait, a stream cut when
//! `max_tokens` is reached mid-way, `limit_reached`, and how the run ends (`on_exhausted`).
//! The arithmetic is `policy::limits`'; hop.rs, attempt.rs and run.rs call in here.
//!
//! Requests are counted in ONE place: [`CallLimits::request_sent`], called where every HTTP
//! request goes out (`sdk_layer.rs`'s `send`, which each attempt and each hedge leg goes
//! through), which asks [`CallLimits::may_send`] before an SDK retry; hedge.rs before a leg.

use super::attempt::ms;
use super::run::{Emitter, RunSummary};
use crate::clock::Clock;
use crate::cost;
use crate::error::{CallError, ErrorKind};
use crate::event::{Clip, Event, HttpExchange, LimitReached, Outcome, Usage};
use crate::policy::limits::{Hit, Limits, Spent};
use crate::provider::{ChatRequest, Timeouts};
use crate::scenario::types::{OnExhausted, Scenario};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The limits of one call and what it has spent so far (shared by its hops and attempts).
#[derive(Debug)]
pub(super) struct CallLimits {
    limits: Limits,
    on_exhausted: OnExhausted,
    message: String,
    /// The run's start on its clock: the deadline counts from here.
    start: Duration,
    /// Every HTTP request sent by the call.
    requests: AtomicU32,
    tally: Mutex<Tally>,
}

#[derive(Debug, Default)]
struct Tally {
    tokens: u64,
    /// The last non-empty partial (or rejected) answer, for `last_partial`.
    last_partial: Option<String>,
    /// The last attempt's error, carried by `limit_exceeded`.
    last_error: Option<CallError>,
    /// The last attempt that ran: `(hop, attempt)`.
    last: Option<(u32, u32)>,
}

/// A limit reached: the hop (and the run) ends.
#[derive(Debug)]
pub(super) struct Exhausted {
    hit: Hit,
}

impl CallLimits {
    pub(super) fn new(s: &Scenario, start: Duration) -> CallLimits {
        let spec = s.limits.clone().unwrap_or_default();
        CallLimits {
            limits: crate::scenario::plan::limits::call_limits(s),
            on_exhausted: spec.on_exhausted,
            message: spec.message.unwrap_or_default(),
            start,
            requests: AtomicU32::new(0),
            tally: Mutex::new(Tally::default()),
        }
    }

    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        // Plain data behind the lock; a poisoned lock is still consistent.
        self.tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// THE request counter: one HTTP request of this call was sent.
    pub(super) fn request_sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether `max_requests` leaves room for one more request.
    pub(super) fn may_send(&self) -> bool {
        self.limits
            .max_requests
            .is_none_or(|m| self.requests.load(Ordering::Relaxed) < m)
    }

    fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.start)
    }

    /// The first limit reached by now, with `cost_usd` spent so far.
    pub(super) fn hit(&self, now: Duration, cost_usd: f64) -> Option<Hit> {
        if self.limits.is_empty() {
            return None;
        }
        let spent = Spent {
            requests: self.requests.load(Ordering::Relaxed),
            tokens: self.tally().tokens,
            cost_usd,
            elapsed: self.elapsed(now),
        };
        self.limits.hit(&spent)
    }

    /// An attempt starting `now`: its timeouts, the whole one cut to the time left before
    /// the deadline, and the clip when there was one.
    pub(super) fn attempt_timeouts(&self, t: Timeouts, now: Duration) -> (Timeouts, Option<Clip>) {
        let Some(total) = t.total else {
            return (t, None);
        };
        let c = self.limits.clip(self.elapsed(now), total);
        let clip = c.from.map(|from| Clip {
            from_ms: ms(from),
            to_ms: round_ms(c.to),
        });
        (
            Timeouts {
                total: Some(c.to),
                ..t
            },
            clip,
        )
    }

    /// A wait starting `now`, cut to the time left: `(delay, the unclipped delay in ms)`.
    pub(super) fn clip_wait(&self, delay: Duration, now: Duration) -> (Duration, Option<u64>) {
        let c = self.limits.clip(self.elapsed(now), delay);
        (c.to, c.from.map(ms))
    }
}

/// A clipped duration in whole milliseconds, to the nearest: the time left after replies
/// that took nanoseconds (a simulated pace) reads 2 s, not 1.999 s.
pub(super) fn round_ms(d: Duration) -> u64 {
    let ms = (d.as_secs_f64() * 1000.0).round();
    if ms >= u64::MAX as f64 {
        u64::MAX
    } else {
        ms as u64
    }
}

impl CallLimits {
    /// What an attempt spent, once it ended: its tokens, and its partial (or rejected)
    /// answer and error for what may follow.
    pub(super) fn attempt_ended(
        &self,
        at: (u32, u32),
        tokens: u64,
        partial: &str,
        error: Option<&CallError>,
    ) {
        let mut t = self.tally();
        t.tokens = t.tokens.saturating_add(tokens);
        t.last = Some(at);
        if !partial.is_empty() {
            t.last_partial = Some(partial.to_string());
        }
        if let Some(e) = error {
            t.last_error = Some(e.clone());
        }
    }

    /// A cut for a stream of `request`, when `max_tokens` is set and the reply is streamed.
    pub(super) fn stream_guard(&self, request: &ChatRequest, clock: &Clock) -> Option<StreamGuard> {
        if !request.stream {
            return None;
        }
        let max = self.limits.max_tokens?;
        let input = cost::estimate_request_tokens(request);
        let budget = self.limits.output_budget(self.tally().tokens, input)?;
        Some(StreamGuard {
            max,
            budget,
            accepted: String::new(),
            tripped: CancellationToken::new(),
            clock: Some(clock.clone()),
        })
    }

    /// `limit_reached` for `hit`, after the last attempt that ran; the hop ends.
    pub(super) fn reached(&self, em: &Emitter, hit: Hit) -> Exhausted {
        let last = self.tally().last;
        let (value, spent) = hit_values(&hit);
        em.emit(Event::LimitReached(LimitReached {
            limit: hit.limit().as_str().into(),
            value,
            spent,
            hop: last.map(|(h, _)| h),
            attempt: last.map(|(_, a)| a),
            on_exhausted: self.on_exhausted_name().into(),
            why: format!("{}; {}", hit.words(), self.follows()),
        }));
        Exhausted { hit }
    }

    fn on_exhausted_name(&self) -> &'static str {
        match self.on_exhausted {
            OnExhausted::Raise => "raise",
            OnExhausted::Message => "message",
            OnExhausted::LastPartial => "last_partial",
        }
    }

    /// What follows a limit reached, in words.
    fn follows(&self) -> String {
        match self.on_exhausted {
            OnExhausted::Raise => "on_exhausted = raise: the run ends with limit_exceeded".into(),
            OnExhausted::Message => {
                "on_exhausted = message: the run answers with [limits].message (degraded)".into()
            }
            OnExhausted::LastPartial if self.tally().last_partial.is_some() => {
                "on_exhausted = last_partial: the run answers with the last partial answer (degraded)"
                    .into()
            }
            OnExhausted::LastPartial => {
                "on_exhausted = last_partial, but no attempt left a partial answer: the run ends with limit_exceeded"
                    .into()
            }
        }
    }

    /// How the run ends after `ex`: `on_exhausted`'s answer, or `limit_exceeded` carrying
    /// the last attempt's error.
    pub(super) fn finish(&self, ex: &Exhausted, caught: Vec<CallError>) -> RunSummary {
        let t = self.tally();
        let degraded = match self.on_exhausted {
            OnExhausted::Message => Some(self.message.clone()),
            OnExhausted::LastPartial => t.last_partial.clone(),
            OnExhausted::Raise => None,
        };
        match degraded {
            Some(content) => RunSummary {
                outcome: Outcome::Ok,
                content: Some(content),
                error: None,
                caught,
                degraded: true,
            },
            None => RunSummary {
                outcome: Outcome::Error,
                content: None,
                error: Some(CallError::limit_exceeded(
                    &ex.hit.words(),
                    t.last_error.clone(),
                )),
                caught,
                degraded: false,
            },
        }
    }
}

/// The limit that ends the call after a failed attempt: one reached, when the attempt was
/// cut by it (`max_tokens` mid-stream, a timeout the deadline clipped) or when something
/// would follow (a retry, the next hop). An error that ends the run anyway ends it as is.
pub(super) fn stops(
    prep: &super::prepare::Prepared,
    now: Duration,
    cost_usd: f64,
    error: &CallError,
    goes_on: bool,
) -> Option<Hit> {
    let hit = prep.call_limits.hit(now, cost_usd)?;
    let by_limit = error.kind == ErrorKind::LimitExceeded
        || (matches!(hit, Hit::Deadline { .. }) && error.kind == ErrorKind::Timeout);
    (by_limit || goes_on).then_some(hit)
}

/// A limit's value and what was spent, in its unit (ms for the deadline).
fn hit_values(hit: &Hit) -> (serde_json::Value, serde_json::Value) {
    use serde_json::Value;
    let usd = |v: f64| serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    match *hit {
        Hit::Requests { max, sent } => (max.into(), sent.into()),
        Hit::Tokens { max, used } => (max.into(), used.into()),
        Hit::Cost { max, spent } => (usd(max), usd(spent)),
        Hit::Deadline { max, elapsed } => (ms(max).into(), ms(elapsed).into()),
    }
}

/// The tokens an attempt used: its reply's usage when reported, else estimated (≈ 4
/// characters a token) from the request and the text received; nothing for a request the
/// server refused (`processed` false), as `crate::cost` prices it.
pub(super) fn attempt_tokens(
    request: Option<&ChatRequest>,
    usage: Option<Usage>,
    text: &str,
    processed: bool,
) -> u64 {
    if let Some(u) = usage.filter(|u| u.input_tokens > 0 || u.output_tokens > 0) {
        return u.input_tokens.saturating_add(u.output_tokens);
    }
    if !processed {
        return 0;
    }
    request
        .map_or(0, cost::estimate_request_tokens)
        .saturating_add(cost::estimate_tokens(text))
}

/// Ends a stream once the text received reaches the tokens `max_tokens` leaves it (≈ 4
/// characters a token): the delta that reaches it is kept, later ones are dropped, and the
/// exchange is dropped at its next pause.
pub(super) struct StreamGuard {
    max: u64,
    budget: u64,
    accepted: String,
    tripped: CancellationToken,
    /// Held at the trip so that the simulator does not move the run's clock on before the
    /// attempt ends at the trip's time (released by the next exchange, or the run's end).
    clock: Option<Clock>,
}

impl StreamGuard {
    /// Takes a delta's text: `false` once the budget is spent (the text is not kept).
    pub(super) fn take(&mut self, text: &str) -> bool {
        if self.is_tripped() {
            return false;
        }
        if cost::estimate_tokens(&self.accepted) >= self.budget {
            self.trip();
            return false;
        }
        self.accepted.push_str(text);
        if cost::estimate_tokens(&self.accepted) >= self.budget {
            self.trip();
        }
        true
    }

    fn trip(&self) {
        if let Some(clock) = &self.clock {
            // One frame "in flight" that is never acknowledged: the virtual clock waits.
            clock.frame_sent();
        }
        self.tripped.cancel();
    }

    pub(super) fn is_tripped(&self) -> bool {
        self.tripped.is_cancelled()
    }

    /// Resolves once the budget is spent.
    pub(super) fn tripped(&self) -> CancellationToken {
        self.tripped.clone()
    }

    /// The failure of an attempt whose stream `guard` ended (`None`: it ended before any
    /// text, as an empty guard).
    pub(super) fn cut_of(guard: Option<StreamGuard>, url: String) -> super::attempt::Failure {
        guard
            .unwrap_or_else(|| StreamGuard {
                max: 0,
                budget: 0,
                accepted: String::new(),
                tripped: CancellationToken::new(),
                clock: None,
            })
            .cut(url)
    }

    /// The attempt's failure: the text kept, and a 200 exchange (the server answered and
    /// bills what it sent).
    pub(super) fn cut(self, url: String) -> super::attempt::Failure {
        let n = cost::estimate_tokens(&self.accepted);
        super::attempt::Failure {
            error: CallError::new(
                ErrorKind::LimitExceeded,
                format!(
                    "max_tokens = {} reached mid-stream: the stream was ended after ~{n} output token(s)",
                    self.max
                ),
            )
            .with_status(200),
            partial_output: self.accepted,
            response: Some(HttpExchange {
                url,
                status: Some(200),
                ..HttpExchange::default()
            }),
            usage: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(budget: u64) -> StreamGuard {
        StreamGuard {
            max: 100,
            budget,
            accepted: String::new(),
            tripped: CancellationToken::new(),
            clock: None,
        }
    }

    #[test]
    fn a_guard_keeps_the_delta_that_reaches_its_budget_and_drops_the_rest() {
        // 2 tokens ≈ 8 characters: "abcd" is 1, "abcd efg" (8 chars) 2.
        let mut g = guard(2);
        assert!(g.take("abcd"));
        assert!(!g.is_tripped());
        assert!(g.take(" efg"));
        assert!(g.is_tripped());
        assert!(!g.take(" more"));
        let f = g.cut("u".into());
        assert_eq!(f.partial_output, "abcd efg");
        assert_eq!(f.error.kind, ErrorKind::LimitExceeded);
        assert_eq!(f.response.and_then(|r| r.status), Some(200));
        // Nothing left: the first delta is already too much.
        let mut g = guard(0);
        assert!(!g.take("a"));
        assert!(g.is_tripped());
    }

    #[test]
    fn tokens_are_the_usage_else_an_estimate_else_nothing() {
        let u = Usage {
            input_tokens: 5,
            output_tokens: 7,
        };
        assert_eq!(attempt_tokens(None, Some(u), "whatever", true), 12);
        // No usage: the text's estimate (12 chars → 3), no request.
        assert_eq!(attempt_tokens(None, None, "abcdefghijkl", true), 3);
        assert_eq!(
            attempt_tokens(None, Some(Usage::default()), "abcd", true),
            1
        );
        // Refused by the server: not billed, not counted.
        assert_eq!(attempt_tokens(None, None, "abcd", false), 0);
    }
}
