//! Whole-app tests: the playground driven by keys, paste and mouse on a TestBackend, running
//! scenarios on the simulator at Speed::Max (virtual clock, no real waiting), final screens
//! asserted. Everything the App writes goes to a temporary folder.

use crossterm::event::{KeyCode, KeyModifiers, MouseEventKind};
use ratatui::backend::TestBackend;
use retrylab::clock::Speed;
use retrylab::event::{Event, Mode, Outcome, RunFinished};
use retrylab::tui::app::{App, AppConfig, Origin, Start};
use retrylab::tui::panes::PaneId;
use retrylab::tui::persist;
use retrylab::tui::runner::Playground;
use retrylab::tui::split::Part;
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);

fn builtin(name: &str) -> Start {
    let b = retrylab::scenario::builtin::find(name).expect("a built-in");
    Start::Scenario {
        text: b.source.to_string(),
        origin: Origin::Builtin(b.name.to_string()),
    }
}

fn text(src: &str) -> Start {
    Start::Scenario {
        text: src.to_string(),
        origin: Origin::Builtin("test".into()),
    }
}

fn playground_with(config: AppConfig, w: u16, h: u16, start: Start) -> Playground<TestBackend> {
    let mut pg = Playground::new(TestBackend::new(w, h), config, start).expect("playground");
    pg.draw().expect("draw");
    pg
}

fn playground(dir: &Path, start: Start) -> Playground<TestBackend> {
    playground_with(AppConfig::isolated(dir), 120, 40, start)
}

fn finished(app: &App) -> bool {
    !app.is_running() && app.run_view().finished.is_some()
}

async fn run_to_end(pg: &mut Playground<TestBackend>) {
    pg.key(KeyCode::F(5));
    assert!(pg.run_until(finished, LONG).await, "{}", pg.screen());
}

#[tokio::test]
async fn f5_runs_the_demo_to_its_fallback_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    run_to_end(&mut pg).await;
    let s = pg.screen();
    assert_eq!(s.matches("✗ primary").count(), 3, "{s}");
    assert_eq!(s.matches("⏳ waited 4 s").count(), 2, "{s}");
    assert!(s.contains("⊘ primary gave up after 3 attempts"), "{s}");
    assert!(
        s.contains("⤷ fallback → anthropic/claude-3-5-sonnet-latest"),
        "{s}"
    );
    assert!(
        s.contains("✓ hop 1   #1   475 ms  anthropic/claude-3-5-sonnet-latest"),
        "{s}"
    );
    assert!(s.contains("■ ok in 8.925 s"), "{s}");
    assert!(s.contains("42, according to Douglas Adams"), "{s}");
    assert!(s.contains("✓ ok"), "{s}");
    assert!(s.contains("recorded as "), "{s}");
    // Every run is recorded as a trace that reads back.
    let traces = std::fs::read_dir(dir.path().join("traces")).unwrap();
    let path = traces.map(|e| e.unwrap().path()).next().unwrap();
    let events = retrylab::trace::read_trace(&path).unwrap();
    assert!(matches!(
        events.last().unwrap().event,
        Event::RunFinished(RunFinished {
            outcome: Outcome::Ok,
            ..
        })
    ));
}

#[tokio::test]
async fn the_inspector_explains_the_selected_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig::isolated(dir.path());
    let mut pg = playground_with(config, 200, 70, builtin("fallback-with-retries"));
    run_to_end(&mut pg).await;
    pg.app.set_focus(PaneId::Timeline);
    pg.key(KeyCode::Home);
    // Read the whole Inspector, a page at a time.
    pg.app.set_focus(PaneId::Inspector);
    let mut s = pg.screen();
    for _ in 0..4 {
        pg.key(KeyCode::PageDown);
        s.push_str(&pg.screen());
    }
    assert!(s.contains("why        rate_limit is in retry_on"), "{s}");
    assert!(s.contains("Response 429"), "{s}");
    assert!(s.contains("retry-after: 1"), "{s}");
    assert!(
        s.contains("Answer this question: What is the meaning of life?"),
        "{s}"
    );
    // The wait row says where the wait came from.
    pg.app.set_focus(PaneId::Timeline);
    pg.key(KeyCode::Down);
    let s = pg.screen();
    assert!(s.contains("Wait after attempt #1 failed"), "{s}");
    assert!(s.contains("set by     the back-off formula"), "{s}");
}

