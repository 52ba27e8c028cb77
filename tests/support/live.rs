//! Runs the engine in live mode (real clock, waits skipped at `Speed::Max`) against a
//! loopback [`Server`], under an isolated config (no key or file of the machine leaks in),
//! and renders the events as a transcript without times (live `t_ms` is wall time).

#![allow(dead_code, clippy::unwrap_used)]

use super::live_server::Server;
use retrylab::clock::Clock;
use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::engine::run::{RunSummary, run_with_clock};
use retrylab::event::{
    AttemptFailed, AttemptStarted, AttemptSucceeded, Delta, ErrorReinserted, Event, FallbackHop,
    Mode, RetryExhausted, RunFinished, RunStarted, TimedEvent, ToolCall, WaitFinished, WaitStarted,
};
use retrylab::scenario::load::parse;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The key every live test sends.
pub const KEY: &str = "sk-live-test-SENTINEL-0123456789abcdef";

/// A config holding [`KEY`] for both providers' variables, and nothing of the machine.
pub fn config() -> Config {
    Config::isolated().with_env([("OPENAI_API_KEY", KEY), ("ANTHROPIC_API_KEY", KEY)])
}

pub struct Live {
    pub events: Vec<TimedEvent>,
    pub summary: RunSummary,
    pub wall: Duration,
}

impl Live {
    pub fn transcript(&self) -> Vec<String> {
        transcript(&self.events)
    }

    /// Every `attempt_failed` error, in order.
    pub fn errors(&self) -> Vec<retrylab::CallError> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                Event::AttemptFailed(AttemptFailed { error, .. }) => Some(error.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every attempt's HTTP exchange (failed or not), in order.
    pub fn exchanges(&self) -> Vec<retrylab::event::HttpExchange> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                Event::AttemptFailed(AttemptFailed { response, .. })
                | Event::AttemptSucceeded(AttemptSucceeded { response, .. }) => response.clone(),
                _ => None,
            })
            .collect()
    }
}

/// The scenario `source` with `{base}` replaced by the server's address.
pub fn scenario_for(source: &str, base: &str) -> retrylab::scenario::Scenario {
    let text = source.replace("{base}", base);
    match parse(&text, "live-test.toml") {
        Ok(s) => s,
        Err(e) => panic!("test scenario does not parse: {e}\n{text}"),
    }
}

/// Runs `source` live against `server` under `cfg`; fails the test if the run takes more
/// than a second of wall time.
pub async fn run_live(source: &str, server: &Server, cfg: Config) -> Live {
    run_live_at(source, &server.base, Some(server), cfg).await
}

/// As [`run_live`], with `{base}` = `base` (e.g. a closed port) and an optional server.
pub async fn run_live_at(source: &str, base: &str, server: Option<&Server>, cfg: Config) -> Live {
    let scenario = Arc::new(scenario_for(source, base));
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    // `run` never skips live waits; this real clock does (tests keep fixture waits instant).
    let clock = Clock::real(Speed::Max);
    let started = Instant::now();
    let engine = tokio::spawn(run_with_clock(
        scenario,
        Mode::Live,
        Arc::new(cfg),
        clock,
        tx,
        CancellationToken::new(),
    ));
    let mut events = Vec::new();
    let collect = async {
        while let Some(ev) = rx.recv().await {
            if matches!(ev.event, Event::Delta(_))
                && let Some(s) = server
            {
                s.delta_seen();
            }
            events.push(ev);
        }
    };
    // A guard: a hung run fails the test instead of the suite.
    tokio::time::timeout(Duration::from_secs(10), collect)
        .await
        .expect("the live run did not finish within 10 s");
    let summary = engine.await.expect("the engine did not panic");
    let wall = started.elapsed();
    assert!(
        wall < Duration::from_secs(1),
        "a live test run took {wall:?}; keep fixture delays tiny"
    );
    Live {
        events,
        summary,
        wall,
    }
}

fn cost(usd: Option<f64>, estimated: bool) -> String {
    match usd {
        Some(c) => format!(" {}${c}", if estimated { "~" } else { "" }),
        None => String::new(),
    }
}

