//! `[fallback].on_result` in the engine: a whole 200 reply checked against the reply
//! predicates (`length`, `empty`) before tools and validation, an attempt's error read as a
//! rejection (`content_filter`, `validation`), and `result_rejected`. The rules are
//! `policy::on_result`'s.

use super::attempt::Failure;
use super::prepare::Prepared;
use super::run::Emitter;
use crate::error::{CallError, ErrorKind};
use crate::event::{Event, ResultRejected};
use crate::policy::on_result::{self, Reply, ResultKind};
use crate::provider::{ChatResponse, wire};
use crate::scenario::types::{ProviderKind, Scenario};

/// The scenario's `on_result` list (empty without a `[fallback]`).
pub(super) fn on_result_of(s: &Scenario) -> Vec<ResultKind> {
    s.fallback
        .as_ref()
        .map(|f| f.on_result.clone())
        .unwrap_or_default()
}

/// A whole reply `on_result` rejects (cut at max tokens, or empty): the attempt's failure.
pub(super) fn reject_reply(
    prep: &Prepared,
    kind: ProviderKind,
    resp: &ChatResponse,
) -> Option<Failure> {
    if prep.on_result.is_empty() {
        return None;
    }
    let reason = resp.finish_reason.as_deref();
    let reply = Reply {
        cut_at_max_tokens: reason.is_some_and(|r| wire::format(kind).cut_at_max_tokens(r)),
        text: &resp.content,
        tool_calls: resp.tool_calls.len(),
    };
    let rejected = on_result::reject_reply(&prep.on_result, reply)?;
    Some(Failure {
        error: on_result::rejection_error(rejected, reason).with_request_id(resp_request_id(resp)),
        partial_output: resp.content.clone(),
        response: Some(resp.exchange.clone()),
        usage: Some(resp.usage),
    })
}

fn resp_request_id(resp: &ChatResponse) -> Option<String> {
    crate::provider::headers::request_id(&resp.exchange.headers)
}

/// Which predicate of `on_result` an attempt's error is, if any.
pub(super) fn rejected(prep: &Prepared, error: &CallError) -> Option<ResultKind> {
    match error.kind {
        // Only ever made by `reject_reply`.
        ErrorKind::Length => Some(ResultKind::Length),
        ErrorKind::Empty => Some(ResultKind::Empty),
        _ => on_result::reject_error(&prep.on_result, error),
    }
}

/// `result_rejected`, after the attempt's `attempt_failed`.
pub(super) fn emit_rejected(em: &Emitter, hop: u32, attempt: u32, result: ResultKind, why: String) {
    em.emit(Event::ResultRejected(ResultRejected {
        hop,
        attempt,
        result: result.as_str().into(),
        why,
    }));
}
