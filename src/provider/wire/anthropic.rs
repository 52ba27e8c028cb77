//! The Anthropic messages wire format: the request body (top-level `system`, required
//! `max_tokens`, `tool_use` / `tool_result` blocks), the plain reply, and the streamed
//! events (`message_start` … `message_stop`, `tool_use` blocks filled by
//! `input_json_delta`, `event: error` inside an HTTP 200 stream).

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::{StreamParser, WireFormat, join_url, malformed, secret_header};
use crate::error::{CallError, ErrorKind};
use crate::event::{ToolCallRecord, Usage};
use crate::provider::classify::{self, classify_error_event, reply_json};
use crate::provider::sse::{SseEvent, Step};
use crate::provider::{ChatRequest, ChatResponse, Role};
use crate::scenario::types::ProviderKind;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// `max_tokens` is required by the API; this is sent when the request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// The `anthropic-version` header every request carries.
pub const API_VERSION: &str = "2023-06-01";

/// The Anthropic messages API.
pub struct Anthropic;

/// The one instance.
pub static ANTHROPIC: Anthropic = Anthropic;

impl WireFormat for Anthropic {
    fn takes_prefill(&self) -> bool {
        true
    }

    fn provider(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn display_name(&self) -> &'static str {
        "Anthropic"
    }

    fn base_url_rule(&self) -> &'static str {
        "Anthropic's base_url has no /v1: the client adds /v1/messages"
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.anthropic.com")
    }

    fn key_env(&self) -> Option<&'static str> {
        Some("ANTHROPIC_API_KEY")
    }

    /// `{base_url}/v1/messages`: the SDK convention leaves `/v1` out of the base URL, but a
    /// base that ends in `/v1` is understood.
    fn url(&self, base_url: &str, _: &ChatRequest) -> String {
        let base = base_url.trim().trim_end_matches('/');
        if !base.ends_with("/v1/messages") && base.ends_with("/v1") {
            format!("{base}/messages")
        } else {
            join_url(base, "/v1/messages")
        }
    }

    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError> {
        h.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        if let Some(key) = api_key {
            h.insert("x-api-key", secret_header(key)?);
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

/// The `error.type` values of Anthropic's error bodies and `event: error` frames.
const ERROR_TYPES: &[(&str, ErrorKind)] = &[
    ("overloaded_error", ErrorKind::Overloaded),
    ("rate_limit_error", ErrorKind::RateLimit),
    ("api_error", ErrorKind::ServerError),
    ("timeout_error", ErrorKind::ServerError),
    ("authentication_error", ErrorKind::Auth),
    ("permission_error", ErrorKind::Auth),
    ("billing_error", ErrorKind::QuotaExhausted),
    ("invalid_request_error", ErrorKind::BadRequest),
    ("not_found_error", ErrorKind::BadRequest),
    ("request_too_large", ErrorKind::BadRequest),
];

/// The request body.
pub fn body(req: &ChatRequest) -> Value {
    let mut messages: Vec<Value> = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        match m.role {
            Role::User => messages.push(json!({"role": "user", "content": m.content})),
            Role::Assistant if m.tool_calls.is_empty() => {
                messages.push(json!({"role": "assistant", "content": m.content}));
            }
            Role::Assistant => {
                let mut blocks = Vec::with_capacity(m.tool_calls.len() + 1);
                if !m.content.is_empty() {
                    blocks.push(json!({"type": "text", "text": m.content}));
                }
                for c in &m.tool_calls {
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": c.id,
                        "name": c.name,
                        "input": tool_input(&c.args),
                    }));
                }
                messages.push(json!({"role": "assistant", "content": blocks}));
            }
            Role::Tool => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id.as_deref().unwrap_or(""),
                    "content": m.content,
                });
                // Every result answering one assistant turn goes in one user message.
                match messages.last_mut() {
                    Some(last) if is_tool_results(last) => {
                        if let Some(Value::Array(blocks)) = last.get_mut("content") {
                            blocks.push(block);
                        }
                    }
                    _ => messages.push(json!({"role": "user", "content": [block]})),
                }
            }
        }
    }
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert(
        "max_tokens".into(),
        json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        b.insert("system".into(), json!(system));
    }
    b.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        b.insert("temperature".into(), json!(t));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("name".into(), json!(t.name));
                if !t.description.is_empty() {
                    o.insert("description".into(), json!(t.description));
                }
                o.insert("input_schema".into(), t.parameters.clone());
                Value::Object(o)
            })
            .collect();
        b.insert("tools".into(), Value::Array(tools));
    }
    if req.stream {
        b.insert("stream".into(), json!(true));
    }
    Value::Object(b)
}

