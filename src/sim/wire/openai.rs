//! The OpenAI chat completions wire format, as the real API writes it: `chat.completion`
//! objects (pretty-printed, 2 spaces), `chat.completion.chunk` SSE frames ending in
//! `data: [DONE]`, and `{"error": {message, type, param, code}}` bodies (4 spaces).

use super::{
    Answer, Ending, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts, compact,
    count_words, html_reply, pretty, quote, retry_after, short_duration, whole_millis,
    whole_seconds,
};
use crate::scenario::types::{FaultKind, FaultSpec, ProviderKind};
use crate::sim::limits::LimitInfo;
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

const FINGERPRINT: &str = "fp_sim";

/// The OpenAI format at one of its two places: the real API's path, or the one an
/// OpenAI-compatible provider is given (so the script can tell them apart).
pub struct OpenAi {
    provider: ProviderKind,
    base_path: &'static str,
    route: &'static str,
}

/// `openai`: `POST /v1/chat/completions`.
pub static OPENAI: OpenAi = OpenAi {
    provider: ProviderKind::Openai,
    base_path: "/v1",
    route: "/v1/chat/completions",
};

/// `openai-compatible`: `POST /compat/v1/chat/completions`.
pub static COMPATIBLE: OpenAi = OpenAi {
    provider: ProviderKind::OpenaiCompatible,
    base_path: "/compat/v1",
    route: "/compat/v1/chat/completions",
};

impl SimFormat for OpenAi {
    fn provider(&self) -> ProviderKind {
        self.provider
    }

    fn base_path(&self) -> &'static str {
        self.base_path
    }

    fn route(&self) -> &'static str {
        self.route
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply> {
        parse(req.body)
    }

    fn request_id(&self, meta: &Meta) -> String {
        request_id(meta)
    }

    fn identity(&self, request_id: &str) -> Vec<(&'static str, String)> {
        vec![
            ("x-request-id", request_id.to_owned()),
            ("openai-organization", "org-sim".into()),
            ("openai-version", "2020-10-01".into()),
        ]
    }

    fn full_body(&self, meta: &Meta, answer: &Answer) -> String {
        full_body(meta, answer)
    }

    fn plain_headers(&self, latency: Duration) -> Vec<(&'static str, String)> {
        vec![("openai-processing-ms", latency.as_millis().to_string())]
    }

    fn stream(&self, meta: &Meta, answer: &Answer, req: &Request) -> StreamParts {
        stream(meta, answer, req.include_usage)
    }

    fn malformed_frame(&self, meta: &Meta) -> String {
        malformed_frame(meta)
    }

    fn stream_error(&self, fault: &FaultSpec) -> String {
        stream_error(fault)
    }

    fn error(&self, fault: &FaultSpec, model: &str) -> ErrorReply {
        error(fault, model)
    }

    fn rate_limited(&self, info: &LimitInfo, model: &str) -> ErrorReply {
        rate_limited(info, model)
    }

    fn limit_headers(&self, info: &LimitInfo) -> Vec<(&'static str, String)> {
        limit_headers(info)
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
        return Err(invalid("you must provide a model parameter", None, None));
    };
    if !v.get("messages").is_some_and(Value::is_array) {
        return Err(invalid(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ));
    }
    let has_tools = ["tools", "functions"].iter().any(|k| {
        v.get(*k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    });
    let tools_off = v.get("tool_choice").and_then(Value::as_str) == Some("none");
    let max_tokens = ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_u64))
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok(Request {
        model: model.to_string(),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: v
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        offers_tools: has_tools && !tools_off,
        max_tokens,
        input_tokens: count_words(&[v.get("messages")]),
    })
}

pub fn request_id(meta: &Meta) -> String {
    format!("req_sim{:025}", meta.global)
}

fn completion_id(meta: &Meta) -> String {
    format!("chatcmpl-sim{:017}", meta.global)
}

fn tool_call_id(meta: &Meta) -> String {
    format!("call_sim{:016}", meta.global)
}

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u64,
    audio_tokens: u64,
}

