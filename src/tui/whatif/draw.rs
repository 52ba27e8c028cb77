//! Drawing the what-if view from its state alone: a title line, the two sides (next to each
//! other from [`SIDE_BY_SIDE`] columns, else one above the other), the notes, the keys. Each
//! side is a summary (the numbers of the CLI's table, those that differ from the other side
//! in bold: mono shows it) over the Timeline pane's own rows.

use super::{Phase, WhatifView};
use crate::policy::Secs;
use crate::tui::keymap::{self, Action};
use crate::tui::panes::timeline::row_line;
use crate::tui::panes::{Ctx, fit};
use crate::tui::run_view::RunView;
use crate::tui::theme::{Meaning, Theme};
use crate::whatif::{MapMode, Side};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// From this many columns the sides stand next to each other.
pub const SIDE_BY_SIDE: u16 = 100;
/// The notes take at most this many rows (they wrap; the rest is cut).
const NOTE_ROWS: u16 = 4;

pub fn render(view: &WhatifView, frame: &mut Frame, area: Rect, theme: &Theme) {
    frame.render_widget(Clear, area);
    let notes = match &view.phase {
        Phase::Done(s) => s
            .report
            .notes
            .iter()
            .map(|n| {
                Line::from(Span::styled(
                    format!("note: {n}"),
                    theme.style(Meaning::Muted),
                ))
            })
            .collect(),
        Phase::Running { .. } => Vec::new(),
    };
    let notes_h = wrapped_rows(&notes, area.width).min(NOTE_ROWS);
    let [title, body, notes_area, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(notes_h),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(title_line(view, theme, title.width)), title);
    frame.render_widget(Paragraph::new(keys_line(view, theme)), keys);
    frame.render_widget(Paragraph::new(notes).wrap(Wrap { trim: true }), notes_area);
    let Phase::Done(s) = &view.phase else {
        let text = format!(
            "replaying the recorded faults under {} (--map {})…",
            view.policy.label,
            view.map.as_str()
        );
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.style(Meaning::Muted))),
            body,
        );
        return;
    };
    let wide = area.width >= SIDE_BY_SIDE;
    let [left, right] = if wide {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(body)
    } else {
        Layout::vertical([Constraint::Percentage(50), Constraint::Fill(1)]).areas(body)
    };
    let (rec, new) = (&s.report.recorded, &s.report.new);
    let sides = [
        (
            left,
            "Recorded",
            s.recorded_scenario.as_str(),
            rec,
            new,
            &s.recorded,
        ),
        (right, "New", view.policy.label.as_str(), new, rec, &s.new),
    ];
    for (r, which, name, side, other, run) in sides {
        let look = Look {
            theme,
            wide,
            offset: view.offset(),
        };
        draw_side(
            frame,
            r,
            &format!(" {which} · {name} "),
            side,
            other,
            run,
            look,
        );
    }
}

/// How a side is drawn.
#[derive(Clone, Copy)]
struct Look<'a> {
    theme: &'a Theme,
    wide: bool,
    offset: usize,
}

