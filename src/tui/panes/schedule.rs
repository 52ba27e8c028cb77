//! The schedule preview under the editors: the attempts and waits each hop plans when every
//! attempt fails (jitter as ranges) and the worst case, or the scenario's error when it does
//! not parse. Redrawn on each re-parse.

use super::{Ctx, Pane, pane_block};
use crate::policy::duration::format_secs;
use crate::policy::schedule::{HopPlan, Schedule, Step};
use crate::tui::split::Part;
use crate::tui::theme::{Meaning, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// A scenario error placed in an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedError {
    pub part: Option<Part>,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

impl PlacedError {
    /// `policy 7:3: message`.
    pub fn headline(&self) -> String {
        match self.part {
            Some(p) if self.line > 0 => format!(
                "{} {}:{}: {}",
                p.label(),
                self.line,
                self.column.max(1),
                self.message
            ),
            _ => self.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum Preview {
    #[default]
    Empty,
    Plan {
        schedule: Schedule,
        /// `provider/model` per hop.
        targets: Vec<String>,
    },
    Error(PlacedError),
}

#[derive(Debug, Default)]
pub struct SchedulePane {
    pub preview: Preview,
}

impl SchedulePane {
    /// Rows it wants (borders included).
    pub fn wanted_height(&self) -> u16 {
        match &self.preview {
            Preview::Empty => 3,
            Preview::Plan { schedule, .. } => schedule.hops.len() as u16 + 3,
            Preview::Error(_) => 5,
        }
    }
}

impl Pane for SchedulePane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let theme = ctx.theme;
        let title = match &self.preview {
            Preview::Error(_) => Line::from(vec![
                Span::raw(" Plan "),
                Span::styled("✗ scenario error ", theme.style(Meaning::Error)),
            ]),
            _ => Line::from(vec![
                Span::raw(" Plan "),
                Span::styled("if every attempt fails ", theme.style(Meaning::Muted)),
            ]),
        };
        let block = pane_block(title, false, theme);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let lines = match &self.preview {
            Preview::Empty => vec![Line::from(Span::styled("…", theme.style(Meaning::Muted)))],
            Preview::Plan { schedule, targets } => {
                plan_lines(schedule, targets, theme, inner.width as usize)
            }
            Preview::Error(e) => {
                let mut v = vec![Line::from(Span::styled(
                    format!("✗ {}", e.headline()),
                    theme.style(Meaning::Error),
                ))];
                if !e.hint.is_empty() {
                    v.push(Line::from(Span::styled(
                        format!("  hint: {}", e.hint),
                        theme.style(Meaning::Warning),
                    )));
                }
                v
            }
        };
        let p = Paragraph::new(lines);
        let p = if matches!(self.preview, Preview::Error(_)) {
            p.wrap(Wrap { trim: false })
        } else {
            p
        };
        frame.render_widget(p, inner);
    }
}

fn secs(s: f64) -> String {
    format_secs(s)
}

fn wait_text(secs_v: f64, lo: f64, hi: f64) -> String {
    if (hi - lo).abs() > 1e-9 {
        format!("{}–{}", trim(lo), secs(hi))
    } else {
        secs(secs_v)
    }
}

/// `1.5` without the unit, for the low end of a range.
fn trim(v: f64) -> String {
    let s = secs(v);
    s.trim_end_matches(" ms").trim_end_matches(" s").to_string()
}

fn hop_spans(h: &HopPlan, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let att = theme.style(Meaning::Attempt);
    let wait = theme.style(Meaning::Wait);
    // Long plans show the first steps, then a count.
    let shown = 7;
    for (i, step) in h.steps.iter().enumerate() {
        if i == shown && h.steps.len() > shown + 2 {
            spans.push(Span::styled(
                format!(" … {} attempts", h.attempts),
                theme.style(Meaning::Muted),
            ));
            break;
        }
        match step {
            Step::Attempt(n) => spans.push(Span::styled(format!("#{n}"), att)),
            Step::Wait { secs, lo, hi, .. } => spans.push(Span::styled(
                format!(" ─{}→ ", wait_text(*secs, *lo, *hi)),
                wait,
            )),
        }
    }
    if h.unbounded {
        spans.push(Span::styled(
            " ⚠ no stop: retries forever",
            theme.style(Meaning::Warning),
        ));
    } else if h.steps.len() > 1 || h.ends_with == crate::error::ErrorKind::RetryError {
        spans.push(Span::styled(
            format!(" ✗ {}", h.ends_with),
            theme.style(Meaning::Error),
        ));
    } else {
        spans.push(Span::styled(" (no retry)", theme.style(Meaning::Muted)));
    }
    spans
}

fn plan_lines(s: &Schedule, targets: &[String], theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, h) in s.hops.iter().enumerate() {
        let label = if i == 0 {
            "primary".to_string()
        } else {
            format!("hop {i}")
        };
        // The provider only: the model is in the Policy editor, and rows must stay short.
        let provider = targets
            .get(i)
            .and_then(|t| t.split('/').next())
            .unwrap_or_default();
        let mut spans = vec![Span::styled(
            format!("{label:<7} "),
            theme.style(Meaning::Muted),
        )];
        if width >= 50 {
            spans.push(Span::styled(
                format!("{provider:<9} "),
                theme.style(Meaning::Text),
            ));
        }
        spans.extend(hop_spans(h, theme));
        lines.push(Line::from(spans));
    }
    let attempts = s.worst_attempts();
    let plural = if attempts == 1 { "" } else { "s" };
    let wait = secs(s.worst_total_wait());
    // Each attempt is one request; a narrow pane says it once.
    let (label, text) = if width >= 50 {
        (
            "worst case ",
            format!("{attempts} attempt{plural} · {attempts} request{plural} · {wait} waiting"),
        )
    } else if width >= 36 {
        (
            "worst case ",
            format!("{attempts} request{plural} · {wait} waiting"),
        )
    } else {
        ("worst ", format!("{attempts} req · {wait} wait"))
    };
    let mut worst = vec![
        Span::styled(label, theme.style(Meaning::Muted)),
        Span::styled(text, theme.style(Meaning::Title)),
    ];
    if s.unbounded() {
        worst.push(Span::styled(
            " (at least: a hop has no stop)",
            theme.style(Meaning::Warning),
        ));
    }
    // The summary first: on a short pane it is what must stay visible.
    lines.insert(0, Line::from(worst));
    lines
}
