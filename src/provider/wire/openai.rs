//! The OpenAI chat completions wire format (also spoken by OpenAI-compatible servers):
//! the request body, the plain reply, and the streamed `chat.completion.chunk` frames with
//! `tool_calls` deltas reassembled by index.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::{StreamParser, WireFormat, join_url, malformed, secret_header};
use crate::error::{CallError, ErrorKind};
use crate::event::{ToolCallRecord, Usage};
use crate::provider::classify::{self, classify_error_event};
use crate::provider::sse::{SseEvent, Step};
use crate::provider::{ChatRequest, ChatResponse, Role};
use crate::scenario::types::ProviderKind;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The OpenAI format, as the real API (`openai`) or a compatible server speaks it.
pub struct OpenAi {
    provider: ProviderKind,
    /// Ask for the usage chunk at the end of a stream (`stream_options`), which only the
    /// real OpenAI API is sure to accept.
    include_usage: bool,
}

/// The real OpenAI API.
pub static OPENAI: OpenAi = OpenAi {
    provider: ProviderKind::Openai,
    include_usage: true,
};

/// An OpenAI-compatible server (Ollama, vLLM, Groq, …): its own base URL, its own key
/// variable, no `stream_options`.
pub static COMPATIBLE: OpenAi = OpenAi {
    provider: ProviderKind::OpenaiCompatible,
    include_usage: false,
};

impl WireFormat for OpenAi {
    fn provider(&self) -> ProviderKind {
        self.provider
    }

    fn display_name(&self) -> &'static str {
        if self.include_usage {
            "OpenAI"
        } else {
            "OpenAI-compatible"
        }
    }

    fn base_url_rule(&self) -> &'static str {
        "an OpenAI-style base_url ends in /v1: the client adds /chat/completions"
    }

    fn default_base_url(&self) -> Option<&'static str> {
        self.include_usage.then_some("https://api.openai.com/v1")
    }

    fn key_env(&self) -> Option<&'static str> {
        self.include_usage.then_some("OPENAI_API_KEY")
    }

    /// `{base_url}/chat/completions`: the SDK convention puts `/v1` in the base URL.
    fn url(&self, base_url: &str, _: &ChatRequest) -> String {
        join_url(base_url, "/chat/completions")
    }

    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError> {
        if let Some(key) = api_key {
            h.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"))?);
        }
        Ok(())
    }

    fn body(&self, req: &ChatRequest) -> Value {
        body(req, self.include_usage)
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

/// The `error.type` and `error.code` values of OpenAI's error bodies.
const ERROR_TYPES: &[(&str, ErrorKind)] = &[
    ("engine_overloaded", ErrorKind::Overloaded),
    ("server_overloaded", ErrorKind::Overloaded),
    ("service_unavailable_error", ErrorKind::Overloaded),
    ("rate_limit_exceeded", ErrorKind::RateLimit),
    ("requests", ErrorKind::RateLimit),
    ("tokens", ErrorKind::RateLimit),
    ("insufficient_quota", ErrorKind::QuotaExhausted),
    ("server_error", ErrorKind::ServerError),
    ("invalid_api_key", ErrorKind::Auth),
    ("invalid_authentication", ErrorKind::Auth),
    ("invalid_request_error", ErrorKind::BadRequest),
    ("model_not_found", ErrorKind::BadRequest),
    ("context_length_exceeded", ErrorKind::ContextLength),
    ("content_filter", ErrorKind::ContentFilter),
    ("content_policy_violation", ErrorKind::ContentFilter),
];

/// The request body. `include_usage` asks for the usage chunk at the end of a stream
/// (`stream_options`), which only the real OpenAI API is sure to accept.
pub fn body(req: &ChatRequest, include_usage: bool) -> Value {
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &req.messages {
        messages.push(match m.role {
            Role::User => json!({"role": "user", "content": m.content}),
            Role::Assistant if m.tool_calls.is_empty() => {
                json!({"role": "assistant", "content": m.content})
            }
            Role::Assistant => {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| {
                        json!({
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.args},
                        })
                    })
                    .collect();
                let content = if m.content.is_empty() {
                    Value::Null
                } else {
                    Value::String(m.content.clone())
                };
                json!({"role": "assistant", "content": content, "tool_calls": calls})
            }
            Role::Tool => json!({
                "role": "tool",
                "tool_call_id": m.tool_call_id.as_deref().unwrap_or(""),
                "content": m.content,
            }),
        });
    }
    let mut b = Map::new();
    b.insert("model".into(), json!(req.model));
    b.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        b.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        b.insert("max_tokens".into(), json!(n));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if !t.description.is_empty() {
                    f.insert("description".into(), json!(t.description));
                }
                f.insert("parameters".into(), t.parameters.clone());
                json!({"type": "function", "function": f})
            })
            .collect();
        b.insert("tools".into(), Value::Array(tools));
    }
    if req.stream {
        b.insert("stream".into(), json!(true));
        if include_usage {
            b.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    Value::Object(b)
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    message: ReplyMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ReplyMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ReplyToolCall>>,
}

#[derive(Deserialize)]
struct ReplyToolCall {
    #[serde(default)]
    id: String,
    function: ReplyFunction,
}

#[derive(Deserialize)]
struct ReplyFunction {
    #[serde(default)]
    name: String,
    #[serde(default)]
    arguments: String,
}

/// Parses a plain (non-streamed) HTTP 200 reply. `headers` serve the request id of an
/// error the body may hold.
pub fn parse_reply(body: &[u8], headers: &[(String, String)]) -> Result<ChatResponse, CallError> {
    let v = classify::reply_json(body)?;
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(classify_error_event(&v, headers));
    }
    let c: Completion = serde_json::from_value(v).map_err(|e| {
        CallError::new(
            ErrorKind::ServerError,
            format!(
                "HTTP 200 reply is not a chat completion ({})",
                classify::serde_reason(&e)
            ),
        )
        .with_status(200)
    })?;
    let Some(choice) = c.choices.into_iter().find(|ch| ch.index == 0) else {
        return Err(CallError::new(
            ErrorKind::ServerError,
            "HTTP 200 reply is not a chat completion (no choice 0)",
        )
        .with_status(200));
    };
    let tool_calls = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, t)| ToolCallRecord {
            id: fill_id(t.id, i),
            name: t.function.name,
            args: t.function.arguments,
        })
        .collect();
    let content = choice.message.content.unwrap_or_default();
    check_finish(choice.finish_reason.as_deref())?;
    Ok(ChatResponse {
        content,
        tool_calls,
        usage: c.usage.map(Usage::from).unwrap_or_default(),
        finish_reason: choice.finish_reason,
        exchange: Default::default(),
    })
}

