//! The scenario file (DESIGN §2, contract): serde types. Unknown keys are refused everywhere.

use crate::error::ErrorKind;
pub use crate::policy::on_result::ResultKind;
use crate::policy::stainless::SdkVersion;
use crate::policy::{OverMax, ReinsertKeep, ReinsertMode, Secs, Stop, StreamRecovery, Wait};
/// Validator specs live with the validators (`validate` never imports the scenario).
pub use crate::validate::ValidatorSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub about: String,
    pub prompt: PromptSpec,
    pub call: CallSpec,
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default)]
    pub fallback: Option<FallbackSpec>,
    #[serde(default)]
    pub response: Option<ResponseSpec>,
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    #[serde(default)]
    pub sim: SimSpec,
    /// A second request to the same or the next hop after a delay (DESIGN §15).
    #[serde(default)]
    pub hedge: Option<HedgeSpec>,
    /// A circuit breaker per provider+model, its state shared across calls (DESIGN §15).
    #[serde(default)]
    pub breaker: Option<BreakerSpec>,
    /// A retry budget shared across calls (DESIGN §15).
    #[serde(default)]
    pub budget: Option<BudgetSpec>,
    /// What one call may spend across all its retries and hops.
    #[serde(default)]
    pub limits: Option<LimitsSpec>,
}

/// `[breaker]`: when a provider+model's breaker opens, how long it stays open, how many
/// probes a half-open one lets through. `failures` and `rate` are exclusive; neither means
/// `failures = 5`. Checked in `load/across.rs`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// Consecutive failed attempts that open it.
    #[serde(default)]
    pub failures: Option<u32>,
    /// The share of failed attempts among the last `window` that opens it, in (0, 1].
    #[serde(default)]
    pub rate: Option<f64>,
    /// Attempts the rate is taken over (default 20; only with `rate`).
    #[serde(default)]
    pub window: Option<u32>,
    /// How long it stays open before it lets a probe through (default 30 s).
    #[serde(default)]
    pub cooldown: Option<Secs>,
    /// Attempts a half-open breaker lets through; all must succeed to close it (default 1).
    #[serde(default)]
    pub half_open_probes: Option<u32>,
    #[serde(default)]
    pub on_open: crate::policy::breaker::OnOpen,
}

