//! One attempt: its request (the prompt rendered with the errors reinserted so far), one
//! HTTP exchange with its deltas emitted (keys scrubbed even across deltas), then tools and
//! validation.

use super::prepare::Prepared;
use super::run::{Emitter, setup_error};
use crate::config;
use crate::error::{CallError, ErrorKind};
use crate::event::{Delta, Event, ToolCall};
use crate::provider::{ChatRequest, ChatResponse, Endpoint, Message};
use crate::scenario::render::render;
use crate::scenario::types::Scenario;
use std::time::Duration;

/// One attempt's failure, with what the Inspector needs.
pub(super) struct Failure {
    pub(super) error: CallError,
    pub(super) partial_output: String,
    pub(super) response: Option<crate::event::HttpExchange>,
    /// The reply's usage, when a whole reply came (it then failed tools or validation).
    pub(super) usage: Option<crate::event::Usage>,
}

/// The attempt's request and its rendered prompt, or why the prompt cannot be rendered.
pub(super) fn build_request(
    s: &Scenario,
    prep: &Prepared,
    hop: usize,
    template_errors: &[String],
    reask: &[Message],
) -> Result<(ChatRequest, String), CallError> {
    let rendered = render(s, template_errors)
        .map_err(|e| setup_error(format!("the prompt template failed to render: {e}")))?;
    let mut messages = vec![Message::user(rendered.user.clone())];
    messages.extend(reask.iter().cloned());
    let request = ChatRequest {
        model: prep.targets[hop].model.clone(),
        system: rendered.system,
        messages,
        temperature: s.call.temperature,
        max_tokens: s.call.max_tokens,
        stream: s.call.stream,
        tools: prep.toolbox.defs(),
    };
    Ok((request, rendered.user))
}

pub(super) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One HTTP exchange, then tools and validation: the attempt's content, or why it failed.
/// `replayed` is the text a continued attempt sent back as the start of its reply
/// (`stream_recovery = "continue"`): its answer, validated and kept, is that + the new text.
pub(super) async fn attempt_once(
    prep: &Prepared,
    endpoint: &Endpoint,
    request: &ChatRequest,
    (hop, attempt): (u32, u32),
    replayed: &str,
    em: &Emitter,
) -> Result<(String, ChatResponse), Failure> {
    let mut resp = exchange(prep, endpoint, request, (hop, attempt), em)
        .await
        .map_err(|mut f| {
            f.partial_output.insert_str(0, replayed);
            f
        })?;
    resp.content.insert_str(0, replayed);
    // `[fallback].on_result`: a reply cut at max tokens or empty is rejected before tools
    // and validation read it.
    if let Some(rejected) = super::results::reject_reply(prep, endpoint.kind, &resp) {
        return Err(rejected);
    }
    if resp.tool_calls.is_empty() {
        validate(prep, resp)
    } else {
        call_tools(prep, resp, (hop, attempt), em)
    }
}

/// The request sent and its reply read, each piece of streamed text emitted as a delta.
async fn exchange(
    prep: &Prepared,
    endpoint: &Endpoint,
    request: &ChatRequest,
    (hop, attempt): (u32, u32),
    em: &Emitter,
) -> Result<ChatResponse, Failure> {
    // Live, a key a server streams back is scrubbed, even split across deltas.
    let mut scrub = config::StreamRedactor::sharing(em.secrets.clone());
    let delta = |text: String| {
        if !text.is_empty() {
            em.emit(Event::Delta(Delta { hop, attempt, text }));
        }
    };
    // `[limits]`: the deadline clips the attempt's timeout; `max_tokens` may end the stream.
    let (timeouts, _) = prep
        .call_limits
        .attempt_timeouts(prep.timeouts, em.clock.now());
    let mut guard = prep.call_limits.stream_guard(request, &em.clock);
    let tripped = guard.as_ref().map(super::limits::StreamGuard::tripped);
    let mut on_delta = |text: &str| {
        if guard.as_mut().is_none_or(|g| g.take(text)) {
            delta(scrub.push(text));
        }
    };
    let send = super::hedge::send(
        prep,
        endpoint,
        request,
        &timeouts,
        (hop, attempt),
        em,
        &mut on_delta,
    );
    let sent = match tripped {
        Some(tripped) => tokio::select! {
            biased;
            () = tripped.cancelled() => None,
            r = send => Some(r),
        },
        None => Some(send.await),
    };
    // A stream that broke may have broken inside a key: what was held back stays hidden.
    delta(if sent.as_ref().is_some_and(Result::is_ok) {
        scrub.finish()
    } else {
        scrub.finish_cut()
    });
    let sent = match (sent, guard) {
        (Some(sent), g) if g.as_ref().is_none_or(|g| !g.is_tripped()) => sent,
        // Cut by `max_tokens`: the text received is kept (the guard holds the clock there).
        (_, g) => {
            // `sent` is `None` only when the guard tripped.
            let url = crate::provider::Client::url(endpoint, request);
            return Err(super::limits::StreamGuard::cut_of(g, url));
        }
    };
    sent.map_err(|e| Failure {
        error: e.error,
        partial_output: e.partial_output,
        response: e.exchange,
        usage: None,
    })
}

/// Each tool the model called, run and emitted; the content is their results. A call the
/// toolbox refuses fails the attempt as `tool_validation`.
fn call_tools(
    prep: &Prepared,
    resp: ChatResponse,
    (hop, attempt): (u32, u32),
    em: &Emitter,
) -> Result<(String, ChatResponse), Failure> {
    let mut results = Vec::with_capacity(resp.tool_calls.len());
    for call in &resp.tool_calls {
        match prep.toolbox.call(&call.name, &call.args) {
            Ok(result) => {
                em.emit(Event::ToolCall(ToolCall {
                    hop,
                    attempt,
                    name: call.name.clone(),
                    args: call.args.clone(),
                    result: result.clone(),
                }));
                results.push(result);
            }
            Err(message) => {
                return Err(Failure {
                    error: CallError::new(
                        ErrorKind::ToolValidation,
                        format!("{}: {message}", call.name),
                    ),
                    partial_output: format!("{}({})", call.name, call.args),
                    response: Some(resp.exchange.clone()),
                    usage: Some(resp.usage),
                });
            }
        }
    }
    Ok((results.join("\n"), resp))
}

/// The reply's text through the scenario's validators.
fn validate(prep: &Prepared, resp: ChatResponse) -> Result<(String, ChatResponse), Failure> {
    if let Err(message) = prep.validators.check(&resp.content) {
        return Err(Failure {
            error: CallError::new(ErrorKind::Validation, message),
            partial_output: resp.content.clone(),
            response: Some(resp.exchange.clone()),
            usage: Some(resp.usage),
        });
    }
    Ok((resp.content.clone(), resp))
}
