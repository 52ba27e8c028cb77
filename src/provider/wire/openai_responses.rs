//! The OpenAI Responses API wire format (`POST {base}/responses`): the request body (`input`
//! items, the system prompt as `instructions`, function tools in the Responses shape,
//! `max_output_tokens`), the plain reply's `output[]`, and the streamed `response.*` events.
//!
//! How a reply ends, in chat completions' words (so what reads OpenAI finish reasons reads
//! these): `completed` is `stop` (`tool_calls` when it holds function calls);
//! `incomplete` with `max_output_tokens` is a success whose finish reason is `length`, as
//! chat completions' `finish_reason: length` is (a fallback's `on_result` can reject it);
//! `incomplete` with `content_filter`, and a `refusal`, are `content_filter` errors; `failed`
//! is its `error` classified by code (`rate_limit_exceeded`, `server_error`, …). In a stream
//! the terminal events are `response.completed`, `response.incomplete` and `response.failed`;
//! an `error` event ends it too; unknown event types are skipped, as the official SDK yields
//! them untouched; a stream that ends without a terminal event is `stream_interrupted`.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::{StreamParser, WireFormat, join_url, malformed, secret_header};
use crate::error::{CallError, ErrorKind};
use crate::event::{ToolCallRecord, Usage};
use crate::provider::classify::{self, classify_error_event, snippet};
use crate::provider::headers;
use crate::provider::sse::{SseEvent, Step};
use crate::provider::{ChatRequest, ChatResponse, Role};
use crate::scenario::types::ProviderKind;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The OpenAI Responses API.
pub struct OpenAiResponses;

/// The one instance.
pub static OPENAI_RESPONSES: OpenAiResponses = OpenAiResponses;

/// The event that ends a complete stream.
pub const TERMINAL: &str = "response.completed";

impl WireFormat for OpenAiResponses {
    fn provider(&self) -> ProviderKind {
        ProviderKind::OpenaiResponses
    }

    fn display_name(&self) -> &'static str {
        "OpenAI Responses"
    }

    fn base_url_rule(&self) -> &'static str {
        "an OpenAI-style base_url ends in /v1: the client adds /responses"
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.openai.com/v1")
    }

    fn key_env(&self) -> Option<&'static str> {
        Some("OPENAI_API_KEY")
    }

    /// `{base_url}/responses`: the SDK convention puts `/v1` in the base URL.
    fn url(&self, base_url: &str, _: &ChatRequest) -> String {
        join_url(base_url, "/responses")
    }

    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError> {
        if let Some(key) = api_key {
            h.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"))?);
        }
        Ok(())
    }

    fn body(&self, req: &ChatRequest) -> Value {
        body(req)
    }

    fn parse_reply(
        &self,
        body: &[u8],
        headers: &[(String, String)],
    ) -> Result<ChatResponse, CallError> {
        parse_reply(body, headers)
    }

    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(StreamState::new())
    }

    fn error_types(&self) -> &'static [(&'static str, ErrorKind)] {
        ERROR_TYPES
    }
}

/// The `error.code` values of a failed response (`ResponseError.code`) and of `error`
/// events that the chat completions table does not name already.
const ERROR_TYPES: &[(&str, ErrorKind)] = &[
    ("server_is_overloaded", ErrorKind::Overloaded),
    ("vector_store_timeout", ErrorKind::ServerError),
    ("invalid_prompt", ErrorKind::BadRequest),
    ("data_residency_mismatch", ErrorKind::BadRequest),
    ("invalid_image", ErrorKind::BadRequest),
    ("invalid_image_format", ErrorKind::BadRequest),
    ("invalid_base64_image", ErrorKind::BadRequest),
    ("invalid_image_url", ErrorKind::BadRequest),
    ("image_too_large", ErrorKind::BadRequest),
    ("image_too_small", ErrorKind::BadRequest),
    ("image_parse_error", ErrorKind::BadRequest),
    ("invalid_image_mode", ErrorKind::BadRequest),
    ("image_file_too_large", ErrorKind::BadRequest),
    ("unsupported_image_media_type", ErrorKind::BadRequest),
    ("empty_image_file", ErrorKind::BadRequest),
    ("failed_to_download_image", ErrorKind::BadRequest),
    ("image_file_not_found", ErrorKind::BadRequest),
    ("image_content_policy_violation", ErrorKind::ContentFilter),
    ("bio_policy", ErrorKind::ContentFilter),
    ("misalignment_policy_violation", ErrorKind::ContentFilter),
];

