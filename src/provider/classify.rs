//! Error classification into DESIGN §4 kinds, from what the server sent: status, body and
//! headers (`retry-after-ms`, `retry-after`, request id), or the `error` object of an error
//! event inside an HTTP 200 stream. Also the wording of client-side failures (timeouts,
//! broken connections, unreadable replies), so every message reads the same way.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use crate::error::{CallError, ErrorKind};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// How much of a non-JSON body a message quotes.
const SNIPPET: usize = 200;

/// Classifies a non-2xx HTTP reply.
pub fn classify_http(status: u16, headers: &[(String, String)], body: &str) -> CallError {
    classify_http_at(status, headers, body, SystemTime::now())
}

/// [`classify_http`] with the wall time an HTTP-date `retry-after` is measured from.
pub fn classify_http_at(
    status: u16,
    headers: &[(String, String)],
    body: &str,
    now: SystemTime,
) -> CallError {
    let detail = ErrorDetail::from_body(body);
    let mut kind = kind_for_status(status);
    if matches!(kind, ErrorKind::BadRequest) {
        kind = detail.refine(kind);
    }
    let message = match &detail.message {
        Some(m) if !m.is_empty() => m.clone(),
        _ => describe_body(status, body),
    };
    let mut e = CallError::new(kind, message)
        .with_status(status)
        .with_retry_after_ms(retry_after_ms_at(headers, now))
        .with_request_id(request_id(headers).or(detail.request_id.clone()));
    e.provider_type = detail.provider_type;
    e
}

/// Classifies the `error` object of an error inside an HTTP 200 reply: an Anthropic
/// `event: error`, an OpenAI `data: {"error": …}`, or a 200 JSON body holding `error`.
/// `frame` is the whole JSON document the object came from.
pub fn classify_error_event(frame: &Value, headers: &[(String, String)]) -> CallError {
    let detail = ErrorDetail::from_value(frame);
    let kind = [detail.code.as_deref(), detail.type_.as_deref()]
        .into_iter()
        .flatten()
        .find_map(kind_for_type)
        // An error the server could not name is most likely its own fault.
        .unwrap_or(ErrorKind::ServerError);
    let kind = detail.refine(kind);
    let message = match &detail.message {
        Some(m) if !m.is_empty() => m.clone(),
        _ => format!(
            "an error inside an HTTP 200 reply: {}",
            snippet(&frame.to_string())
        ),
    };
    let mut e = CallError::new(kind, message)
        .with_status(200)
        .with_request_id(request_id(headers).or(detail.request_id.clone()));
    e.provider_type = detail.provider_type;
    e
}

/// Parses the body of an HTTP 200 plain reply. A body that is not JSON is the server's
/// fault (`server_error`): the request was fine, so `bad_request` would be wrong, and no
/// stream was involved, so `stream_interrupted` would mislead.
pub fn reply_json(body: &[u8]) -> Result<Value, CallError> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        let t = text.trim();
        let message = if t.is_empty() || looks_like_html(t) {
            describe_body(200, t)
        } else {
            format!(
                "HTTP 200 reply is not valid JSON ({}): `{}`",
                serde_reason(&e),
                snippet(t)
            )
        };
        CallError::new(ErrorKind::ServerError, message).with_status(200)
    })
}

/// The longest Location a redirect error quotes; a longer one is described, not cut (a cut
/// could keep most of a key a hostile server put in it).
const MAX_LOCATION: usize = 2048;

/// A 3xx reply. API calls never follow redirects: the key and the custom headers would go
/// to the Location, and a 301/302/303 would turn the POST into a body-less GET.
/// `location` is the Location header, already resolved against the request URL.
pub fn redirect_error(status: u16, location: Option<&str>) -> CallError {
    const WHY: &str =
        "retrylab never follows redirects for API calls; set base_url to the final address";
    let message = match location {
        Some(l) if l.len() <= MAX_LOCATION => {
            format!(
                "the server redirected to {} (HTTP {status}): {WHY}",
                printable(l)
            )
        }
        Some(l) => format!(
            "the server redirected (HTTP {status}) to a Location of {} bytes: {WHY}",
            l.len()
        ),
        None => format!("the server answered HTTP {status} (a redirect) without a Location: {WHY}"),
    };
    CallError::new(ErrorKind::Redirect, message).with_status(status)
}

