//! `[breaker]` and `[budget]` in the playground: the state on the Timeline's bottom edge
//! (built from events alone), the rows of a breaker's change and a denied retry, and their
//! Inspector detail; at 80x24 the whole screen.

use crate::run_panes::panes;
use crate::support::run::{run_sim, scenario};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use retrylab::event::TimedEvent;
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::panes::PaneId;
use retrylab::tui::runner::Playground;
use std::time::Instant;

const SCENARIO: &str = r#"name = "Breaker"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 5 }
wait = { fixed = 1 }
[fallback]
catch = ["retry_error"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
[breaker]
failures = 3
cooldown = "10s"
[budget]
retry_ratio = 0.5
min_retries_per_sec = 1
[sim]
reply = "42."
faults = [{ provider = "openai", fault = "server_error", times = 100 }]
"#;

/// The run's events, with each request's loopback port (random) taken out of the URLs.
async fn events() -> Vec<TimedEvent> {
    let (_, mut events) = run_sim(scenario(SCENARIO)).await;
    for e in &mut events {
        if let retrylab::event::Event::AttemptStarted(a) = &mut e.event {
            a.url.clear();
        }
    }
    events
}

#[tokio::test]
async fn the_breaker_row_and_its_inspector_and_the_state_on_the_timeline_edge() {
    let events = events().await;
    let mut run = retrylab::tui::run_view::RunView::new();
    for e in &events {
        run.apply(e);
    }
    let row = run
        .rows
        .iter()
        .position(|r| matches!(r, retrylab::tui::run_view::Row::Across(_)))
        .expect("a breaker row");
    let s = panes(&events, Some(row), 0, 140, 24);
    assert!(
        s.contains("⚡ breaker openai/gpt-4o-mini open: 3 consecutive failures"),
        "{s}"
    );
    assert!(s.contains("Circuit breaker open"), "{s}");
    assert!(s.contains("why        3 consecutive failures"), "{s}");
    assert!(s.contains("at         primary attempt 3"), "{s}");
    insta::assert_snapshot!("breaker_row", s);
    // The run ended at 3.225 s, 1.225 s after it opened: 8.8 s of its 10 s left; the budget
    // after three paid retries (10 + 0.5 - 3).
    assert!(
        s.contains(" openai open 8.8 s · anthropic closed · budget 7.50 "),
        "{s}"
    );
}

#[tokio::test]
async fn at_80x24_the_state_fits_on_the_timeline_edge() {
    let events = events().await;
    let dir = tempfile::tempdir().unwrap();
    let start = Start::Scenario {
        text: SCENARIO.to_string(),
        origin: Origin::Builtin("breaker".into()),
    };
    let mut config = AppConfig::isolated(dir.path());
    config.speed = retrylab::clock::Speed::Times(1.0);
    let mut pg = Playground::new(TestBackend::new(80, 24), config, start).expect("playground");
    pg.app.freeze_time(Some(Instant::now()));
    pg.app.begin_external_run();
    pg.app.update(Message::Engine(events));
    pg.app.set_focus(PaneId::Timeline);
    pg.press(KeyCode::End, KeyModifiers::NONE);
    pg.draw().expect("draw");
    let s = pg.screen();
    // Narrow: the closed breaker is left out, what is open and the budget stay.
    assert!(s.contains("┗ openai open 8.8 s · budget 7.50 ━"), "{s}");
    insta::assert_snapshot!("breaker_80x24", s);
}