#[tokio::test]
async fn reinserted_errors_show_in_the_timeline_and_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("error-reinsertion"));
    run_to_end(&mut pg).await;
    let s = pg.screen();
    assert!(s.contains("↻ reinserted into #2"), "{s}");
    assert!(s.contains("PATRICK ROTHFUSS"), "{s}");
    let v = pg.app.run_view();
    let second = &v.attempts[1];
    assert!(!second.reinserted.is_empty());
    let req = second.request.to_string();
    assert!(req.contains("Previous Error"), "{req}");
    // Select attempt #2: its request carries the error, announced and highlighted.
    pg.app.set_focus(PaneId::Timeline);
    pg.key(KeyCode::Home);
    for _ in 0..3 {
        if pg.screen().contains("Attempt #2") {
            break;
        }
        pg.key(KeyCode::Down);
    }
    pg.app.set_focus(PaneId::Inspector);
    let mut s = pg.screen();
    for _ in 0..3 {
        pg.key(KeyCode::PageDown);
        s.push_str(&pg.screen());
    }
    assert!(s.contains("carries 1 reinserted error text"), "{s}");
    assert!(s.contains("Previous Error"), "{s}");
}

#[tokio::test]
async fn a_cut_stream_keeps_its_partial_output_marked_failed() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("stream-retry"));
    run_to_end(&mut pg).await;
    pg.app.set_focus(PaneId::Timeline);
    pg.key(KeyCode::Home);
    let s = pg.screen();
    assert!(s.contains("stream_interrupted"), "{s}");
    assert!(
        s.contains("✗ failed: stream_interrupted (partial output kept"),
        "{s}"
    );
    let first = &pg.app.run_view().attempts[0];
    assert!(!first.output.is_empty());
    assert!(
        s.contains(first.output.as_str().lines().next().unwrap().trim()),
        "{s}"
    );
    pg.key(KeyCode::End);
    assert!(pg.screen().contains("Mistborn"));
}

#[tokio::test]
async fn tool_calls_and_results_show_in_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("tool-retry"));
    run_to_end(&mut pg).await;
    let s = pg.screen();
    assert!(s.contains("tool_validation"), "{s}");
    let v = pg.app.run_view();
    let with_tools = v.attempts.iter().position(|a| !a.tool_calls.is_empty());
    assert!(with_tools.is_some(), "no tool_call events");
}

#[tokio::test]
async fn f5_on_an_invalid_scenario_says_why_and_goes_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    pg.app.set_focus(PaneId::Faults);
    pg.key(KeyCode::Down);
    pg.key(KeyCode::End);
    pg.type_text("\nbogus = 1");
    pg.key(KeyCode::F(5));
    assert!(!pg.app.is_running());
    let notice = pg.app.notice().unwrap().to_string();
    assert!(notice.starts_with("can't run: faults 3:1:"), "{notice}");
    assert_eq!(pg.app.focus(), PaneId::Faults);
    assert_eq!(pg.app.editor_cursor(Part::Faults), (2, 0));
    let s = pg.screen();
    assert!(s.contains("✗ 3:1 unknown key `bogus`"), "{s}");
    // Undo it (one step per typed key) and the plan is back.
    for _ in 0.."\nbogus = 1".len() {
        pg.press(KeyCode::Char('z'), KeyModifiers::CONTROL);
    }
    pg.settle();
    assert!(pg.app.parse_error().is_none(), "{:?}", pg.app.parse_error());
}

#[tokio::test]
async fn edits_redraw_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    assert!(pg.screen().contains("worst case 6 attempts"));
    // Policy line 10: `stop = { after_attempt = 3 }` -> 5.
    pg.app.set_focus(PaneId::Policy);
    for _ in 0..9 {
        pg.key(KeyCode::Down);
    }
    pg.key(KeyCode::End);
    for _ in 0..2 {
        pg.key(KeyCode::Left);
    }
    pg.key(KeyCode::Backspace);
    pg.type_text("5");
    assert_eq!(
        pg.app.editor_lines(Part::Policy)[9],
        "stop = { after_attempt = 5 }"
    );
    pg.settle();
    let s = pg.screen();
    assert!(
        s.contains("worst case 10 attempts · 10 requests · 40 s waiting"),
        "{s}"
    );
    assert!(pg.app.is_dirty());
    assert!(s.contains("Fallback with retries ●"), "{s}");
}

