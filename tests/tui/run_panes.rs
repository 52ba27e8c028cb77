//! The Timeline and the Inspector drawn side by side on a TestBackend from hand-built events
//! (no App: these screens are about what the run view folds and the panes say).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::{Constraint, Layout};
use retrylab::event::TimedEvent;
use retrylab::tui::panes::inspector::InspectorPane;
use retrylab::tui::panes::timeline::TimelinePane;
use retrylab::tui::panes::{Ctx, Pane};
use retrylab::tui::run_view::{RunView, fixtures};
use retrylab::tui::theme::ThemeSet;

/// The screen as text, Inspector on `row` (the last row when `None`), the run's clock at
/// `now_ms`.
pub fn panes(events: &[TimedEvent], row: Option<usize>, now_ms: u64, w: u16, h: u16) -> String {
    let mut run = RunView::new();
    for e in events {
        run.apply(e);
    }
    let theme = ThemeSet::builtin().themes[0].clone();
    let selected = row.or(run.rows.len().checked_sub(1));
    let ctx = Ctx {
        theme: &theme,
        run: &run,
        focused: false,
        run_now_ms: now_ms,
        tick: 0,
        selected_row: selected,
        selected_attempt: selected.and_then(|r| run.attempt_of_row(r)),
    };
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let (mut timeline, mut inspector) = (TimelinePane::new(), InspectorPane::new());
    terminal
        .draw(|f| {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(f.area());
            timeline.render(f, left, &ctx);
            inspector.render(f, right, &ctx);
        })
        .expect("draw");
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            line.push_str(sym);
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn a_skipped_wait_says_how_long_it_lasted() {
    let s = panes(&fixtures::skipped_wait(), Some(2), 1212, 140, 20);
    assert!(s.contains("⏳ skipped after 1.2 s of 4 s"), "{s}");
    assert!(s.contains("ended      skipped after 1.2 s of 4 s"), "{s}");
    assert!(s.contains("window     12 ms → 1.212 s"), "{s}");
    insta::assert_snapshot!("skipped_wait", s);
}

#[test]
fn a_cancelled_wait_says_so() {
    let s = panes(&fixtures::cancelled_wait(true), Some(2), 1362, 140, 20);
    assert!(s.contains("⏳ cancelled after 1.35 s of 4 s"), "{s}");
    assert!(!s.contains("waited 4 s"), "{s}");
    assert!(
        s.contains("ended      cancelled after 1.35 s of 4 s"),
        "{s}"
    );
    insta::assert_snapshot!("cancelled_wait", s);
}

#[test]
fn a_cancelled_wait_of_an_old_trace_says_so_too() {
    // No wait_finished: the run's end tells how far the wait got.
    let s = panes(&fixtures::cancelled_wait(false), Some(2), 1362, 140, 20);
    assert!(s.contains("⏳ cancelled after 1.35 s of 4 s"), "{s}");
}

#[test]
fn a_wait_in_progress_says_what_is_left() {
    let s = panes(&fixtures::mid_wait(), None, 2312, 140, 12);
    assert!(s.contains("1.7 s left of 4 s"), "{s}");
}

#[test]
fn the_last_row_says_why_no_fallback_was_tried() {
    let events = fixtures::no_fallback_tried();
    let s = panes(&events, None, 9, 220, 14);
    assert!(
        s.contains("■ error after 9 ms: server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"),
        "{s}"
    );
    assert!(
        s.contains("fallback   server_error is not in [fallback].catch [retry_error]: no fallback hop was tried"),
        "{s}"
    );
    insta::assert_snapshot!("no_fallback_tried", s);
    // The attempt that ended the run says it too.
    let s = panes(&events, Some(0), 9, 220, 14);
    assert!(
        s.contains("fallback   server_error is not in [fallback].catch"),
        "{s}"
    );
}

#[test]
fn the_inspector_shows_the_exact_request() {
    // Row 3: primary #2, which carries the first rate-limit error.
    let s = panes(&fixtures::full_fallback(), Some(3), 8107, 200, 40);
    assert!(
        s.contains("Request  POST http://127.0.0.1:4000/v1/chat/completions"),
        "{s}"
    );
    assert!(s.contains("  authorization: [redacted]"), "{s}");
    assert!(s.contains(r#""model": "gpt-4o-mini""#), "{s}");
    assert!(s.contains(r#""role": "user""#), "{s}");
    insta::assert_snapshot!("request", s);
}