/// `[budget]`: tower's `TpsBudget` defaults (20 % of calls, 10 a second).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    #[serde(default)]
    pub retry_ratio: Option<f64>,
    #[serde(default)]
    pub min_retries_per_sec: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    /// minijinja; `errors` is defined (the reinserted error texts).
    pub template: Spanned<String>,
    #[serde(default)]
    pub system: Option<Spanned<String>>,
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    OpenaiCompatible,
    /// The OpenAI Responses API (`/v1/responses`).
    OpenaiResponses,
    /// Azure OpenAI chat completions: `model` is the deployment name (DESIGN §16).
    AzureOpenai,
    /// Google's Gemini API (`generateContent`, DESIGN §16).
    Gemini,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::OpenaiCompatible => "openai-compatible",
            ProviderKind::OpenaiResponses => "openai-responses",
            ProviderKind::AzureOpenai => "azure-openai",
            ProviderKind::Gemini => "gemini",
        }
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    pub provider: ProviderKind,
    pub model: String,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Azure OpenAI's `api-version` query parameter (required there, refused elsewhere).
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The whole attempt. Default 60 s.
    #[serde(default)]
    pub timeout: Option<Secs>,
    #[serde(default)]
    pub connect_timeout: Option<Secs>,
    #[serde(default)]
    pub first_byte_timeout: Option<Secs>,
    /// Between stream events.
    #[serde(default)]
    pub idle_timeout: Option<Secs>,
    /// Extra HTTP headers sent with every request of this call.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The largest answer an attempt accepts, in bytes (streamed text plus tool-call
    /// arguments, or a plain reply's body). Default 32 MiB; a bigger one fails the attempt
    /// as `server_error`.
    #[serde(default)]
    pub max_answer_bytes: Option<u64>,
    /// The official SDK's own retries inside each attempt (DESIGN §15); default 0.
    #[serde(default)]
    pub sdk_max_retries: Option<u32>,
    /// Which SDK release's retry loop is emulated.
    #[serde(default)]
    pub sdk_version: SdkVersion,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// No stop = retry forever (the UI warns).
    #[serde(default)]
    pub stop: Option<Stop>,
    /// No wait = retry at once.
    #[serde(default)]
    pub wait: Option<Wait>,
    /// Default: any.
    #[serde(default)]
    pub retry_on: Option<Vec<ErrorKind>>,
    #[serde(default)]
    pub reinsert: Vec<ErrorKind>,
    #[serde(default)]
    pub reinsert_mode: ReinsertMode,
    #[serde(default = "default_true")]
    pub honor_retry_after: bool,
    /// Default 60 s.
    #[serde(default)]
    pub retry_after_max: Option<Secs>,
    /// Seed for jitter; default 0.
    #[serde(default)]
    pub seed: Option<u64>,
    /// uniform(0, x) on top of a honoured Retry-After; default none (DESIGN §15).
    #[serde(default)]
    pub retry_after_jitter: Option<Secs>,
    /// cap | fail | fallback, when the server's Retry-After exceeds retry_after_max.
    #[serde(default)]
    pub retry_after_over_max: OverMax,
    /// restart | continue | surface, when a streamed attempt breaks after some text.
    #[serde(default)]
    pub stream_recovery: StreamRecovery,
    /// all | last: how many failed attempts' texts the next call carries.
    #[serde(default)]
    pub reinsert_keep: ReinsertKeep,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackSpec {
    /// Errors of the primary call that move on to the first hop.
    pub catch: Vec<ErrorKind>,
    #[serde(default)]
    pub hops: Vec<HopSpec>,
    /// 200 replies rejected at once: the next hop runs, the same model is not retried.
    #[serde(default)]
    pub on_result: Vec<ResultKind>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HopSpec {
    pub provider: ProviderKind,
    pub model: String,
    /// Errors of this hop that move on to the next hop.
    pub catch: Vec<ErrorKind>,
    /// This hop's own retry table; default: the scenario's `[retry]`.
    #[serde(default)]
    pub retry: Option<RetrySpec>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Azure OpenAI's `api-version` query parameter (required there, refused elsewhere).
    #[serde(default)]
    pub api_version: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// This hop's SDK retries; default: `[call].sdk_max_retries`.
    #[serde(default)]
    pub sdk_max_retries: Option<u32>,
}

/// `[hedge]`: when an attempt's first request has not answered after `after`, another is
/// sent; the first to answer wins and the others are cancelled.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HedgeSpec {
    pub after: Secs,
    /// Requests in flight at most for one attempt (>= 2).
    #[serde(default = "default_hedge_max")]
    pub max: u32,
    /// Where the extra requests go.
    #[serde(default)]
    pub to: HedgeTo,
}

fn default_hedge_max() -> u32 {
    2
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HedgeTo {
    /// The same hop's provider and model.
    #[default]
    Same,
    /// The next fallback hop's (the last hop hedges to itself).
    Next,
}

/// `[limits]`: across every retry and hop of one call. Counts are signed so that a
/// negative one gets the same message and hint as zero (at least 1).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// HTTP requests sent.
    #[serde(default)]
    pub max_requests: Option<i64>,
    /// Input + output tokens: each reply's usage (else estimated); mid-stream, counted from
    /// the text received.
    #[serde(default)]
    pub max_tokens: Option<i64>,
    /// Dollars, at `crate::cost`'s prices (sim mode prices as if live).
    #[serde(default)]
    pub max_cost_usd: Option<f64>,
    /// From the run's start: clips each attempt's timeout and each wait.
    #[serde(default)]
    pub deadline: Option<Secs>,
    #[serde(default)]
    pub on_exhausted: OnExhausted,
    /// The degraded answer, for `on_exhausted = "message"`.
    #[serde(default)]
    pub message: Option<String>,
}