#[tokio::test]
async fn bracketed_paste_goes_into_the_focused_editor() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    pg.app.set_focus(PaneId::Prompt);
    pg.key(KeyCode::Down);
    pg.key(KeyCode::Down);
    pg.key(KeyCode::End);
    pg.paste("\r\nsystem = \"Be brief.\"");
    let lines = pg.app.editor_lines(Part::Prompt);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[3], "system = \"Be brief.\"");
    pg.settle();
    assert!(pg.app.parse_error().is_none());
    assert!(pg.app.scenario_text().contains("system = \"Be brief.\""));
    // Not into a live pane.
    pg.app.set_focus(PaneId::Timeline);
    pg.paste("x");
    assert!(pg.app.notice().unwrap().contains("focus an editor"));
}

#[tokio::test]
async fn ctrl_s_saves_to_the_scenarios_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    pg.app.set_focus(PaneId::Prompt);
    pg.type_text("# mine\n");
    pg.ctrl('s');
    // A built-in asks for a name (Save As), its slug offered.
    assert!(
        pg.screen().contains("name: fallback-with-retries▏"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Enter);
    let path = dir.path().join("scenarios/fallback-with-retries.toml");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.starts_with("name = \"Fallback with retries\""),
        "{saved}"
    );
    assert!(saved.contains("# mine\n[prompt]"), "{saved}");
    retrylab::scenario::load::parse(&saved, "saved").unwrap();
    assert!(!pg.app.is_dirty());
    assert_eq!(pg.app.origin(), &Origin::File(path.clone()));
    // The next save goes to the same file.
    pg.type_text("# more\n");
    pg.ctrl('s');
    assert!(std::fs::read_to_string(&path).unwrap().contains("# more"));
    assert_eq!(
        retrylab::scenario::saved::list_in(&dir.path().join("scenarios")).len(),
        1
    );
}

#[tokio::test]
async fn quit_asks_only_when_there_are_unsaved_edits() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# edit\n");
    pg.ctrl('q');
    assert!(!pg.app.should_quit);
    assert!(pg.screen().contains("Quit with unsaved edits?"));
    pg.key(KeyCode::Esc);
    assert!(!pg.app.overlay_open());
    pg.ctrl('q');
    pg.key(KeyCode::Char('q'));
    assert!(pg.app.should_quit);

    let mut pg = playground(dir.path(), builtin("basic-retry"));
    pg.ctrl('q');
    assert!(pg.app.should_quit, "clean quit asks nothing");
}

#[tokio::test]
async fn a_draft_left_by_a_crash_is_offered_back() {
    let dir = tempfile::tempdir().unwrap();
    let drafts = dir.path().join("drafts");
    let b = retrylab::scenario::builtin::find("basic-retry").unwrap();
    let edited = b.source.replace("[call]", "# crashed edit\n[call]");
    // An instance that wrote its draft and died.
    persist::DraftSlot::new(&drafts)
        .write("builtin:basic-retry", &edited)
        .unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.offer_draft = true;
    let mut pg = playground_with(config, 100, 30, builtin("fallback-with-retries"));
    assert!(
        pg.screen().contains("Unsaved draft found"),
        "{}",
        pg.screen()
    );
    pg.key(KeyCode::Char('r'));
    assert!(pg.app.is_dirty());
    assert_eq!(pg.app.origin(), &Origin::Builtin("basic-retry".into()));
    assert!(
        pg.app
            .editor_lines(Part::Policy)
            .iter()
            .any(|l| l == "# crashed edit")
    );
    // The restored edits are this instance's draft; saving removes it.
    assert_eq!(draft_texts(dir.path()).len(), 1);
    pg.ctrl('s');
    pg.key(KeyCode::Enter);
    assert!(draft_texts(dir.path()).is_empty());
}

