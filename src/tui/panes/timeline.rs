//! The Timeline: one row per attempt (✓ / ✗ / spinner, latency, error kind and status), each
//! wait as a countdown bar labelled with where it came from, reinserted errors, fallback hops
//! as arrows, and the outcome. Follows the newest row until the user moves the selection.

use super::{Ctx, Pane, fit, one_line, pane_block, scroll_by};
use crate::event::Outcome;
use crate::policy::duration::format_secs;
use crate::tui::keymap::Action;
use crate::tui::run_view::{AttemptState, Row, RunView, WaitView};
use crate::tui::theme::{Meaning, Theme};
use crate::words::hop_label;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

mod sdk;

pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Debug, Default)]
pub struct TimelinePane {
    /// The scenario's `about`, shown before the first run.
    pub about: String,
    selected: Option<usize>,
    /// Follow the newest row (until the user moves the selection).
    follow: bool,
    offset: usize,
    rows: usize,
    inner: Rect,
}

impl TimelinePane {
    pub fn new() -> Self {
        TimelinePane {
            follow: true,
            ..Default::default()
        }
    }

    /// A new run: select nothing and follow again.
    pub fn reset(&mut self) {
        *self = TimelinePane {
            inner: self.inner,
            about: std::mem::take(&mut self.about),
            ..TimelinePane::new()
        };
    }

    /// Keeps the selection valid after rows arrive.
    pub fn sync(&mut self, rows: usize) {
        self.rows = rows;
        if rows == 0 {
            self.selected = None;
        } else if self.follow {
            self.selected = Some(rows - 1);
        } else if let Some(s) = self.selected {
            self.selected = Some(s.min(rows - 1));
        }
    }

    pub fn selected(&self) -> Option<usize> {
        self.selected
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn is_following(&self) -> bool {
        self.follow
    }

    pub fn select(&mut self, row: usize) {
        if self.rows == 0 {
            return;
        }
        let row = row.min(self.rows - 1);
        self.selected = Some(row);
        self.follow = row + 1 == self.rows;
    }

    fn page(&self) -> usize {
        (self.inner.height as usize).max(1)
    }
}

impl Pane for TimelinePane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let theme = ctx.theme;
        let run = ctx.run;
        self.sync(run.rows.len());
        let mut title = vec![Span::raw(" Timeline ")];
        if !run.rows.is_empty() && !self.follow {
            title.push(Span::styled("(End: follow) ", theme.style(Meaning::Muted)));
        }
        let mut block = pane_block(Line::from(title), ctx.focused, theme);
        // The state panel: breakers and budget, on the bottom edge (only when shared).
        if let Some(shared) = &run.shared {
            let now = ctx.run_now_ms.max(run.last_t);
            let room = (area.width as usize).saturating_sub(4);
            let text = format!(" {} ", shared.line(now, room));
            block = block.title_bottom(Line::from(Span::styled(text, theme.style(Meaning::Muted))));
        }
        let inner = block.inner(area);
        frame.render_widget(block, area);
        self.inner = inner;
        if inner.height == 0 {
            return;
        }
        if run.rows.is_empty() {
            let mut lines = empty_lines(theme, inner.width as usize);
            if !self.about.is_empty() {
                lines.push(Line::default());
                lines.extend(
                    self.about.lines().map(|l| {
                        Line::from(Span::styled(l.to_string(), theme.style(Meaning::Text)))
                    }),
                );
            }
            frame.render_widget(
                Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
                inner,
            );
            return;
        }
        let h = inner.height as usize;
        // Keep the selection on screen; when following, show the tail.
        if let Some(s) = self.selected {
            if s < self.offset {
                self.offset = s;
            } else if s >= self.offset + h {
                self.offset = s + 1 - h;
            }
        }
        self.offset = self.offset.min(run.rows.len().saturating_sub(h));
        let width = inner.width as usize;
        let lines: Vec<Line> = (self.offset..(self.offset + h).min(run.rows.len()))
            .map(|i| {
                let line = row_line(run, i, ctx, width.saturating_sub(1));
                let sel = self.selected == Some(i);
                let mark = if sel { "▌" } else { " " };
                let mut spans = vec![Span::styled(mark, theme.style(Meaning::Focus))];
                spans.extend(line.spans);
                let l = Line::from(spans);
                if sel && ctx.focused {
                    l.patch_style(theme.style(Meaning::Selection))
                } else {
                    l
                }
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> bool {
        if self.rows == 0 {
            return false;
        }
        let cur = self.selected.unwrap_or(self.rows - 1);
        let last = self.rows - 1;
        let page = self.page() as i32;
        let to = match action {
            Action::Up => scroll_by(cur, -1, last),
            Action::Down => scroll_by(cur, 1, last),
            Action::PageUp => scroll_by(cur, -page, last),
            Action::PageDown => scroll_by(cur, page, last),
            Action::Top => 0,
            Action::Bottom => last,
            _ => return false,
        };
        self.select(to);
        true
    }

    fn on_click(&mut self, x: u16, y: u16, _ctx: &Ctx) {
        if self.inner.contains(Position { x, y }) {
            let row = self.offset + (y - self.inner.y) as usize;
            if row < self.rows {
                self.select(row);
            }
        }
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        if self.rows == 0 {
            return;
        }
        let cur = self.selected.unwrap_or(self.rows - 1);
        self.select(scroll_by(cur, rows, self.rows - 1));
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Down, Action::Bottom]
    }
}

/// Before the first run: how to start one, and the legend of the row icons, laid out in
/// `width` columns so a narrow pane breaks it between entries, never inside one.
fn empty_lines(theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let m = theme.style(Meaning::Muted);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("No run yet. Press ", m),
            Span::styled("F5", theme.style(Meaning::Key)),
            Span::styled(" to run the scenario.", m),
        ]),
        Line::default(),
    ];
    let legend = [
        ("✓ ok", Meaning::Success),
        ("✗ failed", Meaning::Error),
        ("⏳ wait", Meaning::Wait),
        ("↻ reinserted", Meaning::Reinserted),
        ("⤷ fallback", Meaning::Fallback),
    ];
    let mut row: Vec<Span<'static>> = Vec::new();
    for (text, meaning) in legend {
        let entry = Span::styled(text, theme.style(meaning));
        let used = spans_width(&row);
        if !row.is_empty() && used + 1 + entry.width() > width {
            lines.push(Line::from(std::mem::take(&mut row)));
        }
        if !row.is_empty() {
            row.push(Span::raw(" "));
        }
        row.push(entry);
    }
    lines.push(Line::from(row));
    lines
}

