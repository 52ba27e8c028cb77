//! The what-if view (issue 11 item 5): a recorded run opened from Ctrl+O's History tab, `w`,
//! a policy picked, both sides drawn with the numbers `retrylab whatif` gives; `m` replays
//! with the other map, Esc goes back to the replay; side by side, stacked, mono; a bad trace
//! is a notice.

// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::runner::Playground;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

fn builtin(name: &str) -> Start {
    let b = retrylab::scenario::builtin::find(name).expect("a built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

fn playground(config: AppConfig, w: u16, h: u16, start: Start) -> Playground<TestBackend> {
    let mut pg = Playground::new(TestBackend::new(w, h), config, start).expect("playground");
    pg.draw().expect("draw");
    pg
}

fn finished(app: &App) -> bool {
    !app.is_running() && app.run_view().finished.is_some()
}

/// The what-if ended: shown, or closed with its error as the notice.
fn whatif_settled(app: &App) -> bool {
    app.whatif_view().is_none_or(|w| !w.is_running())
}

/// Runs the chaos built-in once in `dir` (recorded like every F5 run); its trace.
async fn record_chaos(dir: &Path) -> PathBuf {
    let mut pg = playground(AppConfig::isolated(dir), 120, 40, builtin("chaos"));
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, LONG).await, "{}", pg.screen());
    std::fs::read_dir(dir.join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .expect("the run's trace")
}

/// `w`, then a policy typed into the picker and picked; waits for the result.
async fn whatif_under(pg: &mut Playground<TestBackend>, policy: &str) {
    pg.key(KeyCode::Char('w'));
    pg.type_text(policy);
    pg.key(KeyCode::Enter);
    assert!(pg.run_until(whatif_settled, LONG).await, "{}", pg.screen());
}

/// A replay of the chaos run copied to a fixed name (the screens name it), in `theme`.
async fn chaos_replay(dir: &Path, w: u16, h: u16, theme: Option<&str>) -> Playground<TestBackend> {
    let recorded = record_chaos(dir).await;
    let path = dir.join("fixed/chaos.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::copy(&recorded, &path).unwrap();
    let events = retrylab::trace::read_trace(&path).unwrap();
    let mut config = AppConfig::isolated(dir);
    config.theme = theme.map(str::to_string);
    let mut pg = playground(config, w, h, Start::Replay { events, path });
    assert!(pg.run_until(finished, LONG).await);
    pg
}

/// The screen with the temporary folder named `$DIR` (it differs from run to run).
fn screen(pg: &Playground<TestBackend>, dir: &Path) -> String {
    pg.screen().replace(&dir.display().to_string(), "$DIR")
}

#[tokio::test]
async fn a_run_from_history_replayed_under_basic_retry_shows_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), 120, 40, builtin("chaos"));
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, LONG).await, "{}", pg.screen());
    pg.ctrl('o');
    pg.key(KeyCode::Tab);
    pg.key(KeyCode::Enter);
    assert!(pg.run_until(finished, LONG).await);
    // The replay offers it in the status bar; the picker is the policy picker.
    assert!(pg.screen().contains("w what if"), "{}", pg.screen());
    pg.key(KeyCode::Char('w'));
    let s = pg.screen();
    assert!(s.contains("What if… pick a policy"), "{s}");
    assert!(s.contains("map [index] time "), "{s}");
    assert!(!s.contains("History"), "scenarios only: {s}");
    pg.type_text("basic");
    pg.key(KeyCode::Enter);
    assert!(pg.run_until(whatif_settled, LONG).await, "{}", pg.screen());
    let s = pg.screen();
    // The numbers `retrylab whatif TRACE --policy basic-retry` prints for this trace.
    assert!(s.contains("Recorded · Chaos"), "{s}");
    assert!(s.contains("New · basic-retry"), "{s}");
    assert!(
        s.contains("4 attempts · 4 requests · waiting 2.762 s · total 3.762 s"),
        "{s}"
    );
    assert!(
        s.contains("3 attempts · 3 requests · waiting 8 s · total 8.45 s"),
        "{s}"
    );
    assert!(s.contains("cost $0.000010 · ok"), "{s}");
    assert!(s.contains("cost $0 · retry_error"), "{s}");
    // Two timelines of the Timeline pane's rows: 3 + 3 failed attempts, 1 answer, 3 + 2 waits.
    assert_eq!(s.matches("✗ primary #").count(), 6, "{s}");
    assert_eq!(s.matches("✓ primary #4").count(), 1, "{s}");
    assert_eq!(s.matches("⏳ waited").count(), 5, "{s}");
    assert!(s.contains("gave up after 3 attempts: retry_error"), "{s}");
    assert!(s.contains("--map index"), "{s}");
    // m: the same policy with --map time escapes the recorded failures by waiting longer.
    pg.key(KeyCode::Char('m'));
    assert!(pg.run_until(whatif_settled, LONG).await);
    let s = pg.screen();
    assert!(s.contains("--map time"), "{s}");
    assert!(
        s.contains("2 attempts · 2 requests · waiting 4 s · total 4.7 s"),
        "{s}"
    );
    assert!(s.contains("cost $0.000009 · ok"), "{s}");
    // Esc: back to the replay, its timeline as it was.
    pg.key(KeyCode::Esc);
    let s = pg.screen();
    assert!(pg.app.whatif_view().is_none());
    assert!(s.contains("back to the replay"), "{s}");
    assert!(s.contains(" Timeline "), "{s}");
    assert!(!s.contains("New · basic-retry"), "{s}");
}