#[tokio::test]
async fn edits_autosave_a_draft() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# typed\n");
    pg.settle();
    let drafts = draft_texts(dir.path());
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].starts_with("# retrylab draft of: builtin:basic-retry\n"));
    assert!(drafts[0].contains("# typed"));
}

#[tokio::test]
async fn ctrl_o_opens_a_builtin_and_a_saved_scenario() {
    let dir = tempfile::tempdir().unwrap();
    persist::write_atomic(
        &dir.path().join("scenarios/mine.toml"),
        retrylab::scenario::builtin::find("chaos").unwrap().source,
    )
    .unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    pg.ctrl('o');
    let s = pg.screen();
    assert!(s.contains("Open a scenario"), "{s}");
    assert!(s.contains("basic-retry"), "{s}");
    assert!(s.contains("mine.toml"), "{s}");
    pg.key(KeyCode::Home);
    for _ in 0..20 {
        pg.key(KeyCode::Up);
    }
    pg.key(KeyCode::Enter);
    assert_eq!(pg.app.origin(), &Origin::Builtin("basic-retry".into()));
    // The saved one is last.
    pg.ctrl('o');
    for _ in 0..40 {
        pg.key(KeyCode::Down);
    }
    pg.key(KeyCode::Enter);
    assert_eq!(
        pg.app.origin(),
        &Origin::File(dir.path().join("scenarios/mine.toml"))
    );
    // Over unsaved edits it asks first.
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# x\n");
    pg.ctrl('o');
    pg.key(KeyCode::Enter);
    assert!(pg.screen().contains("Unsaved edits"));
    pg.key(KeyCode::Char('d'));
    assert!(!pg.app.is_dirty());
}

#[tokio::test]
async fn f2_says_which_keys_live_mode_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let src = retrylab::scenario::builtin::find("fallback-with-retries")
        .unwrap()
        .source
        .replace(
            "model = \"gpt-4o-mini\"",
            "model = \"gpt-4o-mini\"\napi_key_env = \"RETRYLAB_TEST_NO_SUCH_KEY_A\"",
        )
        .replace(
            "model = \"claude-3-5-sonnet-latest\"",
            "model = \"claude-3-5-sonnet-latest\"\napi_key_env = \"RETRYLAB_TEST_NO_SUCH_KEY_B\"",
        );
    let mut pg = playground(dir.path(), text(&src));
    pg.key(KeyCode::F(2));
    assert_eq!(pg.app.mode(), Mode::Sim);
    let notice = pg.app.notice().unwrap();
    assert!(
        // The same words as `retrylab run --live`.
        notice.starts_with(
            "live mode needs RETRYLAB_TEST_NO_SUCH_KEY_A (for openai/gpt-4o-mini) and \
             RETRYLAB_TEST_NO_SUCH_KEY_B (for anthropic/claude-3-5-sonnet-latest): set them"
        ),
        "{notice}"
    );
    assert!(notice.ends_with("staying in SIM"), "{notice}");
    assert!(pg.screen().contains(" SIM "));
}

/// Live waits are real (`run` never compresses them): the footer and F3 say so rather than
/// show a speed the run does not go at.
#[tokio::test]
async fn live_mode_shows_1x_and_f3_says_it_applies_in_sim() {
    let dir = tempfile::tempdir().unwrap();
    let config = AppConfig {
        mode: Mode::Live,
        ..AppConfig::isolated(dir.path())
    };
    let mut pg = playground_with(config, 120, 40, builtin("basic-retry"));
    assert_eq!(pg.app.speed(), Speed::Max);
    let s = pg.screen();
    assert!(s.contains(" LIVE  1x "), "{s}");
    pg.key(KeyCode::F(3));
    assert_eq!(pg.app.speed().label(), "1x");
    pg.key(KeyCode::F(3));
    assert_eq!(
        pg.app.notice(),
        Some("speed 10x: applies in SIM mode (live waits are real)")
    );
    pg.draw().unwrap();
    assert!(pg.screen().contains(" LIVE  1x "), "{}", pg.screen());
}

