//! Whole-app tests of issue 9's controls: F3 re-paces the run in flight, the picker's
//! selection and filter, opening over a run, Save As, the History tab, persisted
//! preferences, the help's second keys and search, and `q`.

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use retrylab::clock::Speed;
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::panes::PaneId;
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

#[tokio::test]
async fn n_skips_the_wait_in_progress_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.speed = Speed::Times(1.0);
    // At 1x: two 4 s waits. `n` (outside the editors) ends each one at once.
    let mut pg = playground(config, builtin("fallback-with-retries"));
    pg.key(KeyCode::F(5));
    while pg.app.focus() != PaneId::Timeline {
        pg.key(KeyCode::Tab);
    }
    let started = Instant::now();
    for waits in 1..=2 {
        let waiting = move |app: &App| {
            app.run_view().waits.len() >= waits
                && app.run_view().waits.last().is_some_and(|w| !w.finished)
        };
        assert!(
            pg.run_until(waiting, Duration::from_secs(5)).await,
            "{}",
            pg.screen()
        );
        pg.key(KeyCode::Char('n'));
    }
    assert!(
        pg.run_until(finished, Duration::from_secs(3)).await,
        "{}",
        pg.screen()
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the waits were skipped"
    );
    let s = pg.screen();
    assert_eq!(s.matches("skipped after").count(), 2, "{s}");
    assert!(s.contains("of 4 s"), "{s}");
    assert!(s.contains("■ ok in "), "{s}");
}

/// The rows of the screen holding `text`, with whether every cell of the row between the
/// popup's borders is reversed (the selection's look in the dark and mono themes).
fn row_with(pg: &Playground<TestBackend>, text: &str) -> Option<(String, bool)> {
    let screen = pg.screen();
    let y = screen.lines().position(|l| l.contains(text))?;
    let buf = pg.terminal.backend().buffer();
    let line = screen.lines().nth(y)?.to_string();
    // The popup's inner cells: between the corners of its top border.
    let top = screen.lines().position(|l| l.contains("Open a scenario"))?;
    // The popup's own corners: another pane's border may share that row.
    let title = screen.lines().nth(top)?.chars().collect::<Vec<_>>();
    let at = (0..title.len()).find(|&i| title[i..].starts_with(&['┏', ' ', 'O', 'p', 'e', 'n']))?;
    let left = u16::try_from(at).ok()?;
    let right = (left..buf.area.width).find(|&x| buf[(x, top as u16)].symbol() == "┓")?;
    let cells: Vec<_> = (left + 1..right).map(|x| &buf[(x, y as u16)]).collect();
    let all = cells
        .iter()
        .all(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED));
    Some((line, all))
}

#[tokio::test]
async fn ctrl_o_marks_the_whole_selected_row_in_the_dark_and_mono_themes() {
    for (theme, no_color) in [("dark", false), ("mono", true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = AppConfig::isolated(dir.path());
        config.theme = Some(theme.into());
        config.no_color = no_color;
        let mut pg = playground(config, builtin("chaos"));
        assert_eq!(pg.app.theme_name(), theme);
        pg.ctrl('o');
        let (line, reversed) = row_with(&pg, "▶ chaos").expect("a marked row");
        assert!(reversed, "{theme}: the whole row is highlighted: {line}");
        // The others carry no marker and no highlight.
        let (line, reversed) = row_with(&pg, "basic-retry").unwrap();
        assert!(!reversed && !line.contains('▶'), "{theme}: {line}");
        pg.key(KeyCode::Down);
        assert!(row_with(&pg, "▶ chaos").is_none(), "{}", pg.screen());
        assert_eq!(pg.screen().matches('▶').count(), 1, "{}", pg.screen());
    }
}

#[tokio::test]
async fn ctrl_o_filters_as_you_type() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("chaos"));
    pg.ctrl('o');
    // `j`, `k` and `q` are text here, not moves or quit.
    pg.type_text("basic");
    let s = pg.screen();
    assert!(s.contains("filter: basic▏"), "{s}");
    assert!(s.contains("▶ basic-retry"), "{s}");
    assert!(!s.contains("  chaos        "), "{s}");
    pg.type_text("zzq");
    assert!(
        pg.screen().contains("nothing matches “basiczzq”"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Enter);
    assert!(!pg.app.overlay_open(), "Enter on nothing closes");
    assert_eq!(pg.app.origin(), &Origin::Builtin("chaos".into()));
    pg.ctrl('o');
    pg.type_text("error reins");
    pg.key(KeyCode::Enter);
    assert_eq!(
        pg.app.origin(),
        &Origin::Builtin("error-reinsertion".into())
    );
    // Esc clears the filter first, then closes.
    pg.ctrl('o');
    pg.type_text("x");
    pg.key(KeyCode::Esc);
    assert!(pg.app.overlay_open() && pg.screen().contains("(type to filter)"));
    pg.key(KeyCode::Esc);
    assert!(!pg.app.overlay_open());
}