#[tokio::test]
async fn side_by_side_at_120x36() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = chaos_replay(dir.path(), 120, 36, None).await;
    whatif_under(&mut pg, "basic").await;
    insta::assert_snapshot!("whatif_side_by_side_120x36", screen(&pg, dir.path()));
}

#[tokio::test]
async fn stacked_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = chaos_replay(dir.path(), 80, 24, None).await;
    whatif_under(&mut pg, "basic").await;
    let s = screen(&pg, dir.path());
    // One above the other: the recorded side's title is above the new one's, at the left.
    let rec = s.lines().position(|l| l.contains("Recorded · Chaos"));
    let new = s.lines().position(|l| l.contains("New · basic-retry"));
    assert!(rec.is_some() && new.is_some() && rec < new, "{s}");
    assert!(s.contains("3 attempts · 3 requests"), "{s}");
    insta::assert_snapshot!("whatif_stacked_80x24", s);
}

#[tokio::test]
async fn mono_marks_the_differences_without_colour() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = chaos_replay(dir.path(), 120, 36, Some("mono")).await;
    whatif_under(&mut pg, "basic").await;
    let buf = pg.terminal.backend().buffer().clone();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a colour in mono: {cell:?}"
        );
    }
    let s = pg.screen();
    // The outcome that differs is bold on both sides: `retry_error` and `ok`.
    let (y, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("retry_error") && l.contains("3 attempts"))
        .expect("the new side's summary");
    let x = line[..line.find("retry_error").unwrap()].chars().count() as u16;
    assert!(
        buf[(x, y as u16)].modifier.contains(Modifier::BOLD),
        "{:?}",
        buf[(x, y as u16)]
    );
    insta::assert_snapshot!("whatif_mono", screen(&pg, dir.path()));
}

#[tokio::test]
async fn a_truncated_trace_is_a_notice_and_the_replay_stays() {
    let dir = tempfile::tempdir().unwrap();
    let recorded = record_chaos(dir.path()).await;
    let text = std::fs::read_to_string(&recorded).unwrap();
    // Cut in the middle of the last line, as a killed run leaves it.
    let cut = &text[..text.trim_end().len() - 10];
    let path = dir.path().join("cut.jsonl");
    std::fs::write(&path, cut).unwrap();
    let events = retrylab::trace::read_trace_bounded(&path, 1 << 20)
        .unwrap()
        .events;
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        120,
        40,
        Start::Replay { events, path },
    );
    assert!(
        pg.run_until(|a| !a.is_running(), LONG).await,
        "{}",
        pg.screen()
    );
    whatif_under(&mut pg, "basic").await;
    assert!(pg.app.whatif_view().is_none(), "{}", pg.screen());
    let notice = pg.app.notice().expect("a notice").to_string();
    assert!(notice.contains("cut short"), "{notice}");
    assert!(!notice.contains('\n'), "one line: {notice}");
    assert!(pg.screen().contains(" Timeline "), "{}", pg.screen());
}

#[tokio::test]
async fn w_outside_a_replay_says_where_what_if_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        120,
        40,
        builtin("basic-retry"),
    );
    pg.app.set_focus(retrylab::tui::panes::PaneId::Timeline);
    pg.key(KeyCode::Char('w'));
    assert!(!pg.app.overlay_open());
    let notice = pg.app.notice().unwrap_or_default().to_string();
    assert!(notice.contains("History"), "{notice}");
    pg.key(KeyCode::Char('m'));
    assert!(pg.app.notice().unwrap().contains("what-if view"));
}

#[tokio::test]
async fn tab_in_the_picker_picks_the_map_and_the_notes_show() {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = playground(
        AppConfig::isolated(dir.path()),
        120,
        40,
        builtin("fallback-with-retries"),
    );
    rec.key(KeyCode::F(5));
    assert!(rec.run_until(finished, LONG).await);
    let path = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let events = retrylab::trace::read_trace(&path).unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        80,
        24,
        Start::Replay { events, path },
    );
    assert!(pg.run_until(finished, LONG).await);
    pg.key(KeyCode::Char('w'));
    pg.key(KeyCode::Tab);
    assert!(pg.screen().contains("map  index [time]"), "{}", pg.screen());
    pg.type_text("basic-retry");
    pg.key(KeyCode::Enter);
    assert!(pg.run_until(whatif_settled, LONG).await, "{}", pg.screen());
    let s = pg.screen();
    assert!(s.contains("--map time"), "{s}");
    // The note `retrylab whatif --map time` prints: basic-retry never calls anthropic.
    assert!(
        s.contains("note: anthropic/claude-3-5-sonnet-latest: the new policy never calls"),
        "{s}"
    );
    assert!(s.contains("cost $0.000195 · ok"), "{s}");
}