/// The request body: the conversation as `input` items (assistant tool calls as
/// `function_call` items, tool results as `function_call_output`), the system prompt as
/// `instructions`.
pub fn body(req: &ChatRequest) -> Value {
    let mut input = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::User => input.push(json!({"role": "user", "content": m.content})),
            Role::Assistant => {
                if !m.content.is_empty() || m.tool_calls.is_empty() {
                    input.push(json!({"role": "assistant", "content": m.content}));
                }
                for c in &m.tool_calls {
                    input.push(json!({
                        "type": "function_call",
                        "call_id": c.id,
                        "name": c.name,
                        "arguments": c.args,
                    }));
                }
            }
            Role::Tool => input.push(json!({
                "type": "function_call_output",
                "call_id": m.tool_call_id.as_deref().unwrap_or(""),
                "output": m.content,
            })),
        }
    }
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        b.insert("instructions".into(), json!(system));
    }
    b.insert("input".into(), Value::Array(input));
    if let Some(t) = req.temperature {
        b.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        b.insert("max_output_tokens".into(), json!(n));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("type".into(), json!("function"));
                f.insert("name".into(), json!(t.name));
                if !t.description.is_empty() {
                    f.insert("description".into(), json!(t.description));
                }
                f.insert("parameters".into(), t.parameters.clone());
                // The API's default is strict, which refuses a schema that does not list
                // every property as required and forbid others: a scenario's tool schema is
                // sent as the tool's author wrote it, as chat completions sends it.
                f.insert("strict".into(), json!(false));
                Value::Object(f)
            })
            .collect();
        b.insert("tools".into(), Value::Array(tools));
    }
    if req.stream {
        b.insert("stream".into(), json!(true));
    }
    Value::Object(b)
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
        }
    }
}

#[derive(Deserialize, Default)]
struct Incomplete {
    #[serde(default)]
    reason: Option<String>,
}

/// A response object, as far as its end is concerned (the plain reply, and the `response`
/// of every `response.*` lifecycle event).
#[derive(Deserialize, Default)]
struct Outcome {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    incomplete_details: Option<Incomplete>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

impl Outcome {
    /// The finish reason of a finished response, or the error a failed one is.
    /// `has_tools`: the output holds function calls.
    fn end(
        &self,
        has_tools: bool,
        headers: &[(String, String)],
    ) -> Result<&'static str, CallError> {
        match self.status.as_deref() {
            Some("completed") | None => Ok(if has_tools { "tool_calls" } else { "stop" }),
            Some("incomplete") => {
                let reason = self
                    .incomplete_details
                    .as_ref()
                    .and_then(|d| d.reason.as_deref());
                match reason {
                    Some("content_filter") => Err(CallError::new(
                        ErrorKind::ContentFilter,
                        "the reply was stopped by the provider's content filter (status: incomplete, reason: content_filter)",
                    )
                    .with_status(200)
                    .with_provider_type("content_filter")),
                    // max_output_tokens, and any reason a newer API adds: the answer so far.
                    _ => Ok("length"),
                }
            }
            Some("failed") => Err(self.failure(headers)),
            Some(other) => Err(CallError::new(
                ErrorKind::ServerError,
                format!(
                    "the response ended with status `{}`, not completed",
                    snippet(other)
                ),
            )
            .with_status(200)
            .with_request_id(headers::request_id(headers))),
        }
    }

