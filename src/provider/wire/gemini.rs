//! The Gemini API wire format (`generateContent`, `streamGenerateContent?alt=sse`), as the
//! official `google-genai` SDK speaks it: the model in the URL, the key in `x-goog-api-key`,
//! `contents[]` of `user` / `model` turns made of `parts`, `systemInstruction`,
//! `tools[].functionDeclarations` and `generationConfig`; replies whose
//! `candidates[0].content.parts` hold text and `functionCall`s (arguments as an object).
//! A stream is SSE `data:` frames, each a whole GenerateContentResponse; the frame carrying
//! `finishReason` is the terminal one. Errors are google.rpc.Status objects (`errors.rs`).

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod errors;

use super::{StreamParser, WireFormat, secret_header};
use crate::error::{CallError, ErrorKind};
use crate::event::{ToolCallRecord, Usage};
use crate::provider::classify::{self, reply_json, snippet};
use crate::provider::headers;
use crate::provider::sse::{SseEvent, Step};
use crate::provider::{ChatRequest, ChatResponse, Role};
use crate::scenario::types::ProviderKind;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// The API version the SDK's Gemini Developer API client puts in the path.
pub const API_VERSION: &str = "v1beta";

/// The Gemini Developer API.
pub struct Gemini;

/// The one instance.
pub static GEMINI: Gemini = Gemini;

impl WireFormat for Gemini {
    fn provider(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn display_name(&self) -> &'static str {
        "Gemini"
    }

    fn base_url_rule(&self) -> &'static str {
        "Gemini's base_url has no version: the client adds /v1beta/models/{model}:generateContent"
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://generativelanguage.googleapis.com")
    }

    /// The variable a missing key is asked for; `GOOGLE_API_KEY` wins when set, as in the
    /// SDK (`key_env_first`).
    fn key_env(&self) -> Option<&'static str> {
        Some("GEMINI_API_KEY")
    }

    fn key_env_first(&self) -> Option<&'static str> {
        Some("GOOGLE_API_KEY")
    }

    fn url(&self, base_url: &str, req: &ChatRequest) -> String {
        url(base_url, &req.model, req.stream)
    }

    fn headers(&self, api_key: Option<&str>, h: &mut HeaderMap) -> Result<(), CallError> {
        if let Some(key) = api_key {
            h.insert("x-goog-api-key", secret_header(key)?);
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

    fn classify_http(&self, status: u16, headers: &[(String, String)], body: &str) -> CallError {
        errors::classify_http(status, headers, body)
    }

    fn error_types(&self) -> &'static [(&'static str, ErrorKind)] {
        errors::STATUS_NAMES
    }
}

/// `{base}/v1beta/models/{model}:generateContent`, or `:streamGenerateContent?alt=sse`. A
/// base that already ends in a version (`/v1beta`, `/v1`) keeps it; a model written
/// `models/x` (the SDK accepts both) is not doubled; anything outside a path segment's
/// characters is escaped, so a model name cannot reach the query.
pub fn url(base_url: &str, model: &str, stream: bool) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let model = model.trim();
    let model = model.strip_prefix("models/").unwrap_or(model);
    let method = if stream {
        "streamGenerateContent?alt=sse"
    } else {
        "generateContent"
    };
    let last = base.rsplit('/').next().unwrap_or("").as_bytes();
    let versioned = last.first() == Some(&b'v') && last.get(1).is_some_and(u8::is_ascii_digit);
    let version = if versioned {
        String::new()
    } else {
        format!("/{API_VERSION}")
    };
    format!("{base}{version}/models/{}:{method}", escape_segment(model))
}

fn escape_segment(s: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if s.bytes().all(plain) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// The request body. Tool results answer a call by its function's name (Gemini has no call
/// ids on the wire): the name is looked up from the call the result answers.
pub fn body(req: &ChatRequest) -> Value {
    let mut contents: Vec<Value> = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        let (role, part) = match m.role {
            Role::User => ("user", json!({"text": m.content})),
            Role::Assistant => {
                let mut parts = Vec::with_capacity(m.tool_calls.len() + 1);
                if !m.content.is_empty() || m.tool_calls.is_empty() {
                    parts.push(json!({"text": m.content}));
                }
                for c in &m.tool_calls {
                    parts.push(
                        json!({"functionCall": {"name": c.name, "args": args_object(&c.args)}}),
                    );
                }
                contents.push(json!({"role": "model", "parts": parts}));
                continue;
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or("");
                let name = req.messages[..i]
                    .iter()
                    .rev()
                    .flat_map(|m| &m.tool_calls)
                    .find(|c| c.id == id)
                    .map_or(id, |c| c.name.as_str());
                (
                    "user",
                    json!({"functionResponse": {"name": name, "response": {"result": m.content}}}),
                )
            }
        };
        // Consecutive parts of one role go in one turn (results of one model turn's calls).
        match contents.last_mut() {
            Some(last) if m.role == Role::Tool && is_function_responses(last) => {
                if let Some(Value::Array(parts)) = last.get_mut("parts") {
                    parts.push(part);
                }
            }
            _ => contents.push(json!({"role": role, "parts": [part]})),
        }
    }
    let mut b = Map::new();
    b.insert("contents".into(), Value::Array(contents));
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        b.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
        );
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("name".into(), json!(t.name));
                if !t.description.is_empty() {
                    o.insert("description".into(), json!(t.description));
                }
                // A tool's schema is full JSON Schema, which `parameters` (an OpenAPI
                // subset) refuses in parts (`additionalProperties`); this field takes it.
                o.insert("parametersJsonSchema".into(), t.parameters.clone());
                Value::Object(o)
            })
            .collect();
        b.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    let mut config = Map::new();
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if !config.is_empty() {
        b.insert("generationConfig".into(), Value::Object(config));
    }
    Value::Object(b)
}