/// What a reached limit ends the run with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExhausted {
    /// The run fails with `limit_exceeded`.
    #[default]
    Raise,
    /// The run succeeds with `message`, marked degraded.
    Message,
    /// The run succeeds with the last partial or rejected answer, marked degraded (raise
    /// when there is none).
    LastPartial,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    #[serde(default)]
    pub validators: Vec<ValidatorSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A JSON schema for the arguments.
    pub parameters: Spanned<toml::Value>,
    #[serde(default)]
    pub cases: Vec<ToolCase>,
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCase {
    pub when: BTreeMap<String, toml::Value>,
    pub result: String,
}

/// What the simulator does in sim mode (ignored live).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimSpec {
    /// The answer to every request...
    #[serde(default)]
    pub reply: Option<String>,
    /// ...or the i-th answer to the i-th request to a provider+model (the last repeats).
    #[serde(default)]
    pub replies: Vec<String>,
    /// The i-th tool call to the i-th request that offers tools (the last repeats).
    #[serde(default)]
    pub tool_calls: Vec<SimToolCall>,
    #[serde(default = "default_tokens_per_second")]
    pub tokens_per_second: f64,
    #[serde(default = "default_first_token_ms")]
    pub first_token_ms: u64,
    /// How long an error reply (an HTTP error status, a reset) takes to come back.
    #[serde(default)]
    pub error_ms: u64,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Random faults: fault name -> probability per request.
    #[serde(default)]
    pub chaos: BTreeMap<FaultKind, f64>,
    #[serde(default)]
    pub seed: u64,
    /// Windows of the run clock in which every matching request gets a fault (DESIGN §11).
    #[serde(default)]
    pub outages: Vec<OutageSpec>,
    /// Server-side token buckets per provider+model, shared by every request (DESIGN §11).
    #[serde(default)]
    pub limits: Vec<LimitSpec>,
    /// Seeded latency distributions, replacing `first_token_ms` / `tokens_per_second`.
    #[serde(default)]
    pub latency: Option<LatencySpec>,
}

impl Default for SimSpec {
    fn default() -> Self {
        SimSpec {
            reply: None,
            replies: Vec::new(),
            tool_calls: Vec::new(),
            tokens_per_second: default_tokens_per_second(),
            first_token_ms: default_first_token_ms(),
            error_ms: 0,
            faults: Vec::new(),
            chaos: BTreeMap::new(),
            seed: 0,
            outages: Vec::new(),
            limits: Vec::new(),
            latency: None,
        }
    }
}

fn default_tokens_per_second() -> f64 {
    40.0
}

fn default_first_token_ms() -> u64 {
    200
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SimToolCall {
    pub name: String,
    /// The arguments exactly as the model sends them (a JSON string, possibly broken).
    pub args: String,
}

/// One scripted fault. A request takes the first entry that matches it and has uses left.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    #[serde(default)]
    pub provider: Option<ProviderKind>,
    #[serde(default)]
    pub model: Option<String>,
    pub fault: FaultKind,
    /// How many requests this entry answers (default: unlimited when `on_requests` is set,
    /// else 1).
    #[serde(default)]
    pub times: Option<u32>,
    /// 1-based request numbers (per provider+model) this entry applies to.
    #[serde(default)]
    pub on_requests: Option<Vec<u32>>,
    /// For rate_limit / overloaded: the Retry-After the server sends.
    #[serde(default)]
    pub retry_after: Option<Secs>,
    /// How Retry-After is written: `seconds` (default), `ms` (`retry-after-ms`) or `date`.
    #[serde(default)]
    pub retry_after_format: Option<RetryAfterFormat>,
    /// For cut_stream / malformed_stream / overloaded_in_stream: tokens sent before the fault.
    #[serde(default)]
    pub after_tokens: Option<u32>,
    /// For slow_first_byte: how long before the first byte. On any other fault but
    /// timeout: how long before the reply starts (an error reply: instead of `error_ms`), as
    /// `retrylab whatif` replays a recorded latency.
    #[serde(default)]
    pub delay: Option<Secs>,
    /// Override the error message the server sends.
    #[serde(default)]
    pub message: Option<String>,
    /// For the faults that are an HTTP error reply: the status it is sent with instead of
    /// the fault's own (a recorded 502, 403 or 408, say).
    #[serde(default)]
    pub status: Option<u16>,
    /// For the faults that send an answer or part of one: this request's text, instead of
    /// `reply` / `replies`.
    #[serde(default)]
    pub reply: Option<String>,
    /// Likewise, the tool call this request gets when it offers tools, instead of
    /// `tool_calls`.
    #[serde(default)]
    pub tool_call: Option<SimToolCall>,
}