#[tokio::test]
async fn f3_cycles_speed_and_f4_cycles_theme() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    assert_eq!(pg.app.speed(), Speed::Max);
    let mut seen = Vec::new();
    for _ in 0..4 {
        pg.key(KeyCode::F(3));
        seen.push(pg.app.speed().label());
    }
    assert_eq!(seen, ["1x", "10x", "100x", "1x"]);
    assert!(pg.screen().contains(" 1x "));
    let mut themes = vec![pg.app.theme_name().to_string()];
    for _ in 0..4 {
        pg.key(KeyCode::F(4));
        themes.push(pg.app.theme_name().to_string());
    }
    assert_eq!(themes, ["dark", "light", "high-contrast", "mono", "dark"]);
}

#[tokio::test]
async fn tab_moves_focus_through_every_pane() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    let mut order = vec![pg.app.focus()];
    for _ in 0..7 {
        pg.key(KeyCode::Tab);
        order.push(pg.app.focus());
    }
    assert_eq!(
        order,
        [
            PaneId::Policy,
            PaneId::Faults,
            PaneId::Plan,
            PaneId::Timeline,
            PaneId::Output,
            PaneId::Inspector,
            PaneId::Prompt,
            PaneId::Policy
        ]
    );
    pg.press(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(pg.app.focus(), PaneId::Prompt);
    // Tab never types into an editor.
    assert!(!pg.app.is_dirty());
}

#[tokio::test]
async fn mouse_clicks_focus_and_select_and_the_wheel_scrolls() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    run_to_end(&mut pg).await;
    // The timeline is top right; its second row (y = 2) is the first wait.
    pg.click(100, 2);
    assert_eq!(pg.app.focus(), PaneId::Timeline);
    assert!(
        pg.screen().contains("Wait after attempt #1 failed"),
        "{}",
        pg.screen()
    );
    pg.mouse(MouseEventKind::ScrollUp, 100, 3);
    assert!(
        pg.screen().contains("Attempt #1 · primary"),
        "{}",
        pg.screen()
    );
    // A click in the Policy editor focuses it and places the cursor.
    pg.click(10, 12);
    assert_eq!(pg.app.focus(), PaneId::Policy);
    assert!(pg.app.editor_cursor(Part::Policy).0 > 0);
    // Moves do not redraw or change anything.
    pg.mouse(MouseEventKind::Moved, 50, 5);
    assert_eq!(pg.app.focus(), PaneId::Policy);
}

#[tokio::test]
async fn resizing_to_tiny_and_back_never_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    pg.resize(50, 12);
    assert!(
        pg.screen().contains("Terminal too small: 50x12"),
        "{}",
        pg.screen()
    );
    for (w, h) in [(60, 16), (80, 24), (250, 70), (1, 1), (61, 17)] {
        pg.resize(w, h);
        assert!(!pg.screen().is_empty());
    }
    pg.resize(80, 24);
    run_to_end(&mut pg).await;
    let s = pg.screen();
    assert!(s.contains("■ ok"), "{s}");
    assert!(s.contains("F5 run"), "{s}");
}

#[tokio::test]
async fn esc_cancels_a_run_mid_wait() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    // Real pace, so the first back-off (4 s) is still running when Esc comes.
    config.speed = Speed::Times(1.0);
    let mut pg = playground_with(config, 120, 40, builtin("fallback-with-retries"));
    pg.key(KeyCode::F(5));
    assert!(
        pg.run_until(|a| a.run_view().active_wait().is_some(), LONG)
            .await
    );
    let s = pg.screen();
    assert!(s.contains("▕"), "a countdown bar: {s}");
    assert!(s.contains("Esc cancel"), "{s}");
    pg.key(KeyCode::Esc);
    assert!(pg.run_until(finished, Duration::from_secs(3)).await);
    let f = pg.app.run_view().finished.clone().unwrap();
    assert_eq!(f.outcome, Outcome::Cancelled);
    assert!(pg.screen().contains("■ cancelled"));
}

