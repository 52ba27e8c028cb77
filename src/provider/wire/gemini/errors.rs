//! Gemini's error bodies, `{"error": {code, message, status, details[]}}` (google.rpc.Status):
//! the `status` name decides the kind (a `RESOURCE_EXHAUSTED` whose message reads like
//! OpenAI's spent quota is still a rate limit), and `details[]` carries the
//! `RetryInfo.retryDelay` honoured like Retry-After and the `ErrorInfo.reason` that tells a
//! bad key from a bad request. The same object arrives as an HTTP error body and as a
//! `data: {"error": …}` frame inside an HTTP 200 stream.

use crate::error::{CallError, ErrorKind};
use crate::provider::classify::{self, kind_for_status, printable, snippet};
use crate::provider::headers;
use serde_json::Value;

use crate::error::RetryAfterFrom;

/// The `@type` of the detail that carries the server's wait.
const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// The longest `retryDelay` read (a day): a longer one is a day, so no arithmetic overflows
/// and `retry_after_max` caps it as it caps any other.
const MAX_DELAY_MS: f64 = 86_400_000.0;

/// The google.rpc.Code names Gemini's bodies carry in `error.status`, and their kinds.
pub(super) const STATUS_NAMES: &[(&str, ErrorKind)] = &[
    ("RESOURCE_EXHAUSTED", ErrorKind::RateLimit),
    ("UNAVAILABLE", ErrorKind::Overloaded),
    ("INTERNAL", ErrorKind::ServerError),
    ("UNKNOWN", ErrorKind::ServerError),
    ("DATA_LOSS", ErrorKind::ServerError),
    // A conflict on the server's side (google.rpc: "retry at a higher level").
    ("ABORTED", ErrorKind::ServerError),
    ("DEADLINE_EXCEEDED", ErrorKind::Timeout),
    ("INVALID_ARGUMENT", ErrorKind::BadRequest),
    ("FAILED_PRECONDITION", ErrorKind::BadRequest),
    ("OUT_OF_RANGE", ErrorKind::BadRequest),
    ("NOT_FOUND", ErrorKind::BadRequest),
    ("UNIMPLEMENTED", ErrorKind::BadRequest),
    ("PERMISSION_DENIED", ErrorKind::Auth),
    ("UNAUTHENTICATED", ErrorKind::Auth),
];

/// The kind of a status name, in Gemini's table.
fn kind_for_name(name: &str) -> Option<ErrorKind> {
    STATUS_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// Classifies a non-2xx reply. A body that is not Gemini's shape (a proxy's page, plain
/// text, broken JSON) is classified by the status as every format's is.
pub fn classify_http(status: u16, hdrs: &[(String, String)], body: &str) -> CallError {
    let mut e = classify::classify_http(status, hdrs, body);
    if let Some(err) = error_object(body) {
        refine(&mut e, err);
    }
    e
}

/// Classifies the `error` object of a 200 frame or body (`frame` is the whole document).
pub fn classify_in_200(frame: &Value, hdrs: &[(String, String)]) -> CallError {
    let err = frame.get("error").unwrap_or(&Value::Null);
    let code = err
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok());
    // An error the server could not name is most likely its own fault.
    let kind = code.map_or(ErrorKind::ServerError, kind_for_status);
    let message = match err.get("message").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => printable(m),
        _ => format!(
            "an error inside an HTTP 200 reply: {}",
            snippet(&frame.to_string())
        ),
    };
    let mut e = CallError::new(kind, message)
        .with_status(200)
        .with_request_id(headers::request_id(hdrs));
    refine(&mut e, err);
    e
}

/// `error` of a body, when it is Gemini's object (or a one-element list of it, as the
/// non-SSE stream sends).
fn error_object(body: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(body.trim()).ok()?;
    let v = match v {
        Value::Array(mut items) if items.len() == 1 => items.pop()?,
        v => v,
    };
    match v.get("error") {
        Some(e @ Value::Object(_)) => Some(e.clone()),
        _ => None,
    }
}

