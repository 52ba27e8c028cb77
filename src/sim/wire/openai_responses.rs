//! The OpenAI Responses API (`POST /v1/responses`), as the real API writes it: `response`
//! objects (pretty-printed, 2 spaces), named SSE events (`response.created` …
//! `response.output_text.delta` / `response.function_call_arguments.delta` …
//! `response.completed`, or `response.incomplete` for a reply cut at `max_output_tokens` or
//! by the content filter), an in-stream failure as `response.failed` carrying the response's
//! `error`, and OpenAI's `{"error": {message, type, param, code}}` bodies for HTTP errors
//! (the same as chat completions', so those come from `openai.rs`).

use super::{
    Answer, Ending, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts, compact,
    count_words, pretty, quote,
};
use crate::scenario::types::{FaultSpec, ProviderKind};
use crate::sim::limits::LimitInfo;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// `openai-responses`: `POST /v1/responses`, beside chat completions under the same `/v1`.
pub struct OpenAiResponses;

/// The one instance.
pub static OPENAI_RESPONSES: OpenAiResponses = OpenAiResponses;

impl SimFormat for OpenAiResponses {
    fn provider(&self) -> ProviderKind {
        ProviderKind::OpenaiResponses
    }

    fn base_path(&self) -> &'static str {
        "/v1"
    }

    fn route(&self) -> &'static str {
        "/v1/responses"
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply> {
        parse(req.body)
    }

    fn request_id(&self, meta: &Meta) -> String {
        super::openai::request_id(meta)
    }

    fn identity(&self, request_id: &str) -> Vec<(&'static str, String)> {
        super::openai::OPENAI.identity(request_id)
    }

    fn full_body(&self, meta: &Meta, answer: &Answer) -> String {
        full_body(meta, answer)
    }

    fn plain_headers(&self, latency: Duration) -> Vec<(&'static str, String)> {
        super::openai::OPENAI.plain_headers(latency)
    }

    fn stream(&self, meta: &Meta, answer: &Answer, _: &Request) -> StreamParts {
        stream(meta, answer)
    }

    fn malformed_frame(&self, meta: &Meta) -> String {
        malformed_frame(meta)
    }

    fn stream_error(&self, fault: &FaultSpec) -> String {
        let meta = Meta {
            global: 0,
            created: 0,
            model: String::new(),
            input_tokens: 0,
        };
        failed_event(&meta, 0, fault)
    }

    fn stream_error_after(
        &self,
        meta: &Meta,
        answer: &Answer,
        sent: usize,
        fault: &FaultSpec,
    ) -> String {
        failed_event(meta, head_len(answer) + sent, fault)
    }

    fn error(&self, fault: &FaultSpec, model: &str) -> ErrorReply {
        super::openai::error(fault, model)
    }

    fn rate_limited(&self, info: &LimitInfo, model: &str) -> ErrorReply {
        super::openai::rate_limited(info, model)
    }

    fn limit_headers(&self, info: &LimitInfo) -> Vec<(&'static str, String)> {
        super::openai::limit_headers(info)
    }
}