/// The kind a status code gives before the body is read (DESIGN §4).
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        429 => ErrorKind::RateLimit,
        503 | 529 => ErrorKind::Overloaded,
        408 => ErrorKind::Timeout,
        // OpenAI's "lock timeout": transient, on the server's side.
        409 => ErrorKind::ServerError,
        401 | 403 => ErrorKind::Auth,
        400..=499 => ErrorKind::BadRequest,
        300..=399 => ErrorKind::Redirect,
        _ => ErrorKind::ServerError,
    }
}

/// The kind a provider error type or code names (Anthropic `error.type`, OpenAI
/// `error.type` / `error.code`), when it names one.
pub fn kind_for_type(t: &str) -> Option<ErrorKind> {
    let kind = match t {
        "overloaded_error"
        | "overloaded"
        | "engine_overloaded"
        | "server_overloaded"
        | "service_unavailable"
        | "service_unavailable_error" => ErrorKind::Overloaded,
        "rate_limit_error"
        | "rate_limit_exceeded"
        | "rate_limit"
        | "requests"
        | "tokens"
        | "insufficient_quota"
        | "too_many_requests" => ErrorKind::RateLimit,
        "api_error"
        | "server_error"
        | "internal_error"
        | "internal_server_error"
        | "timeout_error"
        | "bad_gateway" => ErrorKind::ServerError,
        "authentication_error"
        | "permission_error"
        | "invalid_api_key"
        | "invalid_authentication"
        | "unauthorized"
        | "forbidden"
        | "billing_error" => ErrorKind::Auth,
        "invalid_request_error"
        | "not_found_error"
        | "request_too_large"
        | "not_found"
        | "invalid_request"
        | "model_not_found"
        | "bad_request" => ErrorKind::BadRequest,
        "context_length_exceeded" => ErrorKind::ContextLength,
        "content_filter" | "content_policy_violation" => ErrorKind::ContentFilter,
        _ => return None,
    };
    Some(kind)
}

/// The provider detail an error body carries.
#[derive(Debug, Default, PartialEq)]
struct ErrorDetail {
    message: Option<String>,
    type_: Option<String>,
    code: Option<String>,
    /// `code` when it is a string, else `type`: the most specific name the provider gave.
    provider_type: Option<String>,
    request_id: Option<String>,
}

impl ErrorDetail {
    fn from_body(body: &str) -> ErrorDetail {
        match serde_json::from_str::<Value>(body.trim()) {
            Ok(v) => ErrorDetail::from_value(&v),
            Err(_) => ErrorDetail::default(),
        }
    }

    /// Reads `{"error": {...}}` (OpenAI, Anthropic), `{"error": "text"}`, `{"message": …}`
    /// and `{"detail": …}` (FastAPI-style servers).
    fn from_value(v: &Value) -> ErrorDetail {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(printable);
        let err = v.get("error");
        let (message, type_, code) = match err {
            Some(Value::Object(_)) => {
                let e = err.unwrap_or(&Value::Null);
                (
                    text(e.get("message")),
                    text(e.get("type")),
                    text(e.get("code")),
                )
            }
            Some(Value::String(s)) => (Some(printable(s)), None, None),
            _ => {
                let detail = match v.get("detail") {
                    Some(Value::String(s)) => Some(printable(s)),
                    Some(d @ (Value::Array(_) | Value::Object(_))) => Some(snippet(&d.to_string())),
                    _ => None,
                };
                (text(v.get("message")).or(detail), text(v.get("type")), None)
            }
        };
        let code = code.filter(|c| !c.is_empty());
        let type_ = type_.filter(|t| !t.is_empty() && t != "error");
        ErrorDetail {
            provider_type: code.clone().or(type_.clone()),
            message,
            type_,
            code,
            request_id: text(v.get("request_id")),
        }
    }

    /// Context-length and content-policy errors arrive as plain bad requests; their code or
    /// wording tells them apart.
    fn refine(&self, kind: ErrorKind) -> ErrorKind {
        let names = [self.code.as_deref(), self.type_.as_deref()];
        let named = |k: ErrorKind| names.iter().flatten().any(|t| kind_for_type(t) == Some(k));
        let msg = self.message.as_deref().unwrap_or("").to_ascii_lowercase();
        let says = |phrases: &[&str]| phrases.iter().any(|p| msg.contains(p));
        if named(ErrorKind::ContextLength)
            || says(&[
                "prompt is too long",
                "maximum context length",
                "context length exceeded",
                "context_length_exceeded",
                "exceed context limit",
                "context window",
            ])
        {
            ErrorKind::ContextLength
        } else if named(ErrorKind::ContentFilter)
            || says(&[
                "content filtering policy",
                "content management policy",
                "content_policy_violation",
                "content policy",
            ])
        {
            ErrorKind::ContentFilter
        } else {
            kind
        }
    }
}