/// The kind, provider type and wait the status name and details give.
fn refine(e: &mut CallError, err: impl std::borrow::Borrow<Value>) {
    let err = err.borrow();
    let name = err.get("status").and_then(Value::as_str).map(printable);
    let details = err
        .get("details")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if let Some(kind) = name.as_deref().and_then(kind_for_name) {
        e.kind = kind;
    }
    let reason = details
        .iter()
        .find_map(|d| d.get("reason").and_then(Value::as_str));
    let lower = e.message.to_ascii_lowercase();
    if reason == Some("API_KEY_INVALID") || lower.contains("api key not valid") {
        // Gemini answers a bad key with 400 INVALID_ARGUMENT.
        e.kind = ErrorKind::Auth;
    } else if e.kind == ErrorKind::BadRequest
        && lower.contains("input token count")
        && lower.contains("exceeds the maximum")
    {
        e.kind = ErrorKind::ContextLength;
    } else if e.kind == ErrorKind::RateLimit && no_quota_at_all(&lower, details) {
        // `limit: 0`: the tier has no quota for this model; waiting does not help.
        e.kind = ErrorKind::QuotaExhausted;
    }
    e.provider_type = name.filter(|n| !n.is_empty()).or(e.provider_type.take());
    if e.retry_after_ms.is_none()
        && let Some(ms) = retry_delay_ms(details)
    {
        e.retry_after_ms = Some(ms);
        e.retry_after_from = Some(RetryAfterFrom::RetryInfo);
    }
}

/// A quota whose limit is 0: `QuotaFailure.violations[].quotaValue = "0"`, or the message's
/// `limit: 0,`.
fn no_quota_at_all(lower_message: &str, details: &[Value]) -> bool {
    let zero_value = details.iter().any(|d| {
        d.get("violations")
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().any(|v| v.get("quotaValue") == Some(&"0".into())))
    });
    zero_value || lower_message.contains("limit: 0,")
}

/// `RetryInfo.retryDelay` in milliseconds, rounded up: a google.protobuf.Duration in its
/// JSON form (`"30s"`, `"1.5s"`, `"0.250s"`), or `{seconds, nanos}` as some proxies
/// re-encode it. Negative or unreadable delays are none.
pub fn retry_delay_ms(details: &[Value]) -> Option<u64> {
    let info = details
        .iter()
        .find(|d| d.get("@type").and_then(Value::as_str) == Some(RETRY_INFO_TYPE))?;
    let secs = match info.get("retryDelay")? {
        Value::String(s) => s.trim().strip_suffix('s')?.trim().parse::<f64>().ok()?,
        Value::Object(o) => {
            let whole = o.get("seconds").map_or(Some(0.0), number)?;
            let nanos = o.get("nanos").map_or(Some(0.0), number)?;
            whole + nanos / 1e9
        }
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).ceil().min(MAX_DELAY_MS) as u64)
}

