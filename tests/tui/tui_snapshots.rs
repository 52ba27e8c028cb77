//! insta snapshots of the main screens on a TestBackend: idle, mid-run with a wait bar, after
//! a fallback, the help overlay, a policy error. Run panes are fed hand-built events and the
//! App's clock is frozen, so countdowns and spinners are deterministic.

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use retrylab::tui::app::{AppConfig, Origin, Start};
use retrylab::tui::message::Message;
use retrylab::tui::panes::PaneId;
use retrylab::tui::run_view::fixtures;
use retrylab::tui::runner::Playground;
use std::time::{Duration, Instant};

/// A copy of the built-in demo, so these screens do not change when the built-in does.
const SCENARIO: &str = r#"name = "Fallback with retries"
about = """Mirascope's last example: retry OpenAI on rate limits with exponential back-off \
(3 attempts), then fall back to Anthropic on RetryError, with its own 3 attempts."""

[prompt]
template = "Answer this question: {{ question }}"
vars = { question = "What is the meaning of life?" }

[call]
provider = "openai"
model = "gpt-4o-mini"

[retry]
stop = { after_attempt = 3 }
wait = { exponential = { multiplier = 1, min = 4, max = 10 } }
retry_on = ["rate_limit"]
honor_retry_after = true

[fallback]
catch = ["retry_error"]

[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-sonnet-latest"
catch = ["retry_error"]

[sim]
reply = "42, according to Douglas Adams; most philosophers prefer a longer answer."
faults = [
  { provider = "openai", fault = "rate_limit", retry_after = "1s", times = 3 },
]
"#;

fn start() -> Start {
    Start::Scenario {
        text: SCENARIO.to_string(),
        origin: Origin::Builtin("fallback-with-retries".into()),
    }
}

fn playground(dir: &std::path::Path, w: u16, h: u16) -> Playground<TestBackend> {
    let mut config = AppConfig::isolated(dir);
    config.speed = retrylab::clock::Speed::Times(1.0);
    let mut pg = Playground::new(TestBackend::new(w, h), config, start()).expect("playground");
    pg.draw().expect("draw");
    pg
}

#[test]
fn idle() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 36);
    pg.draw().unwrap();
    let s = pg.screen();
    assert!(s.contains("No run yet. Press F5"));
    assert!(s.contains("worst case 6 attempts · 6 requests · 16 s waiting"));
    insta::assert_snapshot!("idle", s);
}

#[test]
fn mid_run_with_a_wait_bar() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 36);
    let t0 = Instant::now();
    pg.app.freeze_time(Some(t0));
    pg.app.begin_external_run();
    pg.app.update(Message::Engine(fixtures::mid_wait()));
    // 1.5 s into the 4 s wait, at 1x.
    pg.app.freeze_time(Some(t0 + Duration::from_millis(1500)));
    pg.draw().unwrap();
    let s = pg.screen();
    assert!(s.contains("2.5 s left of 4 s"), "{s}");
    assert!(s.contains("▕████████░░░░▏"), "{s}");
    assert!(s.contains("● running"), "{s}");
    insta::assert_snapshot!("mid_run_wait_bar", s);
}

fn retry_after_wins(dir: &std::path::Path, w: u16, h: u16) -> Playground<TestBackend> {
    let b = retrylab::scenario::builtin::find("retry-after-wins").expect("a built-in");
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
    pg.app.update(Message::Engine(fixtures::retry_after_wait()));
    // 2.3 s into the 15 s wait, at 1x.
    pg.app.freeze_time(Some(t0 + Duration::from_millis(2300)));
    pg.draw().expect("draw");
    pg
}

/// The wait row at a short width leads with the server's Retry-After: the cut drops the
/// formula, not the reason.
#[test]
fn retry_after_reason_leads_at_80x24() {
    let dir = tempfile::tempdir().unwrap();
    let pg = retry_after_wins(dir.path(), 80, 24);
    let s = pg.screen();
    assert!(s.contains("⏳ Retry-After 15 s · 12.7 s left ▕"), "{s}");
    insta::assert_snapshot!("retry_after_80x24", s);
}

#[test]
fn retry_after_reason_leads_at_60x20() {
    let dir = tempfile::tempdir().unwrap();
    let pg = retry_after_wins(dir.path(), 60, 20);
    let s = pg.screen();
    assert!(s.contains("⏳ Retry-After 15 s · 12.7"), "{s}");
    insta::assert_snapshot!("retry_after_60x20", s);
}

/// Wide, the row keeps its usual order (bar, time left, reason); once over, a short row still
/// leads with the reason.
#[test]
fn retry_after_wide_keeps_the_bar_first_and_a_finished_wait_keeps_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = retry_after_wins(dir.path(), 160, 45);
    let s = pg.screen();
    assert!(
        s.contains("⏳ ▕███████████░▏ 12.7 s left of 15 s  Retry-After 15 s (back-off gave 1 s)"),
        "{s}"
    );
    pg.resize(80, 24);
    pg.app.update(Message::Engine(vec![fixtures::ev(
        15_150,
        retrylab::event::Event::WaitFinished(retrylab::event::WaitFinished::elapsed(0, 1)),
    )]));
    pg.draw().unwrap();
    let s = pg.screen();
    assert!(s.contains("⏳ Retry-After 15 s · waited 15 s"), "{s}");
}