    /// A failed response's `error`, classified by its code.
    fn failure(&self, headers: &[(String, String)]) -> CallError {
        match self.error.as_ref().filter(|e| e.is_object()) {
            Some(e) => classify_error_event(&json!({ "error": e }), headers),
            // A failure the server did not explain is most likely its own fault.
            None => CallError::new(
                ErrorKind::ServerError,
                "the response failed (status: failed) without an error object",
            )
            .with_status(200)
            .with_request_id(headers::request_id(headers)),
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    output: Vec<Value>,
    #[serde(flatten)]
    outcome: Outcome,
}

fn not_a_response(reason: &str) -> CallError {
    CallError::new(
        ErrorKind::ServerError,
        format!("HTTP 200 reply is not a response ({reason})"),
    )
    .with_status(200)
}

/// Parses a plain (non-streamed) HTTP 200 reply: the text of every `output_text` part of
/// the `message` items, and the `function_call` items.
pub fn parse_reply(body: &[u8], headers: &[(String, String)]) -> Result<ChatResponse, CallError> {
    let v = classify::reply_json(body)?;
    let failed = v.get("status").and_then(Value::as_str) == Some("failed");
    if !failed && v.get("output").is_none() && v.get("error").is_some_and(|e| !e.is_null()) {
        // An error body sent with HTTP 200 (a proxy, a gateway).
        return Err(classify_error_event(&v, headers));
    }
    let r: Reply =
        serde_json::from_value(v).map_err(|e| not_a_response(&classify::serde_reason(&e)))?;
    let mut content = String::new();
    let mut refusal = String::new();
    let mut tool_calls = Vec::new();
    for item in &r.output {
        match item["type"].as_str() {
            Some("message") => {
                for part in item["content"].as_array().into_iter().flatten() {
                    match part["type"].as_str() {
                        Some("output_text") => {
                            content.push_str(part["text"].as_str().unwrap_or(""));
                        }
                        Some("refusal") => {
                            refusal.push_str(part["refusal"].as_str().unwrap_or(""));
                        }
                        _ => {}
                    }
                }
            }
            Some("function_call") => {
                let text = |k: &str| item[k].as_str().unwrap_or("").to_owned();
                let id = [text("call_id"), text("id")]
                    .into_iter()
                    .find(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("call_{}", tool_calls.len()));
                tool_calls.push(ToolCallRecord {
                    id,
                    name: text("name"),
                    args: text("arguments"),
                });
            }
            // Reasoning, built-in tool calls: not part of the answer.
            _ => {}
        }
    }
    let finish = r.outcome.end(!tool_calls.is_empty(), headers)?;
    check_refusal(&refusal, &content)?;
    Ok(ChatResponse {
        content,
        tool_calls,
        usage: r.outcome.usage.map(Usage::from).unwrap_or_default(),
        finish_reason: Some(finish.to_owned()),
        exchange: Default::default(),
    })
}

/// A refusal instead of an answer: the same failure as a content filter (Anthropic's
/// `stop_reason: refusal` is one too).
fn check_refusal(refusal: &str, content: &str) -> Result<(), CallError> {
    if refusal.is_empty() || !content.is_empty() {
        return Ok(());
    }
    Err(CallError::new(
        ErrorKind::ContentFilter,
        format!("the model refused to answer: {}", snippet(refusal)),
    )
    .with_status(200)
    .with_provider_type("refusal"))
}

/// Just the `type` of an event (the SSE event name is missing, or it must be checked).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
}

/// `response.output_text.delta`, `response.refusal.delta`,
/// `response.function_call_arguments.delta`.
#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    output_index: u32,
    #[serde(borrow)]
    delta: Cow<'a, str>,
}

/// `response.function_call_arguments.done`.
#[derive(Deserialize)]
struct ArgsDone<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    output_index: u32,
    #[serde(default)]
    arguments: Option<String>,
}

/// `response.output_item.added` / `.done`: a `function_call` item names its call.
#[derive(Deserialize)]
struct ItemEvent<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    output_index: u32,
    item: Item,
}

#[derive(Deserialize)]
struct Item {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// `response.completed` / `.incomplete` / `.failed`.
#[derive(Deserialize)]
struct LifecycleEvent<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    response: Outcome,
}

/// A function call being streamed, by output index.
#[derive(Debug, Default)]
struct Call {
    call_id: String,
    item_id: String,
    name: String,
    args: String,
}

/// Accumulates a streamed reply, one SSE event at a time.
#[derive(Debug, Default)]
pub struct StreamState {
    content: String,
    refusal: String,
    calls: BTreeMap<u32, Call>,
    usage: Usage,
    finish_reason: Option<String>,
    /// Bytes of text and tool-call arguments so far (the answer's size, for its cap).
    answer_bytes: usize,
}