fn ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format_secs(ms as f64 / 1000.0)
    }
}

/// The one line a timeline row draws (without the selection gutter).
pub fn row_line(run: &RunView, i: usize, ctx: &Ctx, width: usize) -> Line<'static> {
    let theme = ctx.theme;
    let st = |m| theme.style(m);
    let Some(row) = run.rows.get(i) else {
        return Line::default();
    };
    match row {
        Row::Attempt(ai) => {
            let a = &run.attempts[*ai];
            let (icon, icon_style) = match a.state {
                AttemptState::Running => (
                    SPINNER[ctx.tick % SPINNER.len()].to_string(),
                    st(Meaning::Running),
                ),
                AttemptState::Failed => ("✗".into(), st(Meaning::Error)),
                AttemptState::Succeeded => ("✓".into(), st(Meaning::Success)),
                AttemptState::Abandoned => ("⊘".into(), st(Meaning::Muted)),
            };
            let latency = match (a.state, a.latency_ms) {
                (AttemptState::Running, _) => {
                    format!("{}…", ms(ctx.run_now_ms.saturating_sub(a.started_t)))
                }
                (_, Some(l)) => ms(l),
                (_, None) => String::new(),
            };
            // What matters most first: narrow panes cut from the right.
            let mut spans = vec![
                Span::styled(icon, icon_style),
                Span::styled(
                    format!(" {:<7} #{:<2} ", hop_label(a.hop), a.attempt),
                    st(Meaning::Attempt),
                ),
                Span::styled(format!("{latency:>7}"), st(Meaning::Muted)),
            ];
            if let Some(e) = &a.error {
                let status = e.status.map(|s| format!(" {s}")).unwrap_or_default();
                spans.push(Span::styled(
                    format!("  {}{status}", e.kind),
                    st(Meaning::Error),
                ));
            }
            if !a.reinserted.is_empty() {
                spans.push(Span::styled(
                    format!("  ↻{}", a.reinserted.len()),
                    st(Meaning::Reinserted),
                ));
            }
            spans.push(Span::styled(
                format!("  {}/{}", a.provider, a.model),
                st(Meaning::Muted),
            ));
            fit_spans(spans, width)
        }
        Row::Wait(wi) => wait_line(&run.waits[*wi], ctx, width),
        Row::SdkRetry(ri) => sdk::sdk_retry_line(run, &run.sdk_retries[*ri], ctx, width),
        Row::Reinserted {
            attempt, errors, ..
        } => {
            let last = errors.last().map(|s| one_line(s)).unwrap_or_default();
            fit_spans(
                vec![
                    Span::raw("  "),
                    Span::styled(
                        format!("↻ reinserted into #{attempt}: "),
                        st(Meaning::Reinserted),
                    ),
                    Span::styled(format!("\"{last}\""), st(Meaning::Reinserted)),
                ],
                width,
            )
        }
        Row::Exhausted {
            hop,
            attempts,
            last_error,
        } => fit_spans(
            vec![
                Span::raw("  "),
                Span::styled(
                    format!(
                        "⊘ {} gave up after {attempts} attempt{}: retry_error (last: {})",
                        hop_label(*hop),
                        if *attempts == 1 { "" } else { "s" },
                        last_error.kind
                    ),
                    st(Meaning::Error),
                ),
            ],
            width,
        ),
        Row::Across(a) => {
            let (icon, m) = match a.breaker {
                Some(crate::event::BreakerTo::Open) => ("⚡", Meaning::Error),
                Some(crate::event::BreakerTo::HalfOpen) => ("◐", Meaning::Wait),
                Some(crate::event::BreakerTo::Closed) => ("●", Meaning::Success),
                None => ("⊘", Meaning::Error),
            };
            fit_spans(
                vec![
                    Span::raw("  "),
                    Span::styled(format!("{icon} {}", a.text), st(m)),
                ],
                width,
            )
        }
        Row::Fallback { to, caught, .. } => fit_spans(
            vec![
                Span::raw("  "),
                Span::styled(
                    format!("⤷ fallback → {}/{}", to.provider, to.model),
                    st(Meaning::Fallback),
                ),
                Span::styled(format!("  caught {}", caught.kind), st(Meaning::Muted)),
            ],
            width,
        ),
        Row::Rejected { result, .. } => fit_spans(
            vec![
                Span::raw("  "),
                Span::styled(
                    format!("⊘ {result} rejected by on_result"),
                    st(Meaning::Error),
                ),
                Span::styled("  no retry of this model", st(Meaning::Muted)),
            ],
            width,
        ),
        Row::Limit { limit, why } => fit_spans(
            vec![
                Span::styled(format!("⊘ limit {limit} reached"), st(Meaning::Warning)),
                Span::styled(format!("  {}", one_line(why)), st(Meaning::Muted)),
            ],
            width,
        ),
        Row::Hedge(h) => super::hedge_rows::line(h, ctx, width),
        Row::Outcome => {
            let Some(f) = &run.finished else {
                return Line::default();
            };
            let took = match f.total_cost_usd {
                Some(c) => format!("{} · {}", ms(f.t_ms), crate::cost::format_usd(c)),
                None => ms(f.t_ms),
            };
            let (text, style) = match f.outcome {
                Outcome::Ok => (
                    format!(
                        "■ ok{} in {took}: \"{}\"",
                        if f.degraded { " (degraded)" } else { "" },
                        one_line(f.content.as_deref().unwrap_or(""))
                    ),
                    st(Meaning::Success),
                ),
                Outcome::Error => (
                    // Why the run ended so, when the events say; else the error itself.
                    format!("■ error after {took}: {}", {
                        let why = f.why_line();
                        if why.is_empty() {
                            f.error
                                .as_ref()
                                .map(|e| one_line(&e.summary()))
                                .unwrap_or_default()
                        } else {
                            one_line(&why)
                        }
                    }),
                    st(Meaning::Error),
                ),
                Outcome::Cancelled => (format!("■ cancelled after {took}"), st(Meaning::Warning)),
            };
            fit_spans(vec![Span::styled(text, style)], width)
        }
    }
}

