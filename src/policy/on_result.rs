//! `[fallback].on_result`: a 200 reply the call rejects (pydantic-ai's response predicates,
//! LiteLLM's content-policy fallbacks). A rejected reply is not retried on the same model:
//! the hop ends at once and the next hop runs; on the last hop the run ends with
//! `fallback_error`. Without `on_result` nothing here applies (a length-cut 200 is a
//! success, a validation failure is retried per `retry_on`).

use super::fallback::{FallbackDecision, FallbackPolicy};
use crate::error::{CallError, ErrorKind};
use serde::{Deserialize, Serialize};

/// What makes a reply rejected; each is also the error kind of the attempt it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultKind {
    /// The provider's content filter stopped the reply (OpenAI `finish_reason:
    /// "content_filter"`, Anthropic `stop_reason: "refusal"`).
    ContentFilter,
    /// The provider cut the reply at its max tokens (OpenAI `length`, Anthropic
    /// `max_tokens`).
    Length,
    /// No text (nothing but whitespace) and no tool call.
    Empty,
    /// The `[response]` validators refused it.
    Validation,
}

impl ResultKind {
    pub const ALL: [ResultKind; 4] = [
        ResultKind::ContentFilter,
        ResultKind::Length,
        ResultKind::Empty,
        ResultKind::Validation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResultKind::ContentFilter => "content_filter",
            ResultKind::Length => "length",
            ResultKind::Empty => "empty",
            ResultKind::Validation => "validation",
        }
    }

    /// The error kind an attempt rejected for this fails with.
    pub fn error_kind(self) -> ErrorKind {
        match self {
            ResultKind::ContentFilter => ErrorKind::ContentFilter,
            ResultKind::Length => ErrorKind::Length,
            ResultKind::Empty => ErrorKind::Empty,
            ResultKind::Validation => ErrorKind::Validation,
        }
    }

    /// `[content_filter, length]`, as the scenario lists them.
    pub fn list(kinds: &[ResultKind]) -> String {
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        format!("[{}]", names.join(", "))
    }
}

impl std::fmt::Display for ResultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole 200 reply, as the reply predicates read it.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// The provider said it cut the answer at its max tokens.
    pub cut_at_max_tokens: bool,
    pub text: &'a str,
    pub tool_calls: usize,
}

/// The predicate of `on_result` that rejects a whole reply, if any: `length` before `empty`
/// (a reply cut at 0 tokens is a length cut, its cause). Validation comes after, in the
/// engine, on what passes these.
pub fn reject_reply(on_result: &[ResultKind], reply: Reply<'_>) -> Option<ResultKind> {
    if reply.cut_at_max_tokens && on_result.contains(&ResultKind::Length) {
        return Some(ResultKind::Length);
    }
    let empty = reply.text.trim().is_empty() && reply.tool_calls == 0;
    (empty && on_result.contains(&ResultKind::Empty)).then_some(ResultKind::Empty)
}

/// The predicate of `on_result` an attempt's error is, if any: a content-filter stop or a
/// validation failure (the kinds a 200 reply fails with).
pub fn reject_error(on_result: &[ResultKind], error: &CallError) -> Option<ResultKind> {
    on_result.iter().copied().find(|r| {
        matches!(r, ResultKind::ContentFilter | ResultKind::Validation)
            && r.error_kind() == error.kind
    })
}

/// The error an attempt whose whole reply `kind` rejected fails with.
pub fn rejection_error(kind: ResultKind, finish_reason: Option<&str>) -> CallError {
    let message = match (kind, finish_reason) {
        (ResultKind::Length, Some(r)) => {
            format!("the reply was cut at the provider's max tokens (finish reason: {r})")
        }
        (ResultKind::Length, None) => "the reply was cut at the provider's max tokens".into(),
        (ResultKind::Empty, _) => "the reply has no text and no tool call".into(),
        (other, _) => format!("the reply was rejected: {other}"),
    };
    let e = CallError::new(kind.error_kind(), message).with_status(200);
    match finish_reason {
        Some(r) => e.with_provider_type(r),
        None => e,
    }
}

/// Why a rejected reply is not retried (the attempt's `why`).
pub fn why_not_retried(kind: ResultKind, on_result: &[ResultKind]) -> String {
    format!(
        "{kind} is in [fallback].on_result {}: a rejected reply is not retried on the same model",
        ResultKind::list(on_result)
    )
}

