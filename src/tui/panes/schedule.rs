//! The schedule preview under the editors (the Plan pane): the attempts and waits each hop
//! plans when every attempt fails (jitter as ranges) and the worst case, or the scenario's
//! error when it does not parse. Redrawn on each re-parse. Nothing is cut: a long plan or
//! hint wraps (a step is never split), and the pane takes focus and scrolls.

use super::{Ctx, Pane, fit, pane_block, scroll_by};
use crate::policy::duration::format_secs;
use crate::policy::schedule::{HopPlan, Schedule, Step};
use crate::scenario::sdk::LayerPlan;
use crate::tui::keymap::Action;
use crate::tui::split::Part;
use crate::tui::theme::Meaning;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

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
        /// Per hop, the `[retry]` keys beyond Tenacity that are set (`RetryExtras::notes`).
        notes: Vec<Vec<String>>,
        /// What the SDK layer and hedging add (requests, back-off, warnings).
        layers: LayerPlan,
        /// How `[limits]` and `on_result` cut the worst case, a line each.
        limits: Vec<String>,
    },
    Error(PlacedError),
}

/// One piece of a row: text that is never split (a step, a word) and what it means.
type Unit = (String, Meaning);
/// A row of the pane, already wrapped to its width.
type Row = Vec<Unit>;

#[derive(Debug, Default)]
pub struct SchedulePane {
    pub preview: Preview,
    /// `breaker: …` / `budget: …` lines of what lasts across calls (`plan::across_calls`).
    pub across: Vec<String>,
    /// First row shown, and the rows the pane showed and had when it was drawn last.
    scroll: usize,
    shown: usize,
    total: usize,
}

impl SchedulePane {
    /// Rows it wants (borders included) at an inner width.
    pub fn wanted_height(&self, width: u16) -> u16 {
        let rows = self.rows(width as usize).len().max(1);
        (rows + 2).min(u16::MAX as usize) as u16
    }

    /// The preview, wrapped to `width` columns: nothing is cut, long plans and hints wrap.
    fn rows(&self, width: usize) -> Vec<Row> {
        let width = width.max(8);
        match &self.preview {
            Preview::Empty => vec![vec![("…".into(), Meaning::Muted)]],
            Preview::Plan {
                schedule,
                targets,
                notes,
                layers,
                limits,
            } => {
                let mut rows = plan_rows(schedule, targets, notes, layers.requests, width);
                rows.extend(layer_rows(layers, width));
                for line in &self.across {
                    let (key, rest) = line.split_once(": ").unwrap_or(("", line));
                    let mut units = vec![(format!("{key:<7} "), Meaning::Muted)];
                    units.extend(words(rest, Meaning::Text));
                    rows.extend(wrap(units, width, 8));
                }
                for note in limits {
                    rows.extend(wrap(
                        words(&format!("⊘ {note}"), Meaning::Warning),
                        width,
                        2,
                    ));
                }
                rows
            }
            Preview::Error(e) => {
                let mut rows = wrap(
                    words(&format!("✗ {}", e.headline()), Meaning::Error),
                    width,
                    2,
                );
                if !e.hint.is_empty() {
                    let hint = words(&format!("  hint: {}", e.hint), Meaning::Warning);
                    rows.extend(wrap(hint, width, 8));
                }
                rows
            }
        }
    }

    fn max_scroll(&self) -> usize {
        self.total.saturating_sub(self.shown)
    }
}

impl Pane for SchedulePane {
    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let theme = ctx.theme;
        let inner = pane_block("", false, theme).inner(area);
        let rows = self.rows(inner.width as usize);
        self.total = rows.len();
        self.shown = inner.height as usize;
        self.scroll = self.scroll.min(self.max_scroll());
        let mut title = match &self.preview {
            Preview::Error(_) => vec![
                Span::raw(" Plan "),
                Span::styled("✗ scenario error ", theme.style(Meaning::Error)),
            ],
            _ => vec![
                Span::raw(" Plan "),
                Span::styled("if every attempt fails ", theme.style(Meaning::Muted)),
            ],
        };
        if self.total > self.shown {
            let last = (self.scroll + self.shown).min(self.total);
            title.push(Span::styled(
                format!("{}-{last} of {} ", self.scroll + 1, self.total),
                theme.style(Meaning::Muted),
            ));
        }
        let block = pane_block(Line::from(title), ctx.focused, theme);
        frame.render_widget(block, area);
        let lines: Vec<Line> = rows
            .into_iter()
            .skip(self.scroll)
            .take(self.shown)
            .map(|row| {
                Line::from(
                    row.into_iter()
                        .map(|(t, m)| Span::styled(t, theme.style(m)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), inner);
    }

    fn on_action(&mut self, action: Action, _ctx: &Ctx) -> bool {
        let page = self.shown.saturating_sub(1).max(1) as i32;
        let delta = match action {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::Top => i32::MIN / 2,
            Action::Bottom => i32::MAX / 2,
            _ => return false,
        };
        self.scroll = scroll_by(self.scroll, delta, self.max_scroll());
        true
    }

    fn on_scroll(&mut self, rows: i32, _ctx: &Ctx) {
        self.scroll = scroll_by(self.scroll, rows, self.max_scroll());
    }

    fn hints(&self) -> &'static [Action] {
        &[Action::Down, Action::PageDown]
    }
}

/// A text as word units (each with its trailing space), for wrapping.
fn words(text: &str, m: Meaning) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c != ' ' && cur.ends_with(' ') && !cur.trim().is_empty() {
            out.push((std::mem::take(&mut cur), m));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push((cur, m));
    }
    out
}