#[derive(Serialize)]
struct CompletionDetails {
    reasoning_tokens: u64,
    audio_tokens: u64,
    accepted_prediction_tokens: u64,
    rejected_prediction_tokens: u64,
}

fn usage(meta: &Meta, answer: &Answer) -> Usage {
    let out = answer.output_tokens();
    Usage {
        prompt_tokens: meta.input_tokens,
        completion_tokens: out,
        total_tokens: meta.input_tokens + out,
        prompt_tokens_details: PromptDetails {
            cached_tokens: 0,
            audio_tokens: 0,
        },
        completion_tokens_details: CompletionDetails {
            reasoning_tokens: 0,
            audio_tokens: 0,
            accepted_prediction_tokens: 0,
            rejected_prediction_tokens: 0,
        },
    }
}

fn finish_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text { ending, .. } => match ending {
            Ending::Stop => "stop",
            Ending::Length => "length",
            Ending::ContentFilter => "content_filter",
        },
        Answer::Tool { .. } => "tool_calls",
    }
}

#[derive(Serialize)]
struct Completion<'a> {
    id: String,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Usage,
    service_tier: &'static str,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: ChoiceMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct ChoiceMessage<'a> {
    role: &'static str,
    content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[ToolCall<'a>; 1]>,
    refusal: Option<()>,
    annotations: [(); 0],
}

#[derive(Serialize)]
struct ToolCall<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// The full `chat.completion` body of a non-streaming reply.
pub fn full_body(meta: &Meta, answer: &Answer) -> String {
    let (content, tool_calls) = match answer {
        Answer::Text { pieces, .. } => (Some(pieces.concat()), None),
        Answer::Tool { name, args, .. } => (
            None,
            Some([ToolCall {
                id: tool_call_id(meta),
                kind: "function",
                function: Function {
                    name,
                    arguments: args,
                },
            }]),
        ),
    };
    pretty(
        &Completion {
            id: completion_id(meta),
            object: "chat.completion",
            created: meta.created,
            model: &meta.model,
            choices: [Choice {
                index: 0,
                message: ChoiceMessage {
                    role: "assistant",
                    content,
                    tool_calls,
                    refusal: None,
                    annotations: [],
                },
                logprobs: None,
                finish_reason: finish_reason(answer),
            }],
            usage: usage(meta, answer),
            service_tier: "default",
            system_fingerprint: FINGERPRINT,
        },
        2,
    )
}

/// One `chat.completion.chunk` SSE frame around `delta` (a JSON object).
fn chunk(meta: &Meta, include_usage: bool, delta: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or_else(|| "null".to_string(), quote);
    let usage = if include_usage { ",\"usage\":null" } else { "" };
    format!(
        "data: {{{},\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]{usage}}}\n\n",
        chunk_prefix(meta)
    )
}

fn chunk_prefix(meta: &Meta) -> String {
    format!(
        "\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"service_tier\":\"default\",\"system_fingerprint\":\"{FINGERPRINT}\"",
        quote(&completion_id(meta)),
        meta.created,
        quote(&meta.model)
    )
}

/// The SSE frames of a streamed reply.
pub fn stream(meta: &Meta, answer: &Answer, include_usage: bool) -> StreamParts {
    let frame = |delta: &str, finish: Option<&str>| chunk(meta, include_usage, delta, finish);
    let (head, tokens) = match answer {
        Answer::Text { pieces, .. } => (
            frame(r#"{"role":"assistant","content":"","refusal":null}"#, None),
            pieces
                .iter()
                .map(|p| frame(&format!("{{\"content\":{}}}", quote(p)), None))
                .collect(),
        ),
        Answer::Tool { name, pieces, .. } => (
            frame(
                &format!(
                    "{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{{\"index\":0,\"id\":{},\"type\":\"function\",\"function\":{{\"name\":{},\"arguments\":\"\"}}}}],\"refusal\":null}}",
                    quote(&tool_call_id(meta)),
                    quote(name)
                ),
                None,
            ),
            pieces
                .iter()
                .map(|p| {
                    frame(
                        &format!(
                            "{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":{}}}}}]}}",
                            quote(p)
                        ),
                        None,
                    )
                })
                .collect(),
        ),
    };
    let mut tail = vec![frame("{}", Some(finish_reason(answer)))];
    if include_usage {
        tail.push(format!(
            "data: {{{},\"choices\":[],\"usage\":{}}}\n\n",
            chunk_prefix(meta),
            compact(&usage(meta, answer))
        ));
    }
    tail.push("data: [DONE]\n\n".to_string());
    StreamParts {
        head: vec![head],
        tokens,
        tail,
    }
}