#[test]
fn after_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 40);
    let t0 = Instant::now();
    pg.app.freeze_time(Some(t0));
    pg.app.begin_external_run();
    pg.app.update(Message::Engine(fixtures::full_fallback()));
    // Look at the fallback row in the Inspector.
    pg.app.set_focus(PaneId::Timeline);
    for _ in 0..2 {
        pg.press(KeyCode::Up, KeyModifiers::NONE);
    }
    let s = pg.screen();
    assert!(
        s.contains("⤷ fallback → anthropic/claude-3-5-sonnet-latest"),
        "{s}"
    );
    assert!(s.contains("Fallback to hop 1"), "{s}");
    assert!(s.contains("■ ok in 8.107 s"), "{s}");
    insta::assert_snapshot!("after_fallback", s);
}

#[test]
fn help_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 50);
    pg.key(KeyCode::F(1));
    // The "Your files" section names the (temporary) folders.
    let s = pg.screen().replace(dir.path().to_str().unwrap(), "[tmp]");
    for b in retrylab::tui::keymap::BINDINGS {
        assert!(s.contains(b.desc), "help lacks {:?}", b.action);
    }
    insta::assert_snapshot!("help", s);
    pg.key(KeyCode::Esc);
    assert!(!pg.app.overlay_open());
}

/// At 80x24 a long description continues under its own column, and End reaches the last
/// line (the rows scrolled are the rows drawn).
#[test]
fn help_at_80x24_hangs_wrapped_descriptions_and_scrolls_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 80, 24);
    pg.key(KeyCode::F(1));
    let s = pg.screen();
    // Continuation lines start blank up to the description column.
    let continued = s
        .lines()
        .filter(|l| l.contains('┃'))
        .filter_map(|l| l.split('┃').nth(1))
        .filter(|inner| inner.starts_with("   ") && !inner.trim().is_empty())
        .count();
    assert!(continued > 0, "{s}");
    insta::assert_snapshot!("help_80x24", s);
    pg.key(KeyCode::End);
    let end = pg.screen();
    assert!(end.contains("the outcome of the run"), "{end}");
}

#[test]
fn policy_error_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 120, 36);
    // Line 10 of the Policy editor is `stop = { after_attempt = 3 }`: break its key.
    pg.app.set_focus(PaneId::Policy);
    for _ in 0..9 {
        pg.key(KeyCode::Down);
    }
    pg.key(KeyCode::Home);
    pg.type_text("x");
    pg.settle();
    let err = pg.app.parse_error().expect("an error").clone();
    assert_eq!(err.part, Some(retrylab::tui::split::Part::Policy));
    assert_eq!(err.line, 10);
    let s = pg.screen();
    assert!(s.contains("✗ 10:"), "{s}");
    assert!(s.contains("scenario error"), "{s}");
    insta::assert_snapshot!("policy_error", s);
}

#[test]
fn no_color_draws_without_any_colour() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = AppConfig::isolated(dir.path());
    config.no_color = true;
    let mut pg = Playground::new(TestBackend::new(100, 30), config, start()).unwrap();
    pg.app.update(Message::Engine(fixtures::full_fallback()));
    pg.draw().unwrap();
    assert_eq!(pg.app.theme_name(), "mono");
    let buf = pg.terminal.backend().buffer();
    for cell in &buf.content {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    // Focus and state still show, by modifiers: the focused border is bold.
    assert!(
        buf.content
            .iter()
            .any(|c| c.modifier.contains(Modifier::BOLD))
    );
}

#[test]
fn the_focused_pane_stands_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 100, 30);
    pg.app.set_focus(PaneId::Timeline);
    pg.draw().unwrap();
    let s = pg.screen();
    let timeline_x = s
        .lines()
        .next()
        .unwrap()
        .chars()
        .position(|c| c == '┏')
        .unwrap() as u16;
    let buf = pg.terminal.backend().buffer();
    let corner = &buf[(timeline_x, 0)];
    assert_eq!(corner.symbol(), "┏");
    assert_eq!(corner.fg, Color::Cyan);
    // Only one pane has the thick frame.
    assert_eq!(s.matches('┏').count(), 1, "{s}");
}

/// Small screens (issue 9): nothing the user needs is cut. Idle: the legend breaks between
/// entries and the Output's placeholder wraps.
#[test]
fn idle_at_80x24_and_60x20() {
    for (w, h) in [(80, 24), (60, 20)] {
        let dir = tempfile::tempdir().unwrap();
        let pg = playground(dir.path(), w, h);
        let s = pg.screen();
        assert!(s.contains("⤷ fallback"), "{s}");
        assert!(s.contains("↻ reinserted"), "{s}");
        assert!(s.contains("streams"), "{s}");
        insta::assert_snapshot!(format!("idle_{w}x{h}"), s);
    }
}

/// Mid-wait on a narrow Timeline: the bar gives way so the time left stays whole.
#[test]
fn mid_run_wait_at_60x20_keeps_the_time_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 60, 20);
    let t0 = Instant::now();
    pg.app.freeze_time(Some(t0));
    pg.app.begin_external_run();
    pg.app.update(Message::Engine(fixtures::mid_wait()));
    pg.app.freeze_time(Some(t0 + Duration::from_millis(1500)));
    pg.draw().unwrap();
    let s = pg.screen();
    assert!(s.contains("⏳ ▕████░▏ 2.5 s left of 4 s"), "{s}");
    insta::assert_snapshot!("mid_run_wait_60x20", s);
}

/// Ctrl+O on a narrow screen: a shorter title, still saying how to close it.
#[test]
fn picker_at_60x20_says_how_to_close() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = playground(dir.path(), 60, 20);
    pg.ctrl('o');
    let s = pg.screen();
    assert!(
        s.contains("Open type to filter · Tab: history · Esc closes"),
        "{s}"
    );
    assert!(s.contains("▶ fallback-with-retries"), "{s}");
    insta::assert_snapshot!("picker_60x20", s);
}
