//! The Lab view (issue 10 item 4): snapshots before a run, mid-run (progress fed by hand),
//! finished with three policies at 100x32 and 80x24, in the mono theme, and in load mode
//! with the requests-per-second sparkline; then the whole app running a real lab of 50 calls
//! to its table, and Esc cancelling one mid-run.

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use retrylab::lab::Progress;
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::lab::{LabMsg, fixtures};
use retrylab::tui::message::Message;
use retrylab::tui::runner::Playground;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn start() -> Start {
    let b = retrylab::scenario::builtin::find("fallback-with-retries").expect("a built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

fn playground(
    dir: &std::path::Path,
    w: u16,
    h: u16,
    theme: Option<&str>,
) -> Playground<TestBackend> {
    let mut config = AppConfig::isolated(dir);
    config.theme = theme.map(str::to_string);
    let mut pg = Playground::new(TestBackend::new(w, h), config, start()).expect("playground");
    pg.draw().expect("draw");
    pg
}

/// Ctrl+O in the Lab view, the filter typed, Enter: the scenario joins the comparison.
fn add(pg: &mut Playground<TestBackend>, name: &str) {
    pg.ctrl('o');
    pg.type_text(name);
    pg.key(KeyCode::Enter);
}

/// The view open with basic-retry and retry-after-wins beside the edited scenario.
fn three(dir: &std::path::Path, w: u16, h: u16, theme: Option<&str>) -> Playground<TestBackend> {
    let mut pg = playground(dir, w, h, theme);
    pg.key(KeyCode::F(7));
    add(&mut pg, "basic-retry");
    add(&mut pg, "retry-after-wins");
    pg
}

fn finish_by_hand(pg: &mut Playground<TestBackend>, load: bool) {
    let id = pg.app.begin_lab_by_hand().expect("the form is valid");
    let report = Box::new(fixtures::three_policies(load));
    pg.app.update(Message::Lab(LabMsg::Done { id, report }));
    pg.draw().expect("draw");
}

fn lab_done(app: &App) -> bool {
    app.lab_view().is_some_and(|v| v.report().is_some())
}

#[test]
fn before_running() {
    let dir = tempfile::tempdir().unwrap();
    let pg = three(dir.path(), 100, 32, None);
    let s = pg.screen();
    for want in [
        "• fallback-with-retries",
        "▄ basic-retry",
        "█ retry-after-wins",
        "calls [1000▏]",
        "every policy meets the edited scenario's [sim]",
        "F5 runs",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    insta::assert_snapshot!("lab_before_running", s);
}

#[test]
fn mid_run_progress() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = three(dir.path(), 100, 32, None);
    let id = pg.app.begin_lab_by_hand().unwrap();
    let progress = Progress {
        policy: 1,
        done: 340,
        of: 1000,
    };
    pg.app
        .update(Message::Lab(LabMsg::Progress { id, progress }));
    // A report of an older run changes nothing.
    let stale = Progress {
        policy: 2,
        done: 999,
        of: 1000,
    };
    pg.app.update(Message::Lab(LabMsg::Progress {
        id: id + 7,
        progress: stale,
    }));
    pg.draw().unwrap();
    let s = pg.screen();
    assert!(s.contains("1000/1000 calls  fallback-with-retries"), "{s}");
    assert!(s.contains("340/1000 calls  basic-retry"), "{s}");
    assert!(s.contains("1340 of 3000 calls (44 %)"), "{s}");
    assert!(s.contains("Esc cancels"), "{s}");
    insta::assert_snapshot!("lab_mid_run", s);
}

#[test]
fn finished_with_three_policies_at_100x32() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = three(dir.path(), 100, 32, None);
    finish_by_hand(&mut pg, false);
    let s = pg.screen();
    for want in [
        "latency CDF",
        "share of calls per latency bucket",
        "success",
        "100.00 % *",
        "latency p50",
        "* best of the row",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    insta::assert_snapshot!("lab_finished_100x32", s);
}

#[test]
fn finished_at_80x24_keeps_the_cdf_and_the_telling_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = three(dir.path(), 80, 24, None);
    finish_by_hand(&mut pg, false);
    let s = pg.screen();
    assert!(s.contains("latency CDF"), "{s}");
    assert!(
        !s.contains("share of calls"),
        "no room for the histogram: {s}"
    );
    assert!(s.contains("success"), "{s}");
    assert!(s.contains("rows hidden"), "{s}");
    insta::assert_snapshot!("lab_finished_80x24", s);
}

#[test]
fn the_mono_theme_marks_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = three(dir.path(), 100, 32, Some("mono"));
    finish_by_hand(&mut pg, false);
    let buf = pg.terminal.backend().buffer();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a colour in mono: {cell:?}"
        );
    }
    let s = pg.screen();
    // The policies differ by glyph and the best values by a mark.
    assert!(s.contains("• fallback-with-retries") && s.contains("▄ basic-retry"));
    assert!(s.contains(" *"), "{s}");
    insta::assert_snapshot!("lab_mono", s);
}

