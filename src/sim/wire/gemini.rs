//! The Gemini API, as the real one writes it: `POST /v1beta/models/{model}:generateContent`
//! (a pretty-printed GenerateContentResponse) and `:streamGenerateContent?alt=sse` (one
//! compact response per `data:` frame, CRLF-framed, the last with `finishReason`); errors as
//! google.rpc.Status bodies (`{"error": {code, message, status, details}}`), the server's
//! wait in a `RetryInfo.retryDelay` detail and in no header; an error inside a stream as a
//! `data: {"error": …}` frame.

use super::{
    Answer, Ending, ErrorReply, Incoming, Meta, Request, SimFormat, StreamParts, compact,
    count_words, html_reply, pretty, retry_after,
};
use crate::scenario::types::{FaultKind, FaultSpec, ProviderKind};
use crate::sim::limits::LimitInfo;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The Gemini Developer API.
pub struct Gemini;

/// The one instance.
pub static GEMINI: Gemini = Gemini;

/// The two methods, as the path names them after the model.
const PLAIN: &str = ":generateContent";
const STREAM: &str = ":streamGenerateContent";

impl SimFormat for Gemini {
    fn provider(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    /// The SDK is given the bare host (`http_options.base_url`) and adds the version.
    fn base_path(&self) -> &'static str {
        ""
    }

    fn route(&self) -> &'static str {
        "/v1beta/models/{model}:generateContent"
    }

    /// `/v1beta/models/{model}:generateContent` or `:streamGenerateContent` (and `/v1/`, the
    /// SDK's other version).
    fn serves(&self, path: &str) -> bool {
        split_path(path).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Request, ErrorReply> {
        parse(req)
    }

    fn request_id(&self, meta: &Meta) -> String {
        format!("sim{:021}", meta.global)
    }

    fn identity(&self, _: &str) -> Vec<(&'static str, String)> {
        vec![
            ("server", "scaffolding on HTTPServer2".into()),
            ("vary", "Origin, X-Origin, Referer".into()),
            ("x-content-type-options", "nosniff".into()),
        ]
    }

    fn full_body(&self, meta: &Meta, answer: &Answer) -> String {
        full_body(meta, answer)
    }

    fn plain_headers(&self, latency: Duration) -> Vec<(&'static str, String)> {
        vec![(
            "server-timing",
            format!("gfet4t7; dur={}", latency.as_millis()),
        )]
    }

    fn stream(&self, meta: &Meta, answer: &Answer, _: &Request) -> StreamParts {
        stream(meta, answer)
    }

    fn malformed_frame(&self, _: &Meta) -> String {
        frame(r#"{"candidates": [{"content": {"parts": [{"text": "Hel"#)
    }

    fn stream_error(&self, fault: &FaultSpec) -> String {
        let message = fault
            .message
            .as_deref()
            .unwrap_or("The model is overloaded. Please try again later.");
        let details = retry_after(fault).map(retry_info).into_iter().collect();
        // One line: a frame's data is a single `data:` line.
        frame(&compact(&status_json(503, "UNAVAILABLE", message, details)))
    }

    fn error(&self, fault: &FaultSpec, model: &str) -> ErrorReply {
        error(fault, model)
    }

    /// Gemini says how long to wait in the body's RetryInfo only.
    fn wait_header(&self, _: &FaultSpec) -> Option<(&'static str, String)> {
        None
    }

    fn rate_limited(&self, info: &LimitInfo, model: &str) -> ErrorReply {
        rate_limit_reply(
            &format!(
                "Resource has been exhausted (e.g. check quota). Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_requests, limit: {}, model: {model}",
                info.limit
            ),
            &info.limit.to_string(),
            model,
            Some(info.retry_after.unwrap_or_default()),
        )
    }

    /// The API sends no rate-limit headers.
    fn limit_headers(&self, _: &LimitInfo) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// The model and whether the method streams, from a path this format serves.
fn split_path(path: &str) -> Option<(&str, bool)> {
    let rest = path
        .strip_prefix("/v1beta/models/")
        .or_else(|| path.strip_prefix("/v1/models/"))?;
    if let Some(model) = rest.strip_suffix(PLAIN) {
        Some((model, false))
    } else {
        rest.strip_suffix(STREAM).map(|model| (model, true))
    }
}

/// `%XX` escapes decoded (a model name in a path segment); bad escapes stay as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads what the simulator needs, or the error the real API sends: 403 without a key
/// (`x-goog-api-key` or `?key=`), 404 for an empty model, 400 for a body that is not a
/// GenerateContentRequest.
pub fn parse(req: &Incoming<'_>) -> Result<Request, ErrorReply> {
    let Some((model, stream)) = split_path(req.path) else {
        return Err(status_reply(404, "NOT_FOUND", "Method not found.", vec![]));
    };
    let model = percent_decode(model);
    let keyed = req
        .headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty())
        || req
            .query
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("key=") && p.len() > 4));
    if !keyed {
        return Err(status_reply(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
            vec![],
        ));
    }
    if model.trim().is_empty() {
        return Err(not_found(&model));
    }
    let Ok(v) = serde_json::from_slice::<Value>(req.body) else {
        return Err(invalid("Invalid JSON payload received. Unexpected token."));
    };
    if !v.get("contents").is_some_and(Value::is_array) {
        return Err(invalid(
            "* GenerateContentRequest.contents: contents is not specified\n",
        ));
    }
    let offers_tools = v
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|tools| {
            tools.iter().any(|t| {
                t.get("functionDeclarations")
                    .and_then(Value::as_array)
                    .is_some_and(|d| !d.is_empty())
            })
        });
    let tools_off = v
        .pointer("/toolConfig/functionCallingConfig/mode")
        .and_then(Value::as_str)
        == Some("NONE");
    let max_tokens = v
        .pointer("/generationConfig/maxOutputTokens")
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok(Request {
        model,
        stream,
        include_usage: true,
        offers_tools: offers_tools && !tools_off,
        max_tokens,
        input_tokens: count_words(&[v.get("systemInstruction"), v.get("contents")]),
    })
}

