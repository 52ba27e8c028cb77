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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::sse::decode_all;
    use crate::provider::{Message, ToolDef};

    fn req() -> ChatRequest {
        ChatRequest {
            model: "gpt-4o-mini".into(),
            system: Some("Be brief.".into()),
            messages: vec![Message::user("Who wrote The Name of the Wind?")],
            temperature: Some(0.5),
            max_tokens: Some(100),
            stream: false,
            tools: vec![],
        }
    }

    #[test]
    fn plain_body() {
        assert_eq!(
            body(&req()),
            json!({
                "model": "gpt-4o-mini",
                "instructions": "Be brief.",
                "input": [{"role": "user", "content": "Who wrote The Name of the Wind?"}],
                "temperature": 0.5,
                "max_output_tokens": 100,
            })
        );
    }

    #[test]
    fn streamed_tool_body_with_a_tool_turn() {
        let mut r = req();
        r.system = None;
        r.temperature = None;
        r.max_tokens = None;
        r.stream = true;
        r.tools = vec![ToolDef {
            name: "get_book_author".into(),
            description: "Look up who wrote a book".into(),
            parameters: json!({"type": "object", "properties": {"title": {"type": "string"}}}),
        }];
        r.messages.push(Message {
            role: Role::Assistant,
            content: String::new(),
            tool_calls: vec![ToolCallRecord {
                id: "call_1".into(),
                name: "get_book_author".into(),
                args: "{\"title\":\"The Name of the Wind\"}".into(),
            }],
            tool_call_id: None,
        });
        r.messages.push(Message {
            role: Role::Tool,
            content: "Patrick Rothfuss".into(),
            tool_calls: vec![],
            tool_call_id: Some("call_1".into()),
        });
        let b = body(&r);
        assert_eq!(b["stream"], json!(true));
        assert!(b.get("instructions").is_none());
        assert_eq!(
            b["input"],
            json!([
                {"role": "user", "content": "Who wrote The Name of the Wind?"},
                {"type": "function_call", "call_id": "call_1", "name": "get_book_author",
                 "arguments": "{\"title\":\"The Name of the Wind\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "Patrick Rothfuss"},
            ])
        );
        assert_eq!(
            b["tools"],
            json!([{
                "type": "function",
                "name": "get_book_author",
                "description": "Look up who wrote a book",
                "parameters": {"type": "object", "properties": {"title": {"type": "string"}}},
                "strict": false,
            }])
        );
    }

    const PLAIN: &str = r#"{"id":"resp_1","object":"response","created_at":1741476542,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4o-mini-2024-07-18","output":[{"type":"reasoning","id":"rs_1","summary":[]},{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Patrick ","annotations":[]},{"type":"output_text","text":"Rothfuss.","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"call_a","name":"f","arguments":"{\"x\": 1}","status":"completed"}],"parallel_tool_calls":true,"tool_choice":"auto","tools":[],"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}"#;

    #[test]
    fn plain_reply_with_text_and_a_tool_call() {
        let r = parse_reply(PLAIN.as_bytes(), &[]).unwrap();
        assert_eq!(r.content, "Patrick Rothfuss.");
        assert_eq!(
            r.tool_calls,
            vec![ToolCallRecord {
                id: "call_a".into(),
                name: "f".into(),
                args: "{\"x\": 1}".into()
            }]
        );
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 36,
                output_tokens: 87
            }
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn plain_replies_that_end_otherwise() {
        let with = |status: &str, rest: &str| {
            format!(
                r#"{{"id":"resp_1","object":"response","status":"{status}","output":[{{"type":"message","content":[{{"type":"output_text","text":"Patrick"}}]}}]{rest}}}"#
            )
        };
        // Cut at max_output_tokens: the answer so far, finish reason `length`.
        let r = parse_reply(
            with(
                "incomplete",
                r#","incomplete_details":{"reason":"max_output_tokens"}"#,
            )
            .as_bytes(),
            &[],
        )
        .unwrap();
        assert_eq!(
            (r.content.as_str(), r.finish_reason.as_deref()),
            ("Patrick", Some("length"))
        );
        let e = parse_reply(
            with(
                "incomplete",
                r#","incomplete_details":{"reason":"content_filter"}"#,
            )
            .as_bytes(),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
        let e = parse_reply(
            with(
                "failed",
                r#","error":{"code":"rate_limit_exceeded","message":"Rate limit reached for gpt-4o-mini"}"#,
            )
            .as_bytes(),
            &[("x-request-id".into(), "req_9".into())],
        )
        .unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str(), e.status),
            (
                ErrorKind::RateLimit,
                "Rate limit reached for gpt-4o-mini",
                Some(200)
            )
        );
        assert_eq!(e.provider_type.as_deref(), Some("rate_limit_exceeded"));
        assert_eq!(e.request_id.as_deref(), Some("req_9"));
        let e = parse_reply(with("failed", r#","error":null"#).as_bytes(), &[]).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::ServerError,
                "the response failed (status: failed) without an error object"
            )
        );
        let e = parse_reply(with("queued", "").as_bytes(), &[]).unwrap_err();
        assert_eq!(
            e.message,
            "the response ended with status `queued`, not completed"
        );
        let refused = r#"{"status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"I can't help with that."}]}]}"#;
        let e = parse_reply(refused.as_bytes(), &[]).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::ContentFilter,
                "the model refused to answer: I can't help with that."
            )
        );
    }

    #[test]
    fn bad_plain_replies() {
        let e = parse_reply(br#"{"output": 5}"#, &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ServerError);
        assert!(
            e.message.starts_with("HTTP 200 reply is not a response ("),
            "{}",
            e.message
        );
        let e = parse_reply(br#"{"id": "resp_1"}"#, &[]).unwrap_err();
        assert_eq!(
            e.message,
            "HTTP 200 reply is not a response (missing field `output`)"
        );
        // An error body under HTTP 200 (a gateway) is classified as the error it is.
        let e = parse_reply(
            br#"{"error":{"message":"boom","type":"server_error","code":null}}"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::ServerError, "boom")
        );
        let huge = format!("{{\"output\": \"{}\"}}", "x".repeat(1 << 20));
        let e = parse_reply(huge.as_bytes(), &[]).unwrap_err();
        assert!(e.message.chars().count() < 600, "{}", e.message.len());
    }

    /// Reads an SSE byte stream to its end: the reply, or the error that stopped it, and
    /// the deltas seen.
    fn read(sse: &str) -> (Result<ChatResponse, CallError>, Vec<String>) {
        let mut s = StreamState::new();
        let mut seen = Vec::new();
        for ev in decode_all(sse.as_bytes()) {
            match s.event(&ev, &[], &mut |t| seen.push(t.to_owned())) {
                Ok(Step::Done) => return (Ok(s.finish()), seen),
                Ok(Step::Continue) => {}
                Err(e) => return (Err(e), seen),
            }
        }
        panic!("the stream never ended: {:?}", s.content());
    }

    fn ev(kind: &str, fields: &str) -> String {
        format!("event: {kind}\ndata: {{\"type\":\"{kind}\",{fields}}}\n\n")
    }

    const COMPLETED: &str = r#""response":{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":9,"output_tokens":4,"total_tokens":13}}"#;

    #[test]
    fn a_text_stream_with_usage_from_the_completed_event() {
        let sse = [
            ev(
                "response.created",
                r#""response":{"id":"resp_1","status":"in_progress","output":[],"usage":null}"#,
            ),
            ev(
                "response.output_item.added",
                r#""output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","content":[],"role":"assistant"}"#,
            ),
            ev(
                "response.output_text.delta",
                r#""item_id":"msg_1","output_index":0,"content_index":0,"delta":"a\n\"b\" \u00e9","logprobs":[]"#,
            ),
            ev(
                "response.output_text.delta",
                r#""item_id":"msg_1","output_index":0,"content_index":0,"delta":" c","logprobs":[]"#,
            ),
            ev(
                "response.output_text.done",
                r#""item_id":"msg_1","output_index":0,"content_index":0,"text":"a\n\"b\" \u00e9 c""#,
            ),
            ev("response.completed", COMPLETED),
        ]
        .concat();
        let (r, seen) = read(&sse);
        let r = r.unwrap();
        assert_eq!(seen, ["a\n\"b\" \u{e9}", " c"]);
        assert_eq!(r.content, "a\n\"b\" \u{e9} c");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 9,
                output_tokens: 4
            }
        );
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn tool_arguments_split_across_deltas_are_reassembled_by_output_index() {
        let sse = [
            ev(
                "response.output_item.added",
                r#""output_index":0,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_a","name":"f"}"#,
            ),
            ev(
                "response.output_item.added",
                r#""output_index":1,"item":{"id":"fc_2","type":"function_call","status":"in_progress","arguments":"","call_id":"call_b","name":"g"}"#,
            ),
            ev(
                "response.function_call_arguments.delta",
                r#""item_id":"fc_1","output_index":0,"delta":"{\"x\":""#,
            ),
            ev(
                "response.function_call_arguments.delta",
                r#""item_id":"fc_2","output_index":1,"delta":"{\"y\": 2}""#,
            ),
            ev(
                "response.function_call_arguments.delta",
                r#""item_id":"fc_1","output_index":0,"delta":" 1}""#,
            ),
            ev(
                "response.function_call_arguments.done",
                r#""item_id":"fc_1","output_index":0,"arguments":"{\"x\": 1}""#,
            ),
            // A server that streams no deltas: the done event holds the arguments.
            ev(
                "response.output_item.added",
                r#""output_index":2,"item":{"id":"fc_3","type":"function_call","arguments":"","call_id":"","name":"h"}"#,
            ),
            ev(
                "response.function_call_arguments.done",
                r#""item_id":"fc_3","output_index":2,"arguments":"{}""#,
            ),
            ev("response.completed", COMPLETED),
        ]
        .concat();
        let (r, seen) = read(&sse);
        let r = r.unwrap();
        assert!(seen.is_empty());
        let calls: Vec<(&str, &str, &str)> = r
            .tool_calls
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.args.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                ("call_a", "f", "{\"x\": 1}"),
                ("call_b", "g", "{\"y\": 2}"),
                // No call id: the item id stands in.
                ("fc_3", "h", "{}"),
            ]
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn response_failed_is_classified_by_its_code() {
        let failed = |code: &str| {
            [
                ev(
                    "response.output_text.delta",
                    r#""output_index":0,"content_index":0,"delta":"Patrick""#,
                ),
                ev(
                    "response.failed",
                    &format!(
                        r#""response":{{"id":"resp_1","status":"failed","error":{{"code":"{code}","message":"it broke"}},"output":[]}}"#
                    ),
                ),
            ]
            .concat()
        };
        for (code, kind) in [
            ("server_error", ErrorKind::ServerError),
            ("rate_limit_exceeded", ErrorKind::RateLimit),
            ("server_is_overloaded", ErrorKind::Overloaded),
            ("invalid_prompt", ErrorKind::BadRequest),
            ("vector_store_timeout", ErrorKind::ServerError),
            ("image_content_policy_violation", ErrorKind::ContentFilter),
            // A code no table names: the server's fault.
            ("something_new", ErrorKind::ServerError),
        ] {
            let (r, seen) = read(&failed(code));
            let e = r.unwrap_err();
            assert_eq!(e.kind, kind, "{code}");
            assert_eq!(e.message, "it broke");
            assert_eq!(e.status, Some(200));
            assert_eq!(e.provider_type.as_deref(), Some(code));
            assert_eq!(seen, ["Patrick"]);
        }
        let (r, _) = read(&ev(
            "response.failed",
            r#""response":{"status":"failed","error":null}"#,
        ));
        assert_eq!(r.unwrap_err().kind, ErrorKind::ServerError);
    }

    #[test]
    fn error_events_in_both_shapes() {
        // The API reference's shape: code and message at the top.
        let (r, _) = read(&ev(
            "error",
            r#""sequence_number":3,"code":"rate_limit_exceeded","message":"Rate limit reached","param":null"#,
        ));
        let e = r.unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str(), e.provider_type.as_deref()),
            (
                ErrorKind::RateLimit,
                "Rate limit reached",
                Some("rate_limit_exceeded")
            )
        );
        // The shape the API also sends: a nested error object.
        let (r, _) = read(&ev(
            "error",
            r#""sequence_number":2,"error":{"type":"service_unavailable_error","code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later.","param":null}"#,
        ));
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert_eq!(e.status, Some(200));
        // No code at all.
        let (r, _) = read(&ev("error", r#""message":"boom""#));
        assert_eq!(
            (r.as_ref().unwrap_err().kind, r.unwrap_err().message),
            (ErrorKind::ServerError, "boom".to_owned())
        );
    }

    #[test]
    fn incomplete_streams_end_as_the_plain_reply_does() {
        let incomplete = |reason: &str| {
            [
                ev("response.output_text.delta", r#""delta":"Patrick""#),
                ev(
                    "response.incomplete",
                    &format!(
                        r#""response":{{"status":"incomplete","incomplete_details":{{"reason":"{reason}"}},"usage":{{"input_tokens":3,"output_tokens":1}}}}"#
                    ),
                ),
            ]
            .concat()
        };
        let (r, _) = read(&incomplete("max_output_tokens"));
        let r = r.unwrap();
        assert_eq!(
            (r.content.as_str(), r.finish_reason.as_deref()),
            ("Patrick", Some("length"))
        );
        assert_eq!(r.usage.output_tokens, 1);
        let (r, _) = read(&incomplete("content_filter"));
        assert_eq!(r.unwrap_err().kind, ErrorKind::ContentFilter);
        let refused = [
            ev("response.refusal.delta", r#""delta":"No.""#),
            ev("response.completed", COMPLETED),
        ]
        .concat();
        let (r, _) = read(&refused);
        assert_eq!(r.unwrap_err().message, "the model refused to answer: No.");
    }

    #[test]
    fn unknown_events_are_skipped_and_names_follow_the_data() {
        let sse = [
            // Types this client does not read, one with a delta that is not text.
            ev(
                "response.reasoning_summary_text.delta",
                r#""delta":"thinking""#,
            ),
            ev("response.future_thing", r#""delta":{"x":[1,2]},"item":7"#),
            "event: keepalive\ndata: {}\n\n".to_owned(),
            // No event name (a proxy dropped it): the data's type decides.
            "data: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\n".to_owned(),
            // Named wrongly: the data's type decides, as the SDK reads it.
            "event: response.output_text.delta\ndata: {\"type\":\"response.in_progress\",\"response\":{}}\n\n"
                .to_owned(),
            "event: response.created\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"b\"}\n\n"
                .to_owned(),
            "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\"}}\n\n"
                .to_owned(),
        ]
        .concat();
        let (r, seen) = read(&sse);
        assert_eq!(r.unwrap().content, "ab");
        assert_eq!(seen, ["a", "b"]);
    }

    #[test]
    fn malformed_frames_and_a_done_marker_end_the_stream() {
        let mut s = StreamState::new();
        let data = |name: &str, d: &str| SseEvent {
            event: name.into(),
            data: d.into(),
            id: None,
        };
        for (name, bad) in [
            (
                "response.output_text.delta",
                "{\"type\":\"response.output_text.delta\",\"delta\":\"x",
            ),
            // The right JSON of the wrong shape: its delta is not text.
            (
                "response.output_text.delta",
                "{\"type\":\"response.output_text.delta\",\"delta\":5}",
            ),
            ("", "not json"),
            ("response.created", "[1, 2]"),
            ("error", "{oops"),
        ] {
            let e = s.event(&data(name, bad), &[], &mut |_| {}).unwrap_err();
            assert_eq!(e.kind, ErrorKind::StreamInterrupted, "{bad}");
            assert!(
                e.message.starts_with("malformed stream frame ("),
                "{}",
                e.message
            );
            assert_eq!(e.status, Some(200));
        }
        let e = s.event(&data("", "[DONE]"), &[], &mut |_| {}).unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (
                ErrorKind::StreamInterrupted,
                "the stream sent `data: [DONE]` without `response.completed`"
            )
        );
        // A huge wrong value is quoted short.
        let huge = format!(
            "{{\"type\":\"response.output_text.delta\",\"delta\":[\"{}\"]}}",
            "x".repeat(1 << 20)
        );
        let e = s
            .event(&data("response.output_text.delta", &huge), &[], &mut |_| {})
            .unwrap_err();
        assert!(e.message.chars().count() < 600, "{}", e.message.len());
        assert_eq!(s.terminal(), "response.completed");
    }

    #[test]
    fn urls_keys_and_names() {
        let u = |base: &str| OPENAI_RESPONSES.url(base, &req());
        assert_eq!(
            u("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/responses"
        );
        assert_eq!(u("http://h/v1/responses"), "http://h/v1/responses");
        assert_eq!(
            OPENAI_RESPONSES.default_base_url(),
            Some("https://api.openai.com/v1")
        );
        assert_eq!(OPENAI_RESPONSES.key_env(), Some("OPENAI_API_KEY"));
        let mut h = HeaderMap::new();
        OPENAI_RESPONSES.headers(Some("sk-x"), &mut h).unwrap();
        let auth = &h[AUTHORIZATION];
        assert!(auth.is_sensitive());
        assert_eq!(auth.to_str().unwrap(), "Bearer sk-x");
    }
}