/// A readable message for an error body that carries none: empty, HTML, or plain text.
pub fn describe_body(status: u16, body: &str) -> String {
    let t = body.trim();
    if t.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    if looks_like_html(t) {
        let title = html_title(t).unwrap_or_else(|| "(no title)".into());
        return format!("HTTP {status} with an HTML body (a proxy error page?): {title}");
    }
    format!("HTTP {status}: {}", snippet(t))
}

fn looks_like_html(t: &str) -> bool {
    let head: String = t.chars().take(512).collect::<String>().to_ascii_lowercase();
    head.starts_with('<')
        && (head.contains("<html") || head.contains("<!doctype html") || head.contains("<head"))
}

/// The text of an HTML page's `<title>` (or first `<h1>`), tags stripped, spaces collapsed.
pub fn html_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    for tag in ["title", "h1"] {
        let Some(open) = lower.find(&format!("<{tag}")) else {
            continue;
        };
        let Some(gt) = lower[open..].find('>') else {
            continue;
        };
        let start = open + gt + 1;
        let end = lower[start..]
            .find(&format!("</{tag}"))
            .map_or(html.len(), |e| start + e);
        // `to_ascii_lowercase` keeps byte offsets, so they index `html` too.
        let inner = strip_tags(html.get(start..end).unwrap_or(""));
        let text = inner.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            return Some(snippet(&text));
        }
    }
    None
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Why serde refused a document, quoted short: its "invalid type" errors repeat the
/// offending value, which a hostile or broken server can make megabytes long.
pub fn serde_reason(e: &serde_json::Error) -> String {
    snippet(&e.to_string())
}

/// Server text made safe to print: control characters (ESC, BEL, NUL, C1...) would act on
/// a terminal that shows the message (`retrylab run` prints it), so they become U+FFFD.
/// Newlines and tabs stay.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

/// One printable line, at most [`SNIPPET`] characters.
pub fn snippet(s: &str) -> String {
    let one_line = printable(&s.split_whitespace().collect::<Vec<_>>().join(" "));
    if one_line.chars().count() <= SNIPPET {
        one_line
    } else {
        let cut: String = one_line.chars().take(SNIPPET).collect();
        format!("{cut}…")
    }
}

/// A header's value, by case-insensitive name.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The request id: `x-request-id` (OpenAI) or `request-id` (Anthropic).
pub fn request_id(headers: &[(String, String)]) -> Option<String> {
    header(headers, "x-request-id")
        .or_else(|| header(headers, "request-id"))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// How long the server asks to wait: `retry-after-ms` (float milliseconds), else
/// `retry-after` (float seconds, or an HTTP date measured from `now`). Rounded up, so a
/// retry never comes early; a date in the past gives 0.
pub fn retry_after_ms_at(headers: &[(String, String)], now: SystemTime) -> Option<u64> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(parse_non_negative) {
        return Some(ms.ceil() as u64);
    }
    let v = header(headers, "retry-after")?.trim();
    if let Some(secs) = parse_non_negative(v) {
        return Some((secs * 1000.0).ceil() as u64);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX),
    )
}

/// [`retry_after_ms_at`] measured from the wall clock.
pub fn retry_after_ms(headers: &[(String, String)]) -> Option<u64> {
    retry_after_ms_at(headers, SystemTime::now())
}