/// A window `[from, to)` of the run clock: a request to `provider` (and `model`, if set)
/// whose start falls in it gets `fault`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutageSpec {
    pub provider: ProviderKind,
    #[serde(default)]
    pub model: Option<String>,
    pub from: Secs,
    pub to: Secs,
    pub fault: FaultKind,
    // The details a scripted fault may carry (`FaultSpec`'s, same rules), so that a window
    // can replay a recorded failure whole (`retrylab whatif --map time`).
    #[serde(default)]
    pub retry_after: Option<Secs>,
    #[serde(default)]
    pub retry_after_format: Option<RetryAfterFormat>,
    #[serde(default)]
    pub after_tokens: Option<u32>,
    #[serde(default)]
    pub delay: Option<Secs>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub reply: Option<String>,
    #[serde(default)]
    pub tool_call: Option<SimToolCall>,
}

impl OutageSpec {
    /// The fault a request in the window gets, with the window's details.
    pub fn fault_spec(&self) -> FaultSpec {
        FaultSpec {
            provider: Some(self.provider),
            model: self.model.clone(),
            fault: self.fault,
            times: None,
            on_requests: None,
            retry_after: self.retry_after,
            retry_after_format: self.retry_after_format,
            after_tokens: self.after_tokens,
            delay: self.delay,
            message: self.message.clone(),
            status: self.status,
            reply: self.reply.clone(),
            tool_call: self.tool_call.clone(),
        }
    }
}

/// A token bucket of `burst` requests (default: `rpm`) refilling at `rpm` per minute of the
/// run clock; an empty bucket answers 429 with the time until the next token.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    pub provider: ProviderKind,
    pub model: String,
    pub rpm: u32,
    #[serde(default)]
    pub burst: Option<u32>,
}

/// `[sim].latency`: each part, when set, replaces its fixed counterpart.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// Replaces `first_token_ms`.
    #[serde(default)]
    pub first_token: Option<Dist<Secs>>,
    /// Replaces `tokens_per_second` (drawn once per reply).
    #[serde(default)]
    pub tokens_per_second: Option<Dist<f64>>,
}

/// A distribution one value is drawn from per request (seeded by `[sim].seed`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist<T> {
    /// Log-normal with this median and 99th percentile.
    Lognormal {
        median: T,
        p99: T,
    },
    Normal {
        mean: T,
        sd: T,
    },
    Fixed(T),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterFormat {
    Seconds,
    Ms,
    Date,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 + Retry-After + the provider's error body.
    RateLimit,
    /// Anthropic 529 `overloaded_error` / OpenAI 503.
    Overloaded,
    /// 500.
    ServerError,
    /// No byte until the client's timeout.
    Timeout,
    /// The first byte comes after `delay`.
    SlowFirstByte,
    /// The connection is closed without a reply.
    ConnectionReset,
    /// The stream stops after `after_tokens` tokens, with no terminal event.
    CutStream,
    /// A frame that is not valid JSON after `after_tokens` tokens.
    MalformedStream,
    /// An error event inside the HTTP 200 stream after `after_tokens` tokens.
    OverloadedInStream,
    /// 401.
    Auth,
    /// 400.
    BadRequest,
    /// 400 with the provider's context-length error.
    ContextLength,
    /// A 502 with an HTML body, as proxies send.
    Html,
    /// The reply stops part-way, flagged by the content filter (OpenAI `finish_reason:
    /// content_filter`, Anthropic `stop_reason: refusal`).
    ContentFilter,
    /// OpenAI 429 `insufficient_quota`; Anthropic's "credit balance is too low" 400.
    QuotaExhausted,
    /// The stream (or a plain body) stops sending after `after_tokens` and never ends.
    Stall,
    /// The reply is cut at `after_tokens` with `finish_reason: length` / `max_tokens`.
    Length,
    /// An answer with no text.
    Empty,
}
