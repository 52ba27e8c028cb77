//! The event stream (DESIGN §5, contract): the spine every consumer reads.
//!
//! The engine emits [`TimedEvent`]s; the TUI, the printer, the trace writer and replay only
//! consume them. `retrylab run --json` prints one per line via [`TimedEvent::to_json_line`].

use crate::error::CallError;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Sim,
    Live,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Sim => "SIM",
            Mode::Live => "LIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Error,
    Cancelled,
}

/// A provider + model pair, as in `fallback_hop`'s `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub provider: String,
    pub model: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// What came back over HTTP, for the Inspector: status, headers and (a prefix of) the body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpExchange {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
}

/// A tool call the model made, with the arguments as the model sent them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    pub id: String,
    pub name: String,
    pub args: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        scenario: String,
        mode: Mode,
        speed: String,
    },
    AttemptStarted {
        hop: u32,
        attempt: u32,
        provider: String,
        model: String,
        /// The exact request body sent (keys are headers, never in the body).
        request: serde_json::Value,
        /// Template-rendered prompt text for this attempt (with reinserted errors).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<String>,
    },
    Delta {
        hop: u32,
        attempt: u32,
        text: String,
    },
    ToolCall {
        hop: u32,
        attempt: u32,
        name: String,
        args: String,
        result: String,
    },
    AttemptFailed {
        hop: u32,
        attempt: u32,
        error: CallError,
        partial_output: String,
        will_retry: bool,
        #[serde(default)]
        latency_ms: u64,
        /// Why the policy decided what it did, in words.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        why: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<HttpExchange>,
        /// What the attempt cost in dollars (`crate::cost`), when its model has a price.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
        /// Some of its tokens were estimated (no usage in the reply).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cost_estimated: bool,
    },
    ErrorReinserted {
        hop: u32,
        attempt: u32,
        errors: Vec<String>,
    },
    WaitStarted {
        hop: u32,
        attempt: u32,
        delay_ms: u64,
        /// The back-off strategy, e.g. `exponential(multiplier=1, min=4, max=10)`.
        strategy: String,
        #[serde(default)]
        retry_after_ms: Option<u64>,
        /// What the back-off formula alone gave.
        #[serde(default)]
        computed_ms: u64,
        /// `backoff` or `retry_after`: which of the two set the wait.
        #[serde(default)]
        source: String,
    },
    WaitFinished {
        hop: u32,
        attempt: u32,
    },
    RetryExhausted {
        hop: u32,
        attempts: u32,
        last_error: CallError,
    },
    FallbackHop {
        hop: u32,
        from: Target,
        to: Target,
        caught: CallError,
    },
    AttemptSucceeded {
        hop: u32,
        attempt: u32,
        content: String,
        usage: Usage,
        latency_ms: u64,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCallRecord>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<HttpExchange>,
        /// What the attempt cost in dollars (`crate::cost`), when its model has a price.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cost_usd: Option<f64>,
        /// Some of its tokens were estimated (no usage in the reply).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cost_estimated: bool,
    },
    RunFinished {
        outcome: Outcome,
        content: Option<String>,
        error: Option<CallError>,
        caught: Vec<CallError>,
        /// The sum of every priced attempt's cost, failed ones included.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total_cost_usd: Option<f64>,
        /// Some of that sum was estimated.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        total_cost_estimated: bool,
    },
}

impl Event {
    /// The snake_case event name, as in the `event` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::AttemptStarted { .. } => "attempt_started",
            Event::Delta { .. } => "delta",
            Event::ToolCall { .. } => "tool_call",
            Event::AttemptFailed { .. } => "attempt_failed",
            Event::ErrorReinserted { .. } => "error_reinserted",
            Event::WaitStarted { .. } => "wait_started",
            Event::WaitFinished { .. } => "wait_finished",
            Event::RetryExhausted { .. } => "retry_exhausted",
            Event::FallbackHop { .. } => "fallback_hop",
            Event::AttemptSucceeded { .. } => "attempt_succeeded",
            Event::RunFinished { .. } => "run_finished",
        }
    }

    /// `(hop, attempt)` for events of an attempt.
    pub fn hop_attempt(&self) -> Option<(u32, u32)> {
        match self {
            Event::AttemptStarted { hop, attempt, .. }
            | Event::Delta { hop, attempt, .. }
            | Event::ToolCall { hop, attempt, .. }
            | Event::AttemptFailed { hop, attempt, .. }
            | Event::ErrorReinserted { hop, attempt, .. }
            | Event::WaitStarted { hop, attempt, .. }
            | Event::WaitFinished { hop, attempt }
            | Event::AttemptSucceeded { hop, attempt, .. } => Some((*hop, *attempt)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod json_pins;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn events_encode_flat_with_name_and_time() {
        let e = TimedEvent {
            t_ms: 4000,
            event: Event::WaitStarted {
                hop: 0,
                attempt: 1,
                delay_ms: 4000,
                strategy: "exponential".into(),
                retry_after_ms: Some(1000),
                computed_ms: 4000,
                source: "backoff".into(),
            },
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
            event: Event::RunFinished {
                outcome: Outcome::Error,
                content: None,
                error: Some(CallError::new(ErrorKind::Auth, "bad key").with_status(401)),
                caught: vec![],
                total_cost_usd: None,
                total_cost_estimated: false,
            },
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
            Event::AttemptSucceeded {
                cost_usd: None,
                cost_estimated: false,
                ..
            }
        ));
        let old = r#"{"t_ms":9,"event":"run_finished","outcome":"ok","content":"ok","error":null,"caught":[]}"#;
        assert!(matches!(
            TimedEvent::from_json_line(old).unwrap().event,
            Event::RunFinished {
                total_cost_usd: None,
                ..
            }
        ));
        let e = TimedEvent {
            t_ms: 3,
            event: Event::AttemptFailed {
                hop: 0,
                attempt: 2,
                error: CallError::new(ErrorKind::StreamInterrupted, "cut"),
                partial_output: "Patr".into(),
                will_retry: true,
                latency_ms: 3,
                why: String::new(),
                response: None,
                cost_usd: Some(0.000012),
                cost_estimated: true,
            },
        };
        let v: serde_json::Value = serde_json::from_str(&e.to_json_line()).unwrap();
        assert_eq!(v["cost_usd"], 0.000012);
        assert_eq!(v["cost_estimated"], true);
        assert_eq!(TimedEvent::from_json_line(&e.to_json_line()).unwrap(), e);
    }
}
