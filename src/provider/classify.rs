//! Error classification into DESIGN §4 kinds, from what the server sent: status, body and
//! headers (`retry-after-ms`, `retry-after`, request id), or the `error` object of an error
//! event inside an HTTP 200 stream; what every wire format shares (each format's own error
//! names sit in its file under `provider/wire/`). Also the wording of unreadable replies and
//! the helpers that quote server text safely, so every message reads the same way.

// `CallError` carries the provider detail by value (DESIGN §4); an attempt fails once, so
// the size of its error costs nothing measurable.
#![allow(clippy::result_large_err)]

use super::headers::{request_id, retry_after_ms_at};
use crate::error::{CallError, ErrorKind};
use serde_json::Value;
use std::time::SystemTime;

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
    } else if kind == ErrorKind::RateLimit && detail.spent_quota() {
        kind = ErrorKind::QuotaExhausted;
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

/// The kind a provider error type or code names, when it names one: a registered wire
/// format's names (Anthropic `error.type`, OpenAI `error.type` / `error.code`, see
/// `provider/wire/`), or a generic name any server may use.
pub fn kind_for_type(t: &str) -> Option<ErrorKind> {
    super::wire::kind_for_type(t).or_else(|| {
        GENERIC_TYPES
            .iter()
            .find(|(name, _)| *name == t)
            .map(|(_, kind)| *kind)
    })
}

/// Error names no one API owns (proxies, gateways and compatible servers send them).
const GENERIC_TYPES: &[(&str, ErrorKind)] = &[
    ("overloaded", ErrorKind::Overloaded),
    ("service_unavailable", ErrorKind::Overloaded),
    ("rate_limit", ErrorKind::RateLimit),
    ("too_many_requests", ErrorKind::RateLimit),
    ("internal_error", ErrorKind::ServerError),
    ("internal_server_error", ErrorKind::ServerError),
    ("bad_gateway", ErrorKind::ServerError),
    ("unauthorized", ErrorKind::Auth),
    ("forbidden", ErrorKind::Auth),
    ("not_found", ErrorKind::BadRequest),
    ("invalid_request", ErrorKind::BadRequest),
    ("bad_request", ErrorKind::BadRequest),
];

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

    /// Context-length, content-policy and quota errors arrive as plain bad requests (or, a
    /// spent quota, as a 429); their code or wording tells them apart.
    fn refine(&self, kind: ErrorKind) -> ErrorKind {
        let names = [self.code.as_deref(), self.type_.as_deref()];
        let named = |k: ErrorKind| names.iter().flatten().any(|t| kind_for_type(t) == Some(k));
        let msg = self.message.as_deref().unwrap_or("").to_ascii_lowercase();
        let says = |phrases: &[&str]| phrases.iter().any(|p| msg.contains(p));
        if self.spent_quota() {
            ErrorKind::QuotaExhausted
        } else if named(ErrorKind::ContextLength)
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

impl ErrorDetail {
    /// A spent quota or credit: OpenAI's 429 `insufficient_quota`, Anthropic's 400 "credit
    /// balance is too low" (or a `billing_error`). Waiting does not bring it back.
    fn spent_quota(&self) -> bool {
        let named = [self.code.as_deref(), self.type_.as_deref()]
            .into_iter()
            .flatten()
            .any(|t| kind_for_type(t) == Some(ErrorKind::QuotaExhausted));
        let msg = self.message.as_deref().unwrap_or("").to_ascii_lowercase();
        named
            || ["credit balance is too low", "exceeded your current quota"]
                .iter()
                .any(|p| msg.contains(p))
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Asserts each `(status, body, kind, provider_type)` classifies so.
    pub(crate) fn assert_http(cases: &[(u16, &str, ErrorKind, Option<&str>)]) {
        for (status, body, kind, ptype) in cases {
            let e = classify_http(*status, &[], body);
            assert_eq!(e.kind, *kind, "{status} {body}");
            assert_eq!(e.status, Some(*status));
            assert_eq!(e.provider_type.as_deref(), *ptype, "{status} {body}");
        }
    }

    /// Asserts each `(error event, kind, message)` classifies so, as inside an HTTP 200.
    pub(crate) fn assert_events(cases: &[(&str, ErrorKind, &str)]) {
        for (json, kind, msg) in cases {
            let v: Value = serde_json::from_str(json).unwrap();
            let e = classify_error_event(&v, &[]);
            assert_eq!(e.kind, *kind, "{json}");
            assert_eq!(e.message, *msg);
            assert_eq!(e.status, Some(200));
        }
    }

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

    #[test]
    fn classification_table() {
        // Each format's own bodies are in its file's tests (`provider/wire/`).
        assert_http(&[
            (503, "", ErrorKind::Overloaded, None),
            (502, "<html></html>", ErrorKind::ServerError, None),
            (504, "", ErrorKind::ServerError, None),
            (
                422,
                r#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#,
                ErrorKind::BadRequest,
                None,
            ),
            (408, "", ErrorKind::Timeout, None),
            (409, "", ErrorKind::ServerError, None),
            (413, "", ErrorKind::BadRequest, None),
        ]);
        assert_events(&[(
            r#"{"error":{"message":"weird","type":"mystery"}}"#,
            ErrorKind::ServerError,
            "weird",
        )]);
    }

    #[test]
    fn every_error_name_keeps_its_kind() {
        // Any endpoint understands every format's names (a proxy may send another API's).
        use ErrorKind::*;
        let names = [
            (
                Overloaded,
                "overloaded_error overloaded engine_overloaded server_overloaded service_unavailable service_unavailable_error",
            ),
            (
                RateLimit,
                "rate_limit_error rate_limit_exceeded rate_limit requests tokens too_many_requests",
            ),
            (
                ServerError,
                "api_error server_error internal_error internal_server_error timeout_error bad_gateway",
            ),
            (
                Auth,
                "authentication_error permission_error invalid_api_key invalid_authentication unauthorized forbidden",
            ),
            (QuotaExhausted, "insufficient_quota billing_error"),
            (
                BadRequest,
                "invalid_request_error not_found_error request_too_large not_found invalid_request model_not_found bad_request",
            ),
            (ContextLength, "context_length_exceeded"),
            (ContentFilter, "content_filter content_policy_violation"),
        ];
        for (kind, list) in names {
            for name in list.split(' ') {
                assert_eq!(kind_for_type(name), Some(kind), "{name}");
            }
        }
        assert_eq!(kind_for_type("mystery"), None);
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
}
