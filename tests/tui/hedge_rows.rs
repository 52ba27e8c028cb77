//! Hedge rows in the Timeline and the Inspector, from a real hedged sim run (discrete clock,
//! so its times are exact): leg 1 stalls, leg 2 goes out after 1 s and wins at 1.5 s.

use crate::run_panes::panes;
use retrylab::clock::Speed;
use retrylab::config::Config;
use retrylab::engine::run::{RunOptions, event_channel, run};
use retrylab::event::{Event, Mode, TimedEvent};
use retrylab::scenario::load::parse;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const HEDGED: &str = r#"name = "hedged"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[hedge]
after = "1s"
[sim]
first_token_ms = 500
tokens_per_second = 1e9
reply = "ok"
faults = [{ fault = "slow_first_byte", delay = "4.5s", on_requests = [1] }]
"#;

async fn hedged_run() -> Vec<TimedEvent> {
    let (tx, mut rx) = event_channel();
    let opts = RunOptions {
        mode: Mode::Sim,
        speed: Speed::Max,
        config: Arc::new(Config::isolated()),
    };
    let s = Arc::new(parse(HEDGED, "hedged.toml").expect("scenario"));
    run(s, opts, tx, CancellationToken::new()).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    events
}

#[tokio::test]
async fn a_hedge_leg_and_the_cancelled_one_are_rows_under_their_attempt() {
    let events = hedged_run().await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e.event, Event::HedgeCancelled(_)))
    );
    // Rows: attempt, hedge started, leg 1 given up, outcome.
    let s = panes(&events, Some(2), 1500, 140, 14);
    assert!(s.contains("⑂ hedge leg 2 → openai/gpt-4o-mini"), "{s}");
    assert!(s.contains("⊘ leg 1 given up: leg 2 answered first"), "{s}");
    assert!(s.contains("Hedge: leg 1 of attempt #1 given up"), "{s}");
    insta::assert_snapshot!("hedge_rows", s);
}
