//! The SDK's own retries inside an attempt (DESIGN §15), as the panes see them: one nested
//! row under the attempt per request the SDK retried, with the wait before the next one.

use super::{AttemptState, Row, RunView};
use crate::error::CallError;
use crate::event::{SdkRetry, WaitEnd};

/// One request of an attempt that failed and that the SDK retried.
#[derive(Debug, Clone, PartialEq)]
pub struct SdkRetryView {
    /// Index into `attempts`.
    pub attempt_ix: usize,
    /// The hedge leg (1 = the attempt's first request).
    pub leg: u32,
    /// 1-based: the SDK's first retry is 1. The failed request carried
    /// `x-stainless-retry-count: retry - 1`, the next one carries `retry`.
    pub retry: u32,
    /// When the failed request ended and the SDK's wait began, on the run's clock.
    pub start_t: u64,
    pub delay_ms: u64,
    /// `retry_after_ms`, `retry_after` or `backoff`.
    pub source: String,
    pub status: Option<u16>,
    pub error: Box<CallError>,
    /// The SDK release emulated, e.g. `openai 3.x`.
    pub sdk: String,
    pub why: String,
    pub cost_usd: Option<f64>,
    pub cost_estimated: bool,
}

impl SdkRetryView {
    /// The header value the failed request carried.
    pub fn retry_count_sent(&self) -> u32 {
        self.retry.saturating_sub(1)
    }

    /// When the SDK's wait ends on the run's clock.
    pub fn end_t(&self) -> u64 {
        self.start_t.saturating_add(self.delay_ms)
    }

    /// Where the delay came from, in words: `backoff`, `retry-after-ms`, `Retry-After`.
    pub fn source_label(&self) -> &str {
        crate::words::sdk_delay_source(&self.source)
    }

    /// `500 server_error`, or the kind alone when no status came back.
    pub fn failure_label(&self) -> String {
        match self.status {
            Some(s) => format!("{s} {}", self.error.kind),
            None => self.error.kind.to_string(),
        }
    }

    /// The wait's state at run time `now`: `None` while it runs, else how it ended (a wait
    /// the run left, its attempt no longer running, was cut there).
    pub fn ended(&self, run: &RunView, now: u64) -> Option<(WaitEnd, Option<u64>)> {
        let a = run.attempts.get(self.attempt_ix)?;
        let cut_at = match a.state {
            AttemptState::Running => None,
            _ => a.ended_t,
        };
        match cut_at {
            Some(end) if end < self.end_t() => {
                Some((WaitEnd::Cancelled, Some(end.saturating_sub(self.start_t))))
            }
            _ if a.state != AttemptState::Running || now >= self.end_t() => {
                Some((WaitEnd::Elapsed, None))
            }
            _ => None,
        }
    }
}

impl RunView {
    /// Folds `sdk_retry` in: a nested row right where it happens, under its attempt.
    pub(super) fn push_sdk_retry(&mut self, t_ms: u64, e: &SdkRetry) {
        let Some(attempt_ix) = self.attempt_index(e.hop, e.attempt) else {
            return;
        };
        self.sdk_retries.push(SdkRetryView {
            attempt_ix,
            leg: e.leg,
            retry: e.retry,
            start_t: t_ms,
            delay_ms: e.delay_ms,
            source: e.source.clone(),
            status: e.status,
            error: Box::new(e.error.clone()),
            sdk: e.sdk.clone(),
            why: e.why.clone(),
            cost_usd: e.cost_usd,
            cost_estimated: e.cost_estimated,
        });
        self.rows.push(Row::SdkRetry(self.sdk_retries.len() - 1));
    }

    /// The SDK retries of attempt `ix`, in order. They arrive while their attempt is the
    /// newest, so `attempt_ix` never decreases: two binary searches find them.
    pub fn sdk_retries_of(&self, ix: usize) -> &[SdkRetryView] {
        let from = self.sdk_retries.partition_point(|r| r.attempt_ix < ix);
        let to = self.sdk_retries.partition_point(|r| r.attempt_ix <= ix);
        &self.sdk_retries[from..to]
    }
}
