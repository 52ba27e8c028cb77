//! The event stream (DESIGN §5, contract): the spine every consumer reads.
//!
//! The engine emits [`TimedEvent`]s; the TUI, the printer, the trace writer and replay only
//! consume them, each as an [`Observer`] (one method per event kind, [`dispatch`]ed in one
//! place). `retrylab run --json` prints one per line via [`TimedEvent::to_json_line`].
//!
//! - [`kinds`]: one struct per event kind, its fields as they go on the wire.
//! - [`types`]: the values they carry (mode, outcome, usage, the HTTP exchange, ...).
//! - [`observe`]: the [`Observer`] trait and [`dispatch`].
//!
//! The wording consumers share (wait sources, the why of a fallback) is in `crate::words`.

pub mod kinds;
pub mod observe;
pub mod types;

pub use kinds::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, BreakerChanged, BreakerSeen, BudgetDecided,
    Clip, Delta, ErrorReinserted, FallbackHop, HedgeCancelled, HedgeStarted, LimitReached,
    ResultRejected, RetryExhausted, RunFinished, RunStarted, SdkRetry, SharedState, StreamResumed,
    ToolCall, WaitFinished, WaitStarted,
};
pub use observe::{BreakerTo, Observer, dispatch};
pub use types::{HttpExchange, Mode, Outcome, Target, ToolCallRecord, Usage, WaitEnd, WaitSource};

use serde::{Deserialize, Serialize};

/// An event stamped with `t_ms`, milliseconds since run start on the run's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedEvent {
    pub t_ms: u64,
    #[serde(flatten)]
    pub event: Event,
}

impl TimedEvent {
    /// One JSON object, no trailing newline.
    pub fn to_json_line(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"event\":\"encode_error\",\"message\":\"{e}\"}}"))
    }

    pub fn from_json_line(line: &str) -> Result<TimedEvent, serde_json::Error> {
        serde_json::from_str(line)
    }
}

/// One event: its kind is the `event` field, its struct's fields sit beside it (internally
/// tagged, so each line is one flat object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted(RunStarted),
    AttemptStarted(AttemptStarted),
    Delta(Delta),
    ToolCall(ToolCall),
    AttemptFailed(AttemptFailed),
    ErrorReinserted(ErrorReinserted),
    WaitStarted(WaitStarted),
    WaitFinished(WaitFinished),
    RetryExhausted(RetryExhausted),
    FallbackHop(FallbackHop),
    AttemptSucceeded(AttemptSucceeded),
    RunFinished(RunFinished),
    SdkRetry(SdkRetry),
    HedgeStarted(HedgeStarted),
    HedgeCancelled(HedgeCancelled),
    SharedState(SharedState),
    BreakerOpened(BreakerChanged),
    BreakerHalfOpen(BreakerChanged),
    BreakerClosed(BreakerChanged),
    BudgetWithdrawn(BudgetDecided),
    BudgetDenied(BudgetDecided),
    LimitReached(LimitReached),
    ResultRejected(ResultRejected),
    StreamResumed(StreamResumed),
}

impl Event {
    /// The snake_case event name, as in the `event` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::RunStarted(_) => "run_started",
            Event::AttemptStarted(_) => "attempt_started",
            Event::Delta(_) => "delta",
            Event::ToolCall(_) => "tool_call",
            Event::AttemptFailed(_) => "attempt_failed",
            Event::ErrorReinserted(_) => "error_reinserted",
            Event::WaitStarted(_) => "wait_started",
            Event::WaitFinished(_) => "wait_finished",
            Event::RetryExhausted(_) => "retry_exhausted",
            Event::FallbackHop(_) => "fallback_hop",
            Event::AttemptSucceeded(_) => "attempt_succeeded",
            Event::RunFinished(_) => "run_finished",
            Event::SdkRetry(_) => "sdk_retry",
            Event::HedgeStarted(_) => "hedge_started",
            Event::HedgeCancelled(_) => "hedge_cancelled",
            Event::SharedState(_) => "shared_state",
            Event::BreakerOpened(_) => "breaker_opened",
            Event::BreakerHalfOpen(_) => "breaker_half_open",
            Event::BreakerClosed(_) => "breaker_closed",
            Event::BudgetWithdrawn(_) => "budget_withdrawn",
            Event::BudgetDenied(_) => "budget_denied",
            Event::LimitReached(_) => "limit_reached",
            Event::ResultRejected(_) => "result_rejected",
            Event::StreamResumed(_) => "stream_resumed",
        }
    }

    /// `(hop, attempt)` for events of an attempt.
    pub fn hop_attempt(&self) -> Option<(u32, u32)> {
        match self {
            Event::AttemptStarted(AttemptStarted { hop, attempt, .. })
            | Event::Delta(Delta { hop, attempt, .. })
            | Event::ToolCall(ToolCall { hop, attempt, .. })
            | Event::AttemptFailed(AttemptFailed { hop, attempt, .. })
            | Event::ErrorReinserted(ErrorReinserted { hop, attempt, .. })
            | Event::WaitStarted(WaitStarted { hop, attempt, .. })
            | Event::WaitFinished(WaitFinished { hop, attempt, .. })
            | Event::AttemptSucceeded(AttemptSucceeded { hop, attempt, .. })
            | Event::SdkRetry(SdkRetry { hop, attempt, .. })
            | Event::HedgeStarted(HedgeStarted { hop, attempt, .. })
            | Event::HedgeCancelled(HedgeCancelled { hop, attempt, .. })
            | Event::BreakerOpened(BreakerChanged { hop, attempt, .. })
            | Event::BreakerHalfOpen(BreakerChanged { hop, attempt, .. })
            | Event::BreakerClosed(BreakerChanged { hop, attempt, .. })
            | Event::BudgetWithdrawn(BudgetDecided { hop, attempt, .. })
            | Event::BudgetDenied(BudgetDecided { hop, attempt, .. })
            | Event::ResultRejected(ResultRejected { hop, attempt, .. })
            | Event::StreamResumed(StreamResumed { hop, attempt, .. }) => Some((*hop, *attempt)),
            // After the attempt that reached it (or before any): the call's, not an attempt's.
            Event::LimitReached(_)
            | Event::SharedState(_)
            | Event::RunStarted(_)
            | Event::RetryExhausted(_)
            | Event::FallbackHop(_)
            | Event::RunFinished(_) => None,
        }
    }
}

