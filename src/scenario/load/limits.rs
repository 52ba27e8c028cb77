//! Checks of `[limits]` and `[fallback].on_result`: what serde alone cannot refuse.
//!
//! - a limit of zero or less, a non-finite `max_cost_usd`, a `[limits]` table with no limit;
//! - `on_exhausted = "message"` without `message` (and a `message` nothing reads);
//! - a `deadline` shorter than `[call].first_byte_timeout`: that timeout could never fire
//!   (a deadline shorter than `timeout` is fine: it clips it, that is its job);
//! - `length`, `empty` and `limit_exceeded` in `retry_on`, `reinsert` or a `catch`: they are
//!   retrylab's verdicts, not errors an attempt fails with (on_result and `[limits]` decide
//!   what follows them, never a retry or a catch).

use super::checks::{Problem, at};
use super::locate::KeyPath;
use crate::error::ErrorKind;
use crate::policy::duration::format_secs;
use crate::scenario::types::{OnExhausted, RetrySpec, Scenario};

fn limits_path() -> KeyPath {
    KeyPath::new().key("limits")
}

/// Every `[limits]` check.
pub(super) fn check_limits(s: &Scenario) -> Result<(), Problem> {
    let Some(l) = &s.limits else {
        return Ok(());
    };
    let counts = [
        ("max_requests", l.max_requests),
        ("max_tokens", l.max_tokens),
    ];
    for (key, value) in counts {
        if let Some(n) = value.filter(|&n| n <= 0) {
            return Err(at(
                limits_path().key(key),
                format!("`{key}` must be at least 1, found {n}"),
                format!("write e.g. {key} = 10, or remove it for no limit"),
            ));
        }
    }
    if let Some(c) = l.max_cost_usd.filter(|c| !c.is_finite() || *c <= 0.0) {
        return Err(at(
            limits_path().key("max_cost_usd"),
            format!("`max_cost_usd` must be a dollar amount above 0, found {c}"),
            "write e.g. max_cost_usd = 0.05, or remove it for no limit",
        ));
    }
    if let Some(d) = l.deadline {
        if d.0 <= 0.0 {
            return Err(at(
                limits_path().key("deadline"),
                "`deadline` must be greater than 0",
                "write e.g. deadline = \"30s\" (from the run's start), or remove it",
            ));
        }
        if d.beyond_max_wait() {
            return Err(super::checks::too_long(
                limits_path().key("deadline"),
                "deadline",
                "is",
            ));
        }
        if let Some(fb) = s.call.first_byte_timeout.filter(|fb| d.0 < fb.0) {
            return Err(at(
                limits_path().key("deadline"),
                format!(
                    "`deadline` ({}) is shorter than [call].first_byte_timeout ({}): that timeout could never fire",
                    format_secs(d.0),
                    format_secs(fb.0)
                ),
                format!(
                    "make the deadline at least {} or the first_byte_timeout shorter",
                    format_secs(fb.0)
                ),
            ));
        }
    }
    let no_limit = l.max_requests.is_none()
        && l.max_tokens.is_none()
        && l.max_cost_usd.is_none()
        && l.deadline.is_none();
    if no_limit {
        return Err(at(
            limits_path(),
            "[limits] sets no limit",
            "add max_requests, max_tokens, max_cost_usd or deadline (e.g. deadline = \"30s\"), or remove the table",
        ));
    }
    match (l.on_exhausted, &l.message) {
        (OnExhausted::Message, None) => Err(at(
            limits_path().key("on_exhausted"),
            "on_exhausted = \"message\" needs the `message` to answer with",
            "add message = \"Sorry, try again later.\" to [limits]",
        )),
        (OnExhausted::Raise | OnExhausted::LastPartial, Some(_)) => Err(at(
            limits_path().key("message"),
            "`message` is only read when on_exhausted = \"message\"",
            "set on_exhausted = \"message\", or remove `message`",
        )),
        _ => Ok(()),
    }
}

/// No retry table or catch list names a verdict kind.
pub(super) fn check_verdict_kinds(s: &Scenario) -> Result<(), Problem> {
    let mut lists: Vec<(KeyPath, &[ErrorKind])> = Vec::new();
    if let Some(r) = &s.retry {
        lists.extend(retry_lists(KeyPath::new().key("retry"), r));
    }
    if let Some(fb) = &s.fallback {
        lists.push((KeyPath::new().key("fallback").key("catch"), &fb.catch[..]));
        for (i, hop) in fb.hops.iter().enumerate() {
            let path = KeyPath::new().key("fallback").key("hops").index(i);
            lists.push((path.clone().key("catch"), &hop.catch[..]));
            if let Some(r) = &hop.retry {
                lists.extend(retry_lists(path.key("retry"), r));
            }
        }
    }
    for (path, kinds) in lists {
        if let Some(i) = kinds.iter().position(|k| k.is_verdict()) {
            let kind = kinds[i];
            let key = path.last_key().unwrap_or("catch").to_string();
            let hint = if kind == ErrorKind::LimitExceeded {
                "limit_exceeded ends the whole call; [limits].on_exhausted says what follows it (raise, message, last_partial)"
            } else {
                "list it in [fallback].on_result = [\"length\", \"empty\"]: a rejected reply moves to the next hop"
            };
            return Err(at(
                path.index(i),
                format!(
                    "`{kind}` in `{key}`: no attempt fails with it for a retry or a catch to act on"
                ),
                hint,
            ));
        }
    }
    Ok(())
}

/// A retry table's kind lists, with their paths.
fn retry_lists(path: KeyPath, r: &RetrySpec) -> [(KeyPath, &[ErrorKind]); 2] {
    [
        (
            path.clone().key("retry_on"),
            r.retry_on.as_deref().unwrap_or(&[]),
        ),
        (path.key("reinsert"), &r.reinsert[..]),
    ]
}