/// A `tool_use` block's `input` must be an object: arguments that are not one (a model's
/// broken JSON, sent back in a reask) go as `{}`.
fn tool_input(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    }
}

fn is_tool_results(m: &Value) -> bool {
    m["role"] == "user"
        && m["content"]
            .as_array()
            .is_some_and(|b| b.iter().all(|b| b["type"] == "tool_result"))
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Reply {
    content: Vec<Value>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// Parses a plain (non-streamed) HTTP 200 reply.
pub fn parse_reply(body: &[u8], headers: &[(String, String)]) -> Result<ChatResponse, CallError> {
    let v = reply_json(body)?;
    if v["type"] == "error" || v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(classify_error_event(&v, headers));
    }
    let r: Reply = serde_json::from_value(v).map_err(|e| {
        CallError::new(
            ErrorKind::ServerError,
            format!(
                "HTTP 200 reply is not a message ({})",
                classify::serde_reason(&e)
            ),
        )
        .with_status(200)
    })?;
    let mut content = String::new();
    let mut tool_calls = Vec::new();
    for block in &r.content {
        match block["type"].as_str() {
            Some("text") => content.push_str(block["text"].as_str().unwrap_or("")),
            Some("tool_use") => tool_calls.push(ToolCallRecord {
                id: block["id"].as_str().unwrap_or("").to_owned(),
                name: block["name"].as_str().unwrap_or("").to_owned(),
                args: block
                    .get("input")
                    .map_or_else(|| "{}".to_owned(), Value::to_string),
            }),
            _ => {}
        }
    }
    check_stop(r.stop_reason.as_deref())?;
    let u = r.usage.unwrap_or_default();
    Ok(ChatResponse {
        content,
        tool_calls,
        usage: Usage {
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
        },
        finish_reason: r.stop_reason,
        exchange: Default::default(),
    })
}

/// Claude declines with `stop_reason: "refusal"`: the same failure as OpenAI's content
/// filter.
fn check_stop(reason: Option<&str>) -> Result<(), CallError> {
    if reason == Some("refusal") {
        return Err(CallError::new(
            ErrorKind::ContentFilter,
            "the model refused to answer (stop_reason: refusal)",
        )
        .with_status(200)
        .with_provider_type("refusal"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: Option<FrameDelta<'a>>,
    #[serde(default)]
    message: Option<StartMessage>,
    #[serde(default, borrow)]
    content_block: Option<StartBlock<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct FrameDelta<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StartBlock<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Accumulates a streamed reply, one SSE event at a time.
#[derive(Debug, Default)]
pub struct StreamState {
    content: String,
    /// `tool_use` blocks by content block index.
    tools: BTreeMap<u32, ToolCallRecord>,
    usage: Usage,
    stop_reason: Option<String>,
    /// Bytes of text and tool-call arguments so far (the answer's size, for its cap).
    answer_bytes: usize,
}

impl StreamState {
    pub fn new() -> StreamState {
        StreamState::default()
    }

    /// The reply, once `message_stop` arrived.
    pub fn finish(self) -> ChatResponse {
        ChatResponse {
            content: self.content,
            tool_calls: self
                .tools
                .into_values()
                .map(|mut t| {
                    // A tool without arguments streams no partial JSON; its input is `{}`.
                    if t.args.trim().is_empty() {
                        t.args = "{}".into();
                    }
                    t
                })
                .collect(),
            usage: self.usage,
            finish_reason: self.stop_reason,
            exchange: Default::default(),
        }
    }
}

impl StreamParser for StreamState {
    /// Handles one event; `on_delta` gets each piece of text.
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        let f: Frame<'_> = match serde_json::from_str(&ev.data) {
            Ok(f) => f,
            Err(e) => return Err(malformed(&ev.data, &e, headers)),
        };
        let kind = f.kind.as_deref().unwrap_or(ev.event.as_str());
        match kind {
            "message_start" => {
                if let Some(u) = f.message.and_then(|m| m.usage) {
                    self.usage.input_tokens = u.input_tokens.unwrap_or(0);
                    self.usage.output_tokens = u.output_tokens.unwrap_or(0);
                }
            }
            "content_block_start" => match f.content_block {
                Some(b) if b.kind.as_deref() == Some("tool_use") => {
                    self.tools.insert(
                        f.index,
                        ToolCallRecord {
                            id: b.id.unwrap_or_default(),
                            name: b.name.unwrap_or_default(),
                            args: String::new(),
                        },
                    );
                }
                Some(b) => {
                    if let Some(text) = b.text.filter(|t| !t.is_empty()) {
                        self.content.push_str(&text);
                        self.answer_bytes += text.len();
                        on_delta(&text);
                    }
                }
                None => {}
            },
            "content_block_delta" => {
                let Some(d) = f.delta else {
                    return Ok(Step::Continue);
                };
                match d.kind.as_deref() {
                    Some("text_delta") => {
                        if let Some(text) = d.text.filter(|t| !t.is_empty()) {
                            self.content.push_str(&text);
                            self.answer_bytes += text.len();
                            on_delta(&text);
                        }
                    }
                    Some("input_json_delta") => {
                        if let (Some(t), Some(json)) =
                            (self.tools.get_mut(&f.index), d.partial_json)
                        {
                            t.args.push_str(&json);
                            self.answer_bytes += json.len();
                        }
                    }
                    // thinking, signature, citations: not part of the answer.
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = f.delta.and_then(|d| d.stop_reason) {
                    check_stop(Some(&reason))?;
                    self.stop_reason = Some(reason);
                }
                if let Some(u) = f.usage {
                    // Both counts are cumulative; input appears here on newer API versions.
                    if let Some(out) = u.output_tokens {
                        self.usage.output_tokens = out;
                    }
                    if let Some(input) = u.input_tokens.filter(|n| *n > 0) {
                        self.usage.input_tokens = input;
                    }
                }
            }
            "message_stop" => return Ok(Step::Done),
            "error" => {
                let v: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                return Err(classify_error_event(&v, headers));
            }
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
        Ok(Step::Continue)
    }

    fn content(&self) -> &str {
        &self.content
    }

    fn answer_bytes(&self) -> usize {
        self.answer_bytes
    }

    fn terminal(&self) -> &'static str {
        "event: message_stop"
    }

    fn finish(self: Box<Self>) -> ChatResponse {
        StreamState::finish(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Message, ToolDef};

    fn req() -> ChatRequest {
        ChatRequest {
            model: "claude-3-5-sonnet-latest".into(),
            system: Some("Be brief.".into()),
            messages: vec![Message::user("Who wrote The Name of the Wind?")],
            temperature: None,
            max_tokens: None,
            stream: true,
            tools: vec![ToolDef {
                name: "get_book_author".into(),
                description: String::new(),
                parameters: json!({"type": "object"}),
            }],
        }
    }

    #[test]
    fn body_with_system_default_max_tokens_and_tool_turns() {
        let mut r = req();
        let call = |id: &str, args: &str| ToolCallRecord {
            id: id.into(),
            name: "get_book_author".into(),
            args: args.into(),
        };
        r.messages.push(Message {
            role: Role::Assistant,
            content: "Let me look.".into(),
            tool_calls: vec![
                call("toolu_1", "{\"title\":\"x\"}"),
                call("toolu_2", "{broken"),
            ],
            tool_call_id: None,
        });
        for id in ["toolu_1", "toolu_2"] {
            r.messages.push(Message {
                role: Role::Tool,
                content: "Patrick Rothfuss".into(),
                tool_calls: vec![],
                tool_call_id: Some(id.into()),
            });
        }
        assert_eq!(
            body(&r),
            json!({
                "model": "claude-3-5-sonnet-latest",
                "max_tokens": 1024,
                "system": "Be brief.",
                "stream": true,
                "tools": [{"name": "get_book_author", "input_schema": {"type": "object"}}],
                "messages": [
                    {"role": "user", "content": "Who wrote The Name of the Wind?"},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Let me look."},
                        {"type": "tool_use", "id": "toolu_1", "name": "get_book_author", "input": {"title": "x"}},
                        {"type": "tool_use", "id": "toolu_2", "name": "get_book_author", "input": {}},
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Patrick Rothfuss"},
                        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "Patrick Rothfuss"},
                    ]},
                ],
            })
        );
        r.max_tokens = Some(50);
        r.system = None;
        r.stream = false;
        let b = body(&r);
        assert_eq!(b["max_tokens"], 50);
        assert!(b.get("system").is_none() && b.get("stream").is_none());
    }

    #[test]
    fn plain_reply() {
        let raw = br#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01","name":"get_book_author","input":{"title":"The Name of the Wind"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":9}}"#;
        let r = parse_reply(raw, &[]).unwrap();
        assert_eq!(r.content, "Let me check.");
        assert_eq!(r.tool_calls[0].args, "{\"title\":\"The Name of the Wind\"}");
        assert_eq!(r.tool_calls[0].id, "toolu_01");
        assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (20, 9));
        assert_eq!(r.finish_reason.as_deref(), Some("tool_use"));
        let e = parse_reply(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overloaded);
        let e = parse_reply(b"not json", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ServerError);
    }

    fn ev(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.into(),
            data: data.into(),
            id: None,
        }
    }

    #[test]
    fn stream_with_text_and_tool_use() {
        let frames = [
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-sonnet-20241022","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            ("ping", r#"{"type": "ping"}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"SF\"}"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":1}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"now","input":{}}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":2}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
            ),
        ];
        let mut s = StreamState::new();
        let mut seen = Vec::new();
        for (name, data) in frames {
            let step = s
                .event(&ev(name, data), &[], &mut |t| seen.push(t.to_owned()))
                .unwrap();
            assert_eq!(step, Step::Continue);
        }
        let step = s
            .event(
                &ev("message_stop", r#"{"type":"message_stop"}"#),
                &[],
                &mut |_| {},
            )
            .unwrap();
        assert_eq!(step, Step::Done);
        let r = s.finish();
        assert_eq!(seen, ["Okay"]);
        assert_eq!(r.content, "Okay");
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].args, "{\"location\": \"SF\"}");
        assert_eq!(r.tool_calls[1].args, "{}");
        assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (472, 89));
        assert_eq!(r.finish_reason.as_deref(), Some("tool_use"));
    }

    #[test]
    fn error_events_and_bad_frames() {
        let mut s = StreamState::new();
        let e = s
            .event(
                &ev("error", r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#),
                &[("request-id".into(), "req_1".into())],
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        let e = s
            .event(&ev("content_block_delta", "{\"type\":"), &[], &mut |_| {})
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::StreamInterrupted);
        let e = s
            .event(
                &ev(
                    "message_delta",
                    r#"{"type":"message_delta","delta":{"stop_reason":"refusal"}}"#,
                ),
                &[],
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
    }

    const ANTHROPIC_CONTEXT: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"},"request_id":"req_011CUA"}"#;

    #[test]
    fn error_replies_are_classified() {
        crate::provider::classify::tests::assert_http(&[
            (
                429,
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
                ErrorKind::RateLimit,
                Some("rate_limit_error"),
            ),
            (
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                ErrorKind::Overloaded,
                Some("overloaded_error"),
            ),
            (
                403,
                r#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission"}}"#,
                ErrorKind::Auth,
                Some("permission_error"),
            ),
            (
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#,
                ErrorKind::BadRequest,
                Some("not_found_error"),
            ),
            (
                400,
                ANTHROPIC_CONTEXT,
                ErrorKind::ContextLength,
                Some("invalid_request_error"),
            ),
            (
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"Output blocked by content filtering policy"}}"#,
                ErrorKind::ContentFilter,
                Some("invalid_request_error"),
            ),
        ]);
    }

    #[test]
    fn keeps_the_provider_message_and_request_id() {
        let hdr = vec![("Request-Id".to_owned(), "req_hdr".to_owned())];
        let e = classify::classify_http(400, &hdr, ANTHROPIC_CONTEXT);
        assert_eq!(
            e.message,
            "prompt is too long: 208310 tokens > 200000 maximum"
        );
        assert_eq!(e.request_id.as_deref(), Some("req_hdr"));
        // The body's request_id is the fallback.
        let e = classify::classify_http(400, &[], ANTHROPIC_CONTEXT);
        assert_eq!(e.request_id.as_deref(), Some("req_011CUA"));
    }

    #[test]
    fn error_events_are_classified_by_type() {
        crate::provider::classify::tests::assert_events(&[
            (
                r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
                ErrorKind::Overloaded,
                "Overloaded",
            ),
            (
                r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
                ErrorKind::RateLimit,
                "slow down",
            ),
            (
                r#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#,
                ErrorKind::ServerError,
                "Internal server error",
            ),
        ]);
        let v: Value = serde_json::from_str(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .unwrap();
        let e = classify_error_event(&v, &[]);
        assert_eq!(e.provider_type.as_deref(), Some("overloaded_error"));
    }
}