/// Reads what the simulator needs from a request body, or the 400 the real API sends.
pub fn parse(body: &[u8]) -> Result<Request, ErrorReply> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
            None,
        ));
    };
    let Some(model) = v.get("model").and_then(Value::as_str) else {
        return Err(invalid(
            "Missing required parameter: 'model'.",
            Some("model"),
            Some("missing_required_parameter"),
        ));
    };
    if v.get("messages").is_some() && v.get("input").is_none() {
        // A chat completions body sent here: the API names the parameter it does not know.
        return Err(invalid(
            "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'.",
            Some("messages"),
            Some("unsupported_parameter"),
        ));
    }
    let has_tools = v
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let tools_off = v.get("tool_choice").and_then(Value::as_str) == Some("none");
    let max_tokens = v
        .get("max_output_tokens")
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok(Request {
        model: model.to_string(),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        // `response.completed` always carries the usage.
        include_usage: true,
        offers_tools: has_tools && !tools_off,
        max_tokens,
        input_tokens: count_words(&[v.get("instructions"), v.get("input")]),
    })
}

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> ErrorReply {
    let mut body = pretty(
        &serde_json::json!({"error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }}),
        4,
    );
    body.push('\n');
    ErrorReply::json(400, body)
}

fn response_id(meta: &Meta) -> String {
    format!("resp_sim{:040}", meta.global)
}

fn message_id(meta: &Meta) -> String {
    format!("msg_sim{:040}", meta.global)
}

fn item_id(meta: &Meta) -> String {
    format!("fc_sim{:040}", meta.global)
}

fn call_id(meta: &Meta) -> String {
    format!("call_sim{:016}", meta.global)
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    input_tokens_details: InputDetails,
    output_tokens: u64,
    output_tokens_details: OutputDetails,
    total_tokens: u64,
}

#[derive(Serialize)]
struct InputDetails {
    cached_tokens: u64,
}

#[derive(Serialize)]
struct OutputDetails {
    reasoning_tokens: u64,
}

fn usage(meta: &Meta, answer: &Answer) -> Usage {
    let out = answer.output_tokens();
    Usage {
        input_tokens: meta.input_tokens,
        input_tokens_details: InputDetails { cached_tokens: 0 },
        output_tokens: out,
        output_tokens_details: OutputDetails {
            reasoning_tokens: 0,
        },
        total_tokens: meta.input_tokens + out,
    }
}

/// How a response stands: being written, finished (as its answer ends), or failed.
#[derive(Clone, Copy)]
enum Stage<'a> {
    InProgress,
    Done,
    Failed(&'a FaultSpec),
}

/// `completed`, or `incomplete` with the reason (`max_output_tokens`, `content_filter`).
fn ending(answer: &Answer) -> (&'static str, Option<&'static str>) {
    match answer {
        Answer::Text {
            ending: Ending::Length,
            ..
        } => ("incomplete", Some("max_output_tokens")),
        Answer::Text {
            ending: Ending::ContentFilter,
            ..
        } => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

#[derive(Serialize)]
struct Incomplete {
    reason: &'static str,
}

#[derive(Serialize)]
struct Failure<'a> {
    code: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct Reasoning {
    effort: Option<()>,
    summary: Option<()>,
}

#[derive(Serialize)]
struct TextConfig {
    format: TextFormat,
    verbosity: &'static str,
}

#[derive(Serialize)]
struct TextFormat {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ResponseObject<'a> {
    id: String,
    object: &'static str,
    created_at: u64,
    status: &'static str,
    background: bool,
    error: Option<Failure<'a>>,
    incomplete_details: Option<Incomplete>,
    instructions: Option<()>,
    max_output_tokens: Option<()>,
    max_tool_calls: Option<()>,
    model: &'a str,
    output: Vec<Item<'a>>,
    parallel_tool_calls: bool,
    previous_response_id: Option<()>,
    reasoning: Reasoning,
    service_tier: &'static str,
    store: bool,
    temperature: f64,
    text: TextConfig,
    tool_choice: &'static str,
    tools: [(); 0],
    top_logprobs: u32,
    top_p: f64,
    truncation: &'static str,
    usage: Option<Usage>,
    user: Option<()>,
    metadata: serde_json::Map<String, Value>,
}

/// An output item: the assistant's message, or a function call.
#[derive(Serialize)]
#[serde(untagged)]
enum Item<'a> {
    Message {
        id: String,
        #[serde(rename = "type")]
        kind: &'static str,
        status: &'static str,
        content: Vec<Part>,
        role: &'static str,
    },
    FunctionCall {
        id: String,
        #[serde(rename = "type")]
        kind: &'static str,
        status: &'static str,
        arguments: &'a str,
        call_id: String,
        name: &'a str,
    },
}

#[derive(Serialize)]
struct Part {
    #[serde(rename = "type")]
    kind: &'static str,
    annotations: [(); 0],
    logprobs: [(); 0],
    text: String,
}

fn text_part(text: String) -> Part {
    Part {
        kind: "output_text",
        annotations: [],
        logprobs: [],
        text,
    }
}

/// The output item of `answer`: in progress (empty) or done.
fn item<'a>(meta: &Meta, answer: &'a Answer, done: bool) -> Item<'a> {
    let (status, _) = ending(answer);
    let status = if done { status } else { "in_progress" };
    match answer {
        Answer::Text { pieces, .. } => Item::Message {
            id: message_id(meta),
            kind: "message",
            status,
            content: if done {
                vec![text_part(pieces.concat())]
            } else {
                Vec::new()
            },
            role: "assistant",
        },
        Answer::Tool { name, args, .. } => Item::FunctionCall {
            id: item_id(meta),
            kind: "function_call",
            status,
            arguments: if done { args } else { "" },
            call_id: call_id(meta),
            name,
        },
    }
}

const OVERLOADED: &str = "Our servers are currently overloaded. Please try again later.";

fn response_object<'a>(meta: &'a Meta, answer: &'a Answer, stage: Stage<'a>) -> ResponseObject<'a> {
    let (status, reason, output, usage, error) = match stage {
        Stage::InProgress => ("in_progress", None, Vec::new(), None, None),
        Stage::Done => {
            let (status, reason) = ending(answer);
            (
                status,
                reason,
                vec![item(meta, answer, true)],
                Some(usage(meta, answer)),
                None,
            )
        }
        Stage::Failed(fault) => (
            "failed",
            None,
            Vec::new(),
            None,
            Some(Failure {
                code: "server_is_overloaded",
                message: fault.message.as_deref().unwrap_or(OVERLOADED),
            }),
        ),
    };
    ResponseObject {
        id: response_id(meta),
        object: "response",
        created_at: meta.created,
        status,
        background: false,
        error,
        incomplete_details: reason.map(|reason| Incomplete { reason }),
        instructions: None,
        max_output_tokens: None,
        max_tool_calls: None,
        model: &meta.model,
        output,
        parallel_tool_calls: true,
        previous_response_id: None,
        reasoning: Reasoning {
            effort: None,
            summary: None,
        },
        service_tier: "default",
        store: true,
        temperature: 1.0,
        text: TextConfig {
            format: TextFormat { kind: "text" },
            verbosity: "medium",
        },
        tool_choice: "auto",
        tools: [],
        top_logprobs: 0,
        top_p: 1.0,
        truncation: "disabled",
        usage,
        user: None,
        metadata: serde_json::Map::new(),
    }
}

