//! Inspector: everything about the selected timeline row. For an attempt: why the policy did
//! what it did, the exact request messages (reinserted error text highlighted), the response
//! status, headers and body, the error, timings and usage.

//!
//! - `attempt.rs`: an attempt's lines; `rows.rs`: the other rows' lines and an error's;
//! - `request.rs`: reading request bodies of both wire formats, highlighting.

mod attempt;
mod request;
mod rows;
mod sdk;

#[cfg(any(test, feature = "test-util"))]
pub use request::highlight;

use super::{Ctx, Pane, pane_block, scroll_by};
use crate::policy::duration::format_secs;
use crate::tui::keymap::Action;
use crate::tui::run_view::{Row, RunView};
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Longer texts are cut in the view (the Output pane has the whole answer).
const BODY_LINES: usize = 60;
const MESSAGE_LINES: usize = 200;
/// Bodies above this size are shown raw, not re-parsed as JSON every frame.
const PRETTY_MAX: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct InspectorPane {
    offset: usize,
    lines: usize,
    height: usize,
    row: Option<usize>,
}

impl InspectorPane {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Pane for InspectorPane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        if self.row != ctx.selected_row {
            self.row = ctx.selected_row;
            self.offset = 0;
        }
        let block = pane_block(" Inspector ", ctx.focused, ctx.theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let lines = match ctx.selected_row {
            Some(r) => row_details(ctx.run, r, ctx.theme),
            None => vec![Line::from(Span::styled(
                "Select a timeline row to see its request, response and why the policy acted.",
                ctx.theme.style(Meaning::Muted),
            ))],
        };
        self.lines = lines.len();
        self.height = inner.height as usize;
        self.offset = self.offset.min(self.lines.saturating_sub(1));
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((self.offset.min(u16::MAX as usize) as u16, 0)),
            inner,
        );
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> bool {
        let max = self.lines.saturating_sub(1);
        let page = self.height.max(1) as i32;
        self.offset = match action {
            Action::Up => scroll_by(self.offset, -1, max),
            Action::Down => scroll_by(self.offset, 1, max),
            Action::PageUp => scroll_by(self.offset, -page, max),
            Action::PageDown => scroll_by(self.offset, page, max),
            Action::Top => 0,
            Action::Bottom => max.saturating_sub(self.height.saturating_sub(1)),
            _ => return false,
        };
        true
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        self.offset = scroll_by(self.offset, rows, self.lines.saturating_sub(1));
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Down, Action::PageDown]
    }
}

fn ms(ms: u64) -> String {
    format_secs(ms as f64 / 1000.0)
}

pub(super) fn heading(text: &str, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), theme.style(Meaning::Title)))
}

pub(super) fn field(name: &str, value: String, theme: &Theme, style: Style) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<10} "), theme.style(Meaning::Muted)),
        Span::styled(value, style),
    ])
}

/// The lines for one timeline row.
pub fn row_details(run: &RunView, row: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match run.rows.get(row) {
        None => {}
        Some(Row::Attempt(i)) => {
            attempt::details(&run.attempts[*i], run.sdk_retries_of(*i), theme, &mut out);
        }
        Some(Row::SdkRetry(r)) => {
            let r = &run.sdk_retries[*r];
            sdk::retry(run.attempts.get(r.attempt_ix), r, theme, &mut out);
        }
        Some(Row::Wait(w)) => rows::wait(run, &run.waits[*w], theme, &mut out),
        Some(Row::Reinserted {
            attempt, errors, ..
        }) => rows::reinserted(*attempt, errors, theme, &mut out),
        Some(Row::Exhausted {
            hop,
            attempts,
            last_error,
        }) => rows::exhausted(*hop, *attempts, last_error, theme, &mut out),
        Some(Row::Fallback {
            hop,
            from,
            to,
            caught,
            why,
        }) => rows::fallback(*hop, (from, to), (caught, why), theme, &mut out),
        Some(Row::Across(a)) => rows::across(a, theme, &mut out),
        Some(Row::Rejected {
            hop,
            attempt,
            result,
            why,
        }) => rows::rejected((*hop, *attempt), result, why, theme, &mut out),
        Some(Row::Limit { limit, why }) => rows::limit(limit, why, theme, &mut out),
        Some(Row::Hedge(h)) => super::hedge_rows::details(h, theme, &mut out),
        Some(Row::Outcome) => rows::outcome(run, theme, &mut out),
    }
    out
}

fn cut_lines(text: &str, max: usize, style: Style, theme: &Theme, out: &mut Vec<Line<'static>>) {
    for (n, l) in text.lines().enumerate() {
        if n == max {
            let rest = text.lines().count() - max;
            out.push(Line::from(Span::styled(
                format!("  … {rest} more lines (the Output pane has them all)"),
                theme.style(Meaning::Muted),
            )));
            return;
        }
        out.push(Line::from(Span::styled(format!("  {l}"), style)));
    }
}

fn cost_text(usd: f64, estimated: bool) -> String {
    let v = crate::cost::format_usd(usd);
    if estimated {
        format!("{v} (some tokens estimated)")
    } else {
        v
    }
}

fn pretty_json(body: &str) -> Option<String> {
    if body.len() > PRETTY_MAX {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    serde_json::to_string_pretty(&v).ok()
}

#[cfg(test)]
mod tests;
