//! One call folded from its event stream, as every consumer reads a run (DESIGN §1): how
//! long, how many attempts and requests, how much waiting, tokens and cost, which fallback
//! hops, how it ended. A few numbers per call; nothing is kept once it is added to the stats.

use crate::error::{CallError, ErrorKind};
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
    /// The machine, not the policy: the call could not reach its own loopback simulator
    /// (which never refuses a connection), e.g. once the ephemeral ports are used up.
    LocalConnect,
}

impl Ending {
    pub fn label(self) -> &'static str {
        match self {
            Ending::Ok => "ok",
            Ending::Error(k) => k.as_str(),
            Ending::Capped => "capped",
            Ending::Cancelled => "cancelled",
            Ending::LocalConnect => LOCAL_CONNECT,
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

/// The outcome label of [`Ending::LocalConnect`].
pub const LOCAL_CONNECT: &str = "lab_connect_failed";

/// The error, or one it wraps, is a failed connect to the loopback simulator.
fn local_connect(e: &CallError) -> bool {
    (e.kind == ErrorKind::Connection && e.message.starts_with("cannot connect to 127.0.0.1"))
        || e.last_error.as_deref().is_some_and(local_connect)
        || e.errors.iter().any(local_connect)
}

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
}

impl Tally {
    /// Folds one event; true once the call went past `cap` (the caller then cancels it).
    pub fn observe(&mut self, ev: &TimedEvent, cap: Cap) -> bool {
        match &ev.event {
            Event::RunStarted(_) => self.start_ms = ev.t_ms,
            Event::AttemptStarted(a) => {
                self.attempts += 1;
                if !a.request.is_null() {
                    self.requests += 1;
                }
            }
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
                        Some(e) if local_connect(e) => Ending::LocalConnect,
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
    fn a_failed_connect_to_the_own_simulator_is_the_machines_fault() {
        let e = CallError::new(
            ErrorKind::Connection,
            "cannot connect to 127.0.0.1: refused",
        );
        assert!(local_connect(&CallError::retry_error(3, e)));
        let scripted = CallError::new(ErrorKind::Connection, "connection reset by the server");
        assert!(!local_connect(&scripted));
    }

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