/// The full `response` body of a non-streaming reply.
pub fn full_body(meta: &Meta, answer: &Answer) -> String {
    pretty(&response_object(meta, answer, Stage::Done), 2)
}

/// One named SSE event: `type` and `sequence_number` first, then `fields` (JSON members).
fn event(kind: &str, seq: usize, fields: &str) -> String {
    format!("event: {kind}\ndata: {{\"type\":\"{kind}\",\"sequence_number\":{seq},{fields}}}\n\n")
}

/// The events before the first token: `response.created`, `response.in_progress`, the
/// output item added (and, for a message, its text part).
fn head(meta: &Meta, answer: &Answer) -> Vec<String> {
    let created = compact(&response_object(meta, answer, Stage::InProgress));
    let mut out = vec![
        event("response.created", 0, &format!("\"response\":{created}")),
        event(
            "response.in_progress",
            1,
            &format!("\"response\":{created}"),
        ),
        event(
            "response.output_item.added",
            2,
            &format!(
                "\"output_index\":0,\"item\":{}",
                compact(&item(meta, answer, false))
            ),
        ),
    ];
    if matches!(answer, Answer::Text { .. }) {
        out.push(event(
            "response.content_part.added",
            3,
            &format!(
                "\"item_id\":{},\"output_index\":0,\"content_index\":0,\"part\":{}",
                quote(&message_id(meta)),
                compact(&text_part(String::new()))
            ),
        ));
    }
    out
}

/// How many events go before the first token.
fn head_len(answer: &Answer) -> usize {
    match answer {
        Answer::Text { .. } => 4,
        Answer::Tool { .. } => 3,
    }
}