#[cfg(test)]
mod json_pins;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CallError, ErrorKind};

    #[test]
    fn events_encode_flat_with_name_and_time() {
        let e = TimedEvent {
            t_ms: 4000,
            event: Event::WaitStarted(WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 4000,
                strategy: "exponential".into(),
                retry_after_ms: Some(1000),
                computed_ms: 4000,
                source: WaitSource::Backoff,
                clipped_from_ms: None,
                retry_after_jitter_ms: None,
            }),
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json_line()).unwrap();
        assert_eq!(v["event"], "wait_started");
        assert_eq!(v["t_ms"], 4000);
        assert_eq!(v["hop"], 0);
        assert_eq!(v["delay_ms"], 4000);
        assert_eq!(v["retry_after_ms"], 1000);
        assert_eq!(TimedEvent::from_json_line(&e.to_json_line()).unwrap(), e);
    }

    #[test]
    fn run_finished_round_trips() {
        let e = TimedEvent {
            t_ms: 1,
            event: Event::RunFinished(RunFinished {
                outcome: Outcome::Error,
                content: None,
                error: Some(CallError::new(ErrorKind::Auth, "bad key").with_status(401)),
                caught: vec![],
                total_cost_usd: None,
                total_cost_estimated: false,
                degraded: false,
            }),
        };
        let line = e.to_json_line();
        assert!(line.contains("\"outcome\":\"error\""));
        assert!(
            !line.contains("cost"),
            "no cost fields when there is no cost: {line}"
        );
        assert_eq!(TimedEvent::from_json_line(&line).unwrap(), e);
        assert_eq!(e.event.name(), "run_finished");
    }

    #[test]
    fn cost_fields_are_optional_so_old_traces_parse() {
        let old = r#"{"t_ms":9,"event":"attempt_succeeded","hop":0,"attempt":1,"content":"ok","usage":{"input_tokens":1,"output_tokens":2},"latency_ms":9}"#;
        let ev = TimedEvent::from_json_line(old).unwrap();
        assert!(matches!(
            ev.event,
            Event::AttemptSucceeded(AttemptSucceeded {
                cost_usd: None,
                cost_estimated: false,
                ..
            })
        ));
        let old = r#"{"t_ms":9,"event":"run_finished","outcome":"ok","content":"ok","error":null,"caught":[]}"#;
        assert!(matches!(
            TimedEvent::from_json_line(old).unwrap().event,
            Event::RunFinished(RunFinished {
                total_cost_usd: None,
                ..
            })
        ));
        let e = TimedEvent {
            t_ms: 3,
            event: Event::AttemptFailed(AttemptFailed {
                hop: 0,
                attempt: 2,
                error: CallError::new(ErrorKind::StreamInterrupted, "cut"),
                partial_output: "Patr".into(),
                will_retry: true,
                latency_ms: 3,
                why: String::new(),
                fallback_why: String::new(),
                response: None,
                cost_usd: Some(0.000012),
                cost_estimated: true,
            }),
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json_line()).unwrap();
        assert_eq!(v["cost_usd"], 0.000012);
        assert_eq!(v["cost_estimated"], true);
        assert_eq!(TimedEvent::from_json_line(&e.to_json_line()).unwrap(), e);
    }
}
