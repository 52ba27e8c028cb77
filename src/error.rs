//! Error kinds (DESIGN §4, contract) and the classified error every attempt can end with.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Joins an error's own message and its fix hint wherever a person reads them as one text
/// (see [`CallError::shown_message`]); the printer shows them apart again.
pub const HINT_SEP: &str = " — to fix: ";

/// Where an error's `retry_after_ms` came from, when not from a header (DESIGN §16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAfterFrom {
    /// The error body's `RetryInfo.retryDelay` (Gemini's `details[]`).
    RetryInfo,
    /// A word this version does not know (a newer trace).
    #[serde(other)]
    Unknown,
}

/// The kind of a failure, as named in scenarios (`retry_on`, `reinsert`, `catch`) and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    RateLimit,
    Overloaded,
    ServerError,
    Timeout,
    Connection,
    StreamInterrupted,
    Auth,
    BadRequest,
    /// A 3xx reply: API calls never follow redirects (the key must not travel to the
    /// Location, and a 302/303 would turn the POST into a body-less GET).
    Redirect,
    ContextLength,
    ContentFilter,
    /// The account's quota or credit is spent (OpenAI 429 `insufficient_quota`, Anthropic
    /// "credit balance is too low"): waiting does not bring it back.
    QuotaExhausted,
    Validation,
    ToolValidation,
    RetryError,
    FallbackError,
    /// The attempt was not sent: the circuit breaker of its provider+model is open
    /// (`[breaker]`).
    CircuitOpen,
    /// A retry the retry budget denied (`[budget]`): the hop ends, carrying the last error.
    BudgetExhausted,
    /// A 200 reply cut at the provider's max tokens (OpenAI `finish_reason: "length"`,
    /// Anthropic `stop_reason: "max_tokens"`), rejected by `[fallback].on_result`.
    Length,
    /// A 200 reply with no text and no tool call, rejected by `[fallback].on_result`.
    Empty,
    /// A `[limits]` limit of the whole call was reached (requests, tokens, cost, deadline);
    /// carries the last attempt's error, when there was one, as `last_error`.
    LimitExceeded,
    /// Matches every kind (only meaningful in `retry_on`, `reinsert`, `catch`).
    Any,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 22] = [
        ErrorKind::RateLimit,
        ErrorKind::Overloaded,
        ErrorKind::ServerError,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::StreamInterrupted,
        ErrorKind::Auth,
        ErrorKind::BadRequest,
        ErrorKind::Redirect,
        ErrorKind::ContextLength,
        ErrorKind::ContentFilter,
        ErrorKind::QuotaExhausted,
        ErrorKind::Validation,
        ErrorKind::ToolValidation,
        ErrorKind::RetryError,
        ErrorKind::FallbackError,
        ErrorKind::CircuitOpen,
        ErrorKind::BudgetExhausted,
        ErrorKind::Length,
        ErrorKind::Empty,
        ErrorKind::LimitExceeded,
        ErrorKind::Any,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::Auth => "auth",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Redirect => "redirect",
            ErrorKind::ContextLength => "context_length",
            ErrorKind::ContentFilter => "content_filter",
            ErrorKind::QuotaExhausted => "quota_exhausted",
            ErrorKind::Validation => "validation",
            ErrorKind::ToolValidation => "tool_validation",
            ErrorKind::RetryError => "retry_error",
            ErrorKind::FallbackError => "fallback_error",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::BudgetExhausted => "budget_exhausted",
            ErrorKind::Length => "length",
            ErrorKind::Empty => "empty",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::Any => "any",
        }
    }

    /// retrylab's own verdicts on a call (`[fallback].on_result`, `[limits]`): never listed in
    /// `retry_on`, `reinsert` or a `catch` (refused at load), never raised by an SDK.
    pub fn is_verdict(self) -> bool {
        matches!(
            self,
            ErrorKind::Length | ErrorKind::Empty | ErrorKind::LimitExceeded
        )
    }

    /// True when a list of kinds (as written in a scenario) covers this kind.
    pub fn is_in(self, kinds: &[ErrorKind]) -> bool {
        kinds.iter().any(|k| *k == ErrorKind::Any || *k == self)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified failure with the provider's detail kept (DESIGN §4).
/// Serialized as the `{kind, message, status?, provider_type?, retry_after_ms?, request_id?}`
/// object of the event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallError {
    pub kind: ErrorKind,
    pub message: String,
    /// What to fix, when the setup is the likely cause (live mode: key, model, URL, proxy,
    /// timeouts). Shown after the message (`HINT_SEP`); traces written before this field
    /// existed have it glued into `message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Where `retry_after_ms` came from when no header gave it: `retry_info` (Gemini's
    /// `RetryInfo.retryDelay` inside the error body). Absent: a `retry-after(-ms)` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_from: Option<RetryAfterFrom>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Which timeout fired (`connect`, `first_byte`, `idle`, `total`), for `timeout` errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The last error inside a `retry_error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<Box<CallError>>,
    /// Every caught error inside a `fallback_error`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CallError>,
}