fn parse_non_negative(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Which client-side timeout fired (`CallError.timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect,
    FirstByte,
    Idle,
    Total,
}

impl TimeoutKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::FirstByte => "first_byte",
            TimeoutKind::Idle => "idle",
            TimeoutKind::Total => "total",
        }
    }
}

/// A `timeout` error naming the timeout and its length; `what` says what did not happen.
pub fn timeout_error(which: TimeoutKind, limit: Option<Duration>, what: &str) -> CallError {
    let limit = limit.map_or_else(|| "its limit".to_owned(), fmt_duration);
    let mut e = CallError::new(
        ErrorKind::Timeout,
        format!("{} timeout ({limit}): {what}", which.as_str()),
    );
    e.timeout = Some(which.as_str().to_owned());
    e
}

/// `250ms`, `4s`, `1.5s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// The innermost cause of an error chain (hyper's and the OS's words, not reqwest's URL).
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_a_server_never_reach_the_message() {
        // ESC and BEL would act on a terminal that prints the message (`retrylab run`).
        let nasty = r"boom\u001b]0;pwned\u0007\u001b[2J\u0000 done\u009b";
        let body =
            format!("{{\"error\": {{\"message\": \"{nasty}\", \"type\": \"server_error\"}}}}");
        let e = classify_http(500, &[], &body);
        assert!(
            !e.message.chars().any(|c| c.is_control()),
            "{:?}",
            e.message
        );
        assert!(e.message.starts_with("boom"), "{:?}", e.message);
        let e = classify_http(502, &[], "oops \u{1b}[31mred\u{7}");
        assert!(
            !e.message.chars().any(|c| c.is_control()),
            "{:?}",
            e.message
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        let e = classify_error_event(&v, &[]);
        assert!(
            !e.message.chars().any(|c| c.is_control()),
            "{:?}",
            e.message
        );
        let e = classify_http(401, &[], "<html><title>Login \u{1b}[2J</title></html>");
        assert!(
            !e.message.chars().any(|c| c.is_control()),
            "{:?}",
            e.message
        );
        for body in [
            "{\"error\": \"plain \\u001b[2J\"}",
            "{\"detail\": \"fastapi \\u0007\"}",
            "{\"message\": \"top \\u001b\"}",
        ] {
            let e = classify_http(500, &[], body);
            assert!(
                !e.message.chars().any(|c| c.is_control()),
                "{body}: {:?}",
                e.message
            );
        }
        // Lines of a multi-line message stay lines.
        let e = classify_http(400, &[], r#"{"error": {"message": "a\nb\tc"}}"#);
        assert_eq!(e.message, "a\nb\tc");
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    const OPENAI_429: &str = r#"{
    "error": {
        "message": "Rate limit reached for gpt-4o-mini in organization org-abc on requests per min (RPM): Limit 3, Used 3, Requested 1.",
        "type": "requests",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}"#;
    const OPENAI_CONTEXT: &str = r#"{
    "error": {
        "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130437 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded"
    }
}"#;
    const ANTHROPIC_CONTEXT: &str = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"},"request_id":"req_011CUA"}"#;

    #[test]
    fn classification_table() {
        let cases: &[(u16, &str, ErrorKind, Option<&str>)] = &[
            (
                429,
                OPENAI_429,
                ErrorKind::RateLimit,
                Some("rate_limit_exceeded"),
            ),
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
            (503, "", ErrorKind::Overloaded, None),
            (
                500,
                r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#,
                ErrorKind::ServerError,
                Some("server_error"),
            ),
            (502, "<html></html>", ErrorKind::ServerError, None),
            (504, "", ErrorKind::ServerError, None),
            (
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-abc***xyz.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
                ErrorKind::Auth,
                Some("invalid_api_key"),
            ),
            (
                403,
                r#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission"}}"#,
                ErrorKind::Auth,
                Some("permission_error"),
            ),
            (
                400,
                r#"{"error":{"message":"Invalid value for 'temperature'","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#,
                ErrorKind::BadRequest,
                Some("invalid_value"),
            ),
            (
                404,
                r#"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#,
                ErrorKind::BadRequest,
                Some("not_found_error"),
            ),
            (
                422,
                r#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#,
                ErrorKind::BadRequest,
                None,
            ),
            (
                400,
                OPENAI_CONTEXT,
                ErrorKind::ContextLength,
                Some("context_length_exceeded"),
            ),
            (
                400,
                ANTHROPIC_CONTEXT,
                ErrorKind::ContextLength,
                Some("invalid_request_error"),
            ),
            (
                400,
                r#"{"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}"#,
                ErrorKind::ContentFilter,
                Some("content_policy_violation"),
            ),
            (
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"Output blocked by content filtering policy"}}"#,
                ErrorKind::ContentFilter,
                Some("invalid_request_error"),
            ),
            (408, "", ErrorKind::Timeout, None),
            (409, "", ErrorKind::ServerError, None),
            (413, "", ErrorKind::BadRequest, None),
        ];
        for (status, body, kind, ptype) in cases {
            let e = classify_http(*status, &[], body);
            assert_eq!(e.kind, *kind, "{status} {body}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.provider_type.as_deref(), *ptype, "{status} {body}");
        }
    }

    #[test]
    fn keeps_the_provider_message_and_request_id() {
        let e = classify_http(400, &h(&[("Request-Id", "req_hdr")]), ANTHROPIC_CONTEXT);
        assert_eq!(
            e.message,
            "prompt is too long: 208310 tokens > 200000 maximum"
        );
        assert_eq!(e.request_id.as_deref(), Some("req_hdr"));
        // The body's request_id is the fallback.
        let e = classify_http(400, &[], ANTHROPIC_CONTEXT);
        assert_eq!(e.request_id.as_deref(), Some("req_011CUA"));
        let e = classify_http(429, &h(&[("x-request-id", "req_oa")]), OPENAI_429);
        assert_eq!(e.request_id.as_deref(), Some("req_oa"));
        assert!(e.message.starts_with("Rate limit reached for gpt-4o-mini"));
    }

    #[test]
    fn bodies_without_a_message_are_described() {
        assert_eq!(
            classify_http(500, &[], "").message,
            "HTTP 500 with an empty body"
        );
        assert_eq!(
            classify_http(500, &[], "  \n").message,
            "HTTP 500 with an empty body"
        );
        let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(
            classify_http(502, &[], html).message,
            "HTTP 502 with an HTML body (a proxy error page?): 502 Bad Gateway"
        );
        assert_eq!(
            describe_body(
                503,
                "<!DOCTYPE html><html><body><h1>Service <b>Unavailable</b></h1></body></html>"
            ),
            "HTTP 503 with an HTML body (a proxy error page?): Service Unavailable"
        );
        assert_eq!(
            describe_body(502, "<html><body>oops</body></html>"),
            "HTTP 502 with an HTML body (a proxy error page?): (no title)"
        );
        assert_eq!(
            classify_http(500, &[], "upstream connect error").message,
            "HTTP 500: upstream connect error"
        );
        let long = "x".repeat(1000);
        assert_eq!(
            describe_body(500, &long).chars().count(),
            "HTTP 500: ".len() + 201
        );
        assert_eq!(
            classify_http(500, &[], r#"{"error":"boom"}"#).message,
            "boom"
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let ra = |pairs: &[(&str, &str)]| retry_after_ms_at(&h(pairs), now);
        assert_eq!(ra(&[("retry-after-ms", "1500")]), Some(1500));
        assert_eq!(ra(&[("retry-after-ms", "20.2")]), Some(21));
        assert_eq!(ra(&[("Retry-After", "2")]), Some(2000));
        assert_eq!(ra(&[("retry-after", "0.25")]), Some(250));
        assert_eq!(ra(&[("retry-after", " 7 ")]), Some(7000));
        assert_eq!(
            ra(&[("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT")]),
            Some(30_000)
        );
        assert_eq!(
            ra(&[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]),
            Some(0)
        );
        // The obsolete RFC 850 and asctime date forms are valid too.
        assert_eq!(
            ra(&[("retry-after", "Wednesday, 21-Oct-15 07:28:05 GMT")]),
            Some(5000)
        );
        assert_eq!(
            ra(&[("retry-after", "Wed Oct 21 07:28:10 2015")]),
            Some(10_000)
        );
        // `retry-after-ms` wins over `retry-after`.
        assert_eq!(
            ra(&[("retry-after", "10"), ("retry-after-ms", "250")]),
            Some(250)
        );
        // Garbage falls through to the next form, then to nothing.
        assert_eq!(
            ra(&[("retry-after-ms", "soon"), ("retry-after", "3")]),
            Some(3000)
        );
        assert_eq!(ra(&[("retry-after", "-1")]), None);
        assert_eq!(ra(&[("retry-after", "tomorrow")]), None);
        assert_eq!(ra(&[]), None);
        let e = classify_http_at(429, &h(&[("retry-after", "4")]), OPENAI_429, now);
        assert_eq!(e.retry_after_ms, Some(4000));
    }

    #[test]
    fn error_events_are_classified_by_type() {
        let ev = |json: &str| {
            let v: Value = serde_json::from_str(json).unwrap();
            classify_error_event(&v, &[])
        };
        let cases = [
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
            (
                r#"{"error":{"message":"weird","type":"mystery"}}"#,
                ErrorKind::ServerError,
                "weird",
            ),
        ];
        for (json, kind, msg) in cases {
            let e = ev(json);
            assert_eq!(e.kind, kind, "{json}");
            assert_eq!(e.message, msg);
            assert_eq!(e.status, Some(200));
        }
        let e =
            ev(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#);
        assert_eq!(e.provider_type.as_deref(), Some("overloaded_error"));
    }

    #[test]
    fn timeouts_name_themselves_and_their_length() {
        let e = timeout_error(
            TimeoutKind::FirstByte,
            Some(Duration::from_millis(1500)),
            "no response",
        );
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.timeout.as_deref(), Some("first_byte"));
        assert_eq!(e.message, "first_byte timeout (1.5s): no response");
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_duration(Duration::from_secs(30)), "30s");
    }
}