/// The SSE events of a streamed reply.
pub fn stream(meta: &Meta, answer: &Answer) -> StreamParts {
    let head = head(meta, answer);
    let mut seq = head.len();
    let mut next = || {
        seq += 1;
        seq - 1
    };
    let (tokens, mut tail) = match answer {
        Answer::Text { pieces, .. } => {
            let id = quote(&message_id(meta));
            let tokens = pieces
                .iter()
                .map(|p| {
                    event(
                        "response.output_text.delta",
                        next(),
                        &format!(
                            "\"item_id\":{id},\"output_index\":0,\"content_index\":0,\"delta\":{},\"logprobs\":[]",
                            quote(p)
                        ),
                    )
                })
                .collect();
            let text = pieces.concat();
            let tail = vec![
                event(
                    "response.output_text.done",
                    next(),
                    &format!(
                        "\"item_id\":{id},\"output_index\":0,\"content_index\":0,\"text\":{},\"logprobs\":[]",
                        quote(&text)
                    ),
                ),
                event(
                    "response.content_part.done",
                    next(),
                    &format!(
                        "\"item_id\":{id},\"output_index\":0,\"content_index\":0,\"part\":{}",
                        compact(&text_part(text))
                    ),
                ),
            ];
            (tokens, tail)
        }
        Answer::Tool { args, pieces, .. } => {
            let id = quote(&item_id(meta));
            let tokens = pieces
                .iter()
                .map(|p| {
                    event(
                        "response.function_call_arguments.delta",
                        next(),
                        &format!("\"item_id\":{id},\"output_index\":0,\"delta\":{}", quote(p)),
                    )
                })
                .collect();
            let tail = vec![event(
                "response.function_call_arguments.done",
                next(),
                &format!(
                    "\"item_id\":{id},\"output_index\":0,\"arguments\":{}",
                    quote(args)
                ),
            )];
            (tokens, tail)
        }
    };
    tail.push(event(
        "response.output_item.done",
        next(),
        &format!(
            "\"output_index\":0,\"item\":{}",
            compact(&item(meta, answer, true))
        ),
    ));
    let terminal = match ending(answer) {
        ("completed", _) => "response.completed",
        _ => "response.incomplete",
    };
    tail.push(event(
        terminal,
        next(),
        &format!(
            "\"response\":{}",
            compact(&response_object(meta, answer, Stage::Done))
        ),
    ));
    StreamParts { head, tokens, tail }
}

/// `response.failed` as event number `seq`: the response with its `error`.
fn failed_event(meta: &Meta, seq: usize, fault: &FaultSpec) -> String {
    // The failed response names no output; its answer only serves the item shapes.
    let answer = Answer::text("", None);
    event(
        "response.failed",
        seq,
        &format!(
            "\"response\":{}",
            compact(&response_object(meta, &answer, Stage::Failed(fault)))
        ),
    )
}

