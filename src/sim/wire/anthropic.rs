//! The Anthropic messages wire format, as the real API writes it: compact `message` objects,
//! named SSE events (`message_start` … `message_stop`, with a `ping`), and
//! `{"type":"error","error":{type, message}}` bodies.

use super::{
    Answer, Ending, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts, compact,
    count_words, html_reply, quote, whole_seconds,
};
use crate::scenario::types::{FaultKind, FaultSpec, ProviderKind};
use crate::sim::limits::LimitInfo;
use serde::Serialize;
use serde_json::Value;

/// The Anthropic messages API: `POST /v1/messages`.
pub struct Anthropic;

/// The one instance.
pub static ANTHROPIC: Anthropic = Anthropic;

impl SimFormat for Anthropic {
    fn provider(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn base_path(&self) -> &'static str {
        ""
    }

    fn route(&self) -> &'static str {
        "/v1/messages"
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply> {
        let version = req
            .headers
            .get("anthropic-version")
            .and_then(|v| v.to_str().ok());
        parse(version, req.body)
    }

    fn request_id(&self, meta: &Meta) -> String {
        request_id(meta)
    }

    fn identity(&self, request_id: &str) -> Vec<(&'static str, String)> {
        vec![
            ("request-id", request_id.to_owned()),
            (
                "anthropic-organization-id",
                "00000000-0000-4000-8000-000000000000".into(),
            ),
        ]
    }

    fn full_body(&self, meta: &Meta, answer: &Answer) -> String {
        full_body(meta, answer)
    }

    fn stream(&self, meta: &Meta, answer: &Answer, _: &Request) -> StreamParts {
        stream(meta, answer)
    }

    fn malformed_frame(&self, _: &Meta) -> String {
        malformed_frame()
    }

    fn stream_error(&self, fault: &FaultSpec) -> String {
        stream_error(fault)
    }

    fn error(&self, fault: &FaultSpec, _: &str) -> ErrorReply {
        error(fault)
    }

    fn rate_limited(&self, info: &LimitInfo, _: &str) -> ErrorReply {
        rate_limited(info)
    }

    fn limit_headers(&self, info: &LimitInfo) -> Vec<(&'static str, String)> {
        limit_headers(info)
    }
}

/// Reads what the simulator needs from a request, or the 400 the real API sends.
pub fn parse(version_header: Option<&str>, body: &[u8]) -> Result<Request, ErrorReply> {
    if version_header.is_none_or(|v| v.trim().is_empty()) {
        return Err(invalid("anthropic-version: header is required"));
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(
            "There was an issue with your request body: it is not valid JSON.",
        ));
    };
    let Some(model) = v.get("model").and_then(Value::as_str) else {
        return Err(invalid("model: Field required"));
    };
    if !v.get("messages").is_some_and(Value::is_array) {
        return Err(invalid("messages: Field required"));
    }
    let Some(max_tokens) = v.get("max_tokens").and_then(Value::as_u64) else {
        return Err(invalid("max_tokens: Field required"));
    };
    let has_tools = v
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let tools_off = v.pointer("/tool_choice/type").and_then(Value::as_str) == Some("none");
    Ok(Request {
        model: model.to_string(),
        stream: v.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: true,
        offers_tools: has_tools && !tools_off,
        max_tokens: Some(u32::try_from(max_tokens).unwrap_or(u32::MAX)),
        input_tokens: count_words(&[v.get("system"), v.get("messages")]),
    })
}

pub fn request_id(meta: &Meta) -> String {
    format!("req_sim{:017}", meta.global)
}

fn message_id(meta: &Meta) -> String {
    format!("msg_sim{:017}", meta.global)
}

fn tool_use_id(meta: &Meta) -> String {
    format!("toolu_sim{:015}", meta.global)
}

#[derive(Serialize)]
struct Usage {
    input_tokens: u64,
    cache_creation_input_tokens: u64,
    cache_read_input_tokens: u64,
    output_tokens: u64,
    service_tier: &'static str,
}

fn usage(meta: &Meta, output_tokens: u64) -> Usage {
    Usage {
        input_tokens: meta.input_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens,
        service_tier: "standard",
    }
}

fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text { ending, .. } => match ending {
            Ending::Stop => "end_turn",
            Ending::Length => "max_tokens",
            Ending::ContentFilter => "refusal",
        },
        Answer::Tool { .. } => "tool_use",
    }
}

#[derive(Serialize)]
struct Message<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: Option<&'static str>,
    stop_sequence: Option<()>,
    usage: Usage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: &'a str,
        input: Value,
    },
}

fn block<'a>(meta: &Meta, answer: &'a Answer, full: bool) -> Block<'a> {
    match answer {
        Answer::Text { pieces, .. } => Block::Text {
            text: if full { pieces.concat() } else { String::new() },
        },
        Answer::Tool { name, args, .. } => Block::ToolUse {
            id: tool_use_id(meta),
            name,
            // The API always sends parsed arguments; scripted broken JSON goes out as a string.
            input: if full {
                serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.clone()))
            } else {
                Value::Object(serde_json::Map::new())
            },
        },
    }
}

/// The full `message` body of a non-streaming reply.
pub fn full_body(meta: &Meta, answer: &Answer) -> String {
    compact(&Message {
        id: message_id(meta),
        kind: "message",
        role: "assistant",
        model: &meta.model,
        content: vec![block(meta, answer, true)],
        stop_reason: Some(stop_reason(answer)),
        stop_sequence: None,
        usage: usage(meta, answer.output_tokens()),
    })
}

