//! What the live panes show, folded from the event stream alone (no engine types): attempts,
//! waits, reinserted errors, fallback hops and the outcome, as timeline rows.
//!
//! - `fold.rs`: the [`Observer`](crate::event::Observer) that folds each event in;
//! - `request.rs`: request bodies kept as text; `clock.rs`: the run clock between events;
//! - `fixtures.rs`: hand-built event lists for tests and benches.

mod clock;
mod fold;
mod request;
mod sdk;
mod shared;

#[doc(hidden)]
#[cfg(any(test, feature = "test-util"))]
pub mod fixtures;

pub use clock::RunClock;
pub use request::RequestJson;
pub use sdk::SdkRetryView;
pub use shared::{AcrossRow, SharedView};

use super::output_buf::OutputBuf;
use crate::error::CallError;
use crate::event::{
    HttpExchange, Mode, Outcome, Target, TimedEvent, Usage, WaitEnd, WaitSource, dispatch,
};
use crate::words::WaitWords;

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
    /// Where the request went and its headers (credentials redacted), when the trace says.
    pub url: String,
    pub headers: Vec<(String, String)>,
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
    /// When it ended its hop: what the fallback made of that (`AttemptFailed::fallback_why`).
    pub fallback_why: String,
    pub response: Option<Box<HttpExchange>>,
    pub usage: Option<Usage>,
    /// What it cost in dollars, when the model has a price; `cost_estimated` when some
    /// tokens were estimated.
    pub cost_usd: Option<f64>,
    pub cost_estimated: bool,
    /// The error texts this attempt's request carries (error reinsertion).
    pub reinserted: Vec<String>,
    /// Bytes at the start of `output` replayed from the attempt before
    /// (`stream_recovery = "continue"`): shown apart from the new text.
    pub replayed: usize,
    /// Its response was let go to bound memory (see [`DETAIL_KEPT`]).
    pub detail_dropped: bool,
    /// Its whole timeout, when `[limits].deadline` cut it: `(from_ms, to_ms)`.
    pub deadline_clip: Option<(u64, u64)>,
}

/// Only the newest this many attempts keep their response (headers and body): a run that
/// retries without end must not grow without bound.
pub const DETAIL_KEPT: usize = 1_000;

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
    /// `retry_after_jitter`'s part of the wait.
    pub jitter_ms: Option<u64>,
    pub finished: bool,
    /// How it ended (once finished): in full, skipped or cancelled.
    pub ended: WaitEnd,
    /// How long it lasted, when cut short.
    pub waited_ms: Option<u64>,
    /// The wait before `[limits].deadline` cut it to `delay_ms`.
    pub clipped_from_ms: Option<u64>,
}

impl WaitView {
    /// When the wait ends on the run's clock; an endless wait (`delay_ms = u64::MAX`) never
    /// does, so this saturates.
    pub fn end_t(&self) -> u64 {
        self.start_t.saturating_add(self.delay_ms)
    }