/// A `functionCall`'s `args` must be an object: arguments that are not one (a model's broken
/// JSON, sent back in a reask) go as `{}`.
fn args_object(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    }
}

fn is_function_responses(turn: &Value) -> bool {
    turn["role"] == "user"
        && turn["parts"]
            .as_array()
            .is_some_and(|p| p.iter().all(|p| p.get("functionResponse").is_some()))
}

/// One GenerateContentResponse: a plain reply, or one frame of a stream.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk<'a> {
    #[serde(default, borrow)]
    candidates: Vec<Candidate<'a>>,
    #[serde(default)]
    usage_metadata: Option<WireUsage>,
    #[serde(default, borrow)]
    prompt_feedback: Option<PromptFeedback<'a>>,
    /// Present: the frame is an error (`{"error": {...}}`), read again as a whole.
    #[serde(default)]
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(default, borrow)]
    content: Option<Content<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    index: u32,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(default, borrow)]
    parts: Vec<Part<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    /// A thought summary (`includeThoughts`): not part of the answer.
    #[serde(default)]
    thought: bool,
    #[serde(default)]
    function_call: Option<FunctionCall>,
}

#[derive(Deserialize)]
struct FunctionCall {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback<'a> {
    #[serde(default, borrow)]
    block_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    prompt_token_count: Option<u64>,
    #[serde(default)]
    candidates_token_count: Option<u64>,
    /// Thinking tokens, billed as output.
    #[serde(default)]
    thoughts_token_count: Option<u64>,
}

impl WireUsage {
    fn usage(self) -> Usage {
        Usage {
            input_tokens: self.prompt_token_count.unwrap_or(0),
            output_tokens: self.candidates_token_count.unwrap_or(0)
                + self.thoughts_token_count.unwrap_or(0),
        }
    }
}

/// The finish reasons that mean a filter stopped the answer (SAFETY and its kin).
const FILTERED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "MODEL_ARMOR",
];

fn filtered(reason: &str) -> Result<(), CallError> {
    if FILTERED.contains(&reason) {
        return Err(CallError::new(
            ErrorKind::ContentFilter,
            format!("the answer was stopped by Gemini's filter (finishReason: {reason})"),
        )
        .with_status(200)
        .with_provider_type(reason));
    }
    Ok(())
}

/// A prompt blocked outright: `promptFeedback.blockReason` and no candidate.
fn blocked(feedback: Option<&PromptFeedback<'_>>) -> Result<(), CallError> {
    match feedback.and_then(|f| f.block_reason.as_deref()) {
        Some(reason) if reason != "BLOCKED_REASON_UNSPECIFIED" => Err(CallError::new(
            ErrorKind::ContentFilter,
            format!("the prompt was blocked by Gemini's filter (blockReason: {reason})"),
        )
        .with_status(200)
        .with_provider_type(reason)),
        _ => Ok(()),
    }
}

/// Parses a plain HTTP 200 reply: one GenerateContentResponse, or the JSON list
/// `streamGenerateContent` sends without `alt=sse` (a server that ignored it), joined.
pub fn parse_reply(body: &[u8], headers: &[(String, String)]) -> Result<ChatResponse, CallError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        return parse_list(trimmed, headers);
    }
    let v = reply_json(body)?;
    // Valid JSON is valid UTF-8; the fallback only keeps this free of an unwrap.
    let text = std::str::from_utf8(body).map_or_else(|_| Cow::Owned(v.to_string()), Cow::Borrowed);
    let mut s = StreamState::new();
    s.take(&text, headers, &mut |_| {}, true)?;
    Ok(s.finish())
}