/// One line per event, times left out; consecutive deltas of an attempt joined.
pub fn transcript(events: &[TimedEvent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let line = match &events[i].event {
            Event::RunStarted(RunStarted { mode, .. }) => format!("run_started {mode:?}"),
            Event::AttemptStarted(AttemptStarted {
                hop,
                attempt,
                provider,
                model,
                ..
            }) => format!("attempt_started {hop}/{attempt} {provider}/{model}"),
            Event::Delta(Delta { hop, attempt, .. }) => {
                let (h, a) = (*hop, *attempt);
                let mut text = String::new();
                let mut n = 0;
                while let Some(Event::Delta(Delta {
                    hop,
                    attempt,
                    text: t,
                })) = events.get(i).map(|e| &e.event)
                {
                    if (*hop, *attempt) != (h, a) {
                        break;
                    }
                    text.push_str(t);
                    n += 1;
                    i += 1;
                }
                out.push(format!("delta {h}/{a} x{n} {text:?}"));
                continue;
            }
            Event::ToolCall(ToolCall {
                hop,
                attempt,
                name,
                args,
                result,
            }) => format!("tool_call {hop}/{attempt} {name} {args} -> {result}"),
            Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error,
                partial_output,
                will_retry,
                cost_usd,
                cost_estimated,
                ..
            }) => {
                let status = error.status.map(|s| format!("({s})")).unwrap_or_default();
                let timeout = error
                    .timeout
                    .as_ref()
                    .map(|t| format!(" timeout={t}"))
                    .unwrap_or_default();
                let partial = if partial_output.is_empty() {
                    String::new()
                } else {
                    format!(" partial={partial_output:?}")
                };
                format!(
                    "attempt_failed {hop}/{attempt} {}{status}{timeout} retry={will_retry}{partial}{}",
                    error.kind,
                    cost(*cost_usd, *cost_estimated)
                )
            }
            Event::ErrorReinserted(ErrorReinserted {
                hop,
                attempt,
                errors,
            }) => format!("error_reinserted {hop}/{attempt} n={}", errors.len()),
            Event::WaitStarted(WaitStarted {
                hop,
                attempt,
                delay_ms,
                source,
                ..
            }) => format!("wait_started {hop}/{attempt} {delay_ms}ms {source}"),
            Event::WaitFinished(WaitFinished { hop, attempt }) => {
                format!("wait_finished {hop}/{attempt}")
            }
            Event::RetryExhausted(RetryExhausted {
                hop,
                attempts,
                last_error,
            }) => format!("retry_exhausted {hop} after {attempts} {}", last_error.kind),
            Event::FallbackHop(FallbackHop {
                hop,
                from,
                to,
                caught,
            }) => format!(
                "fallback_hop {hop} {}/{} -> {}/{} caught {}",
                from.provider, from.model, to.provider, to.model, caught.kind
            ),
            Event::AttemptSucceeded(AttemptSucceeded {
                hop,
                attempt,
                content,
                usage,
                cost_usd,
                cost_estimated,
                ..
            }) => format!(
                "attempt_succeeded {hop}/{attempt} {content:?} {}+{}{}",
                usage.input_tokens,
                usage.output_tokens,
                cost(*cost_usd, *cost_estimated)
            ),
            Event::RunFinished(RunFinished {
                outcome,
                error,
                total_cost_usd,
                total_cost_estimated,
                ..
            }) => {
                let e = error
                    .as_ref()
                    .map(|e| format!(" {}", e.kind))
                    .unwrap_or_default();
                format!(
                    "run_finished {outcome:?}{e}{}",
                    cost(*total_cost_usd, *total_cost_estimated)
                )
            }
        };
        out.push(line);
        i += 1;
    }
    out
}

/// Asserts a transcript line by line, showing both in full on a mismatch.
pub fn assert_transcript(live: &Live, want: &[&str]) {
    let got = live.transcript();
    assert_eq!(
        got,
        want,
        "\ngot:\n{}\nwant:\n{}\n",
        got.join("\n"),
        want.join("\n")
    );
}