/// One side: its frame (all round next to the other, a top rule when stacked), the summary,
/// then its timeline from the shared offset (kept so the last rows stay in view).
fn draw_side(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    side: &Side,
    other: &Side,
    run: &RunView,
    look: Look,
) {
    let theme = look.theme;
    let borders = if look.wide {
        Borders::ALL
    } else {
        Borders::TOP
    };
    let block = Block::default()
        .borders(borders)
        .border_style(theme.style(Meaning::Border))
        .title(Span::styled(title.to_string(), theme.style(Meaning::Title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = summary(side, other, theme, width);
    let h = (inner.height as usize).saturating_sub(lines.len());
    let offset = look.offset.min(run.rows.len().saturating_sub(h));
    let ctx = Ctx {
        theme,
        run,
        focused: false,
        run_now_ms: run.last_t,
        tick: 0,
        selected_row: None,
        selected_attempt: None,
    };
    for i in offset..(offset + h).min(run.rows.len()) {
        let mut spans = vec![Span::raw(" ")];
        spans.extend(row_line(run, i, &ctx, width.saturating_sub(1)).spans);
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// `4 attempts · 4 requests · waiting 2.762 s · total 3.762 s · cost $0.000010 · ok`, broken
/// between parts to fit `width`; a part that differs from the other side's is bold.
fn summary(side: &Side, other: &Side, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let parts = |s: &Side| {
        [
            format!("{} attempts", s.attempts),
            format!("{} requests", s.requests),
            format!("waiting {}", secs(s.wait_ms)),
            format!("total {}", secs(s.total_ms)),
            format!("cost {}", usd(s.cost_usd)),
            s.outcome.clone(),
        ]
    };
    let (mine, theirs) = (parts(side), parts(other));
    let outcome = if side.outcome == "ok" {
        Meaning::Success
    } else {
        Meaning::Error
    };
    let mut lines = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (i, (text, other_text)) in mine.into_iter().zip(theirs).enumerate() {
        let meaning = if i == 5 { outcome } else { Meaning::Text };
        let mut style: Style = theme.style(meaning);
        if text != other_text {
            style = style.add_modifier(Modifier::BOLD);
        }
        let w = unicode_width::UnicodeWidthStr::width(text.as_str());
        if !row.is_empty() && used + 3 + w > width {
            lines.push(Line::from(std::mem::take(&mut row)));
            used = 0;
        }
        if !row.is_empty() {
            row.push(Span::styled(" · ", theme.style(Meaning::Muted)));
            used += 3;
        }
        row.push(Span::styled(fit(&text, width), style));
        used += w;
    }
    lines.push(Line::from(row));
    lines
}

fn title_line(view: &WhatifView, theme: &Theme, width: u16) -> Line<'static> {
    let file = view
        .trace
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // What matters first: a narrow screen cuts the file name, which the status bar shows too.
    let mut text = format!(
        "What if {} had met the recorded faults? --map {}",
        view.policy.label,
        view.map.as_str()
    );
    if let Phase::Done(s) = &view.phase {
        text.push_str(&format!(" · {}", s.recorded_scenario));
    }
    text.push_str(&format!(" · {file}"));
    Line::from(Span::styled(
        fit(&text, width as usize),
        theme.style(Meaning::Title).add_modifier(Modifier::BOLD),
    ))
}

/// The view's keys, named from the action table.
fn keys_line(view: &WhatifView, theme: &Theme) -> Line<'static> {
    let label = |a: Action| {
        keymap::binding(a)
            .and_then(|b| b.keys.first())
            .map(keymap::Chord::label)
            .unwrap_or_default()
    };
    let other = match view.map {
        MapMode::Index => MapMode::Time,
        MapMode::Time => MapMode::Index,
    };
    let keys = [
        (label(Action::Cancel), "back to the replay".to_string()),
        (
            label(Action::WhatIfMap),
            format!("--map {}", other.as_str()),
        ),
        (label(Action::WhatIf), "another policy".to_string()),
        ("↑↓".to_string(), "scroll".to_string()),
    ];
    let mut spans = Vec::new();
    for (k, what) in keys {
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", theme.style(Meaning::Muted)));
        }
        spans.push(Span::styled(k, theme.style(Meaning::Key)));
        spans.push(Span::styled(
            format!(" {what}"),
            theme.style(Meaning::Muted),
        ));
    }
    Line::from(spans)
}

/// The rows `lines` take word-wrapped at `width` (as the paragraph wraps them, near enough:
/// the notes area is cut, never overflows).
fn wrapped_rows(lines: &[Line], width: u16) -> u16 {
    let w = usize::from(width.max(1));
    let rows = |l: &Line| {
        let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        let (mut n, mut used) = (1usize, 0usize);
        for word in text.split_whitespace() {
            let ww = unicode_width::UnicodeWidthStr::width(word);
            if used == 0 {
                used = ww;
            } else if used + 1 + ww <= w {
                used += 1 + ww;
            } else {
                n += 1;
                used = ww;
            }
            // A word longer than the row is broken.
            while used > w {
                n += 1;
                used -= w;
            }
        }
        n
    };
    lines.iter().map(|l| rows(l) as u16).sum()
}

fn secs(ms: u64) -> String {
    Secs::from_ms(ms).human()
}

fn usd(c: Option<f64>) -> String {
    c.map_or_else(|| "-".into(), crate::cost::format_usd)
}
