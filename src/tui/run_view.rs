//! What the live panes show, folded from the event stream alone (no engine types): attempts,
//! waits, reinserted errors, fallback hops and the outcome, as timeline rows.

use super::output_buf::OutputBuf;
use crate::clock::Speed;
use crate::error::CallError;
use crate::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    HttpExchange, Mode, Outcome, RetryExhausted, RunFinished, RunStarted, Target, TimedEvent,
    ToolCall, Usage, WaitFinished, WaitSource, WaitStarted,
};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptState {
    Running,
    Failed,
    Succeeded,
    /// The run ended (cancelled) while this attempt was in flight.
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallView {
    pub name: String,
    pub args: String,
    pub result: String,
}

#[derive(Debug, Clone)]
pub struct AttemptView {
    pub hop: u32,
    pub attempt: u32,
    pub provider: String,
    pub model: String,
    pub request: RequestJson,
    pub prompt: Option<String>,
    pub started_t: u64,
    pub ended_t: Option<u64>,
    pub state: AttemptState,
    pub output: OutputBuf,
    pub tool_calls: Vec<ToolCallView>,
    // Boxed: most attempts have neither, and a run may keep tens of thousands of attempts.
    pub error: Option<Box<CallError>>,
    pub will_retry: bool,
    pub latency_ms: Option<u64>,
    pub why: String,
    pub response: Option<Box<HttpExchange>>,
    pub usage: Option<Usage>,
    /// What it cost in dollars, when the model has a price; `cost_estimated` when some
    /// tokens were estimated.
    pub cost_usd: Option<f64>,
    pub cost_estimated: bool,
    /// The error texts this attempt's request carries (error reinsertion).
    pub reinserted: Vec<String>,
    /// Its response was let go to bound memory (see [`DETAIL_KEPT`]).
    pub detail_dropped: bool,
}

/// Only the newest this many attempts keep their response (headers and body): a run that
/// retries without end must not grow without bound.
pub const DETAIL_KEPT: usize = 1_000;

/// A request body kept as its compact JSON text: a parsed `serde_json::Value` costs several
/// times that (a B-tree node per object), and a run that retries without end keeps one per
/// attempt. A retry that sends the same body shares the text. The Inspector parses the
/// selected one when it draws.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestJson(std::sync::Arc<str>);

impl RequestJson {
    pub fn new(v: &serde_json::Value) -> Self {
        RequestJson(v.to_string().into())
    }

    /// `v`'s text, sharing `prev`'s allocation when it is the same.
    pub fn new_like(v: &serde_json::Value, prev: Option<&RequestJson>) -> Self {
        let text = v.to_string();
        match prev {
            Some(p) if *p.0 == *text => p.clone(),
            _ => RequestJson(text.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The body as JSON (`Null` if the text does not parse back, e.g. past serde's depth).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

impl std::fmt::Display for RequestJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WaitView {
    pub hop: u32,
    pub attempt: u32,
    pub start_t: u64,
    pub delay_ms: u64,
    pub strategy: String,
    pub retry_after_ms: Option<u64>,
    pub computed_ms: u64,
    pub source: WaitSource,
    pub finished: bool,
}

impl WaitView {
    /// When the wait ends on the run's clock; an endless wait (`delay_ms = u64::MAX`) never
    /// does, so this saturates.
    pub fn end_t(&self) -> u64 {
        self.start_t.saturating_add(self.delay_ms)
    }

    /// Where the wait came from, in words: the formula, or the server's Retry-After.
    pub fn label(&self) -> String {
        let secs = |ms: u64| crate::policy::duration::format_secs(ms as f64 / 1000.0);
        if self.source == WaitSource::RetryAfter {
            format!(
                "Retry-After {} (back-off gave {})",
                secs(self.retry_after_ms.unwrap_or(self.delay_ms)),
                secs(self.computed_ms)
            )
        } else {
            match self.retry_after_ms {
                Some(ra) => format!(
                    "{} = {} (Retry-After {} is shorter)",
                    self.strategy,
                    secs(self.computed_ms),
                    secs(ra)
                ),
                None => format!("{} = {}", self.strategy, secs(self.delay_ms)),
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub outcome: Outcome,
    pub content: Option<String>,
    pub error: Option<CallError>,
    pub caught: Vec<CallError>,
    pub t_ms: u64,
    pub total_cost_usd: Option<f64>,
    pub total_cost_estimated: bool,
}

/// One timeline row.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// Index into `attempts`.
    Attempt(usize),
    /// Index into `waits`.
    Wait(usize),
    Reinserted {
        hop: u32,
        attempt: u32,
        errors: Vec<String>,
    },
    // Rare rows box their payload, so every row stays small.
    Exhausted {
        hop: u32,
        attempts: u32,
        last_error: Box<CallError>,
    },
    Fallback {
        hop: u32,
        from: Box<Target>,
        to: Box<Target>,
        caught: Box<CallError>,
    },
    Outcome,
}

/// The run as the panes see it.
#[derive(Debug, Clone, Default)]
pub struct RunView {
    pub scenario: String,
    pub mode: Option<Mode>,
    pub speed: String,
    pub attempts: Vec<AttemptView>,
    pub waits: Vec<WaitView>,
    pub rows: Vec<Row>,
    pub finished: Option<Finished>,
    /// The newest `t_ms` seen.
    pub last_t: u64,
    /// Bumped on every change, so panes can cache by it.
    pub version: u64,
}

impl RunView {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.mode.is_none()
    }

    pub fn attempt_index(&self, hop: u32, attempt: u32) -> Option<usize> {
        self.attempts
            .iter()
            .rposition(|a| a.hop == hop && a.attempt == attempt)
    }

    /// The attempt a row is about (the one that failed before a wait, the one that carries a
    /// reinserted error, the last attempt of an exhausted hop...).
    pub fn attempt_of_row(&self, row: usize) -> Option<usize> {
        match self.rows.get(row)? {
            Row::Attempt(i) => Some(*i),
            Row::Wait(w) => {
                let w = &self.waits[*w];
                self.attempt_index(w.hop, w.attempt)
            }
            Row::Reinserted { hop, attempt, .. } => self
                .attempt_index(*hop, *attempt)
                .or_else(|| self.attempt_index(*hop, attempt.saturating_sub(1))),
            Row::Exhausted { hop, attempts, .. } => self.attempt_index(*hop, *attempts),
            Row::Fallback { .. } | Row::Outcome => self.final_attempt(),
        }
    }

    /// The attempt that produced the answer, or else the newest one.
    pub fn final_attempt(&self) -> Option<usize> {
        self.attempts
            .iter()
            .rposition(|a| a.state == AttemptState::Succeeded)
            .or_else(|| self.attempts.len().checked_sub(1))
    }

    pub fn active_wait(&self) -> Option<&WaitView> {
        self.waits.last().filter(|w| !w.finished)
    }

    pub fn any_running(&self) -> bool {
        self.finished.is_none()
            && (self.active_wait().is_some()
                || self
                    .attempts
                    .iter()
                    .any(|a| a.state == AttemptState::Running))
    }

    pub fn apply(&mut self, ev: &TimedEvent) {
        self.version += 1;
        self.last_t = self.last_t.max(ev.t_ms);
        let t = ev.t_ms;
        match &ev.event {
            Event::RunStarted(RunStarted {
                scenario,
                mode,
                speed,
            }) => {
                *self = RunView {
                    scenario: scenario.clone(),
                    mode: Some(*mode),
                    speed: speed.clone(),
                    version: self.version,
                    last_t: t,
                    ..RunView::default()
                };
            }
            Event::AttemptStarted(AttemptStarted {
                hop,
                attempt,
                provider,
                model,
                request,
                prompt,
            }) => {
                // The engine announces a reinsertion after the previous attempt failed and
                // before this one starts: look back only that far, so a run of thousands of
                // attempts folds in linear time.
                let reinserted = self
                    .rows
                    .iter()
                    .rev()
                    .take_while(|r| !matches!(r, Row::Attempt(_)))
                    .find_map(|r| match r {
                        Row::Reinserted {
                            hop: h,
                            attempt: a,
                            errors,
                        } if h == hop && a == attempt => Some(errors.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                self.attempts.push(AttemptView {
                    hop: *hop,
                    attempt: *attempt,
                    provider: provider.clone(),
                    model: model.clone(),
                    request: RequestJson::new_like(
                        request,
                        self.attempts.last().map(|a| &a.request),
                    ),
                    prompt: prompt.clone(),
                    started_t: t,
                    ended_t: None,
                    state: AttemptState::Running,
                    output: OutputBuf::new(),
                    tool_calls: Vec::new(),
                    error: None,
                    will_retry: false,
                    latency_ms: None,
                    why: String::new(),
                    response: None,
                    usage: None,
                    cost_usd: None,
                    cost_estimated: false,
                    reinserted,
                    detail_dropped: false,
                });
                self.rows.push(Row::Attempt(self.attempts.len() - 1));
                if let Some(old) = self
                    .attempts
                    .len()
                    .checked_sub(DETAIL_KEPT + 1)
                    .and_then(|i| self.attempts.get_mut(i))
                    && old.response.take().is_some()
                {
                    old.detail_dropped = true;
                }
            }
            Event::Delta(Delta { hop, attempt, text }) => {
                if let Some(a) = self.attempt_mut(*hop, *attempt) {
                    a.output.push(text);
                }
            }
            Event::ToolCall(ToolCall {
                hop,
                attempt,
                name,
                args,
                result,
            }) => {
                if let Some(a) = self.attempt_mut(*hop, *attempt) {
                    a.tool_calls.push(ToolCallView {
                        name: name.clone(),
                        args: args.clone(),
                        result: result.clone(),
                    });
                }
            }
            Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error,
                partial_output,
                will_retry,
                latency_ms,
                why,
                response,
                cost_usd,
                cost_estimated,
            }) => {
                if let Some(a) = self.attempt_mut(*hop, *attempt) {
                    a.state = AttemptState::Failed;
                    a.cost_usd = *cost_usd;
                    a.cost_estimated = *cost_estimated;
                    a.ended_t = Some(t);
                    a.error = Some(Box::new(error.clone()));
                    a.will_retry = *will_retry;
                    a.latency_ms = Some(*latency_ms);
                    a.why = why.clone();
                    a.response = response.clone().map(Box::new);
                    if a.output.is_empty() && !partial_output.is_empty() {
                        a.output.set(partial_output);
                    }
                }
            }
            Event::ErrorReinserted(ErrorReinserted {
                hop,
                attempt,
                errors,
            }) => {
                if let Some(a) = self.attempt_mut(*hop, *attempt) {
                    a.reinserted = errors.clone();
                }
                self.rows.push(Row::Reinserted {
                    hop: *hop,
                    attempt: *attempt,
                    errors: errors.clone(),
                });
            }
            Event::WaitStarted(WaitStarted {
                hop,
                attempt,
                delay_ms,
                strategy,
                retry_after_ms,
                computed_ms,
                source,
            }) => {
                self.waits.push(WaitView {
                    hop: *hop,
                    attempt: *attempt,
                    start_t: t,
                    delay_ms: *delay_ms,
                    strategy: strategy.clone(),
                    retry_after_ms: *retry_after_ms,
                    computed_ms: *computed_ms,
                    source: *source,
                    finished: false,
                });
                self.rows.push(Row::Wait(self.waits.len() - 1));
            }
            Event::WaitFinished(WaitFinished { hop, attempt }) => {
                if let Some(w) = self
                    .waits
                    .iter_mut()
                    .rev()
                    .find(|w| w.hop == *hop && w.attempt == *attempt)
                {
                    w.finished = true;
                }
            }
            Event::RetryExhausted(RetryExhausted {
                hop,
                attempts,
                last_error,
            }) => self.rows.push(Row::Exhausted {
                hop: *hop,
                attempts: *attempts,
                last_error: Box::new(last_error.clone()),
            }),
            Event::FallbackHop(FallbackHop {
                hop,
                from,
                to,
                caught,
            }) => self.rows.push(Row::Fallback {
                hop: *hop,
                from: Box::new(from.clone()),
                to: Box::new(to.clone()),
                caught: Box::new(caught.clone()),
            }),
            Event::AttemptSucceeded(AttemptSucceeded {
                hop,
                attempt,
                content,
                usage,
                latency_ms,
                tool_calls: _,
                response,
                cost_usd,
                cost_estimated,
            }) => {
                if let Some(a) = self.attempt_mut(*hop, *attempt) {
                    a.state = AttemptState::Succeeded;
                    a.cost_usd = *cost_usd;
                    a.cost_estimated = *cost_estimated;
                    a.ended_t = Some(t);
                    a.latency_ms = Some(*latency_ms);
                    a.usage = Some(*usage);
                    a.response = response.clone().map(Box::new);
                    if a.output.is_empty() {
                        a.output.set(content);
                    }
                }
            }
            Event::RunFinished(RunFinished {
                outcome,
                content,
                error,
                caught,
                total_cost_usd,
                total_cost_estimated,
            }) => {
                for a in &mut self.attempts {
                    if a.state == AttemptState::Running {
                        a.state = AttemptState::Abandoned;
                        a.ended_t = Some(t);
                    }
                }
                for w in &mut self.waits {
                    w.finished = true;
                }
                self.finished = Some(Finished {
                    outcome: *outcome,
                    content: content.clone(),
                    error: error.clone(),
                    caught: caught.clone(),
                    t_ms: t,
                    total_cost_usd: *total_cost_usd,
                    total_cost_estimated: *total_cost_estimated,
                });
                self.rows.push(Row::Outcome);
            }
        }
    }

    fn attempt_mut(&mut self, hop: u32, attempt: u32) -> Option<&mut AttemptView> {
        self.attempts
            .iter_mut()
            .rev()
            .find(|a| a.hop == hop && a.attempt == attempt)
    }
}

/// Estimates the run's clock between events so countdowns drain smoothly at the run speed:
/// the newest event's `t_ms` plus the wall time since it, times the speed.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    anchor_t: u64,
    anchor_wall: Instant,
    speed: Speed,
    running: bool,
}

impl RunClock {
    pub fn new(speed: Speed, now: Instant) -> Self {
        RunClock {
            anchor_t: 0,
            anchor_wall: now,
            speed,
            running: false,
        }
    }

    pub fn start(&mut self, now: Instant) {
        self.anchor_t = 0;
        self.anchor_wall = now;
        self.running = true;
    }

    pub fn stop(&mut self, now: Instant) {
        self.anchor_t = self.now_ms(now);
        self.anchor_wall = now;
        self.running = false;
    }

    /// An event arrived at run time `t`: re-anchor (the estimate runs ahead while the run's
    /// virtual clock stands still during a loopback request).
    pub fn observe(&mut self, t: u64, now: Instant) {
        self.anchor_t = t;
        self.anchor_wall = now;
    }

    pub fn set_speed(&mut self, speed: Speed, now: Instant) {
        self.anchor_t = self.now_ms(now);
        self.anchor_wall = now;
        self.speed = speed;
    }

    pub fn now_ms(&self, now: Instant) -> u64 {
        if !self.running {
            return self.anchor_t;
        }
        let wall = now.saturating_duration_since(self.anchor_wall);
        let run = match self.speed {
            Speed::Max => Duration::ZERO,
            Speed::Times(x) => wall.mul_f64(x),
        };
        let run_ms = u64::try_from(run.as_millis()).unwrap_or(u64::MAX);
        self.anchor_t.saturating_add(run_ms)
    }

    /// Milliseconds left of a wait, on the estimated run clock.
    pub fn remaining_ms(&self, w: &WaitView, now: Instant) -> u64 {
        if w.finished {
            return 0;
        }
        w.end_t().saturating_sub(self.now_ms(now))
    }
}

/// Hand-built event lists for pane, app and snapshot tests (also used by tests/ and benches/).
#[doc(hidden)]
pub mod fixtures {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    pub fn ev(t_ms: u64, event: Event) -> TimedEvent {
        TimedEvent { t_ms, event }
    }

    fn rate_limited() -> CallError {
        CallError::new(ErrorKind::RateLimit, "Rate limit reached for gpt-4o-mini")
            .with_status(429)
            .with_retry_after_ms(Some(1000))
    }

    fn request(text: &str) -> serde_json::Value {
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]})
    }

    /// Primary fails once with a rate limit, then waits (4 s): the state mid-wait.
    pub fn mid_wait() -> Vec<TimedEvent> {
        vec![
            ev(
                0,
                Event::RunStarted(RunStarted {
                    scenario: "Fallback with retries".into(),
                    mode: Mode::Sim,
                    speed: "1x".into(),
                }),
            ),
            ev(
                0,
                Event::AttemptStarted(AttemptStarted {
                    hop: 0,
                    attempt: 1,
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                    request: request("Answer this question: What is the meaning of life?"),
                    prompt: None,
                }),
            ),
            ev(
                12,
                Event::AttemptFailed(AttemptFailed {
                    hop: 0,
                    attempt: 1,
                    error: rate_limited(),
                    partial_output: String::new(),
                    will_retry: true,
                    latency_ms: 12,
                    why: "rate_limit is in retry_on; wait = max(exponential 4 s, retry-after 1 s) = 4 s; attempt 1 of 3".into(),
                    response: Some(HttpExchange {
                        url: "http://127.0.0.1:4000/v1/chat/completions".into(),
                        status: Some(429),
                        headers: vec![("retry-after".into(), "1".into())],
                        body: r#"{"error":{"type":"rate_limit_exceeded","message":"Rate limit reached"}}"#.into(),
                    }),
                    cost_usd: None,
                    cost_estimated: false,
                }),
            ),
            ev(
                12,
                Event::ErrorReinserted(ErrorReinserted {
                    hop: 0,
                    attempt: 2,
                    errors: vec!["rate_limit (429): Rate limit reached for gpt-4o-mini".into()],
                }),
            ),
            ev(
                12,
                Event::WaitStarted(WaitStarted {
                    hop: 0,
                    attempt: 1,
                    delay_ms: 4000,
                    strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                    retry_after_ms: Some(1000),
                    computed_ms: 4000,
                    source: WaitSource::Backoff,
                }),
            ),
        ]
    }

    /// The whole fallback-with-retries run: three rate limits, then the hop answers.
    pub fn full_fallback() -> Vec<TimedEvent> {
        let mut v = mid_wait();
        let mut t = 4012;
        v.push(ev(
            t,
            Event::WaitFinished(WaitFinished { hop: 0, attempt: 1 }),
        ));
        for attempt in 2..=3u32 {
            v.push(ev(
                t,
                Event::AttemptStarted(AttemptStarted {
                    hop: 0,
                    attempt,
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                    request: request(
                        "Answer this question: What is the meaning of life?\nPrevious errors: rate_limit (429): Rate limit reached for gpt-4o-mini",
                    ),
                    prompt: None,
                }),
            ));
            t += 10;
            v.push(ev(
                t,
                Event::AttemptFailed(AttemptFailed {
                    hop: 0,
                    attempt,
                    error: rate_limited(),
                    partial_output: String::new(),
                    will_retry: attempt < 3,
                    latency_ms: 10,
                    why: format!("rate_limit is in retry_on; attempt {attempt} of 3"),
                    response: None,
                    cost_usd: None,
                    cost_estimated: false,
                }),
            ));
            if attempt < 3 {
                v.push(ev(
                    t,
                    Event::WaitStarted(WaitStarted {
                        hop: 0,
                        attempt,
                        delay_ms: 4000,
                        strategy: "exponential(multiplier=1, min=4, max=10)".into(),
                        retry_after_ms: Some(1000),
                        computed_ms: 4000,
                        source: WaitSource::Backoff,
                    }),
                ));
                t += 4000;
                v.push(ev(t, Event::WaitFinished(WaitFinished { hop: 0, attempt })));
            }
        }
        let last = rate_limited();
        let retry_error = CallError::retry_error(3, last.clone());
        v.push(ev(
            t,
            Event::RetryExhausted(RetryExhausted {
                hop: 0,
                attempts: 3,
                last_error: last,
            }),
        ));
        v.push(ev(
            t,
            Event::FallbackHop(FallbackHop {
                hop: 1,
                from: Target {
                    provider: "openai".into(),
                    model: "gpt-4o-mini".into(),
                },
                to: Target {
                    provider: "anthropic".into(),
                    model: "claude-3-5-sonnet-latest".into(),
                },
                caught: retry_error.clone(),
            }),
        ));
        v.push(ev(
            t,
            Event::AttemptStarted(AttemptStarted {
                hop: 1,
                attempt: 1,
                provider: "anthropic".into(),
                model: "claude-3-5-sonnet-latest".into(),
                request: json!({"model": "claude-3-5-sonnet-latest", "max_tokens": 1024,
                    "messages": [{"role": "user", "content": [{"type": "text", "text": "Answer this question: What is the meaning of life?"}]}]}),
                prompt: None,
            }),
        ));
        for w in ["The meaning ", "of life is ", "42."] {
            t += 25;
            v.push(ev(
                t,
                Event::Delta(Delta {
                    hop: 1,
                    attempt: 1,
                    text: w.into(),
                }),
            ));
        }
        v.push(ev(
            t,
            Event::AttemptSucceeded(AttemptSucceeded {
                hop: 1,
                attempt: 1,
                content: "The meaning of life is 42.".into(),
                usage: Usage {
                    input_tokens: 14,
                    output_tokens: 7,
                },
                latency_ms: 75,
                tool_calls: vec![],
                response: Some(HttpExchange {
                    url: "http://127.0.0.1:4001/v1/messages".into(),
                    status: Some(200),
                    headers: vec![("content-type".into(), "text/event-stream".into())],
                    body: String::new(),
                }),
                cost_usd: Some(0.000147),
                cost_estimated: false,
            }),
        ));
        v.push(ev(
            t,
            Event::RunFinished(RunFinished {
                outcome: Outcome::Ok,
                content: Some("The meaning of life is 42.".into()),
                error: None,
                caught: vec![retry_error],
                total_cost_usd: Some(0.000147),
                total_cost_estimated: false,
            }),
        ));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    #[test]
    fn folds_a_fallback_run_into_rows() {
        let mut v = RunView::new();
        for e in full_fallback() {
            v.apply(&e);
        }
        assert_eq!(v.attempts.len(), 4);
        assert_eq!(v.waits.len(), 2);
        assert!(v.waits.iter().all(|w| w.finished));
        assert!(
            v.rows
                .iter()
                .any(|r| matches!(r, Row::Fallback { hop: 1, .. }))
        );
        assert!(matches!(v.rows.last(), Some(Row::Outcome)));
        let done = v.finished.as_ref().unwrap();
        assert_eq!(done.outcome, Outcome::Ok);
        let last = &v.attempts[3];
        assert_eq!(last.output.as_str(), "The meaning of life is 42.");
        assert_eq!(last.state, AttemptState::Succeeded);
        assert_eq!(v.attempts[1].reinserted.len(), 1);
        assert_eq!(v.final_attempt(), Some(3));
        assert!(!v.any_running());
    }

    #[test]
    fn wait_labels_name_their_source() {
        let mut v = RunView::new();
        for e in mid_wait() {
            v.apply(&e);
        }
        let w = v.active_wait().unwrap();
        assert_eq!(
            w.label(),
            "exponential(multiplier=1, min=4, max=10) = 4 s (Retry-After 1 s is shorter)"
        );
        let mut ra = w.clone();
        ra.source = WaitSource::RetryAfter;
        ra.retry_after_ms = Some(30_000);
        assert!(ra.label().starts_with("Retry-After 30 s"), "{}", ra.label());
        assert!(v.any_running());
    }

    #[test]
    fn run_clock_drains_waits_at_the_run_speed() {
        let t0 = Instant::now();
        let mut c = RunClock::new(Speed::Times(10.0), t0);
        c.start(t0);
        c.observe(12, t0);
        let mut v = RunView::new();
        for e in mid_wait() {
            v.apply(&e);
        }
        let w = v.active_wait().unwrap().clone();
        assert_eq!(c.remaining_ms(&w, t0), 4000);
        // 100 ms of wall time at 10x is 1 s of run time.
        assert_eq!(c.remaining_ms(&w, t0 + Duration::from_millis(100)), 3000);
        assert_eq!(c.remaining_ms(&w, t0 + Duration::from_secs(5)), 0);
        c.stop(t0 + Duration::from_millis(100));
        assert_eq!(c.now_ms(t0 + Duration::from_secs(9)), 1012);
    }

    #[test]
    fn endless_waits_and_huge_times_saturate() {
        // An infinite wait arrives as delay_ms = u64::MAX; a crafted trace may say anything.
        let t0 = Instant::now();
        let mut c = RunClock::new(Speed::Times(100.0), t0);
        c.start(t0);
        let mut v = RunView::new();
        for e in mid_wait() {
            v.apply(&e);
        }
        let mut w = v.active_wait().unwrap().clone();
        w.delay_ms = u64::MAX;
        assert_eq!(w.end_t(), u64::MAX);
        assert_eq!(c.remaining_ms(&w, t0), u64::MAX);
        c.observe(u64::MAX - 5, t0);
        assert_eq!(c.now_ms(t0 + Duration::from_secs(3600)), u64::MAX);
        assert_eq!(c.remaining_ms(&w, t0 + Duration::from_secs(1)), 0);
    }

    #[test]
    fn only_the_newest_attempts_keep_their_response() {
        use crate::error::{CallError, ErrorKind};
        let mut v = RunView::new();
        let n = DETAIL_KEPT as u32 + 5;
        for attempt in 1..=n {
            let t = u64::from(attempt);
            v.apply(&TimedEvent {
                t_ms: t,
                event: Event::AttemptStarted(AttemptStarted {
                    hop: 0,
                    attempt,
                    provider: "openai".into(),
                    model: "m".into(),
                    request: serde_json::json!({"model": "m"}),
                    prompt: None,
                }),
            });
            v.apply(&TimedEvent {
                t_ms: t,
                event: Event::AttemptFailed(AttemptFailed {
                    hop: 0,
                    attempt,
                    error: CallError::new(ErrorKind::RateLimit, "slow down").with_status(429),
                    partial_output: String::new(),
                    will_retry: true,
                    latency_ms: 0,
                    why: String::new(),
                    response: Some(HttpExchange {
                        url: "http://x".into(),
                        status: Some(429),
                        headers: vec![("retry-after".into(), "1".into())],
                        body: "{}".into(),
                    }),
                    cost_usd: None,
                    cost_estimated: false,
                }),
            });
        }
        let dropped = v.attempts.iter().filter(|a| a.detail_dropped).count();
        // Exactly the newest DETAIL_KEPT keep theirs.
        assert_eq!(dropped, n as usize - DETAIL_KEPT);
        assert!(v.attempts[..dropped].iter().all(|a| a.response.is_none()));
        assert!(v.attempts[dropped..].iter().all(|a| a.response.is_some()));
        // What the timeline shows stays: the error of every attempt.
        assert!(v.attempts.iter().all(|a| a.error.is_some()));
    }

    #[test]
    fn retries_with_the_same_body_share_its_text() {
        let mut v = RunView::new();
        for e in full_fallback() {
            v.apply(&e);
        }
        let (a2, a3) = (&v.attempts[1].request, &v.attempts[2].request);
        assert_eq!(a2, a3);
        assert!(std::sync::Arc::ptr_eq(&a2.0, &a3.0), "one text for both");
        assert_ne!(v.attempts[0].request, *a2);
        assert_eq!(
            v.attempts[3].request.value()["model"],
            "claude-3-5-sonnet-latest"
        );
        assert!(v.attempts[3].request.to_string().starts_with('{'));
    }
}