/// A JSON list of responses: each is a stream frame; a list cut short is a broken stream.
fn parse_list(body: &[u8], headers: &[(String, String)]) -> Result<ChatResponse, CallError> {
    let items: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        let what = if e.is_eof() {
            "ends mid-list"
        } else {
            "is not a list of responses"
        };
        CallError::new(
            ErrorKind::StreamInterrupted,
            format!(
                "the streamed reply (a JSON list: the server ignored alt=sse) {what} ({}): `{}`",
                classify::serde_reason(&e),
                snippet(&tail(&text))
            ),
        )
        .with_status(200)
        .with_request_id(headers::request_id(headers))
    })?;
    let mut s = StreamState::new();
    let mut done = false;
    for item in items {
        done = s.take(&item.to_string(), headers, &mut |_| {}, false)? == Step::Done;
    }
    if !done {
        return Err(CallError::new(
            ErrorKind::StreamInterrupted,
            "the streamed reply (a JSON list) ended without a finishReason",
        )
        .with_status(200)
        .with_request_id(headers::request_id(headers)));
    }
    Ok(s.finish())
}

/// The last 120 characters of a text: where a cut body was cut.
fn tail(text: &str) -> String {
    let n = text.chars().count();
    text.chars().skip(n.saturating_sub(120)).collect()
}

/// Accumulates a reply, one GenerateContentResponse at a time (candidate 0 only: the
/// request never asks for more).
#[derive(Debug, Default)]
pub struct StreamState {
    content: String,
    tools: Vec<ToolCallRecord>,
    usage: Usage,
    finish_reason: Option<String>,
    answer_bytes: usize,
}

impl StreamState {
    pub fn new() -> StreamState {
        StreamState::default()
    }

    /// The reply, once a `finishReason` arrived.
    pub fn finish(self) -> ChatResponse {
        ChatResponse {
            content: self.content,
            tool_calls: self.tools,
            usage: self.usage,
            finish_reason: self.finish_reason,
            exchange: Default::default(),
        }
    }

    /// One response document. `whole`: a plain reply, which is complete even without a
    /// finish reason (some servers leave it out of a non-streamed reply).
    fn take(
        &mut self,
        data: &str,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
        whole: bool,
    ) -> Result<Step, CallError> {
        let chunk: Chunk<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(e) if whole => {
                return Err(CallError::new(
                    ErrorKind::ServerError,
                    format!(
                        "HTTP 200 reply is not a GenerateContentResponse ({})",
                        classify::serde_reason(&e)
                    ),
                )
                .with_status(200));
            }
            Err(e) => return Err(frame_error(data, &e, headers)),
        };
        if chunk.error.is_some() {
            let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
            return Err(errors::classify_in_200(&v, headers));
        }
        if let Some(u) = chunk.usage_metadata {
            // Cumulative on every frame that has it: the last one counts.
            self.usage = u.usage();
        }
        let Some(c) = chunk.candidates.into_iter().find(|c| c.index == 0) else {
            blocked(chunk.prompt_feedback.as_ref())?;
            return Ok(if whole { Step::Done } else { Step::Continue });
        };
        for part in c.content.into_iter().flat_map(|c| c.parts) {
            if let Some(call) = part.function_call {
                // An object, as the API sends; a string (a proxy's, or broken JSON a
                // server could not parse) is the arguments' text itself.
                let args = match call.args {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(Value::String(text)) => text,
                    Some(a) => a.to_string(),
                };
                self.answer_bytes += args.len();
                self.tools.push(ToolCallRecord {
                    id: call.id.unwrap_or_default(),
                    name: call.name,
                    args,
                });
            } else if let Some(text) = part.text.filter(|t| !part.thought && !t.is_empty()) {
                self.content.push_str(&text);
                self.answer_bytes += text.len();
                on_delta(&text);
            }
        }
        match c.finish_reason {
            Some(reason) if reason != "FINISH_REASON_UNSPECIFIED" => {
                filtered(&reason)?;
                self.finish_reason = Some(reason.into_owned());
                Ok(Step::Done)
            }
            _ if whole => Ok(Step::Done),
            _ => Ok(Step::Continue),
        }
    }
}

/// A stream frame that is not a response: cut mid-JSON (the stream ended inside it, or the
/// server sent half a document), or not JSON at all.
fn frame_error(data: &str, e: &serde_json::Error, headers: &[(String, String)]) -> CallError {
    if e.is_eof() {
        return CallError::new(
            ErrorKind::StreamInterrupted,
            format!(
                "a stream frame ends mid-JSON, cut off after {} bytes: `…{}`",
                data.len(),
                snippet(&tail(data))
            ),
        )
        .with_status(200)
        .with_request_id(headers::request_id(headers));
    }
    super::malformed(data, e, headers)
}

impl StreamParser for StreamState {
    fn event(
        &mut self,
        ev: &SseEvent,
        headers: &[(String, String)],
        on_delta: &mut dyn FnMut(&str),
    ) -> Result<Step, CallError> {
        self.take(&ev.data, headers, on_delta, false)
    }

    fn content(&self) -> &str {
        &self.content
    }

    fn answer_bytes(&self) -> usize {
        self.answer_bytes
    }

    fn terminal(&self) -> &'static str {
        "finishReason"
    }

    fn finish(self: Box<Self>) -> ChatResponse {
        StreamState::finish(*self)
    }
}

#[cfg(test)]
mod tests;
