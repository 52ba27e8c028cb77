//! Drawing the Lab view from its state alone: the form (the policies, N, callers, where the
//! faults come from), then a progress bar while it runs, or the results. The results give
//! way as the screen shrinks: CDF + histogram + load + table when there is room, then the
//! load panel goes, then the histogram (narrower than 90 columns), and the table keeps its
//! most telling rows.

use super::{Field, LabView, Phase, charts, look, overall, table};
use crate::lab::LabReport;
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

/// What the view shows besides its own state, handed in by the App.
pub struct LabCtx<'a> {
    pub theme: &'a Theme,
    /// The edited scenario's label (its column), and whether it has unsaved edits.
    pub current: &'a str,
    pub edited: bool,
    /// Why the edited scenario cannot run, when it cannot.
    pub scenario_error: Option<&'a str>,
    /// One line on the fault model (the edited scenario's `[sim]`).
    pub faults: &'a str,
}

/// The charts need at least this many rows to mean anything.
const MIN_CHART_H: u16 = 8;
/// Below this width the histogram gives its room to the CDF.
const HISTOGRAM_MIN_W: u16 = 90;
/// The progress bar's width at most.
const BAR_MAX_W: usize = 50;

impl LabView {
    pub fn render(&self, frame: &mut Frame, area: Rect, ctx: &LabCtx) {
        frame.render_widget(Clear, area);
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Meaning::Border))
            .title(Span::styled(
                " Lab: N calls of each policy on the virtual clock ",
                theme.style(Meaning::Title),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let header = self.header(ctx);
        let head_h = (header.len() as u16).min(inner.height);
        let [head, body] =
            Layout::vertical([Constraint::Length(head_h), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(header), head);
        match &self.phase {
            Phase::Idle => self.render_idle(frame, body, ctx),
            Phase::Running { progress, .. } => {
                let policies = self.setup.as_ref().map_or(1, |s| s.labels.len());
                self.render_progress(frame, body, *progress, policies, theme);
            }
            Phase::Done(report) => render_results(frame, body, report, theme),
        }
    }

    fn header(&self, ctx: &LabCtx) -> Vec<Line<'static>> {
        let theme = ctx.theme;
        let (text, muted, key) = (
            theme.style(Meaning::Text),
            theme.style(Meaning::Muted),
            theme.style(Meaning::Key),
        );
        let mut policies = vec![Span::styled("policies ", muted)];
        let edited = if ctx.edited { " (edited)" } else { "" };
        let names = std::iter::once(format!("{}{edited}", ctx.current))
            .chain(self.others.iter().map(|o| o.label.clone()));
        for (i, name) in names.enumerate() {
            let lk = look(i);
            policies.push(Span::styled(
                format!(" {} {name} ", lk.glyph),
                theme.style(lk.meaning),
            ));
        }
        policies.push(Span::styled(" · ", muted));
        policies.push(Span::styled("Ctrl+O", key));
        policies.push(Span::styled(" adds, ", muted));
        policies.push(Span::styled("x", key));
        policies.push(Span::styled(" removes", muted));
        let field = |label: &str, value: &str, f: Field| {
            let focused = self.field == f;
            let style = if focused {
                theme.style(Meaning::Selection)
            } else {
                theme.style(Meaning::Text)
            };
            let cursor = if focused { "▏" } else { "" };
            // An empty field still shows its box.
            let pad = " ".repeat(4usize.saturating_sub(value.len() + cursor.len().min(1)));
            let shown = format!("[{value}{cursor}{pad}]");
            vec![
                Span::styled(format!("{label} "), muted),
                Span::styled(shown, style),
                Span::raw("  "),
            ]
        };
        let mut form = field("calls", &self.calls, Field::Calls);
        form.extend(field("callers", &self.callers, Field::Callers));
        form.push(Span::styled(
            "(empty: independent; a number: load mode, burst) · ",
            muted,
        ));
        form.push(Span::styled("Tab", key));
        form.push(Span::styled(" switches", muted));
        let faults = Line::from(vec![
            Span::styled("faults   ", muted),
            Span::styled(ctx.faults.to_string(), text),
        ]);
        let state = match (&self.error, ctx.scenario_error, &self.phase) {
            (Some(e), _, _) => Line::from(Span::styled(e.clone(), theme.style(Meaning::Error))),
            (None, Some(e), Phase::Idle) => Line::from(Span::styled(
                format!("the edited scenario cannot run: {e}"),
                theme.style(Meaning::Error),
            )),
            (None, _, Phase::Idle) => {
                hint_line(&[("F5", "runs"), ("Esc", "closes the Lab view")], theme)
            }
            (None, _, Phase::Running { cancelling, .. }) => {
                if *cancelling {
                    Line::from(Span::styled(
                        "cancelling… the calls done so far are kept",
                        theme.style(Meaning::Warning),
                    ))
                } else {
                    hint_line(
                        &[("Esc", "cancels (the calls done so far are kept)")],
                        theme,
                    )
                }
            }
            (None, _, Phase::Done(r)) => self.done_line(r, theme),
        };
        vec![Line::from(policies), Line::from(form), faults, state]
    }

    fn done_line(&self, r: &LabReport, theme: &Theme) -> Line<'static> {
        let muted = theme.style(Meaning::Muted);
        let mode = match self.setup.as_ref().and_then(|s| s.callers) {
            None => "independent calls".to_string(),
            Some(c) => format!("{c} callers, burst arrival, one shared clock"),
        };
        let calls = self.setup.as_ref().map_or(0, |s| s.calls);
        let mut spans = Vec::new();
        if r.cancelled {
            spans.push(Span::styled(
                "cancelled: the numbers cover the calls finished so far · ",
                theme.style(Meaning::Warning),
            ));
        }
        spans.push(Span::styled(
            format!(
                "{calls} calls per policy · {mode} · {:.1} s wall · ",
                r.wall.as_secs_f64()
            ),
            muted,
        ));
        spans.push(Span::styled("F5", theme.style(Meaning::Key)));
        spans.push(Span::styled(" again · ", muted));
        spans.push(Span::styled("Esc", theme.style(Meaning::Key)));
        spans.push(Span::styled(" closes", muted));
        Line::from(spans)
    }

    fn render_idle(&self, frame: &mut Frame, area: Rect, ctx: &LabCtx) {
        let muted = ctx.theme.style(Meaning::Muted);
        let text = vec![
            Line::default(),
            Line::from(Span::styled(
                "Each policy makes the same N calls against the same fault draws (common random numbers), so the differences come from the policy.",
                muted,
            )),
            Line::from(Span::styled(
                "Then: latency CDFs, a histogram, and the stats with the best value of each row marked *.",
                muted,
            )),
        ];
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
    }

    fn render_progress(
        &self,
        frame: &mut Frame,
        area: Rect,
        progress: Option<crate::lab::Progress>,
        policies: usize,
        theme: &Theme,
    ) {
        let labels = self
            .setup
            .as_ref()
            .map(|s| s.labels.as_slice())
            .unwrap_or(&[]);
        let of = self.setup.as_ref().map_or(0, |s| s.calls);
        let bar_w = usize::from(area.width)
            .saturating_sub(30)
            .clamp(5, BAR_MAX_W);
        let mut lines = vec![Line::default()];
        for (i, label) in labels.iter().enumerate() {
            // Policies run one after another: earlier ones are done, later ones wait.
            let done = match progress {
                Some(p) if i < p.policy => of,
                Some(p) if i == p.policy => p.done,
                _ => 0,
            };
            let lk = look(i);
            lines.push(Line::from(vec![
                Span::styled(format!(" {} ", lk.glyph), theme.style(lk.meaning)),
                Span::styled(bar(done, of, bar_w), theme.style(lk.meaning)),
                Span::styled(
                    format!(" {done:>7}/{of} calls  {label}"),
                    theme.style(Meaning::Text),
                ),
            ]));
        }
        let (done, total) = progress.map_or((0, of * policies as u64), |p| overall(p, policies));
        let pct = (done * 100).checked_div(total).unwrap_or(0);
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(" {done} of {total} calls ({pct} %)"),
            theme.style(Meaning::Running),
        )));
        frame.render_widget(Paragraph::new(lines), area);
    }
}