fn finish_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text { ending, .. } => match ending {
            Ending::Stop => "STOP",
            Ending::Length => "MAX_TOKENS",
            Ending::ContentFilter => "SAFETY",
        },
        // Gemini ends a turn of function calls with STOP too.
        Answer::Tool { .. } => "STOP",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    candidates: [Candidate; 1],
    usage_metadata: UsageMetadata,
    model_version: &'a str,
    response_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'static str>,
    index: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    prompt_token_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidates_token_count: Option<u64>,
    total_token_count: u64,
}

fn usage(meta: &Meta, output: u64) -> UsageMetadata {
    UsageMetadata {
        prompt_token_count: meta.input_tokens,
        // The API leaves the count out while nothing was generated.
        candidates_token_count: (output > 0).then_some(output),
        total_token_count: meta.input_tokens + output,
    }
}

/// The `content` of a model turn holding `parts`.
fn content(parts: Vec<Value>) -> Value {
    json!({"parts": parts, "role": "model"})
}

/// A `functionCall` part: the API sends parsed arguments; scripted broken JSON goes out as
/// a string (which a client must not take for an object).
fn call_part(name: &str, args: &str) -> Value {
    let args = serde_json::from_str::<Value>(args).unwrap_or_else(|_| Value::String(args.into()));
    json!({"functionCall": {"name": name, "args": args}})
}

fn response<'a>(
    meta: &'a Meta,
    parts: Vec<Value>,
    finish: Option<&'static str>,
    output: u64,
) -> Response<'a> {
    Response {
        candidates: [Candidate {
            content: content(parts),
            finish_reason: finish,
            index: 0,
        }],
        usage_metadata: usage(meta, output),
        model_version: &meta.model,
        response_id: format!("sim{:021}", meta.global),
    }
}

/// The whole GenerateContentResponse of a plain reply, pretty-printed as the API sends it.
pub fn full_body(meta: &Meta, answer: &Answer) -> String {
    let part = match answer {
        Answer::Text { pieces, .. } => json!({"text": pieces.concat()}),
        Answer::Tool { name, args, .. } => call_part(name, args),
    };
    pretty(
        &response(
            meta,
            vec![part],
            Some(finish_reason(answer)),
            answer.output_tokens(),
        ),
        2,
    )
}

/// One SSE frame, framed as the API frames them (CRLF).
fn frame(data: &str) -> String {
    format!("data: {data}\r\n\r\n")
}