fn event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// The SSE events of a streamed reply.
pub fn stream(meta: &Meta, answer: &Answer) -> StreamParts {
    let start = Message {
        id: message_id(meta),
        kind: "message",
        role: "assistant",
        model: &meta.model,
        content: Vec::new(),
        stop_reason: None,
        stop_sequence: None,
        usage: usage(meta, 1),
    };
    let head = vec![
        event(
            "message_start",
            &format!(
                "{{\"type\":\"message_start\",\"message\":{}}}",
                compact(&start)
            ),
        ),
        event(
            "content_block_start",
            &format!(
                "{{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{}}}",
                compact(&block(meta, answer, false))
            ),
        ),
        event("ping", r#"{"type": "ping"}"#),
    ];
    let tokens = answer
        .pieces()
        .iter()
        .map(|p| {
            let delta = match answer {
                Answer::Text { .. } => format!("{{\"type\":\"text_delta\",\"text\":{}}}", quote(p)),
                Answer::Tool { .. } => format!(
                    "{{\"type\":\"input_json_delta\",\"partial_json\":{}}}",
                    quote(p)
                ),
            };
            event(
                "content_block_delta",
                &format!("{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{delta}}}"),
            )
        })
        .collect();
    let tail = vec![
        event(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0}"#,
        ),
        event(
            "message_delta",
            &format!(
                "{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{}\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{}}}}}",
                stop_reason(answer),
                answer.output_tokens()
            ),
        ),
        event("message_stop", r#"{"type":"message_stop"}"#),
    ];
    StreamParts { head, tokens, tail }
}

/// An event whose data is not JSON (cut mid-object).
pub fn malformed_frame() -> String {
    event(
        "content_block_delta",
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_del"#,
    )
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

fn error_body(kind: &str, message: &str) -> String {
    compact(&Envelope {
        kind: "error",
        error: ErrorObject { kind, message },
    })
}

/// The `event: error` frame sent inside an HTTP 200 stream.
pub fn stream_error(fault: &FaultSpec) -> String {
    let message = fault.message.as_deref().unwrap_or("Overloaded");
    event("error", &error_body("overloaded_error", message))
}

fn invalid(message: &str) -> ErrorReply {
    ErrorReply::json(400, error_body("invalid_request_error", message))
}

/// The `anthropic-ratelimit-requests-*` headers of a reply under a `[sim].limits` bucket.
pub fn limit_headers(info: &LimitInfo) -> Vec<(&'static str, String)> {
    vec![
        ("anthropic-ratelimit-requests-limit", info.limit.to_string()),
        (
            "anthropic-ratelimit-requests-remaining",
            info.remaining.to_string(),
        ),
    ]
}

/// The 429 of an empty bucket, with Retry-After in whole seconds (rounded up), as the API
/// writes it.
pub fn rate_limited(info: &LimitInfo) -> ErrorReply {
    let wait = info.retry_after.unwrap_or_default();
    let mut reply = ErrorReply::json(
        429,
        error_body(
            "rate_limit_error",
            &format!(
                "This request would exceed your organization's rate limit of {} requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the rate of requests or contact sales to discuss your options for a rate limit increase.",
                info.limit
            ),
        ),
    );
    reply.headers = vec![
        ("retry-after", whole_seconds(wait).to_string()),
        ("x-should-retry", "true".into()),
    ];
    reply.headers.extend(limit_headers(info));
    reply
}

/// The HTTP error reply of a fault (for the faults that are one).
pub fn error(fault: &FaultSpec) -> ErrorReply {
    let message = |default: &str| fault.message.clone().unwrap_or_else(|| default.to_string());
    let (status, kind, text) = match fault.fault {
        FaultKind::RateLimit => (
            429,
            "rate_limit_error",
            message(
                "Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.",
            ),
        ),
        FaultKind::Overloaded | FaultKind::OverloadedInStream => {
            (529, "overloaded_error", message("Overloaded"))
        }
        FaultKind::Auth => (401, "authentication_error", message("invalid x-api-key")),
        FaultKind::BadRequest => (
            400,
            "invalid_request_error",
            message("Invalid request (a bad_request fault scripted in [sim])."),
        ),
        FaultKind::ContextLength => (
            400,
            "invalid_request_error",
            message("prompt is too long: 208310 tokens > 200000 maximum"),
        ),
        // What the API sends when the credit runs out: a 400, not a 429.
        FaultKind::QuotaExhausted => (
            400,
            "invalid_request_error",
            message(
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
            ),
        ),
        FaultKind::Html => return html_reply(),
        _ => (500, "api_error", message("Internal server error")),
    };
    let mut reply = ErrorReply::json(status, error_body(kind, &text));
    let should_retry = matches!(status, 408 | 409 | 429) || status >= 500;
    reply
        .headers
        .push(("x-should-retry", should_retry.to_string()));
    if status == 429 {
        reply
            .headers
            .push(("anthropic-ratelimit-requests-limit", "50".into()));
        reply
            .headers
            .push(("anthropic-ratelimit-requests-remaining", "0".into()));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::script::bare_fault;

    fn meta() -> Meta {
        Meta {
            global: 3,
            created: 100,
            model: "claude-3-5-haiku-latest".into(),
            input_tokens: 7,
        }
    }

    #[test]
    fn parse_requires_version_model_and_max_tokens() {
        let ok = parse(
            Some("2023-06-01"),
            br#"{"model":"c","max_tokens":10,"messages":[{"role":"user","content":"hi there"}],"system":"be brief","tools":[{"name":"f"}]}"#,
        )
        .unwrap();
        // Every string counts, the role too (real prompts pay a few tokens per message).
        assert_eq!(ok.input_tokens, 5);
        assert!(ok.offers_tools);
        let no_version = parse(None, b"{}").unwrap_err();
        assert!(
            no_version
                .body
                .contains("anthropic-version: header is required")
        );
        let no_max = parse(Some("2023-06-01"), br#"{"model":"c","messages":[]}"#).unwrap_err();
        assert_eq!(
            no_max.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#
        );
    }

    #[test]
    fn tool_use_bodies_carry_parsed_input_or_the_raw_text() {
        let good = full_body(&meta(), &Answer::tool("f", r#"{"title": "x"}"#));
        assert!(good.contains(r#""content":[{"type":"tool_use","id":"toolu_sim000000000000003","name":"f","input":{"title":"x"}}],"stop_reason":"tool_use""#));
        let broken = full_body(&meta(), &Answer::tool("f", r#"{"title": "#));
        assert!(broken.contains(r#""input":"{\"title\": ""#));
    }

    #[test]
    fn overloaded_is_529_and_in_stream_is_an_error_event() {
        let e = error(&bare_fault(FaultKind::Overloaded));
        assert_eq!(e.status, 529);
        assert_eq!(
            e.body,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        );
        assert_eq!(
            stream_error(&bare_fault(FaultKind::OverloadedInStream)),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
        );
    }
}