impl CallError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
            hint: None,
            status: None,
            provider_type: None,
            retry_after_ms: None,
            retry_after_from: None,
            request_id: None,
            timeout: None,
            last_error: None,
            errors: Vec::new(),
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// The message as a person reads it: with the fix hint after [`HINT_SEP`], when there
    /// is one. Error reinsertion carries this text too.
    pub fn shown_message(&self) -> Cow<'_, str> {
        match &self.hint {
            Some(h) => Cow::Owned(format!("{}{HINT_SEP}{h}", self.message)),
            None => Cow::Borrowed(&self.message),
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_provider_type(mut self, t: impl Into<String>) -> Self {
        self.provider_type = Some(t.into());
        self
    }

    pub fn with_retry_after_ms(mut self, ms: Option<u64>) -> Self {
        self.retry_after_ms = ms;
        self
    }

    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }

    /// Tenacity's `RetryError`: the hop's retries ran out; carries the last attempt's error.
    pub fn retry_error(attempts: u32, last: CallError) -> Self {
        let mut e = CallError::new(
            ErrorKind::RetryError,
            format!(
                "RetryError after {attempts} attempt(s); last error: {}",
                last.summary()
            ),
        );
        e.last_error = Some(Box::new(last));
        e
    }

    /// An attempt the open breaker of `target` (`provider/model`) did not send.
    pub fn circuit_open(target: &str, why: &str) -> Self {
        CallError::new(
            ErrorKind::CircuitOpen,
            format!("the circuit breaker of {target} is open ({why}): the request was not sent"),
        )
    }

    /// A retry the budget denied after `attempts` attempts; carries the last attempt's error
    /// (as `retry_error` does).
    pub fn budget_exhausted(attempts: u32, tokens: f64, last: CallError) -> Self {
        let mut e = CallError::new(
            ErrorKind::BudgetExhausted,
            format!(
                "retry budget exhausted after {attempts} attempt(s) ({tokens:.2} retries left, 1 needed); last error: {}",
                last.summary()
            ),
        );
        e.last_error = Some(Box::new(last));
        e
    }

    /// A `[limits]` limit ended the call (`words` names it); carries the last attempt's
    /// error as `last_error`, as `retry_error` does, when there was one.
    pub fn limit_exceeded(words: &str, last: Option<CallError>) -> Self {
        let message = match &last {
            Some(l) => format!("LimitExceeded: {words}; last error: {}", l.summary()),
            None => format!("LimitExceeded: {words}"),
        };
        let mut e = CallError::new(ErrorKind::LimitExceeded, message);
        e.last_error = last.map(Box::new);
        e
    }

    /// Mirascope's `FallbackError`: every hop failed with a caught error.
    pub fn fallback_error(caught: Vec<CallError>) -> Self {
        let list: Vec<String> = caught.iter().map(CallError::summary).collect();
        let mut e = CallError::new(
            ErrorKind::FallbackError,
            format!("FallbackError: every call failed: [{}]", list.join("; ")),
        );
        e.errors = caught;
        e
    }

    /// `kind (status): message`, one line (the message as shown: hint included).
    pub fn summary(&self) -> String {
        let message = self.shown_message();
        match self.status {
            Some(s) => format!("{} ({s}): {message}", self.kind),
            None => format!("{}: {message}", self.kind),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

impl std::error::Error for CallError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_covers_every_kind() {
        for k in ErrorKind::ALL {
            assert!(k.is_in(&[ErrorKind::Any]));
        }
        assert!(ErrorKind::RateLimit.is_in(&[ErrorKind::Timeout, ErrorKind::RateLimit]));
        assert!(!ErrorKind::RateLimit.is_in(&[ErrorKind::Timeout]));
        assert!(!ErrorKind::RateLimit.is_in(&[]));
    }

    #[test]
    fn any_in_retry_on_takes_a_spent_quota_too_as_tenacity_does() {
        // Tenacity's default retries every exception, an insufficient_quota one included;
        // only a retry_on that lists kinds leaves it out.
        let q = ErrorKind::QuotaExhausted;
        assert!(q.is_in(&[ErrorKind::Any]));
        assert!(!q.is_in(&[ErrorKind::RateLimit, ErrorKind::ServerError]));
    }

    #[test]
    fn kind_names_round_trip_through_serde() {
        for k in ErrorKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            let back: ErrorKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, k);
        }
    }

    #[test]
    fn error_serializes_without_empty_fields() {
        let e = CallError::new(ErrorKind::RateLimit, "slow down")
            .with_status(429)
            .with_retry_after_ms(Some(1000));
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind":"rate_limit","message":"slow down","status":429,"retry_after_ms":1000})
        );
    }

    #[test]
    fn a_hint_has_its_own_field_and_reads_after_the_message() {
        let e = CallError::new(ErrorKind::Auth, "bad key")
            .with_status(401)
            .with_hint(Some("check OPENAI_API_KEY".into()));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"kind":"auth","message":"bad key","hint":"check OPENAI_API_KEY","status":401}"#
        );
        assert_eq!(e.shown_message(), "bad key — to fix: check OPENAI_API_KEY");
        assert_eq!(
            e.to_string(),
            "auth (401): bad key — to fix: check OPENAI_API_KEY"
        );
        // The wrappers read as before: their text holds the inner error as shown.
        let r = CallError::retry_error(2, e.clone());
        assert_eq!(
            r.message,
            "RetryError after 2 attempt(s); last error: auth (401): bad key — to fix: check OPENAI_API_KEY"
        );
        assert_eq!(r.hint, None);
        // An old trace, hint glued in: it reads the same.
        let old: CallError = serde_json::from_str(
            r#"{"kind":"auth","message":"bad key — to fix: check OPENAI_API_KEY","status":401}"#,
        )
        .unwrap();
        assert_eq!(old.hint, None);
        assert_eq!(old.to_string(), e.to_string());
    }
}