/// The frames of a streamed reply: a response per piece of text (a function call comes
/// whole, in one), then the one carrying `finishReason` and the final usage.
pub fn stream(meta: &Meta, answer: &Answer) -> StreamParts {
    let tokens = match answer {
        Answer::Text { pieces, .. } => pieces
            .iter()
            .enumerate()
            .map(|(i, p)| {
                frame(&compact(&response(
                    meta,
                    vec![json!({"text": p})],
                    None,
                    i as u64 + 1,
                )))
            })
            .collect(),
        Answer::Tool { name, args, .. } => vec![frame(&compact(&response(
            meta,
            vec![call_part(name, args)],
            None,
            answer.output_tokens(),
        )))],
    };
    let tail = vec![frame(&compact(&response(
        meta,
        vec![json!({"text": ""})],
        Some(finish_reason(answer)),
        answer.output_tokens(),
    )))];
    StreamParts {
        head: Vec::new(),
        tokens,
        tail,
    }
}

/// `{"error": {code, message, status, details?}}`: a google.rpc.Status.
fn status_json(code: u16, status: &str, message: &str, details: Vec<Value>) -> Value {
    let mut error = json!({"code": code, "message": message, "status": status});
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    json!({ "error": error })
}

/// A google.rpc.Status error reply, pretty-printed as the API sends it.
fn status_reply(code: u16, status: &str, message: &str, details: Vec<Value>) -> ErrorReply {
    let body = pretty(&status_json(code, status, message, details), 2);
    let mut reply = ErrorReply::json(code, body);
    reply.content_type = "application/json; charset=UTF-8";
    reply
}

fn invalid(message: &str) -> ErrorReply {
    status_reply(400, "INVALID_ARGUMENT", message, vec![])
}

/// The 404 of a model the API does not know.
pub fn not_found(model: &str) -> ErrorReply {
    status_reply(
        404,
        "NOT_FOUND",
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
        ),
        vec![],
    )
}

/// `"1s"`, `"1.5s"`: a google.protobuf.Duration as JSON writes it.
fn delay_text(d: Duration) -> String {
    format!("{}s", super::seconds_text(d))
}

fn retry_info(d: Duration) -> Value {
    json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay_text(d)})
}

/// A 429 RESOURCE_EXHAUSTED naming the quota, with RetryInfo when there is a wait.
fn rate_limit_reply(message: &str, quota: &str, model: &str, wait: Option<Duration>) -> ErrorReply {
    let mut details = vec![
        json!({
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                "quotaDimensions": {"location": "global", "model": model},
                "quotaValue": quota,
            }],
        }),
        json!({
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}],
        }),
    ];
    details.extend(wait.map(retry_info));
    status_reply(429, "RESOURCE_EXHAUSTED", message, details)
}

/// The HTTP error reply of a fault (for the faults that are one).
pub fn error(fault: &FaultSpec, model: &str) -> ErrorReply {
    let text = |default: &str| fault.message.clone().unwrap_or_else(|| default.to_string());
    let wait = retry_after(fault);
    match fault.fault {
        FaultKind::RateLimit => {
            let shown = wait.map_or_else(String::new, |w| {
                format!("\nPlease retry in {}.", delay_text(w))
            });
            rate_limit_reply(
                &text(&format!(
                    "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: {model}{shown}"
                )),
                "10",
                model,
                wait,
            )
        }
        FaultKind::QuotaExhausted => rate_limit_reply(
            &text(&format!(
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: {model}"
            )),
            "0",
            model,
            None,
        ),
        FaultKind::Overloaded | FaultKind::OverloadedInStream => status_reply(
            503,
            "UNAVAILABLE",
            &text("The model is overloaded. Please try again later."),
            wait.map(retry_info).into_iter().collect(),
        ),
        // What the API answers a bad key with: a 400, named by its ErrorInfo reason.
        FaultKind::Auth => status_reply(
            400,
            "INVALID_ARGUMENT",
            &text("API key not valid. Please pass a valid API key."),
            vec![json!({
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            })],
        ),
        FaultKind::BadRequest => invalid(&text(
            "Invalid request (a bad_request fault scripted in [sim]).",
        )),
        FaultKind::ContextLength => invalid(&text(
            "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        )),
        FaultKind::Html => html_reply(),
        _ => status_reply(
            500,
            "INTERNAL",
            &text(
                "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            ),
            vec![],
        ),
    }
}

#[cfg(test)]
mod tests;