#[tokio::test]
async fn a_recorded_run_replays_the_same_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("fallback-with-retries"));
    run_to_end(&mut pg).await;
    let original: Vec<String> = pg.screen().lines().map(|l| l.to_string()).collect();
    let trace = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    let events = retrylab::trace::read_trace(&trace).unwrap();
    let n = events.len();
    let mut rp = playground(
        dir.path(),
        Start::Replay {
            events,
            path: trace.clone(),
        },
    );
    assert!(rp.run_until(finished, LONG).await);
    let s = rp.screen();
    assert!(s.contains("replay"), "{s}");
    assert!(s.contains("⤷ fallback → anthropic"), "{s}");
    assert!(s.contains("■ ok in 8.925 s"), "{s}");
    assert_eq!(
        rp.app.run_view().version as usize,
        n,
        "every recorded event was applied once"
    );
    let ok_line = original.iter().find(|l| l.contains("■ ok")).unwrap();
    assert!(ok_line.contains("8.925 s"));
    // F5 replays it again; editing keys are inert in a replay.
    rp.key(KeyCode::F(5));
    assert!(rp.run_until(finished, LONG).await);
    rp.ctrl('s');
    assert!(rp.app.notice().unwrap().contains("replay"));
}

#[tokio::test]
async fn sigterm_quits_at_once_and_keeps_the_edits_as_a_draft() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# unsaved\n");
    pg.app.update(retrylab::tui::message::Message::Terminate);
    assert!(pg.app.should_quit);
    let drafts = draft_texts(dir.path());
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].contains("# unsaved"));
}

// ----- saving, drafts, traces that cannot be written (issue 7: 4, 5, 6) -----

/// The texts of the drafts in `<dir>/drafts`, sorted.
fn draft_texts(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("drafts")) else {
        return Vec::new();
    };
    let mut v: Vec<String> = entries
        .map(|e| e.expect("test setup").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| std::fs::read_to_string(p).expect("test setup"))
        .collect();
    v.sort();
    v
}

