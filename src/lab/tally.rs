//! One call folded from its event stream, as every consumer reads a run (DESIGN §1): how
//! long, how many attempts and requests, how much waiting, tokens and cost, which fallback
//! hops, how it ended. A few numbers per call; nothing is kept once it is added to the stats.

use crate::error::ErrorKind;
use crate::event::{Event, Outcome, TimedEvent};

/// How a call ended, as the lab counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Ok,
    /// The final error's kind (`retry_error`, `fallback_error`, or the re-raised kind).
    Error(ErrorKind),
    /// Stopped by the lab's per-call cap (attempts or run time).
    Capped,
    /// The lab itself was cancelled mid-call.
    Cancelled,
    /// The lab, not the policy: the call blocked on something its clock could not move (a
    /// bug of the lab's; counted so the report shows it).
    Stuck,
}

impl Ending {
    pub fn label(self) -> &'static str {
        match self {
            Ending::Ok => "ok",
            Ending::Error(k) => k.as_str(),
            Ending::Capped => "capped",
            Ending::Cancelled => "cancelled",
            Ending::Stuck => STUCK,
        }
    }
}

/// The lab's per-call cap: a policy that would retry forever is stopped here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cap {
    pub attempts: u32,
    pub run_time_ms: u64,
}

impl Default for Cap {
    fn default() -> Self {
        Cap {
            attempts: 100,
            run_time_ms: 3_600_000,
        }
    }
}

/// The outcome label of [`Ending::Stuck`].
pub const STUCK: &str = "lab_stuck";

#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub start_ms: u64,
    pub end_ms: u64,
    pub attempts: u32,
    /// Attempts whose request went out (a template that failed to render sends none).
    pub requests: u32,
    pub wait_ms: u64,
    /// The delay of the wait in progress (a cut one counts only what it lasted).
    pub last_delay_ms: u64,
    pub tokens: u64,
    pub cost_usd: Option<f64>,
    /// The deepest fallback hop reached (0 = the primary only).
    pub deepest_hop: u32,
    pub ending: Option<Ending>,
    /// The lab asked the engine to stop this call.
    pub capped: bool,
    /// Load mode: where the call's t = 0 lies on the shared clock (ms).
    pub offset_ms: Option<u64>,
    /// Load mode: when each request went out, on the shared clock (ms); at most
    /// `Cap::attempts` + 1 per call.
    pub requests_at: Vec<u64>,
    /// Load mode: when each 429 came back, on the shared clock (ms).
    pub limited_at: Vec<u64>,
    /// Attempts an open breaker refused (`circuit_open`: never sent).
    pub breaker_refused: u32,
    /// Retries the budget denied (`budget_denied`).
    pub budget_denied: u32,
}

impl Tally {
    /// An empty tally; `offset_ms` set (load mode) records requests on the shared clock.
    pub fn at(offset_ms: Option<u64>) -> Tally {
        Tally {
            offset_ms,
            ..Tally::default()
        }
    }

    /// A call that ended as `ending` with nothing else to tell.
    pub fn ended(ending: Ending) -> Tally {
        Tally {
            ending: Some(ending),
            ..Tally::default()
        }
    }

    /// Folds one event; true once the call went past `cap` (the caller then cancels it).
    pub fn observe(&mut self, ev: &TimedEvent, cap: Cap) -> bool {
        match &ev.event {
            Event::RunStarted(_) => self.start_ms = ev.t_ms,
            Event::AttemptStarted(a) => {
                self.attempts += 1;
                if !a.request.is_null() {
                    self.requests += 1;
                    if let Some(at) = self.offset_ms {
                        self.requests_at.push(at + ev.t_ms);
                    }
                }
            }
            // The SDK's own retries and hedge legs are HTTP requests too (DESIGN §15).
            Event::SdkRetry(r) => {
                self.requests += 1;
                self.wait_ms += r.delay_ms;
                if let Some(at) = self.offset_ms {
                    self.requests_at.push(at + ev.t_ms + r.delay_ms);
                }
            }
            Event::HedgeStarted(_) => {
                self.requests += 1;
                if let Some(at) = self.offset_ms {
                    self.requests_at.push(at + ev.t_ms);
                }
            }
            Event::AttemptFailed(f) if f.error.status == Some(429) => {
                if let Some(at) = self.offset_ms {
                    self.limited_at.push(at + ev.t_ms);
                }
            }
            Event::AttemptFailed(f) if f.error.kind == ErrorKind::CircuitOpen => {
                self.breaker_refused += 1;
            }
            Event::BudgetDenied(_) => self.budget_denied += 1,
            Event::WaitStarted(w) => {
                self.wait_ms += w.delay_ms;
                self.last_delay_ms = w.delay_ms;
            }
            // Cut short (skipped, cancelled): only the time it lasted was waiting.
            Event::WaitFinished(w) => {
                if let Some(waited) = w.waited_ms {
                    self.wait_ms -= self.last_delay_ms.saturating_sub(waited).min(self.wait_ms);
                }
            }
            Event::AttemptSucceeded(a) => {
                self.tokens += a.usage.input_tokens + a.usage.output_tokens;
            }
            Event::FallbackHop(h) => self.deepest_hop = self.deepest_hop.max(h.hop),
            Event::RunFinished(f) => {
                self.end_ms = ev.t_ms;
                self.cost_usd = f.total_cost_usd;
                self.ending = Some(match f.outcome {
                    Outcome::Ok => Ending::Ok,
                    Outcome::Error => match &f.error {
                        Some(e) => Ending::Error(e.kind),
                        None => Ending::Error(ErrorKind::Any),
                    },
                    Outcome::Cancelled if self.capped => Ending::Capped,
                    Outcome::Cancelled => Ending::Cancelled,
                });
            }
            _ => {}
        }
        let over =
            self.attempts > cap.attempts || ev.t_ms.saturating_sub(self.start_ms) > cap.run_time_ms;
        if over && !self.capped && self.ending.is_none() {
            self.capped = true;
            return true;
        }
        false
    }

    /// Run-clock time from start to end.
    pub fn latency_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_cut_short_counts_only_what_it_lasted() {
        use crate::event::{WaitEnd, WaitFinished, WaitSource, WaitStarted};
        let cap = Cap {
            attempts: 100,
            run_time_ms: 3_600_000,
        };
        let mut t = Tally::default();
        let started = |delay_ms| TimedEvent {
            t_ms: 0,
            event: Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms,
                strategy: String::new(),
                retry_after_ms: None,
                computed_ms: delay_ms,
                source: WaitSource::Backoff,
                clipped_from_ms: None,
                retry_after_jitter_ms: None,
            }),
        };
        t.observe(&started(4000), cap);
        t.observe(
            &TimedEvent {
                t_ms: 4000,
                event: Event::WaitFinished(WaitFinished::elapsed(0, 1)),
            },
            cap,
        );
        t.observe(&started(8000), cap);
        t.observe(
            &TimedEvent {
                t_ms: 5200,
                event: Event::WaitFinished(WaitFinished {
                    hop: 0,
                    attempt: 2,
                    waited_ms: Some(1200),
                    ended: WaitEnd::Skipped,
                }),
            },
            cap,
        );
        assert_eq!(t.wait_ms, 5200, "4 s in full, then 1.2 s of 8 s");
    }
}