#[tokio::test]
async fn opening_over_a_run_asks_then_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.speed = Speed::Times(1.0);
    let mut pg = playground(config, builtin("fallback-with-retries"));
    pg.key(KeyCode::F(5));
    let waiting = |app: &App| !app.run_view().waits.is_empty();
    assert!(pg.run_until(waiting, Duration::from_secs(5)).await);
    pg.ctrl('o');
    pg.type_text("basic");
    pg.key(KeyCode::Enter);
    let s = pg.screen();
    assert!(s.contains("A run is going on"), "{s}");
    assert!(
        s.contains("A run of Fallback with retries is going on"),
        "{s}"
    );
    // Esc goes back: the run goes on, nothing opened.
    pg.key(KeyCode::Esc);
    assert!(pg.app.is_running());
    assert_eq!(
        pg.app.origin(),
        &Origin::Builtin("fallback-with-retries".into())
    );
    pg.ctrl('o');
    pg.type_text("basic");
    pg.key(KeyCode::Enter);
    pg.key(KeyCode::Char('c'));
    assert_eq!(pg.app.origin(), &Origin::Builtin("basic-retry".into()));
    assert!(!pg.app.is_running());
    assert!(pg.app.run_view().is_empty(), "the old run is cleared");
    pg.pump();
    let s = pg.screen();
    assert!(s.contains("No run yet. Press F5"), "{s}");
    assert!(!s.contains("primary #1"), "{s}");
}

#[tokio::test]
async fn the_history_tab_replays_a_recorded_run_and_q_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(
        AppConfig::isolated(dir.path()),
        builtin("fallback-with-retries"),
    );
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, Duration::from_secs(30)).await);
    pg.ctrl('o');
    pg.key(KeyCode::Tab);
    let s = pg.screen();
    assert!(s.contains("[History 1]"), "{s}");
    assert!(s.contains("Recent runs, newest first"), "{s}");
    assert!(
        s.contains("Fallback with retries  ok  4 attempts · "),
        "{s}"
    );
    assert!(s.contains("▶ "), "{s}");
    pg.key(KeyCode::Enter);
    assert!(pg.run_until(finished, Duration::from_secs(30)).await);
    let s = pg.screen();
    assert!(s.contains("max replay ✓ ok"), "{s}");
    assert!(s.contains("q goes back to the editors"), "{s}");
    assert!(s.contains("✓ hop 1"), "{s}");
    pg.key(KeyCode::Char('q'));
    assert!(!pg.app.should_quit);
    let s = pg.screen();
    assert!(s.contains("back to the editors"), "{s}");
    assert!(s.contains("Policy"), "{s}");
    assert!(!s.contains("max replay"), "{s}");
    assert!(pg.app.run_view().is_empty(), "the replay is gone");
}

#[tokio::test]
async fn picker_snapshot_in_mono() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.theme = Some("mono".into());
    let mut pg = playground(config, builtin("basic-retry"));
    pg.ctrl('o');
    pg.key(KeyCode::Down);
    insta::assert_snapshot!("picker", pg.screen());
}

#[tokio::test]
async fn ctrl_o_marks_saved_scenarios_and_one_that_shadows_a_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let chaos = retrylab::scenario::builtin::find("chaos").unwrap().source;
    for name in ["chaos", "mine"] {
        let path = dir.path().join(format!("scenarios/{name}.toml"));
        retrylab::tui::persist::write_atomic(&path, chaos).unwrap();
    }
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    pg.ctrl('o');
    let s = pg.screen();
    assert!(s.contains("Saved by you"), "{s}");
    assert!(
        s.contains(&format!("  {:<29} saved · ", "mine.toml")),
        "{s}"
    );
    pg.type_text("shadows");
    let s = pg.screen();
    assert!(
        s.contains(&format!(
            "▶ {:<29} saved, shadows the built-in",
            "chaos.toml"
        )),
        "{s}"
    );
    assert!(!s.contains("mine.toml"), "{s}");
    pg.key(KeyCode::Enter);
    let path = dir.path().join("scenarios/chaos.toml");
    assert_eq!(pg.app.origin(), &Origin::File(path));
}