#[test]
fn load_mode_shows_requests_per_second_with_429s_marked() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = three(dir.path(), 100, 40, None);
    pg.key(KeyCode::Tab);
    pg.type_text("100");
    finish_by_hand(&mut pg, true);
    let s = pg.screen();
    assert!(s.contains("requests per second"), "{s}");
    assert!(s.contains("100 callers, burst arrival"), "{s}");
    assert!(s.contains('!'), "429 marks: {s}");
    assert!(s.contains("herd (req/100 ms)"), "{s}");
    insta::assert_snapshot!("lab_load_mode", s);
}

#[tokio::test]
async fn a_real_lab_of_50_calls_runs_to_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 32, None);
    pg.key(KeyCode::F(7));
    add(&mut pg, "basic-retry");
    for _ in 0..4 {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text("50");
    pg.key(KeyCode::F(5));
    assert!(pg.app.lab_view().is_some_and(|v| v.is_running()));
    assert!(pg.run_until(lab_done, LONG).await, "{}", pg.screen());
    let report = pg.app.lab_view().and_then(|v| v.report()).unwrap().clone();
    assert!(!report.cancelled);
    assert_eq!(report.policies.len(), 2);
    assert!(report.policies.iter().all(|p| p.calls == 50), "{report:?}");
    let s = pg.screen();
    assert!(s.contains("50 calls per policy"), "{s}");
    assert!(s.contains("latency p50") && s.contains("success"), "{s}");
    // Esc closes the idle view: the editors are back.
    pg.key(KeyCode::Esc);
    assert!(pg.app.lab_view().is_none());
    assert!(pg.screen().contains("Policy"), "{}", pg.screen());
}

#[tokio::test]
async fn esc_mid_run_cancels_the_lab_and_keeps_what_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 32, None);
    pg.key(KeyCode::F(7));
    pg.type_text("000"); // 1,000,000 calls: it cannot end before Esc
    pg.key(KeyCode::F(5));
    let progressed = |a: &App| {
        a.lab_view().is_some_and(|v| {
            matches!(
                v.phase,
                retrylab::tui::lab::Phase::Running {
                    progress: Some(_),
                    ..
                }
            )
        })
    };
    assert!(pg.run_until(progressed, LONG).await, "{}", pg.screen());
    pg.key(KeyCode::Esc);
    assert!(pg.screen().contains("cancelling"), "{}", pg.screen());
    assert!(pg.run_until(lab_done, LONG).await, "{}", pg.screen());
    let report = pg.app.lab_view().and_then(|v| v.report()).unwrap();
    assert!(report.cancelled);
    assert!(report.policies[0].calls < 1_000_000);
    assert!(
        pg.screen().contains("cancelled: the numbers cover"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Esc);
    assert!(pg.app.lab_view().is_none());
}