/// `⏳ ▕██████░░░░▏ 2.4 s left of 4 s  exponential(...) = 4 s`: the bar drains as the wait
/// runs; once over, how it ended (`waited 4 s`, `skipped after 1.2 s of 4 s`...). When the
/// server's Retry-After set the wait and the row is too short for all of it, the reason leads
/// (`⏳ Retry-After 15 s · 12.7 s left ▕███▏ back-off gave 1 s`) so the cut drops the formula.
fn wait_line(w: &WaitView, ctx: &Ctx, width: usize) -> Line<'static> {
    let theme = ctx.theme;
    let lead = vec![
        Span::raw("  "),
        Span::styled("⏳ ", theme.style(Meaning::Wait)),
    ];
    let left = w.end_t().saturating_sub(ctx.run_now_ms);
    let mut wide = lead.clone();
    wide.extend(wait_state(w, left, theme, BAR_CELLS));
    wide.push(Span::styled(w.label(), theme.style(Meaning::Muted)));
    if spans_width(&wide) <= width || w.finished && w.words().reason().is_none() {
        return fit_spans(wide, width);
    }
    if let Some(reason) = w.words().reason() {
        return fit_spans(reason_first(w, reason, lead, left, theme, width), width);
    }
    // Short: the bar gives way (down to none) so the time left stays whole.
    let text = crate::words::wait_left(left, w.delay_ms);
    let room = width.saturating_sub(spans_width(&lead) + text.chars().count() + 1);
    let mut spans = lead;
    spans.extend(wait_state(w, left, theme, bar_cells(room)));
    spans.push(Span::styled(w.label(), theme.style(Meaning::Muted)));
    fit_spans(spans, width)
}