#[tokio::test]
async fn a_playground_run_prunes_old_traces_like_retrylab_run() {
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("traces");
    std::fs::create_dir_all(&traces).unwrap();
    // As many old runs as `[traces] keep` allows by default (500).
    // Written an hour ago: a trace written in the last minute may be another instance's run.
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for i in 0..500u64 {
        let path = traces.join(format!("{}-old.jsonl", 1_000_000_000_000 + i));
        std::fs::write(&path, "{}\n").unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(hour_ago).unwrap();
    }
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, Duration::from_secs(30)).await);
    let names: Vec<String> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 500);
    assert!(
        names.iter().any(|n| n.ends_with("-basic-retry.jsonl")),
        "the new run stays"
    );
    assert!(
        !names.contains(&"1000000000000-old.jsonl".to_string()),
        "the oldest went"
    );
}

#[tokio::test]
async fn ctrl_s_on_a_builtin_asks_a_name_refuses_bad_ones_and_confirms_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    pg.app.set_focus(retrylab::tui::panes::PaneId::Policy);
    pg.type_text("# mine\n");
    pg.ctrl('s');
    let s = pg.screen();
    assert!(s.contains("Save as"), "{s}");
    assert!(s.contains("name: basic-retry▏"), "{s}");
    // Refused: a separator, a hidden name; the prompt stays with the reason.
    for _ in 0.."basic-retry".len() {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text("../evil");
    pg.key(KeyCode::Enter);
    assert!(pg.screen().contains("cannot contain /"), "{}", pg.screen());
    for _ in 0.."../evil".len() {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text(".hidden");
    pg.key(KeyCode::Enter);
    assert!(
        pg.screen().contains("cannot start with ."),
        "{}",
        pg.screen()
    );
    assert!(pg.app.is_dirty());
    for _ in 0..".hidden".len() {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text("my-retry");
    pg.key(KeyCode::Enter);
    let path = dir.path().join("scenarios/my-retry.toml");
    assert!(std::fs::read_to_string(&path).unwrap().contains("# mine"));
    assert_eq!(pg.app.origin(), &Origin::File(path.clone()));
    assert!(!pg.app.is_dirty());
    // The title shows the name it was saved under; `retrylab run my-retry` finds it.
    pg.app
        .freeze_time(Some(Instant::now() + Duration::from_secs(20)));
    pg.settle();
    let s = pg.screen();
    assert!(
        s.lines().last().unwrap().contains("my-retry · Basic retry"),
        "{s}"
    );
    assert_eq!(
        retrylab::scenario::saved::find_in(&dir.path().join("scenarios"), "my-retry")
            .map(|s| s.path),
        Some(path.clone())
    );
    // Another built-in saved under the same name: it asks before overwriting.
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("chaos"));
    pg.ctrl('s');
    for _ in 0.."chaos".len() {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text("my-retry");
    pg.key(KeyCode::Enter);
    assert!(pg.screen().contains("Overwrite?"), "{}", pg.screen());
    pg.key(KeyCode::Esc);
    assert!(
        std::fs::read_to_string(&path).unwrap().contains("# mine"),
        "Esc kept it"
    );
    pg.ctrl('s');
    for _ in 0.."chaos".len() {
        pg.key(KeyCode::Backspace);
    }
    pg.type_text("my-retry.toml");
    pg.key(KeyCode::Enter);
    pg.key(KeyCode::Char('o'));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("name = \"Chaos\"")
    );
    assert_eq!(pg.app.origin(), &Origin::File(path));
}

#[tokio::test]
async fn save_then_quit_on_a_builtin_names_it_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    pg.app.set_focus(retrylab::tui::panes::PaneId::Policy);
    pg.type_text("# mine\n");
    pg.ctrl('q');
    pg.key(KeyCode::Char('s'));
    assert!(
        !pg.app.should_quit && pg.screen().contains("Save as"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Enter);
    assert!(pg.app.should_quit);
    assert!(dir.path().join("scenarios/basic-retry.toml").is_file());
}

#[tokio::test]
async fn the_theme_and_speed_chosen_last_are_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let remembering = || {
        let mut c = AppConfig::isolated(dir.path());
        c.remember = true;
        c.speed = Speed::Times(1.0);
        c
    };
    let mut pg = playground(remembering(), builtin("chaos"));
    assert_eq!(
        (pg.app.theme_name(), pg.app.speed()),
        ("dark", Speed::Times(1.0))
    );
    pg.key(KeyCode::F(4));
    pg.key(KeyCode::F(3));
    let theme = pg.app.theme_name().to_string();
    assert_ne!(theme, "dark");
    let prefs = std::fs::read_to_string(dir.path().join("prefs.toml")).unwrap();
    assert!(prefs.contains("speed = \"10x\""), "{prefs}");
    drop(pg);
    let pg = playground(remembering(), builtin("chaos"));
    assert_eq!(pg.app.theme_name(), theme);
    assert_eq!(pg.app.speed(), Speed::Times(10.0));
    // NO_COLOR wins, and a speed change then leaves the remembered theme alone.
    let mut c = remembering();
    c.no_color = true;
    let mut pg = playground(c, builtin("chaos"));
    assert_eq!(pg.app.theme_name(), "mono");
    pg.key(KeyCode::F(3));
    drop(pg);
    let pg = playground(remembering(), builtin("chaos"));
    assert_eq!(pg.app.theme_name(), theme);
    assert_eq!(pg.app.speed(), Speed::Times(100.0));
    // A broken file is ignored, with a notice; the defaults apply.
    std::fs::write(dir.path().join("prefs.toml"), "theme = [\n").unwrap();
    let pg = playground(remembering(), builtin("chaos"));
    assert_eq!(pg.app.theme_name(), "dark");
    assert!(
        pg.app
            .notice()
            .unwrap()
            .starts_with("preferences ignored: "),
        "{:?}",
        pg.app.notice()
    );
}

