//! One struct per event (DESIGN §5): the fields of each `event` kind, as they go on the wire.

use super::types::{
    HttpExchange, Mode, Outcome, Target, ToolCallRecord, Usage, WaitEnd, WaitSource,
};
use crate::error::CallError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub scenario: String,
    pub mode: Mode,
    pub speed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptStarted {
    pub hop: u32,
    pub attempt: u32,
    pub provider: String,
    pub model: String,
    /// The exact request body sent (keys are headers, never in the body).
    pub request: serde_json::Value,
    /// Template-rendered prompt text for this attempt (with reinserted errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Where the request went (empty when it was never sent: the prompt failed to render).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The request's headers as sent, every credential (and custom header) `[redacted]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    pub hop: u32,
    pub attempt: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub hop: u32,
    pub attempt: u32,
    pub name: String,
    pub args: String,
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptFailed {
    pub hop: u32,
    pub attempt: u32,
    pub error: CallError,
    pub partial_output: String,
    pub will_retry: bool,
    #[serde(default)]
    pub latency_ms: u64,
    /// Why the policy decided what it did, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// When this failure ends its hop (under a `[fallback]`): what the fallback made of the
    /// hop's error, e.g. `server_error is not in [fallback].catch [retry_error]: no fallback
    /// hop was tried`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fallback_why: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpExchange>,
    /// What the attempt cost in dollars (`crate::cost`), when its model has a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Some of its tokens were estimated (no usage in the reply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cost_estimated: bool,
}

/// `stream_recovery = "continue"`: this attempt sent back the text a broken stream had
/// delivered as the start of its reply (Anthropic: an assistant prefill; OpenAI: the partial
/// answer and a request to continue). Its deltas carry only the new text; its content is
/// `text` + those deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamResumed {
    pub hop: u32,
    pub attempt: u32,
    /// Characters (not bytes) of `text`.
    pub replayed_chars: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReinserted {
    pub hop: u32,
    pub attempt: u32,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitStarted {
    pub hop: u32,
    pub attempt: u32,
    pub delay_ms: u64,
    /// The back-off strategy, e.g. `exponential(multiplier=1, min=4, max=10)`.
    pub strategy: String,
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// What the back-off formula alone gave.
    #[serde(default)]
    pub computed_ms: u64,
    /// Which of the two set the wait.
    #[serde(default)]
    pub source: WaitSource,
    /// `retry_after_jitter`'s part of the wait, drawn on top of the Retry-After.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_jitter_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitFinished {
    pub hop: u32,
    pub attempt: u32,
    /// How long the wait lasted on the run's clock, when it ended before its delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    /// Skipped or cancelled; not written when the whole delay passed.
    #[serde(default, skip_serializing_if = "WaitEnd::is_elapsed")]
    pub ended: WaitEnd,
}

impl WaitFinished {
    /// The whole delay passed (the line reads as it always did).
    pub fn elapsed(hop: u32, attempt: u32) -> WaitFinished {
        WaitFinished {
            hop,
            attempt,
            waited_ms: None,
            ended: WaitEnd::Elapsed,
        }
    }

    /// Ended after `waited_ms` of its delay, by `ended`.
    pub fn cut(hop: u32, attempt: u32, ended: WaitEnd, waited_ms: u64) -> WaitFinished {
        WaitFinished {
            hop,
            attempt,
            waited_ms: Some(waited_ms),
            ended,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryExhausted {
    pub hop: u32,
    pub attempts: u32,
    pub last_error: CallError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FallbackHop {
    pub hop: u32,
    pub from: Target,
    pub to: Target,
    pub caught: CallError,
    /// Why: the caught error's kind is in the catch list of the hop it ended.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptSucceeded {
    pub hop: u32,
    pub attempt: u32,
    pub content: String,
    pub usage: Usage,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpExchange>,
    /// What the attempt cost in dollars (`crate::cost`), when its model has a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Some of its tokens were estimated (no usage in the reply).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cost_estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinished {
    pub outcome: Outcome,
    pub content: Option<String>,
    pub error: Option<CallError>,
    pub caught: Vec<CallError>,
    /// The sum of every priced attempt's cost, failed ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost_usd: Option<f64>,
    /// Some of that sum was estimated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_cost_estimated: bool,
}