/// A frame whose data is not JSON (cut mid-object).
pub fn malformed_frame(meta: &Meta) -> String {
    format!(
        "data: {{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{},\"choi\n\n",
        quote(&completion_id(meta)),
        meta.created
    )
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

const OVERLOADED: &str = "Our servers are currently overloaded. Please try again later.";

/// The `data: {"error": ...}` frame sent inside an HTTP 200 stream.
pub fn stream_error(fault: &FaultSpec) -> String {
    let message = fault.message.as_deref().unwrap_or(OVERLOADED);
    format!(
        "data: {}\n\n",
        compact(&Envelope {
            error: ErrorObject {
                message,
                kind: "service_unavailable_error",
                param: None,
                code: Some("server_is_overloaded"),
            },
        })
    )
}

fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> String {
    let mut body = pretty(
        &Envelope {
            error: ErrorObject {
                message,
                kind,
                param,
                code,
            },
        },
        4,
    );
    body.push('\n');
    body
}

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> ErrorReply {
    ErrorReply::json(
        400,
        error_body(message, "invalid_request_error", param, code),
    )
}

/// The `x-ratelimit-*-requests` headers of a reply under a `[sim].limits` bucket.
pub fn limit_headers(info: &LimitInfo) -> Vec<(&'static str, String)> {
    vec![
        ("x-ratelimit-limit-requests", info.limit.to_string()),
        ("x-ratelimit-remaining-requests", info.remaining.to_string()),
        ("x-ratelimit-reset-requests", short_duration(info.reset)),
    ]
}

/// The 429 of an empty bucket: the real wording with this limit, Retry-After in whole
/// seconds (rounded up) and `retry-after-ms`, which the OpenAI SDKs read first.
pub fn rate_limited(info: &LimitInfo, model: &str) -> ErrorReply {
    let wait = info.retry_after.unwrap_or_default();
    let message = format!(
        "Rate limit reached for {model} in organization org-sim on requests per min (RPM): Limit {limit}, Used {limit}, Requested 1. Please try again in {}. Visit https://platform.openai.com/account/rate-limits to learn more.",
        short_duration(Duration::from_millis(whole_millis(wait) as u64)),
        limit = info.limit,
    );
    let mut reply = ErrorReply::json(
        429,
        error_body(&message, "requests", None, Some("rate_limit_exceeded")),
    );
    reply.headers = limit_headers(info);
    reply
        .headers
        .push(("retry-after", whole_seconds(wait).to_string()));
    reply
        .headers
        .push(("retry-after-ms", whole_millis(wait).to_string()));
    reply
}

const QUOTA: &str = "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.";

/// The HTTP error reply of a fault (for the faults that are one).
pub fn error(fault: &FaultSpec, model: &str) -> ErrorReply {
    let custom = fault.message.as_deref();
    let text = |default: String| custom.map_or(default, str::to_string);
    match fault.fault {
        FaultKind::RateLimit => {
            let wait = retry_after(fault).unwrap_or(Duration::from_secs(1));
            let message = text(format!(
                "Rate limit reached for {model} in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in {}. Visit https://platform.openai.com/account/rate-limits to learn more.",
                short_duration(wait)
            ));
            let mut reply = ErrorReply::json(
                429,
                error_body(&message, "requests", None, Some("rate_limit_exceeded")),
            );
            reply.headers = vec![
                ("x-ratelimit-limit-requests", "3".into()),
                ("x-ratelimit-remaining-requests", "0".into()),
                ("x-ratelimit-reset-requests", short_duration(wait)),
            ];
            reply
        }
        FaultKind::Overloaded | FaultKind::OverloadedInStream => ErrorReply::json(
            503,
            error_body(
                &text(OVERLOADED.into()),
                "service_unavailable_error",
                None,
                Some("server_is_overloaded"),
            ),
        ),
        FaultKind::Auth => ErrorReply::json(
            401,
            error_body(
                &text("Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".into()),
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ),
        ),
        FaultKind::BadRequest => invalid(
            &text("Invalid request (a bad_request fault scripted in [sim]).".into()),
            None,
            None,
        ),
        FaultKind::ContextLength => invalid(
            &text("This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.".into()),
            Some("messages"),
            Some("context_length_exceeded"),
        ),
        FaultKind::QuotaExhausted => ErrorReply::json(
            429,
            error_body(
                &text(QUOTA.into()),
                "insufficient_quota",
                None,
                Some("insufficient_quota"),
            ),
        ),
        FaultKind::Html => html_reply(),
        // The remaining faults are not HTTP errors; a server error is the safe answer if one
        // ever lands here.
        _ => ErrorReply::json(
            500,
            error_body(
                &text("The server had an error while processing your request. Sorry about that!".into()),
                "server_error",
                None,
                None,
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::script::bare_fault;

    fn meta() -> Meta {
        Meta {
            global: 1,
            created: 100,
            model: "gpt-4o-mini".into(),
            input_tokens: 5,
        }
    }

    #[test]
    fn parses_requests_and_refuses_bad_ones() {
        let r = parse(br#"{"model":"m","messages":[{"role":"user","content":"Who wrote it?"}],"stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function"}],"max_tokens":9}"#).unwrap();
        assert_eq!(r.model, "m");
        assert!(r.stream && r.include_usage && r.offers_tools);
        assert_eq!(r.max_tokens, Some(9));
        assert_eq!(r.input_tokens, 4);
        let off =
            parse(br#"{"model":"m","messages":[],"tools":[{}],"tool_choice":"none"}"#).unwrap();
        assert!(!off.offers_tools);
        assert_eq!(parse(b"nope").unwrap_err().status, 400);
        let no_model = parse(br#"{"messages":[]}"#).unwrap_err();
        assert!(no_model.body.contains("you must provide a model parameter"));
    }

    #[test]
    fn error_bodies_look_like_the_api() {
        let e = error(&bare_fault(FaultKind::RateLimit), "gpt-4o-mini");
        assert_eq!(e.status, 429);
        assert!(e.body.starts_with(
            "{\n    \"error\": {\n        \"message\": \"Rate limit reached for gpt-4o-mini"
        ));
        assert!(e.body.ends_with("\"type\": \"requests\",\n        \"param\": null,\n        \"code\": \"rate_limit_exceeded\"\n    }\n}\n"));
        let custom = FaultSpec {
            message: Some("slow down".into()),
            ..bare_fault(FaultKind::Auth)
        };
        let e = error(&custom, "m");
        assert_eq!(e.status, 401);
        assert!(e.body.contains("\"message\": \"slow down\""));
    }

    #[test]
    fn tool_streams_split_arguments() {
        let parts = stream(&meta(), &Answer::tool("f", r#"{"a": 1, "b": 2}"#), false);
        assert_eq!(parts.tokens.len(), 6);
        assert!(parts.head[0].contains(r#""tool_calls":[{"index":0,"id":"call_sim0000000000000001","type":"function","function":{"name":"f","arguments":""}}]"#));
        assert!(parts.tail[0].contains(r#""finish_reason":"tool_calls""#));
        assert_eq!(parts.tail.last().unwrap(), "data: [DONE]\n\n");
    }
}
