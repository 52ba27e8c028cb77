//! Shared helpers for integration tests: run a scenario on the virtual clock and render its
//! events as a compact transcript to compare against.

#![allow(dead_code)]

use retrylab::clock::Speed;
use retrylab::engine::run::{RunOptions, RunSummary, run};
use retrylab::event::{Mode, TimedEvent};
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
    super::transcript::sim(events)
}
