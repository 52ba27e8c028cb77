//! The Output pane of a continued attempt (`stream_recovery = "continue"`): the replayed
//! start of the answer is drawn in the reinserted style, the new text in the plain one.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use retrylab::event::TimedEvent;
use retrylab::tui::panes::output::OutputPane;
use retrylab::tui::panes::{Ctx, Pane};
use retrylab::tui::run_view::RunView;
use retrylab::tui::theme::{Meaning, ThemeSet};

/// Attempt 1 breaks after "Patrick Rothfuss"; attempt 2 replays it and streams the rest.
const LINES: &[&str] = &[
    r#"{"t_ms":0,"event":"run_started","scenario":"t","mode":"sim","speed":"max"}"#,
    r#"{"t_ms":0,"event":"attempt_started","hop":0,"attempt":1,"provider":"anthropic","model":"m","request":null}"#,
    r#"{"t_ms":100,"event":"delta","hop":0,"attempt":1,"text":"Patrick Rothfuss"}"#,
    r#"{"t_ms":300,"event":"attempt_failed","hop":0,"attempt":1,"error":{"kind":"stream_interrupted","message":"cut"},"partial_output":"Patrick Rothfuss","will_retry":true,"latency_ms":300}"#,
    r#"{"t_ms":1300,"event":"attempt_started","hop":0,"attempt":2,"provider":"anthropic","model":"m","request":null}"#,
    r#"{"t_ms":1300,"event":"stream_resumed","hop":0,"attempt":2,"replayed_chars":16,"text":"Patrick Rothfuss"}"#,
    r#"{"t_ms":1400,"event":"delta","hop":0,"attempt":2,"text":" wrote The Name of the Wind."}"#,
    r#"{"t_ms":2000,"event":"attempt_succeeded","hop":0,"attempt":2,"content":"Patrick Rothfuss wrote The Name of the Wind.","usage":{"input_tokens":1,"output_tokens":6},"latency_ms":700}"#,
];

#[test]
fn a_continued_answer_marks_its_replayed_start() {
    let mut run = RunView::new();
    for line in LINES {
        run.apply(&TimedEvent::from_json_line(line).expect("a pinned line"));
    }
    assert_eq!(run.attempts[1].replayed, "Patrick Rothfuss".len());
    let (w, h) = (34u16, 7u16);
    // The App wraps the buffer before drawing; so does this test.
    let width = OutputPane::text_width(ratatui::layout::Rect::new(0, 0, w, h));
    run.attempts[1].output.ensure_wrapped(width);
    let theme = ThemeSet::builtin().themes[0].clone();
    let ctx = Ctx {
        theme: &theme,
        run: &run,
        focused: false,
        run_now_ms: 2000,
        tick: 0,
        selected_row: None,
        selected_attempt: Some(1),
    };
    let mut pane = OutputPane::new();
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| pane.render(f, f.area(), &ctx))
        .expect("draw");
    let buf = terminal.backend().buffer().clone();
    let text: String = (0..h)
        .map(|y| {
            let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
            format!("{}\n", row.trim_end())
        })
        .collect();
    insta::assert_snapshot!("continued_output", text);
    // The answer's first row: "Patrick Rothfuss" replayed, " wrote ..." new.
    let y = (0..h)
        .find(|&y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .contains("Patrick")
        })
        .expect("the answer's row");
    let x0 = (0..w)
        .find(|&x| buf[(x, y)].symbol() == "P")
        .expect("its start");
    let replayed = theme.style(Meaning::Reinserted);
    let new = theme.style(Meaning::Text);
    assert_ne!(replayed, new, "the theme tells them apart");
    for x in x0..x0 + 16 {
        assert_eq!(
            buf[(x, y)].fg,
            replayed.fg.unwrap_or_default(),
            "column {x}"
        );
    }
    assert_eq!(
        buf[(x0 + 17, y)].fg,
        new.fg.unwrap_or_default(),
        "after the replayed part"
    );
}
