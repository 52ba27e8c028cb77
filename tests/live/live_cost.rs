//! Cost per attempt and per run: the same prices in sim mode (what the run would cost live),
//! user prices from config winning over the built-in table, failed attempts included.

use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::cost::Price;
use retrylab::engine::run::{RunOptions, run};
use retrylab::event::{AttemptFailed, AttemptSucceeded, Event, Mode, RunFinished, TimedEvent};
use retrylab::scenario::builtin::resolve;

/// A built-in by name, never a saved scenario of the machine's user that shadows it.
fn builtin(name: &str) -> retrylab::scenario::builtin::Resolved {
    resolve(&format!("builtin:{name}")).expect("a built-in scenario")
}
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

async fn sim(name: &str, cfg: Config) -> Vec<TimedEvent> {
    let scenario = Arc::new(builtin(name).scenario);
    let (tx, mut rx) = retrylab::engine::run::event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config: Arc::new(cfg),
    };
    run(scenario, opts, tx, CancellationToken::new()).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    events
}

/// `(hop/attempt, usage or status, cost, estimated)` of each finished attempt, and the total.
fn costs(events: &[TimedEvent]) -> (Vec<String>, Option<f64>, bool) {
    let mut rows = Vec::new();
    let mut total = (None, false);
    for e in events {
        match &e.event {
            Event::AttemptFailed(AttemptFailed {
                hop,
                attempt,
                error,
                cost_usd,
                cost_estimated,
                ..
            }) => rows.push(format!(
                "{hop}/{attempt} {} {cost_usd:?} {cost_estimated}",
                error.kind
            )),
            Event::AttemptSucceeded(AttemptSucceeded {
                hop,
                attempt,
                usage,
                cost_usd,
                cost_estimated,
                ..
            }) => rows.push(format!(
                "{hop}/{attempt} ok {}+{} {cost_usd:?} {cost_estimated}",
                usage.input_tokens, usage.output_tokens
            )),
            Event::RunFinished(RunFinished {
                total_cost_usd,
                total_cost_estimated,
                ..
            }) => total = (*total_cost_usd, *total_cost_estimated),
            _ => {}
        }
    }
    (rows, total.0, total.1)
}

#[tokio::test]
async fn sim_runs_are_priced_with_the_live_table() {
    let (rows, total, estimated) = costs(&sim("fallback-with-retries", Config::isolated()).await);
    // Three rate-limited attempts are refused, so free; the Anthropic answer is priced from
    // the simulated usage at 3 and 15 dollars per million tokens.
    assert_eq!(
        rows,
        [
            "0/1 rate_limit Some(0.0) false",
            "0/2 rate_limit Some(0.0) false",
            "0/3 rate_limit Some(0.0) false",
            "1/1 ok 10+11 Some(0.000195) false",
        ]
    );
    assert_eq!((total, estimated), (Some(0.000195), false));
}

#[tokio::test]
async fn prices_from_config_win_over_the_builtin_table() {
    let cfg = Config::isolated().with_price("claude-3-5-sonnet-latest", Price::new(100.0, 1000.0));
    let (rows, total, _) = costs(&sim("fallback-with-retries", cfg).await);
    // 10 × 100 + 11 × 1000 dollars per million.
    assert_eq!(rows[3], "1/1 ok 10+11 Some(0.012) false");
    assert_eq!(total, Some(0.012));
    // The same through a config file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[prices.\"claude-3-5-sonnet-latest\"]\ninput_per_mtok = 100\noutput_per_mtok = 1000\n",
    )
    .unwrap();
    let cfg = Config::load_from(dir.path());
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let (_, total, _) = costs(&sim("fallback-with-retries", cfg).await);
    assert_eq!(total, Some(0.012));
}

#[tokio::test]
async fn every_sim_attempt_of_every_builtin_scenario_has_a_cost_or_an_unknown_model() {
    for b in retrylab::scenario::builtin::all() {
        let events = sim(b.name, Config::isolated()).await;
        let (rows, total, _) = costs(&events);
        assert!(!rows.is_empty(), "{}", b.name);
        let priced: Vec<&String> = rows.iter().filter(|r| !r.contains(" None ")).collect();
        // The total is the sum of what was priced.
        let sum: f64 = events
            .iter()
            .filter_map(|e| match &e.event {
                Event::AttemptFailed(AttemptFailed { cost_usd, .. })
                | Event::AttemptSucceeded(AttemptSucceeded { cost_usd, .. }) => *cost_usd,
                _ => None,
            })
            .sum();
        match total {
            Some(t) => assert!((t - sum).abs() < 1e-9, "{}: {t} vs {sum}", b.name),
            None => assert!(priced.is_empty(), "{}: {rows:?}", b.name),
        }
    }
}
