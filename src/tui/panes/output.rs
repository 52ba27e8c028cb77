//! Output: the selected attempt's text as it streams (only the visible rows are drawn), tool
//! calls with their results, and a failed attempt's partial output kept and marked.

use super::{Ctx, Pane, fit, one_line, pane_block};
use crate::tui::keymap::Action;
use crate::tui::run_view::AttemptState;
use crate::tui::theme::Meaning;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Debug, Default)]
pub struct OutputPane {
    /// Top visual row; `None` follows the tail.
    top: Option<usize>,
    attempt: Option<usize>,
    /// Rows the text had and the rows shown, at the last render.
    total: usize,
    text_height: usize,
}

impl OutputPane {
    pub fn new() -> Self {
        Self::default()
    }

    /// The width the text wraps at inside `area` (the App wraps the buffer before drawing).
    pub fn text_width(area: Rect) -> u16 {
        area.width.saturating_sub(2).max(1)
    }

    fn max_top(&self) -> usize {
        self.total.saturating_sub(self.text_height)
    }

    fn scroll(&mut self, delta: i64) {
        let max = self.max_top();
        let cur = self.top.unwrap_or(max) as i64;
        let to = (cur + delta).clamp(0, max as i64) as usize;
        self.top = if to >= max { None } else { Some(to) };
    }
}

impl Pane for OutputPane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let theme = ctx.theme;
        let attempt = ctx.selected_attempt.and_then(|i| ctx.run.attempts.get(i));
        if ctx.selected_attempt != self.attempt {
            self.attempt = ctx.selected_attempt;
            self.top = None;
        }
        let mut title = vec![Span::raw(" Output ")];
        if let Some(a) = attempt {
            let hop = if a.hop == 0 {
                "primary".to_string()
            } else {
                format!("hop {}", a.hop)
            };
            title.push(Span::styled(
                format!("{hop} #{} ", a.attempt),
                theme.style(Meaning::Muted),
            ));
            if self.top.is_some() {
                title.push(Span::styled("(End: follow) ", theme.style(Meaning::Muted)));
            }
        }
        let block = pane_block(Line::from(title), ctx.focused, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let Some(a) = attempt else {
            self.total = 0;
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    "The answer of the selected attempt streams here.",
                    theme.style(Meaning::Muted),
                )))
                .wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        };
        let w = inner.width as usize;
        let mut head: Vec<Line> = Vec::new();
        match a.state {
            AttemptState::Failed => {
                let kind = a
                    .error
                    .as_ref()
                    .map(|e| e.kind.to_string())
                    .unwrap_or_default();
                let what = if a.output.is_empty() {
                    format!("✗ failed: {kind} (no output)")
                } else {
                    format!("✗ failed: {kind} (partial output kept, not the answer)")
                };
                head.push(Line::from(Span::styled(
                    fit(&what, w),
                    theme.style(Meaning::Error),
                )));
            }
            AttemptState::Abandoned => head.push(Line::from(Span::styled(
                fit("⊘ cancelled mid-attempt", w),
                theme.style(Meaning::Warning),
            ))),
            AttemptState::Running if a.output.is_empty() && a.tool_calls.is_empty() => {
                head.push(Line::from(Span::styled(
                    "waiting for the first token…",
                    theme.style(Meaning::Muted),
                )));
            }
            _ => {}
        }
        if a.replayed > 0 {
            head.push(Line::from(vec![
                Span::styled("↻ ", theme.style(Meaning::Reinserted)),
                Span::styled(
                    fit("continued: start replayed", w.saturating_sub(2)),
                    theme.style(Meaning::Muted),
                ),
            ]));
        }
        for t in a.tool_calls.iter().take(6) {
            head.push(Line::from(vec![
                Span::styled("⚙ ", theme.style(Meaning::Attempt)),
                Span::styled(
                    fit(
                        &format!(
                            "{}({}) → {}",
                            t.name,
                            one_line(&t.args),
                            one_line(&t.result)
                        ),
                        w.saturating_sub(2),
                    ),
                    theme.style(Meaning::Text),
                ),
            ]));
        }
        if a.tool_calls.len() > 6 {
            head.push(Line::from(Span::styled(
                format!("… {} more tool calls", a.tool_calls.len() - 6),
                theme.style(Meaning::Muted),
            )));
        }
        let text_h = (inner.height as usize).saturating_sub(head.len());
        self.total = a.output.total_rows();
        self.text_height = text_h;
        let top = self
            .top
            .unwrap_or_else(|| self.max_top())
            .min(self.max_top());
        let style = if a.state == AttemptState::Failed {
            theme.style(Meaning::Muted)
        } else {
            theme.style(Meaning::Text)
        };
        // A continued answer's replayed start is marked apart from the new text.
        let replayed = theme.style(Meaning::Reinserted);
        let mut lines = head;
        lines.extend(
            a.output
                .rows_at(top, text_h)
                .into_iter()
                .map(|(at, r)| marked_row(at, r, a.replayed, replayed, style)),
        );
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> bool {
        let page = self.text_height.max(1) as i64;
        match action {
            Action::Up => self.scroll(-1),
            Action::Down => self.scroll(1),
            Action::PageUp => self.scroll(-page),
            Action::PageDown => self.scroll(page),
            Action::Top => self.top = Some(0).filter(|_| self.max_top() > 0),
            Action::Bottom => self.top = None,
            _ => return false,
        }
        true
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        self.scroll(i64::from(rows));
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Down, Action::PageDown, Action::Bottom]
    }
}

/// A row starting at byte `at` of the text, its part before byte `replayed` in `old` and
/// the rest in `new`.
fn marked_row(
    at: usize,
    row: &str,
    replayed: usize,
    old: ratatui::style::Style,
    new: ratatui::style::Style,
) -> Line<'static> {
    let split = replayed.saturating_sub(at).min(row.len());
    // A boundary inside a character (never, as the text is whole) falls back to its start.
    let split = (0..=split)
        .rev()
        .find(|i| row.is_char_boundary(*i))
        .unwrap_or(0);
    let (before, after) = row.split_at(split);
    let mut spans = Vec::with_capacity(2);
    if !before.is_empty() {
        spans.push(Span::styled(before.to_string(), old));
    }
    if !after.is_empty() || spans.is_empty() {
        spans.push(Span::styled(after.to_string(), new));
    }
    Line::from(spans)
}
