//! Runs the engine in live mode (real clock, waits skipped at `Speed::Max`) against a
//! loopback [`Server`], under an isolated config (no key or file of the machine leaks in),
//! and renders the events as a transcript without times (live `t_ms` is wall time).

#![allow(dead_code, clippy::unwrap_used)]

use super::live_server::Server;
use retrylab::clock::Clock;
use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::engine::run::{RunSummary, run_with_clock};
use retrylab::event::{AttemptFailed, AttemptSucceeded, Event, Mode, TimedEvent};
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

/// One line per event, times left out; consecutive deltas of an attempt joined.
pub fn transcript(events: &[TimedEvent]) -> Vec<String> {
    super::transcript::live(events)
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