/// The bar's cells in `room` columns (its ends included): up to its usual size, none below 3.
fn bar_cells(room: usize) -> usize {
    match room.saturating_sub(2).min(BAR_CELLS) {
        c if c >= 3 => c,
        _ => 0,
    }
}

/// A short row whose wait the server set: the reason, then the state, then the formula.
fn reason_first(
    w: &WaitView,
    reason: String,
    lead: Vec<Span<'static>>,
    left: u64,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'static>> {
    let mut spans = lead;
    let same_length = w.retry_after_ms.is_none_or(|ra| ra == w.delay_ms);
    spans.push(Span::styled(reason, theme.style(Meaning::Wait)));
    spans.push(Span::styled(" · ", theme.style(Meaning::Muted)));
    if w.finished {
        spans.extend(wait_state(w, left, theme, 0));
    } else {
        let text = if same_length {
            crate::words::wait_left_short(left)
        } else {
            crate::words::wait_left(left, w.delay_ms)
        };
        spans.push(Span::styled(text, theme.style(Meaning::Wait)));
        // The bar takes what room is left (after a space), up to its usual size.
        let cells = bar_cells(width.saturating_sub(spans_width(&spans) + 1));
        if cells > 0 {
            spans.push(Span::raw(" "));
            spans.extend(bar(w, left, theme, cells));
        }
        spans.push(Span::raw("  "));
    }
    spans.push(Span::styled(
        w.words().backoff_gave(),
        theme.style(Meaning::Muted),
    ));
    spans
}

/// The countdown bar's usual size, in cells.
const BAR_CELLS: usize = 12;

/// A wait's state before its label: how it ended, or the bar (of `cells`, none for 0) and
/// the time left.
fn wait_state(w: &WaitView, left: u64, theme: &Theme, cells: usize) -> Vec<Span<'static>> {
    if w.finished {
        let style = if w.ended.is_elapsed() {
            theme.style(Meaning::Wait)
        } else {
            theme.style(Meaning::Warning)
        };
        return vec![Span::styled(w.end_text(), style), Span::raw("  ")];
    }
    // The gap before the label is a span of its own: a cut drops it before the time left.
    let text = crate::words::wait_left(left, w.delay_ms);
    if cells == 0 {
        return vec![
            Span::styled(text, theme.style(Meaning::Wait)),
            Span::raw("  "),
        ];
    }
    let mut spans = bar(w, left, theme, cells);
    spans.push(Span::styled(format!(" {text}"), theme.style(Meaning::Wait)));
    spans.push(Span::raw("  "));
    spans
}

/// `▕████░░▏`: full cells for the part of the wait still to go.
fn bar(w: &WaitView, left: u64, theme: &Theme, cells: usize) -> Vec<Span<'static>> {
    drain_bar(w.delay_ms, left, theme, cells)
}

/// The bar of a wait of `delay_ms` with `left` to go (an SDK retry's wait too).
fn drain_bar(delay_ms: u64, left: u64, theme: &Theme, cells: usize) -> Vec<Span<'static>> {
    let full = if delay_ms == 0 {
        0
    } else {
        ((left as f64 / delay_ms as f64) * cells as f64).ceil() as usize
    }
    .min(cells);
    vec![
        Span::styled("▕", theme.style(Meaning::WaitTrack)),
        Span::styled("█".repeat(full), theme.style(Meaning::Wait)),
        Span::styled("░".repeat(cells - full), theme.style(Meaning::WaitTrack)),
        Span::styled("▏", theme.style(Meaning::WaitTrack)),
    ]
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Cuts a line of spans to `width` columns.
pub(super) fn fit_spans(spans: Vec<Span<'static>>, width: usize) -> Line<'static> {
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = s.width();
        if used + w <= width {
            used += w;
            out.push(s);
        } else {
            let room = width.saturating_sub(used);
            if room > 0 {
                out.push(Span::styled(fit(&s.content, room), s.style));
            }
            break;
        }
    }
    Line::from(out)
}