/// Lays units out in rows of `width` columns; a row after the first starts with `indent`
/// spaces. A unit wider than a row is cut (with an ellipsis), the only cut there is.
fn wrap(units: Vec<Unit>, width: usize, indent: usize) -> Vec<Row> {
    let indent = if indent * 2 > width { 0 } else { indent };
    let mut rows: Vec<Row> = Vec::new();
    let mut row: Row = Vec::new();
    let mut used = 0;
    for (text, m) in units {
        let w = text.width();
        if used + w > width && used > indent {
            rows.push(std::mem::take(&mut row));
            row.push((" ".repeat(indent), Meaning::Text));
            used = indent;
        }
        let text = if used == indent && !rows.is_empty() {
            text.trim_start().to_string()
        } else {
            text
        };
        let text = if used + text.width() > width {
            fit(&text, width - used)
        } else {
            text
        };
        used += text.width();
        row.push((text, m));
    }
    rows.push(row);
    rows
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

fn hop_units(h: &HopPlan) -> Vec<Unit> {
    let mut units: Vec<Unit> = h
        .steps
        .iter()
        .map(|step| match step {
            Step::Attempt(n) => (format!("#{n}"), Meaning::Attempt),
            Step::Wait { secs, lo, hi, .. } => {
                (format!(" ─{}→ ", wait_text(*secs, *lo, *hi)), Meaning::Wait)
            }
        })
        .collect();
    if h.unbounded {
        units.extend(words(" ⚠ no stop: retries forever", Meaning::Warning));
    } else if h.steps.len() > 1 || h.ends_with == crate::error::ErrorKind::RetryError {
        units.push((format!(" ✗ {}", h.ends_with), Meaning::Error));
    } else {
        units.push((" (no retry)".into(), Meaning::Muted));
    }
    units
}

/// The SDK layer's and hedging's lines under the hops: requests at worst (when they differ
/// from the attempts), each note, each warning.
fn layer_rows(layers: &LayerPlan, width: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    if layers.notes.is_empty() && layers.warnings.is_empty() {
        return rows;
    }
    let mut head = vec![("requests ".to_string(), Meaning::Muted)];
    let mut text = format!("{} at worst", layers.requests);
    if layers.sdk_wait > 0.0 {
        text.push_str(&format!(" · + {} SDK back-off", secs(layers.sdk_wait)));
    }
    head.extend(words(&text, Meaning::Title));
    rows.extend(wrap(head, width, 9));
    for note in &layers.notes {
        rows.extend(wrap(words(&format!("  {note}"), Meaning::Muted), width, 2));
    }
    for warning in &layers.warnings {
        rows.extend(wrap(
            words(&format!("⚠ {warning}"), Meaning::Warning),
            width,
            2,
        ));
    }
    rows
}

/// `requests`: HTTP requests at worst (the SDK layer and hedging make more than one an
/// attempt).
fn plan_rows(
    s: &Schedule,
    targets: &[String],
    notes: &[Vec<String>],
    requests: u64,
    width: usize,
) -> Vec<Row> {
    let attempts = s.worst_attempts();
    let plural = if attempts == 1 { "" } else { "s" };
    let req_plural = if requests == 1 { "" } else { "s" };
    let wait = secs(s.worst_total_wait());
    // A narrow pane says requests only.
    let (label, text) = if width >= 50 {
        (
            "worst case ",
            format!("{attempts} attempt{plural} · {requests} request{req_plural} · {wait} waiting"),
        )
    } else if width >= 36 {
        (
            "worst case ",
            format!("{requests} request{req_plural} · {wait} waiting"),
        )
    } else {
        ("worst ", format!("{requests} req · {wait} wait"))
    };
    let mut worst = vec![(label.to_string(), Meaning::Muted)];
    worst.extend(words(&text, Meaning::Title));
    if s.unbounded() {
        worst.extend(words(" (at least: a hop has no stop)", Meaning::Warning));
    }
    // The summary first: on a short pane it is what must stay visible.
    let mut rows = wrap(worst, width, label.len());
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
        let mut units = vec![(format!("{label:<7} "), Meaning::Muted)];
        if width >= 50 {
            units.push((format!("{provider:<9} "), Meaning::Text));
        }
        // Azure's api-version, where the row has room for it.
        if width >= 90
            && let Some((_, v)) = targets.get(i).and_then(|t| t.split_once(" (api-version "))
        {
            units.push((format!("{} ", v.trim_end_matches(')')), Meaning::Muted));
        }
        let indent = units.iter().map(|u| u.0.width()).sum();
        units.extend(hop_units(h));
        // Each note is one unit: it wraps whole, never split.
        for note in notes.get(i).into_iter().flatten() {
            units.push((format!(" · {note}"), Meaning::Muted));
        }
        rows.extend(wrap(units, width, indent));
    }
    rows
}