#[tokio::test]
async fn a_replay_plays_at_the_recorded_pace_whatever_speed_runs_remember() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("prefs.toml"), "speed = \"100x\"\n").unwrap();
    let remembering = || {
        let mut c = AppConfig::isolated(dir.path());
        c.remember = true;
        c.speed = Speed::Times(1.0);
        c
    };
    let pg = playground(remembering(), builtin("chaos"));
    assert_eq!(
        pg.app.speed(),
        Speed::Times(100.0),
        "runs take the remembered speed"
    );
    let start = Start::Replay {
        events: Vec::new(),
        path: dir.path().join("t.jsonl"),
    };
    let rp = Playground::new(TestBackend::new(120, 40), remembering(), start).unwrap();
    assert_eq!(rp.app.speed(), Speed::Times(1.0));
}

#[tokio::test]
async fn help_shows_second_keys_searches_with_slash_and_q_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig::isolated(dir.path());
    let mut pg = Playground::new(TestBackend::new(120, 60), config, builtin("chaos")).unwrap();
    // Ctrl+G opens the help as F1 does (GNOME Terminal takes F1).
    pg.ctrl('g');
    let s = pg.screen();
    for keys in [
        "F1 / Ctrl+G",
        "F2 / Ctrl+T",
        "F3 / Ctrl+F",
        "F4 / Ctrl+P",
        "F5 / Ctrl+R",
    ] {
        assert!(s.contains(keys), "{keys}: {s}");
    }
    pg.key(KeyCode::Char('/'));
    pg.type_text("colour");
    let s = pg.screen();
    assert!(s.contains("search: colour▏  1 line · Esc clears"), "{s}");
    assert!(s.contains("Cycle the colour theme"), "{s}");
    assert!(!s.contains("Run the scenario"), "{s}");
    // While typing, `q` is text; Enter stops typing, then `q` closes.
    pg.type_text("q");
    assert!(
        pg.screen().contains("search: colourq▏  nothing found"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Backspace);
    pg.key(KeyCode::Enter);
    assert!(
        pg.screen().contains("search: colour  1 line"),
        "{}",
        pg.screen()
    );
    // Esc clears the search first, then closes.
    pg.key(KeyCode::Esc);
    assert!(pg.app.overlay_open() && pg.screen().contains("Run the scenario"));
    pg.key(KeyCode::Char('q'));
    assert!(!pg.app.overlay_open(), "q closes the help");
    assert!(!pg.app.should_quit);
    // The other second keys act as their F-keys.
    pg.ctrl('f');
    assert_eq!(pg.app.speed(), Speed::Times(1.0));
    pg.ctrl('p');
    assert_ne!(pg.app.theme_name(), "dark");
}

#[tokio::test]
async fn q_closes_a_replay_opened_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(AppConfig::isolated(dir.path()), builtin("basic-retry"));
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, Duration::from_secs(30)).await);
    let trace = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let events = retrylab::trace::read_trace(&trace).unwrap();
    let start = Start::Replay {
        events,
        path: trace,
    };
    let mut rp = Playground::new(
        TestBackend::new(220, 40),
        AppConfig::isolated(dir.path()),
        start,
    )
    .unwrap();
    assert!(rp.run_until(finished, Duration::from_secs(30)).await);
    assert!(rp.screen().contains("q close"), "{}", rp.screen());
    rp.key(KeyCode::Char('q'));
    assert!(
        rp.app.should_quit,
        "nothing behind a replay of a file: q quits"
    );
}
