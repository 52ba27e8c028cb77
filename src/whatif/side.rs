//! One side of the comparison, folded from its events the same way for the recorded trace
//! and the new run: attempts, requests, waiting, total time, cost and outcome, plus each
//! attempt's target and end and each wait, which the identity of a replay is checked on.

use crate::error::ErrorKind;
use crate::event::{Event, Outcome, TimedEvent};
use serde::Serialize;

/// One attempt as the comparison shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptLine {
    pub hop: u32,
    pub attempt: u32,
    pub provider: String,
    pub model: String,
    /// `ok` or the error kind.
    pub ended: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Side {
    pub attempts: u32,
    /// Attempts whose request went out (a prompt that failed to render sends none).
    pub requests: u32,
    pub wait_ms: u64,
    pub total_ms: u64,
    pub cost_usd: Option<f64>,
    /// `ok`, the final error's kind, `cancelled`, or `capped` (the replay's own limit).
    pub outcome: String,
    pub attempt_list: Vec<AttemptLine>,
    /// Each wait's delay on the run clock (a cut one: what it lasted).
    pub waits_ms: Vec<u64>,
    #[serde(skip)]
    start_ms: u64,
    #[serde(skip)]
    pending: Option<AttemptLine>,
}

impl Side {
    pub fn observe(&mut self, ev: &TimedEvent) {
        match &ev.event {
            Event::RunStarted(_) => self.start_ms = ev.t_ms,
            Event::AttemptStarted(a) => {
                self.attempts += 1;
                if !a.request.is_null() {
                    self.requests += 1;
                }
                self.pending = Some(AttemptLine {
                    hop: a.hop,
                    attempt: a.attempt,
                    provider: a.provider.clone(),
                    model: a.model.clone(),
                    ended: String::new(),
                });
            }
            // Each request the SDK retried inside an attempt is a request too (as the lab
            // counts them).
            Event::SdkRetry(_) => self.requests += 1,
            Event::AttemptFailed(f) => self.end(f.error.kind.as_str()),
            Event::AttemptSucceeded(_) => self.end("ok"),
            Event::WaitStarted(w) => {
                self.wait_ms += w.delay_ms;
                self.waits_ms.push(w.delay_ms);
            }
            Event::WaitFinished(w) => {
                if let (Some(waited), Some(last)) = (w.waited_ms, self.waits_ms.last_mut()) {
                    self.wait_ms -= last.saturating_sub(waited).min(self.wait_ms);
                    *last = waited.min(*last);
                }
            }
            Event::RunFinished(f) => {
                self.total_ms = ev.t_ms.saturating_sub(self.start_ms);
                self.cost_usd = f.total_cost_usd;
                self.outcome = match f.outcome {
                    Outcome::Ok => "ok".into(),
                    Outcome::Error => f
                        .error
                        .as_ref()
                        .map_or(ErrorKind::Any, |e| e.kind)
                        .as_str()
                        .into(),
                    Outcome::Cancelled => "cancelled".into(),
                };
            }
            _ => {}
        }
    }

    fn end(&mut self, ended: &str) {
        if let Some(mut a) = self.pending.take() {
            a.ended = ended.to_string();
            self.attempt_list.push(a);
        }
    }
}
