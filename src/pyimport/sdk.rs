//! Exception classes back to error kinds. Each kind lists the exact classes the official SDKs
//! (openai 1.x/2.x, anthropic 0.x), httpx, pydantic, Tenacity and Mirascope raise for it per
//! provider, and every class its bases, as read from the installed packages' sources
//! (`_exceptions.py`, `_client.py::_make_status_error`, `_streaming.py`). A class then stands
//! for every kind one of whose classes is it or a subclass of it, as `isinstance` does.

use crate::error::ErrorKind;

/// Which SDK raised it: the same kind is a different class per provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    Openai,
    Anthropic,
}

/// Class → its direct base (a single-inheritance chain is all these hierarchies use).
const BASES: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("Exception", "BaseException"),
    ("ValueError", "Exception"),
    ("json.JSONDecodeError", "ValueError"),
    ("TimeoutError", "OSError"),
    ("ConnectionError", "OSError"),
    ("OSError", "Exception"),
    ("AssertionError", "Exception"),
    ("openai.OpenAIError", "Exception"),
    ("openai.APIError", "openai.OpenAIError"),
    ("openai.APIStatusError", "openai.APIError"),
    ("openai.APIConnectionError", "openai.APIError"),
    ("openai.APITimeoutError", "openai.APIConnectionError"),
    ("openai.APIResponseValidationError", "openai.APIError"),
    ("openai.BadRequestError", "openai.APIStatusError"),
    ("openai.AuthenticationError", "openai.APIStatusError"),
    ("openai.PermissionDeniedError", "openai.APIStatusError"),
    ("openai.NotFoundError", "openai.APIStatusError"),
    ("openai.ConflictError", "openai.APIStatusError"),
    ("openai.UnprocessableEntityError", "openai.APIStatusError"),
    ("openai.RateLimitError", "openai.APIStatusError"),
    ("openai.InternalServerError", "openai.APIStatusError"),
    (
        "openai.ContentFilterFinishReasonError",
        "openai.OpenAIError",
    ),
    ("openai.LengthFinishReasonError", "openai.OpenAIError"),
    ("anthropic.AnthropicError", "Exception"),
    ("anthropic.APIError", "anthropic.AnthropicError"),
    ("anthropic.APIStatusError", "anthropic.APIError"),
    ("anthropic.APIConnectionError", "anthropic.APIError"),
    ("anthropic.APITimeoutError", "anthropic.APIConnectionError"),
    ("anthropic.APIResponseValidationError", "anthropic.APIError"),
    ("anthropic.BadRequestError", "anthropic.APIStatusError"),
    ("anthropic.AuthenticationError", "anthropic.APIStatusError"),
    (
        "anthropic.PermissionDeniedError",
        "anthropic.APIStatusError",
    ),
    ("anthropic.NotFoundError", "anthropic.APIStatusError"),
    ("anthropic.ConflictError", "anthropic.APIStatusError"),
    ("anthropic.RequestTooLargeError", "anthropic.APIStatusError"),
    (
        "anthropic.UnprocessableEntityError",
        "anthropic.APIStatusError",
    ),
    ("anthropic.RateLimitError", "anthropic.APIStatusError"),
    ("anthropic.OverloadedError", "anthropic.APIStatusError"),
    (
        "anthropic.ServiceUnavailableError",
        "anthropic.APIStatusError",
    ),
    (
        "anthropic.DeadlineExceededError",
        "anthropic.APIStatusError",
    ),
    ("anthropic.InternalServerError", "anthropic.APIStatusError"),
    ("httpx.HTTPError", "Exception"),
    ("httpx.RequestError", "httpx.HTTPError"),
    ("httpx.TransportError", "httpx.RequestError"),
    ("httpx.TimeoutException", "httpx.TransportError"),
    ("httpx.ReadTimeout", "httpx.TimeoutException"),
    ("httpx.NetworkError", "httpx.TransportError"),
    ("httpx.ReadError", "httpx.NetworkError"),
    ("httpx.ProtocolError", "httpx.TransportError"),
    ("httpx.RemoteProtocolError", "httpx.ProtocolError"),
    ("pydantic.ValidationError", "ValueError"),
    ("tenacity.RetryError", "Exception"),
    ("mirascope.FallbackError", "Exception"),
];