fn offering(dir: &Path, start: Start) -> Playground<TestBackend> {
    let mut config = AppConfig::isolated(dir);
    config.offer_draft = true;
    playground_with(config, 120, 40, start)
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_s_keeps_a_private_files_mode_and_writes_through_its_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let src = retrylab::scenario::builtin::find("basic-retry")
        .unwrap()
        .source;
    std::fs::write(real.join("s.toml"), src).unwrap();
    std::fs::set_permissions(real.join("s.toml"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink("real/s.toml", &link).unwrap();
    let mut pg = playground(
        dir.path(),
        Start::Scenario {
            text: src.to_string(),
            origin: Origin::File(link.clone()),
        },
    );
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# saved through the link\n");
    pg.ctrl('s');
    assert!(!pg.app.is_dirty(), "{:?}", pg.app.notice());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let saved = std::fs::read_to_string(real.join("s.toml")).unwrap();
    assert!(saved.contains("# saved through the link"), "{saved}");
    let mode = std::fs::metadata(real.join("s.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o600);
    // No temporary file is left anywhere.
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&real), vec!["s.toml"]);
    assert_eq!(names(dir.path()), vec!["link.toml", "real"]);
}

#[tokio::test]
async fn a_second_instance_neither_offers_nor_deletes_a_live_instances_draft() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = playground(dir.path(), builtin("basic-retry"));
    first.app.set_focus(PaneId::Policy);
    first.type_text("# first instance\n");
    first.settle();
    assert_eq!(draft_texts(dir.path()).len(), 1);
    // A second playground opens (and would offer drafts), then quits cleanly.
    let mut second = offering(dir.path(), builtin("fallback-with-retries"));
    assert!(
        !second.screen().contains("Unsaved draft found"),
        "{}",
        second.screen()
    );
    second.ctrl('q');
    assert!(second.app.should_quit);
    drop(second);
    let drafts = draft_texts(dir.path());
    assert_eq!(drafts.len(), 1, "the live instance's draft is kept");
    assert!(drafts[0].contains("# first instance"));
    // The first one dies without cleaning up: now its draft is offered.
    drop(first);
    let mut third = offering(dir.path(), builtin("fallback-with-retries"));
    assert!(
        third.screen().contains("Unsaved draft found"),
        "{}",
        third.screen()
    );
    third.key(KeyCode::Char('r'));
    assert_eq!(third.app.origin(), &Origin::Builtin("basic-retry".into()));
    assert!(
        third
            .app
            .editor_lines(Part::Policy)
            .iter()
            .any(|l| l == "# first instance")
    );
    // The restored edits are this instance's draft now; the dead one's is gone.
    let drafts = draft_texts(dir.path());
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    assert!(drafts[0].contains("# first instance"));
}

#[tokio::test]
async fn the_restore_prompt_lists_every_dead_instances_draft() {
    let dir = tempfile::tempdir().unwrap();
    for (name, edit) in [("basic-retry", "# one\n"), ("chaos", "# two\n")] {
        let mut pg = playground(dir.path(), builtin(name));
        pg.app.set_focus(PaneId::Policy);
        pg.type_text(edit);
        pg.settle();
        // Each drops without a clean quit: a crash.
    }
    assert_eq!(draft_texts(dir.path()).len(), 2);
    let mut pg = offering(dir.path(), builtin("fallback-with-retries"));
    let s = pg.screen();
    assert!(s.contains("2 unsaved drafts found"), "{s}");
    assert!(s.contains("builtin:basic-retry"), "{s}");
    assert!(s.contains("builtin:chaos"), "{s}");
    // The list is newest first: 1 is chaos.
    pg.key(KeyCode::Char('1'));
    assert_eq!(pg.app.origin(), &Origin::Builtin("chaos".into()));
    assert!(
        pg.app
            .editor_lines(Part::Policy)
            .iter()
            .any(|l| l == "# two")
    );
    // Quitting without saving drops the restored edits (and their draft).
    pg.ctrl('q');
    pg.key(KeyCode::Char('q'));
    assert!(pg.app.should_quit);
    drop(pg);
    // The other one is offered again next time; `d` discards it.
    let mut pg = offering(dir.path(), builtin("fallback-with-retries"));
    let s = pg.screen();
    assert!(s.contains("Unsaved draft found"), "{s}");
    assert!(s.contains("builtin:basic-retry"), "{s}");
    assert!(!s.contains("builtin:chaos"), "{s}");
    pg.key(KeyCode::Char('d'));
    assert!(!pg.app.is_dirty());
    assert_eq!(pg.app.notice(), Some("draft discarded"));
    assert!(draft_texts(dir.path()).is_empty());
}

/// Run only as the child of the two-process test below: edits, autosaves a draft, says
/// READY, and lives until its stdin closes (or it is killed).
#[tokio::test]
#[ignore = "a helper process of another test"]
async fn draft_holder_process() {
    let Some(dir) = std::env::var_os("RETRYLAB_TEST_DRAFT_HOLDER") else {
        return;
    };
    let mut pg = playground(Path::new(&dir), builtin("basic-retry"));
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# other process\n");
    pg.settle();
    println!("READY");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[tokio::test]
async fn a_draft_of_another_live_process_is_left_alone_until_it_dies() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            // The test's name in the `tui` binary (module path included).
            "tui_app::draft_holder_process",
            "--ignored",
            "--nocapture",
        ])
        .env("RETRYLAB_TEST_DRAFT_HOLDER", dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("READY") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child ended early"
        );
    }
    let mut pg = offering(dir.path(), builtin("fallback-with-retries"));
    assert!(
        !pg.screen().contains("Unsaved draft found"),
        "{}",
        pg.screen()
    );
    pg.ctrl('q');
    drop(pg);
    assert_eq!(
        draft_texts(dir.path()).len(),
        1,
        "the live process's draft is kept"
    );
    // kill -9: no clean-up at all, yet its draft is now known to be orphaned.
    child.kill().unwrap();
    child.wait().unwrap();
    let pg = offering(dir.path(), builtin("fallback-with-retries"));
    let s = pg.screen();
    assert!(s.contains("Unsaved draft found"), "{s}");
    assert!(s.contains("builtin:basic-retry"), "{s}");
}