/// What follows a reply rejected on `hop`: the next hop, whatever its catch lists say, or
/// on the last hop `fallback_error`.
pub fn decide_after_rejection(
    policy: Option<&FallbackPolicy>,
    hop: u32,
    kind: ResultKind,
    on_result: &[ResultKind],
) -> FallbackDecision {
    let list = ResultKind::list(on_result);
    match policy {
        Some(p) if hop < p.hops() => FallbackDecision::NextHop {
            hop: hop + 1,
            why: format!(
                "{kind} is in [fallback].on_result {list}: the reply is rejected, falling back to hop {} at once",
                hop + 1
            ),
        },
        _ => FallbackDecision::FallbackError {
            why: format!(
                "{kind} is in [fallback].on_result {list}: rejected on the last hop: fallback_error"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[ResultKind] = &ResultKind::ALL;

    fn reply(cut: bool, text: &str, tool_calls: usize) -> Reply<'_> {
        Reply {
            cut_at_max_tokens: cut,
            text,
            tool_calls,
        }
    }

    #[test]
    fn names_round_trip_through_serde_and_map_to_their_error_kinds() {
        for k in ResultKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
            assert_eq!(serde_json::from_str::<ResultKind>(&json).unwrap(), k);
            assert_eq!(k.error_kind().as_str(), k.as_str());
        }
        assert!(serde_json::from_str::<ResultKind>("\"rate_limit\"").is_err());
    }

    #[test]
    fn reply_predicates_fire_only_when_listed() {
        assert_eq!(
            reject_reply(ALL, reply(true, "abc", 0)),
            Some(ResultKind::Length)
        );
        assert_eq!(
            reject_reply(ALL, reply(false, " \n", 0)),
            Some(ResultKind::Empty)
        );
        // A cut at 0 tokens is a length cut.
        assert_eq!(
            reject_reply(ALL, reply(true, "", 0)),
            Some(ResultKind::Length)
        );
        assert_eq!(
            reject_reply(&[ResultKind::Empty], reply(true, "", 0)),
            Some(ResultKind::Empty)
        );
        // A tool call is an answer.
        assert_eq!(reject_reply(ALL, reply(false, "", 1)), None);
        assert_eq!(reject_reply(ALL, reply(false, "42.", 0)), None);
        assert_eq!(reject_reply(&[], reply(true, "", 0)), None);
        assert_eq!(
            reject_reply(&[ResultKind::Validation], reply(true, "", 0)),
            None
        );
    }

    #[test]
    fn error_predicates_are_content_filter_and_validation() {
        let e = |k| CallError::new(k, "x");
        assert_eq!(
            reject_error(ALL, &e(ErrorKind::ContentFilter)),
            Some(ResultKind::ContentFilter)
        );
        assert_eq!(
            reject_error(ALL, &e(ErrorKind::Validation)),
            Some(ResultKind::Validation)
        );
        assert_eq!(reject_error(ALL, &e(ErrorKind::RateLimit)), None);
        assert_eq!(reject_error(ALL, &e(ErrorKind::ToolValidation)), None);
        assert_eq!(
            reject_error(&[ResultKind::Length], &e(ErrorKind::Validation)),
            None
        );
    }

    #[test]
    fn a_rejection_moves_on_whatever_the_catch_lists_say() {
        let p = FallbackPolicy {
            catch: vec![vec![], vec![]],
        };
        let on = [ResultKind::Length, ResultKind::Empty];
        assert_eq!(
            decide_after_rejection(Some(&p), 0, ResultKind::Length, &on),
            FallbackDecision::NextHop {
                hop: 1,
                why: "length is in [fallback].on_result [length, empty]: the reply is rejected, falling back to hop 1 at once".into()
            }
        );
        assert_eq!(
            decide_after_rejection(Some(&p), 1, ResultKind::Empty, &on),
            FallbackDecision::FallbackError {
                why: "empty is in [fallback].on_result [length, empty]: rejected on the last hop: fallback_error".into()
            }
        );
        assert_eq!(
            why_not_retried(ResultKind::Empty, &on),
            "empty is in [fallback].on_result [length, empty]: a rejected reply is not retried on the same model"
        );
    }

    #[test]
    fn rejection_errors_name_the_finish_reason() {
        let e = rejection_error(ResultKind::Length, Some("max_tokens"));
        assert_eq!(e.kind, ErrorKind::Length);
        assert_eq!(e.status, Some(200));
        assert_eq!(e.provider_type.as_deref(), Some("max_tokens"));
        assert_eq!(
            e.message,
            "the reply was cut at the provider's max tokens (finish reason: max_tokens)"
        );
        let e = rejection_error(ResultKind::Empty, Some("stop"));
        assert_eq!(e.kind, ErrorKind::Empty);
        assert_eq!(e.message, "the reply has no text and no tool call");
    }
}