/// What each kind raises, per SDK. Streams fail inside iteration, where the SDKs do not wrap
/// httpx's errors; an error event inside an Anthropic stream is a bare `APIStatusError`
/// (status 200), inside an OpenAI stream a bare `APIError`.
fn raised(kind: ErrorKind, sdk: Sdk) -> &'static [&'static str] {
    use ErrorKind as K;
    match (kind, sdk) {
        (K::RateLimit, Sdk::Openai) => &["openai.RateLimitError"],
        (K::RateLimit, Sdk::Anthropic) => &["anthropic.RateLimitError"],
        (K::Overloaded, Sdk::Openai) => &["openai.InternalServerError", "openai.APIError"],
        (K::Overloaded, Sdk::Anthropic) => &[
            "anthropic.OverloadedError",
            "anthropic.InternalServerError",
            "anthropic.APIStatusError",
        ],
        (K::ServerError, Sdk::Openai) => &["openai.InternalServerError"],
        (K::ServerError, Sdk::Anthropic) => &["anthropic.InternalServerError"],
        (K::Timeout, Sdk::Openai) => &["openai.APITimeoutError", "httpx.ReadTimeout"],
        (K::Timeout, Sdk::Anthropic) => &["anthropic.APITimeoutError", "httpx.ReadTimeout"],
        (K::Connection, Sdk::Openai) => &["openai.APIConnectionError", "httpx.ReadError"],
        (K::Connection, Sdk::Anthropic) => &["anthropic.APIConnectionError", "httpx.ReadError"],
        (K::StreamInterrupted, _) => &["httpx.RemoteProtocolError", "json.JSONDecodeError"],
        (K::Auth, Sdk::Openai) => &["openai.AuthenticationError", "openai.PermissionDeniedError"],
        (K::Auth, Sdk::Anthropic) => &[
            "anthropic.AuthenticationError",
            "anthropic.PermissionDeniedError",
        ],
        (K::BadRequest, Sdk::Openai) => &[
            "openai.BadRequestError",
            "openai.NotFoundError",
            "openai.UnprocessableEntityError",
        ],
        (K::BadRequest, Sdk::Anthropic) => &[
            "anthropic.BadRequestError",
            "anthropic.NotFoundError",
            "anthropic.UnprocessableEntityError",
            "anthropic.RequestTooLargeError",
        ],
        (K::Redirect, Sdk::Openai) => &["openai.APIStatusError"],
        (K::Redirect, Sdk::Anthropic) => &["anthropic.APIStatusError"],
        (K::ContextLength, Sdk::Openai) => &["openai.BadRequestError"],
        (K::ContextLength, Sdk::Anthropic) => &["anthropic.BadRequestError"],
        (K::ContentFilter, Sdk::Openai) => &["openai.ContentFilterFinishReasonError"],
        (K::ContentFilter, Sdk::Anthropic) => &[],
        (K::QuotaExhausted, Sdk::Openai) => &["openai.RateLimitError"],
        (K::QuotaExhausted, Sdk::Anthropic) => &["anthropic.BadRequestError"],
        (K::Validation | K::ToolValidation, _) => &["pydantic.ValidationError"],
        (K::RetryError, _) => &["tenacity.RetryError"],
        (K::FallbackError, _) => &["mirascope.FallbackError"],
        // retrylab's own breaker and budget: no SDK raises them.
        (K::CircuitOpen | K::BudgetExhausted, _) => &[],
        // retrylab's own verdicts (on_result, [limits]): no SDK raises them.
        (K::Length | K::Empty | K::LimitExceeded, _) => &[],
        (K::Any, _) => &[],
    }
}

/// Other spellings of the same classes (submodules, re-exports) → the canonical name.
fn canonical(qualified: &str) -> String {
    let q = qualified.trim_start_matches("builtins.");
    for (prefix, to) in [
        ("openai._exceptions.", "openai."),
        ("anthropic._exceptions.", "anthropic."),
        ("httpx._exceptions.", "httpx."),
        ("pydantic_core.", "pydantic."),
        ("pydantic.v1.", "pydantic."),
        ("tenacity._utils.", "tenacity."),
        ("mirascope.retries.fallback.", "mirascope."),
        ("mirascope.retries.", "mirascope."),
        ("json.decoder.", "json."),
    ] {
        if let Some(rest) = q.strip_prefix(prefix) {
            return format!("{to}{rest}");
        }
    }
    if q == "tenacity.RetryError" || q == "RetryError" {
        return "tenacity.RetryError".into();
    }
    q.to_string()
}

