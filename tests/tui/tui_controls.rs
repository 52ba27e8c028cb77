//! Whole-app tests of issue 9's controls: F3 re-paces the run in flight, the picker's
//! selection and filter, opening over a run, Save As, the History tab, persisted
//! preferences, the help's second keys and search, and `q`.

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use retrylab::clock::Speed;
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::runner::Playground;
use std::time::{Duration, Instant};

pub(crate) fn builtin(name: &str) -> Start {
    let b = retrylab::scenario::builtin::find(name).expect("a built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

pub(crate) fn playground(config: AppConfig, start: Start) -> Playground<TestBackend> {
    let mut pg = Playground::new(TestBackend::new(120, 40), config, start).expect("playground");
    pg.draw().expect("draw");
    pg
}

fn finished(app: &App) -> bool {
    !app.is_running() && app.run_view().finished.is_some()
}

#[tokio::test]
async fn f3_mid_run_repaces_the_wait_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.speed = Speed::Times(1.0);
    // At 1x this run takes 8.9 s of wall time: two 4 s waits.
    let mut pg = playground(config, builtin("fallback-with-retries"));
    pg.key(KeyCode::F(5));
    let waiting = |app: &App| !app.run_view().waits.is_empty();
    assert!(
        pg.run_until(waiting, Duration::from_secs(5)).await,
        "{}",
        pg.screen()
    );
    let pressed = Instant::now();
    pg.key(KeyCode::F(3));
    pg.key(KeyCode::F(3));
    assert_eq!(pg.app.speed(), Speed::Times(100.0));
    assert_eq!(
        pg.app.notice(),
        Some("speed 100x: this run goes on at 100x")
    );
    assert!(
        pg.run_until(finished, Duration::from_secs(3)).await,
        "still running 3 s after F3 to 100x:\n{}",
        pg.screen()
    );
    assert!(pressed.elapsed() < Duration::from_secs(3));
    let s = pg.screen();
    // The run's clock keeps its numbers: the same run time as at any speed.
    assert!(s.contains("■ ok in 8.925 s"), "{s}");
    assert_eq!(s.matches("⏳ waited 4 s").count(), 2, "{s}");
}