/// What to do with one event, by its type.
enum Kind {
    Text,
    Refusal,
    ArgsDelta,
    ArgsDone,
    Item,
    /// `response.completed` / `response.incomplete` / `response.failed`.
    End,
    Error,
    /// `response.created`, `response.output_text.done`, and every type this client does not
    /// read (a newer API's, say): the SDK yields them untouched; only their JSON is checked.
    Other,
}

fn kind_of(name: &str) -> Kind {
    match name {
        "response.output_text.delta" => Kind::Text,
        "response.refusal.delta" => Kind::Refusal,
        "response.function_call_arguments.delta" => Kind::ArgsDelta,
        "response.function_call_arguments.done" => Kind::ArgsDone,
        "response.output_item.added" | "response.output_item.done" => Kind::Item,
        "response.completed" | "response.incomplete" | "response.failed" => Kind::End,
        "error" => Kind::Error,
        _ => Kind::Other,
    }
}

impl StreamState {
    pub fn new() -> StreamState {
        StreamState::default()
    }

    /// The reply, once the terminal event arrived.
    pub fn finish(self) -> ChatResponse {
        ChatResponse {
            content: self.content,
            tool_calls: self
                .calls
                .into_values()
                .enumerate()
                .map(|(i, c)| ToolCallRecord {
                    id: [c.call_id, c.item_id]
                        .into_iter()
                        .find(|s| !s.is_empty())
                        .unwrap_or_else(|| format!("call_{i}")),
                    name: c.name,
                    args: c.args,
                })
                .collect(),
            usage: self.usage,
            finish_reason: self.finish_reason,
            exchange: Default::default(),
        }
    }

    /// Reads one frame as an event of type `name`. The data's own `type` decides (as the
    /// official SDK reads it): with `check`, a frame whose type is another is read again
    /// under its type.
    fn read(
        &mut self,
        name: &str,
        data: &str,
        check: bool,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        match self.read_as(name, data, check, headers, on_delta) {
            Ok(step) => Ok(step),
            Err(Misread::Failed(e)) => Err(e),
            Err(Misread::Retype(t)) => self.read(&t, data, false, headers, on_delta),
            Err(Misread::Bad(e)) => {
                // Not this type's shape: maybe another type's, under the wrong name.
                if check
                    && let Ok(Head { kind: Some(t) }) = serde_json::from_str::<Head<'_>>(data)
                    && t != name
                {
                    return self.read(&t, data, false, headers, on_delta);
                }
                Err(malformed(data, &e, headers))
            }
        }
    }