fn is_subclass(class: &str, of: &str) -> bool {
    let mut c = class;
    // The chains are short; the bound guards against a table typo looping.
    for _ in 0..16 {
        if c == of {
            return true;
        }
        match BASES.iter().find(|(n, _)| *n == c) {
            Some((_, base)) if !base.is_empty() => c = base,
            _ => return false,
        }
    }
    false
}

/// True when retrylab knows the class.
pub fn known(qualified: &str) -> bool {
    let c = canonical(qualified);
    BASES.iter().any(|(n, _)| *n == c)
}

/// The kinds an `except`/`isinstance` test on `qualified` catches for errors of `sdk`, each
/// with whether all of its classes are covered (`false`: only some forms of the kind).
pub fn kinds_caught(qualified: &str, sdk: Sdk) -> Vec<(ErrorKind, bool)> {
    if let Some(k) = super::harness::class_kind(qualified) {
        return vec![(k, true)];
    }
    let c = canonical(qualified);
    if c == "Exception" || c == "BaseException" {
        return vec![(ErrorKind::Any, true)];
    }
    ErrorKind::ALL
        .iter()
        .filter_map(|&k| {
            let classes = raised(k, sdk);
            let hits = classes.iter().filter(|x| is_subclass(x, &c)).count();
            (hits > 0).then_some((k, hits == classes.len()))
        })
        .collect()
}

/// The kinds whose exception's exact class is `qualified` (Mirascope's `collect_errors`
/// compares `type(exception) in args`, not `isinstance`).
pub fn kinds_exact(qualified: &str, sdk: Sdk) -> Vec<ErrorKind> {
    if let Some(k) = super::harness::class_kind(qualified) {
        return vec![k];
    }
    let c = canonical(qualified);
    ErrorKind::ALL
        .iter()
        .copied()
        .filter(|&k| raised(k, sdk).contains(&c.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorKind as K;

    fn kinds(q: &str, sdk: Sdk) -> Vec<ErrorKind> {
        kinds_caught(q, sdk).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn rate_limit_errors_map_per_sdk() {
        assert_eq!(
            kinds("openai.RateLimitError", Sdk::Openai),
            [K::RateLimit, K::QuotaExhausted]
        );
        assert!(kinds("openai.RateLimitError", Sdk::Anthropic).is_empty());
        assert_eq!(
            kinds("anthropic.RateLimitError", Sdk::Anthropic),
            [K::RateLimit]
        );
        assert_eq!(
            kinds("anthropic._exceptions.OverloadedError", Sdk::Anthropic),
            [K::Overloaded]
        );
    }

    #[test]
    fn base_classes_cover_their_subclasses() {
        let status = kinds("openai.APIStatusError", Sdk::Openai);
        for k in [
            K::RateLimit,
            K::ServerError,
            K::Auth,
            K::BadRequest,
            K::Redirect,
        ] {
            assert!(status.contains(&k), "{k} in {status:?}");
        }
        assert!(!status.contains(&K::Timeout));
        assert_eq!(
            kinds("openai.APIConnectionError", Sdk::Openai),
            [K::Timeout, K::Connection]
        );
        assert_eq!(kinds("Exception", Sdk::Openai), [K::Any]);
        assert_eq!(
            kinds("pydantic.ValidationError", Sdk::Openai),
            [K::Validation, K::ToolValidation]
        );
        assert_eq!(
            kinds("mirascope.retries.FallbackError", Sdk::Openai),
            [K::FallbackError]
        );
        assert_eq!(kinds("tenacity.RetryError", Sdk::Openai), [K::RetryError]);
    }

    #[test]
    fn partial_coverage_is_flagged() {
        let k = kinds_caught("anthropic.InternalServerError", Sdk::Anthropic);
        assert_eq!(k, [(K::Overloaded, false), (K::ServerError, true)]);
    }

    #[test]
    fn collect_errors_matches_exact_classes() {
        assert_eq!(
            kinds_exact("pydantic.ValidationError", Sdk::Openai),
            [K::Validation, K::ToolValidation]
        );
        assert!(kinds_exact("openai.APIError", Sdk::Anthropic).is_empty());
        assert!(known("openai.NotFoundError"));
        assert!(!known("mylib.MyError"));
    }
}