fn fill_id(id: String, index: usize) -> String {
    if id.is_empty() {
        format!("call_{index}")
    } else {
        id
    }
}

/// OpenAI's content filter stops a reply with `finish_reason: "content_filter"`.
fn check_finish(reason: Option<&str>) -> Result<(), CallError> {
    if reason == Some("content_filter") {
        return Err(CallError::new(
            ErrorKind::ContentFilter,
            "the reply was stopped by the provider's content filter (finish_reason: content_filter)",
        )
        .with_status(200)
        .with_provider_type("content_filter"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<ChunkChoice<'a>>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    tool_calls: Option<Vec<ToolDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: u32,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
}

/// Accumulates a streamed reply, one SSE event at a time.
#[derive(Debug, Default)]
pub struct StreamState {
    content: String,
    tools: BTreeMap<u32, ToolCallRecord>,
    usage: Usage,
    finish_reason: Option<String>,
    /// Bytes of text and tool-call arguments so far (the answer's size, for its cap).
    answer_bytes: usize,
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
                .tools
                .into_values()
                .enumerate()
                .map(|(i, mut t)| {
                    t.id = fill_id(t.id, i);
                    t
                })
                .collect(),
            usage: self.usage,
            finish_reason: self.finish_reason,
            exchange: Default::default(),
        }
    }
}

impl StreamParser for StreamState {
    /// Handles one event; `on_delta` gets each piece of text. An error frame or a frame
    /// that is not JSON ends the stream with the error.
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        let data = ev.data.as_str();
        if data.trim_end() == "[DONE]" {
            return Ok(Step::Done);
        }
        let chunk: Chunk<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) => return Err(malformed(data, &e, headers)),
        };
        if ev.event == "error" || chunk.error.as_ref().is_some_and(|e| !e.is_null()) {
            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
            return Err(classify_error_event(&v, headers));
        }
        if let Some(u) = chunk.usage {
            self.usage = u.into();
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    self.content.push_str(&text);
                    self.answer_bytes += text.len();
                    on_delta(&text);
                }
                for t in delta.tool_calls.into_iter().flatten() {
                    let entry = self.tools.entry(t.index).or_insert_with(|| ToolCallRecord {
                        id: String::new(),
                        name: String::new(),
                        args: String::new(),
                    });
                    if let Some(id) = t.id.filter(|id| !id.is_empty()) {
                        entry.id = id.into_owned();
                    }
                    if let Some(f) = t.function {
                        if let Some(name) = f.name.filter(|n| !n.is_empty()) {
                            entry.name = name.into_owned();
                        }
                        if let Some(args) = f.arguments {
                            entry.args.push_str(&args);
                            self.answer_bytes += args.len();
                        }
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                check_finish(Some(&reason))?;
                self.finish_reason = Some(reason.into_owned());
            }
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
        "data: [DONE]"
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
            body(&req(), true),
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Who wrote The Name of the Wind?"},
                ],
                "temperature": 0.5,
                "max_tokens": 100,
            })
        );
    }

    #[test]
    fn streamed_tool_body_with_a_tool_turn() {
        let mut r = req();
        r.system = Some(String::new());
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
        let b = body(&r, true);
        assert_eq!(b["stream"], json!(true));
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert_eq!(b["messages"][0]["role"], "user");
        assert_eq!(
            b["messages"][1],
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "get_book_author", "arguments": "{\"title\":\"The Name of the Wind\"}"}
            }]})
        );
        assert_eq!(
            b["messages"][2],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "Patrick Rothfuss"})
        );
        assert_eq!(
            b["tools"][0],
            json!({"type": "function", "function": {
                "name": "get_book_author",
                "description": "Look up who wrote a book",
                "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}
            }})
        );
        // Compatible servers get no `stream_options`.
        assert!(body(&r, false).get("stream_options").is_none());
    }

    #[test]
    fn plain_reply_with_tool_calls() {
        let raw = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"x\": 1}"}}],"refusal":null},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#;
        let r = parse_reply(raw, &[]).unwrap();
        assert_eq!(r.content, "");
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
                input_tokens: 5,
                output_tokens: 7
            }
        );
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn bad_plain_replies() {
        let e = parse_reply(b"{\"choices\": 5}", &[]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::ServerError);
        assert!(
            e.message
                .starts_with("HTTP 200 reply is not a chat completion"),
            "{}",
            e.message
        );
        let e = parse_reply(b"{\"choices\": []}", &[]).unwrap_err();
        assert_eq!(
            e.message,
            "HTTP 200 reply is not a chat completion (no choice 0)"
        );
        let e = parse_reply(
            br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"content_filter"}]}"#,
            &[],
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
    }

    fn data(s: &str) -> SseEvent {
        SseEvent {
            event: String::new(),
            data: s.into(),
            id: None,
        }
    }

    #[test]
    fn a_huge_wrong_value_is_quoted_short() {
        // serde's "invalid type" error repeats the value: a 1 MB string must not become a
        // 1 MB error message in every event, trace and pane.
        let huge = format!("\"{}\"", "x".repeat(1 << 20));
        let e = StreamState::new()
            .event(&data(&huge), &[], &mut |_| {})
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::StreamInterrupted);
        assert!(e.message.chars().count() < 600, "{}", e.message.len());
        let body = format!("{{\"choices\": {huge}}}");
        let e = parse_reply(body.as_bytes(), &[]).unwrap_err();
        assert!(e.message.chars().count() < 600, "{}", e.message.len());
        let e = crate::provider::wire::anthropic::parse_reply(
            format!("{{\"content\": {huge}}}").as_bytes(),
            &[],
        )
        .unwrap_err();
        assert!(e.message.chars().count() < 600, "{}", e.message.len());
    }

    #[test]
    fn stream_reassembles_tool_calls_by_index() {
        let frames = [
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"g","arguments":"{\"y\""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":" 1}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":": 2}"}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#,
        ];
        let mut s = StreamState::new();
        let mut seen = Vec::new();
        for f in frames {
            assert_eq!(
                s.event(&data(f), &[], &mut |t| seen.push(t.to_owned()))
                    .unwrap(),
                Step::Continue
            );
        }
        assert_eq!(
            s.event(&data("[DONE]"), &[], &mut |_| {}).unwrap(),
            Step::Done
        );
        let r = s.finish();
        assert!(seen.is_empty());
        assert_eq!(r.tool_calls[0].args, "{\"x\": 1}");
        assert_eq!(r.tool_calls[1].id, "call_b");
        assert_eq!(r.tool_calls[1].args, "{\"y\": 2}");
        assert_eq!(r.usage.output_tokens, 4);
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn stream_text_escapes_and_errors() {
        let mut s = StreamState::new();
        let mut seen = String::new();
        s.event(
            &data(r#"{"choices":[{"index":0,"delta":{"content":"a\n\"b\" \u00e9"},"finish_reason":null}]}"#),
            &[],
            &mut |t| seen.push_str(t),
        )
        .unwrap();
        assert_eq!(seen, "a\n\"b\" \u{e9}");
        assert_eq!(s.content(), seen);
        let e = s
            .event(&data("{\"choices\": [oops"), &[], &mut |_| {})
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::StreamInterrupted);
        assert!(
            e.message.starts_with("malformed stream frame ("),
            "{}",
            e.message
        );
        let e = s
            .event(
                &data(r#"{"error":{"message":"boom","type":"server_error","param":null,"code":null}}"#),
                &[],
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::ServerError, "boom")
        );
        let e = s
            .event(
                &data(r#"{"choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}"#),
                &[],
                &mut |_| {},
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ContentFilter);
    }

    const OPENAI_429: &str = r#"{
    "error": {
        "message": "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1.",
        "type": "requests",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}"#;

    #[test]
    fn error_replies_are_classified() {
        crate::provider::classify::tests::assert_http(&[
            (
                429,
                OPENAI_429,
                ErrorKind::RateLimit,
                Some("rate_limit_exceeded"),
            ),
            (
                500,
                r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
                ErrorKind::ServerError,
                Some("server_error"),
            ),
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                ErrorKind::Auth,
                Some("invalid_api_key"),
            ),
            (
                400,
                r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
                ErrorKind::BadRequest,
                Some("invalid_value"),
            ),
            (
                400,
                r#"{
    "error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130437 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded"
    }
}"#,
                ErrorKind::ContextLength,
                Some("context_length_exceeded"),
            ),
            (
                400,
                r#"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}"#,
                ErrorKind::ContentFilter,
                Some("content_policy_violation"),
            ),
        ]);
        let h = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        let e = classify::classify_http(429, &h("x-request-id", "req_oa"), OPENAI_429);
        assert_eq!(e.request_id.as_deref(), Some("req_oa"));
        assert!(e.message.starts_with("Rate limit reached for gpt-4o-mini"));
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let e = classify::classify_http_at(429, &h("retry-after", "4"), OPENAI_429, now);
        assert_eq!(e.retry_after_ms, Some(4000));
    }

    #[test]
    fn error_events_are_classified_by_type() {
        crate::provider::classify::tests::assert_events(&[
            (
                r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#,
                ErrorKind::ServerError,
                "The server had an error while processing your request.",
            ),
            (
                r#"{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#,
                ErrorKind::RateLimit,
                "Rate limit reached",
            ),
            (
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
                ErrorKind::ContextLength,
                "This model's maximum context length is 8192 tokens",
            ),
        ]);
    }

    #[test]
    fn urls_end_in_chat_completions() {
        let u = |base: &str| OPENAI.url(base, &req());
        assert_eq!(
            u("https://api.openai.com/v1/"),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            u("http://h/v1/chat/completions"),
            "http://h/v1/chat/completions"
        );
        assert_eq!(COMPATIBLE.default_base_url(), None);
        assert_eq!(OPENAI.key_env(), Some("OPENAI_API_KEY"));
    }
}