/// A terminal as it is under a running input reader: a cursor-position query never gets
/// its answer (the reader swallows it), which crossterm reports as an error. Every frame's
/// text is shared, so the test's input can wait for what the screen shows.
struct NoCursorQuery {
    inner: TestBackend,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ratatui::backend::Backend for NoCursorQuery {
    type Error = std::io::Error;
    fn draw<'a, I>(&mut self, content: I) -> std::io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        let _ = self.inner.draw(content);
        let buf = self.inner.buffer();
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        *self.screen.lock().expect("test setup") = text;
        Ok(())
    }
    fn hide_cursor(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn show_cursor(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    fn get_cursor_position(&mut self) -> std::io::Result<ratatui::layout::Position> {
        Err(std::io::Error::other(
            "The cursor position could not be read within a normal duration",
        ))
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(
        &mut self,
        p: P,
    ) -> std::io::Result<()> {
        let _ = self.inner.set_cursor_position(p);
        Ok(())
    }
    fn clear(&mut self) -> std::io::Result<()> {
        let _ = self.inner.clear();
        Ok(())
    }
    fn clear_region(&mut self, t: ratatui::backend::ClearType) -> std::io::Result<()> {
        let _ = self.inner.clear_region(t);
        Ok(())
    }
    fn size(&self) -> std::io::Result<ratatui::layout::Size> {
        Ok(self.inner.size().expect("test setup"))
    }
    fn window_size(&mut self) -> std::io::Result<ratatui::backend::WindowSize> {
        Ok(self.inner.window_size().expect("test setup"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl retrylab::tui::terminal::SyncUpdates for NoCursorQuery {}

/// Input for the real loop: F5, then (once the screen shows `until`, at most 20 s later)
/// Ctrl+Q.
fn run_then_quit(
    screen: std::sync::Arc<std::sync::Mutex<String>>,
    until: &'static str,
) -> impl futures::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin {
    use crossterm::event::{Event as TermEvent, KeyEvent};
    Box::pin(futures::stream::unfold(0, move |step| {
        let screen = screen.clone();
        async move {
            let ev = match step {
                0 => KeyEvent::new(KeyCode::F(5), KeyModifiers::NONE),
                1 => {
                    let end = tokio::time::Instant::now() + Duration::from_secs(20);
                    while !screen.lock().expect("test setup").contains(until)
                        && tokio::time::Instant::now() < end
                    {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL)
                }
                _ => return None,
            };
            Some((Ok(TermEvent::Key(ev)), step + 1))
        }
    }))
}

#[tokio::test]
async fn a_trace_that_cannot_be_written_is_a_notice_and_the_app_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // The data dir is a file: no trace folder can be made in it (like a read-only dir).
    let data = dir.path().join("data");
    std::fs::write(&data, "").unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.paths.traces = Some(data.join("traces"));
    let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let backend = NoCursorQuery {
        inner: TestBackend::new(120, 40),
        screen: screen.clone(),
    };
    let mut pg = Playground::new(backend, config, builtin("basic-retry")).unwrap();
    let input = run_then_quit(screen.clone(), "run not recorded");
    let ended = tokio::time::timeout(LONG, pg.run(input)).await;
    assert!(matches!(ended, Ok(Ok(()))), "the loop ended with {ended:?}");
    assert!(pg.app.should_quit, "it ended by Ctrl+Q, not by the failure");
    let s = screen.lock().unwrap().clone();
    assert!(s.contains("run not recorded"), "{s}");
    assert!(pg.app.run_view().finished.is_some());
}

#[tokio::test]
async fn signals_suspend_continue_and_terminate_the_session() {
    use retrylab::tui::runner::SignalAction;
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), builtin("basic-retry"));
    let frames = pg.frames;
    // SIGTSTP: the terminal is given back, then taken again and drawn whole.
    pg.on_signal(SignalAction::Suspend).unwrap();
    assert_eq!((pg.suspends, pg.resumes), (1, 1));
    assert_eq!(pg.frames, frames + 1, "one full frame after continuing");
    assert!(pg.screen().contains("No run yet. Press F5"));
    // A SIGCONT without a SIGTSTP of ours (kill -STOP, then -CONT): the same repaint.
    pg.on_signal(SignalAction::Continue).unwrap();
    assert_eq!((pg.suspends, pg.resumes), (1, 2));
    // A terminating signal: the edits are kept as a draft, the session ends with it.
    pg.app.set_focus(PaneId::Policy);
    pg.type_text("# before SIGUSR1\n");
    pg.on_signal(SignalAction::Terminate(10)).unwrap();
    assert!(pg.app.should_quit);
    assert_eq!(pg.terminated_by, Some(10));
    let drafts = draft_texts(dir.path());
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].contains("# before SIGUSR1"));
}
