//! The SDK's own retries inside an attempt (DESIGN §15) as the playground shows them: nested
//! rows under their attempt whose wait drains like a hop wait's, and the Inspector's list of
//! the attempt's requests. Fed hand-built events of the `sdk-amplification` built-in, the
//! App's clock frozen.

use crate::run_panes::panes;
use ratatui::backend::TestBackend;
use retrylab::error::{CallError, ErrorKind};
use retrylab::event::{AttemptFailed, Event};
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::run_view::fixtures;
use retrylab::tui::runner::Playground;
use std::time::{Duration, Instant};

/// The built-in `sdk-amplification`, 600 ms into the SDK's second wait (1.5 s, the server's
/// retry-after-ms) at 1x.
fn sdk_amplification(dir: &std::path::Path, w: u16, h: u16) -> Playground<TestBackend> {
    let b = retrylab::scenario::builtin::find("sdk-amplification").expect("a built-in");
    let start = Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    };
    let mut config = AppConfig::isolated(dir);
    config.speed = retrylab::clock::Speed::Times(1.0);
    let mut pg = Playground::new(TestBackend::new(w, h), config, start).expect("playground");
    let t0 = Instant::now();
    pg.app.freeze_time(Some(t0));
    pg.app.begin_external_run();
    pg.app.update(Message::Engine(fixtures::sdk_mid_retry()));
    pg.app.freeze_time(Some(t0 + Duration::from_millis(600)));
    pg.draw().expect("draw");
    pg
}

#[test]
fn sdk_retries_are_nested_rows_whose_wait_drains_at_100x32() {
    let dir = tempfile::tempdir().unwrap();
    let pg = sdk_amplification(dir.path(), 100, 32);
    let s = pg.screen();
    // The first wait is over; the second has 0.9 s of 1.5 s left (6 cells: 4 full). The
    // pane is 50 columns: the rows take their shorter form.
    assert!(
        s.contains("↳ sdk retry 1: 500, wait 420 ms (backoff)"),
        "{s}"
    );
    assert!(
        s.contains("↳ sdk retry 2: 429, wait ▕████░░▏ 0.9 s left"),
        "{s}"
    );
    // The Inspector follows the newest row: the request the SDK retried.
    assert!(s.contains("SDK retry 2 inside attempt #1"), "{s}");
    assert!(s.contains("x-stainless-retry-count: 1"), "{s}");
    insta::assert_snapshot!("sdk_amplification_100x32", s);
}

#[test]
fn sdk_retries_fit_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let pg = sdk_amplification(dir.path(), 80, 24);
    let s = pg.screen();
    assert!(s.contains("↳ sdk #1 500 420 ms (backoff)"), "{s}");
    assert!(s.contains("↳ sdk #2 429 ▕████░░▏ 0.9 s left"), "{s}");
    insta::assert_snapshot!("sdk_amplification_80x24", s);
}

#[test]
fn the_inspector_lists_each_request_of_the_attempt() {
    let events = fixtures::sdk_mid_retry();
    // Row 0: the attempt, 1.2 s in, its third request in flight.
    let s = panes(&events, Some(0), 1200, 200, 30);
    assert!(
        s.contains("Requests  3 (the SDK, openai 1.x, retried 2 inside this attempt)"),
        "{s}"
    );
    assert!(
        s.contains("#1  retry-count 0 · 500 server_error → wait 420 ms (backoff)"),
        "{s}"
    );
    assert!(
        s.contains("#2  retry-count 1 · 429 rate_limit → wait 1.5 s (retry-after-ms)"),
        "{s}"
    );
    assert!(
        s.contains("#3  retry-count 2 · in flight (the attempt's result)"),
        "{s}"
    );
    assert!(s.contains("sdk cost   $0 for the 2 retried"), "{s}");
}

#[test]
fn a_wait_the_attempt_left_early_says_it_was_cut() {
    let mut events = fixtures::sdk_mid_retry();
    // The run's timeout ends the attempt 300 ms into the SDK's 1.5 s wait.
    events.push(fixtures::ev(
        900,
        Event::AttemptFailed(AttemptFailed {
            hop: 0,
            attempt: 1,
            error: CallError::new(ErrorKind::Timeout, "total timeout"),
            partial_output: String::new(),
            will_retry: false,
            latency_ms: 900,
            why: String::new(),
            fallback_why: String::new(),
            response: None,
            cost_usd: None,
            cost_estimated: false,
        }),
    ));
    let s = panes(&events, Some(2), 5000, 200, 30);
    assert!(
        s.contains("↳ sdk retry 2: 429 rate_limit, wait cancelled after 300 ms of 1.5 s"),
        "{s}"
    );
    assert!(
        s.contains("↳ sdk retry 1: 500 server_error, wait 420 ms (backoff)"),
        "{s}"
    );
    let s = panes(&events, Some(0), 5000, 200, 30);
    assert!(
        s.contains("#3  retry-count 2 · timeout (the attempt's result)"),
        "{s}"
    );
}