    /// Its facts, for [`crate::words`].
    pub fn words(&self) -> WaitWords<'_> {
        WaitWords {
            source: self.source,
            strategy: &self.strategy,
            delay_ms: self.delay_ms,
            retry_after_ms: self.retry_after_ms,
            computed_ms: self.computed_ms,
            jitter_ms: self.jitter_ms,
        }
    }

    /// How it ended, in words: `waited 4 s`, `skipped after 1.2 s of 4 s`...
    pub fn end_text(&self) -> String {
        crate::words::wait_end(self.ended, self.waited_ms, self.delay_ms)
    }

    /// When it ended (or is due to) on the run's clock.
    pub fn ended_t(&self) -> u64 {
        match self.waited_ms {
            Some(w) => self.start_t.saturating_add(w),
            None => self.end_t(),
        }
    }

    /// Where the wait came from, in words: the formula, or the server's Retry-After; and
    /// the deadline's clip (`8 s clipped to 3.2 s by deadline`).
    pub fn label(&self) -> String {
        match self.clipped_from_ms {
            Some(from) => format!(
                "{}, {}",
                crate::words::clipped(from, self.delay_ms),
                self.words().label()
            ),
            None => self.words().label(),
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
    /// For an error: why its last attempt was not retried, and what the fallback made of it.
    pub why: String,
    pub fallback_why: String,
    /// `[limits].on_exhausted` answered: `content` is not a real answer.
    pub degraded: bool,
}

impl Finished {
    /// Why the run ended with its error, in one line (`crate::words::why_run_ended`).
    pub fn why_line(&self) -> String {
        match &self.error {
            Some(e) => crate::words::why_run_ended(e.kind, &self.why, &self.fallback_why),
            None => String::new(),
        }
    }
}

/// One timeline row.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// Index into `attempts`.
    Attempt(usize),
    /// Index into `waits`.
    Wait(usize),
    /// Index into `sdk_retries`: nested under its attempt.
    SdkRetry(usize),
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
        /// Why it was caught (empty in traces from before it was written).
        why: Box<str>,
    },
    /// A breaker changed state, or the budget denied a retry (`[breaker]`, `[budget]`).
    Across(Box<AcrossRow>),
    /// `[fallback].on_result` rejected the attempt's 200 reply.
    Rejected {
        hop: u32,
        attempt: u32,
        result: Box<str>,
        why: Box<str>,
    },
    /// A `[limits]` limit was reached: `limit` is its key.
    Limit {
        limit: Box<str>,
        why: Box<str>,
    },
    /// A hedge leg started or given up (DESIGN §15).
    Hedge(Box<HedgeRow>),
    Outcome,
}

/// A hedge row: which leg of which attempt, and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeRow {
    pub hop: u32,
    pub attempt: u32,
    pub leg: u32,
    pub t_ms: u64,
    pub what: HedgeWhat,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HedgeWhat {
    /// Sent to `provider/model`.
    Started { target: String },
    /// Given up: `why` (another answered first, it failed, or the attempt ended).
    Cancelled {
        why: String,
        cost_usd: Option<f64>,
        cost_estimated: bool,
    },
}

/// The run as the panes see it.
#[derive(Debug, Clone, Default)]
pub struct RunView {
    pub scenario: String,
    pub mode: Option<Mode>,
    pub attempts: Vec<AttemptView>,
    pub waits: Vec<WaitView>,
    /// The SDK's own retries inside attempts (DESIGN §15).
    pub sdk_retries: Vec<SdkRetryView>,
    pub rows: Vec<Row>,
    pub finished: Option<Finished>,
    /// The newest `t_ms` seen.
    pub last_t: u64,
    /// Bumped on every change, so panes can cache by it.
    pub version: u64,
    /// Breakers and budget, when the run shares any across calls.
    pub shared: Option<SharedView>,
}

impl RunView {
    pub fn new() -> Self {
        Self::default()
    }

    #[cfg(any(test, feature = "test-util"))]
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
            Row::SdkRetry(r) => Some(self.sdk_retries[*r].attempt_ix),
            Row::Reinserted { hop, attempt, .. } => self
                .attempt_index(*hop, *attempt)
                .or_else(|| self.attempt_index(*hop, attempt.saturating_sub(1))),
            Row::Exhausted { hop, attempts, .. } => self.attempt_index(*hop, *attempts),
            Row::Across(a) => self.attempt_index(a.hop, a.attempt),
            Row::Rejected { hop, attempt, .. } => self.attempt_index(*hop, *attempt),
            Row::Hedge(h) => self.attempt_index(h.hop, h.attempt),
            Row::Fallback { .. } | Row::Limit { .. } | Row::Outcome => self.final_attempt(),
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

    /// Folds one event in (see `fold.rs`).
    pub fn apply(&mut self, ev: &TimedEvent) {
        self.version += 1;
        self.last_t = self.last_t.max(ev.t_ms);
        dispatch(self, ev);
    }

    fn attempt_mut(&mut self, hop: u32, attempt: u32) -> Option<&mut AttemptView> {
        self.attempts
            .iter_mut()
            .rev()
            .find(|a| a.hop == hop && a.attempt == attempt)
    }
}

#[cfg(test)]
mod tests;