/// `███░░░` of `width` cells (marks, not colours: readable in mono).
fn bar(done: u64, of: u64, width: usize) -> String {
    let full = if of == 0 {
        0
    } else {
        ((done.min(of) as u128 * width as u128) / of as u128) as usize
    };
    format!("{}{}", "█".repeat(full), "░".repeat(width - full))
}

fn hint_line(pairs: &[(&str, &str)], theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, what)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.style(Meaning::Muted)));
        }
        spans.push(Span::styled(k.to_string(), theme.style(Meaning::Key)));
        spans.push(Span::styled(
            format!(" {what}"),
            theme.style(Meaning::Muted),
        ));
    }
    Line::from(spans)
}

/// The results, laid out for the room there is (see the module's doc).
fn render_results(frame: &mut Frame, area: Rect, report: &LabReport, theme: &Theme) {
    let reports = &report.policies;
    if reports.iter().all(|r| r.calls == 0) {
        let msg = "no call finished: nothing to compare (F5 runs again)";
        frame.render_widget(
            Paragraph::new(Span::styled(msg, theme.style(Meaning::Warning))),
            area,
        );
        return;
    }
    let table_want = table::wanted_height(reports);
    let mut load_h = if reports.iter().any(|r| r.load.is_some()) {
        charts::load_height(reports)
    } else {
        0
    };
    if area.height < load_h + MIN_CHART_H + table_want.min(10) {
        load_h = 0;
    }
    let table_h = table_want
        .min(area.height.saturating_sub(load_h + MIN_CHART_H))
        .max(table_want.min(6));
    let [plots, load, stats] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(load_h),
        Constraint::Length(table_h),
    ])
    .areas(area);
    if plots.height >= 4 {
        if plots.width >= HISTOGRAM_MIN_W {
            let [cdf, hist] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(plots);
            charts::render_cdf(frame, cdf, reports, theme);
            charts::render_histogram(frame, hist, reports, theme);
        } else {
            charts::render_cdf(frame, plots, reports, theme);
        }
    }
    if load_h > 0 {
        charts::render_load(frame, load, reports, theme);
    }
    table::render(frame, stats, reports, theme);
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn the_bar_fills_with_marks() {
        assert_eq!(bar(0, 10, 4), "░░░░");
        assert_eq!(bar(5, 10, 4), "██░░");
        assert_eq!(bar(20, 10, 4), "████");
        assert_eq!(bar(3, 0, 2), "░░");
    }
}