/// A number, or a number in a string (proto JSON writes int64 as a string).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real-shaped 429: the per-minute quota of the free tier, with QuotaFailure, Help and
    /// RetryInfo details (the message reads like OpenAI's spent quota, and is not one).
    pub(crate) const RATE_LIMITED: &str = r#"{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\nPlease retry in 27.41s.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
          {
            "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
            "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
            "quotaValue": "10"
          }
        ]
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]
      },
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "27s"
      }
    ]
  }
}"#;

    #[test]
    fn a_429_with_retry_info_is_a_rate_limit_that_waits_as_told() {
        let e = classify_http(429, &[], RATE_LIMITED);
        assert_eq!(e.kind, ErrorKind::RateLimit);
        assert_eq!(e.status, Some(429));
        assert_eq!(e.provider_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
        assert_eq!(e.retry_after_ms, Some(27_000));
        assert_eq!(e.retry_after_from, Some(RetryAfterFrom::RetryInfo));
        assert!(e.message.starts_with("You exceeded your current quota"));
        // In the event stream's error object, beside retry_after_ms.
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            (&v["retry_after_ms"], &v["retry_after_from"]),
            (&json_num(27_000), &Value::from("retry_info"))
        );
        let back: CallError = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        // A Retry-After header wins (a proxy's word is the one it will enforce).
        let hdr = vec![("retry-after".to_owned(), "3".to_owned())];
        let e = classify_http(429, &hdr, RATE_LIMITED);
        assert_eq!((e.retry_after_ms, e.retry_after_from), (Some(3000), None));
    }

    fn json_num(n: u64) -> Value {
        Value::from(n)
    }

    #[test]
    fn a_quota_of_zero_is_exhausted() {
        let body = RATE_LIMITED
            .replace("\"quotaValue\": \"10\"", "\"quotaValue\": \"0\"")
            .replace("limit: 10,", "limit: 0,");
        assert_eq!(
            classify_http(429, &[], &body).kind,
            ErrorKind::QuotaExhausted
        );
    }

    #[test]
    fn retry_delays_in_every_form() {
        let d = |v: Value| {
            retry_delay_ms(&[serde_json::json!({"@type": RETRY_INFO_TYPE, "retryDelay": v})])
        };
        assert_eq!(d("30s".into()), Some(30_000));
        assert_eq!(d("1.5s".into()), Some(1500));
        assert_eq!(d("0.000001s".into()), Some(1));
        assert_eq!(d(" 2s ".into()), Some(2000));
        assert_eq!(
            d(serde_json::json!({"seconds": "4", "nanos": 500_000_000})),
            Some(4500)
        );
        assert_eq!(d(serde_json::json!({"seconds": 7})), Some(7000));
        assert_eq!(d("9999999999s".into()), Some(86_400_000));
        for bad in ["-1s", "30", "soon", "NaNs", "s"] {
            assert_eq!(d(bad.into()), None, "{bad}");
        }
        assert_eq!(d(Value::Null), None);
        // Another detail type carrying the field is not RetryInfo.
        assert_eq!(
            retry_delay_ms(&[serde_json::json!({"@type": "x", "retryDelay": "3s"})]),
            None
        );
    }

    #[test]
    fn status_names_decide_the_kind() {
        let body = |code: u16, status: &str, msg: &str| {
            format!(r#"{{"error":{{"code":{code},"message":"{msg}","status":"{status}"}}}}"#)
        };
        let cases = [
            (
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
                ErrorKind::Overloaded,
            ),
            (
                500,
                "INTERNAL",
                "An internal error has occurred.",
                ErrorKind::ServerError,
            ),
            (
                504,
                "DEADLINE_EXCEEDED",
                "Deadline expired before operation could complete.",
                ErrorKind::Timeout,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "Invalid JSON payload received.",
                ErrorKind::BadRequest,
            ),
            (
                400,
                "FAILED_PRECONDITION",
                "User location is not supported for the API use.",
                ErrorKind::BadRequest,
            ),
            (
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
                ErrorKind::BadRequest,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers.",
                ErrorKind::Auth,
            ),
            (
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                ErrorKind::Auth,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
                ErrorKind::ContextLength,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                ErrorKind::Auth,
            ),
            // An unknown name keeps the status code's kind.
            (502, "SOMETHING_NEW", "x", ErrorKind::ServerError),
        ];
        for (code, status, msg, kind) in cases {
            let e = classify_http(code, &[], &body(code, status, msg));
            assert_eq!(e.kind, kind, "{status}: {msg}");
            assert_eq!(e.message, msg);
            assert_eq!(e.provider_type.as_deref(), Some(status));
            assert_eq!(e.retry_after_ms, None);
        }
    }

    #[test]
    fn a_bad_key_is_auth_by_its_reason() {
        let body = r#"{"error":{"code":400,"message":"Bad key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#;
        assert_eq!(classify_http(400, &[], body).kind, ErrorKind::Auth);
    }

    #[test]
    fn malformed_error_bodies_fall_back_to_the_status() {
        let cases = [
            (
                429,
                "{\"error\": {\"code\": 429, \"message\": \"cut",
                ErrorKind::RateLimit,
            ),
            (
                503,
                "<html><title>503</title></html>",
                ErrorKind::Overloaded,
            ),
            (500, "", ErrorKind::ServerError),
            (404, "[]", ErrorKind::BadRequest),
            (
                429,
                r#"{"error": {"status": 7, "details": "no"}}"#,
                ErrorKind::RateLimit,
            ),
            (400, r#"{"error": "plain"}"#, ErrorKind::BadRequest),
            (
                429,
                r#"{"error": {"status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": 30}]}}"#,
                ErrorKind::RateLimit,
            ),
        ];
        for (status, body, kind) in cases {
            let e = classify_http(status, &[], body);
            assert_eq!(e.kind, kind, "{body}");
            assert_eq!(e.retry_after_ms, None, "{body}");
            assert!(!e.message.is_empty());
        }
        // The list form of the non-SSE stream carries the same object.
        let listed = format!("[{RATE_LIMITED}]");
        assert_eq!(
            classify_http(429, &[], &listed).retry_after_ms,
            Some(27_000)
        );
    }

    #[test]
    fn errors_inside_a_200_take_their_code_and_name() {
        let v: Value = serde_json::from_str(
            r#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#,
        )
        .unwrap();
        let e = classify_in_200(&v, &[("x-request-id".into(), "r1".into())]);
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert_eq!(e.status, Some(200));
        assert_eq!(e.provider_type.as_deref(), Some("UNAVAILABLE"));
        assert_eq!(e.request_id.as_deref(), Some("r1"));
        let v: Value = serde_json::from_str(RATE_LIMITED).unwrap();
        let e = classify_in_200(&v, &[]);
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimit, Some(27_000))
        );
        let v: Value = serde_json::from_str(r#"{"error":{}}"#).unwrap();
        let e = classify_in_200(&v, &[]);
        assert_eq!(e.kind, ErrorKind::ServerError);
        assert!(
            e.message.starts_with("an error inside an HTTP 200 reply"),
            "{}",
            e.message
        );
    }
}
