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
    /// The attempt's whole timeout, when `[limits].deadline` cut it to the time left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_clip: Option<Clip>,
}

/// A duration `[limits].deadline` cut to the time left: from `from_ms` to `to_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clip {
    pub from_ms: u64,
    pub to_ms: u64,
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
    /// The wait before `[limits].deadline` cut it to the time left (`delay_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clipped_from_ms: Option<u64>,
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
    /// A `[limits]` limit was reached and `on_exhausted` answered instead (`message`, or
    /// `last_partial`): `content` is not a real answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degraded: bool,
}

/// A `[limits]` limit of the call was reached: nothing more is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitReached {
    /// The key: `max_requests`, `max_tokens`, `max_cost_usd` or `deadline`.
    pub limit: String,
    /// Its value, in its unit (requests, tokens, dollars, milliseconds for the deadline).
    pub value: serde_json::Value,
    /// What was spent, in the same unit.
    pub spent: serde_json::Value,
    /// The hop and attempt after which it was reached (none before the first attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// `on_exhausted`: raise, message or last_partial.
    pub on_exhausted: String,
    /// In words, with what follows.
    pub why: String,
}

/// A 200 reply `[fallback].on_result` rejected: the hop ends, the same model is not
/// retried (follows the attempt's `attempt_failed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultRejected {
    pub hop: u32,
    pub attempt: u32,
    /// The predicate that fired: content_filter, length, empty or validation.
    pub result: String,
    pub why: String,
}

/// The official SDK's own loop retries inside an attempt (DESIGN §15): a request of the
/// attempt failed with `error`, and request number `retry` + 1 (carrying
/// `x-stainless-retry-count: retry`) follows after `delay_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdkRetry {
    pub hop: u32,
    pub attempt: u32,
    /// The hedge leg (1 = the attempt's first request); not written when 1.
    #[serde(default = "first_leg", skip_serializing_if = "is_first_leg")]
    pub leg: u32,
    /// 1-based: the SDK's first retry is 1.
    pub retry: u32,
    /// The failed request's error.
    pub error: CallError,
    pub delay_ms: u64,
    /// `retry_after_ms`, `retry_after` or `backoff`.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The SDK release emulated, e.g. `openai 3.x`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sdk: String,
    /// Why the SDK retries and how it chose the delay, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// What the failed request got back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpExchange>,
    /// What this failed request cost, priced like a failed attempt (0 when the server
    /// refused it); not in the attempt's own `cost_usd`, in the run's total. `None` when
    /// the model has no price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cost_estimated: bool,
}

/// A hedge: the attempt's earlier requests have not answered, so another starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgeStarted {
    pub hop: u32,
    pub attempt: u32,
    /// 2 for the first extra request.
    pub leg: u32,
    pub provider: String,
    pub model: String,
}

/// A hedge leg given up: another answered first, it failed while another was still in
/// flight, or the attempt ended (`why` says which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgeCancelled {
    pub hop: u32,
    pub attempt: u32,
    pub leg: u32,
    pub why: String,
    /// What the leg's request cost (a cancelled one: its prompt, estimated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cost_estimated: bool,
}

fn first_leg() -> u32 {
    1
}

fn is_first_leg(leg: &u32) -> bool {
    *leg == 1
}

/// `breaker_opened`, `breaker_half_open`, `breaker_closed`: the circuit breaker of a
/// provider+model changed state, at an attempt of this run (`[breaker]`, DESIGN §15). In the
/// lab and load mode the breaker is shared, so other calls' attempts change it too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerChanged {
    pub hop: u32,
    pub attempt: u32,
    pub provider: String,
    pub model: String,
    /// `5 consecutive failures`, `a half-open probe failed`, `1 of 1 half-open probe
    /// succeeded`, ...
    pub why: String,
    /// How long an opened breaker stays open (`breaker_opened` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_ms: Option<u64>,
}

/// `budget_denied` (the retry budget refused the retry after this attempt: the hop ends with
/// `budget_exhausted`) and `budget_withdrawn` (it paid for the retry): `tokens` is what the
/// budget holds, in retries, after it decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDecided {
    pub hop: u32,
    pub attempt: u32,
    pub tokens: f64,
}

/// One provider+model's breaker in a `shared_state`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerSeen {
    pub provider: String,
    pub model: String,
    /// `closed`, `open` or `half_open`.
    pub state: String,
}

/// `shared_state`: what lasts across calls as this call starts (after its deposit into the
/// budget): each breaker of a provider+model it may call, and the budget's tokens. Written
/// only when the scenario has a `[breaker]` or a `[budget]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedState {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakers: Vec<BreakerSeen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<f64>,
}