/// A frame whose data is not JSON (cut mid-object).
pub fn malformed_frame(meta: &Meta) -> String {
    format!(
        "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"item_id\":{},\"outp\n\n",
        quote(&message_id(meta))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::sse::decode_all;
    use crate::provider::wire::StreamParser;
    use crate::provider::wire::openai_responses::{StreamState, parse_reply};
    use crate::scenario::types::FaultKind;
    use crate::sim::script::bare_fault;

    fn meta() -> Meta {
        Meta {
            global: 3,
            created: 100,
            model: "gpt-4o-mini".into(),
            input_tokens: 5,
        }
    }

    /// Every frame, decoded and read by the client's parser: the reply, or its error.
    fn read(frames: &[String]) -> Result<crate::provider::ChatResponse, crate::error::CallError> {
        let events = decode_all(frames.concat().as_bytes());
        let mut s: Box<dyn StreamParser> = Box::new(StreamState::new());
        for ev in &events {
            if s.event(ev, &[], &mut |_| {})? == crate::provider::sse::Step::Done {
                return Ok(s.finish());
            }
        }
        panic!("no terminal event in {} events", events.len());
    }

    fn all(parts: StreamParts) -> Vec<String> {
        [parts.head, parts.tokens, parts.tail].concat()
    }

    #[test]
    fn parses_requests_and_refuses_bad_ones() {
        let r = parse(br#"{"model":"m","instructions":"Be brief.","input":[{"role":"user","content":"Who wrote it?"}],"stream":true,"tools":[{"type":"function","name":"f"}],"max_output_tokens":9}"#).unwrap();
        assert_eq!(r.model, "m");
        assert!(r.stream && r.offers_tools);
        assert_eq!(r.max_tokens, Some(9));
        // Every string's words: "Be brief.", "user", "Who wrote it?" (as chat completions
        // counts its messages).
        assert_eq!(r.input_tokens, 2 + 1 + 3);
        let plain =
            parse(br#"{"model":"m","input":"hi","tools":[{}],"tool_choice":"none"}"#).unwrap();
        assert!(!plain.offers_tools && !plain.stream);
        assert_eq!(parse(b"nope").unwrap_err().status, 400);
        let e = parse(br#"{"input":"x"}"#).unwrap_err();
        assert!(
            e.body.contains("Missing required parameter: 'model'."),
            "{}",
            e.body
        );
        let e = parse(br#"{"model":"m","messages":[]}"#).unwrap_err();
        assert!(e.body.contains("has moved to 'input'"), "{}", e.body);
    }

    #[test]
    fn a_plain_reply_reads_back() {
        let body = full_body(&meta(), &Answer::text("one two three", None));
        assert!(body.starts_with("{\n  \"id\": \"resp_sim"), "{body}");
        let r = parse_reply(body.as_bytes(), &[]).unwrap();
        assert_eq!(r.content, "one two three");
        assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (5, 3));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        let body = full_body(&meta(), &Answer::tool("f", r#"{"a": 1}"#));
        let r = parse_reply(body.as_bytes(), &[]).unwrap();
        assert_eq!(r.tool_calls[0].id, "call_sim0000000000000003");
        assert_eq!(r.tool_calls[0].args, r#"{"a": 1}"#);
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn text_streams_number_their_events_and_read_back() {
        let parts = stream(&meta(), &Answer::text("a b c", None));
        assert_eq!(
            (parts.head.len(), parts.tokens.len(), parts.tail.len()),
            (4, 3, 4)
        );
        assert!(parts.head[0].starts_with("event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_sim"));
        assert!(
            parts.tokens[0].contains("\"sequence_number\":4,"),
            "{}",
            parts.tokens[0]
        );
        let last = parts.tail.last().unwrap();
        assert!(last.starts_with("event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":10,"), "{last}");
        let r = read(&all(parts)).unwrap();
        assert_eq!(r.content, "a b c");
        assert_eq!(r.usage.output_tokens, 3);
    }

    #[test]
    fn tool_streams_split_arguments_and_read_back() {
        let parts = stream(&meta(), &Answer::tool("f", r#"{"a": 1, "b": 2}"#));
        assert_eq!(parts.tokens.len(), 6);
        assert!(parts.head[2].contains(r#""item":{"id":"fc_sim0000000000000000000000000000000000000003","type":"function_call","status":"in_progress","arguments":"","call_id":"call_sim0000000000000003","name":"f"}"#), "{}", parts.head[2]);
        let r = read(&all(parts)).unwrap();
        assert_eq!(r.tool_calls.len(), 1);
        assert_eq!(r.tool_calls[0].name, "f");
        assert_eq!(r.tool_calls[0].args, r#"{"a": 1, "b": 2}"#);
        assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn cut_replies_end_incomplete() {
        let cut = Answer::text("a b c d", Some(2));
        let parts = stream(&meta(), &cut);
        let last = parts.tail.last().unwrap();
        assert!(last.starts_with("event: response.incomplete\n"), "{last}");
        assert!(last.contains(r#""incomplete_details":{"reason":"max_output_tokens"}"#));
        let r = read(&all(parts)).unwrap();
        assert_eq!(
            (r.content.as_str(), r.finish_reason.as_deref()),
            ("a b", Some("length"))
        );
        let filtered =
            Answer::text("a b c d", None).ended_by(&bare_fault(FaultKind::ContentFilter));
        let e = read(&all(stream(&meta(), &filtered))).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::ContentFilter);
        let e = parse_reply(full_body(&meta(), &filtered).as_bytes(), &[]).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::ContentFilter);
    }

    #[test]
    fn the_in_stream_failure_is_response_failed() {
        let answer = Answer::text("a b c", None);
        let frame = OPENAI_RESPONSES.stream_error_after(
            &meta(),
            &answer,
            2,
            &bare_fault(FaultKind::OverloadedInStream),
        );
        assert!(frame.starts_with("event: response.failed\ndata: {\"type\":\"response.failed\",\"sequence_number\":6,\"response\":{\"id\":\"resp_sim"), "{frame}");
        assert!(frame.contains(r#""status":"failed","background":false,"error":{"code":"server_is_overloaded","message":"Our servers are currently overloaded. Please try again later."}"#), "{frame}");
        let parts = stream(&meta(), &answer);
        let mut frames = [parts.head, parts.tokens[..2].to_vec()].concat();
        frames.push(frame);
        let e = read(&frames).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::Overloaded);
        assert_eq!(e.status, Some(200));
        assert_eq!(e.provider_type.as_deref(), Some("server_is_overloaded"));
    }

    #[test]
    fn the_malformed_frame_is_refused() {
        let parts = stream(&meta(), &Answer::text("a b", None));
        let mut frames = parts.head;
        frames.push(malformed_frame(&meta()));
        let e = read(&frames).unwrap_err();
        assert_eq!(e.kind, crate::error::ErrorKind::StreamInterrupted);
        assert!(
            e.message.starts_with("malformed stream frame ("),
            "{}",
            e.message
        );
    }
}