    fn read_as(
        &mut self,
        name: &str,
        data: &str,
        check: bool,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, Misread> {
        // The frame's own type, when it is not the one it was read under.
        let typed = |kind: Option<Cow<'_, str>>| match kind {
            Some(t) if check && t != name => Err(Misread::Retype(t.into_owned())),
            _ => Ok(()),
        };
        match kind_of(name) {
            kind @ (Kind::Text | Kind::Refusal) => {
                let d: DeltaEvent<'_> = parse(data)?;
                typed(d.kind)?;
                if d.delta.is_empty() {
                    return Ok(Step::Continue);
                }
                self.answer_bytes += d.delta.len();
                if matches!(kind, Kind::Text) {
                    self.content.push_str(&d.delta);
                    on_delta(&d.delta);
                } else {
                    self.refusal.push_str(&d.delta);
                }
            }
            Kind::ArgsDelta => {
                let d: DeltaEvent<'_> = parse(data)?;
                typed(d.kind)?;
                self.answer_bytes += d.delta.len();
                self.calls
                    .entry(d.output_index)
                    .or_default()
                    .args
                    .push_str(&d.delta);
            }
            Kind::ArgsDone => {
                let d: ArgsDone<'_> = parse(data)?;
                typed(d.kind)?;
                let call = self.calls.entry(d.output_index).or_default();
                // The deltas already hold the arguments; a server that sent none has them here.
                if let Some(args) = d.arguments.filter(|_| call.args.is_empty()) {
                    self.answer_bytes += args.len();
                    call.args = args;
                }
            }
            Kind::Item => {
                let e: ItemEvent<'_> = parse(data)?;
                typed(e.kind)?;
                if e.item.kind.as_deref() == Some("function_call") {
                    let call = self.calls.entry(e.output_index).or_default();
                    let fill = |slot: &mut String, v: Option<String>| {
                        if let Some(v) = v.filter(|v| !v.is_empty() && slot.is_empty()) {
                            *slot = v;
                        }
                    };
                    fill(&mut call.call_id, e.item.call_id);
                    fill(&mut call.item_id, e.item.id);
                    fill(&mut call.name, e.item.name);
                    if call.args.is_empty()
                        && let Some(args) = e.item.arguments.filter(|a| !a.is_empty())
                    {
                        self.answer_bytes += args.len();
                        call.args = args;
                    }
                }
            }
            Kind::End => {
                let e: LifecycleEvent<'_> = parse(data)?;
                typed(e.kind)?;
                let mut outcome = e.response;
                if let Some(u) = outcome.usage.take() {
                    self.usage = u.into();
                }
                if outcome.status.is_none() {
                    // The object may leave out the status its event names.
                    outcome.status = Some(name.trim_start_matches("response.").to_owned());
                }
                let finish = outcome.end(!self.calls.is_empty(), headers)?;
                check_refusal(&self.refusal, &self.content)?;
                self.finish_reason = Some(finish.to_owned());
                return Ok(Step::Done);
            }
            Kind::Error => {
                let v: Value = parse(data)?;
                typed(v.get("type").and_then(Value::as_str).map(Cow::Borrowed))?;
                return Err(error_event(&v, headers).into());
            }
            Kind::Other => {
                let h: Head<'_> = parse(data)?;
                typed(h.kind)?;
            }
        }
        Ok(Step::Continue)
    }
}

/// Why a frame was not read as the type it was named.
enum Misread {
    /// It was, and it ends the stream with this error.
    Failed(CallError),
    /// Not JSON of that type's shape.
    Bad(serde_json::Error),
    /// Its data holds another type.
    Retype(String),
}

impl From<CallError> for Misread {
    fn from(e: CallError) -> Misread {
        Misread::Failed(e)
    }
}

fn parse<'a, T: Deserialize<'a>>(data: &'a str) -> Result<T, Misread> {
    serde_json::from_str(data).map_err(Misread::Bad)
}

/// An `error` event: `{type: "error", code, message, param}` as the API reference has it,
/// or `{type: "error", error: {type, code, message}}` as the API also sends it.
fn error_event(v: &Value, headers: &[(String, String)]) -> CallError {
    if v.get("error").is_some_and(Value::is_object) {
        return classify_error_event(v, headers);
    }
    let mut inner = Map::new();
    for key in ["message", "code", "param"] {
        if let Some(x) = v.get(key) {
            inner.insert(key.into(), x.clone());
        }
    }
    classify_error_event(&json!({ "error": inner }), headers)
}

impl StreamParser for StreamState {
    /// Handles one event; `on_delta` gets each piece of text.
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        let data = ev.data.as_str();
        if data.trim_end() == "[DONE]" {
            // Chat completions' end marker, which this API never sends (a proxy that
            // translated the stream): the reply it ends is not known to be complete.
            return Err(CallError::new(
                ErrorKind::StreamInterrupted,
                format!("the stream sent `data: [DONE]` without `{TERMINAL}`"),
            )
            .with_status(200)
            .with_request_id(headers::request_id(headers)));
        }
        if ev.event.is_empty() {
            // No event name (some proxies drop it): the data's type says what it is.
            let h: Head<'_> =
                serde_json::from_str(data).map_err(|e| malformed(data, &e, headers))?;
            let name = h.kind.unwrap_or_default().into_owned();
            return self.read(&name, data, false, headers, on_delta);
        }
        self.read(&ev.event, data, true, headers, on_delta)
    }

    fn content(&self) -> &str {
        &self.content
    }

    fn answer_bytes(&self) -> usize {
        self.answer_bytes
    }

    fn terminal(&self) -> &'static str {
        TERMINAL
    }

    fn finish(self: Box<Self>) -> ChatResponse {
        StreamState::finish(*self)
    }
}
