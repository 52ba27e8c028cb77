//! Shared helpers for integration tests: run a scenario on the virtual clock and render its
//! events as a compact transcript to compare against.

#![allow(dead_code)]

use retrylab::clock::Speed;
use retrylab::engine::run::{RunOptions, RunSummary, run};
use retrylab::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    Mode, RetryExhausted, RunFinished, RunStarted, TimedEvent, ToolCall, WaitFinished, WaitStarted,
};
use retrylab::scenario::Scenario;
use retrylab::scenario::load::parse;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs `scenario` in sim mode at `Speed::Max` (no real waiting) and collects every event.
pub async fn run_sim(scenario: Scenario) -> (RunSummary, Vec<TimedEvent>) {
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config: Arc::new(retrylab::config::Config::load()),
    };
    let summary = run(Arc::new(scenario), opts, tx, CancellationToken::new()).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (summary, events)
}

pub fn scenario(source: &str) -> Scenario {
    match parse(source, "test.toml") {
        Ok(s) => s,
        Err(e) => panic!("test scenario does not parse: {e}"),
    }
}

/// One line per event (consecutive deltas of an attempt joined into one line), with t_ms.
pub fn transcript(events: &[TimedEvent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let ev = &events[i];
        let t = ev.t_ms;
        let line = match &ev.event {
            Event::RunStarted(RunStarted { mode, .. }) => format!("{t} run_started {mode:?}"),
            Event::AttemptStarted(AttemptStarted {
                hop,
                attempt,
                provider,
                model,
                ..
            }) => format!("{t} attempt_started {hop}/{attempt} {provider}/{model}"),
            Event::Delta(Delta { hop, attempt, .. }) => {
                let mut text = String::new();
                let mut n = 0;
                let mut last = t;
                while let Some(TimedEvent {
                    t_ms,
                    event:
                        Event::Delta(Delta {
                            hop: h,
                            attempt: a,
                            text: piece,
                        }),
                }) = events.get(i)
                {
                    if (h, a) != (hop, attempt) {
                        break;
                    }
                    text.push_str(piece);
                    n += 1;
                    last = *t_ms;
                    i += 1;
                }
                i -= 1;
                format!("{t}..{last} delta {hop}/{attempt} x{n} {text:?}")
            }
            Event::ToolCall(ToolCall {
                hop,
                attempt,
                name,
                args,
                result,
            }) => format!("{t} tool_call {hop}/{attempt} {name} {args} -> {result}"),
            Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error,
                will_retry,
                partial_output,
                ..
            }) => {
                let status = error.status.map(|s| format!("({s})")).unwrap_or_default();
                let partial = if partial_output.is_empty() {
                    String::new()
                } else {
                    format!(" partial={partial_output:?}")
                };
                format!(
                    "{t} attempt_failed {hop}/{attempt} {}{status} retry={will_retry}{partial}",
                    error.kind
                )
            }
            Event::ErrorReinserted(ErrorReinserted {
                hop,
                attempt,
                errors,
            }) => {
                format!("{t} error_reinserted {hop}/{attempt} n={}", errors.len())
            }
            Event::WaitStarted(WaitStarted {
                hop,
                attempt,
                delay_ms,
                source,
                ..
            }) => format!("{t} wait_started {hop}/{attempt} {delay_ms}ms {source}"),
            Event::WaitFinished(WaitFinished { hop, attempt }) => {
                format!("{t} wait_finished {hop}/{attempt}")
            }
            Event::RetryExhausted(RetryExhausted {
                hop,
                attempts,
                last_error,
            }) => format!(
                "{t} retry_exhausted {hop} after {attempts} {}",
                last_error.kind
            ),
            Event::FallbackHop(FallbackHop {
                hop,
                from,
                to,
                caught,
            }) => format!(
                "{t} fallback_hop {hop} {}/{} -> {}/{} caught {}",
                from.provider, from.model, to.provider, to.model, caught.kind
            ),
            Event::AttemptSucceeded(AttemptSucceeded {
                hop,
                attempt,
                content,
                ..
            }) => format!("{t} attempt_succeeded {hop}/{attempt} {content:?}"),
            Event::RunFinished(RunFinished {
                outcome,
                error,
                caught,
                ..
            }) => {
                let e = error
                    .as_ref()
                    .map(|e| format!(" {}", e.kind))
                    .unwrap_or_default();
                let c: Vec<String> = caught.iter().map(|c| c.kind.to_string()).collect();
                format!("{t} run_finished {outcome:?}{e} caught=[{}]", c.join(","))
            }
        };
        out.push(line);
        i += 1;
    }
    out
}
